package bundle_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// A case leaves the evidence locker as a bundle: its custody records, its
// items and their content, and signed checkpoints. An outside examiner
// imports it into a store of their own, checking it against the ledger's
// key fingerprint, which they got from the custodian over the phone rather
// than from the bundle. A bundle altered on the way is refused.
func ExampleExport() {
	ctx := context.Background()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	if err != nil {
		log.Fatal(err)
	}
	blobs := evidence.NewMemoryBlobs()
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	if err != nil {
		log.Fatal(err)
	}

	const incident evidence.CaseID = "INC-2026-0042"
	alice := evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	carol := evidence.Party{ID: "carol", Name: "Carol Lindqvist", Organization: "Forensics Lab"}
	at := time.Date(2026, time.March, 2, 9, 15, 0, 0, time.FixedZone("CET", 60*60))
	item, err := locker.Collect(ctx, evidence.Collection{
		Case: incident, Name: "mail-gw.log", Kind: evidence.KindLog,
		Content:     strings.NewReader("2026-03-02T08:59:12Z accepted payroll.xlsm from hr-payroll@examp1e.com\n"),
		CollectedBy: alice, CollectedAt: at, Reason: "the phishing mail's delivery",
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = locker.Record(ctx, evidence.Record{Case: incident, Item: item.ID, Action: evidence.ActionTransferred,
		Actor: alice, From: alice, To: carol, At: at.Add(time.Hour), Reason: "external examination"})
	if err != nil {
		log.Fatal(err)
	}

	// Export the case with its content, signing a checkpoint of it first.
	var tarball bytes.Buffer
	err = bundle.Export(ctx, &tarball, ledger, blobs, incident, bundle.Options{IncludeBlobs: true, Checkpoint: true})
	if err != nil {
		log.Fatal(err)
	}

	// The examiner's side.
	trust := bundle.Trust{Fingerprint: evidence.KeyFingerprint(vkey)}
	report, err := bundle.Import(ctx, bytes.NewReader(tarball.Bytes()), evidence.NewMemoryLedgerStore(),
		evidence.NewMemoryBlobs(), trust, bundle.Limits{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.Verdict())

	// The same bundle with one byte of the log file changed.
	altered := bytes.Replace(tarball.Bytes(), []byte("examp1e.com"), []byte("example.com"), 1)
	report, err = bundle.Import(ctx, bytes.NewReader(altered), evidence.NewMemoryLedgerStore(),
		evidence.NewMemoryBlobs(), trust, bundle.Limits{})
	fmt.Println(report.Verdict())
	fmt.Println("refused as tampering:", errors.Is(err, evidence.ErrTampered))
	// Output:
	// VERIFIED: case INC-2026-0042, 2 records, 1 item, 1 checkpoint, content of 1 item checked, key given by the caller
	// FAILED: 1 problem
	// refused as tampering: true
}

// An examiner who needs only the verdict verifies a bundle as it reads
// it, holding no more than one record at a time: the report is the one
// Read and Verify make.
func ExampleVerifyStream() {
	ctx := context.Background()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	if err != nil {
		log.Fatal(err)
	}
	blobs := evidence.NewMemoryBlobs()
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	if err != nil {
		log.Fatal(err)
	}
	const incident evidence.CaseID = "INC-2026-0042"
	_, err = locker.Collect(ctx, evidence.Collection{Case: incident, Name: "mail-gw.log", Kind: evidence.KindLog,
		Content:     strings.NewReader("2026-03-02T08:59:12Z accepted payroll.xlsm from hr-payroll@examp1e.com\n"),
		CollectedBy: evidence.Party{ID: "alice", Name: "Alice Moreau"}})
	if err != nil {
		log.Fatal(err)
	}
	var tarball bytes.Buffer
	err = bundle.Export(ctx, &tarball, ledger, blobs, incident, bundle.Options{IncludeBlobs: true, Checkpoint: true})
	if err != nil {
		log.Fatal(err)
	}

	trust := bundle.Trust{Fingerprint: evidence.KeyFingerprint(vkey)}
	b, report, err := bundle.VerifyStream(ctx, bytes.NewReader(tarball.Bytes()), nil, trust, bundle.Limits{})
	if err != nil {
		log.Fatal(err) // not a bundle, or beyond a limit
	}
	fmt.Println(report.Verdict())
	fmt.Println("items:", len(b.Manifest.Items), "records kept:", len(b.Records))
	// Output:
	// VERIFIED: case INC-2026-0042, 1 record, 1 item, 1 checkpoint, content of 1 item checked, key given by the caller
	// items: 1 records kept: 0
}

package evidence_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
)

// A log read from a stream, one record a line, is checked as it is read,
// without holding its records: the report is the one VerifyLog makes.
func ExampleNewLogVerifier() {
	ctx := context.Background()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	if err != nil {
		log.Fatal(err)
	}
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs()})
	if err != nil {
		log.Fatal(err)
	}
	const incident evidence.CaseID = "INC-2026-0042"
	alice := evidence.Party{ID: "alice", Name: "Alice Moreau"}
	at := time.Date(2026, time.March, 2, 9, 15, 0, 0, time.UTC)
	item, err := locker.Collect(ctx, evidence.Collection{Case: incident, Name: "mail-gw.log", Kind: evidence.KindLog,
		Content: strings.NewReader("accepted payroll.xlsm\n"), CollectedBy: alice, CollectedAt: at})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := locker.Record(ctx, evidence.Record{Case: incident, Item: item.ID, Action: evidence.ActionSealed,
		Actor: alice, At: at.Add(time.Hour)}); err != nil {
		log.Fatal(err)
	}
	if _, err := ledger.Checkpoint(ctx, incident); err != nil {
		log.Fatal(err)
	}
	exported, err := ledger.Export(ctx, incident)
	if err != nil {
		log.Fatal(err)
	}
	var stream strings.Builder
	for _, r := range exported.Records {
		stream.Write(r)
		stream.WriteByte('\n')
	}

	// The checker's side: the items and checkpoints first, then each
	// record as it is read.
	v := evidence.NewLogVerifier(exported.Case, exported.Origin, vkey, exported.Items, exported.Checkpoints, evidence.VerifyOptions{})
	lines := bufio.NewScanner(strings.NewReader(stream.String()))
	lines.Buffer(nil, evidence.MaxRecordSize+1) // a record and its newline
	for lines.Scan() {
		v.Add(lines.Bytes())
	}
	if err := lines.Err(); err != nil {
		log.Fatal(err)
	}
	rep := v.Finish()
	fmt.Println("records:", rep.Size, "problems:", rep.ProblemCount())
	fmt.Println("same root as VerifyLog:", rep.Root == evidence.VerifyLog(exported, vkey).Root)
	// Output:
	// records: 2 problems: 0
	// same root as VerifyLog: true
}

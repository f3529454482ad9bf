package caseuco_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
)

// The fixture is the case of package custodyreport's tests, so that the
// export and the report describe the same case.

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// custodyGolden compares got with the golden file at path, or rewrites the
// file when the tests run with -update.
func custodyGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./evidence/caseuco -run %s -update to write it", t.Name())
	assert.Equal(t, string(want), string(got), "%s differs; run with -update if the change is intended", path)
}

// The parties and zones of the fixture: each party acts in their
// own time zone, which the report must keep.
var (
	reportZoneLyon   = time.FixedZone("CET", 60*60)
	reportZoneBoston = time.FixedZone("EST", -5*60*60)
	reportZoneLondon = time.FixedZone("GMT", 0)
	reportT0         = time.Date(2026, time.March, 2, 9, 15, 30, 0, reportZoneLyon)

	reportAlice   = evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	reportBob     = evidence.Party{ID: "bob", Name: "Bob Ndiaye", Organization: "Forensics Lab"}
	reportCarol   = evidence.Party{ID: "carol", Name: "Carol Lindqvist", Organization: "Secure Transport Ltd"}
	reportMallory = evidence.Party{ID: "mallory", Name: "Mallory Quinn", Organization: "Finance"}
)

const reportCaseID evidence.CaseID = "INC-2026-0042"

// reportCase is a small case: two exhibits, a transfer, a check-out, an
// access denied, a verification and a signed checkpoint.
type reportCase struct {
	locker *evidence.Locker
	ledger *evidence.Ledger
	vkey   string
	items  []evidence.Item
	// clock is what the locker's Now returns.
	clock time.Time
}

// reportSigningKey returns a signing key made from a fixed seed, so that
// checkpoints are the same on every run, and its verifier key.
func reportSigningKey(t testing.TB) (evidence.SigningKey, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{0x42}, 64)), "custody.example.org")
	require.NoError(t, err)
	return evidence.SigningKey(skey), vkey
}

// newReportCase builds the case in a locker with memory stores, a fixed
// key, fixed times and fixed item IDs.
func newReportCase(t testing.TB, blobs evidence.BlobStore) *reportCase {
	t.Helper()
	ctx := context.Background()
	key, vkey := reportSigningKey(t)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	rc := &reportCase{ledger: ledger, vkey: vkey, clock: reportT0}
	ids := 0
	rc.locker, err = evidence.NewLocker(evidence.LockerConfig{
		Ledger: ledger,
		Blobs:  blobs,
		Policy: evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
			if req.Actor.ID == reportMallory.ID {
				return errors.New("not on the case's access list")
			}
			return nil
		}),
		Now:   func() time.Time { return rc.clock },
		NewID: func() evidence.ItemID { ids++; return evidence.ItemID(fmt.Sprintf("ITEM-%d", ids)) },
	})
	require.NoError(t, err)

	image, err := rc.locker.Collect(ctx, evidence.Collection{
		Case: reportCaseID, Name: "fin-laptop-07.E01", Kind: evidence.KindDiskImage, MediaType: "application/x-ewf",
		Content: bytes.NewReader(bytes.Repeat([]byte("sector "), 1000)),
		Source: evidence.Source{Host: "fin-laptop-07", Path: "/dev/nvme0n1", SerialNumber: "S4EWNX0R812345",
			Network: []string{"10.20.4.17"}},
		CollectedBy: reportAlice, CollectedAt: reportT0, Location: "Evidence locker 3, shelf B",
		Labels:    []string{"phishing"},
		Authority: "Warrant W-2026-113", Reason: "laptop that opened the phishing mail",
		Tool: "FTK Imager 4.7.1", Notes: "write blocker Tableau T35u", SHA1: true, MD5: true,
	})
	require.NoError(t, err)
	mail, err := rc.locker.Collect(ctx, evidence.Collection{
		Case: reportCaseID, Name: "mail-gw.log", Kind: evidence.KindLog, MediaType: "text/plain",
		Content:     strings.NewReader("Mar  2 08:58:01 mail-gw postfix/smtpd: connect from unknown\n"),
		Source:      evidence.Source{Host: "mail-gw", Path: "/var/log/mail.log"},
		CollectedBy: reportBob, CollectedAt: time.Date(2026, time.March, 2, 4, 40, 0, 0, reportZoneBoston),
		Location: "Evidence server, /cases/INC-2026-0042", Authority: "CISO approval", Reason: "delivery of the phishing mail",
		Tool: "rsync 3.2.7",
	})
	require.NoError(t, err)
	rc.items = []evidence.Item{image, mail}

	rc.record(t, evidence.Record{Item: image.ID, Action: evidence.ActionTransferred, Actor: reportAlice,
		From: reportAlice, To: reportCarol, At: reportT0.Add(2 * time.Hour), Location: "CSIRT office, Lyon",
		Reason: "to the forensics lab", Notes: "seal 000412 intact"})
	rc.record(t, evidence.Record{Item: mail.ID, Action: evidence.ActionCheckedOut, Actor: reportBob,
		At: time.Date(2026, time.March, 2, 9, 0, 0, 0, reportZoneBoston), Location: "Forensics Lab, bench 2",
		Reason: "timeline analysis", Tool: "plaso 20240308"})

	rc.clock = time.Date(2026, time.March, 2, 16, 5, 0, 0, reportZoneLondon)
	_, err = rc.locker.Record(ctx, evidence.Record{Case: reportCaseID, Item: image.ID, Action: evidence.ActionCheckedOut,
		Actor: reportMallory, Reason: "quarterly review"})
	require.ErrorIs(t, err, evidence.ErrDenied)

	rc.record(t, evidence.Record{Item: image.ID, Action: evidence.ActionVerified, Actor: reportBob,
		At: time.Date(2026, time.March, 3, 8, 30, 0, 0, reportZoneBoston), Location: "Forensics Lab, bench 2",
		Reason: "on receipt at the lab", Tool: "sha256sum (GNU coreutils) 9.4", Digest: image.Digests.SHA256})
	_, err = ledger.Checkpoint(ctx, reportCaseID)
	require.NoError(t, err)
	return rc
}

// record takes a custody action in the case.
func (rc *reportCase) record(t testing.TB, r evidence.Record) evidence.Record {
	t.Helper()
	r.Case = reportCaseID
	stored, err := rc.locker.Record(context.Background(), r)
	require.NoError(t, err)
	return stored
}

type reportFailingWriter struct{ err error }

func (f reportFailingWriter) Write([]byte) (int, error) { return 0, f.err }

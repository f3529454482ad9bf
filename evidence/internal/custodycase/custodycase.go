// Package custodycase builds the small custody case that the tests of
// evidence's sub-packages share, so that the custody report and the CASE
// export describe the same case, and checks output against golden files.
package custodycase

import (
	"bytes"
	"context"
	"errors"
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

// Golden compares got with the golden file at path, or first rewrites the
// file when update is set (the tests' -update flag).
func Golden(t *testing.T, path string, got []byte, update bool) {
	t.Helper()
	if update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run the test %s with -update to write it", t.Name())
	assert.Equal(t, string(want), string(got), "%s differs; run with -update if the change is intended", path)
}

// The parties and zones of the case: each party acts in their
// own time zone, which the report must keep.
var (
	ZoneLyon   = time.FixedZone("CET", 60*60)
	ZoneBoston = time.FixedZone("EST", -5*60*60)
	ZoneLondon = time.FixedZone("GMT", 0)
	T0         = time.Date(2026, time.March, 2, 9, 15, 30, 0, ZoneLyon)

	Alice   = evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	Bob     = evidence.Party{ID: "bob", Name: "Bob Ndiaye", Organization: "Forensics Lab"}
	Carol   = evidence.Party{ID: "carol", Name: "Carol Lindqvist", Organization: "Secure Transport Ltd"}
	Mallory = evidence.Party{ID: "mallory", Name: "Mallory Quinn", Organization: "Finance"}
)

// ID is the case's ID.
const ID evidence.CaseID = "INC-2026-0042"

// Case is a small case: two exhibits, a transfer, a check-out, an
// access denied, a verification and a signed checkpoint.
type Case struct {
	Locker *evidence.Locker
	Ledger *evidence.Ledger
	// VKey is the verifier key of the ledger's signing key.
	VKey  string
	Items []evidence.Item
	// Clock is what the locker's Now returns.
	Clock time.Time
}

// SigningKey returns a signing key made from a fixed seed, so that
// checkpoints are the same on every run, and its verifier key.
func SigningKey(t testing.TB) (evidence.SigningKey, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{0x42}, 64)), "custody.example.org")
	require.NoError(t, err)
	key, err := evidence.ParseSigningKey(skey)
	require.NoError(t, err)
	return key, vkey
}

// New builds the case in a locker with memory stores, a fixed
// key, fixed times and fixed item IDs.
func New(t testing.TB, blobs evidence.BlobStore) *Case {
	t.Helper()
	ctx := context.Background()
	key, vkey := SigningKey(t)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	rc := &Case{Ledger: ledger, VKey: vkey, Clock: T0}
	ids := 0
	rc.Locker, err = evidence.NewLocker(evidence.LockerConfig{
		Ledger: ledger,
		Blobs:  blobs,
		Policy: evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
			if req.Actor.ID == Mallory.ID {
				return errors.New("not on the case's access list")
			}
			return nil
		}),
		Now:   func() time.Time { return rc.Clock },
		NewID: func() evidence.ItemID { ids++; return evidence.ItemID(fmt.Sprintf("ITEM-%d", ids)) },
	})
	require.NoError(t, err)

	image, err := rc.Locker.Collect(ctx, evidence.Collection{
		Case: ID, Name: "fin-laptop-07.E01", Kind: evidence.KindDiskImage, MediaType: "application/x-ewf",
		Content: bytes.NewReader(bytes.Repeat([]byte("sector "), 1000)),
		Source: evidence.Source{Host: "fin-laptop-07", Path: "/dev/nvme0n1", SerialNumber: "S4EWNX0R812345",
			Network: []string{"10.20.4.17"}},
		CollectedBy: Alice, CollectedAt: T0, Location: "Evidence locker 3, shelf B",
		Labels:    []string{"phishing"},
		Authority: "Warrant W-2026-113", Reason: "laptop that opened the phishing mail",
		Tool: "FTK Imager 4.7.1", Notes: "write blocker Tableau T35u", SHA1: true, MD5: true,
	})
	require.NoError(t, err)
	mail, err := rc.Locker.Collect(ctx, evidence.Collection{
		Case: ID, Name: "mail-gw.log", Kind: evidence.KindLog, MediaType: "text/plain",
		Content:     strings.NewReader("Mar  2 08:58:01 mail-gw postfix/smtpd: connect from unknown\n"),
		Source:      evidence.Source{Host: "mail-gw", Path: "/var/log/mail.log"},
		CollectedBy: Bob, CollectedAt: time.Date(2026, time.March, 2, 4, 40, 0, 0, ZoneBoston),
		Location: "Evidence server, /cases/INC-2026-0042", Authority: "CISO approval", Reason: "delivery of the phishing mail",
		Tool: "rsync 3.2.7",
	})
	require.NoError(t, err)
	rc.Items = []evidence.Item{image, mail}

	rc.Record(t, evidence.Record{Item: image.ID, Action: evidence.ActionTransferred, Actor: Alice,
		From: Alice, To: Carol, At: T0.Add(2 * time.Hour), Location: "CSIRT office, Lyon",
		Reason: "to the forensics lab", Notes: "seal 000412 intact"})
	rc.Record(t, evidence.Record{Item: mail.ID, Action: evidence.ActionCheckedOut, Actor: Bob,
		At: time.Date(2026, time.March, 2, 9, 0, 0, 0, ZoneBoston), Location: "Forensics Lab, bench 2",
		Reason: "timeline analysis", Tool: "plaso 20240308"})

	rc.Clock = time.Date(2026, time.March, 2, 16, 5, 0, 0, ZoneLondon)
	_, err = rc.Locker.Record(ctx, evidence.Record{Case: ID, Item: image.ID, Action: evidence.ActionCheckedOut,
		Actor: Mallory, Reason: "quarterly review"})
	require.ErrorIs(t, err, evidence.ErrDenied)

	rc.Record(t, evidence.Record{Item: image.ID, Action: evidence.ActionVerified, Actor: Bob,
		At: time.Date(2026, time.March, 3, 8, 30, 0, 0, ZoneBoston), Location: "Forensics Lab, bench 2",
		Reason: "on receipt at the lab", Tool: "sha256sum (GNU coreutils) 9.4", Digest: image.Digests.SHA256})
	_, err = ledger.Checkpoint(ctx, ID)
	require.NoError(t, err)
	return rc
}

// Record takes a custody action in the case.
func (rc *Case) Record(t testing.TB, r evidence.Record) evidence.Record {
	t.Helper()
	r.Case = ID
	stored, err := rc.Locker.Record(context.Background(), r)
	require.NoError(t, err)
	return stored
}

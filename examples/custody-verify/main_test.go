package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

const testCase evidence.CaseID = "INC-2026-0042"

// testBundle is a bundle of a case of two items, exported with their
// content, and what a verifier needs to check it.
type testBundle struct {
	data       []byte
	vkey       string
	checkpoint []byte // a checkpoint kept from before the last records
}

func newTestBundle(t *testing.T) testBundle {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 32)), "custody.example.org")
	require.NoError(t, err)
	key, err := evidence.ParseSigningKey(skey)
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	blobs := evidence.NewMemoryBlobs()
	ids := 0
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs,
		NewID: func() evidence.ItemID { ids++; return evidence.ItemID("ITEM-" + strings.Repeat("I", ids)) }})
	require.NoError(t, err)

	cet := time.FixedZone("CET", 60*60)
	at := time.Date(2026, time.March, 2, 9, 15, 0, 0, cet)
	alice := evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	carol := evidence.Party{ID: "carol", Name: "Carol Lindqvist", Organization: "Secure Transport Ltd"}
	bob := evidence.Party{ID: "bob", Name: "Bob Ndiaye", Organization: "Forensics Lab"}
	image, err := locker.Collect(ctx, evidence.Collection{
		Case: testCase, Name: "fin-laptop-07.E01", Kind: evidence.KindDiskImage,
		Content: bytes.NewReader(bytes.Repeat([]byte("NTFS-IMAGE-BYTES "), 512)), SHA1: true, MD5: true,
		Source:      evidence.Source{Host: "fin-laptop-07", Path: "/dev/nvme0n1", SerialNumber: "S4EWNX0R812345"},
		CollectedBy: alice, CollectedAt: at, Location: "evidence locker 3",
		Authority: "search warrant 2026-117", Reason: "laptop that opened the phishing mail", Tool: "ewfacquire 20231119",
	})
	require.NoError(t, err)
	mail, err := locker.Collect(ctx, evidence.Collection{
		Case: testCase, Name: "mail-gw.log\nVERIFIED: forged line", Kind: evidence.KindLog,
		Content:     strings.NewReader("2026-03-02T08:59:12Z accepted payroll.xlsm from hr-payroll@examp1e.com\n"),
		CollectedBy: alice, CollectedAt: at.Add(5 * time.Minute),
	})
	require.NoError(t, err)
	_, err = locker.Record(ctx, evidence.Record{Case: testCase, Item: image.ID, Action: evidence.ActionTransferred,
		Actor: alice, From: alice, To: carol, At: at.Add(time.Hour), Reason: "to the forensics lab", Tool: "tamper-evident bag 0042"})
	require.NoError(t, err)
	kept, err := ledger.Checkpoint(ctx, testCase)
	require.NoError(t, err)
	_, err = locker.Record(ctx, evidence.Record{Case: testCase, Item: image.ID, Action: evidence.ActionAnalyzed,
		Actor: bob, Authority: "lab procedure 7", At: at.Add(3 * time.Hour).In(time.UTC), Tool: "Autopsy 4.21"})
	require.NoError(t, err)
	_, err = locker.Record(ctx, evidence.Record{Case: testCase, Item: mail.ID, Action: evidence.ActionSealed,
		Actor: alice, At: at.Add(4 * time.Hour), Reason: "end of analysis"})
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &buf, ledger, blobs, testCase, bundle.Options{IncludeBlobs: true, Checkpoint: true}))
	return testBundle{data: buf.Bytes(), vkey: vkey, checkpoint: kept.Note}
}

// write writes data to a file in a new temporary directory and returns
// its path.
func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// runArgs runs the program and returns its exit status and output.
func runArgs(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// squeeze returns s with each run of spaces made one, so that checks do
// not depend on how the output is aligned.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// verdictLines returns the lines of out from the verdict on.
func verdictLines(out string) []string {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "VERIFIED: ") || strings.HasPrefix(l, "FAILED: ") {
			return lines[i:]
		}
	}
	return nil
}

func TestRun(t *testing.T) {
	t.Parallel()
	tb := newTestBundle(t)
	bundle := write(t, "bundle.tar", tb.data)
	fingerprint := evidence.KeyFingerprint(tb.vkey)

	code, out, errOut := runArgs("-fingerprint", fingerprint, bundle)
	t.Log("\n" + out)
	require.Equal(t, 0, code, out+errOut)
	assert.Empty(t, errOut)
	for _, want := range []string{
		"  case:           INC-2026-0042\n",
		"  key fingerprint: " + fingerprint + "\n",
		"  key trusted:    yes, it is the one given\n",
		"EX-001  fin-laptop-07.E01\n",
		"  kind:          disk_image\n",
		"  size:          8704 bytes\n",
		"  SHA-1:         ",
		"  MD5:           ",
		"  source:        fin-laptop-07:/dev/nvme0n1, serial S4EWNX0R812345\n",
		"  collected by:  Alice Moreau (alice, CSIRT)\n",
		"  collected at:  2026-03-02 09:15:00 +01:00\n",
		"  content:       included, matches its size and digests\n",
		"    #0  2026-03-02 09:15:00 +01:00  collected\n",
		"        authority: search warrant 2026-117\n",
		"    #2  2026-03-02 10:15:00 +01:00  transferred\n",
		"        from -> to:   Alice Moreau (alice, CSIRT) -> Carol Lindqvist (carol, Secure Transport Ltd)\n",
		"        tool:         tamper-evident bag 0042\n",
		"    #3  2026-03-02 11:15:00 +00:00  analyzed\n",
		`EX-002  "mail-gw.log\nVERIFIED: forged line"` + "\n",
		"Checkpoints (2)\n  size 3, root ",
	} {
		assert.Contains(t, squeeze(out), squeeze(want))
	}
	assert.Equal(t, []string{"VERIFIED: case INC-2026-0042, 5 records, 2 items, 2 checkpoints, content of 2 items checked, key given by the caller"}, verdictLines(out))

	code, out, _ = runArgs("-key", tb.vkey, "-checkpoint", write(t, "kept.note", tb.checkpoint), bundle)
	assert.Equal(t, 0, code, out)
}

func TestRunWithoutKey(t *testing.T) {
	t.Parallel()
	tb := newTestBundle(t)
	code, out, _ := runArgs(write(t, "bundle.tar", tb.data))
	assert.Equal(t, 0, code, out)
	assert.Contains(t, squeeze(out), "key trusted: NO: no -key or -fingerprint was given\nWARNING: the bundle's own key was trusted.")
	assert.Equal(t, []string{
		"VERIFIED: case INC-2026-0042, 5 records, 2 items, 2 checkpoints, content of 2 items checked, the bundle's own key trusted",
		"WARNING: the bundle's own key was trusted; compare its fingerprint with the custodian's.",
	}, verdictLines(out))
}

func TestRunTampered(t *testing.T) {
	t.Parallel()
	tb := newTestBundle(t)
	_, otherKey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{8}, 32)), "custody.example.org")
	require.NoError(t, err)

	for _, tc := range []struct {
		name     string
		data     []byte
		args     []string
		problems []string
	}{
		{
			name: "record byte",
			data: bytes.Replace(tb.data, []byte(`"to the forensics lab"`), []byte(`"to the forensics lad"`), 1),
			problems: []string{
				"  - evidence: tampered item link in case INC-2026-0042, item ITEM-I, record 3: expected previous record hash ",
				"  - evidence: tampered checkpoint in case INC-2026-0042: expected root ",
			},
		},
		{
			name:     "blob byte",
			data:     bytes.Replace(tb.data, []byte("examp1e.com"), []byte("example.com"), 1),
			problems: []string{"  - evidence: tampered blob in case INC-2026-0042, item ITEM-II: expected content "},
		},
		{
			name:     "another key",
			data:     tb.data,
			args:     []string{"-key", otherKey},
			problems: []string{"  - evidence: tampered verifier key in case INC-2026-0042: expected the trusted key " + otherKey},
		},
		{
			name:     "another fingerprint",
			data:     tb.data,
			args:     []string{"-fingerprint", evidence.KeyFingerprint(otherKey)},
			problems: []string{"  - evidence: tampered verifier key in case INC-2026-0042: expected a key of fingerprint "},
		},
		{
			name:     "not a bundle",
			data:     []byte("PK\x03\x04 this is a zip file"),
			problems: []string{"  - evidence: invalid bundle"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if args == nil {
				require.NotEqual(t, tb.data, tc.data, "tampered")
				args = []string{"-key", tb.vkey}
			}
			code, out, _ := runArgs(append(args, write(t, "bundle.tar", tc.data))...)
			t.Log("\n" + out)
			assert.Equal(t, 1, code)
			verdict := verdictLines(out)
			require.NotEmpty(t, verdict)
			assert.Regexp(t, `^FAILED: \d+ problems?$`, verdict[0])
			for _, want := range tc.problems {
				assert.Contains(t, out, want)
			}
			assert.NotContains(t, out, "\nVERIFIED")
		})
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tb := newTestBundle(t)
	bundle := write(t, "bundle.tar", tb.data)
	for name, args := range map[string][]string{
		"no bundle":           {},
		"two bundles":         {bundle, bundle},
		"key and fingerprint": {"-key", tb.vkey, "-fingerprint", evidence.KeyFingerprint(tb.vkey), bundle},
		"bad key":             {"-key", "custody.example.org+00000000+AAAA", bundle},
		"bad fingerprint":     {"-fingerprint", "abc", bundle},
		"unknown flag":        {"-keep", bundle},
		"help":                {"-h"},
		"no such bundle":      {filepath.Join(t.TempDir(), "missing.tar")},
		"no such checkpoint":  {"-checkpoint", filepath.Join(t.TempDir(), "missing.note"), bundle},
	} {
		code, out, errOut := runArgs(args...)
		assert.Equal(t, 2, code, name)
		assert.Empty(t, out, name)
		assert.NotEmpty(t, errOut, name)
	}
}

package bundle_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

const bundleCase evidence.CaseID = "INC-2026-0042"

var (
	bundleZone = time.FixedZone("UTC+01:00", 60*60)
	bundleT0   = time.Date(2026, time.March, 2, 9, 15, 30, 0, bundleZone)

	bundleAlice = evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	bundleBob   = evidence.Party{ID: "bob", Name: "Bob Ndiaye", Organization: "Forensics Lab"}
	bundleCarol = evidence.Party{ID: "carol", Name: "Carol Lindqvist", Organization: "Secure Transport Ltd"}
)

// bundleKey returns a signing key made from a fixed seed, and its verifier
// key, so that checkpoints and bundles are the same on every run.
func bundleKey(t testing.TB, name string, seed byte) (evidence.SigningKey, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)), name)
	require.NoError(t, err)
	key, err := evidence.ParseSigningKey(skey)
	require.NoError(t, err)
	return key, vkey
}

// bundleFixture is a case with three items, two of which share their
// content, and seven custody records with checkpoints at sizes 3 and 7:
//
//	0 A collected     4 B sealed
//	1 B collected     5 C collected (the content of B)
//	2 A transferred   6 A checked in
//	3 A analyzed
type bundleFixture struct {
	key    evidence.SigningKey
	vkey   string
	store  *evidence.MemoryLedgerStore
	ledger *evidence.Ledger
	blobs  *evidence.MemoryBlobs
	locker *evidence.Locker
	items  []evidence.Item
}

func newBundleFixture(t testing.TB) *bundleFixture {
	t.Helper()
	ctx := context.Background()
	fx := &bundleFixture{store: evidence.NewMemoryLedgerStore(), blobs: evidence.NewMemoryBlobs()}
	fx.key, fx.vkey = bundleKey(t, "custody.example.org", 1)
	var err error
	fx.ledger, err = evidence.NewLedger(evidence.LedgerConfig{Store: fx.store, Key: fx.key})
	require.NoError(t, err)
	ids := 0
	fx.locker, err = evidence.NewLocker(evidence.LockerConfig{
		Ledger: fx.ledger, Blobs: fx.blobs,
		Now:   func() time.Time { return bundleT0 },
		NewID: func() evidence.ItemID { ids++; return evidence.ItemID(fmt.Sprintf("ITEM-%d", ids)) },
	})
	require.NoError(t, err)

	collect := func(name string, kind evidence.Kind, content []byte, minute int, extra bool) {
		it, err := fx.locker.Collect(ctx, evidence.Collection{
			Case: bundleCase, Name: name, Kind: kind, Content: bytes.NewReader(content),
			Source:      evidence.Source{Host: "fin-laptop-07", Path: "/dev/nvme0n1"},
			CollectedBy: bundleAlice, CollectedAt: bundleT0.Add(time.Duration(minute) * time.Minute),
			Location: "evidence locker 3", Authority: "search warrant 2026-117",
			Reason: "laptop that opened the phishing mail", Tool: "ewfacquire 20231119",
			SHA1: extra, MD5: extra,
		})
		require.NoError(t, err)
		fx.items = append(fx.items, it)
	}
	act := func(item int, r evidence.Record, minute int) {
		r.Case, r.Item, r.At = bundleCase, fx.items[item].ID, bundleT0.Add(time.Duration(minute)*time.Minute)
		_, err := fx.locker.Record(ctx, r)
		require.NoError(t, err)
	}
	shared := bytes.Repeat([]byte("mail-gw 2026-03-02T08:59:12Z accepted payroll.xlsm\n"), 10)
	collect("fin-laptop-07.E01", evidence.KindDiskImage, bytes.Repeat([]byte{0xEB, 0x52, 0x90, 'N', 'T', 'F', 'S'}, 700), 0, true)
	collect("mail-gw.log", evidence.KindLog, shared, 1, false)
	act(0, evidence.Record{Action: evidence.ActionTransferred, Actor: bundleAlice, From: bundleAlice, To: bundleCarol,
		Reason: "to the forensics lab\nby courier", Tool: "tamper-evident bag 0042"}, 30)
	_, err = fx.ledger.Checkpoint(ctx, bundleCase)
	require.NoError(t, err)
	act(0, evidence.Record{Action: evidence.ActionAnalyzed, Actor: bundleBob, Tool: "Autopsy 4.21", Reason: "timeline"}, 120)
	act(1, evidence.Record{Action: evidence.ActionSealed, Actor: bundleAlice, Reason: "end of analysis"}, 130)
	collect("mail-gw copy.log", evidence.KindLog, shared, 140, true)
	act(0, evidence.Record{Action: evidence.ActionCheckedIn, Actor: bundleBob, Authority: "lab procedure 7"}, 150)
	_, err = fx.ledger.Checkpoint(ctx, bundleCase)
	require.NoError(t, err)
	return fx
}

// export returns the case's bundle.
func (fx *bundleFixture) export(t testing.TB, opts bundle.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, bundle.Export(context.Background(), &buf, fx.ledger, fx.blobs, bundleCase, opts))
	return buf.Bytes()
}

// trust returns the trust of a verifier who has the ledger's key.
func (fx *bundleFixture) trust() bundle.Trust {
	return bundle.Trust{VerifierKey: fx.vkey}
}

// caseLog returns what store holds of the case, with the origin of the
// fixture's ledger.
func bundleCaseLog(t testing.TB, store evidence.LedgerStore) evidence.CaseLog {
	t.Helper()
	ctx := context.Background()
	n, err := store.Size(ctx, bundleCase)
	require.NoError(t, err)
	log := evidence.CaseLog{Case: bundleCase, Origin: evidence.DefaultOrigin + "/" + string(bundleCase)}
	log.Records, err = store.Records(ctx, bundleCase, 0, n)
	require.NoError(t, err)
	log.Items, err = store.Items(ctx, bundleCase)
	require.NoError(t, err)
	log.Checkpoints, err = store.Checkpoints(ctx, bundleCase)
	require.NoError(t, err)
	return log
}

// bundleLogJSON returns what store holds of the case in JSON, where equal
// times in different time-zone representations are equal.
func bundleLogJSON(t testing.TB, store evidence.LedgerStore) string {
	t.Helper()
	data, err := json.Marshal(bundleCaseLog(t, store))
	require.NoError(t, err)
	return string(data)
}

// requireEmptyStore checks nothing of the case was written to store.
func requireEmptyStore(t testing.TB, store evidence.LedgerStore) {
	t.Helper()
	log := bundleCaseLog(t, store)
	assert.Empty(t, log.Records, "records written")
	assert.Empty(t, log.Items, "items written")
	assert.Empty(t, log.Checkpoints, "checkpoints written")
}

// bundleEntry is one entry of a bundle's tar stream.
type bundleEntry struct {
	hdr  tar.Header
	body []byte
}

func readBundleEntries(t testing.TB, data []byte) []bundleEntry {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var out []bundleEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		body, err := io.ReadAll(tr)
		require.NoError(t, err)
		out = append(out, bundleEntry{hdr: *hdr, body: body})
	}
}

func writeBundleEntries(t testing.TB, entries []bundleEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		require.NoError(t, tw.WriteHeader(&hdr))
		if hdr.Typeflag == tar.TypeReg {
			_, err := tw.Write(e.body)
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func bundleManifestOf(t testing.TB, entries []bundleEntry) bundle.Manifest {
	t.Helper()
	require.Equal(t, "manifest.json", entries[0].hdr.Name)
	var m bundle.Manifest
	require.NoError(t, json.Unmarshal(entries[0].body, &m))
	return m
}

// editManifest changes the manifest of a bundle.
func editBundleManifest(t testing.TB, entries []bundleEntry, edit func(m *bundle.Manifest)) {
	t.Helper()
	m := bundleManifestOf(t, entries)
	edit(&m)
	body, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	entries[0].body = append(body, '\n')
}

// editRecords changes the lines of records.jsonl and, if count, the
// number of records the manifest declares to match.
func editBundleRecords(t testing.TB, entries []bundleEntry, count bool, edit func(lines [][]byte) [][]byte) {
	t.Helper()
	require.Equal(t, "records.jsonl", entries[1].hdr.Name)
	lines := bytes.SplitAfter(entries[1].body, []byte("\n"))
	lines = lines[:len(lines)-1] // after the last newline
	for i := range lines {
		lines[i] = bytes.TrimSuffix(lines[i], []byte("\n"))
	}
	lines = edit(lines)
	var body []byte
	for _, l := range lines {
		body = append(append(body, l...), '\n')
	}
	entries[1].body = body
	if count {
		editBundleManifest(t, entries, func(m *bundle.Manifest) { m.Records = int64(len(lines)) })
	}
}

// editRecord changes record i, keeping it canonical.
func editBundleRecord(t testing.TB, entries []bundleEntry, i int, edit func(r *evidence.Record)) {
	t.Helper()
	editBundleRecords(t, entries, false, func(lines [][]byte) [][]byte {
		r, err := evidence.DecodeRecord(lines[i])
		require.NoError(t, err)
		edit(&r)
		lines[i], err = r.Encode()
		require.NoError(t, err)
		return lines
	})
}

func TestExportDeterministic(t *testing.T) {
	t.Parallel()
	for _, opts := range []bundle.Options{{}, {IncludeBlobs: true}, {IncludeBlobs: true, Checkpoint: true}} {
		t.Run(fmt.Sprintf("blobs=%v,checkpoint=%v", opts.IncludeBlobs, opts.Checkpoint), func(t *testing.T) {
			t.Parallel()
			first := newBundleFixture(t).export(t, opts)
			again := newBundleFixture(t)
			assert.Equal(t, first, again.export(t, opts), "a second case built the same way")
			assert.Equal(t, first, again.export(t, opts), "a second export of the same case")
		})
	}
}

func TestExportLayout(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	entries := readBundleEntries(t, fx.export(t, bundle.Options{IncludeBlobs: true}))
	var names []string
	for _, e := range entries {
		names = append(names, e.hdr.Name)
		assert.Equal(t, byte(tar.TypeReg), e.hdr.Typeflag, e.hdr.Name)
		assert.Equal(t, int64(0o644), e.hdr.Mode, e.hdr.Name)
		assert.Zero(t, e.hdr.Uid, e.hdr.Name)
		assert.Zero(t, e.hdr.Gid, e.hdr.Name)
		assert.Empty(t, e.hdr.Uname, e.hdr.Name)
		assert.Empty(t, e.hdr.Gname, e.hdr.Name)
		assert.True(t, e.hdr.ModTime.Equal(time.Unix(0, 0)), e.hdr.Name)
		assert.Empty(t, e.hdr.PAXRecords, e.hdr.Name)
	}
	// Items 2 and 3 share their content: it is included once.
	assert.Equal(t, []string{"manifest.json", "records.jsonl",
		"blobs/" + fx.items[0].Digests.SHA256, "blobs/" + fx.items[1].Digests.SHA256}, names)

	m := bundleManifestOf(t, entries)
	assert.Equal(t, bundle.Format, m.Format)
	assert.Equal(t, bundle.Version, m.Version)
	assert.Equal(t, bundleCase, m.Case)
	assert.Equal(t, fx.ledger.Origin(bundleCase), m.Origin)
	assert.Equal(t, fx.vkey, m.VerifierKey)
	assert.Equal(t, evidence.KeyFingerprint(fx.vkey), m.KeyFingerprint)
	assert.Equal(t, int64(7), m.Records)
	assert.Len(t, m.Items, 3)
	require.Len(t, m.Checkpoints, 2)
	assert.Equal(t, []int64{3, 7}, []int64{m.Checkpoints[0].Size, m.Checkpoints[1].Size})
	require.Len(t, m.ConsistencyProofs, 2)
	assert.NotEmpty(t, m.ConsistencyProofs[0])
	assert.Empty(t, m.ConsistencyProofs[1], "the latest checkpoint needs no proof")
	assert.True(t, m.BlobsIncluded)
	assert.Equal(t, []bundle.Blob{
		{SHA256: fx.items[0].Digests.SHA256, Size: fx.items[0].Size},
		{SHA256: fx.items[1].Digests.SHA256, Size: fx.items[1].Size},
	}, m.Blobs)

	stored, err := fx.store.Records(t.Context(), bundleCase, 0, 7)
	require.NoError(t, err)
	assert.Equal(t, append(bytes.Join(stored, []byte("\n")), '\n'), entries[1].body, "the records as stored, one per line")
	assert.NotContains(t, string(stored[2]), "\n", "the newline in a reason is escaped")
	assert.Equal(t, bytes.Repeat([]byte{0xEB, 0x52, 0x90, 'N', 'T', 'F', 'S'}, 700), entries[2].body)
}

func TestImport(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{IncludeBlobs: true})

	store, blobs := evidence.NewMemoryLedgerStore(), evidence.NewMemoryBlobs()
	rep, err := bundle.Import(ctx, bytes.NewReader(data), store, blobs, fx.trust(), bundle.Limits{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Err())
	assert.Equal(t, bundleCase, rep.Case)
	assert.Equal(t, int64(7), rep.Size)
	assert.Equal(t, 3, rep.Items)
	assert.Equal(t, 2, rep.Checkpoints)
	assert.Equal(t, int64(7), rep.Signed)
	assert.True(t, rep.KeyTrusted)
	assert.True(t, rep.BlobsIncluded)
	assert.Equal(t, 3, rep.BlobsChecked)
	assert.Equal(t, "VERIFIED: case INC-2026-0042, 7 records, 3 items, 2 checkpoints, content of 3 items checked, key given by the caller", rep.Verdict())

	// The imported log is the exported one, with the same tree.
	_, root, err := fx.ledger.Root(ctx, bundleCase)
	require.NoError(t, err)
	assert.Equal(t, root, rep.Root)
	assert.Equal(t, bundleLogJSON(t, fx.store), bundleLogJSON(t, store))
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: fx.key})
	require.NoError(t, err)
	_, importedRoot, err := ledger.Root(ctx, bundleCase)
	require.NoError(t, err)
	assert.Equal(t, root, importedRoot)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	require.NoError(t, err)
	verified, err := locker.Verify(ctx, bundleCase)
	require.NoError(t, err)
	assert.True(t, verified.OK(), "%v", verified.Err())
	assert.True(t, evidence.VerifyLog(bundleCaseLog(t, store), fx.vkey).OK())

	// The imported case exports to the same bytes.
	var again bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &again, ledger, blobs, bundleCase, bundle.Options{IncludeBlobs: true}))
	assert.Equal(t, data, again.Bytes())

	// Importing again changes nothing.
	rep, err = bundle.Import(ctx, bytes.NewReader(data), store, blobs, fx.trust(), bundle.Limits{})
	require.NoError(t, err)
	assert.True(t, rep.OK())
	assert.Equal(t, bundleLogJSON(t, fx.store), bundleLogJSON(t, store))
}

func TestImportWithoutBlobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{})
	assert.Len(t, readBundleEntries(t, data), 2)

	store, blobs := evidence.NewMemoryLedgerStore(), evidence.NewMemoryBlobs()
	rep, err := bundle.Import(ctx, bytes.NewReader(data), store, blobs, fx.trust(), bundle.Limits{})
	require.NoError(t, err)
	assert.False(t, rep.BlobsIncluded)
	assert.Zero(t, rep.BlobsChecked)
	assert.Contains(t, rep.Verdict(), "content not included")
	assert.Equal(t, bundleLogJSON(t, fx.store), bundleLogJSON(t, store))
	_, err = blobs.Stat(ctx, fx.items[0].Digests.SHA256)
	assert.ErrorIs(t, err, evidence.ErrNotFound)
}

func TestReadBlobStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{IncludeBlobs: true})

	// Without a store, content is checked and discarded.
	b, err := bundle.Read(ctx, bytes.NewReader(data), nil, bundle.Limits{})
	require.NoError(t, err)
	require.Len(t, b.Blobs, 2)
	// Item 3 has the content of item 2, and asks for its SHA-1 and MD5.
	for i, it := range []evidence.Item{fx.items[0], fx.items[2]} {
		assert.Equal(t, bundle.BlobCheck{SHA256: it.Digests.SHA256, Size: it.Size, Digests: it.Digests}, b.Blobs[i])
	}
	rep, err := b.Verify(fx.trust())
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%v", rep.Err())

	// With one, it is stored.
	blobs := evidence.NewMemoryBlobs()
	b, err = bundle.Read(ctx, bytes.NewReader(data), blobs, bundle.Limits{})
	require.NoError(t, err)
	for _, bc := range b.Blobs {
		assert.True(t, bc.Stored)
		size, err := blobs.Stat(ctx, bc.SHA256)
		require.NoError(t, err)
		assert.Equal(t, bc.Size, size)
	}
}

func TestTrust(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{})
	b, err := bundle.Read(ctx, bytes.NewReader(data), nil, bundle.Limits{})
	require.NoError(t, err)
	earlier, err := fx.store.Checkpoints(ctx, bundleCase)
	require.NoError(t, err)
	fingerprint := evidence.KeyFingerprint(fx.vkey)

	// A history the key's holder rewrote: same key, another record 1.
	rewritten := newBundleFixture(t)
	rewrittenLedger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: fx.key})
	require.NoError(t, err)
	recs, err := rewritten.ledger.Records(ctx, bundleCase, 0, 3)
	require.NoError(t, err)
	recs[2].Reason = "kept at the office"
	for _, r := range recs {
		_, err := rewrittenLedger.Append(ctx, r)
		require.NoError(t, err)
	}
	otherHistory, err := rewrittenLedger.Checkpoint(ctx, bundleCase)
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		trust   bundle.Trust
		trusted bool
		problem string
	}{
		{name: "none", trusted: false},
		{name: "key", trust: bundle.Trust{VerifierKey: fx.vkey}, trusted: true},
		{name: "fingerprint", trust: bundle.Trust{Fingerprint: fingerprint}, trusted: true},
		{name: "upper-case fingerprint", trust: bundle.Trust{Fingerprint: strings.ToUpper(fingerprint)}, trusted: true},
		{name: "key and fingerprint", trust: bundle.Trust{VerifierKey: fx.vkey, Fingerprint: fingerprint}, trusted: true},
		{name: "earlier checkpoint", trust: bundle.Trust{VerifierKey: fx.vkey, Checkpoints: [][]byte{earlier[0].Note}}, trusted: true},
		{
			name:  "checkpoint of a rewritten history",
			trust: bundle.Trust{VerifierKey: fx.vkey, Checkpoints: [][]byte{otherHistory.Note}}, trusted: true,
			problem: "tampered checkpoint in case INC-2026-0042: expected root",
		},
		{
			name:  "checkpoint of another key",
			trust: bundle.Trust{Fingerprint: fingerprint, Checkpoints: [][]byte{bundleForeignCheckpoint(t)}}, trusted: true,
			problem: "tampered trusted checkpoint in case INC-2026-0042: expected a signature by custody.example.org, found no signature by that key",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := b.Verify(tc.trust)
			require.NoError(t, err)
			assert.Equal(t, tc.trusted, rep.KeyTrusted)
			assert.Equal(t, fx.vkey, rep.VerifierKey)
			assert.Equal(t, fingerprint, rep.KeyFingerprint)
			assert.Equal(t, len(tc.trust.Checkpoints), rep.TrustedCheckpoints)
			if tc.problem == "" {
				assert.True(t, rep.OK(), "%v", rep.Err())
				if !tc.trusted {
					assert.Contains(t, rep.Verdict(), "the bundle's own key trusted")
				}
				return
			}
			assert.ErrorIs(t, rep.Err(), evidence.ErrTampered)
			assert.ErrorContains(t, rep.Err(), tc.problem)
		})
	}

	for name, trust := range map[string]bundle.Trust{
		"bad key":                  {VerifierKey: "not a key"},
		"short fingerprint":        {Fingerprint: fingerprint[:10]},
		"fingerprint of other key": {VerifierKey: fx.vkey, Fingerprint: strings.Repeat("0", 64)},
	} {
		_, err := b.Verify(trust)
		assert.ErrorIs(t, err, evidence.ErrInvalid, name)
		_, err = bundle.Import(ctx, bytes.NewReader(data), evidence.NewMemoryLedgerStore(), nil, trust, bundle.Limits{})
		assert.ErrorIs(t, err, evidence.ErrInvalid, name)
	}
}

// bundleForeignCheckpoint returns a checkpoint of the case signed by a key
// other than the fixture's.
func bundleForeignCheckpoint(t testing.TB) []byte {
	t.Helper()
	fx := newBundleFixture(t)
	key, _ := bundleKey(t, "custody.example.org", 2)
	other, err := evidence.NewLedger(evidence.LedgerConfig{Store: fx.store, Key: key})
	require.NoError(t, err)
	cp, err := other.Checkpoint(t.Context(), bundleCase)
	require.NoError(t, err)
	return cp.Note
}

// bundleForgery returns the fixture's case with record 2 rewritten, signed
// by another key: what a forger holding no key of the ledger can make.
func bundleForgery(t testing.TB) (data []byte, forgerKey string) {
	t.Helper()
	ctx := t.Context()
	fx := newBundleFixture(t)
	key, vkey := bundleKey(t, "custody.example.org", 66)
	forger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	recs, err := fx.ledger.Records(ctx, bundleCase, 0, 7)
	require.NoError(t, err)
	recs[2].To = bundleBob
	for _, r := range recs {
		_, err := forger.Append(ctx, r)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &buf, forger, fx.blobs, bundleCase, bundle.Options{IncludeBlobs: true, Checkpoint: true}))
	return buf.Bytes(), vkey
}

func TestImportForgery(t *testing.T) {
	t.Parallel()
	data, forgerKey := bundleForgery(t)
	fx := newBundleFixture(t)

	// Trusting the bundle's key, the forgery is consistent with itself,
	// and the report says whose key that is.
	store := evidence.NewMemoryLedgerStore()
	rep, err := bundle.Import(t.Context(), bytes.NewReader(data), store, nil, bundle.Trust{}, bundle.Limits{})
	require.NoError(t, err)
	assert.False(t, rep.KeyTrusted)
	assert.Equal(t, forgerKey, rep.VerifierKey)
	assert.Contains(t, rep.Verdict(), "the bundle's own key trusted")

	// With the ledger's key obtained out of band, it is refused.
	for name, trust := range map[string]bundle.Trust{
		"key":         fx.trust(),
		"fingerprint": {Fingerprint: evidence.KeyFingerprint(fx.vkey)},
	} {
		t.Run(name, func(t *testing.T) {
			store := evidence.NewMemoryLedgerStore()
			rep, err := bundle.Import(t.Context(), bytes.NewReader(data), store, nil, trust, bundle.Limits{})
			require.ErrorIs(t, err, evidence.ErrTampered)
			assert.ErrorContains(t, err, "tampered verifier key")
			assert.False(t, rep.OK())
			assert.True(t, rep.KeyTrusted)
			requireEmptyStore(t, store)
		})
	}
}

// A hostile bundle, what it is refused with, and what the error says.
type hostileBundle struct {
	name   string
	make   func(t *testing.T, fx *bundleFixture, entries []bundleEntry) []byte
	limits bundle.Limits
	want   error
	says   string
}

func hostileBundles() []hostileBundle {
	entries := func(f func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry) func(*testing.T, *bundleFixture, []bundleEntry) []byte {
		return func(t *testing.T, fx *bundleFixture, e []bundleEntry) []byte {
			return writeBundleEntries(t, f(t, fx, e))
		}
	}
	renameBlob := func(name string) func(*testing.T, *bundleFixture, []bundleEntry) []byte {
		return entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[2].hdr.Name = name
			return e
		})
	}
	addEntry := func(hdr tar.Header) func(*testing.T, *bundleFixture, []bundleEntry) []byte {
		return entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			return append(e, bundleEntry{hdr: hdr})
		})
	}
	return []hostileBundle{
		{name: "empty", make: func(*testing.T, *bundleFixture, []bundleEntry) []byte { return nil },
			want: evidence.ErrInvalid, says: `entry "manifest.json" is missing`},
		{name: "not tar", make: func(*testing.T, *bundleFixture, []bundleEntry) []byte { return bytes.Repeat([]byte("{}"), 600) },
			want: evidence.ErrInvalid, says: "invalid bundle"},
		{name: "truncated", make: func(t *testing.T, fx *bundleFixture, e []bundleEntry) []byte {
			data := writeBundleEntries(t, e)
			return data[:len(data)-1024-100]
		}, want: evidence.ErrInvalid, says: "truncated"},
		{name: "manifest not JSON", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[0].body = []byte(`{"format": "incidentkit-custody-bundle",`)
			return e
		}), want: evidence.ErrInvalid, says: "invalid bundle manifest: unexpected EOF"},
		{name: "manifest with data after it", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[0].body = append(e[0].body, "{}"...)
			return e
		}), want: evidence.ErrInvalid, says: "data after the JSON object"},
		{name: "manifest with unknown field", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[0].body = bytes.Replace(e[0].body, []byte(`"format"`), []byte(`"signed_by_the_court": true, "format"`), 1)
			return e
		}), want: evidence.ErrInvalid, says: "unknown field"},
		{name: "unknown version", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Version = 2 })
			return e
		}), want: evidence.ErrInvalid, says: `format "incidentkit-custody-bundle" version 2`},
		{name: "unknown format", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Format = "tarball" })
			return e
		}), want: evidence.ErrInvalid, says: `format "tarball"`},
		{name: "unknown item kind", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[0].body = bytes.Replace(e[0].body, []byte(`"disk_image"`), []byte(`"hologram"`), 1)
			return e
		}), want: evidence.ErrInvalid, says: "unknown kind"},
		{name: "wrong fingerprint", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.KeyFingerprint = strings.Repeat("0", 64) })
			return e
		}), want: evidence.ErrInvalid, says: "fingerprint"},
		{name: "origin of another case", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Origin = "incidentkit/custody/INC-1" })
			return e
		}), want: evidence.ErrInvalid, says: "origin"},
		{name: "item of another case", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Items[1].CaseID = "INC-1" })
			return e
		}), want: evidence.ErrInvalid, says: "item 1"},
		{name: "10^12 records declared", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Records = 1e12 })
			return e
		}), want: evidence.ErrInvalid, says: "1000000000000 records, more than the limit of"},
		{name: "more records declared than the entry holds", limits: bundle.Limits{MaxRecords: 1e12},
			make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
				editBundleManifest(t, e, func(m *bundle.Manifest) { m.Records = 1e12 })
				return e
			}), want: evidence.ErrInvalid, says: "cannot hold the 1000000000000 records"},
		{name: "record changed", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleRecord(t, e, 2, func(r *evidence.Record) { r.To = bundleBob })
			return e
		}), want: evidence.ErrTampered, says: "tampered checkpoint in case INC-2026-0042: expected root"},
		{name: "record byte changed", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			i := bytes.Index(e[1].body, []byte("Carol"))
			e[1].body[i] = 'K'
			return e
		}), want: evidence.ErrTampered, says: "tampered checkpoint"},
		{name: "record made not canonical", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[1].body = bytes.Replace(e[1].body, []byte(`{"case"`), []byte(`{ "case"`), 1)
			return e
		}), want: evidence.ErrTampered, says: "tampered record in case INC-2026-0042, record 0: expected a canonical record"},
		{name: "record removed", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleRecords(t, e, true, func(l [][]byte) [][]byte { return append(l[:3], l[4:]...) })
			return e
		}), want: evidence.ErrTampered, says: "tampered record in case INC-2026-0042, item ITEM-2, record 3: expected index 3, found index 4"},
		{name: "last record removed", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleRecords(t, e, true, func(l [][]byte) [][]byte { return l[:6] })
			return e
		}), want: evidence.ErrTampered, says: "expected at least 7 records, found 6 records"},
		{name: "record removed, count kept", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleRecords(t, e, false, func(l [][]byte) [][]byte { return l[:6] })
			return e
		}), want: evidence.ErrInvalid, says: "6 records; the manifest declares 7"},
		{name: "record added", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleRecords(t, e, true, func(l [][]byte) [][]byte { return append(l, l[6]) })
			return e
		}), want: evidence.ErrTampered, says: "records from 7 on are signed by no one"},
		{name: "record added, count kept", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleRecords(t, e, false, func(l [][]byte) [][]byte { return append(l, l[6]) })
			return e
		}), want: evidence.ErrInvalid, says: "more records than the 7 the manifest declares"},
		{name: "records reordered", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleRecords(t, e, false, func(l [][]byte) [][]byte { l[3], l[4] = l[4], l[3]; return l })
			return e
		}), want: evidence.ErrTampered, says: "expected index 3, found index 4"},
		{name: "empty line", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleRecords(t, e, false, func(l [][]byte) [][]byte { l[6] = nil; return l })
			return e
		}), want: evidence.ErrInvalid, says: "record 6 is an empty line"},
		{name: "no final newline", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[1].body = bytes.TrimSuffix(e[1].body, []byte("\n"))
			return e
		}), want: evidence.ErrInvalid, says: "does not end with a newline"},
		{name: "item left out of the manifest", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Items = m.Items[:2] })
			return e
		}), want: evidence.ErrTampered, says: "tampered item in case INC-2026-0042, item ITEM-3, record 5: expected the item its collected record describes, found no such item"},
		{name: "item described otherwise", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Items[0].Location = "the boot of a car" })
			return e
		}), want: evidence.ErrTampered, says: "expected the item as collected, found a changed description"},
		{name: "checkpoints removed", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Checkpoints, m.ConsistencyProofs = nil, nil })
			return e
		}), want: evidence.ErrTampered, says: "the records are signed by no one"},
		{name: "latest checkpoint removed", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) {
				m.Checkpoints, m.ConsistencyProofs = m.Checkpoints[:1], [][]evidence.Hash{{}}
			})
			return e
		}), want: evidence.ErrTampered, says: "the latest signs 3; records from 3 on are signed by no one"},
		{name: "consistency proof changed", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.ConsistencyProofs[0][0][0] ^= 1 })
			return e
		}), want: evidence.ErrTampered, says: "tampered consistency proof of checkpoint 0"},
		{name: "consistency proof missing", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.ConsistencyProofs = m.ConsistencyProofs[1:] })
			return e
		}), want: evidence.ErrInvalid, says: "1 consistency proofs for 2 checkpoints"},
		{name: "checkpoint signed by another key", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Checkpoints[1].Note = bundleForeignCheckpoint(t) })
			return e
		}), want: evidence.ErrTampered, says: "tampered checkpoint signature"},
		{name: "key replaced", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			_, vkey := bundleKey(t, "custody.example.org", 66)
			editBundleManifest(t, e, func(m *bundle.Manifest) {
				m.VerifierKey, m.KeyFingerprint = vkey, evidence.KeyFingerprint(vkey)
			})
			return e
		}), want: evidence.ErrTampered, says: "tampered verifier key in case INC-2026-0042: expected the trusted key custody.example.org+"},
		{name: "blob byte changed", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[3].body[7] ^= 1
			return e
		}), want: evidence.ErrTampered, says: "tampered blob in case INC-2026-0042, item ITEM-2: expected content "},
		{name: "blob missing", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			return e[:3]
		}), want: evidence.ErrInvalid, says: "is missing"},
		{name: "blob missing from the manifest too", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Blobs = m.Blobs[:1] })
			return e[:3]
		}), want: evidence.ErrTampered, says: "tampered blob in case INC-2026-0042, item ITEM-2: expected content " + ""},
		{name: "blobs in another order", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[2], e[3] = e[3], e[2]
			return e
		}), want: evidence.ErrInvalid, says: "out of order or not listed in the manifest"},
		{name: "blob of another size", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[3].body = e[3].body[1:]
			return e
		}), want: evidence.ErrInvalid, says: "the manifest says"},
		{name: "blob of another size in the manifest too", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[3].body = e[3].body[1:]
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.Blobs[1].Size-- })
			return e
		}), want: evidence.ErrTampered, says: "tampered blob"},
		{name: "blob listed but not included", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			editBundleManifest(t, e, func(m *bundle.Manifest) { m.BlobsIncluded = false })
			return e
		}), want: evidence.ErrInvalid, says: "blobs listed but not included"},
		{name: "blob of no item", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			content := []byte("planted")
			sum := sha256.Sum256(content)
			name := hex.EncodeToString(sum[:])
			editBundleManifest(t, e, func(m *bundle.Manifest) {
				m.Blobs = append(m.Blobs, bundle.Blob{SHA256: name, Size: int64(len(content))})
			})
			return append(e, bundleEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "blobs/" + name, Mode: 0o644}, body: content})
		}), want: evidence.ErrTampered, says: "of no item"},
		{name: "blob named ../x", make: renameBlob("../x"), want: evidence.ErrInvalid, says: `bundle entry "../x": not a clean relative path`},
		{name: "blob named /etc/passwd", make: renameBlob("/etc/passwd"), want: evidence.ErrInvalid, says: `bundle entry "/etc/passwd": absolute path`},
		{name: "blob named blobs/../../x", make: renameBlob("blobs/../../x"), want: evidence.ErrInvalid, says: "not a clean relative path"},
		{name: "blob named in upper-case hex", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[2].hdr.Name = "blobs/" + strings.ToUpper(fx.items[0].Digests.SHA256)
			return e
		}), want: evidence.ErrInvalid, says: "a blob is named blobs/ and 64 lower-case hex digits"},
		{name: "blob named by a short digest", make: renameBlob("blobs/abc"), want: evidence.ErrInvalid, says: "64 lower-case hex digits"},
		{name: "unknown entry", make: renameBlob("README"), want: evidence.ErrInvalid, says: `"README": unknown entry`},
		{name: "symbolic link", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[2] = bundleEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: e[2].hdr.Name, Linkname: "/etc/passwd"}}
			return e
		}), want: evidence.ErrInvalid, says: "not a regular file (symbolic link)"},
		{name: "hard link", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[1] = bundleEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "records.jsonl", Linkname: "manifest.json"}}
			return e
		}), want: evidence.ErrInvalid, says: "not a regular file (hard link)"},
		{name: "device", make: addEntry(tar.Header{Typeflag: tar.TypeChar, Name: "blobs/" + strings.Repeat("0", 64), Devmajor: 1, Devminor: 3}),
			want: evidence.ErrInvalid, says: "not a regular file (device)"},
		{name: "directory", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			return append([]bundleEntry{{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "blobs/", Mode: 0o755}}}, e...)
		}), want: evidence.ErrInvalid, says: "not a regular file (directory)"},
		{name: "duplicate manifest", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			return append(e[:1], e...)
		}), want: evidence.ErrInvalid, says: `bundle entry "manifest.json": duplicate entry`},
		{name: "duplicate blob", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			return append(e, e[3])
		}), want: evidence.ErrInvalid, says: "duplicate entry"},
		{name: "records before the manifest", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[0], e[1] = e[1], e[0]
			return e
		}), want: evidence.ErrInvalid, says: `bundle entry "records.jsonl": out of order: expected "manifest.json"`},
		{name: "PAX attribute", make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry {
			e[2].hdr.PAXRecords = map[string]string{"SCHILY.xattr.user.note": "x"}
			e[2].hdr.Format = tar.FormatPAX
			return e
		}), want: evidence.ErrInvalid, says: "unexpected PAX record"},
		{name: "manifest over the limit", limits: bundle.Limits{MaxManifestSize: 1000},
			make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry { return e }),
			want: evidence.ErrInvalid, says: "more than the limit of 1000"},
		{name: "record over the limit", limits: bundle.Limits{MaxRecordSize: 600},
			make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry { return e }),
			want: evidence.ErrInvalid, says: "more than the limit of 600 (a genuinely larger case is read with a higher Limits.MaxRecordSize: custody-verify -max-record-size)"},
		{name: "records over the limit", limits: bundle.Limits{MaxRecordsSize: 2048},
			make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry { return e }),
			want: evidence.ErrInvalid, says: "more than the limit of 2048"},
		{name: "too many records", limits: bundle.Limits{MaxRecords: 6},
			make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry { return e }),
			want: evidence.ErrInvalid, says: "7 records, more than the limit of 6 (a genuinely larger case is read with a higher Limits.MaxRecords: custody-verify -max-records)"},
		{name: "blob over the limit", limits: bundle.Limits{MaxBlobSize: 1000},
			make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry { return e }),
			want: evidence.ErrInvalid, says: "more than the limit of 1000 (a genuinely larger case is read with a higher Limits.MaxBlobSize: custody-verify -max-blob-size)"},
		{name: "bundle over the limit", limits: bundle.Limits{MaxTotalSize: 8192},
			make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry { return e }),
			want: evidence.ErrInvalid, says: "larger than the limit of 8192 bytes"},
		{name: "too many entries", limits: bundle.Limits{MaxEntries: 3},
			make: entries(func(t *testing.T, fx *bundleFixture, e []bundleEntry) []bundleEntry { return e }),
			want: evidence.ErrInvalid, says: "4 entries or more (the manifest, the records and 2 blobs or more), more than the limit of 3 (a genuinely larger case is read with a higher Limits.MaxEntries: custody-verify -max-entries)"},
		{name: "entry after the end",
			make: addEntry(tar.Header{Typeflag: tar.TypeReg, Name: "blobs/" + strings.Repeat("0", 64)}),
			want: evidence.ErrInvalid, says: "not listed in the manifest"},
	}
}

func TestImportRefusesHostile(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	clean := fx.export(t, bundle.Options{IncludeBlobs: true})
	for _, tc := range hostileBundles() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.make(t, fx, readBundleEntries(t, clean))
			store, blobs := evidence.NewMemoryLedgerStore(), evidence.NewMemoryBlobs()
			rep, err := bundle.Import(t.Context(), bytes.NewReader(data), store, blobs, fx.trust(), tc.limits)
			require.ErrorIs(t, err, tc.want)
			assert.ErrorContains(t, err, tc.says)
			assert.Regexp(t, `^(bundle|evidence): `, err.Error(), "the error names its package")
			if errors.Is(tc.want, evidence.ErrTampered) {
				require.NotNil(t, rep)
				assert.False(t, rep.OK())
				assert.True(t, strings.HasPrefix(rep.Verdict(), "FAILED: "), rep.Verdict())
				var te *evidence.TamperError
				assert.ErrorAs(t, err, &te)
			} else {
				assert.Nil(t, rep)
				var ie *evidence.InvalidError
				assert.ErrorAs(t, err, &ie)
			}
			requireEmptyStore(t, store)
			// Content that is not what its name says is never stored.
			for _, it := range fx.items {
				if rc, err := blobs.Open(t.Context(), it.Digests.SHA256); err == nil {
					_, err := io.Copy(io.Discard, rc)
					assert.NoError(t, err, "blob %s stored with other content", it.Digests.SHA256)
					rc.Close()
				}
			}
		})
	}
}

func TestExportCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	_, err := fx.locker.Record(ctx, evidence.Record{Case: bundleCase, Item: fx.items[2].ID, Action: evidence.ActionVerified,
		Actor: bundleBob, At: bundleT0.Add(4 * time.Hour), Digest: fx.items[2].Digests.SHA256})
	require.NoError(t, err)

	// The last record is signed by no checkpoint yet.
	data := fx.export(t, bundle.Options{})
	b, err := bundle.Read(ctx, bytes.NewReader(data), nil, bundle.Limits{})
	require.NoError(t, err)
	rep, err := b.Verify(fx.trust())
	require.NoError(t, err)
	assert.Equal(t, int64(7), rep.Signed)
	require.ErrorIs(t, rep.Err(), evidence.ErrTampered)
	assert.ErrorContains(t, rep.Err(), "expected a checkpoint signing all 8 records, found the latest signs 7")

	// Checkpoint signs it first.
	data = fx.export(t, bundle.Options{Checkpoint: true})
	b, err = bundle.Read(ctx, bytes.NewReader(data), nil, bundle.Limits{})
	require.NoError(t, err)
	rep, err = b.Verify(fx.trust())
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%v", rep.Err())
	assert.Equal(t, 3, rep.Checkpoints)
	assert.Equal(t, int64(8), rep.Signed)
	assert.Equal(t, data, fx.export(t, bundle.Options{Checkpoint: true}), "no second checkpoint")
	cps, err := fx.store.Checkpoints(ctx, bundleCase)
	require.NoError(t, err)
	assert.Len(t, cps, 3)

	// A checkpoint covering the case is not signed again, even for a
	// store that would keep a second copy.
	counting := &bundleCountingStore{MemoryLedgerStore: fx.store}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: counting, Key: fx.key})
	require.NoError(t, err)
	var again bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &again, ledger, nil, bundleCase, bundle.Options{Checkpoint: true}))
	assert.Equal(t, data, again.Bytes())
	assert.Zero(t, counting.added)
}

// bundleCountingStore counts the checkpoints added to it.
type bundleCountingStore struct {
	*evidence.MemoryLedgerStore
	added int
}

func (s *bundleCountingStore) AddCheckpoint(ctx context.Context, c evidence.CaseID, cp evidence.Checkpoint) error {
	s.added++
	return s.MemoryLedgerStore.AddCheckpoint(ctx, c, cp)
}

func TestExportUnsignedCase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: fx.key})
	require.NoError(t, err)
	recs, err := fx.ledger.Records(ctx, bundleCase, 0, 2)
	require.NoError(t, err)
	for _, r := range recs {
		_, err := ledger.Append(ctx, r)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &buf, ledger, nil, bundleCase, bundle.Options{}))
	store := evidence.NewMemoryLedgerStore()
	rep, err := bundle.Import(ctx, &buf, store, nil, fx.trust(), bundle.Limits{})
	require.ErrorIs(t, err, evidence.ErrTampered)
	assert.ErrorContains(t, err, "expected a checkpoint signed by the key, found none: the records are signed by no one")
	assert.Equal(t, "FAILED: 1 problem", rep.Verdict())
	requireEmptyStore(t, store)
}

func TestExportErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)

	err := bundle.Export(ctx, io.Discard, fx.ledger, fx.blobs, "INC-NONE", bundle.Options{})
	assert.ErrorIs(t, err, evidence.ErrNotFound)
	err = bundle.Export(ctx, io.Discard, fx.ledger, fx.blobs, "INC-NONE", bundle.Options{Checkpoint: true})
	assert.ErrorIs(t, err, evidence.ErrNotFound)
	err = bundle.Export(ctx, io.Discard, nil, fx.blobs, bundleCase, bundle.Options{})
	assert.ErrorIs(t, err, evidence.ErrInvalid)
	err = bundle.Export(ctx, io.Discard, fx.ledger, nil, bundleCase, bundle.Options{IncludeBlobs: true})
	assert.ErrorIs(t, err, evidence.ErrInvalid)
	err = bundle.Export(ctx, io.Discard, fx.ledger, fx.blobs, "bad case", bundle.Options{})
	assert.ErrorIs(t, err, evidence.ErrInvalid)

	// Content missing from the store.
	err = bundle.Export(ctx, io.Discard, fx.ledger, evidence.NewMemoryBlobs(), bundleCase, bundle.Options{IncludeBlobs: true})
	assert.ErrorIs(t, err, evidence.ErrNotFound)
	assert.ErrorContains(t, err, "content of item ITEM-1 (EX-001)")

	// Content changed in the store.
	for name, content := range map[string][]byte{
		"changed": bytes.Repeat([]byte{0xEB, 0x52, 0x90, 'N', 'T', 'F', 'X'}, 700),
		"longer":  bytes.Repeat([]byte{0xEB, 0x52, 0x90, 'N', 'T', 'F', 'S'}, 701),
	} {
		blobs := &bundleSwappedBlobs{BlobStore: fx.blobs, digest: fx.items[0].Digests.SHA256, content: content}
		err = bundle.Export(ctx, io.Discard, fx.ledger, blobs, bundleCase, bundle.Options{IncludeBlobs: true})
		assert.ErrorIs(t, err, evidence.ErrTampered, name)
		assert.ErrorContains(t, err, "tampered blob in case INC-2026-0042, item ITEM-1", name)
	}

	// A cancelled context.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = bundle.Export(cancelled, io.Discard, fx.ledger, fx.blobs, bundleCase, bundle.Options{IncludeBlobs: true})
	assert.ErrorIs(t, err, context.Canceled)
}

// bundleSwappedBlobs serves other content for one blob, as a store whose
// file was changed would, with the size it is stored at.
type bundleSwappedBlobs struct {
	evidence.BlobStore
	digest  string
	content []byte
}

func (s *bundleSwappedBlobs) Open(ctx context.Context, sha256hex string) (io.ReadCloser, error) {
	if sha256hex != s.digest {
		return s.BlobStore.Open(ctx, sha256hex)
	}
	return evidence.NewVerifyingReader(io.NopCloser(bytes.NewReader(s.content)), sha256hex), nil
}

func (s *bundleSwappedBlobs) Stat(ctx context.Context, sha256hex string) (int64, error) {
	if sha256hex != s.digest {
		return s.BlobStore.Stat(ctx, sha256hex)
	}
	return int64(len(s.content)), nil
}

// bundleRacingStore collects an item the first time the exporter lists
// the case's items, as another writer could.
type bundleRacingStore struct {
	*evidence.MemoryLedgerStore
	race func()
}

func (s *bundleRacingStore) Items(ctx context.Context, c evidence.CaseID) ([]evidence.Item, error) {
	if race := s.race; race != nil {
		s.race = nil
		race()
	}
	return s.MemoryLedgerStore.Items(ctx, c)
}

func TestExportConsistentSnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	before := fx.export(t, bundle.Options{})

	racing := &bundleRacingStore{MemoryLedgerStore: fx.store}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: racing, Key: fx.key})
	require.NoError(t, err)
	racing.race = func() {
		it := fx.items[0]
		it.ID, it.Exhibit = "ITEM-LATE", "EX-004"
		_, err := ledger.Append(ctx, evidence.Record{Case: bundleCase, Item: it.ID, Action: evidence.ActionCollected,
			Actor: bundleAlice, At: bundleT0.Add(5 * time.Hour), Snapshot: &it})
		require.NoError(t, err)
		_, err = ledger.Checkpoint(ctx, bundleCase)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &buf, ledger, nil, bundleCase, bundle.Options{}))
	assert.Equal(t, before, buf.Bytes(), "the case as it was when the export began")
}

func TestImportIntoExistingCase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{})

	// A store holding the first records of the bundle: the rest is
	// appended.
	prefix := evidence.NewMemoryLedgerStore()
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: prefix, Key: fx.key})
	require.NoError(t, err)
	recs, err := fx.ledger.Records(ctx, bundleCase, 0, 4)
	require.NoError(t, err)
	for _, r := range recs {
		_, err := ledger.Append(ctx, r)
		require.NoError(t, err)
	}
	rep, err := bundle.Import(ctx, bytes.NewReader(data), prefix, nil, fx.trust(), bundle.Limits{})
	require.NoError(t, err)
	assert.True(t, rep.OK())
	assert.Equal(t, bundleLogJSON(t, fx.store), bundleLogJSON(t, prefix))

	// A store holding other records, or more: refused, and unchanged.
	for name, n := range map[string]int{"other records": 3, "more records": 7} {
		t.Run(name, func(t *testing.T) {
			store := evidence.NewMemoryLedgerStore()
			ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: fx.key})
			require.NoError(t, err)
			recs, err := fx.ledger.Records(ctx, bundleCase, 0, 7)
			require.NoError(t, err)
			recs = recs[:n]
			if name == "other records" {
				recs[1].Reason = "another reason"
			} else {
				recs = append(recs, evidence.Record{Case: bundleCase, Item: fx.items[0].ID, Action: evidence.ActionAccessed, Actor: bundleBob, At: bundleT0.Add(9 * time.Hour)})
			}
			for _, r := range recs {
				_, err := ledger.Append(ctx, r)
				require.NoError(t, err)
			}
			want := bundleLogJSON(t, store)
			_, err = bundle.Import(ctx, bytes.NewReader(data), store, nil, fx.trust(), bundle.Limits{})
			require.ErrorIs(t, err, evidence.ErrConflict)
			assert.Equal(t, want, bundleLogJSON(t, store))
		})
	}
}

// bundleFailingReader fails after its content.
type bundleFailingReader struct {
	r   io.Reader
	err error
}

func (f *bundleFailingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{IncludeBlobs: true})

	// A failing reader is not an invalid bundle.
	broken := errors.New("connection reset")
	_, err := bundle.Read(ctx, &bundleFailingReader{r: bytes.NewReader(data[:3000]), err: broken}, nil, bundle.Limits{})
	assert.ErrorIs(t, err, broken)
	assert.NotErrorIs(t, err, evidence.ErrInvalid)
	assert.ErrorContains(t, err, "bundle: read: connection reset")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = bundle.Read(cancelled, bytes.NewReader(data), nil, bundle.Limits{})
	assert.ErrorIs(t, err, context.Canceled)

	for _, limits := range []bundle.Limits{{MaxEntries: -1}, {MaxRecordSize: -1}, {MaxTotalSize: -5}} {
		_, err = bundle.Read(ctx, bytes.NewReader(data), nil, limits)
		assert.ErrorIs(t, err, evidence.ErrInvalid)
	}
	_, err = bundle.Read(ctx, nil, nil, bundle.Limits{})
	assert.ErrorIs(t, err, evidence.ErrInvalid)
	_, err = bundle.Import(ctx, bytes.NewReader(data), nil, nil, fx.trust(), bundle.Limits{})
	assert.ErrorIs(t, err, evidence.ErrInvalid)

	// A blob store that fails.
	_, err = bundle.Read(ctx, bytes.NewReader(data), bundleFailingBlobs{err: broken}, bundle.Limits{})
	assert.ErrorIs(t, err, broken)
	assert.NotErrorIs(t, err, evidence.ErrInvalid)
}

// bundleFailingBlobs is a blob store whose writers fail.
type bundleFailingBlobs struct {
	evidence.BlobStore
	err error
}

func (b bundleFailingBlobs) Create(context.Context) (evidence.BlobWriter, error) {
	return bundleFailingWriter{err: b.err}, nil
}

type bundleFailingWriter struct{ err error }

func (w bundleFailingWriter) Write([]byte) (int, error)            { return 0, w.err }
func (w bundleFailingWriter) Commit(context.Context, string) error { return w.err }
func (w bundleFailingWriter) Abort() error                         { return nil }

// A bundle declaring huge sizes in a few bytes is refused before anything
// of that size is allocated.
// It does not run in parallel, so that it counts only its own allocations.
func TestReadHugeDeclarations(t *testing.T) {
	fx := newBundleFixture(t)
	entries := readBundleEntries(t, fx.export(t, bundle.Options{IncludeBlobs: true}))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "manifest.json", Size: 1 << 40}))
	_, err := tw.Write(entries[0].body)
	require.NoError(t, err)
	for _, limits := range []bundle.Limits{{}, {MaxManifestSize: 1 << 41, MaxTotalSize: 1 << 42}} {
		before := bundleAllocated()
		_, err = bundle.Read(t.Context(), bytes.NewReader(buf.Bytes()), nil, limits)
		allocated := bundleAllocated() - before
		assert.ErrorIs(t, err, evidence.ErrInvalid)
		assert.Less(t, allocated, uint64(4<<20), "allocated for a bundle of %d bytes", buf.Len())
	}
}

// bundleAllocated returns how many bytes the program has allocated so far.
func bundleAllocated() uint64 {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.TotalAlloc
}

// Content of 8 GiB or more needs a PAX size record in its header, which
// the reader accepts.
func TestReadLargeBlobHeader(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	entries := readBundleEntries(t, fx.export(t, bundle.Options{IncludeBlobs: true}))
	const size = 9 << 30
	editBundleManifest(t, entries, func(m *bundle.Manifest) { m.Blobs[0].Size = size })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries[:2] {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.hdr.Name, Size: int64(len(e.body)), Mode: 0o644, ModTime: time.Unix(0, 0)}))
		_, err := tw.Write(e.body)
		require.NoError(t, err)
	}
	header := func() []byte {
		var h bytes.Buffer
		require.NoError(t, tar.NewWriter(&h).WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: entries[2].hdr.Name, Size: size, Mode: 0o644, ModTime: time.Unix(0, 0)}))
		return h.Bytes()
	}
	require.Equal(t, header(), header(), "deterministic")
	require.NoError(t, tw.Flush())
	data := append(buf.Bytes(), header()...)
	data = append(data, bytes.Repeat([]byte{1}, 4096)...)

	_, err := bundle.Read(t.Context(), bytes.NewReader(data), nil, bundle.Limits{})
	require.ErrorIs(t, err, evidence.ErrInvalid)
	assert.ErrorContains(t, err, `bundle entry "`+entries[2].hdr.Name+`": truncated`)
}

func TestTreeHashesImported(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	store := evidence.NewMemoryLedgerStore()
	_, err := bundle.Import(ctx, bytes.NewReader(fx.export(t, bundle.Options{})), store, nil, fx.trust(), bundle.Limits{})
	require.NoError(t, err)
	// Every stored hash is the one the exporting ledger stored, so proofs
	// served from the imported case are the same.
	n := tlog.StoredHashCount(7)
	indexes := make([]int64, n)
	for i := range indexes {
		indexes[i] = int64(i)
	}
	want, err := fx.store.ReadHashes(ctx, bundleCase, indexes)
	require.NoError(t, err)
	got, err := store.ReadHashes(ctx, bundleCase, indexes)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// unreachableWitness is a witness that cannot be reached.
type unreachableWitness struct{}

func (unreachableWitness) Witness(context.Context, evidence.CaseID, int64, []evidence.Hash, evidence.Checkpoint) error {
	return errors.New("witness unreachable")
}

func (unreachableWitness) Latest(context.Context, evidence.CaseID) (evidence.Checkpoint, error) {
	return evidence.Checkpoint{}, errors.New("witness unreachable")
}

// TestExportWithTheWitnessDown exports a case whose ledger's witness cannot
// be reached: the checkpoint the export signs is stored and exported, and
// the bundle verifies.
func TestExportWithTheWitnessDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newBundleFixture(t)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: fx.store, Key: fx.key, Witness: unreachableWitness{}})
	require.NoError(t, err)
	_, err = ledger.Append(ctx, evidence.Record{Case: bundleCase, Item: fx.items[1].ID, Action: evidence.ActionAccessed,
		Actor: bundleBob, At: bundleT0.Add(3 * time.Hour), Reason: "read once more"})
	require.NoError(t, err, "an append is kept when its checkpoint cannot be witnessed")
	n, err := fx.store.Size(ctx, bundleCase)
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &buf, ledger, fx.blobs, bundleCase, bundle.Options{Checkpoint: true}))
	b, err := bundle.Read(ctx, &buf, nil, bundle.Limits{})
	require.NoError(t, err)
	rep, err := b.Verify(fx.trust())
	require.NoError(t, err)
	assert.True(t, rep.OK(), "the bundle verifies: %v", rep.Err())
	assert.Equal(t, n, rep.Size, "every record is exported, signed by the new checkpoint")
}

package evidence_test

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// worst returns n bytes of the character JSON escapes at most length: '<'
// becomes \u003c, six bytes for one.
func worst(n int) string { return strings.Repeat("<", n) }

func worstList(n, each int) []string {
	v := make([]string, n)
	for i := range v {
		v[i] = worst(each)
	}
	return v
}

func worstParty() evidence.Party {
	return evidence.Party{ID: worst(evidence.MaxIDLen), Name: worst(evidence.MaxNameLen), Organization: worst(evidence.MaxNameLen)}
}

// worstItem returns an item of case c with every field at its maximum.
func worstItem(c evidence.CaseID, id evidence.ItemID, at time.Time) evidence.Item {
	return evidence.Item{
		ID: id, CaseID: c, Exhibit: worst(evidence.MaxIDLen), Name: worst(evidence.MaxNameLen), Kind: evidence.KindDiskImage,
		MediaType: worst(evidence.MaxNameLen), Size: 1,
		Digests: evidence.Digests{SHA256: strings.Repeat("ab", 32), SHA1: strings.Repeat("cd", 20), MD5: strings.Repeat("ef", 16)},
		Source: evidence.Source{
			Host: worst(evidence.MaxNameLen), Path: worst(evidence.MaxTextLen), SerialNumber: worst(evidence.MaxNameLen),
			Network: worstList(evidence.MaxNetwork, evidence.MaxNameLen), Description: worst(evidence.MaxTextLen),
		},
		CollectedBy: worstParty(), CollectedAt: at, Location: worst(evidence.MaxNameLen),
		Labels: worstList(evidence.MaxLabels, evidence.MaxNameLen),
	}
}

// worstRecord fills every text field of r at its maximum.
func worstRecord(r evidence.Record) evidence.Record {
	r.Actor, r.Authority, r.Location = worstParty(), worst(evidence.MaxTextLen), worst(evidence.MaxNameLen)
	r.Reason, r.Tool, r.Notes = worst(evidence.MaxTextLen), worst(evidence.MaxNameLen), worst(evidence.MaxNotesLen)
	return r
}

// TestRecordsAtEveryMaximumExport makes records with every field at its
// maximum, in the characters JSON escapes the most, and checks the case
// exports to a bundle that bundle.Read accepts with its default limits and
// that verifies.
func TestRecordsAtEveryMaximumExport(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	c := evidence.CaseID(worst(evidence.MaxIDLen))
	id := evidence.ItemID(worst(evidence.MaxIDLen))
	at := time.Date(2026, time.March, 2, 9, 15, 0, 123456789, time.FixedZone("", -(9*60+30)*60))
	it := worstItem(c, id, at)
	collected := worstRecord(evidence.Record{Case: c, Item: id, Action: evidence.ActionCollected, At: at,
		Digest: it.Digests.SHA256, Snapshot: &it})
	rec, err := ledger.Append(ctx, collected)
	require.NoError(t, err, "a collection at every maximum")
	transfer := worstRecord(evidence.Record{Case: c, Item: id, Action: evidence.ActionTransferred, At: at,
		From: worstParty(), To: worstParty(), Digest: it.Digests.SHA256})
	_, err = ledger.Append(ctx, transfer)
	require.NoError(t, err, "a transfer at every maximum")

	recs, err := ledger.Store().Records(ctx, c, 0, 2)
	require.NoError(t, err)
	require.LessOrEqual(t, evidence.MaxRecordSize, bundle.DefaultMaxRecordSize, "bundle.Read reads every record a store keeps")
	for i, data := range recs {
		assert.LessOrEqual(t, len(data), evidence.MaxRecordSize, "record %d", i)
		assert.Greater(t, len(data), evidence.MaxRecordSize/4, "record %d is at the limits", i)
	}
	assert.Equal(t, it.Name, rec.Snapshot.Name)

	var tarball bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &tarball, ledger, evidence.NewMemoryBlobs(), c, bundle.Options{Checkpoint: true}))
	b, err := bundle.Read(ctx, bytes.NewReader(tarball.Bytes()), evidence.NewMemoryBlobs(), bundle.Limits{})
	require.NoError(t, err, "bundle.Read with its default limits")
	rep, err := b.Verify(bundle.Trust{VerifierKey: vkey})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Equal(t, int64(2), rep.Size)
}

// TestCollectionOverAnyMaximum checks a collection with any field one
// byte (or one element) over its maximum, or holding a NUL byte or invalid
// UTF-8, is refused before anything is written: no content, no record.
func TestCollectionOverAnyMaximum(t *testing.T) {
	t.Parallel()
	over := func(n int) string { return strings.Repeat("x", n+1) }
	cases := map[string]func(c *evidence.Collection){
		"case ID":                 func(c *evidence.Collection) { c.Case = evidence.CaseID(over(evidence.MaxIDLen)) },
		"name":                    func(c *evidence.Collection) { c.Name = over(evidence.MaxNameLen) },
		"name of 2 MiB":           func(c *evidence.Collection) { c.Name = over(2 << 20) },
		"name with a NUL byte":    func(c *evidence.Collection) { c.Name = "a\x00.log" },
		"name of invalid UTF-8":   func(c *evidence.Collection) { c.Name = "a\xff.log" },
		"media type":              func(c *evidence.Collection) { c.MediaType = over(evidence.MaxNameLen) },
		"location":                func(c *evidence.Collection) { c.Location = over(evidence.MaxNameLen) },
		"authority":               func(c *evidence.Collection) { c.Authority = over(evidence.MaxTextLen) },
		"reason":                  func(c *evidence.Collection) { c.Reason = over(evidence.MaxTextLen) },
		"reason with a NUL byte":  func(c *evidence.Collection) { c.Reason = "a\x00b" },
		"tool":                    func(c *evidence.Collection) { c.Tool = over(evidence.MaxNameLen) },
		"notes":                   func(c *evidence.Collection) { c.Notes = over(evidence.MaxNotesLen) },
		"source host":             func(c *evidence.Collection) { c.Source.Host = over(evidence.MaxNameLen) },
		"source path":             func(c *evidence.Collection) { c.Source.Path = over(evidence.MaxTextLen) },
		"source serial number":    func(c *evidence.Collection) { c.Source.SerialNumber = over(evidence.MaxNameLen) },
		"source description":      func(c *evidence.Collection) { c.Source.Description = over(evidence.MaxTextLen) },
		"source network":          func(c *evidence.Collection) { c.Source.Network = make([]string, evidence.MaxNetwork+1) },
		"one network identifier":  func(c *evidence.Collection) { c.Source.Network = []string{over(evidence.MaxNameLen)} },
		"collector's ID":          func(c *evidence.Collection) { c.CollectedBy.ID = over(evidence.MaxIDLen) },
		"collector's name":        func(c *evidence.Collection) { c.CollectedBy.Name = over(evidence.MaxNameLen) },
		"collector's org":         func(c *evidence.Collection) { c.CollectedBy.Organization = over(evidence.MaxNameLen) },
		"labels":                  func(c *evidence.Collection) { c.Labels = make([]string, evidence.MaxLabels+1) },
		"200,000 labels":          func(c *evidence.Collection) { c.Labels = make([]string, 200_000) },
		"one label":               func(c *evidence.Collection) { c.Labels = []string{over(evidence.MaxNameLen)} },
		"a label with a NUL byte": func(c *evidence.Collection) { c.Labels = []string{"a\x00"} },
		"a collection in year 10000": func(c *evidence.Collection) {
			c.CollectedAt = time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC)
		},
		"a collection in year -1": func(c *evidence.Collection) {
			c.CollectedAt = time.Date(-1, time.January, 1, 0, 0, 0, 0, time.UTC)
		},
		"a zone 99 hours east": func(c *evidence.Collection) {
			c.CollectedAt = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.FixedZone("", 99*60*60))
		},
		"a zone 30 seconds east": func(c *evidence.Collection) {
			c.CollectedAt = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.FixedZone("", 30))
		},
		"an actor's name": func(c *evidence.Collection) { c.Actor = evidence.Party{ID: "bob", Name: over(evidence.MaxNameLen)} },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			key, _, err := evidence.GenerateKey("custody.example.org")
			require.NoError(t, err)
			store := evidence.NewMemoryLedgerStore()
			ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: key})
			require.NoError(t, err)
			blobs := evidence.NewMemoryBlobs()
			locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
			require.NoError(t, err)
			col := evidence.Collection{Case: "INC-1", Name: "mail-gw.log", Content: strings.NewReader("content"),
				CollectedBy: evidence.Party{ID: "alice"}}
			edit(&col)
			_, err = locker.Collect(ctx, col)
			require.ErrorIs(t, err, evidence.ErrInvalid)
			n, err := store.Size(ctx, col.Case)
			require.NoError(t, err)
			assert.Zero(t, n, "no record")
			_, err = blobs.Stat(ctx, "ed7002b439e9ac845f22357d822bac1444730fbdb6016d3ec9432297b9ec9f73")
			assert.ErrorIs(t, err, evidence.ErrNotFound, "no content stored")
		})
	}
}

// TestRecordOverAnyMaximum checks a custody action with a field over its
// maximum is refused, and nothing appended.
func TestRecordOverAnyMaximum(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs()})
	require.NoError(t, err)
	alice := evidence.Party{ID: "alice"}
	it, err := locker.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "a.log", Content: strings.NewReader("a"), CollectedBy: alice})
	require.NoError(t, err)
	over := func(n int) string { return strings.Repeat("x", n+1) }
	for name, edit := range map[string]func(r *evidence.Record){
		"item ID":        func(r *evidence.Record) { r.Item = evidence.ItemID(over(evidence.MaxIDLen)) },
		"actor's ID":     func(r *evidence.Record) { r.Actor.ID = over(evidence.MaxIDLen) },
		"actor's name":   func(r *evidence.Record) { r.Actor.Name = over(evidence.MaxNameLen) },
		"from's org":     func(r *evidence.Record) { r.From.Organization = over(evidence.MaxNameLen) },
		"to's ID":        func(r *evidence.Record) { r.To.ID = over(evidence.MaxIDLen) },
		"authority":      func(r *evidence.Record) { r.Authority = over(evidence.MaxTextLen) },
		"location":       func(r *evidence.Record) { r.Location = over(evidence.MaxNameLen) },
		"reason":         func(r *evidence.Record) { r.Reason = over(evidence.MaxTextLen) },
		"tool":           func(r *evidence.Record) { r.Tool = over(evidence.MaxNameLen) },
		"notes":          func(r *evidence.Record) { r.Notes = over(evidence.MaxNotesLen) },
		"NUL in notes":   func(r *evidence.Record) { r.Notes = "a\x00b" },
		"NUL in a party": func(r *evidence.Record) { r.To.Name = "a\x00b" },
	} {
		r := evidence.Record{Case: "INC-1", Item: it.ID, Action: evidence.ActionTransferred, Actor: alice,
			From: alice, To: evidence.Party{ID: "bob"}, Reason: "lab"}
		edit(&r)
		_, err := locker.Record(ctx, r)
		require.ErrorIs(t, err, evidence.ErrInvalid, name)
		_, err = ledger.Append(ctx, r)
		require.ErrorIs(t, err, evidence.ErrInvalid, name)
		n, err := ledger.Store().Size(ctx, "INC-1")
		require.NoError(t, err)
		require.Equal(t, int64(1), n, "nothing appended for a record with a %s over its maximum", name)
	}
}

// TestNameIsNeverAPath collects evidence named like a path out of the blob
// directory: the name is kept as given, and nothing is written anywhere but
// under the content's digest.
func TestNameIsNeverAPath(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b", "blobs")
	blobs, err := evidence.NewDirBlobs(dir)
	require.NoError(t, err)
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	require.NoError(t, err)
	for _, name := range []string{"../../etc/passwd", "../../../x", "/etc/shadow", `..\..\boot.ini`} {
		it, err := locker.Collect(ctx, evidence.Collection{Case: "INC-1", Name: name, Content: strings.NewReader(name),
			CollectedBy: evidence.Party{ID: "alice"}})
		require.NoError(t, err)
		assert.Equal(t, name, it.Name, "the name is kept as given")
		got, err := locker.Item(ctx, "INC-1", it.ID)
		require.NoError(t, err)
		assert.Equal(t, name, got.Name)
	}
	var files []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	assert.Len(t, files, 4, "one blob per item")
	for _, f := range files {
		rel, err := filepath.Rel(dir, f)
		require.NoError(t, err)
		assert.False(t, strings.HasPrefix(rel, ".."), "%s is outside the blob directory", f)
		assert.NotContains(t, filepath.Base(f), "passwd")
	}
}

// TestSnapshotDigestsAndSizeAreChecked appends collected records whose
// snapshot has a digest over the limits (900 KB of text) or a negative
// size: each is refused, by the ledger and by a store's Append.Validate,
// and nothing is appended.
func TestSnapshotDigestsAndSizeAreChecked(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	store := evidence.NewMemoryLedgerStore()
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: key})
	require.NoError(t, err)
	at := time.Date(2026, time.March, 2, 9, 15, 0, 0, time.UTC)
	for name, edit := range map[string]func(it *evidence.Item){
		"a 900 KB SHA-1":  func(it *evidence.Item) { it.Digests.SHA1 = strings.Repeat("z", 900_000) },
		"an MD5 of 1 KB":  func(it *evidence.Item) { it.Digests.MD5 = strings.Repeat("ab", 512) },
		"a negative size": func(it *evidence.Item) { it.Size = -5 },
	} {
		it := evidence.Item{ID: "ITEM-1", CaseID: "INC-1", Name: "a.log", Kind: evidence.KindLog, Size: 1,
			Digests: evidence.Digests{SHA256: strings.Repeat("ab", 32)}, CollectedBy: evidence.Party{ID: "alice"}, CollectedAt: at}
		edit(&it)
		_, err := ledger.Append(ctx, evidence.Record{Case: "INC-1", Item: "ITEM-1", Action: evidence.ActionCollected,
			Actor: evidence.Party{ID: "alice"}, At: at, Snapshot: &it})
		require.ErrorIs(t, err, evidence.ErrInvalid, name)
		a := evidence.Append{Case: "INC-1", Item: "ITEM-1", NewItem: &it, Hashes: make([]evidence.Hash, 1),
			Data: []byte(`{"case":"INC-1","index":0,"item":"ITEM-1","prev":-1,"action":"collected",}`)}
		require.ErrorIs(t, a.Validate(), evidence.ErrInvalid, name)
		n, err := store.Size(ctx, "INC-1")
		require.NoError(t, err)
		require.Zero(t, n, "%s: nothing appended", name)
	}
}

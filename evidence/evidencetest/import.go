package evidencetest

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// testImportForeignKey imports into a store holding a case a copy of it
// signed again by another key of the same name, with a forged "disposed"
// record and planted content appended: it is refused, and the store and
// its content are as they were.
func (s ledgerSuite) testImportForeignKey(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	blobs, err := evidence.NewDirBlobs(filepath.Join(t.TempDir(), "evidence"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, blobs.Close()) })

	const c evidence.CaseID = "INC-2026-0042"
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	alice := evidence.Party{ID: "alice", Name: "Alice Moreau"}
	at := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs, Now: func() time.Time { return at }})
	require.NoError(t, err)
	it, err := locker.Collect(ctx, evidence.Collection{Case: c, Name: "fin-laptop-07.E01", Content: strings.NewReader("disk image"),
		CollectedBy: alice, CollectedAt: at})
	require.NoError(t, err)
	_, err = locker.Record(ctx, evidence.Record{Case: c, Item: it.ID, Action: evidence.ActionSealed, Actor: alice, At: at})
	require.NoError(t, err)
	_, err = ledger.Checkpoint(ctx, c)
	require.NoError(t, err)

	// The forger has a bundle of the case, and a key of the same name.
	var genuine bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &genuine, ledger, blobs, c, bundle.Options{IncludeBlobs: true}))
	fkey, fvkey, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	forger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: fkey})
	require.NoError(t, err)
	fblobs := evidence.NewMemoryBlobs()
	b, err := bundle.Read(ctx, bytes.NewReader(genuine.Bytes()), fblobs, bundle.Limits{})
	require.NoError(t, err)
	for _, data := range b.Records {
		r, err := evidence.DecodeRecord(data)
		require.NoError(t, err)
		_, err = forger.Append(ctx, r)
		require.NoError(t, err)
	}
	flocker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: forger, Blobs: fblobs, Now: func() time.Time { return at }})
	require.NoError(t, err)
	_, err = flocker.Record(ctx, evidence.Record{Case: c, Item: it.ID, Action: evidence.ActionDisposed, Actor: alice, At: at.Add(time.Hour)})
	require.NoError(t, err)
	planted, err := flocker.Collect(ctx, evidence.Collection{Case: c, Name: "planted.log", Content: strings.NewReader("planted"),
		CollectedBy: alice, CollectedAt: at})
	require.NoError(t, err)
	var forged bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &forged, forger, fblobs, c, bundle.Options{IncludeBlobs: true, Checkpoint: true}))

	size, err := st.Size(ctx, c)
	require.NoError(t, err)
	files := importDirFiles(t, blobs.Dir())
	_, err = bundle.Import(ctx, bytes.NewReader(forged.Bytes()), st, blobs, bundle.Trust{}, bundle.Limits{})
	require.ErrorIs(t, err, evidence.ErrConflict)
	var conflict *bundle.CaseConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, fvkey, conflict.BundleKey)
	assert.True(t, strings.HasPrefix(vkey, conflict.StoreKey+"+"), "the store's checkpoints are named as signed by %s", conflict.StoreKey)

	after, err := st.Size(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, size, after, "no record appended")
	assert.Equal(t, files, importDirFiles(t, blobs.Dir()), "no content, not even a temporary file, left")
	_, err = blobs.Stat(ctx, planted.Digests.SHA256)
	assert.ErrorIs(t, err, evidence.ErrNotFound)
	rep, err := locker.Verify(ctx, c)
	require.NoError(t, err)
	assert.NoError(t, rep.Err(), "the case verifies with the custodian's key")
}

// importDirFiles lists the files under dir with their sizes.
func importDirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, fmt.Sprintf("%s %d", path, fi.Size()))
		return nil
	})
	require.NoError(t, err)
	sort.Strings(files)
	return files
}

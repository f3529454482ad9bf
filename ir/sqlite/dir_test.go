package sqlite_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// openDir opens a setup in dir on a test clock and closes it when the test
// ends.
func openDir(t *testing.T, dir string) *sqlite.Dir {
	t.Helper()
	d, err := sqlite.OpenDir(t.Context(), dir, sqlite.DirConfig{Responder: ir.Config{Clock: irtest.NewClock(irtest.Epoch)}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close(context.Background())) })
	return d
}

func TestOpenDirCreatesAndReopens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "new", "incidentkit-data")
	d := openDir(t, dir)
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), "the directory is its owner's alone")
		fi, err = os.Stat(filepath.Join(dir, sqlite.DirKey))
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "the key file is its owner's alone")
	}
	keyBytes, err := os.ReadFile(filepath.Join(dir, sqlite.DirKey))
	require.NoError(t, err)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := d.Responder.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing", Severity: ir.SeverityHigh})
	require.NoError(t, err)
	_, err = d.Responder.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{Name: "mail-gw.log", Content: strings.NewReader("accepted")})
	require.NoError(t, err)
	_, err = d.Ledger.Checkpoint(ctx, inc.ID.Case())
	require.NoError(t, err)
	first := d.VerifierKey
	require.NotNil(t, d.Witness, "a witness is kept by default")
	assert.Equal(t, filepath.Join(dir, sqlite.DirWitness), d.Witness.Dir())
	held, err := d.Witness.Latest(ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(1), held.Size, "the collection was witnessed")
	require.NoError(t, d.Close(ctx))
	require.NoError(t, d.Close(ctx), "closing twice returns what the first close returned")

	again := openDir(t, dir)
	assert.Equal(t, first, again.VerifierKey, "the key made on the first open is reused")
	after, err := os.ReadFile(filepath.Join(dir, sqlite.DirKey))
	require.NoError(t, err)
	assert.Equal(t, keyBytes, after, "the key file is never rewritten")
	got, err := again.Responder.Get(ctx, inc.ID)
	require.NoError(t, err)
	assert.Len(t, got.Evidence, 1, "the incident is still there")
	rep, err := again.Locker.Verify(ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.NoError(t, rep.Err(), "the custody log and its checkpoint verify with the reused key")
	assert.Equal(t, 1, rep.Checkpoints)
}

func TestOpenDirRefuses(t *testing.T) {
	t.Parallel()
	key, _, err := evidence.GenerateKey("custody.test")
	require.NoError(t, err)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to open
		unix  bool
	}{
		{"a file where the directory should be", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "data")
			require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
			return p
		}, false},
		{"a key file readable by others", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, sqlite.DirKey)
			require.NoError(t, os.WriteFile(p, []byte(key.Reveal()+"\n"), 0o600))
			require.NoError(t, os.Chmod(p, 0o644))
			return dir
		}, true},
		{"a key file holding no key", func(t *testing.T, dir string) string {
			require.NoError(t, os.WriteFile(filepath.Join(dir, sqlite.DirKey), []byte("not a key\n"), 0o600))
			return dir
		}, false},
		{"an empty key file", func(t *testing.T, dir string) string {
			require.NoError(t, os.WriteFile(filepath.Join(dir, sqlite.DirKey), nil, 0o600))
			return dir
		}, false},
		{"a directory where the key file should be", func(t *testing.T, dir string) string {
			require.NoError(t, os.Mkdir(filepath.Join(dir, sqlite.DirKey), 0o700))
			return dir
		}, false},
		{"an empty path", func(*testing.T, string) string { return "" }, false},
		{"a directory others may write to", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "data")
			require.NoError(t, os.Mkdir(p, 0o700))
			require.NoError(t, os.Chmod(p, 0o777))
			return p
		}, true},
		{"a directory its group may write to", func(t *testing.T, dir string) string {
			require.NoError(t, os.Chmod(dir, 0o770))
			return dir
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.unix && runtime.GOOS == "windows" {
				t.Skip("no Unix permissions")
			}
			dir := t.TempDir()
			path := tc.setup(t, dir)
			before, _ := os.ReadFile(filepath.Join(dir, sqlite.DirKey))
			d, err := sqlite.OpenDir(t.Context(), path, sqlite.DirConfig{})
			require.ErrorIs(t, err, ir.ErrInvalid)
			assert.Nil(t, d)
			var de *sqlite.DirError
			require.ErrorAs(t, err, &de)
			requireNoKey(t, key, err.Error())
			after, _ := os.ReadFile(filepath.Join(dir, sqlite.DirKey))
			assert.Equal(t, before, after, "the key file is left as it was")
			_, err = os.Stat(filepath.Join(dir, sqlite.DirDatabase))
			assert.ErrorIs(t, err, fs.ErrNotExist, "no database is made in a directory refused")
		})
	}
	t.Run("set fields", func(t *testing.T) {
		t.Parallel()
		_, err := sqlite.OpenDir(t.Context(), t.TempDir(), sqlite.DirConfig{Responder: ir.Config{Store: ir.NewMemoryStore()}})
		assert.ErrorIs(t, err, ir.ErrInvalid)
	})
}

// requireNoKey checks that out shows nothing of key.
func requireNoKey(t *testing.T, key evidence.SigningKey, out string) {
	t.Helper()
	parts := strings.SplitN(key.Reveal(), "+", 5) // PRIVATE KEY name hash seed
	require.Len(t, parts, 5)
	require.NotContains(t, out, parts[4])
}

func TestOpenDirConcurrentFirstOpens(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	const n = 6
	dirs := make([]*sqlite.Dir, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dirs[i], errs[i] = sqlite.OpenDir(context.Background(), dir, sqlite.DirConfig{}) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for _, d := range dirs {
		assert.Equal(t, dirs[0].VerifierKey, d.VerifierKey, "every opener uses the one key saved")
		assert.NoError(t, d.Close(context.Background()))
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), ".key-"), "no temporary key file is left: %s", e.Name())
	}
}

// TestOpenDirRefusesALostKey opens a directory whose key file is gone
// while its database holds a custody log: a new key would sign nothing
// the old checkpoints verify against, so OpenDir refuses, saying to
// restore the key, and writes no new key. A directory whose database
// holds incidents but no custody log gets a new key.
func TestOpenDirRefusesALostKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data")
	d := openDir(t, dir)
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := d.Responder.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing", Severity: ir.SeverityHigh})
	require.NoError(t, err)
	require.NoError(t, d.Close(ctx))
	keyPath := filepath.Join(dir, sqlite.DirKey)
	require.NoError(t, os.Remove(keyPath))
	d = openDir(t, dir)
	assert.FileExists(t, keyPath, "no custody log yet: a new key is made")
	_, err = d.Responder.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{Name: "mail-gw.log", Content: strings.NewReader("accepted")})
	require.NoError(t, err)
	require.NoError(t, d.Close(ctx))

	require.NoError(t, os.Remove(keyPath))
	_, err = sqlite.OpenDir(ctx, dir, sqlite.DirConfig{})
	require.ErrorIs(t, err, ir.ErrInvalid)
	var de *sqlite.DirError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, keyPath, de.Path)
	assert.ErrorContains(t, err, "restore the key file from its backup")
	assert.NoFileExists(t, keyPath, "no new key is made")
}

// TestOpenDirTightensAnOpenDatabase opens a directory whose database file
// others may read: OpenDir makes it, and the files beside it, its owner's
// alone.
func TestOpenDirTightensAnOpenDatabase(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	t.Parallel()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data")
	d := openDir(t, dir)
	require.NoError(t, d.Close(ctx))
	db := filepath.Join(dir, sqlite.DirDatabase)
	require.NoError(t, os.Chmod(db, 0o644))
	d = openDir(t, dir)
	for _, name := range []string{db, db + "-wal", db + "-shm"} {
		fi, err := os.Stat(name)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "mode of %s", name)
	}
	require.NoError(t, d.Close(ctx))
}

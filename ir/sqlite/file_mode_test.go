package sqlite_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// openDirectory makes a directory others may read and list, as a home
// directory or /srv often is.
func openDirectory(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shared")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

// requireModes checks the permissions of the database at path and the
// files SQLite keeps beside it, those that are there.
func requireModes(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, want, fi.Mode().Perm(), "mode of the database")
	for _, side := range []string{"-wal", "-shm", "-journal"} {
		fi, err := os.Stat(path + side)
		if err != nil {
			require.ErrorIs(t, err, fs.ErrNotExist)
			continue
		}
		assert.Equal(t, want, fi.Mode().Perm(), "mode of %s", path+side)
	}
}

func TestOpenCreatesOwnerOnlyFiles(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	ctx := context.Background()
	dir := openDirectory(t)
	path := filepath.Join(dir, "new", "store.db")
	for round := range 2 {
		st, err := sqlite.Open(ctx, path, sqlite.Config{})
		require.NoError(t, err)
		inc := irtest.Incident(ir.ID("INC-00000" + string(rune('1'+round)))).Opened(irtest.Epoch).Build()
		require.NoError(t, st.Apply(ctx, irtest.OpenChange(inc)))
		for _, side := range []string{"", "-wal", "-shm"} {
			_, err := os.Stat(path + side)
			require.NoError(t, err, "%s is there while the store is open", path+side)
		}
		requireModes(t, path, 0o600)
		require.NoError(t, st.Close())
		requireModes(t, path, 0o600)
	}
	fi, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), "a missing parent directory is its owner's alone")
}

func TestOpenSideFilesFollowTheDatabase(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	ctx := context.Background()
	dir := openDirectory(t)

	// A database its owner shares with a group keeps its mode, and so do
	// the files beside it.
	shared := filepath.Join(dir, "shared.db")
	require.NoError(t, os.WriteFile(shared, nil, 0o640))
	require.NoError(t, os.Chmod(shared, 0o640))
	st, err := sqlite.Open(ctx, shared, sqlite.Config{})
	require.NoError(t, err)
	requireModes(t, shared, 0o640)
	require.NoError(t, st.Close())

	// Files beside an owner-only database left more open, by an earlier
	// version or by hand, are tightened.
	private := filepath.Join(dir, "private.db")
	st, err = sqlite.Open(ctx, private, sqlite.Config{})
	require.NoError(t, err)
	require.NoError(t, os.Chmod(private+"-shm", 0o644))
	require.NoError(t, os.Chmod(private+"-wal", 0o666))
	again, err := sqlite.Open(ctx, private, sqlite.Config{})
	require.NoError(t, err)
	requireModes(t, private, 0o600)
	require.NoError(t, again.Close())
	require.NoError(t, st.Close())
}

func TestOpenDirOwnerOnlyInsideOpenDirectory(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	ctx := context.Background()
	dir := openDirectory(t)
	d, err := sqlite.OpenDir(ctx, dir, sqlite.DirConfig{Responder: ir.Config{Clock: irtest.NewClock(irtest.Epoch)}})
	require.NoError(t, err)
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := d.Responder.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing", Severity: ir.SeverityHigh})
	require.NoError(t, err)
	_, err = d.Responder.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{Name: "mail-gw.log", Content: strings.NewReader("accepted")})
	require.NoError(t, err)
	requireOwnerOnly(t, dir)
	require.NoError(t, d.Close(ctx))
	requireOwnerOnly(t, dir)
}

// requireOwnerOnly checks that everything under dir, but dir itself, is its
// owner's alone: directories 0700, files 0600 (0400 for evidence, which is
// read-only).
func requireOwnerOnly(t *testing.T, dir string) {
	t.Helper()
	seen := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		require.NoError(t, err)
		if path == dir {
			return nil
		}
		fi, err := os.Lstat(path)
		require.NoError(t, err)
		seen++
		switch {
		case fi.IsDir():
			assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), "mode of %s", path)
		case fi.Mode().IsRegular() && strings.Contains(path, string(filepath.Separator)+sqlite.DirEvidence+string(filepath.Separator)) && !strings.Contains(path, "tmp"):
			assert.Equal(t, fs.FileMode(0o400), fi.Mode().Perm(), "mode of %s", path)
		case fi.Mode().IsRegular():
			assert.Zero(t, fi.Mode().Perm()&0o077, "mode of %s is %04o", path, fi.Mode().Perm())
		default:
			t.Errorf("%s is neither a file nor a directory: %v", path, fi.Mode())
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, seen, 5, "the database, its log, the key, the evidence and the witness")
}

func TestOpenDirModeErrorsSayHowToFix(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	ctx := context.Background()

	open := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.Mkdir(open, 0o700))
	require.NoError(t, os.Chmod(open, 0o777))
	_, err := sqlite.OpenDir(ctx, open, sqlite.DirConfig{})
	require.ErrorIs(t, err, ir.ErrInvalid)
	assert.Contains(t, err.Error(), "chmod go-w "+open)

	dir := t.TempDir()
	key, _, err := evidence.GenerateKey("custody.test")
	require.NoError(t, err)
	keyPath := filepath.Join(dir, sqlite.DirKey)
	require.NoError(t, os.WriteFile(keyPath, []byte(key.Reveal()+"\n"), 0o600))
	require.NoError(t, os.Chmod(keyPath, 0o644))
	_, err = sqlite.OpenDir(ctx, dir, sqlite.DirConfig{})
	require.ErrorIs(t, err, ir.ErrInvalid)
	var kfe *evidence.KeyFileError
	require.ErrorAs(t, err, &kfe)
	assert.Contains(t, err.Error(), "chmod 600 "+keyPath)
	requireNoKey(t, key, err.Error())
}

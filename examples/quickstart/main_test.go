package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// TestRunOwnerOnly runs the quickstart twice into a directory others may
// read, as a home directory often is, and checks that everything it keeps
// there is its owner's alone, and that a key file others may read is
// refused with a message saying how to fix it.
func TestRunOwnerOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "home")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))

	var out bytes.Buffer
	require.NoError(t, run(ctx, dir, &out))
	assert.Contains(t, out.String(), "is a new store")
	assert.Regexp(t, `Notifications: [1-9][0-9]* delivered to the log channel .*; [1-9][0-9]* phase changes held back by TLP`, out.String())
	requireOwnerOnly(t, dir)

	out.Reset()
	require.NoError(t, run(ctx, dir, &out))
	assert.Contains(t, out.String(), "custody verified", "the second run verifies the first run's custody")
	assert.NotContains(t, out.String(), "FAILED")
	requireOwnerOnly(t, dir)

	keyPath := filepath.Join(dir, sqlite.DirKey)
	key, err := evidence.LoadSigningKey(keyPath)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(keyPath, 0o644))
	err = run(ctx, dir, &out)
	require.ErrorIs(t, err, ir.ErrInvalid)
	assert.Contains(t, err.Error(), "chmod 600 "+keyPath, "the error says how to fix the key file")
	assert.NotContains(t, err.Error(), key.Reveal())
	assert.NotContains(t, out.String(), key.Reveal())
}

// requireOwnerOnly checks that everything under dir, but dir itself, is its
// owner's alone.
func requireOwnerOnly(t *testing.T, dir string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		require.NoError(t, err)
		if path == dir {
			return nil
		}
		fi, err := os.Lstat(path)
		require.NoError(t, err)
		if fi.IsDir() {
			assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), "mode of %s", path)
			return nil
		}
		require.True(t, fi.Mode().IsRegular(), "%s is a regular file", path)
		assert.Zero(t, fi.Mode().Perm()&0o077, "mode of %s is %04o", path, fi.Mode().Perm())
		files++
		return nil
	})
	require.NoError(t, err)
	for _, name := range []string{sqlite.DirDatabase, sqlite.DirKey, notificationsLog} {
		_, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
	}
	assert.Greater(t, files, 4, "the database, its log, the key, evidence files and a checkpoint")
}

package evidence_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

func TestSaveLoadSigningKey(t *testing.T) {
	t.Parallel()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "custody.key")
	require.NoError(t, evidence.SaveSigningKey(path, key))

	fi, err := os.Stat(path)
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		assert.Equal(t, evidence.KeyFileMode, fi.Mode().Perm(), "the key file is its owner's alone")
	}
	got, err := evidence.LoadSigningKey(path)
	require.NoError(t, err)
	assert.True(t, got.Equal(key), "the key loaded is the key saved")
	gotV, err := got.VerifierKey()
	require.NoError(t, err)
	assert.Equal(t, vkey, gotV)

	other, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	err = evidence.SaveSigningKey(path, other)
	require.ErrorIs(t, err, fs.ErrExist, "a key is never overwritten")
	var kfe *evidence.KeyFileError
	require.ErrorAs(t, err, &kfe)
	assert.Equal(t, path, kfe.Path)
	requireNoSecret(t, other.Reveal(), err.Error())
	again, err := evidence.LoadSigningKey(path)
	require.NoError(t, err)
	assert.True(t, again.Equal(key), "the first key is still there")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	assert.ErrorIs(t, evidence.SaveSigningKey(filepath.Join(t.TempDir(), "k"), evidence.SigningKey{}), evidence.ErrInvalid)
	_, err = evidence.LoadSigningKey(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.NotErrorIs(t, err, evidence.ErrInvalid)
}

func TestSaveSigningKeyConcurrently(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "custody.key")
	keys := make([]evidence.SigningKey, 8)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		var err error
		keys[i], _, err = evidence.GenerateKey("custody.example.org")
		require.NoError(t, err)
		wg.Go(func() { errs[i] = evidence.SaveSigningKey(path, keys[i]) })
	}
	wg.Wait()
	saved, err := evidence.LoadSigningKey(path)
	require.NoError(t, err)
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			assert.True(t, keys[i].Equal(saved), "the file holds the key of the one save that succeeded")
		} else {
			assert.ErrorIs(t, err, fs.ErrExist)
		}
	}
	assert.Equal(t, 1, won, "exactly one save succeeds")
}

func TestLoadSigningKeyRefuses(t *testing.T) {
	t.Parallel()
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		unix    bool // the check needs Unix permissions
	}{
		{"readable by the group", key.Reveal() + "\n", 0o640, true},
		{"readable by all", key.Reveal() + "\n", 0o644, true},
		{"writable by all", key.Reveal() + "\n", 0o602, true},
		{"empty", "", 0o600, false},
		{"not a key", "hello\n", 0o600, false},
		{"two lines", key.Reveal() + "\n" + key.Reveal() + "\n", 0o600, false},
		{"a carriage return", key.Reveal() + "\r\n", 0o600, false},
		{"a public key", "custody.example.org+00000000+AAAA\n", 0o600, false},
		{"too large", string(make([]byte, 8<<10)), 0o600, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.unix && runtime.GOOS == "windows" {
				t.Skip("no Unix permissions")
			}
			path := filepath.Join(t.TempDir(), "custody.key")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), tc.mode))
			require.NoError(t, os.Chmod(path, tc.mode))
			_, err := evidence.LoadSigningKey(path)
			require.ErrorIs(t, err, evidence.ErrInvalid)
			var kfe *evidence.KeyFileError
			require.ErrorAs(t, err, &kfe)
			assert.NotEmpty(t, kfe.Problem)
			if tc.unix {
				assert.Contains(t, err.Error(), "chmod 600 "+path, "the error says how to fix the file")
			}
			requireNoSecret(t, key.Reveal(), err.Error())
		})
	}
	t.Run("a directory", func(t *testing.T) {
		t.Parallel()
		_, err := evidence.LoadSigningKey(t.TempDir())
		assert.ErrorIs(t, err, evidence.ErrInvalid)
	})
}

func ExampleSaveSigningKey() {
	dir, err := os.MkdirTemp("", "custody")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "custody.key")

	key, vkey, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		panic(err)
	}
	if err := evidence.SaveSigningKey(path, key); err != nil {
		panic(err)
	}
	loaded, err := evidence.LoadSigningKey(path)
	if err != nil {
		panic(err)
	}
	loadedV, _ := loaded.VerifierKey()
	fmt.Println("same verifier key:", loadedV == vkey)
	fmt.Println("saved again:", evidence.SaveSigningKey(path, key) != nil)
	// Output:
	// same verifier key: true
	// saved again: true
}

package evidence_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// requireBlob checks that s holds content, as a regular read-only file
// that reads back whole and verified.
func requireBlob(t *testing.T, s *evidence.DirBlobs, content []byte) {
	t.Helper()
	digest := blobTestDigest(content)
	fi, err := os.Lstat(blobFile(s, digest))
	require.NoError(t, err)
	require.True(t, fi.Mode().IsRegular(), "the blob's path holds a regular file, not %v", fi.Mode())
	size, err := s.Stat(t.Context(), digest)
	require.NoError(t, err)
	assert.Equal(t, int64(len(content)), size)
	got, err := readAllTestBlob(t, s, digest)
	require.NoError(t, err)
	assert.Equal(t, content, got)
}

func TestDirBlobsRecollectOverCorruptedFile(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("the genuine content. "), 1000)
	for _, tc := range []struct {
		name   string
		change func(f *os.File)
	}{
		{"flipped byte", func(f *os.File) { _, _ = f.WriteAt([]byte{'!'}, 100) }},
		{"emptied", func(f *os.File) { _ = f.Truncate(0) }},
		{"extended", func(f *os.File) { _, _ = f.WriteAt([]byte("!"), int64(len(content))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestDirBlobs(t)
			digest := commitTestBlob(t, s, content)
			alterBlobFile(t, blobFile(s, digest), tc.change)
			_, err := readAllTestBlob(t, s, digest)
			require.ErrorIs(t, err, evidence.ErrTampered)

			// Collecting the genuine content again stores it: the
			// corrupted file is replaced, not kept.
			commitTestBlob(t, s, content)
			requireBlob(t, s, content)
			if runtime.GOOS != "windows" {
				fi, err := os.Stat(blobFile(s, digest))
				require.NoError(t, err)
				assert.Equal(t, fs.FileMode(0o400), fi.Mode().Perm())
			}
			assert.Empty(t, dirBlobsTempFiles(t, s))
		})
	}
}

func TestDirBlobsSymlinkAtBlobPath(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	content := []byte("evidence stored over a symbolic link")
	digest := blobTestDigest(content)
	outside := filepath.Join(t.TempDir(), "outside")
	require.NoError(t, os.WriteFile(outside, content, 0o600))
	for _, tc := range []struct {
		name, target string
	}{
		{"dangling", filepath.Join(t.TempDir(), "missing")},
		{"to a file outside the store", outside},
		{"to the genuine content outside the store", outside},
		{"relative, inside the store", "../../tmp/nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestDirBlobs(t)
			path := blobFile(s, digest)
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
			require.NoError(t, os.Symlink(tc.target, path))

			// A link is never read as the blob.
			_, err := s.Stat(t.Context(), digest)
			require.ErrorIs(t, err, evidence.ErrTampered)
			assert.Contains(t, err.Error(), "symbolic link")
			_, err = s.Open(t.Context(), digest)
			require.ErrorIs(t, err, evidence.ErrTampered)

			// Collecting the content replaces the link with the blob.
			commitTestBlob(t, s, content)
			requireBlob(t, s, content)
			got, err := os.ReadFile(outside)
			require.NoError(t, err)
			assert.Equal(t, content, got, "the link's target is left alone")
		})
	}
}

func TestDirBlobsFanOutDirReplacedBySymlink(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	content := []byte("evidence under a fan-out directory")
	digest := blobTestDigest(content)
	for _, level := range []int{1, 2} {
		for _, where := range []string{"outside", "inside"} {
			t.Run(fmt.Sprintf("level %d, link %s the store", level, where), func(t *testing.T) {
				t.Parallel()
				s := newTestDirBlobs(t)
				commitTestBlob(t, s, content)
				dir := filepath.Dir(blobFile(s, digest))
				if level == 1 {
					dir = filepath.Dir(dir)
				}
				// The directory is moved away and a link put in its
				// place, to a copy holding forged content under the
				// blob's name.
				target := filepath.Join(t.TempDir(), "forged")
				if where == "inside" {
					target = filepath.Join(s.Dir(), "ff")
				}
				moved := filepath.Join(t.TempDir(), "moved")
				require.NoError(t, os.Rename(dir, moved))
				forged := filepath.Join(target, digest)
				if level == 1 {
					forged = filepath.Join(target, digest[2:4], digest)
				}
				require.NoError(t, os.MkdirAll(filepath.Dir(forged), 0o700))
				require.NoError(t, os.WriteFile(forged, []byte("forged"), 0o400))
				require.NoError(t, os.Symlink(target, dir))

				_, err := s.Stat(t.Context(), digest)
				require.ErrorIs(t, err, evidence.ErrTampered)
				assert.Contains(t, err.Error(), "symbolic link")
				_, err = s.Open(t.Context(), digest)
				require.ErrorIs(t, err, evidence.ErrTampered)
				w, err := s.Create(t.Context())
				require.NoError(t, err)
				_, err = w.Write(content)
				require.NoError(t, err)
				err = w.Commit(t.Context(), digest)
				require.ErrorIs(t, err, evidence.ErrTampered, "a blob is never written through a link")
				got, err := os.ReadFile(forged)
				require.NoError(t, err)
				assert.Equal(t, []byte("forged"), got, "nothing is written where the link points")
				assert.Empty(t, dirBlobsTempFiles(t, s), "a refused commit leaves no temporary file")
			})
		}
	}
}

func TestDirBlobsTmpDirReplacedBySymlink(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	s := newTestDirBlobs(t)
	tmp := filepath.Join(s.Dir(), "tmp")
	require.NoError(t, os.Remove(tmp))
	elsewhere := t.TempDir()
	require.NoError(t, os.Symlink(elsewhere, tmp))
	_, err := s.Create(t.Context())
	require.ErrorIs(t, err, evidence.ErrTampered)
	_, err = evidence.NewDirBlobs(s.Dir())
	require.ErrorIs(t, err, evidence.ErrTampered)
	entries, err := os.ReadDir(elsewhere)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is written where the link points")
}

func TestDirBlobsRefusesDirOthersMayWrite(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	for _, tc := range []struct {
		mode    fs.FileMode
		refused bool
	}{
		{0o777, true},
		{0o770, true},
		{0o1777, true},
		{0o702, true},
		{0o755, false},
		{0o750, false},
		{0o700, false},
	} {
		t.Run(fmt.Sprintf("%04o", tc.mode), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "blobs")
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, tc.mode))
			s, err := evidence.NewDirBlobs(dir)
			if !tc.refused {
				require.NoError(t, err)
				require.NoError(t, s.Close())
				return
			}
			require.ErrorIs(t, err, evidence.ErrInvalid)
			var me *evidence.DirModeError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, dir, me.Path)
			assert.Equal(t, tc.mode.Perm(), me.Mode)
			assert.Contains(t, err.Error(), "chmod go-w "+dir, "the error says how to fix it")
			fi, err := os.Stat(dir)
			require.NoError(t, err)
			assert.Equal(t, tc.mode.Perm(), fi.Mode().Perm(), "the directory is left as it was")
			_, err = os.Stat(filepath.Join(dir, "tmp"))
			assert.ErrorIs(t, err, fs.ErrNotExist, "nothing is made in a directory refused")
		})
	}

	t.Run("made writable by others after opening", func(t *testing.T) {
		t.Parallel()
		s := newTestDirBlobs(t)
		require.NoError(t, os.Chmod(s.Dir(), 0o777))
		_, err := s.Create(t.Context())
		var me *evidence.DirModeError
		require.ErrorAs(t, err, &me)
		assert.Equal(t, s.Dir(), me.Path)
		assert.Contains(t, err.Error(), "chmod go-w "+s.Dir())
	})

	t.Run("fan-out directory", func(t *testing.T) {
		t.Parallel()
		s := newTestDirBlobs(t)
		content := []byte("under a directory others may write to")
		digest := commitTestBlob(t, s, content)
		fanOut := filepath.Dir(blobFile(s, digest))
		require.NoError(t, os.Chmod(fanOut, 0o777))
		_, err := s.Stat(t.Context(), digest)
		var me *evidence.DirModeError
		require.ErrorAs(t, err, &me)
		assert.Equal(t, fanOut, me.Path)
		w, err := s.Create(t.Context())
		require.NoError(t, err)
		_, _ = w.Write(content)
		require.ErrorIs(t, w.Commit(t.Context(), digest), evidence.ErrInvalid)
	})
}

func TestDirBlobsModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	// Inside a directory others may read, whatever the umask, what the
	// store creates is its owner's alone.
	parent := filepath.Join(t.TempDir(), "shared")
	require.NoError(t, os.Mkdir(parent, 0o755))
	require.NoError(t, os.Chmod(parent, 0o755))
	s, err := evidence.NewDirBlobs(filepath.Join(parent, "blobs"))
	require.NoError(t, err)
	defer s.Close()
	w, err := s.Create(t.Context())
	require.NoError(t, err)
	_, err = w.Write([]byte("pending"))
	require.NoError(t, err)
	for _, name := range dirBlobsTempFiles(t, s) {
		fi, err := os.Stat(filepath.Join(s.Dir(), "tmp", name))
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "a blob being written is its owner's alone")
	}
	require.NoError(t, w.Commit(t.Context(), blobTestDigest([]byte("pending"))))
	err = filepath.WalkDir(s.Dir(), func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		fi, err := d.Info()
		require.NoError(t, err)
		want := fs.FileMode(0o400)
		if d.IsDir() {
			want = 0o700
		}
		assert.Equal(t, want, fi.Mode().Perm(), "mode of %s", path)
		return nil
	})
	require.NoError(t, err)
}

func TestDirBlobsDirectoryAtBlobPath(t *testing.T) {
	t.Parallel()
	s := newTestDirBlobs(t)
	content := []byte("a directory sits where this blob goes")
	digest := blobTestDigest(content)
	require.NoError(t, os.MkdirAll(filepath.Join(blobFile(s, digest), "inside"), 0o700))
	_, err := s.Stat(t.Context(), digest)
	require.ErrorIs(t, err, evidence.ErrTampered)
	assert.False(t, errors.Is(err, evidence.ErrNotFound))
	w, err := s.Create(t.Context())
	require.NoError(t, err)
	_, _ = w.Write(content)
	require.ErrorIs(t, w.Commit(t.Context(), digest), evidence.ErrTampered)
	assert.Empty(t, dirBlobsTempFiles(t, s))
}

func TestDirBlobsConcurrentRecommits(t *testing.T) {
	t.Parallel()
	// Commits of the same content replace the blob's file while others
	// read it: every read sees the whole content, verified, and nothing
	// reads as tampered or missing.
	s := newTestDirBlobs(t)
	content := bytes.Repeat([]byte("the same evidence, collected again. "), 3000)
	digest := commitTestBlob(t, s, content)
	const writers, readers, rounds = 4, 4, 10
	errs := make(chan error, (writers+readers)*rounds)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range rounds {
				w, err := s.Create(t.Context())
				if err == nil {
					_, err = w.Write(content)
				}
				if err == nil {
					err = w.Commit(t.Context(), digest)
				}
				errs <- err
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range rounds {
				rc, err := s.Open(t.Context(), digest)
				if err != nil {
					errs <- err
					continue
				}
				got, err := io.ReadAll(rc)
				_ = rc.Close()
				if err == nil && !bytes.Equal(got, content) {
					err = errors.New("read something else than the content")
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireBlob(t, s, content)
	assert.Empty(t, dirBlobsTempFiles(t, s))
	assert.Equal(t, []string{blobFile(s, digest)}, dirBlobsFiles(t, s))
}

func TestLockerRecollectsOverCorruptedBlob(t *testing.T) {
	t.Parallel()
	// Through a locker: content collected again over its corrupted file is
	// stored, and the case verifies again, the first item included.
	ctx := t.Context()
	s := newTestDirBlobs(t)
	key, _ := custodyKey(t, "custody.example.org", 3)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: l, Blobs: s})
	require.NoError(t, err)
	const c = evidence.CaseID("CASE-RECOLLECT")
	first := collectAndRead(t, locker, c, 0)
	alterBlobFile(t, blobFile(s, first.Digests.SHA256), func(f *os.File) { _, _ = f.WriteAt([]byte("X"), 0) })
	rep, err := locker.Verify(ctx, c)
	require.NoError(t, err)
	require.ErrorIs(t, rep.Err(), evidence.ErrTampered, "the corrupted file is caught")

	second := collectAndRead(t, locker, c, 0)
	assert.Equal(t, first.Digests.SHA256, second.Digests.SHA256)
	rep, err = locker.Verify(ctx, c)
	require.NoError(t, err)
	assert.NoError(t, rep.Err(), "the genuine content is stored again, for both items")
}

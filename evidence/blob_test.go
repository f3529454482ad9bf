package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/evidencetest"
)

func TestDirBlobsConformance(t *testing.T) {
	t.Parallel()
	evidencetest.TestBlobStore(t, func(t *testing.T) evidence.BlobStore {
		return newTestDirBlobs(t)
	})
}

func TestMemoryBlobsConformance(t *testing.T) {
	t.Parallel()
	evidencetest.TestBlobStore(t, func(t *testing.T) evidence.BlobStore {
		return evidence.NewMemoryBlobs()
	})
}

func TestMemoryBlobsZeroValue(t *testing.T) {
	t.Parallel()
	var m evidence.MemoryBlobs
	digest := commitTestBlob(t, &m, []byte("zero value"))
	size, err := m.Stat(t.Context(), digest)
	require.NoError(t, err)
	assert.Equal(t, int64(len("zero value")), size)
}

func newTestDirBlobs(t *testing.T) *evidence.DirBlobs {
	t.Helper()
	s, err := evidence.NewDirBlobs(filepath.Join(t.TempDir(), "blobs"))
	require.NoError(t, err)
	return s
}

func blobTestDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// commitTestBlob stores content in s and returns its digest.
func commitTestBlob(t *testing.T, s evidence.BlobStore, content []byte) string {
	t.Helper()
	w, err := s.Create(t.Context())
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	digest := blobTestDigest(content)
	require.NoError(t, w.Commit(t.Context(), digest))
	return digest
}

// blobFile returns the path of the file holding a blob of s, as
// [evidence.DirBlobs] documents it.
func blobFile(s *evidence.DirBlobs, digest string) string {
	return filepath.Join(s.Dir(), digest[:2], digest[2:4], digest)
}

// readAllTestBlob opens a blob and reads it to its end, returning what was
// read and the error that ended it.
func readAllTestBlob(t *testing.T, s evidence.BlobStore, digest string) ([]byte, error) {
	t.Helper()
	rc, err := s.Open(t.Context(), digest)
	require.NoError(t, err)
	defer rc.Close()
	return io.ReadAll(rc)
}

// alterBlobFile makes a blob's file writable and changes it with change.
func alterBlobFile(t *testing.T, path string, change func(f *os.File)) {
	t.Helper()
	require.NoError(t, os.Chmod(path, 0o600))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	change(f)
	require.NoError(t, f.Close())
	require.NoError(t, os.Chmod(path, 0o400))
}

func TestDirBlobsTamperedBlob(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("evidence that must not change. "), 10_000)
	tests := []struct {
		name   string
		change func(t *testing.T, f *os.File)
		// altered is what the file holds after the change.
		altered func(content []byte) []byte
	}{
		{
			name: "flipped byte",
			change: func(t *testing.T, f *os.File) {
				b := []byte{content[12345] ^ 0x01}
				_, err := f.WriteAt(b, 12345)
				require.NoError(t, err)
			},
			altered: func(c []byte) []byte {
				c = bytes.Clone(c)
				c[12345] ^= 0x01
				return c
			},
		},
		{
			name:    "truncated",
			change:  func(t *testing.T, f *os.File) { require.NoError(t, f.Truncate(int64(len(content)-1))) },
			altered: func(c []byte) []byte { return c[:len(c)-1] },
		},
		{
			name:    "emptied",
			change:  func(t *testing.T, f *os.File) { require.NoError(t, f.Truncate(0)) },
			altered: func(c []byte) []byte { return nil },
		},
		{
			name: "extended",
			change: func(t *testing.T, f *os.File) {
				_, err := f.WriteAt([]byte("!"), int64(len(content)))
				require.NoError(t, err)
			},
			altered: func(c []byte) []byte { return append(bytes.Clone(c), '!') },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestDirBlobs(t)
			digest := commitTestBlob(t, s, content)
			alterBlobFile(t, blobFile(s, digest), func(f *os.File) { tc.change(t, f) })

			got, err := readAllTestBlob(t, s, digest)
			require.ErrorIs(t, err, evidence.ErrTampered)
			var te *evidence.TamperError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "blob", te.What)
			assert.Equal(t, digest, te.Expected)
			assert.Equal(t, blobTestDigest(tc.altered(content)), te.Found)
			assert.Equal(t, int64(-1), te.Record)
			assert.Contains(t, err.Error(), digest)
			assert.Equal(t, len(tc.altered(content)), len(got), "the reader hands out what it read")
		})
	}
}

func TestDirBlobsFiles(t *testing.T) {
	t.Parallel()
	s := newTestDirBlobs(t)
	content := []byte("a blob on disk")
	digest := commitTestBlob(t, s, content)

	path := blobFile(s, digest)
	fi, err := os.Stat(path)
	require.NoError(t, err, "the blob is at dir/ab/cd/abcd…")
	assert.Equal(t, int64(len(content)), fi.Size())
	if runtime.GOOS != "windows" {
		assert.Equal(t, fs.FileMode(0o400), fi.Mode().Perm(), "committed blobs are read-only")
		for _, dir := range []string{s.Dir(), filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
			di, err := os.Stat(dir)
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o700), di.Mode().Perm(), "mode of %s", dir)
		}
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, content, got)

	assert.Empty(t, dirBlobsTempFiles(t, s), "no temporary file is left after Commit")

	// Aborted, refused and cancelled writes leave nothing behind either.
	w, err := s.Create(t.Context())
	require.NoError(t, err)
	_, _ = w.Write([]byte("aborted"))
	require.NoError(t, w.Abort())
	w, err = s.Create(t.Context())
	require.NoError(t, err)
	_, _ = w.Write([]byte("refused"))
	require.ErrorIs(t, w.Commit(t.Context(), digest), evidence.ErrInvalid)
	commitTestBlob(t, s, content) // a second copy of the same blob
	assert.Empty(t, dirBlobsTempFiles(t, s))
	assert.Equal(t, []string{path}, dirBlobsFiles(t, s), "one file per blob")
}

// dirBlobsTempFiles lists the files in the store's tmp directory.
func dirBlobsTempFiles(t *testing.T, s *evidence.DirBlobs) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir(), "tmp"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// dirBlobsFiles lists the files of the store outside its tmp directory.
func dirBlobsFiles(t *testing.T, s *evidence.DirBlobs) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(s.Dir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tmp" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	require.NoError(t, err)
	return files
}

func TestDirBlobsLargeBlobSyncedAhead(t *testing.T) {
	t.Parallel()
	// Content larger than the amount a writer syncs ahead, written in
	// pieces of odd sizes.
	s := newTestDirBlobs(t)
	content := make([]byte, 20<<20+17)
	for i := range content {
		content[i] = byte(i*7 + i>>12)
	}
	w, err := s.Create(t.Context())
	require.NoError(t, err)
	for rest := content; len(rest) > 0; {
		n := min(len(rest), 300_007)
		_, err := w.Write(rest[:n])
		require.NoError(t, err)
		rest = rest[n:]
	}
	digest := blobTestDigest(content)
	require.NoError(t, w.Commit(t.Context(), digest))
	got, err := readAllTestBlob(t, s, digest)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(content, got))
}

func TestDirBlobsCrashLeftovers(t *testing.T) {
	t.Parallel()
	s := newTestDirBlobs(t)
	ctx := t.Context()

	// A writer that never commits or aborts stands for one whose process
	// crashed: its temporary file stays, and is never read as a blob.
	content := []byte("half written")
	w, err := s.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	leftovers := dirBlobsTempFiles(t, s)
	require.Len(t, leftovers, 1)
	_, err = s.Stat(ctx, blobTestDigest(content))
	require.ErrorIs(t, err, evidence.ErrNotFound)

	// A store opened again on the directory works and sees no blob.
	again, err := evidence.NewDirBlobs(s.Dir())
	require.NoError(t, err)
	_, err = again.Stat(ctx, blobTestDigest(content))
	require.ErrorIs(t, err, evidence.ErrNotFound)
	assert.Equal(t, leftovers, dirBlobsTempFiles(t, again), "opening removes nothing")

	// RemoveTemp leaves files written to recently, then deletes old ones.
	n, err := again.RemoveTemp(ctx, time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Len(t, dirBlobsTempFiles(t, again), 1)

	old := time.Now().Add(-2 * time.Hour)
	tmp := filepath.Join(s.Dir(), "tmp", leftovers[0])
	require.NoError(t, os.Chtimes(tmp, old, old))
	n, err = again.RemoveTemp(ctx, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Empty(t, dirBlobsTempFiles(t, again))

	// The crashed writer's Abort still succeeds.
	assert.NoError(t, w.Abort())

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = again.RemoveTemp(cancelled, 0)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNewDirBlobs(t *testing.T) {
	t.Parallel()
	_, err := evidence.NewDirBlobs("")
	require.ErrorIs(t, err, evidence.ErrInvalid)

	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := evidence.NewDirBlobs(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, s.Dir())
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	if runtime.GOOS != "windows" {
		assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())
	}

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = evidence.NewDirBlobs(file)
	require.Error(t, err, "a file is not a directory")
	assert.True(t, strings.HasPrefix(err.Error(), "evidence: "), err.Error())
}

func TestDirBlobsForeignFile(t *testing.T) {
	t.Parallel()
	// A directory sitting where a blob would be is not a blob.
	s := newTestDirBlobs(t)
	digest := blobTestDigest([]byte("not a file"))
	require.NoError(t, os.MkdirAll(blobFile(s, digest), 0o700))
	_, err := s.Stat(t.Context(), digest)
	require.Error(t, err)
	assert.False(t, errors.Is(err, evidence.ErrNotFound))
}

func TestNewVerifyingReader(t *testing.T) {
	t.Parallel()
	content := []byte("verified as it is read")
	digest := blobTestDigest(content)

	got, err := io.ReadAll(evidence.NewVerifyingReader(io.NopCloser(bytes.NewReader(content)), digest))
	require.NoError(t, err)
	assert.Equal(t, content, got)

	other := []byte("something else entirely")
	_, err = io.ReadAll(evidence.NewVerifyingReader(io.NopCloser(bytes.NewReader(other)), digest))
	var te *evidence.TamperError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, evidence.TamperError{Record: -1, What: "blob", Expected: digest, Found: blobTestDigest(other)}, *te)

	// Errors other than the end are passed on unverified.
	boom := errors.New("disk on fire")
	r := evidence.NewVerifyingReader(io.NopCloser(io.MultiReader(bytes.NewReader(content[:5]), blobErrReader{boom})), digest)
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, boom)
	assert.False(t, errors.Is(err, evidence.ErrTampered))

	closed := &blobCloseRecorder{Reader: bytes.NewReader(content)}
	require.NoError(t, evidence.NewVerifyingReader(closed, digest).Close())
	assert.True(t, closed.closed, "Close closes the underlying reader")
}

type blobErrReader struct{ err error }

func (r blobErrReader) Read([]byte) (int, error) { return 0, r.err }

type blobCloseRecorder struct {
	io.Reader
	closed bool
}

func (c *blobCloseRecorder) Close() error {
	c.closed = true
	return nil
}

func ExampleDirBlobs() {
	dir, err := os.MkdirTemp("", "evidence-blobs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := evidence.NewDirBlobs(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	content := strings.NewReader("Mar  2 09:14:07 mail-gw postfix/smtpd: reject: RCPT from unknown\n")
	res, err := evidence.Ingest(ctx, store, content, evidence.IngestOptions{MD5: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("size:", res.Size)
	fmt.Println("sha256:", res.Digests.SHA256)
	fmt.Println("md5:", res.Digests.MD5)

	// Reading a blob checks it again: a changed blob ends with an error
	// matching evidence.ErrTampered instead of io.EOF.
	rc, err := store.Open(ctx, res.Digests.SHA256)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	fmt.Println("read back:", n, "bytes, error:", err)

	_, err = store.Open(ctx, "../../etc/passwd")
	fmt.Println("path refused:", errors.Is(err, evidence.ErrInvalid))
	// Output:
	// size: 65
	// sha256: 6da0fe6f62fe5bd58880ae8891d169962d431d9f885b4fe37838504584f044f3
	// md5: 295633f40f5f1614c85947d4194ecb7d
	// read back: 65 bytes, error: <nil>
	// path refused: true
}

func TestDirBlobsPreparedLeavesNothing(t *testing.T) {
	t.Parallel()
	s := newTestDirBlobs(t)
	ctx := t.Context()
	prepare := func(content []byte) evidence.BlobPreparer {
		t.Helper()
		w, err := s.Create(ctx)
		require.NoError(t, err)
		p, ok := w.(evidence.BlobPreparer)
		require.True(t, ok, "a DirBlobs writer is a BlobPreparer")
		_, err = p.Write(content)
		require.NoError(t, err)
		require.NoError(t, p.Prepare(ctx, blobTestDigest(content)))
		return p
	}

	// A prepared blob waits in the tmp directory, outside the blobs.
	kept, dropped := []byte("prepared and committed"), []byte("prepared and aborted")
	pk, pd := prepare(kept), prepare(dropped)
	assert.Len(t, dirBlobsTempFiles(t, s), 2)
	assert.Empty(t, dirBlobsFiles(t, s), "nothing prepared is among the blobs")

	// Aborted, it leaves no file; committed, it is the only file.
	require.NoError(t, pd.Abort())
	require.NoError(t, pk.Commit(ctx, blobTestDigest(kept)))
	assert.Empty(t, dirBlobsTempFiles(t, s), "no temporary file remains")
	d := blobTestDigest(kept)
	assert.Equal(t, []string{filepath.Join(s.Dir(), d[:2], d[2:4], d)}, dirBlobsFiles(t, s))

	// A refused Prepare or Commit leaves no file either.
	w, err := s.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write([]byte("misnamed"))
	require.NoError(t, err)
	require.ErrorIs(t, w.(evidence.BlobPreparer).Prepare(ctx, blobTestDigest(kept)), evidence.ErrInvalid)
	p := prepare(dropped)
	require.ErrorIs(t, p.Commit(ctx, blobTestDigest(kept)), evidence.ErrInvalid)
	assert.Empty(t, dirBlobsTempFiles(t, s), "no temporary file remains")
	assert.Len(t, dirBlobsFiles(t, s), 1)
}

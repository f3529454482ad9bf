package evidence

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ingestTestBlock is the pseudo-random content generated readers repeat.
// Its odd length keeps its repeats off chunk boundaries.
var ingestTestBlock = func() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 1<<20+7)
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b
}()

// ingestTestReader generates size bytes of content that differs with
// seed, in constant memory and about as fast as memory copies.
type ingestTestReader struct {
	size, off int64
	seed      uint64
}

func newIngestTestReader(size int64, seed uint64) *ingestTestReader {
	return &ingestTestReader{size: size, seed: seed}
}

func (r *ingestTestReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.off)]
	n := 0
	for n < len(p) {
		i := int(r.off % int64(len(ingestTestBlock)))
		m := copy(p[n:], ingestTestBlock[i:])
		if i == 0 {
			// Mark each repeat of the block with the seed, so that
			// contents with different seeds differ throughout.
			for j := range min(m, 8) {
				p[n+j] ^= byte(r.seed >> (8 * j))
			}
		}
		n += m
		r.off += int64(m)
	}
	return n, nil
}

// ingestTestContent returns the content a generated reader makes.
func ingestTestContent(t *testing.T, size int64, seed uint64) []byte {
	t.Helper()
	b, err := io.ReadAll(newIngestTestReader(size, seed))
	require.NoError(t, err)
	return b
}

// ingestExpected returns the digests of content computed directly.
func ingestExpected(content []byte) Digests {
	s256 := sha256.Sum256(content)
	s1 := sha1.Sum(content)
	m5 := md5.Sum(content)
	return Digests{
		SHA256: hex.EncodeToString(s256[:]),
		SHA1:   hex.EncodeToString(s1[:]),
		MD5:    hex.EncodeToString(m5[:]),
	}
}

// opaqueBlobs hides the writers of the store it wraps behind the
// BlobWriter interface alone, as a store from another package would be,
// so that Ingest hashes SHA-256 itself. It can also be told to fail.
type opaqueBlobs struct {
	BlobStore
	// failWriteAfter, if positive, makes writes fail once that many
	// bytes have been written.
	failWriteAfter int64
	createErr      error
	commitErr      error
	// gate, if not nil, holds every write until it is closed.
	gate chan struct{}

	mu        sync.Mutex
	aborted   int
	committed int
}

var errIngestTestStore = errors.New("test store failed")

func (o *opaqueBlobs) Create(ctx context.Context) (BlobWriter, error) {
	if o.createErr != nil {
		return nil, o.createErr
	}
	w, err := o.BlobStore.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &opaqueBlobWriter{o: o, w: w}, nil
}

type opaqueBlobWriter struct {
	o       *opaqueBlobs
	w       BlobWriter
	written int64
}

func (w *opaqueBlobWriter) Write(p []byte) (int, error) {
	if w.o.gate != nil {
		<-w.o.gate
	}
	if w.o.failWriteAfter > 0 && w.written+int64(len(p)) > w.o.failWriteAfter {
		return 0, errIngestTestStore
	}
	n, err := w.w.Write(p)
	w.written += int64(n)
	return n, err
}

func (w *opaqueBlobWriter) Commit(ctx context.Context, sha256hex string) error {
	if w.o.commitErr != nil {
		_ = w.w.Abort()
		return w.o.commitErr
	}
	err := w.w.Commit(ctx, sha256hex)
	if err == nil {
		w.o.mu.Lock()
		w.o.committed++
		w.o.mu.Unlock()
	}
	return err
}

func (w *opaqueBlobWriter) Abort() error {
	w.o.mu.Lock()
	w.o.aborted++
	w.o.mu.Unlock()
	return w.w.Abort()
}

// ingestTestStores are the stores Ingest is tested against, each with a
// function that counts the blobs and temporary files it holds.
func ingestTestStores() map[string]func(t *testing.T) (BlobStore, func() int) {
	return map[string]func(t *testing.T) (BlobStore, func() int){
		"memory": func(t *testing.T) (BlobStore, func() int) {
			m := NewMemoryBlobs()
			return m, func() int { return memBlobsCount(m) }
		},
		"dir": func(t *testing.T) (BlobStore, func() int) {
			d, err := NewDirBlobs(t.TempDir())
			require.NoError(t, err)
			return d, func() int { return dirBlobsCount(t, d) }
		},
		"opaque": func(t *testing.T) (BlobStore, func() int) {
			m := NewMemoryBlobs()
			return &opaqueBlobs{BlobStore: m}, func() int { return memBlobsCount(m) }
		},
	}
}

func memBlobsCount(m *MemoryBlobs) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.blobs)
}

// dirBlobsCount counts the files under the store's directory: blobs and
// temporary files alike.
func dirBlobsCount(t *testing.T, d *DirBlobs) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(d.dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return err
	})
	require.NoError(t, err)
	return n
}

func TestIngestDigests(t *testing.T) {
	t.Parallel()
	sizes := []int64{
		0, 1, 2, 1000,
		ingestChunkSize - 1, ingestChunkSize, ingestChunkSize + 1,
		2*ingestChunkSize - 1, 2 * ingestChunkSize, 2*ingestChunkSize + 1,
		ingestBuffers*ingestChunkSize + 1, 5<<20 + 12345,
	}
	for name, newStore := range ingestTestStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, size := range sizes {
				t.Run(fmt.Sprint(size), func(t *testing.T) {
					store, count := newStore(t)
					content := ingestTestContent(t, size, uint64(size))
					want := ingestExpected(content)

					res, err := Ingest(t.Context(), store, bytes.NewReader(content), IngestOptions{SHA1: true, MD5: true})
					require.NoError(t, err)
					assert.Equal(t, want, res.Digests)
					assert.Equal(t, size, res.Size)
					require.NoError(t, res.Digests.Validate())

					stored, err := store.Stat(t.Context(), want.SHA256)
					require.NoError(t, err)
					assert.Equal(t, size, stored)
					rc, err := store.Open(t.Context(), want.SHA256)
					require.NoError(t, err)
					got, err := io.ReadAll(rc)
					require.NoError(t, err)
					require.NoError(t, rc.Close())
					assert.True(t, bytes.Equal(content, got), "blob read back differs")
					assert.Equal(t, 1, count())
				})
			}
		})
	}
}

func TestIngestDigestsAsked(t *testing.T) {
	t.Parallel()
	content := []byte("only the digests asked for")
	all := ingestExpected(content)
	for _, tc := range []struct {
		opts IngestOptions
		want Digests
	}{
		{IngestOptions{}, Digests{SHA256: all.SHA256}},
		{IngestOptions{SHA1: true}, Digests{SHA256: all.SHA256, SHA1: all.SHA1}},
		{IngestOptions{MD5: true}, Digests{SHA256: all.SHA256, MD5: all.MD5}},
		{IngestOptions{SHA1: true, MD5: true}, all},
	} {
		for name, newStore := range ingestTestStores() {
			store, _ := newStore(t)
			res, err := Ingest(t.Context(), store, bytes.NewReader(content), tc.opts)
			require.NoError(t, err, name)
			assert.Equal(t, tc.want, res.Digests, "%s, %+v", name, tc.opts)
		}
	}
}

func TestIngestReaders(t *testing.T) {
	t.Parallel()
	content := ingestTestContent(t, 3*ingestChunkSize+77, 9)
	want := ingestExpected(content)
	readers := map[string]func() io.Reader{
		"one byte at a time": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(content[:100_000])) },
		"half reads":         func() io.Reader { return iotest.HalfReader(bytes.NewReader(content)) },
		"data with EOF":      func() io.Reader { return iotest.DataErrReader(bytes.NewReader(content)) },
		"pieces":             func() io.Reader { return io.MultiReader(bytes.NewReader(content[:5]), bytes.NewReader(content[5:])) },
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := Ingest(t.Context(), NewMemoryBlobs(), r(), IngestOptions{SHA1: true, MD5: true})
			require.NoError(t, err)
			if name == "one byte at a time" {
				assert.Equal(t, ingestExpected(content[:100_000]), res.Digests)
				return
			}
			assert.Equal(t, want, res.Digests)
			assert.Equal(t, int64(len(content)), res.Size)
		})
	}
}

func TestIngestExistingBlob(t *testing.T) {
	t.Parallel()
	store, err := NewDirBlobs(t.TempDir())
	require.NoError(t, err)
	content := ingestTestContent(t, 100_000, 3)
	first, err := Ingest(t.Context(), store, bytes.NewReader(content), IngestOptions{})
	require.NoError(t, err)
	second, err := Ingest(t.Context(), store, bytes.NewReader(content), IngestOptions{})
	require.NoError(t, err)
	assert.Equal(t, first, second)
	assert.Equal(t, 1, dirBlobsCount(t, store))
}

func TestIngestProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		size, every int64
		want        []int64
	}{
		{0, 0, []int64{0}},
		{10, 0, []int64{10}},
		{20 << 20, 0, []int64{8 << 20, 16 << 20, 20 << 20}},
		{16 << 20, 0, []int64{8 << 20, 16 << 20}},
		{5<<20 + 3, 2 << 20, []int64{2 << 20, 4 << 20, 5<<20 + 3}},
		// Progress comes a chunk at a time, so less often than asked
		// if every is less than a chunk.
		{3*ingestChunkSize + 1, 1000, []int64{ingestChunkSize, 2 * ingestChunkSize, 3 * ingestChunkSize, 3*ingestChunkSize + 1}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.size, "/", tc.every), func(t *testing.T) {
			t.Parallel()
			// The callback is never called concurrently, so needs no
			// lock; the race detector checks that.
			var got []int64
			res, err := Ingest(t.Context(), NewMemoryBlobs(), newIngestTestReader(tc.size, 1), IngestOptions{
				ProgressEvery: tc.every,
				Progress:      func(n int64) { got = append(got, n) },
			})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.size, res.Size)
			for i := 1; i < len(got); i++ {
				assert.Greater(t, got[i], got[i-1], "progress only goes forward")
			}
		})
	}
}

func TestIngestMaxSize(t *testing.T) {
	t.Parallel()
	for name, newStore := range ingestTestStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				size, max int64
				ok        bool
			}{
				{0, 1, true},
				{10, 10, true},
				{11, 10, false},
				{ingestChunkSize, ingestChunkSize, true},
				{ingestChunkSize + 1, ingestChunkSize, false},
				{3 * ingestChunkSize, ingestChunkSize + 1, false},
				{3 * ingestChunkSize, 0, true},
			} {
				store, count := newStore(t)
				var progress []int64
				res, err := Ingest(t.Context(), store, newIngestTestReader(tc.size, 5), IngestOptions{
					MaxSize:  tc.max,
					Progress: func(n int64) { progress = append(progress, n) },
				})
				if tc.ok {
					require.NoError(t, err, "size %d, max %d", tc.size, tc.max)
					assert.Equal(t, tc.size, res.Size)
					assert.Equal(t, 1, count())
					continue
				}
				require.ErrorIs(t, err, ErrInvalid, "size %d, max %d", tc.size, tc.max)
				assert.Contains(t, err.Error(), fmt.Sprint(tc.max))
				assert.Zero(t, res)
				assert.Zero(t, count(), "nothing stored for size %d, max %d", tc.size, tc.max)
				for _, n := range progress {
					assert.LessOrEqual(t, n, tc.max, "no progress reported past the maximum")
				}
			}
		})
	}
}

func TestIngestInvalidOptions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := NewMemoryBlobs()
	r := strings.NewReader("x")
	for name, call := range map[string]func() error{
		"no store":       func() error { _, err := Ingest(ctx, nil, r, IngestOptions{}); return err },
		"no reader":      func() error { _, err := Ingest(ctx, store, nil, IngestOptions{}); return err },
		"negative max":   func() error { _, err := Ingest(ctx, store, r, IngestOptions{MaxSize: -1}); return err },
		"negative every": func() error { _, err := Ingest(ctx, store, r, IngestOptions{ProgressEvery: -1}); return err },
	} {
		err := call()
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
	assert.Zero(t, memBlobsCount(store))
}

// ingestGoroutines returns the stacks of goroutines that belong to ingest
// or to a blob writer.
func ingestGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var ours []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "evidence.(*ingestPipeline)") || strings.Contains(g, "evidence.(*dirBlobWriter)") {
			ours = append(ours, g)
		}
	}
	return ours
}

// requireNoIngestLeak fails the test unless, after a short settling time,
// no goroutine of ingest is left and no more goroutines run than before.
func requireNoIngestLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := ingestGoroutines()
		now := runtime.NumGoroutine()
		if len(left) == 0 && now <= before {
			return
		}
		if time.Now().After(deadline) {
			require.Empty(t, left, "goroutines of ingest left running")
			require.LessOrEqual(t, now, before, "goroutines left running")
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cancellingReader generates content and, once it has handed out after
// bytes, cancels a context before its next read returns.
type cancellingReader struct {
	r      io.Reader
	read   int64
	after  int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.read >= c.after {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

// These tests are not parallel: they count the goroutines of the whole
// test binary.

func TestIngestCancelled(t *testing.T) {
	for name, newStore := range ingestTestStores() {
		t.Run(name, func(t *testing.T) {
			store, count := newStore(t)
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &cancellingReader{r: newIngestTestReader(64<<20, 1), after: 3*ingestChunkSize + 10, cancel: cancel}
			res, err := Ingest(ctx, store, r, IngestOptions{SHA1: true, MD5: true})
			require.ErrorIs(t, err, context.Canceled)
			assert.True(t, strings.HasPrefix(err.Error(), "evidence: "), err.Error())
			assert.Zero(t, res)
			assert.Less(t, r.read, int64(8*ingestChunkSize), "ingest stops reading soon after the cancellation")
			assert.Zero(t, count(), "nothing committed, no temporary file left")
			requireNoIngestLeak(t, before)
		})
	}
}

func TestIngestCancelledBeforeStart(t *testing.T) {
	for name, newStore := range ingestTestStores() {
		store, count := newStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := Ingest(ctx, store, strings.NewReader("never read"), IngestOptions{})
		require.ErrorIs(t, err, context.Canceled, name)
		assert.Zero(t, count(), name)
	}
}

func TestIngestCancelledWhileWriting(t *testing.T) {
	// The store holds every write until released, so the reader runs out
	// of free chunks and waits; the cancellation must reach it there.
	before := runtime.NumGoroutine()
	mem := NewMemoryBlobs()
	store := &opaqueBlobs{BlobStore: mem, gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	filled := make(chan struct{})
	r := &signallingReader{r: newIngestTestReader(64<<20, 2), after: ingestBuffers * ingestChunkSize, signal: filled}
	done := make(chan error, 1)
	go func() {
		_, err := Ingest(ctx, store, r, IngestOptions{MD5: true})
		done <- err
	}()
	<-filled
	cancel()
	close(store.gate)
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, memBlobsCount(mem))
	assert.Equal(t, 1, store.aborted)
	assert.Zero(t, store.committed)
	assert.Equal(t, int64(ingestBuffers*ingestChunkSize), r.read, "no chunk is read without a free buffer")
	requireNoIngestLeak(t, before)
}

// signallingReader closes signal once it has handed out after bytes.
type signallingReader struct {
	r      io.Reader
	read   int64
	after  int64
	signal chan struct{}
}

func (s *signallingReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.read += int64(n)
	if s.read >= s.after && s.signal != nil {
		close(s.signal)
		s.signal = nil
	}
	return n, err
}

// failingReader hands out some content, then fails.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestIngestReaderFails(t *testing.T) {
	boom := errors.New("device gone")
	for name, newStore := range ingestTestStores() {
		t.Run(name, func(t *testing.T) {
			for _, size := range []int64{0, 10, ingestChunkSize, 5*ingestChunkSize + 1} {
				store, count := newStore(t)
				before := runtime.NumGoroutine()
				r := &failingReader{r: newIngestTestReader(size, 4), err: boom}
				res, err := Ingest(t.Context(), store, r, IngestOptions{SHA1: true, MD5: true})
				require.ErrorIs(t, err, boom, "after %d bytes", size)
				assert.Contains(t, err.Error(), "evidence: ingest: read: device gone")
				assert.Zero(t, res)
				assert.Zero(t, count(), "nothing committed after %d bytes", size)
				requireNoIngestLeak(t, before)
			}
		})
	}
}

// stuckReader returns nothing, and no error, for ever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestIngestReaderMakesNoProgress(t *testing.T) {
	t.Parallel()
	store := NewMemoryBlobs()
	_, err := Ingest(t.Context(), store, stuckReader{}, IngestOptions{})
	require.ErrorIs(t, err, io.ErrNoProgress)
	assert.Zero(t, memBlobsCount(store))
}

func TestIngestStoreFails(t *testing.T) {
	content := ingestTestContent(t, 6*ingestChunkSize+5, 6)
	for _, tc := range []struct {
		name  string
		store *opaqueBlobs
	}{
		{"create", &opaqueBlobs{createErr: errIngestTestStore}},
		{"first write", &opaqueBlobs{failWriteAfter: 1}},
		{"later write", &opaqueBlobs{failWriteAfter: 3 * ingestChunkSize}},
		{"commit", &opaqueBlobs{commitErr: errIngestTestStore}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			mem := NewMemoryBlobs()
			tc.store.BlobStore = mem
			res, err := Ingest(t.Context(), tc.store, bytes.NewReader(content), IngestOptions{SHA1: true})
			require.ErrorIs(t, err, errIngestTestStore)
			assert.True(t, strings.HasPrefix(err.Error(), "evidence: ingest: "), err.Error())
			assert.Zero(t, res)
			assert.Zero(t, memBlobsCount(mem))
			assert.Zero(t, tc.store.committed)
			if tc.name != "create" {
				assert.Equal(t, 1, tc.store.aborted, "the writer is aborted")
			}
			requireNoIngestLeak(t, before)
		})
	}
}

func TestIngestDirBlobsFailure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("removing a directory with open files fails on Windows")
	}
	// The store's tmp directory disappears while ingesting: the commit
	// fails, and nothing is stored.
	store, err := NewDirBlobs(t.TempDir())
	require.NoError(t, err)
	r := &cancellingReader{r: newIngestTestReader(4*ingestChunkSize, 8), after: ingestChunkSize, cancel: func() {
		_ = os.RemoveAll(filepath.Join(store.dir, dirBlobsTmp))
	}}
	_, err = Ingest(t.Context(), store, r, IngestOptions{})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "evidence: ingest: "), err.Error())
	assert.Zero(t, dirBlobsCount(t, store))
}

// TestIngestConstantMemory checks ingest holds a few fixed buffers however
// much it reads: the bytes it allocates, not a time, are measured.
func TestIngestConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 256 MiB")
	}
	store, err := NewDirBlobs(t.TempDir())
	require.NoError(t, err)
	const size = 256 << 20
	allocated, _ := ingestAllocated(t, store, size)
	t.Logf("ingesting %d MiB allocated %.2f MiB", size>>20, float64(allocated)/(1<<20))
	assert.LessOrEqual(t, allocated, uint64(16<<20), "ingest allocates a bounded amount, whatever the size")
}

// ingestAllocated returns how many bytes of heap a process allocates while
// ingesting size bytes into store, with every digest, and the digest of
// the blob.
func ingestAllocated(tb testing.TB, store BlobStore, size int64) (allocated uint64, digest string) {
	tb.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Ingest(tb.Context(), store, newIngestTestReader(size, 7), IngestOptions{SHA1: true, MD5: true})
	runtime.ReadMemStats(&after)
	require.NoError(tb, err)
	require.Equal(tb, size, res.Size)
	return after.TotalAlloc - before.TotalAlloc, res.Digests.SHA256
}

package evidencetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

// TestBlobStore checks that the stores newStore makes keep the contract of
// [evidence.BlobStore]: blobs read back as written and are verified as
// they are read; Stat gives their size; unknown blobs are not found; any
// digest but 64 lower-case hex digits (a path, upper case, the wrong
// length) is refused; blobs are written once; a commit under the wrong
// digest, an abort and a cancelled context store nothing; concurrent
// writers of the same and of different blobs all succeed; and, if the
// store's writers are [evidence.BlobPreparer]s, that a prepared blob stays
// unseen until it is committed, and an aborted one leaves nothing.
//
// newStore must return a new, empty store each time it is called, and
// release it with t.Cleanup. The suite calls it once per subtest and runs
// subtests in parallel, so the stores it returns must not share blobs.
//
// The suite cannot change what a store holds behind its back, so each
// implementation should also test that content altered in its storage is
// reported by Open's reader as [evidence.ErrTampered].
func TestBlobStore(t *testing.T, newStore func(t *testing.T) evidence.BlobStore) {
	s := blobSuite{newStore: newStore}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"WriteThenRead", s.testWriteThenRead},
		{"ReadInSmallPieces", s.testReadInSmallPieces},
		{"Stat", s.testStat},
		{"NotFound", s.testNotFound},
		{"InvalidDigest", s.testInvalidDigest},
		{"WriteOnce", s.testWriteOnce},
		{"WrongDigest", s.testWrongDigest},
		{"Abort", s.testAbort},
		{"FinishedWriter", s.testFinishedWriter},
		{"ConcurrentSameBlob", s.testConcurrentSameBlob},
		{"ConcurrentDifferentBlobs", s.testConcurrentDifferentBlobs},
		{"CanceledContext", s.testCanceledContext},
		{"Prepare", s.testPrepare},
		{"PrepareRefused", s.testPrepareRefused},
		{"PrepareCanceledContext", s.testPrepareCanceledContext},
		{"ManyPrepared", s.testManyPrepared},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type blobSuite struct {
	newStore func(t *testing.T) evidence.BlobStore
}

// store returns a fresh store for one test.
func (s blobSuite) store(t *testing.T) evidence.BlobStore {
	t.Helper()
	st := s.newStore(t)
	require.NotNil(t, st, "newStore returned nil")
	return st
}

// blobContent returns n bytes of content that differs with seed.
func blobContent(seed string, n int) []byte {
	b := make([]byte, 0, n+sha256.Size)
	block := sha256.Sum256([]byte(seed))
	for len(b) < n {
		b = append(b, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return b[:n]
}

// blobDigest returns the hex SHA-256 of b.
func blobDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// putBlob writes content to st and commits it under its digest, which it
// returns.
func putBlob(t *testing.T, st evidence.BlobStore, content []byte) string {
	t.Helper()
	ctx := t.Context()
	w, err := st.Create(ctx)
	require.NoError(t, err, "Create")
	n, err := w.Write(content)
	require.NoError(t, err, "Write")
	require.Equal(t, len(content), n, "Write count")
	digest := blobDigest(content)
	require.NoError(t, w.Commit(ctx, digest), "Commit")
	return digest
}

// readBlob reads the blob named digest from st to its end.
func readBlob(t *testing.T, st evidence.BlobStore, digest string) []byte {
	t.Helper()
	rc, err := st.Open(t.Context(), digest)
	require.NoError(t, err, "Open %s", digest)
	defer func() { assert.NoError(t, rc.Close(), "Close") }()
	b, err := io.ReadAll(rc)
	require.NoError(t, err, "reading blob %s", digest)
	return b
}

// requireNoBlob checks st holds no blob named digest.
func requireNoBlob(t *testing.T, st evidence.BlobStore, digest string) {
	t.Helper()
	ctx := t.Context()
	_, err := st.Stat(ctx, digest)
	require.ErrorIs(t, err, evidence.ErrNotFound, "Stat of a blob that should not be there")
	_, err = st.Open(ctx, digest)
	require.ErrorIs(t, err, evidence.ErrNotFound, "Open of a blob that should not be there")
}

func (s blobSuite) testWriteThenRead(t *testing.T) {
	st := s.store(t)
	for _, size := range []int{0, 1, 100, 64 << 10, 1<<20 + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			content := blobContent(fmt.Sprint("write-then-read-", size), size)
			digest := putBlob(t, st, content)
			got := readBlob(t, st, digest)
			require.Equal(t, len(content), len(got), "size read back")
			require.True(t, bytes.Equal(content, got), "content read back differs")
		})
	}

	// Content written in many small pieces is one blob.
	ctx := t.Context()
	content := blobContent("pieces", 10_000)
	w, err := st.Create(ctx)
	require.NoError(t, err)
	for piece := range blobPieces(content, 7) {
		_, err := w.Write(piece)
		require.NoError(t, err)
	}
	require.NoError(t, w.Commit(ctx, blobDigest(content)))
	assert.Equal(t, content, readBlob(t, st, blobDigest(content)))
}

// blobPieces yields b in pieces of n bytes, the last one shorter.
func blobPieces(b []byte, n int) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			m := min(n, len(b))
			if !yield(b[:m]) {
				return
			}
			b = b[m:]
		}
	}
}

func (s blobSuite) testReadInSmallPieces(t *testing.T) {
	st := s.store(t)
	content := blobContent("small pieces", 5000)
	digest := putBlob(t, st, content)

	rc, err := st.Open(t.Context(), digest)
	require.NoError(t, err)
	defer rc.Close()
	require.NoError(t, iotest.TestReader(rc, content),
		"Open's reader must behave as an io.Reader, whatever the size of the reads")

	// The end of a verified blob is io.EOF, however often it is read.
	rc2, err := st.Open(t.Context(), digest)
	require.NoError(t, err)
	defer rc2.Close()
	_, err = io.Copy(io.Discard, iotest.OneByteReader(rc2))
	require.NoError(t, err)
	for range 2 {
		n, err := rc2.Read(make([]byte, 10))
		assert.Zero(t, n)
		assert.Equal(t, io.EOF, err, "a verified blob ends with io.EOF itself, not a wrapped error")
	}
}

func (s blobSuite) testStat(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	for _, size := range []int{0, 1, 4096, 100_001} {
		content := blobContent(fmt.Sprint("stat-", size), size)
		digest := putBlob(t, st, content)
		got, err := st.Stat(ctx, digest)
		require.NoError(t, err, "Stat of a %d-byte blob", size)
		assert.Equal(t, int64(size), got, "Stat of a %d-byte blob", size)
	}
}

func (s blobSuite) testNotFound(t *testing.T) {
	st := s.store(t)
	putBlob(t, st, []byte("something else"))
	requireNoBlob(t, st, blobDigest([]byte("never written")))
	requireNoBlob(t, st, strings.Repeat("0", 64))
}

// invalidBlobDigests are strings no store may take for a digest.
func invalidBlobDigests() map[string]string {
	valid := blobDigest([]byte("a valid digest"))
	return map[string]string{
		"empty":           "",
		"path traversal":  "../../etc/passwd",
		"padded path":     strings.Repeat("../", 21) + "a",
		"absolute path":   "/" + valid[1:],
		"fan-out path":    valid[:2] + "/" + valid[3:],
		"upper case":      strings.ToUpper(valid),
		"one upper case":  valid[:63] + "A",
		"too short":       valid[:63],
		"too long":        valid + "0",
		"sha1 length":     valid[:40],
		"not hex":         strings.Repeat("g", 64),
		"spaces":          " " + valid[1:63] + " ",
		"nul":             valid[:63] + "\x00",
		"newline":         valid[:63] + "\n",
		"backslash":       valid[:2] + `\` + valid[3:],
		"dot dot inside":  valid[:30] + ".." + valid[32:],
		"unicode letters": valid[:60] + "éé",
	}
}

func (s blobSuite) testInvalidDigest(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	putBlob(t, st, []byte("a valid digest"))
	for name, digest := range invalidBlobDigests() {
		t.Run(name, func(t *testing.T) {
			_, err := st.Stat(ctx, digest)
			assert.ErrorIs(t, err, evidence.ErrInvalid, "Stat(%q)", digest)
			rc, err := st.Open(ctx, digest)
			if !assert.ErrorIs(t, err, evidence.ErrInvalid, "Open(%q)", digest) && rc != nil {
				_ = rc.Close()
			}

			content := []byte("content committed under an invalid name")
			w, err := st.Create(ctx)
			require.NoError(t, err)
			_, err = w.Write(content)
			require.NoError(t, err)
			assert.ErrorIs(t, w.Commit(ctx, digest), evidence.ErrInvalid, "Commit(%q)", digest)
			assert.NoError(t, w.Abort(), "Abort after a failed Commit")
			requireNoBlob(t, st, blobDigest(content))
		})
	}
}

func (s blobSuite) testWriteOnce(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	content := blobContent("write once", 3000)
	first := putBlob(t, st, content)
	second := putBlob(t, st, content)
	require.Equal(t, first, second)

	size, err := st.Stat(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, int64(len(content)), size, "a second commit of the same content changes nothing")
	assert.Equal(t, content, readBlob(t, st, first))

	// A writer that commits an existing digest after writing nothing is
	// refused: what it wrote does not hash to that digest.
	w, err := st.Create(ctx)
	require.NoError(t, err)
	require.ErrorIs(t, w.Commit(ctx, first), evidence.ErrInvalid)
	assert.Equal(t, content, readBlob(t, st, first), "a refused commit leaves the existing blob")
}

func (s blobSuite) testWrongDigest(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	content := []byte("the content written")
	claimed := blobDigest([]byte("the content claimed"))

	w, err := st.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	err = w.Commit(ctx, claimed)
	require.ErrorIs(t, err, evidence.ErrInvalid, "Commit under a digest the content does not have")
	var invalid *evidence.InvalidError
	assert.ErrorAs(t, err, &invalid)
	assert.NotErrorIs(t, err, evidence.ErrTampered)

	requireNoBlob(t, st, claimed)
	requireNoBlob(t, st, blobDigest(content))

	// Even when a blob with the claimed digest exists, the wrong content
	// is refused and the blob is left as it was.
	claimedContent := []byte("the content claimed")
	putBlob(t, st, claimedContent)
	w, err = st.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	require.ErrorIs(t, w.Commit(ctx, claimed), evidence.ErrInvalid)
	assert.Equal(t, claimedContent, readBlob(t, st, claimed))
}

func (s blobSuite) testAbort(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	content := blobContent("aborted", 2048)
	w, err := st.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	require.NoError(t, w.Abort())
	assert.NoError(t, w.Abort(), "a second Abort")
	requireNoBlob(t, st, blobDigest(content))

	// The same content can still be stored by a new writer.
	digest := putBlob(t, st, content)
	assert.Equal(t, content, readBlob(t, st, digest))
}

func (s blobSuite) testFinishedWriter(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()

	content := []byte("committed")
	w, err := st.Create(ctx)
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	require.NoError(t, w.Commit(ctx, blobDigest(content)))
	assert.NoError(t, w.Abort(), "Abort after Commit does nothing")
	_, err = w.Write([]byte("more"))
	assert.Error(t, err, "Write after Commit")
	assert.Error(t, w.Commit(ctx, blobDigest(content)), "a second Commit")
	assert.Equal(t, content, readBlob(t, st, blobDigest(content)), "the blob outlives its writer")

	w, err = st.Create(ctx)
	require.NoError(t, err)
	require.NoError(t, w.Abort())
	_, err = w.Write(content)
	assert.Error(t, err, "Write after Abort")
	assert.Error(t, w.Commit(ctx, blobDigest(nil)), "Commit after Abort")
	requireNoBlob(t, st, blobDigest(nil))
}

func (s blobSuite) testConcurrentSameBlob(t *testing.T) {
	st := s.store(t)
	content := blobContent("same blob", 200_000)
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			errs[i] = writeBlob(t.Context(), st, content)
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}
	digest := blobDigest(content)
	size, err := st.Stat(t.Context(), digest)
	require.NoError(t, err)
	assert.Equal(t, int64(len(content)), size)
	assert.True(t, bytes.Equal(content, readBlob(t, st, digest)), "content read back differs")
}

func (s blobSuite) testConcurrentDifferentBlobs(t *testing.T) {
	st := s.store(t)
	const writers = 16
	contents := make([][]byte, writers)
	for i := range contents {
		contents[i] = blobContent(fmt.Sprint("blob ", i), 10_000+i)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			errs[i] = writeBlob(t.Context(), st, contents[i])
		})
	}
	// Readers of other blobs run alongside the writers.
	other := putBlob(t, st, []byte("read while others write"))
	for range 4 {
		wg.Go(func() {
			rc, err := st.Open(t.Context(), other)
			if err != nil {
				t.Errorf("Open while others write: %v", err)
				return
			}
			defer rc.Close()
			if _, err := io.Copy(io.Discard, rc); err != nil {
				t.Errorf("reading while others write: %v", err)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}
	for i, content := range contents {
		assert.True(t, bytes.Equal(content, readBlob(t, st, blobDigest(content))), "blob %d read back differs", i)
	}
}

// writeBlob writes content to st in pieces and commits it, without
// failing the test, so that it can run on any goroutine.
func writeBlob(ctx context.Context, st evidence.BlobStore, content []byte) error {
	w, err := st.Create(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = w.Abort() }()
	for piece := range blobPieces(content, 4096) {
		if _, err := w.Write(piece); err != nil {
			return err
		}
	}
	return w.Commit(ctx, blobDigest(content))
}

func (s blobSuite) testCanceledContext(t *testing.T) {
	st := s.store(t)
	stored := putBlob(t, st, []byte("stored before the cancellation"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	w, err := st.Create(ctx)
	if assert.ErrorIs(t, err, context.Canceled, "Create") {
		assert.Nil(t, w)
	} else if w != nil {
		_ = w.Abort()
	}
	_, err = st.Stat(ctx, stored)
	assert.ErrorIs(t, err, context.Canceled, "Stat")
	rc, err := st.Open(ctx, stored)
	if !assert.ErrorIs(t, err, context.Canceled, "Open") && rc != nil {
		_ = rc.Close()
	}

	// A writer whose context ends before it commits stores nothing.
	content := []byte("written, but the commit is cancelled")
	w, err = st.Create(t.Context())
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	err = w.Commit(ctx, blobDigest(content))
	require.ErrorIs(t, err, context.Canceled, "Commit")
	assert.False(t, errors.Is(err, evidence.ErrInvalid))
	assert.NoError(t, w.Abort())
	requireNoBlob(t, st, blobDigest(content))
}

// preparer returns a new writer of st as an [evidence.BlobPreparer], or
// skips the test if st's writers are not.
func preparer(t *testing.T, st evidence.BlobStore) evidence.BlobPreparer {
	t.Helper()
	w, err := st.Create(t.Context())
	require.NoError(t, err, "Create")
	p, ok := w.(evidence.BlobPreparer)
	if !ok {
		_ = w.Abort()
		t.Skipf("the store's writers (%T) are not evidence.BlobPreparer", w)
	}
	t.Cleanup(func() { _ = p.Abort() })
	return p
}

// prepareBlob writes content to a new writer of st and prepares it under
// its digest.
func prepareBlob(t *testing.T, st evidence.BlobStore, content []byte) evidence.BlobPreparer {
	t.Helper()
	p := preparer(t, st)
	_, err := p.Write(content)
	require.NoError(t, err, "Write")
	require.NoError(t, p.Prepare(t.Context(), blobDigest(content)), "Prepare")
	return p
}

func (s blobSuite) testPrepare(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	for _, size := range []int{0, 1, 70 << 10, 1<<20 + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			content := blobContent(fmt.Sprint("prepared-", size), size)
			digest := blobDigest(content)
			p := prepareBlob(t, st, content)
			requireNoBlob(t, st, digest)
			_, err := p.Write([]byte("more"))
			assert.Error(t, err, "Write after Prepare")
			assert.Error(t, p.Prepare(ctx, digest), "a second Prepare")
			requireNoBlob(t, st, digest)

			require.NoError(t, p.Commit(ctx, digest), "Commit after Prepare")
			assert.True(t, bytes.Equal(content, readBlob(t, st, digest)), "content read back differs")
			assert.NoError(t, p.Abort(), "Abort after Commit does nothing")
			assert.Error(t, p.Commit(ctx, digest), "a second Commit")
			assert.True(t, bytes.Equal(content, readBlob(t, st, digest)), "the blob outlives its writer")
		})
	}

	// A prepared blob that is aborted leaves nothing, and the same
	// content can still be stored.
	content := blobContent("prepared then aborted", 5000)
	digest := blobDigest(content)
	p := prepareBlob(t, st, content)
	require.NoError(t, p.Abort())
	assert.NoError(t, p.Abort(), "a second Abort")
	assert.Error(t, p.Commit(ctx, digest), "Commit after Abort")
	requireNoBlob(t, st, digest)
	putBlob(t, st, content)
	assert.Equal(t, content, readBlob(t, st, digest))

	// A blob the store holds already is kept when a prepared copy is
	// committed, as with Commit alone.
	p = prepareBlob(t, st, content)
	require.NoError(t, p.Commit(ctx, digest))
	assert.Equal(t, content, readBlob(t, st, digest))

	// A prepared copy of a blob the store holds, aborted, leaves the
	// blob there.
	p = prepareBlob(t, st, content)
	require.NoError(t, p.Abort())
	assert.Equal(t, content, readBlob(t, st, digest), "aborting a copy keeps the stored blob")
}

func (s blobSuite) testPrepareRefused(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	content := []byte("the content written")
	digest := blobDigest(content)
	claimed := blobDigest([]byte("the content claimed"))

	// Prepared under a digest the content does not have.
	p := preparer(t, st)
	_, err := p.Write(content)
	require.NoError(t, err)
	err = p.Prepare(ctx, claimed)
	require.ErrorIs(t, err, evidence.ErrInvalid, "Prepare under a digest the content does not have")
	assert.NotErrorIs(t, err, evidence.ErrTampered)
	assert.Error(t, p.Commit(ctx, digest), "Commit after a failed Prepare")
	assert.NoError(t, p.Abort(), "Abort after a failed Prepare")
	requireNoBlob(t, st, claimed)
	requireNoBlob(t, st, digest)

	// Prepared under a string that is no digest.
	for name, bad := range invalidBlobDigests() {
		p := preparer(t, st)
		_, err := p.Write(content)
		require.NoError(t, err)
		assert.ErrorIs(t, p.Prepare(ctx, bad), evidence.ErrInvalid, "Prepare(%q), %s", bad, name)
		assert.NoError(t, p.Abort())
	}
	requireNoBlob(t, st, digest)

	// Committed under another digest than the prepared one, even a
	// valid one.
	p = prepareBlob(t, st, content)
	err = p.Commit(ctx, claimed)
	require.ErrorIs(t, err, evidence.ErrInvalid, "Commit under another digest than the prepared one")
	assert.Error(t, p.Commit(ctx, digest), "Commit after a failed Commit")
	assert.NoError(t, p.Abort())
	requireNoBlob(t, st, claimed)
	requireNoBlob(t, st, digest)
}

func (s blobSuite) testPrepareCanceledContext(t *testing.T) {
	st := s.store(t)
	content := []byte("prepared, but the context ended")
	digest := blobDigest(content)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	p := preparer(t, st)
	_, err := p.Write(content)
	require.NoError(t, err)
	require.ErrorIs(t, p.Prepare(ctx, digest), context.Canceled, "Prepare")
	assert.NoError(t, p.Abort())
	requireNoBlob(t, st, digest)

	// A prepared blob whose commit is cancelled is not stored either.
	p = prepareBlob(t, st, content)
	err = p.Commit(ctx, digest)
	require.ErrorIs(t, err, context.Canceled, "Commit")
	assert.False(t, errors.Is(err, evidence.ErrInvalid))
	assert.NoError(t, p.Abort())
	requireNoBlob(t, st, digest)
}

func (s blobSuite) testManyPrepared(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	// Many writers prepared at once, then each committed or aborted.
	const n = 200
	writers := make([]evidence.BlobPreparer, n)
	for i := range writers {
		writers[i] = prepareBlob(t, st, []byte(fmt.Sprint("prepared blob ", i)))
	}
	for i, p := range writers {
		digest := blobDigest([]byte(fmt.Sprint("prepared blob ", i)))
		if i%2 == 0 {
			require.NoError(t, p.Commit(ctx, digest), "Commit %d", i)
		} else {
			require.NoError(t, p.Abort(), "Abort %d", i)
		}
	}
	for i := range writers {
		content := []byte(fmt.Sprint("prepared blob ", i))
		if i%2 == 0 {
			assert.Equal(t, content, readBlob(t, st, blobDigest(content)), "committed blob %d", i)
		} else {
			requireNoBlob(t, st, blobDigest(content))
		}
	}
}

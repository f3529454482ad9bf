package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
)

// MemoryBlobs is a [BlobStore] that keeps blobs in memory, for tests and
// short-lived tools. It keeps the whole contract of BlobStore except
// durability: its blobs last as long as it does. It is safe for concurrent
// use. The zero value is an empty store ready to use.
type MemoryBlobs struct {
	mu    sync.RWMutex
	blobs map[string][]byte
}

// NewMemoryBlobs returns an empty in-memory blob store.
func NewMemoryBlobs() *MemoryBlobs { return &MemoryBlobs{} }

// Create starts a new blob, held in memory until it is committed.
func (m *MemoryBlobs) Create(ctx context.Context) (BlobWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapOp("memory blobs: create", err)
	}
	return &memBlobWriter{m: m, h: sha256.New()}, nil
}

// Open returns a reader of the blob named sha256hex that verifies it as it
// is read.
func (m *MemoryBlobs) Open(ctx context.Context, sha256hex string) (io.ReadCloser, error) {
	b, err := m.blob(ctx, "open", sha256hex)
	if err != nil {
		return nil, err
	}
	return NewVerifyingReader(io.NopCloser(bytes.NewReader(b)), sha256hex), nil
}

// Stat returns the size of the blob named sha256hex.
func (m *MemoryBlobs) Stat(ctx context.Context, sha256hex string) (int64, error) {
	b, err := m.blob(ctx, "stat", sha256hex)
	if err != nil {
		return 0, err
	}
	return int64(len(b)), nil
}

// blob returns the content of the blob named sha256hex. The content is
// never changed once stored, so it is returned without a copy.
func (m *MemoryBlobs) blob(ctx context.Context, op, sha256hex string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapOp(fmt.Sprintf("memory blobs: %s", op), err)
	}
	if err := checkBlobDigest(sha256hex); err != nil {
		return nil, err
	}
	m.mu.RLock()
	b, ok := m.blobs[sha256hex]
	m.mu.RUnlock()
	if !ok {
		return nil, wrapOp(fmt.Sprintf("memory blobs: %s blob %s", op, sha256hex), ErrNotFound)
	}
	return b, nil
}

// put stores b as the blob named sha256hex, unless there is one already.
func (m *MemoryBlobs) put(sha256hex string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[sha256hex]; ok {
		return
	}
	if m.blobs == nil {
		m.blobs = make(map[string][]byte)
	}
	m.blobs[sha256hex] = b
}

// memBlobWriter is the [BlobWriter] of a [MemoryBlobs].
type memBlobWriter struct {
	m    *MemoryBlobs
	h    hash.Hash
	buf  bytes.Buffer
	done bool
	// prepared is the digest the writer was prepared as, and staged its
	// content, once Prepare has succeeded.
	prepared string
	staged   []byte
}

func (w *memBlobWriter) Write(p []byte) (int, error) {
	if w.done || w.prepared != "" {
		return 0, errBlobWriterDone
	}
	w.h.Write(p)
	return w.buf.Write(p)
}

// SHA256 returns the hex SHA-256 of what was written: see [BlobHasher].
func (w *memBlobWriter) SHA256() string { return hex.EncodeToString(w.h.Sum(nil)) }

// Prepare checks and keeps what was written aside, unseen by readers, for
// Commit: see [BlobPreparer].
func (w *memBlobWriter) Prepare(ctx context.Context, sha256hex string) error {
	if w.done || w.prepared != "" {
		return errBlobWriterDone
	}
	content := w.buf.Bytes()
	w.buf = bytes.Buffer{}
	if err := w.check(ctx, "prepare", sha256hex); err != nil {
		w.done = true
		return err
	}
	w.prepared, w.staged = sha256hex, bytes.Clone(content)
	return nil
}

// check checks ctx and that what was written hashes to sha256hex.
func (w *memBlobWriter) check(ctx context.Context, op, sha256hex string) error {
	if err := ctx.Err(); err != nil {
		return wrapOp("memory blobs: "+op, err)
	}
	if err := checkBlobDigest(sha256hex); err != nil {
		return err
	}
	return checkBlobSum(sha256hex, w.SHA256())
}

func (w *memBlobWriter) Commit(ctx context.Context, sha256hex string) error {
	if w.done {
		return errBlobWriterDone
	}
	w.done = true
	if w.prepared != "" {
		staged := w.staged
		w.staged = nil
		if err := ctx.Err(); err != nil {
			return wrapOp("memory blobs: commit", err)
		}
		if err := checkPrepared(w.prepared, sha256hex); err != nil {
			return err
		}
		w.m.put(sha256hex, staged)
		return nil
	}
	content := w.buf.Bytes()
	w.buf = bytes.Buffer{}
	if err := w.check(ctx, "commit", sha256hex); err != nil {
		return err
	}
	// Trim the buffer's spare capacity: the blob is kept for as long as
	// the store is.
	w.m.put(sha256hex, bytes.Clone(content))
	return nil
}

func (w *memBlobWriter) Abort() error {
	w.done = true
	w.buf = bytes.Buffer{}
	w.staged = nil
	return nil
}

package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// DirBlobs is a [BlobStore] that keeps each blob in a read-only file of a
// directory, named by its digest under two levels of fan-out directories:
// the blob 9f86d0…0a08 is the file 9f/86/9f86d0…0a08.
//
// A blob is written to a temporary file in the store's tmp directory,
// synced to disk, made read-only (mode 0400) and renamed into place, and
// the directory that receives it is synced too; so a file under a digest
// name is only ever complete, and once Commit returns it survives a crash.
// A crash while writing leaves at most a temporary file, which the store
// never reads and [DirBlobs.RemoveTemp] deletes.
//
// Its writers hash large writes on a second goroutine while they copy them
// to the file, and every 8 MiB start a sync of the file in the background,
// so that Commit waits only for the last few MiB to reach the disk. Each
// of those goroutines ends by itself; Write, Commit and Abort wait for
// them.
//
// Several DirBlobs, in one process or several, may share a directory. A
// DirBlobs is safe for concurrent use.
type DirBlobs struct {
	dir string
	tmp string
}

// The store's tmp directory holds the temporary files of blobs being
// written, named after dirBlobsTmpPattern. The fan-out directories are two
// hex digits, so "tmp" never collides with one.
const (
	dirBlobsTmp        = "tmp"
	dirBlobsTmpPattern = "blob-*"
)

// dirSyncAhead is how many bytes a writer lets pile up before it starts a
// sync in the background, while more content is written. Without it, the
// sync in Commit writes out the whole blob after it has been hashed: for
// 64 MiB it was measured at 25-30 ms, against 2-5 ms with syncs every
// 8 MiB (2 and 32 MiB were no better).
const dirSyncAhead = 8 << 20

// dirHashAside is the smallest write a writer hashes on another goroutine
// while it copies it to the file; below it, starting a goroutine costs
// more than it saves. Ingesting 64 MiB with SHA-256 alone took 78 ms
// hashing and copying one after the other, and 58 ms side by side.
const dirHashAside = 64 << 10

// NewDirBlobs returns a store keeping blobs under dir, creating dir (and
// its tmp directory) with mode 0700 if needed. It starts no goroutine and
// removes nothing.
func NewDirBlobs(dir string) (*DirBlobs, error) {
	if dir == "" {
		return nil, invalid("blob directory", "empty path")
	}
	tmp := filepath.Join(dir, dirBlobsTmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, wrapOp("dir blobs", err)
	}
	return &DirBlobs{dir: dir, tmp: tmp}, nil
}

// Dir returns the directory the store keeps its blobs in.
func (d *DirBlobs) Dir() string { return d.dir }

// Create starts a new blob in a temporary file.
func (d *DirBlobs) Create(ctx context.Context) (BlobWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapOp("dir blobs: create", err)
	}
	f, err := os.CreateTemp(d.tmp, dirBlobsTmpPattern)
	if err != nil {
		return nil, wrapOp("dir blobs: create", err)
	}
	return &dirBlobWriter{d: d, f: f, h: sha256.New()}, nil
}

// Open returns a reader of the blob named sha256hex that verifies it as it
// is read.
func (d *DirBlobs) Open(ctx context.Context, sha256hex string) (io.ReadCloser, error) {
	path, err := d.path(ctx, "open", sha256hex)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, d.fileError("open", sha256hex, err)
	}
	return NewVerifyingReader(f, sha256hex), nil
}

// Stat returns the size of the file holding the blob named sha256hex.
func (d *DirBlobs) Stat(ctx context.Context, sha256hex string) (int64, error) {
	path, err := d.path(ctx, "stat", sha256hex)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, d.fileError("stat", sha256hex, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("evidence: dir blobs: stat blob %s: not a regular file", sha256hex)
	}
	return fi.Size(), nil
}

// RemoveTemp deletes the temporary files of blobs not written to for
// olderThan or longer: what writers left behind when their process
// crashed. Files of writers still at work are younger than that, as long
// as olderThan is longer than a writer can pause between two writes; an
// hour is a safe choice. It returns how many files it deleted.
func (d *DirBlobs) RemoveTemp(ctx context.Context, olderThan time.Duration) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrapOp("dir blobs: remove temporary files", err)
	}
	entries, err := os.ReadDir(d.tmp)
	if err != nil {
		return 0, wrapOp("dir blobs: remove temporary files", err)
	}
	removed := 0
	cutoff := time.Now().Add(-olderThan)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, wrapOp("dir blobs: remove temporary files", err)
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), strings.TrimSuffix(dirBlobsTmpPattern, "*")) {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // committed or aborted since the listing
		}
		if err != nil {
			return removed, wrapOp("dir blobs: remove temporary files", err)
		}
		if fi.ModTime().After(cutoff) {
			continue
		}
		err = os.Remove(filepath.Join(d.tmp, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, wrapOp("dir blobs: remove temporary files", err)
		}
		removed++
	}
	return removed, nil
}

// path returns the path of the file of the blob named sha256hex, after
// checking ctx and the digest.
func (d *DirBlobs) path(ctx context.Context, op, sha256hex string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", wrapOp(fmt.Sprintf("dir blobs: %s", op), err)
	}
	if err := checkBlobDigest(sha256hex); err != nil {
		return "", err
	}
	return filepath.Join(d.fanOut(sha256hex), sha256hex), nil
}

// fanOut returns the directory of the blob named sha256hex, a valid
// digest.
func (d *DirBlobs) fanOut(sha256hex string) string {
	return filepath.Join(d.dir, sha256hex[:2], sha256hex[2:4])
}

func (d *DirBlobs) fileError(op, sha256hex string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return wrapOp(fmt.Sprintf("dir blobs: %s blob %s", op, sha256hex), ErrNotFound)
	}
	return wrapOp(fmt.Sprintf("dir blobs: %s blob %s", op, sha256hex), err)
}

// dirBlobWriter is the [BlobWriter] of a [DirBlobs].
type dirBlobWriter struct {
	d *DirBlobs
	f *os.File
	h hash.Hash
	// err is the first error writing; it fails every later call.
	err error
	// unsynced counts the bytes written since the last sync started.
	unsynced int64
	// syncing, if not nil, receives the result of the sync running in
	// the background.
	syncing chan error
	done    bool
	// prepared is the digest the writer was prepared as: its file is
	// synced, read-only and closed, waiting to be renamed into place.
	prepared string
}

func (w *dirBlobWriter) Write(p []byte) (int, error) {
	if w.done || w.prepared != "" {
		return 0, errBlobWriterDone
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.writeAndHash(p)
	if err != nil {
		w.err = wrapOp("dir blobs: write blob", err)
		return n, w.err
	}
	w.unsynced += int64(n)
	if w.unsynced >= dirSyncAhead {
		w.syncAhead()
	}
	return n, nil
}

// writeAndHash writes p to the file and hashes it. A large p is hashed on
// another goroutine while it is written, which makes writing large blobs
// nearly as fast as hashing them alone; that goroutine has ended when
// writeAndHash returns. If writing fails, the hash is left inconsistent,
// but the writer is failed for good anyway.
func (w *dirBlobWriter) writeAndHash(p []byte) (int, error) {
	if len(p) < dirHashAside {
		n, err := w.f.Write(p)
		w.h.Write(p[:n])
		return n, err
	}
	hashed := make(chan struct{})
	go func() {
		w.h.Write(p)
		close(hashed)
	}()
	n, err := w.f.Write(p)
	<-hashed
	return n, err
}

// syncAhead starts syncing the file in the background, unless the last
// sync is still running. The goroutine ends with the sync, and Commit and
// Abort wait for it.
func (w *dirBlobWriter) syncAhead() {
	if w.syncing != nil {
		select {
		case err := <-w.syncing:
			w.syncing = nil
			if err != nil {
				w.err = wrapOp("dir blobs: sync blob", err)
				return
			}
		default:
			return
		}
	}
	w.unsynced = 0
	done := make(chan error, 1)
	w.syncing = done
	f := w.f
	go func() { done <- f.Sync() }()
}

// waitSync waits for the background sync, if one is running.
func (w *dirBlobWriter) waitSync() error {
	if w.syncing == nil {
		return nil
	}
	err := <-w.syncing
	w.syncing = nil
	return err
}

// SHA256 returns the hex SHA-256 of what was written: see [BlobHasher].
func (w *dirBlobWriter) SHA256() string { return hex.EncodeToString(w.h.Sum(nil)) }

func (w *dirBlobWriter) Commit(ctx context.Context, sha256hex string) error {
	if w.done {
		return errBlobWriterDone
	}
	if err := w.commit(ctx, sha256hex); err != nil {
		w.discard()
		return err
	}
	w.done = true
	return nil
}

// Prepare checks what was written, syncs its temporary file, makes it
// read-only and closes it, leaving it in the tmp directory until Commit
// renames it into place or Abort deletes it: see [BlobPreparer].
func (w *dirBlobWriter) Prepare(ctx context.Context, sha256hex string) error {
	if w.done || w.prepared != "" {
		return errBlobWriterDone
	}
	if err := w.prepare(ctx, "prepare", sha256hex); err != nil {
		w.discard()
		return err
	}
	w.prepared = sha256hex
	return nil
}

// prepare does the part of a commit that leaves the blob unseen.
func (w *dirBlobWriter) prepare(ctx context.Context, op, sha256hex string) error {
	if err := ctx.Err(); err != nil {
		return wrapOp("dir blobs: "+op, err)
	}
	if err := checkBlobDigest(sha256hex); err != nil {
		return err
	}
	if w.err != nil {
		return w.err
	}
	if err := checkBlobSum(sha256hex, w.SHA256()); err != nil {
		return err
	}
	wrap := func(err error) error {
		return wrapOp(fmt.Sprintf("dir blobs: %s blob %s", op, sha256hex), err)
	}
	if err := w.waitSync(); err != nil {
		return wrap(err)
	}
	if err := w.f.Sync(); err != nil {
		return wrap(err)
	}
	if err := w.f.Chmod(0o400); err != nil {
		return wrap(err)
	}
	if err := w.f.Close(); err != nil {
		return wrap(err)
	}
	return nil
}

func (w *dirBlobWriter) commit(ctx context.Context, sha256hex string) error {
	if w.prepared == "" {
		if err := w.prepare(ctx, "commit", sha256hex); err != nil {
			return err
		}
	} else {
		if err := ctx.Err(); err != nil {
			return wrapOp("dir blobs: commit", err)
		}
		if err := checkPrepared(w.prepared, sha256hex); err != nil {
			return err
		}
	}
	wrap := func(err error) error {
		return wrapOp(fmt.Sprintf("dir blobs: commit blob %s", sha256hex), err)
	}
	dir := w.d.fanOut(sha256hex)
	if err := mkdirBlobDir(w.d.dir, dir); err != nil {
		return wrap(err)
	}
	if err := ctx.Err(); err != nil {
		return wrapOp("dir blobs: commit", err)
	}
	target := filepath.Join(dir, sha256hex)
	if _, err := os.Lstat(target); err == nil {
		// Written once: keep the blob there is. Its content is the same.
		_ = removeBlobTemp(w.f.Name())
		return nil
	}
	if err := os.Rename(w.f.Name(), target); err != nil {
		if _, statErr := os.Lstat(target); statErr == nil {
			// Another writer committed the same content first, and
			// the system refuses to replace a read-only file.
			_ = removeBlobTemp(w.f.Name())
			return nil
		}
		return wrap(err)
	}
	if err := syncBlobDir(dir); err != nil {
		return wrap(err)
	}
	return nil
}

func (w *dirBlobWriter) Abort() error {
	if w.done {
		return nil
	}
	return w.discard()
}

// discard finishes the writer and deletes its temporary file.
func (w *dirBlobWriter) discard() error {
	w.done = true
	_ = w.waitSync()
	_ = w.f.Close() // already closed if Commit got that far
	if err := removeBlobTemp(w.f.Name()); err != nil {
		return wrapOp("dir blobs: abort", err)
	}
	return nil
}

// removeBlobTemp deletes a temporary file, which may have been made
// read-only already; a file already gone is not an error.
func removeBlobTemp(path string) error {
	err := os.Remove(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && os.Chmod(path, 0o600) == nil {
		err = os.Remove(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// mkdirBlobDir creates dir, a directory under root, and any missing parents
// up to root, syncing each parent it adds an entry to so that the new
// directories survive a crash.
func mkdirBlobDir(root, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != root {
		if err := mkdirBlobDir(root, parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// A concurrent writer made it, and may not have synced parent
		// yet: sync it here too.
	}
	return syncBlobDir(parent)
}

// syncBlobDir makes the entries of directory dir durable. Windows has no
// such call, and makes renames durable by itself.
func syncBlobDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

package evidence

import (
	"context"
	"crypto/rand"
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
// Nothing already in the directory is trusted. Every file operation goes
// through an [os.Root] opened on the directory, so that no path, however
// its directories were changed, leads outside it. A blob committed again
// replaces whatever sits at its path: re-collecting content stores it even
// over a file corrupted in place or a symbolic link. A symbolic link, or
// anything but a directory, where a fan-out or tmp directory should be is
// never followed: the operation fails with an error matching
// [ErrTampered]. A blob's path that holds a symbolic link or anything but
// a regular file reads as tampered too, and a blob file's content is
// checked as it is read (see [DirBlobs.Open]).
//
// The store refuses a directory, its own or one of its subdirectories,
// that others than its owner may write to (mode&0o022 != 0, on systems
// with Unix permissions), since anyone who may write there may replace
// evidence: [NewDirBlobs] and the operations that meet one return a
// [*DirModeError] that says how to fix it. It never changes the mode of a
// directory it did not create; those it creates are mode 0700, and blob
// files are written mode 0600 and then made 0400.
//
// Its writers hash large writes on a second goroutine while they copy them
// to the file, and every 8 MiB start a sync of the file in the background,
// so that Commit waits only for the last few MiB to reach the disk. Each
// of those goroutines ends by itself; Write, Commit and Abort wait for
// them.
//
// Several DirBlobs, in one process or several, may share a directory. A
// DirBlobs is safe for concurrent use. [DirBlobs.Close] releases the
// directory.
type DirBlobs struct {
	dir  string
	root *os.Root
}

// The store's tmp directory holds the temporary files of blobs being
// written, named dirBlobsTmpPrefix and random hex digits. The fan-out
// directories are two hex digits, so "tmp" never collides with one.
const (
	dirBlobsTmp       = "tmp"
	dirBlobsTmpPrefix = "blob-"
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
// its tmp directory) with mode 0700 if needed. It refuses, with a
// [*DirModeError] matching [ErrInvalid], a directory others than its
// owner may write to, and, with an error matching [ErrTampered], a tmp
// directory that is a symbolic link or not a directory. It starts no
// goroutine and removes nothing. Call [DirBlobs.Close] when done.
func NewDirBlobs(dir string) (*DirBlobs, error) {
	if dir == "" {
		return nil, invalid("blob directory", "empty path")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, wrapOp("dir blobs", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, wrapOp("dir blobs", err)
	}
	d := &DirBlobs{dir: dir, root: root}
	if err := d.init(); err != nil {
		_ = root.Close()
		return nil, err
	}
	return d, nil
}

// init checks the store's directory and makes its tmp directory.
func (d *DirBlobs) init() error {
	if err := d.checkRoot(); err != nil {
		return wrapOp("dir blobs", err)
	}
	if err := d.root.Mkdir(dirBlobsTmp, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return wrapOp("dir blobs", err)
	}
	if err := d.checkDir(dirBlobsTmp); err != nil {
		return wrapOp("dir blobs", err)
	}
	return nil
}

// Dir returns the directory the store keeps its blobs in.
func (d *DirBlobs) Dir() string { return d.dir }

// Close releases the store's directory. The store must not be used
// afterwards; writers not yet committed fail.
func (d *DirBlobs) Close() error { return d.root.Close() }

// Create starts a new blob in a temporary file.
func (d *DirBlobs) Create(ctx context.Context) (BlobWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapOp("dir blobs: create", err)
	}
	if err := d.checkRoot(); err != nil {
		return nil, wrapOp("dir blobs: create", err)
	}
	if err := d.checkDir(dirBlobsTmp); err != nil {
		return nil, wrapOp("dir blobs: create", err)
	}
	for {
		var rnd [12]byte
		_, _ = rand.Read(rnd[:]) // never fails
		name := filepath.Join(dirBlobsTmp, dirBlobsTmpPrefix+hex.EncodeToString(rnd[:]))
		f, err := d.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // 96 random bits: never twice in practice
		}
		if err != nil {
			return nil, wrapOp("dir blobs: create", err)
		}
		return &dirBlobWriter{d: d, f: f, name: name, h: sha256.New()}, nil
	}
}

// Open returns a reader of the blob named sha256hex that verifies it as it
// is read: content that does not match its name ends the reading with an
// error matching [ErrTampered] instead of io.EOF. A symbolic link or
// anything but a regular file at the blob's path, or in place of one of
// its directories, gives an error matching [ErrTampered] at once.
func (d *DirBlobs) Open(ctx context.Context, sha256hex string) (io.ReadCloser, error) {
	name, _, err := d.lstatBlob(ctx, "open", sha256hex)
	if err != nil {
		return nil, err
	}
	f, err := d.root.Open(name)
	if err != nil {
		return nil, d.fileError("open", sha256hex, err)
	}
	// What was opened must be a regular file. It may not be the file
	// checked above: a concurrent commit of the same blob replaces it,
	// with the same content. Only the directory's owner could put a link
	// there in between, and os.Root keeps it inside the directory; the
	// content is verified as it is read in any case.
	if ofi, err := f.Stat(); err != nil || !ofi.Mode().IsRegular() {
		_ = f.Close()
		if err != nil {
			return nil, d.fileError("open", sha256hex, err)
		}
		return nil, wrapOp(fmt.Sprintf("dir blobs: open blob %s", sha256hex), blobPathTampered(name, "a regular file", describeFile(ofi)))
	}
	return NewVerifyingReader(f, sha256hex), nil
}

// Stat returns the size of the file holding the blob named sha256hex. A
// symbolic link or anything but a regular file at the blob's path, or in
// place of one of its directories, gives an error matching [ErrTampered].
func (d *DirBlobs) Stat(ctx context.Context, sha256hex string) (int64, error) {
	_, fi, err := d.lstatBlob(ctx, "stat", sha256hex)
	if err != nil {
		return 0, err
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
	if err := d.checkDir(dirBlobsTmp); err != nil {
		return 0, wrapOp("dir blobs: remove temporary files", err)
	}
	entries, err := fs.ReadDir(d.root.FS(), dirBlobsTmp)
	if err != nil {
		return 0, wrapOp("dir blobs: remove temporary files", err)
	}
	removed := 0
	cutoff := time.Now().Add(-olderThan)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, wrapOp("dir blobs: remove temporary files", err)
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), dirBlobsTmpPrefix) {
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
		err = d.root.Remove(filepath.Join(dirBlobsTmp, e.Name()))
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

// lstatBlob checks ctx, the digest and the directories of the blob named
// sha256hex, and returns the blob's path in the root and what is there,
// which must be a regular file.
func (d *DirBlobs) lstatBlob(ctx context.Context, op, sha256hex string) (string, fs.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, wrapOp(fmt.Sprintf("dir blobs: %s", op), err)
	}
	if err := checkBlobDigest(sha256hex); err != nil {
		return "", nil, err
	}
	for _, dir := range fanOutDirs(sha256hex) {
		if err := d.checkDir(dir); err != nil {
			return "", nil, d.fileError(op, sha256hex, err)
		}
	}
	name := blobName(sha256hex)
	fi, err := d.root.Lstat(name)
	if err != nil {
		return "", nil, d.fileError(op, sha256hex, err)
	}
	if !fi.Mode().IsRegular() {
		return "", nil, d.fileError(op, sha256hex, blobPathTampered(name, "a regular file", describeFile(fi)))
	}
	return name, fi, nil
}

// checkRoot checks that only its owner may write to the store's
// directory.
func (d *DirBlobs) checkRoot() error {
	fi, err := d.root.Stat(".")
	if err != nil {
		return err
	}
	return checkDirMode(d.dir, fi)
}

// checkDir checks that name, in the root, is a directory (not a symbolic
// link) that only its owner may write to. A name missing gives an error
// matching fs.ErrNotExist.
func (d *DirBlobs) checkDir(name string) error {
	fi, err := d.root.Lstat(name)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return blobPathTampered(name, "a directory", describeFile(fi))
	}
	return checkDirMode(filepath.Join(d.dir, name), fi)
}

// fanOutDirs returns the two fan-out directories of the blob named
// sha256hex, a valid digest, outermost first, as paths in the root.
func fanOutDirs(sha256hex string) [2]string {
	return [2]string{sha256hex[:2], filepath.Join(sha256hex[:2], sha256hex[2:4])}
}

// blobName returns the path in the root of the blob named sha256hex, a
// valid digest.
func blobName(sha256hex string) string {
	return filepath.Join(sha256hex[:2], sha256hex[2:4], sha256hex)
}

func (d *DirBlobs) fileError(op, sha256hex string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return wrapOp(fmt.Sprintf("dir blobs: %s blob %s", op, sha256hex), ErrNotFound)
	}
	return wrapOp(fmt.Sprintf("dir blobs: %s blob %s", op, sha256hex), err)
}

// blobPathTampered is the error for something unexpected at path name in
// a blob store.
func blobPathTampered(name, expected, found string) error {
	return &TamperError{Record: -1, What: "blob", Expected: expected + " at " + filepath.ToSlash(name), Found: found}
}

// describeFile says what kind of file fi is.
func describeFile(fi fs.FileInfo) string {
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	default:
		return "a special file (" + m.Type().String() + ")"
	}
}

// DirModeError says that a directory keeping evidence or custody
// checkpoints lets others than its owner write to it, so that they could
// replace or remove what it keeps. It matches [ErrInvalid]; its message
// says how to fix the directory.
type DirModeError struct {
	// Path is the directory.
	Path string
	// Mode is its permission bits.
	Mode fs.FileMode
}

func (e *DirModeError) Error() string {
	return fmt.Sprintf("evidence: directory %s has mode %04o, which lets others than its owner write to it: run chmod go-w %s", e.Path, e.Mode.Perm(), e.Path)
}

// Is reports whether target is [ErrInvalid].
func (e *DirModeError) Is(target error) bool { return target == ErrInvalid }

// checkDirMode refuses a directory others than its owner may write to, on
// systems with Unix permissions.
func checkDirMode(path string, fi fs.FileInfo) error {
	if runtime.GOOS == "windows" || fi.Mode().Perm()&0o022 == 0 {
		return nil
	}
	return &DirModeError{Path: path, Mode: fi.Mode().Perm()}
}

// dirBlobWriter is the [BlobWriter] of a [DirBlobs].
type dirBlobWriter struct {
	d *DirBlobs
	f *os.File
	// name is the temporary file's path in the store's root.
	name string
	h    hash.Hash
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
	if err := w.d.mkdirFanOut(sha256hex); err != nil {
		return wrap(err)
	}
	if err := ctx.Err(); err != nil {
		return wrapOp("dir blobs: commit", err)
	}
	if err := w.d.place(w.name, sha256hex); err != nil {
		return wrap(err)
	}
	return nil
}

// place renames the temporary file name, holding the blob named
// sha256hex, into place, replacing whatever is there: nothing already at
// a blob's path is trusted. It syncs the directory that receives it.
func (d *DirBlobs) place(name, sha256hex string) error {
	target := blobName(sha256hex)
	dir := filepath.Dir(target)
	err := d.root.Rename(name, target)
	if err != nil {
		// Renaming over a file fails on systems that refuse to replace a
		// read-only file (Windows), and over a directory everywhere. A
		// file there with the blob's content is kept; anything else is
		// removed, if it can be, and the rename tried again.
		fi, lerr := d.root.Lstat(target)
		switch {
		case lerr != nil:
			return err
		case fi.Mode().IsRegular() && d.holds(target, sha256hex):
			return d.removeTemp(name)
		case fi.IsDir():
			return blobPathTampered(target, "a regular file", "a directory")
		}
		if fi.Mode().IsRegular() {
			_ = d.root.Chmod(target, 0o600) // a read-only file, on Windows
		}
		if rerr := d.root.Remove(target); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return err
		}
		if err := d.root.Rename(name, target); err != nil {
			return err
		}
	}
	return d.syncDir(dir)
}

// holds reports whether the regular file name holds the blob named
// sha256hex.
func (d *DirBlobs) holds(name, sha256hex string) bool {
	f, err := d.root.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, NewVerifyingReader(f, sha256hex))
	return err == nil
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
	if err := w.d.removeTemp(w.name); err != nil {
		return wrapOp("dir blobs: abort", err)
	}
	return nil
}

// removeTemp deletes a temporary file, which may have been made read-only
// already; a file already gone is not an error.
func (d *DirBlobs) removeTemp(name string) error {
	err := d.root.Remove(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && d.root.Chmod(name, 0o600) == nil {
		err = d.root.Remove(name)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// mkdirFanOut creates the fan-out directories of the blob named
// sha256hex, if missing, with mode 0700, syncing each parent it adds an
// entry to so that the new directories survive a crash. It refuses a
// symbolic link, or anything but a directory, in place of one of them.
func (d *DirBlobs) mkdirFanOut(sha256hex string) error {
	parent := "."
	for _, dir := range fanOutDirs(sha256hex) {
		err := d.checkDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			if err = d.root.Mkdir(dir, 0o700); err == nil || errors.Is(err, fs.ErrExist) {
				// Made here, or by a concurrent writer which may not
				// have synced parent yet: sync it here too.
				if err = d.checkDir(dir); err == nil {
					err = d.syncDir(parent)
				}
			}
		}
		if err != nil {
			return err
		}
		parent = dir
	}
	return nil
}

// syncDir makes the entries of directory name, in the root, durable.
// Windows has no such call, and makes renames durable by itself.
func (d *DirBlobs) syncDir(name string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := d.root.Open(name)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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

package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strconv"
)

// BlobStore keeps the content of evidence items as blobs, each named by
// the SHA-256 of its bytes and written once. [DirBlobs] keeps them in a
// directory; [MemoryBlobs] keeps them in memory, for tests.
// evidencetest.TestBlobStore checks an implementation keeps this contract.
//
// A blob is written through a [BlobWriter] from [BlobStore.Create], then
// committed under its digest. The digest is the only name a blob ever
// has: a store never takes a file name or a path from its caller.
//
// Digests are given as 64 lower-case hexadecimal digits. Every method
// refuses any other string (upper case, the wrong length, a path such as
// "../../etc/passwd") with an error matching [ErrInvalid] before it touches
// anything, which is what keeps a digest from naming anything outside the
// store.
//
// Implementations must be safe for concurrent use by multiple goroutines;
// each [BlobWriter] is used by one goroutine at a time. Every method
// honours ctx: called with a context that has ended, it returns an error
// wrapping ctx.Err() and changes nothing. A blob the store does not hold
// is reported with an error matching [ErrNotFound].
type BlobStore interface {
	// Create starts a new blob. Write its content to the returned
	// writer, then call [BlobWriter.Commit] or [BlobWriter.Abort]. Nothing
	// written is visible under any digest until Commit returns nil.
	Create(ctx context.Context) (BlobWriter, error)
	// Open returns a reader of the blob's content that hashes the content
	// again as it is read (see [NewVerifyingReader]): at the end of the
	// content it returns io.EOF if the content still hashes to
	// sha256hex, and otherwise a [*TamperError] matching [ErrTampered]
	// instead. Changed, truncated and extended content are all caught
	// that way; bytes read before the end are not yet vouched for. The
	// caller must close the reader. ctx bounds opening, not reading.
	Open(ctx context.Context, sha256hex string) (io.ReadCloser, error)
	// Stat returns the size in bytes of the blob as stored. It neither
	// reads nor verifies the content.
	Stat(ctx context.Context, sha256hex string) (size int64, err error)
}

// BlobWriter receives the content of a new blob for a [BlobStore]. It is
// not safe for concurrent use: one goroutine writes, then commits or
// aborts.
//
// Every writer must end with Commit or Abort; deferring Abort right after
// [BlobStore.Create] makes sure of it, since Abort after Commit does
// nothing. Once a writer has ended, Write and Commit return an error.
type BlobWriter interface {
	io.Writer
	// Commit stores what was written as the blob named sha256hex, and
	// makes it visible to [BlobStore.Open] and [BlobStore.Stat], durably
	// if the store is durable.
	//
	// The store hashes what was written itself. If that is not
	// sha256hex, Commit stores nothing and returns an [*InvalidError]
	// matching [ErrInvalid]: the caller named the content wrongly, and
	// nothing stored has changed, so it is not reported as tampering.
	//
	// Blobs are written once. If the store already holds sha256hex,
	// Commit keeps the blob it has, discards the new copy and returns
	// nil: the two have the same content.
	//
	// If ctx has ended, Commit stores nothing and returns an error
	// wrapping ctx.Err().
	//
	// Commit finishes the writer whatever it returns: after a failed
	// Commit, the content must be written again to a new writer.
	Commit(ctx context.Context, sha256hex string) error
	// Abort discards what was written and finishes the writer. After
	// Commit, or a first Abort, it does nothing and returns nil.
	Abort() error
}

// errBlobWriterDone is returned by a blob writer used after it was
// committed or aborted.
var errBlobWriterDone = errors.New("evidence: blob writer already committed or aborted")

// checkBlobDigest refuses anything but 64 lower-case hex digits: the only
// names blobs have, and the only strings a store turns into a path.
func checkBlobDigest(sha256hex string) error {
	if isHex(sha256hex, sha256.Size) {
		return nil
	}
	shown := sha256hex
	if len(shown) > 80 {
		shown = shown[:80] + "…"
	}
	return invalid("blob digest", strconv.Quote(shown)+" is not 64 lower-case hex digits")
}

// checkBlobSum returns nil if got, the digest a store computed from what
// was written, is the digest the caller gave.
func checkBlobSum(want, got string) error {
	if got == want {
		return nil
	}
	return invalid("blob digest", "content hashes to "+got+", not "+want)
}

// NewVerifyingReader returns a reader of rc that hashes what it reads
// with SHA-256 and, at the end of rc, checks the result is sha256hex. If
// it is, the reader returns io.EOF; if not, it returns a [*TamperError]
// matching [ErrTampered], with What "blob", Expected sha256hex and Found
// the digest of what was read, in place of io.EOF. Any other error from rc
// is returned as it is, and nothing is verified. Closing the reader closes
// rc.
//
// It is the reader a [BlobStore]'s Open returns, for implementations
// outside this package to use. The reader is not safe for concurrent use.
func NewVerifyingReader(rc io.ReadCloser, sha256hex string) io.ReadCloser {
	return &verifyingReader{rc: rc, h: sha256.New(), want: sha256hex}
}

// verifyingReader is the reader [NewVerifyingReader] returns.
type verifyingReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want string
	// end is what Read returns once rc has ended: io.EOF or the
	// TamperError.
	end error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.end != nil {
		return 0, v.end
	}
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		v.end = io.EOF
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			v.end = &TamperError{Record: -1, What: "blob", Expected: v.want, Found: got}
		}
		return n, v.end
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// BlobHasher is an optional interface of a [BlobWriter] that hashes what
// it is given with SHA-256 as it writes it, as the writers of this
// package's stores do so that Commit can check the digest. [Ingest], and a
// reader of bundles storing their content, take the digest from such a
// writer rather than hashing the content a second time.
type BlobHasher interface {
	BlobWriter
	// SHA256 returns the lower-case hex SHA-256 of everything written so
	// far.
	SHA256() string
}

// BlobPreparer is an optional interface of a [BlobWriter] that commits in
// two steps, for a caller that writes several blobs and decides only
// afterwards whether to keep them: [github.com/incidentkit/incidentkit/evidence/bundle.Import]
// writes every blob of a bundle, verifies the bundle, and only then commits
// them all, or aborts them all. The writers of this package's stores have
// it; the evidencetest blob suite checks it when a store's writers do.
//
// Prepare does what Commit does except make the blob visible: it checks
// that what was written hashes to sha256hex, refusing it as Commit does
// with an [*InvalidError] matching [ErrInvalid]; makes the content durable
// if the store is durable; and releases what the writer holds open (a
// [DirBlobs] writer closes its file), so that many prepared writers can
// wait at little cost. Open and Stat still do not see the content.
//
// A prepared writer must end with Commit under the same digest, which only
// makes the blob visible, or Abort, which discards the content and leaves
// nothing of it in the store. Write and a second Prepare return an error.
// If Prepare fails, the writer is finished, as after a failed Commit, and
// nothing is stored. Commit under another digest than the prepared one
// stores nothing and returns an error matching [ErrInvalid].
type BlobPreparer interface {
	BlobWriter
	Prepare(ctx context.Context, sha256hex string) error
}

// checkPrepared checks that a prepared writer is committed under the digest
// it was prepared with.
func checkPrepared(prepared, sha256hex string) error {
	if err := checkBlobDigest(sha256hex); err != nil {
		return err
	}
	if sha256hex != prepared {
		return invalid("blob digest", "the writer was prepared as "+prepared+", not "+sha256hex)
	}
	return nil
}

package evidence

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
)

// IngestOptions says what [Ingest] computes and accepts. The zero value
// computes SHA-256 only, accepts any size and reports no progress. Ingest
// only reads its options, so concurrent calls may share them, as long as
// Progress is safe to call from those calls at once.
type IngestOptions struct {
	// SHA1 and MD5 ask for those digests too, for forensic tools that
	// still expect them. They are computed in the same pass, alongside
	// SHA-256.
	SHA1, MD5 bool
	// MaxSize, if positive, is the largest content accepted, in bytes.
	// Larger content is refused with an error matching [ErrInvalid] and
	// nothing is stored.
	MaxSize int64
	// Progress, if set, is called with the number of bytes read so far:
	// each time at least ProgressEvery more have been read, and once at
	// the end with the size of the content, when all of it has been
	// hashed and written and before the blob is committed. It is called
	// from the goroutine that called Ingest, never concurrently, and
	// Ingest waits for it to return.
	Progress func(read int64)
	// ProgressEvery is how many bytes Ingest reads between two calls of
	// Progress; zero means 8 MiB.
	ProgressEvery int64
}

// IngestResult is what [Ingest] stored: a plain value, safe to share once
// returned.
type IngestResult struct {
	// Digests are the content's digests; Digests.SHA256 names the blob.
	Digests Digests
	// Size is the content's size in bytes.
	Size int64
}

const (
	// ingestChunkSize is how much content Ingest reads at a time.
	ingestChunkSize = 1 << 20
	// ingestBuffers is how many chunks are in flight at once: read,
	// being hashed or being written. It is all the memory Ingest needs
	// for content, whatever its size.
	ingestBuffers = 4
	// ingestProgressEvery is how often Progress is called by default.
	ingestProgressEvery = 8 << 20
	// ingestMaxEmptyReads is how many reads in a row may return nothing
	// before Ingest gives up on a reader, as bufio does.
	ingestMaxEmptyReads = 100
)

// Ingest reads r to its end once and stores what it read in store as a
// blob named by its SHA-256, computing its digests (SHA-256 always; SHA-1
// and MD5 if opts asks) and its size in the same pass.
//
// Ingest streams: it holds a few fixed buffers of content in memory
// whatever the size of r. Each digest is computed by its own goroutine,
// and the blob is written by another, while the next chunk is read; all
// of them have ended when Ingest returns, whatever it returns. The
// writers of this package's stores hash what they are given, to check
// Commit; with them, Ingest takes the SHA-256 from the writer rather than
// computing it twice. With any other store, Ingest computes it and the
// store checks it.
//
// Ingest may be called from several goroutines at once, with the same
// store or not.
//
// If ctx ends, r returns an error other than io.EOF, the store fails or
// the content is larger than opts.MaxSize, Ingest aborts the blob, so
// nothing is stored, and returns an error saying why (wrapping ctx.Err(),
// the reader's or the store's error, or an [*InvalidError]). Ingest
// notices the end of ctx between two reads of r: a read that blocks is not
// interrupted, so a reader that may block for long should be closed, or
// given a deadline, when ctx ends.
func Ingest(ctx context.Context, store BlobStore, r io.Reader, opts IngestOptions) (IngestResult, error) {
	if err := opts.validate(store, r); err != nil {
		return IngestResult{}, err
	}
	w, err := store.Create(ctx)
	if err != nil {
		return IngestResult{}, wrapOp("ingest", err)
	}
	// Abort after a successful Commit does nothing; and it runs after
	// the pipeline has stopped writing to w.
	defer func() { _ = w.Abort() }()

	hashes := newIngestHashes(opts, w)
	p := startIngestPipeline(w, hashes.all())
	defer p.stop()
	size, err := p.feed(ctx, r, opts)
	if err != nil {
		p.fail(err) // the stages need not finish the chunks queued
	}
	p.stop()
	if err == nil {
		err = p.failure()
	}
	if err != nil {
		return IngestResult{}, wrapOp("ingest", err)
	}
	if opts.Progress != nil && p.reported != size {
		opts.Progress(size)
	}
	digests := hashes.digests(w)
	if err := w.Commit(ctx, digests.SHA256); err != nil {
		return IngestResult{}, wrapOp("ingest", err)
	}
	return IngestResult{Digests: digests, Size: size}, nil
}

func (o IngestOptions) validate(store BlobStore, r io.Reader) error {
	switch {
	case store == nil:
		return invalid("ingest", "no blob store")
	case r == nil:
		return invalid("ingest", "no reader")
	case o.MaxSize < 0:
		return invalid("ingest max size", "negative: "+strconv.FormatInt(o.MaxSize, 10))
	case o.ProgressEvery < 0:
		return invalid("ingest progress interval", "negative: "+strconv.FormatInt(o.ProgressEvery, 10))
	}
	return nil
}

// ingestHashes are the digests Ingest computes itself.
type ingestHashes struct {
	sha256, sha1, md5 hash.Hash
}

// newIngestHashes returns the hashes opts asks for, leaving out SHA-256 if
// w computes it already.
func newIngestHashes(opts IngestOptions, w BlobWriter) ingestHashes {
	var h ingestHashes
	if _, ok := w.(BlobHasher); !ok {
		h.sha256 = sha256.New()
	}
	if opts.SHA1 {
		h.sha1 = sha1.New()
	}
	if opts.MD5 {
		h.md5 = md5.New()
	}
	return h
}

func (h ingestHashes) all() []io.Writer {
	var all []io.Writer
	for _, x := range []hash.Hash{h.sha256, h.sha1, h.md5} {
		if x != nil {
			all = append(all, x)
		}
	}
	return all
}

// digests returns the digests of the content, once all of it has been
// hashed and written to w.
func (h ingestHashes) digests(w BlobWriter) Digests {
	var d Digests
	if h.sha256 != nil {
		d.SHA256 = hex.EncodeToString(h.sha256.Sum(nil))
	} else {
		d.SHA256 = w.(BlobHasher).SHA256()
	}
	if h.sha1 != nil {
		d.SHA1 = hex.EncodeToString(h.sha1.Sum(nil))
	}
	if h.md5 != nil {
		d.MD5 = hex.EncodeToString(h.md5.Sum(nil))
	}
	return d
}

// ingestChunk is one buffer of content, shared by the stages that hash
// and write it; the last to finish with it puts it back in the pool.
type ingestChunk struct {
	buf  []byte
	n    int
	refs atomic.Int32
}

// ingestStage is a goroutine that gives every chunk it receives to one
// writer: a hash or the blob writer.
type ingestStage struct {
	in chan *ingestChunk
	w  io.Writer
}

// ingestChunks keeps chunks between calls of Ingest, so that ingesting
// many small items does not allocate a fresh buffer each time.
var ingestChunks = sync.Pool{New: func() any { return &ingestChunk{buf: make([]byte, ingestChunkSize)} }}

// ingestPipeline moves content from the reader to the stages through a
// small set of reusable chunks. Its methods other than the stages' run on
// the goroutine that called Ingest.
//
// Each hash has its own goroutine, so that SHA-256, SHA-1 and MD5 run side
// by side. The other way, hashing on the reading goroutine one digest
// after the other, as an io.MultiWriter does, with only the blob writer on
// a goroutine of its own, was measured on two cores with the SHA
// extensions (64 MiB into a DirBlobs, as BenchmarkIngestAllDigests does):
// with all three digests it took 136-147 ms against 109-116 ms for a
// goroutine per hash; with SHA-256 alone the two are the same code, since
// the store's writer is then the only one hashing.
type ingestPipeline struct {
	// free holds chunks no stage is using; made counts the chunks taken
	// from ingestChunks, never more than ingestBuffers.
	free   chan *ingestChunk
	made   int
	stages []*ingestStage
	wg     sync.WaitGroup
	// failed is closed when ingest fails; err says why.
	failed   chan struct{}
	hasErr   atomic.Bool
	failOnce sync.Once
	err      error
	stopped  bool
	// reported is the last count given to Progress, or -1.
	reported int64
}

// startIngestPipeline starts a stage for each writer, the blob writer
// first.
func startIngestPipeline(blob BlobWriter, hashes []io.Writer) *ingestPipeline {
	p := &ingestPipeline{
		free:     make(chan *ingestChunk, ingestBuffers),
		failed:   make(chan struct{}),
		reported: -1,
	}
	for _, w := range append([]io.Writer{blob}, hashes...) {
		st := &ingestStage{in: make(chan *ingestChunk, ingestBuffers), w: w}
		p.stages = append(p.stages, st)
		p.wg.Add(1)
		go p.run(st)
	}
	return p
}

// run is a stage's goroutine. Once ingest has failed it only gives
// chunks back.
func (p *ingestPipeline) run(st *ingestStage) {
	defer p.wg.Done()
	for c := range st.in {
		if !p.hasErr.Load() {
			if _, err := st.w.Write(c.buf[:c.n]); err != nil {
				p.fail(err)
			}
		}
		if c.refs.Add(-1) == 0 {
			p.free <- c
		}
	}
}

// fail records the first reason ingest fails and tells the reader and the
// stages.
func (p *ingestPipeline) fail(err error) {
	p.failOnce.Do(func() {
		p.err = err
		p.hasErr.Store(true)
		close(p.failed)
	})
}

// failure returns why ingest failed, or nil. Call it after stop.
func (p *ingestPipeline) failure() error { return p.err }

// stop ends the stages once they have handled every chunk sent, waits for
// them and gives the free chunks back to ingestChunks. It may be called
// more than once.
func (p *ingestPipeline) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	for _, st := range p.stages {
		close(st.in)
	}
	p.wg.Wait()
	for {
		select {
		case c := <-p.free:
			ingestChunks.Put(c)
		default:
			return
		}
	}
}

// feed reads r to its end, a chunk at a time, sends each chunk to every
// stage and reports progress. It returns the number of bytes read.
func (p *ingestPipeline) feed(ctx context.Context, r io.Reader, opts IngestOptions) (int64, error) {
	every := opts.ProgressEvery
	if every == 0 {
		every = ingestProgressEvery
	}
	var size int64
	for {
		c, err := p.chunk(ctx)
		if err != nil {
			return size, err
		}
		n, rerr := ingestFill(ctx, r, c.buf)
		size += int64(n)
		if opts.MaxSize > 0 && size > opts.MaxSize {
			p.free <- c
			return size, invalid("content", "larger than the maximum of "+strconv.FormatInt(opts.MaxSize, 10)+" bytes")
		}
		if n > 0 {
			p.send(c, n)
		} else {
			p.free <- c
		}
		if opts.Progress != nil && size-max(p.reported, 0) >= every {
			p.reported = size
			opts.Progress(size)
		}
		if rerr == io.EOF {
			return size, nil
		}
		if rerr != nil {
			return size, rerr
		}
	}
}

// chunk returns a free chunk, once there is one, taking a new one from
// ingestChunks while fewer than ingestBuffers are in use.
func (p *ingestPipeline) chunk(ctx context.Context) (*ingestChunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.hasErr.Load() {
		return nil, p.err
	}
	select {
	case c := <-p.free:
		return c, nil
	default:
	}
	if p.made < ingestBuffers {
		p.made++
		return ingestChunks.Get().(*ingestChunk), nil
	}
	select {
	case c := <-p.free:
		return c, nil
	case <-p.failed:
		return nil, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// send hands the first n bytes of c to every stage. It never blocks: each
// stage's queue has room for every chunk there is.
func (p *ingestPipeline) send(c *ingestChunk, n int) {
	c.n = n
	c.refs.Store(int32(len(p.stages)))
	for _, st := range p.stages {
		st.in <- c
	}
}

// ingestFill reads from r until buf is full, r ends or fails, or ctx
// ends. At the end of r it returns io.EOF with what it read.
func ingestFill(ctx context.Context, r io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf[n:])
		if m < 0 || m > len(buf)-n {
			return n, errors.New("reader returned an invalid count")
		}
		n += m
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("read: %w", err)
			}
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= ingestMaxEmptyReads {
			return n, fmt.Errorf("read: %w", io.ErrNoProgress)
		}
	}
	return n, nil
}

package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

// A custody bundle is one case exported as a POSIX tar stream that an
// independent party checks offline with nothing but the ledger's public key.
// Its entries come in this order, each a regular file with mode 0644, no
// owner and a modification time of the Unix epoch, so that the same case
// always exports to the same bytes:
//
//	manifest.json        the [Manifest], indented JSON
//	records.jsonl        each record's canonical encoding, one per line, in log order
//	blobs/<sha256 hex>   each item's content, in the order of the items, if included
const (
	// Format is the format name a bundle's manifest carries.
	Format = "incidentkit-custody-bundle"
	// Version is the version of the bundle format this package
	// writes and reads. A change that an older reader would misread gets
	// a new version.
	Version = 1
)

// Entry names of a bundle.
const (
	bundleManifestName = "manifest.json"
	bundleRecordsName  = "records.jsonl"
	bundleBlobPrefix   = "blobs/"
	bundleFileMode     = 0o644
)

// Default limits of [Read]; see [Limits].
const (
	DefaultMaxEntries      = 1 << 20
	DefaultMaxManifestSize = 64 << 20
	DefaultMaxRecordSize   = 1 << 20
	DefaultMaxRecords      = 1 << 22
	DefaultMaxRecordsSize  = 2 << 30
	DefaultMaxBlobSize     = 1 << 40
	DefaultMaxTotalSize    = 16 << 40
)

// bundleMaxProof is the longest consistency proof a manifest may hold: a
// proof between two trees of at most 2^63 records has fewer hashes.
const bundleMaxProof = 2 * 64

// bundleBatch is how many records Export reads from the store at a
// time.
const bundleBatch = 1024

// bundleCopyBuffer is the size of the buffer blob content is copied
// through.
const bundleCopyBuffer = 256 << 10

// bundleModTime is the modification time of every entry of a bundle.
var bundleModTime = time.Unix(0, 0)

// invalid returns the error of a malformed bundle or argument: it matches
// [evidence.ErrInvalid], as the core's own input errors do.
func invalid(field, reason string) error {
	return &evidence.InvalidError{Field: field, Reason: reason}
}

// isHex reports whether s is size bytes in lower-case hex.
func isHex(s string, size int) bool {
	if len(s) != 2*size || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Manifest is the first entry of a bundle: what the bundle holds, and
// what a verifier needs besides the records. Nothing in it is trusted: the
// items are checked against the copies in their collected records, the
// checkpoints against their signatures and the records, and the key
// against one the verifier obtained out of band (see [Trust]).
type Manifest struct {
	// Format and Version are [Format] and [Version].
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Case is the case exported; Origin is its checkpoint origin line.
	Case   evidence.CaseID `json:"case"`
	Origin string          `json:"origin"`
	// VerifierKey is the public key of the ledger that exported the case,
	// and KeyFingerprint its [evidence.KeyFingerprint].
	VerifierKey    string `json:"verifier_key"`
	KeyFingerprint string `json:"key_fingerprint"`
	// Records is how many lines records.jsonl holds.
	Records int64 `json:"records"`
	// Items are the case's items as stored, in the order they were
	// collected.
	Items []evidence.Item `json:"items"`
	// Checkpoints are the case's signed checkpoints as stored, oldest
	// first.
	Checkpoints []evidence.Checkpoint `json:"checkpoints"`
	// ConsistencyProofs holds, for each checkpoint, the proof that the log
	// it signs is a prefix of the log the latest checkpoint signs (the
	// last of the largest size); see [evidence.CheckConsistency].
	ConsistencyProofs [][]evidence.Hash `json:"consistency_proofs"`
	// BlobsIncluded says whether the bundle holds the items' content;
	// Blobs lists that content in entry order, each distinct digest once.
	BlobsIncluded bool   `json:"blobs_included"`
	Blobs         []Blob `json:"blobs"`
}

// Blob is a blob a bundle holds: the entry blobs/<SHA256>.
type Blob struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Options says what [Export] writes. The zero value exports the
// custody log without the items' content and without signing anything.
type Options struct {
	// IncludeBlobs includes each item's content.
	IncludeBlobs bool
	// Checkpoint signs and stores a checkpoint of the log's current size
	// first, and exports the log at that size, so that every record the
	// bundle holds is signed. Signatures are deterministic, so a second
	// export of an unchanged case adds no checkpoint and writes the same
	// bytes. A ledger's witness need not be reachable: a checkpoint it
	// could not witness is stored and exported all the same (the ledger
	// witnesses it on its next append or verification), so a custodian can
	// always hand evidence over.
	Checkpoint bool
}

// Export writes case c of ledger to w as a custody bundle: a POSIX tar
// stream holding the manifest, the records exactly as stored and, if
// opts.IncludeBlobs, each item's content read from blobs. The same stored
// case always exports to the same bytes.
//
// It exports what is stored at one size of the log, even if records are
// appended meanwhile: the records up to that size, the items they collect,
// and the checkpoints up to that size with their consistency proofs. It
// does not check the log (see [evidence.Ledger.Verify] and [Bundle.Verify]), but a
// bundle verifies only if a checkpoint covers all its records: sign one
// with [evidence.Ledger.Checkpoint] first, or set opts.Checkpoint.
//
// Content is streamed from blobs, verified as it is read: an item's content
// that is missing fails the export with an error matching [evidence.ErrNotFound],
// and content that no longer hashes to its digest or has another size with
// a [*evidence.TamperError]. An empty or unknown case fails with an error matching
// [evidence.ErrNotFound]. After an error, what was written to w is not a bundle.
func Export(ctx context.Context, w io.Writer, ledger *evidence.Ledger, blobs evidence.BlobStore, c evidence.CaseID, opts Options) error {
	switch {
	case ledger == nil:
		return invalid("export bundle", "no ledger")
	case w == nil:
		return invalid("export bundle", "no writer")
	case opts.IncludeBlobs && blobs == nil:
		return invalid("export bundle", "IncludeBlobs needs a blob store")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	ex, err := snapshotBundle(ctx, ledger, c, opts)
	if err != nil {
		return err
	}
	manifest, err := json.MarshalIndent(ex.manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle: export case %s: manifest: %w", c, err)
	}
	manifest = append(manifest, '\n')
	tw := tar.NewWriter(w)
	if err := writeBundleEntry(tw, bundleManifestName, int64(len(manifest))); err != nil {
		return fmt.Errorf("bundle: export case %s: %w", c, err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return fmt.Errorf("bundle: export case %s: %w", c, err)
	}
	if err := ex.writeRecords(ctx, tw); err != nil {
		return err
	}
	if err := ex.writeBlobs(ctx, tw, blobs); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("bundle: export case %s: %w", c, err)
	}
	return nil
}

// bundleExport is a case being exported, at one size of its log.
type bundleExport struct {
	store    evidence.LedgerStore
	manifest Manifest
	// recordsSize is the size of records.jsonl.
	recordsSize int64
	// owner names the first item of each blob, for errors.
	owner map[string]evidence.Item
}

// snapshotBundle reads what the bundle of case c holds, at one size of the
// log.
func snapshotBundle(ctx context.Context, l *evidence.Ledger, c evidence.CaseID, opts Options) (*bundleExport, error) {
	fail := func(err error) (*bundleExport, error) {
		return nil, fmt.Errorf("bundle: export case %s: %w", c, err)
	}
	n, err := l.Store().Size(ctx, c)
	if err != nil {
		return fail(err)
	}
	if opts.Checkpoint {
		if n, err = checkpointBundle(ctx, l, c, n); err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return fail(fmt.Errorf("the case has no records: %w", evidence.ErrNotFound))
	}
	ex := &bundleExport{store: l.Store(), owner: make(map[string]evidence.Item)}
	collected, err := ex.scanRecords(ctx, c, n)
	if err != nil {
		return nil, err
	}
	stored, err := l.Store().Items(ctx, c)
	if err != nil {
		return fail(err)
	}
	// Items collected after size n are left out with their records.
	items := make([]evidence.Item, 0, len(collected))
	for _, it := range stored {
		if collected[it.ID] {
			items = append(items, it)
		}
	}
	cps, err := l.Store().Checkpoints(ctx, c)
	if err != nil {
		return fail(err)
	}
	checkpoints := make([]evidence.Checkpoint, 0, len(cps))
	for _, cp := range cps {
		if cp.Size <= n {
			checkpoints = append(checkpoints, cp)
		}
	}
	proofs, err := bundleConsistencyProofs(ctx, l, c, checkpoints)
	if err != nil {
		return nil, err
	}
	ex.manifest = Manifest{
		Format: Format, Version: Version, Case: c, Origin: l.Origin(c),
		VerifierKey: l.VerifierKey(), KeyFingerprint: evidence.KeyFingerprint(l.VerifierKey()), Records: n,
		Items: items, Checkpoints: checkpoints, ConsistencyProofs: proofs,
		BlobsIncluded: opts.IncludeBlobs, Blobs: []Blob{},
	}
	if opts.IncludeBlobs {
		for _, it := range items {
			if _, dup := ex.owner[it.Digests.SHA256]; dup {
				continue
			}
			ex.owner[it.Digests.SHA256] = it
			ex.manifest.Blobs = append(ex.manifest.Blobs, Blob{SHA256: it.Digests.SHA256, Size: it.Size})
		}
	}
	return ex, nil
}

// checkpointBundle signs a checkpoint of case c, unless one signed by the
// ledger's key covers its n records already, and returns the size to
// export. A store need not keep a single copy of a checkpoint stored twice,
// so not signing again keeps the exports of an unchanged case identical.
func checkpointBundle(ctx context.Context, l *evidence.Ledger, c evidence.CaseID, n int64) (int64, error) {
	cps, err := l.Store().Checkpoints(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("bundle: export case %s: %w", c, err)
	}
	for _, cp := range cps {
		opened, err := evidence.OpenCheckpoint(cp.Note, l.VerifierKey())
		if n > 0 && err == nil && opened.Size == n && opened.Origin == l.Origin(c) {
			return n, nil
		}
	}
	cp, err := l.Checkpoint(ctx, c)
	if err != nil && cp.Size == 0 {
		return 0, err
	}
	// A checkpoint returned with an error was signed and stored, but not
	// witnessed: it is as sound a checkpoint to export as any other.
	return cp.Size, nil
}

// scanRecords reads records [0, n) of case c a batch at a time, and returns
// the items they collect. It sizes records.jsonl, and refuses a record
// holding a newline, which would split its line in two: a canonical
// encoding never holds one.
func (ex *bundleExport) scanRecords(ctx context.Context, c evidence.CaseID, n int64) (map[evidence.ItemID]bool, error) {
	collected := make(map[evidence.ItemID]bool)
	err := ex.eachRecord(ctx, c, n, func(i int64, data []byte) error {
		if bytes.IndexByte(data, '\n') >= 0 {
			return &evidence.TamperError{Case: c, Record: i, What: "record", Expected: "a canonical record", Found: "a newline in the record"}
		}
		ex.recordsSize += int64(len(data)) + 1
		// Undecodable records are exported as they are: finding them
		// is the verifier's job.
		var r struct {
			Snapshot *struct {
				ID evidence.ItemID `json:"id"`
			} `json:"snapshot"`
		}
		if json.Unmarshal(data, &r) == nil && r.Snapshot != nil {
			collected[r.Snapshot.ID] = true
		}
		return nil
	})
	return collected, err
}

// eachRecord calls f with each record [0, n) of case c, reading them a
// batch at a time.
func (ex *bundleExport) eachRecord(ctx context.Context, c evidence.CaseID, n int64, f func(i int64, data []byte) error) error {
	for start := int64(0); start < n; start += bundleBatch {
		end := min(start+bundleBatch, n)
		batch, err := ex.store.Records(ctx, c, start, end)
		if err != nil {
			return fmt.Errorf("bundle: export case %s: %w", c, err)
		}
		if int64(len(batch)) != end-start {
			return fmt.Errorf("bundle: export case %s: the store returned %d records of [%d, %d)", c, len(batch), start, end)
		}
		for i, data := range batch {
			if err := f(start+int64(i), data); err != nil {
				return err
			}
		}
	}
	return nil
}

// bundleConsistencyProofs proves each checkpoint's log a prefix of the latest
// one's.
func bundleConsistencyProofs(ctx context.Context, l *evidence.Ledger, c evidence.CaseID, cps []evidence.Checkpoint) ([][]evidence.Hash, error) {
	proofs := make([][]evidence.Hash, len(cps))
	latest := bundleLatestCheckpoint(cps)
	for i, cp := range cps {
		proofs[i] = []evidence.Hash{}
		if cp.Size < 1 || cp.Size >= cps[latest].Size {
			continue
		}
		p, err := l.ProveConsistency(ctx, c, cp.Size, cps[latest].Size)
		if err != nil {
			return nil, err
		}
		proofs[i] = p
	}
	return proofs, nil
}

// latestCheckpoint returns the index of the last of the largest
// checkpoints, or -1 if there is none.
func bundleLatestCheckpoint(cps []evidence.Checkpoint) int {
	latest := -1
	for i, cp := range cps {
		if latest < 0 || cp.Size >= cps[latest].Size {
			latest = i
		}
	}
	return latest
}

// writeRecords writes records.jsonl, reading the records again a batch at
// a time.
func (ex *bundleExport) writeRecords(ctx context.Context, tw *tar.Writer) error {
	c := ex.manifest.Case
	if err := writeBundleEntry(tw, bundleRecordsName, ex.recordsSize); err != nil {
		return fmt.Errorf("bundle: export case %s: %w", c, err)
	}
	return ex.eachRecord(ctx, c, ex.manifest.Records, func(i int64, data []byte) error {
		if bytes.IndexByte(data, '\n') >= 0 {
			return &evidence.TamperError{Case: c, Record: i, What: "record", Expected: "a canonical record", Found: "a newline in the record"}
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("bundle: export case %s: record %d: %w", c, i, err)
		}
		if _, err := tw.Write([]byte{'\n'}); err != nil {
			return fmt.Errorf("bundle: export case %s: record %d: %w", c, i, err)
		}
		return nil
	})
}

// writeBlobs writes the content of the items, streamed from blobs.
func (ex *bundleExport) writeBlobs(ctx context.Context, tw *tar.Writer, blobs evidence.BlobStore) error {
	buf := make([]byte, bundleCopyBuffer)
	for _, b := range ex.manifest.Blobs {
		if err := ex.writeBlob(ctx, tw, blobs, b, buf); err != nil {
			return err
		}
	}
	return nil
}

func (ex *bundleExport) writeBlob(ctx context.Context, tw *tar.Writer, blobs evidence.BlobStore, b Blob, buf []byte) error {
	it := ex.owner[b.SHA256]
	tampered := func(expected, found string) error {
		return &evidence.TamperError{Case: it.CaseID, Item: it.ID, Record: -1, What: "blob", Expected: expected, Found: found}
	}
	size, err := blobs.Stat(ctx, b.SHA256)
	if err != nil {
		return fmt.Errorf("bundle: export: content of item %s (%s): %w", it.ID, it.Exhibit, err)
	}
	if size != b.Size {
		return tampered(fmt.Sprintf("%d bytes", b.Size), fmt.Sprintf("%d bytes", size))
	}
	rc, err := blobs.Open(ctx, b.SHA256)
	if err != nil {
		return fmt.Errorf("bundle: export: content of item %s (%s): %w", it.ID, it.Exhibit, err)
	}
	defer rc.Close()
	if err := writeBundleEntry(tw, bundleBlobPrefix+b.SHA256, b.Size); err != nil {
		return fmt.Errorf("bundle: export: content of item %s: %w", it.ID, err)
	}
	n, err := io.CopyBuffer(tw, bundleOnlyReader{bundleContextReader{ctx, rc}}, buf)
	var te *evidence.TamperError
	switch {
	case errors.As(err, &te):
		te.Case, te.Item = it.CaseID, it.ID
		return te
	case errors.Is(err, tar.ErrWriteTooLong):
		return tampered(fmt.Sprintf("%d bytes", b.Size), "more bytes")
	case err != nil:
		return fmt.Errorf("bundle: export: content of item %s: %w", it.ID, err)
	case n != b.Size:
		return tampered(fmt.Sprintf("%d bytes", b.Size), fmt.Sprintf("%d bytes", n))
	}
	return nil
}

// writeBundleEntry writes the header of a regular file of a bundle. The
// format is USTAR, or PAX for content of 8 GiB or more; both are
// deterministic.
func writeBundleEntry(tw *tar.Writer, name string, size int64) error {
	return tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     bundleFileMode,
		ModTime:  bundleModTime,
	})
}

// bundleOnlyReader hides any method of a reader but Read, so that io.CopyBuffer
// uses the buffer it is given.
type bundleOnlyReader struct{ r io.Reader }

func (o bundleOnlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// bundleContextReader fails reads once ctx has ended.
type bundleContextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c bundleContextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Limits bounds what [Read] accepts, so that a hostile bundle
// cannot exhaust memory or disk. A zero field means its default. Whatever
// the limits, blob content is streamed and never held in memory; the
// manifest and the records are, as [evidence.VerifyLog] needs them.
type Limits struct {
	// MaxEntries bounds the number of entries; default
	// [DefaultMaxEntries].
	MaxEntries int
	// MaxManifestSize bounds the manifest, in bytes; default
	// [DefaultMaxManifestSize] (64 MiB).
	MaxManifestSize int64
	// MaxRecordSize bounds one record, in bytes; default
	// [DefaultMaxRecordSize] (1 MiB).
	MaxRecordSize int64
	// MaxRecords bounds the number of records; default
	// [DefaultMaxRecords].
	MaxRecords int64
	// MaxRecordsSize bounds records.jsonl, in bytes: the memory the
	// records take; default [DefaultMaxRecordsSize] (2 GiB).
	MaxRecordsSize int64
	// MaxBlobSize bounds one blob, in bytes; default
	// [DefaultMaxBlobSize] (1 TiB, as disk images are often larger
	// than 64 GiB).
	MaxBlobSize int64
	// MaxTotalSize bounds the whole bundle, in bytes; default
	// [DefaultMaxTotalSize] (16 TiB).
	MaxTotalSize int64
}

// withDefaults returns the limits with defaults for zero fields, or an
// [*evidence.InvalidError] if one is negative.
func (l Limits) withDefaults() (Limits, error) {
	def := func(v *int64, d int64, name string) error {
		switch {
		case *v < 0:
			return invalid("bundle limits", name+" is negative")
		case *v == 0:
			*v = d
		}
		return nil
	}
	if l.MaxEntries < 0 {
		return l, invalid("bundle limits", "MaxEntries is negative")
	}
	if l.MaxEntries == 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	for _, f := range []struct {
		v    *int64
		d    int64
		name string
	}{
		{&l.MaxManifestSize, DefaultMaxManifestSize, "MaxManifestSize"},
		{&l.MaxRecordSize, DefaultMaxRecordSize, "MaxRecordSize"},
		{&l.MaxRecords, DefaultMaxRecords, "MaxRecords"},
		{&l.MaxRecordsSize, DefaultMaxRecordsSize, "MaxRecordsSize"},
		{&l.MaxBlobSize, DefaultMaxBlobSize, "MaxBlobSize"},
		{&l.MaxTotalSize, DefaultMaxTotalSize, "MaxTotalSize"},
	} {
		if err := def(f.v, f.d, f.name); err != nil {
			return l, err
		}
	}
	return l, nil
}

// Bundle is a custody bundle as read by [Read]: its manifest and
// records, held in memory, and what reading each blob found. Reading checks
// only the bundle's form; [Bundle.Verify] checks what it says. A Bundle is
// not safe for concurrent use while it is modified.
type Bundle struct {
	Manifest Manifest
	// Records are the lines of records.jsonl, without their newlines.
	Records [][]byte
	// Blobs says what was read in each blob entry, in entry order.
	Blobs []BlobCheck
}

// BlobCheck is what [Read] found in one blob entry.
type BlobCheck struct {
	// SHA256 is the digest the entry is named after; Size is how many
	// bytes it held.
	SHA256 string
	Size   int64
	// Digests are those of the content read: SHA-256 always, SHA-1 and
	// MD5 when an item with that content declares them.
	Digests evidence.Digests
	// Stored reports whether the content was committed to the blob store
	// given to Read, which happens only when it hashes to its name.
	Stored bool
}

// Read reads a custody bundle from r without trusting it, and
// returns it for [Bundle.Verify]. It refuses, with an [*evidence.InvalidError]
// matching [evidence.ErrInvalid], anything that is not a well-formed bundle within
// limits: entries that are not regular files (symbolic and hard links,
// devices, directories), names other than manifest.json, records.jsonl and
// blobs/ followed by 64 lower-case hex digits (so absolute paths and ".."
// are refused), duplicate, missing, unexpected or misordered entries, a
// manifest that is not JSON of a known format and version, records that
// are not one per line, and counts and sizes that disagree with the
// manifest or exceed limits. It checks sizes before reading or allocating.
//
// Blob content is streamed, never held in memory: each blob is hashed as it
// is read (with SHA-1 and MD5 too when an item declares them) and, if blobs
// is not nil, written to it and committed under its name if, and only if,
// it hashes to that name. Blobs are content-addressed, so staging them is
// harmless even if the bundle turns out not to verify. With blobs nil,
// content is checked and discarded.
//
// Errors reading r are returned wrapped; Read notices the end of ctx
// between reads.
func Read(ctx context.Context, r io.Reader, blobs evidence.BlobStore, limits Limits) (*Bundle, error) {
	if r == nil {
		return nil, invalid("read bundle", "no reader")
	}
	lim, err := limits.withDefaults()
	if err != nil {
		return nil, err
	}
	src := &bundleSource{ctx: ctx, r: r, max: lim.MaxTotalSize}
	br := &bundleReader{ctx: ctx, src: src, tr: tar.NewReader(src), lim: lim, blobs: blobs, seen: make(map[string]bool)}
	b, err := br.read()
	if err != nil {
		return nil, br.explain(err)
	}
	return b, nil
}

// bundleSource is the reader under the tar reader: it counts bytes against
// the limit and keeps the error of the underlying reader, which tells an
// I/O failure from a malformed bundle.
type bundleSource struct {
	ctx      context.Context
	r        io.Reader
	n, max   int64
	err      error
	tooLarge bool
}

func (s *bundleSource) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	// Read one byte more than the limit allows, to tell a bundle of
	// exactly the limit from a larger one.
	if room := s.max - s.n; int64(len(p)) > room {
		p = p[:room+1]
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.n > s.max {
		s.tooLarge = true
		s.err = invalid("bundle", "larger than the limit of "+strconv.FormatInt(s.max, 10)+" bytes")
		return n, s.err
	}
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// bundleReader reads one bundle.
type bundleReader struct {
	ctx     context.Context
	src     *bundleSource
	tr      *tar.Reader
	lim     Limits
	blobs   evidence.BlobStore
	entries int
	seen    map[string]bool
	// entry is the name of the entry being read, for errors.
	entry string
}

// explain turns an error met while reading into the error Read
// returns.
func (br *bundleReader) explain(err error) error {
	var inv *evidence.InvalidError
	switch {
	case errors.As(err, &inv):
		return err
	case br.src.tooLarge:
		return br.src.err
	case br.src.err != nil:
		return fmt.Errorf("bundle: read: %w", br.src.err)
	case isBundleStoreError(err), br.ctx.Err() != nil && errors.Is(err, br.ctx.Err()):
		return err // already says where it came from
	}
	// Anything else is the tar reader refusing what it read.
	where := "bundle"
	if br.entry != "" {
		where = "bundle entry " + strconv.Quote(br.entry)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return invalid(where, "truncated")
	}
	return invalid(where, err.Error())
}

// bundleStoreError is an error of the blob store Read writes to.
type bundleStoreError struct{ err error }

func (e *bundleStoreError) Error() string { return e.err.Error() }
func (e *bundleStoreError) Unwrap() error { return e.err }

func isBundleStoreError(err error) bool {
	var se *bundleStoreError
	return errors.As(err, &se)
}

func (br *bundleReader) read() (*Bundle, error) {
	b := &Bundle{}
	hdr, err := br.next(bundleManifestName)
	if err != nil {
		return nil, err
	}
	if b.Manifest, err = br.readManifest(hdr); err != nil {
		return nil, err
	}
	if hdr, err = br.next(bundleRecordsName); err != nil {
		return nil, err
	}
	if b.Records, err = br.readRecords(hdr, b.Manifest.Records); err != nil {
		return nil, err
	}
	extra := bundleExtraDigests(b.Manifest.Items)
	buf := make([]byte, bundleCopyBuffer)
	for _, want := range b.Manifest.Blobs {
		if hdr, err = br.next(bundleBlobPrefix + want.SHA256); err != nil {
			return nil, err
		}
		if hdr.Size != want.Size {
			return nil, invalid("bundle entry "+strconv.Quote(hdr.Name), fmt.Sprintf("holds %d bytes, the manifest says %d", hdr.Size, want.Size))
		}
		check, err := br.readBlob(want, extra[want.SHA256], buf)
		if err != nil {
			return nil, err
		}
		b.Blobs = append(b.Blobs, check)
	}
	br.entry = ""
	hdr, err = br.tr.Next()
	switch {
	case err == io.EOF:
		return b, nil
	case err != nil && !errors.Is(err, tar.ErrInsecurePath):
		return nil, err
	}
	return nil, br.unexpected(hdr, "")
}

// next reads the next entry's header and checks it is the regular file
// want.
func (br *bundleReader) next(want string) (*tar.Header, error) {
	br.entry = ""
	if err := br.ctx.Err(); err != nil {
		return nil, fmt.Errorf("bundle: read: %w", err)
	}
	hdr, err := br.tr.Next()
	if err == io.EOF {
		return nil, invalid("bundle", "entry "+strconv.Quote(want)+" is missing")
	}
	if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
		return nil, err
	}
	br.entries++
	if br.entries > br.lim.MaxEntries {
		return nil, invalid("bundle", "more than "+strconv.Itoa(br.lim.MaxEntries)+" entries")
	}
	if hdr.Name != want {
		return nil, br.unexpected(hdr, want)
	}
	if err := checkBundleHeader(hdr); err != nil {
		return nil, err
	}
	br.seen[hdr.Name] = true
	br.entry = hdr.Name
	return hdr, nil
}

// unexpected explains why an entry other than want was found.
func (br *bundleReader) unexpected(hdr *tar.Header, want string) error {
	field := "bundle entry " + strconv.Quote(hdr.Name)
	if err := checkBundleHeader(hdr); err != nil {
		return err
	}
	if reason := bundleNameProblem(hdr.Name); reason != "" {
		return invalid(field, reason)
	}
	switch {
	case br.seen[hdr.Name]:
		return invalid(field, "duplicate entry")
	case want == "":
		return invalid(field, "not listed in the manifest")
	case strings.HasPrefix(want, bundleBlobPrefix) && strings.HasPrefix(hdr.Name, bundleBlobPrefix):
		return invalid(field, "out of order or not listed in the manifest: expected "+strconv.Quote(want))
	}
	return invalid(field, "out of order: expected "+strconv.Quote(want))
}

// checkBundleHeader refuses anything but a plain regular file.
func checkBundleHeader(hdr *tar.Header) error {
	field := "bundle entry " + strconv.Quote(hdr.Name)
	if hdr.Typeflag != tar.TypeReg {
		return invalid(field, "not a regular file ("+bundleTypeName(hdr.Typeflag)+")")
	}
	for k := range hdr.PAXRecords {
		if k != "size" {
			return invalid(field, "unexpected PAX record "+strconv.Quote(k))
		}
	}
	if hdr.Size < 0 {
		return invalid(field, "negative size")
	}
	return nil
}

// bundleNameProblem says what is wrong with an entry name no bundle has,
// or "" if it is a name a bundle may have.
func bundleNameProblem(name string) string {
	switch {
	case name == bundleManifestName || name == bundleRecordsName:
		return ""
	case strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || (len(name) > 1 && name[1] == ':'):
		return "absolute path"
	case strings.Contains(name, "\\"):
		return "backslash in name"
	case path.Clean(name) != name || strings.Contains(name, ".."):
		return "not a clean relative path"
	case strings.HasPrefix(name, bundleBlobPrefix):
		if !isHex(strings.TrimPrefix(name, bundleBlobPrefix), sha256.Size) {
			return "a blob is named blobs/ and 64 lower-case hex digits"
		}
		return ""
	}
	return "unknown entry"
}

func bundleTypeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeDir:
		return "directory"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeFifo:
		return "FIFO"
	}
	return "type " + strconv.Quote(string(rune(t)))
}

// readManifest reads and checks the manifest.
func (br *bundleReader) readManifest(hdr *tar.Header) (Manifest, error) {
	field := "bundle manifest"
	if hdr.Size > br.lim.MaxManifestSize {
		return Manifest{}, invalid(field, fmt.Sprintf("%d bytes, more than the limit of %d", hdr.Size, br.lim.MaxManifestSize))
	}
	data, err := io.ReadAll(br.tr)
	if err != nil {
		return Manifest{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, invalid(field, err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return Manifest{}, invalid(field, "data after the JSON object")
	}
	if err := checkBundleManifest(m, br.lim); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// checkBundleManifest checks the manifest's form and that it is within limits.
func checkBundleManifest(m Manifest, lim Limits) error {
	field := "bundle manifest"
	if m.Format != Format || m.Version != Version {
		return invalid(field, fmt.Sprintf("format %q version %d; this reader knows %q version %d", m.Format, m.Version, Format, Version))
	}
	if err := m.Case.Validate(); err != nil {
		return invalid(field, "case: "+err.Error())
	}
	if !strings.HasSuffix(m.Origin, "/"+string(m.Case)) || strings.ContainsAny(m.Origin, " \t\r\n") {
		return invalid(field, "origin "+strconv.Quote(m.Origin)+" is not the origin of a log of case "+string(m.Case))
	}
	if _, err := note.NewVerifier(m.VerifierKey); err != nil {
		return invalid(field, "verifier key: "+err.Error())
	}
	if m.KeyFingerprint != evidence.KeyFingerprint(m.VerifierKey) {
		return invalid(field, "the key fingerprint is not the verifier key's")
	}
	if m.Records < 0 || m.Records > lim.MaxRecords {
		return invalid(field, fmt.Sprintf("%d records; the limit is %d", m.Records, lim.MaxRecords))
	}
	ids := make(map[evidence.ItemID]bool, len(m.Items))
	for i, it := range m.Items {
		if err := checkBundleItem(m.Case, it); err != nil {
			return invalid(field, fmt.Sprintf("item %d: %v", i, err))
		}
		if ids[it.ID] {
			return invalid(field, "item "+strconv.Quote(string(it.ID))+" is listed twice")
		}
		ids[it.ID] = true
	}
	if len(m.ConsistencyProofs) != len(m.Checkpoints) {
		return invalid(field, fmt.Sprintf("%d consistency proofs for %d checkpoints", len(m.ConsistencyProofs), len(m.Checkpoints)))
	}
	for i, p := range m.ConsistencyProofs {
		if len(p) > bundleMaxProof {
			return invalid(field, fmt.Sprintf("consistency proof %d has %d hashes", i, len(p)))
		}
	}
	return checkBundleManifestBlobs(m, lim)
}

func checkBundleItem(c evidence.CaseID, it evidence.Item) error {
	switch {
	case it.ID == "":
		return errors.New("no ID")
	case it.CaseID != c:
		return fmt.Errorf("of case %q", it.CaseID)
	case it.Size < 0:
		return errors.New("negative size")
	}
	return it.Digests.Validate()
}

// checkBundleManifestBlobs checks the list of blobs is the form Read
// expects and within limits.
func checkBundleManifestBlobs(m Manifest, lim Limits) error {
	field := "bundle manifest"
	if !m.BlobsIncluded && len(m.Blobs) > 0 {
		return invalid(field, "blobs listed but not included")
	}
	if len(m.Blobs) > lim.MaxEntries-2 {
		return invalid(field, fmt.Sprintf("%d blobs; the limit is %d entries", len(m.Blobs), lim.MaxEntries))
	}
	seen := make(map[string]bool, len(m.Blobs))
	var total int64
	for _, b := range m.Blobs {
		if err := (evidence.Digests{SHA256: b.SHA256}).Validate(); err != nil {
			return invalid(field, "blob: "+err.Error())
		}
		if seen[b.SHA256] {
			return invalid(field, "blob "+b.SHA256+" is listed twice")
		}
		seen[b.SHA256] = true
		if b.Size < 0 || b.Size > lim.MaxBlobSize {
			return invalid(field, fmt.Sprintf("blob %s of %d bytes; the limit is %d", b.SHA256, b.Size, lim.MaxBlobSize))
		}
		if total += b.Size; total > lim.MaxTotalSize {
			return invalid(field, fmt.Sprintf("blobs of more than %d bytes in all, the limit", lim.MaxTotalSize))
		}
	}
	return nil
}

// readRecords reads records.jsonl: n records, one per line.
func (br *bundleReader) readRecords(hdr *tar.Header, n int64) ([][]byte, error) {
	field := "bundle records"
	if hdr.Size > br.lim.MaxRecordsSize {
		return nil, invalid(field, fmt.Sprintf("%d bytes, more than the limit of %d", hdr.Size, br.lim.MaxRecordsSize))
	}
	// Each record takes at least two bytes with its newline.
	if n > hdr.Size/2 {
		return nil, invalid(field, fmt.Sprintf("%d bytes cannot hold the %d records the manifest declares", hdr.Size, n))
	}
	r := bufio.NewReaderSize(br.tr, int(min(64<<10, max(hdr.Size, 16))))
	records := make([][]byte, 0, min(n, 1024))
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if int64(len(line))+int64(len(frag)) > br.lim.MaxRecordSize+1 {
			return nil, invalid(field, fmt.Sprintf("record %d is longer than the limit of %d bytes", len(records), br.lim.MaxRecordSize))
		}
		line = append(line, frag...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) == 0:
			if int64(len(records)) != n {
				return nil, invalid(field, fmt.Sprintf("%d records; the manifest declares %d", len(records), n))
			}
			return records, nil
		case err == io.EOF:
			return nil, invalid(field, "the last record does not end with a newline")
		case err != nil:
			return nil, err
		}
		if int64(len(records)) == n {
			return nil, invalid(field, fmt.Sprintf("more records than the %d the manifest declares", n))
		}
		if len(line) == 1 {
			return nil, invalid(field, fmt.Sprintf("record %d is an empty line", len(records)))
		}
		records = append(records, bytes.Clone(line[:len(line)-1]))
		line = line[:0]
	}
}

// bundleExtra says which digests other than SHA-256 items with some
// content declare.
type bundleExtra struct{ sha1, md5 bool }

// bundleExtraDigests returns, for each content digest, the other digests
// items with that content declare.
func bundleExtraDigests(items []evidence.Item) map[string]bundleExtra {
	extra := make(map[string]bundleExtra)
	for _, it := range items {
		e := extra[it.Digests.SHA256]
		e.sha1 = e.sha1 || it.Digests.SHA1 != ""
		e.md5 = e.md5 || it.Digests.MD5 != ""
		extra[it.Digests.SHA256] = e
	}
	return extra
}

// readBlob streams one blob's content through its hashes, and into the
// blob store if there is one.
func (br *bundleReader) readBlob(want Blob, extra bundleExtra, buf []byte) (BlobCheck, error) {
	check := BlobCheck{SHA256: want.SHA256}
	var writers []io.Writer
	var w evidence.BlobWriter
	if br.blobs != nil {
		var err error
		if w, err = br.blobs.Create(br.ctx); err != nil {
			return check, &bundleStoreError{fmt.Errorf("bundle: read: store blob %s: %w", want.SHA256, err)}
		}
		defer func() { _ = w.Abort() }()
		writers = append(writers, bundleStoreWriter{w})
	}
	// The stores of this package hash what they are given already.
	sum256 := func() string { return w.(evidence.BlobHasher).SHA256() }
	if _, ok := w.(evidence.BlobHasher); !ok {
		h := sha256.New()
		writers = append(writers, h)
		sum256 = func() string { return hex.EncodeToString(h.Sum(nil)) }
	}
	var sum1, sum5 hash.Hash
	if extra.sha1 {
		sum1 = sha1.New()
		writers = append(writers, sum1)
	}
	if extra.md5 {
		sum5 = md5.New()
		writers = append(writers, sum5)
	}
	n, err := io.CopyBuffer(io.MultiWriter(writers...), bundleOnlyReader{br.tr}, buf)
	check.Size = n
	if err != nil {
		return check, err
	}
	check.Digests.SHA256 = sum256()
	if sum1 != nil {
		check.Digests.SHA1 = hex.EncodeToString(sum1.Sum(nil))
	}
	if sum5 != nil {
		check.Digests.MD5 = hex.EncodeToString(sum5.Sum(nil))
	}
	if w != nil && check.Digests.SHA256 == want.SHA256 {
		if err := w.Commit(br.ctx, want.SHA256); err != nil {
			return check, &bundleStoreError{fmt.Errorf("bundle: read: store blob %s: %w", want.SHA256, err)}
		}
		check.Stored = true
	}
	return check, nil
}

// bundleStoreWriter marks errors of a blob writer as the store's.
type bundleStoreWriter struct{ w evidence.BlobWriter }

func (s bundleStoreWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		err = &bundleStoreError{fmt.Errorf("bundle: read: store blob: %w", err)}
	}
	return n, err
}

// Trust is what the verifier of a bundle trusts, obtained out of
// band: not from the bundle, since whoever alters a bundle can sign it
// again with a key of their own and put that key in the manifest.
//
// The zero value trusts the key the bundle carries. The bundle is then only
// shown consistent with itself and signed by whoever holds that key, which
// could be anyone; the [Report] says so with KeyTrusted false.
type Trust struct {
	// VerifierKey is the ledger's public key. Every checkpoint must be
	// signed by it, and the bundle must carry it.
	VerifierKey string
	// Fingerprint is the [evidence.KeyFingerprint] of the ledger's public key, a
	// shorter value to compare by eye or read over the phone: the key
	// the bundle carries must have it. Upper-case hex is accepted.
	Fingerprint string
	// Checkpoints are signed checkpoint notes of the case's log that the
	// verifier kept from earlier. Each must be signed by the trusted key
	// and sign a prefix of the bundle's log, which shows that the log was
	// not rewritten since, even by the key's holder.
	Checkpoints [][]byte
}

// Validate returns an [*evidence.InvalidError] if the trust is malformed: a key
// that is not a verifier key, a fingerprint that is not 64 hex digits, or
// both given and not matching. [Bundle.Verify] and [Import] refuse
// such trust.
func (t Trust) Validate() error {
	_, err := t.validate()
	return err
}

// validate checks the trust is well formed, and returns it with the
// fingerprint in lower case.
func (t Trust) validate() (Trust, error) {
	if t.VerifierKey != "" {
		if _, err := note.NewVerifier(t.VerifierKey); err != nil {
			return t, invalid("trusted verifier key", err.Error())
		}
	}
	if t.Fingerprint != "" {
		t.Fingerprint = strings.ToLower(t.Fingerprint)
		if !isHex(t.Fingerprint, sha256.Size) {
			return t, invalid("trusted key fingerprint", "want 64 hex digits")
		}
		if t.VerifierKey != "" && evidence.KeyFingerprint(t.VerifierKey) != t.Fingerprint {
			return t, invalid("trusted key fingerprint", "not the fingerprint of the trusted verifier key")
		}
	}
	return t, nil
}

// Report is the outcome of verifying a custody bundle: the
// [evidence.Report] on its custody log, with what is particular to a bundle.
type Report struct {
	evidence.Report
	// Origin is the log's checkpoint origin.
	Origin string
	// VerifierKey is the key the checkpoints were checked with, and
	// KeyFingerprint its fingerprint.
	VerifierKey, KeyFingerprint string
	// KeyTrusted reports whether the key was compared with a key or a
	// fingerprint the caller obtained out of band. If false, the
	// bundle's own key was trusted.
	KeyTrusted bool
	// TrustedCheckpoints counts the caller's own checkpoints checked
	// against the log; Report.Checkpoints counts the bundle's.
	TrustedCheckpoints int
	// Signed is how many records the bundle's latest checkpoint covers.
	Signed int64
	// BlobsIncluded reports whether the bundle holds the items' content;
	// BlobsChecked counts the items whose content was found and checked.
	BlobsIncluded bool
	BlobsChecked  int
}

// Verdict returns a one-line verdict: "VERIFIED: " and what was verified,
// or "FAILED: " and the number of problems, which Problems lists.
func (r *Report) Verdict() string {
	if !r.OK() {
		return fmt.Sprintf("FAILED: %d %s", len(r.Problems), bundlePlural(len(r.Problems), "problem"))
	}
	content := "content not included"
	if r.BlobsIncluded {
		content = fmt.Sprintf("content of %d %s checked", r.BlobsChecked, bundlePlural(r.BlobsChecked, "item"))
	}
	key := "key given by the caller"
	if !r.KeyTrusted {
		key = "the bundle's own key trusted"
	}
	return fmt.Sprintf("VERIFIED: case %s, %d %s, %d %s, %d %s, %s, %s", r.Case,
		r.Size, bundlePlural(r.Size, "record"), r.Items, bundlePlural(r.Items, "item"),
		r.Checkpoints, bundlePlural(r.Checkpoints, "checkpoint"), content, key)
}

func bundlePlural[N int | int64](n N, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// CaseLog returns the custody log the bundle holds, for [evidence.VerifyLog].
func (b *Bundle) CaseLog() evidence.CaseLog {
	m := b.Manifest
	return evidence.CaseLog{Case: m.Case, Origin: m.Origin, Records: b.Records, Items: m.Items, Checkpoints: m.Checkpoints}
}

// Verify checks a bundle offline: everything [evidence.VerifyLog] checks, with the
// key trust names or, if trust is the zero value, the key the bundle
// carries; that the bundle carries the trusted key; that a checkpoint
// covers all its records; every consistency proof of the manifest; each of
// the caller's own checkpoints; and, if the bundle includes content, that
// each item's content is there, hashes to its digests and has its size.
// It lists every problem found in the report, each a [*evidence.TamperError] or an
// error saying why a check could not be made, and returns an error only if
// trust is malformed (see [Trust.Validate]).
func (b *Bundle) Verify(trust Trust) (*Report, error) {
	trust, err := trust.validate()
	if err != nil {
		return nil, err
	}
	m := b.Manifest
	rep := &Report{Origin: m.Origin, VerifierKey: m.VerifierKey, KeyFingerprint: evidence.KeyFingerprint(m.VerifierKey),
		BlobsIncluded: m.BlobsIncluded, TrustedCheckpoints: len(trust.Checkpoints)}
	var keyProblems []error
	keyProblem := func(expected, found string) {
		keyProblems = append(keyProblems, &evidence.TamperError{Case: m.Case, Record: -1, What: "verifier key", Expected: expected, Found: found})
	}
	switch {
	case trust.VerifierKey != "":
		rep.KeyTrusted = true
		if m.VerifierKey != trust.VerifierKey {
			keyProblem("the trusted key "+trust.VerifierKey, "the key "+m.VerifierKey)
		}
		rep.VerifierKey, rep.KeyFingerprint = trust.VerifierKey, evidence.KeyFingerprint(trust.VerifierKey)
	case trust.Fingerprint != "":
		rep.KeyTrusted = true
		if rep.KeyFingerprint != trust.Fingerprint {
			keyProblem("a key of fingerprint "+trust.Fingerprint, "the key "+m.VerifierKey+" of fingerprint "+rep.KeyFingerprint)
		}
	}
	log := b.CaseLog()
	log.Checkpoints = append(append([]evidence.Checkpoint(nil), m.Checkpoints...), bundleTrustedCheckpoints(m.Case, trust.Checkpoints, rep.VerifierKey, &keyProblems)...)
	rep.Report = *evidence.VerifyLog(log, rep.VerifierKey)
	rep.Checkpoints = len(m.Checkpoints)
	rep.Problems = append(keyProblems, rep.Problems...)
	b.checkSigned(rep)
	b.checkProofs(rep)
	b.checkBlobs(rep)
	return rep, nil
}

// bundleTrustedCheckpoints opens the caller's checkpoint notes, so that VerifyLog
// checks them with the bundle's.
func bundleTrustedCheckpoints(c evidence.CaseID, notes [][]byte, vkey string, problems *[]error) []evidence.Checkpoint {
	var out []evidence.Checkpoint
	for _, n := range notes {
		cp, err := evidence.OpenCheckpoint(n, vkey)
		if err != nil {
			var te *evidence.TamperError
			if errors.As(err, &te) {
				te.Case, te.What = c, "trusted checkpoint"
			}
			*problems = append(*problems, err)
			continue
		}
		out = append(out, cp)
	}
	return out
}

// checkSigned checks a checkpoint signed by the key covers every record.
func (b *Bundle) checkSigned(rep *Report) {
	m := b.Manifest
	latest := -1
	for i, cp := range m.Checkpoints {
		opened, err := evidence.OpenCheckpoint(cp.Note, rep.VerifierKey)
		if err != nil || opened.Origin != m.Origin {
			continue // VerifyLog reported it
		}
		if latest < 0 || opened.Size >= rep.Signed {
			latest, rep.Signed = i, opened.Size
		}
	}
	n := int64(len(b.Records))
	switch {
	case latest < 0:
		rep.Problems = append(rep.Problems, &evidence.TamperError{Case: m.Case, Record: -1, What: "checkpoint",
			Expected: "a checkpoint signed by the key", Found: "none: the records are signed by no one"})
	case rep.Signed < n:
		rep.Problems = append(rep.Problems, &evidence.TamperError{Case: m.Case, Record: rep.Signed, What: "checkpoint",
			Expected: fmt.Sprintf("a checkpoint signing all %d records", n), Found: fmt.Sprintf("the latest signs %d; records from %d on are signed by no one", rep.Signed, rep.Signed)})
	}
}

// checkProofs checks each consistency proof of the manifest.
func (b *Bundle) checkProofs(rep *Report) {
	m := b.Manifest
	if len(m.ConsistencyProofs) != len(m.Checkpoints) {
		rep.Problems = append(rep.Problems, &evidence.TamperError{Case: m.Case, Record: -1, What: "consistency proof",
			Expected: fmt.Sprintf("%d proofs", len(m.Checkpoints)), Found: fmt.Sprintf("%d", len(m.ConsistencyProofs))})
		return
	}
	latest := bundleLatestCheckpoint(m.Checkpoints)
	if latest < 0 {
		return
	}
	newer, err := evidence.OpenCheckpoint(m.Checkpoints[latest].Note, rep.VerifierKey)
	if err != nil {
		return // VerifyLog reported it
	}
	for i, cp := range m.Checkpoints {
		older, err := evidence.OpenCheckpoint(cp.Note, rep.VerifierKey)
		if err != nil || older.Size < 1 {
			continue // VerifyLog reported it; an empty log proves nothing
		}
		err = evidence.CheckConsistency(m.ConsistencyProofs[i], newer.Size, newer.Root, older.Size, older.Root)
		var te *evidence.TamperError
		if errors.As(err, &te) {
			te.Case = m.Case
			te.What = fmt.Sprintf("consistency proof of checkpoint %d", i)
		}
		if err != nil {
			rep.Problems = append(rep.Problems, err)
		}
	}
}

// checkBlobs checks the content the bundle includes against the items.
func (b *Bundle) checkBlobs(rep *Report) {
	m := b.Manifest
	if !m.BlobsIncluded {
		return
	}
	problem := func(item evidence.ItemID, expected, found string) {
		rep.Problems = append(rep.Problems, &evidence.TamperError{Case: m.Case, Item: item, Record: -1, What: "blob", Expected: expected, Found: found})
	}
	owned := make(map[string]bool, len(m.Items))
	for _, it := range m.Items {
		owned[it.Digests.SHA256] = true
	}
	read := make(map[string]BlobCheck, len(b.Blobs))
	for _, bc := range b.Blobs {
		if !owned[bc.SHA256] {
			problem("", "only content of the case's items", "content "+bc.SHA256+" of no item")
			continue
		}
		read[bc.SHA256] = bc
	}
	for _, it := range m.Items {
		bc, ok := read[it.Digests.SHA256]
		switch {
		case !ok:
			problem(it.ID, "content "+it.Digests.SHA256, "no content in the bundle")
			continue
		case bc.Digests.SHA256 != bc.SHA256:
			problem(it.ID, "content "+bc.SHA256, "content "+bc.Digests.SHA256)
			continue
		}
		ok = true
		for _, d := range []struct{ name, want, got string }{
			{"SHA-1", it.Digests.SHA1, bc.Digests.SHA1},
			{"MD5", it.Digests.MD5, bc.Digests.MD5},
		} {
			if d.want != "" && d.want != d.got {
				problem(it.ID, d.name+" "+d.want, d.name+" "+d.got)
				ok = false
			}
		}
		if bc.Size != it.Size {
			problem(it.ID, fmt.Sprintf("%d bytes", it.Size), fmt.Sprintf("%d bytes", bc.Size))
			ok = false
		}
		if ok {
			rep.BlobsChecked++
		}
	}
}

// Import reads a custody bundle from r, verifies it with trust (see
// [Bundle.Verify]) and, only if it verifies completely, appends its records
// with their tree hashes, its items and its checkpoints to store. Read
// limits are those of [Read]; the zero trust trusts the bundle's own
// key, which the report then says.
//
// Nothing is written to store unless the whole bundle verifies: a bundle
// that does not is refused with the report and an error matching
// [evidence.ErrTampered] (or [evidence.ErrInvalid] if it is malformed or trust is). Content
// is staged into blobs as it is read, committed only under the digest it
// hashes to, which is harmless; with blobs nil it is checked and
// discarded, and a bundle without content imports items without content.
//
// If store already holds records of the case, they must be the first
// records of the bundle, byte for byte; the rest is appended. Otherwise
// the import is refused with an error matching [evidence.ErrConflict] and nothing
// is written. So an import that failed part way, or a later bundle of the
// same case, can be imported again: appending many records is not atomic,
// and one that fails part way leaves a prefix of the bundle's log. Another
// writer appending to the case meanwhile makes the import fail with
// [evidence.ErrConflict].
//
// To check an imported case later, pass the bundle's key and origin to
// [evidence.VerifyLog]: the checkpoints are signed by the exporting ledger's key.
func Import(ctx context.Context, r io.Reader, store evidence.LedgerStore, blobs evidence.BlobStore, trust Trust, limits Limits) (*Report, error) {
	if store == nil {
		return nil, invalid("import bundle", "no ledger store")
	}
	if _, err := trust.validate(); err != nil {
		return nil, err
	}
	b, err := Read(ctx, r, blobs, limits)
	if err != nil {
		return nil, err
	}
	rep, err := b.Verify(trust)
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		return rep, fmt.Errorf("bundle: import case %s: refused, %d %s: %w",
			rep.Case, len(rep.Problems), bundlePlural(len(rep.Problems), "problem"), rep.Err())
	}
	if err := b.importInto(ctx, store, rep.Root); err != nil {
		return rep, err
	}
	return rep, nil
}

// importInto appends a verified bundle's log to store.
func (b *Bundle) importInto(ctx context.Context, store evidence.LedgerStore, root evidence.Hash) error {
	m := b.Manifest
	c := m.Case
	fail := func(err error) error { return fmt.Errorf("bundle: import case %s: %w", c, err) }
	have, err := store.Size(ctx, c)
	if err != nil {
		return fail(err)
	}
	n := int64(len(b.Records))
	if have > n {
		return fail(fmt.Errorf("the store holds %d records, the bundle %d: %w", have, n, evidence.ErrConflict))
	}
	if err := b.checkPrefix(ctx, store, have); err != nil {
		return fail(err)
	}
	items := make(map[evidence.ItemID]evidence.Item, len(m.Items))
	for _, it := range m.Items {
		items[it.ID] = it
	}
	hashes := make([]evidence.Hash, 0, tlog.StoredHashCount(n))
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]evidence.Hash, error) {
		out := make([]evidence.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, data := range b.Records {
		index := int64(i)
		stored, err := tlog.StoredHashes(index, data, reader)
		if err != nil {
			return fail(err)
		}
		hashes = append(hashes, stored...)
		if index < have {
			continue
		}
		r, err := evidence.DecodeRecord(data)
		if err != nil {
			return fail(err)
		}
		a := evidence.Append{Case: c, Index: index, Item: r.Item, Data: data, Hashes: stored}
		if r.Snapshot != nil {
			it := items[r.Item]
			a.NewItem = &it
		}
		if err := store.Append(ctx, a); err != nil {
			return fail(fmt.Errorf("record %d: %w", index, err))
		}
	}
	for _, cp := range m.Checkpoints {
		if err := store.AddCheckpoint(ctx, c, cp); err != nil {
			return fail(err)
		}
	}
	got, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(indexes []int64) ([]evidence.Hash, error) {
		return store.ReadHashes(ctx, c, indexes)
	}))
	if err != nil {
		return fail(err)
	}
	if got != root {
		return &evidence.TamperError{Case: c, Record: -1, What: "tree", Expected: "stored hashes giving root " + root.String(), Found: "root " + got.String()}
	}
	return nil
}

// checkPrefix checks the first have records of store are the bundle's.
func (b *Bundle) checkPrefix(ctx context.Context, store evidence.LedgerStore, have int64) error {
	c := b.Manifest.Case
	for start := int64(0); start < have; start += bundleBatch {
		end := min(start+bundleBatch, have)
		batch, err := store.Records(ctx, c, start, end)
		if err != nil {
			return err
		}
		for i, data := range batch {
			if !bytes.Equal(data, b.Records[start+int64(i)]) {
				return fmt.Errorf("the store's record %d differs from the bundle's: %w", start+int64(i), evidence.ErrConflict)
			}
		}
	}
	return nil
}

package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

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

// Default limits of [Read]; see [Limits]. They suit a large real case:
// tens of thousands of items, a million custody records, a checkpoint
// signed every hour for two years, a disk image of a terabyte.
const (
	// DefaultMaxEntries is the default [Limits.MaxEntries].
	DefaultMaxEntries = 1 << 20
	// DefaultMaxManifestSize is the default [Limits.MaxManifestSize]:
	// 64 MiB.
	DefaultMaxManifestSize = 64 << 20
	// DefaultMaxRecordSize is the default [Limits.MaxRecordSize]: 1 MiB.
	DefaultMaxRecordSize = 1 << 20
	// DefaultMaxRecords is the default [Limits.MaxRecords]: 1,048,576.
	DefaultMaxRecords = 1 << 20
	// DefaultMaxRecordsSize is the default [Limits.MaxRecordsSize]:
	// 512 MiB.
	DefaultMaxRecordsSize = 512 << 20
	// DefaultMaxItems is the default [Limits.MaxItems]: 65,536.
	DefaultMaxItems = 1 << 16
	// DefaultMaxCheckpoints is the default [Limits.MaxCheckpoints]:
	// 16,384.
	DefaultMaxCheckpoints = 1 << 14
	// DefaultMaxBlobSize is the default [Limits.MaxBlobSize]: 1 TiB.
	DefaultMaxBlobSize = 1 << 40
	// DefaultMaxTotalSize is the default [Limits.MaxTotalSize]: 16 TiB.
	DefaultMaxTotalSize = 16 << 40
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
// It exports what is stored at one size of the log, however fast records
// are appended meanwhile: the records up to that size, the items they
// collect, and the checkpoints up to that size with their consistency
// proofs. Nothing that is wrong with the store is left out: an item no
// record collects, and a stored checkpoint of more records than the log
// holds, fail the export with a [*evidence.TamperError]. It does not
// check the log (see [evidence.Ledger.Verify] and [Bundle.Verify]), but a
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
	var signed int64
	if opts.Checkpoint {
		n, err := l.Store().Size(ctx, c)
		if err != nil {
			return fail(err)
		}
		if signed, err = checkpointBundle(ctx, l, c, n); err != nil {
			return nil, err
		}
	}
	// The checkpoints are read before the size: each was stored for a
	// size the log had reached, so the size read next covers them all,
	// unless the store lost records since.
	cps, err := l.Store().Checkpoints(ctx, c)
	if err != nil {
		return fail(err)
	}
	size, err := l.Store().Size(ctx, c)
	if err != nil {
		return fail(err)
	}
	n := size
	if opts.Checkpoint {
		// The size signed, which the log had reached before size was
		// read: every record exported is signed.
		n = signed
	}
	if n == 0 {
		return fail(fmt.Errorf("the case has no records: %w", evidence.ErrNotFound))
	}
	checkpoints := make([]evidence.Checkpoint, 0, len(cps))
	for _, cp := range cps {
		switch {
		case cp.Size > size:
			return nil, &evidence.TamperError{Case: c, Record: -1, What: "checkpoint",
				Expected: fmt.Sprintf("at least %d records, as a checkpoint stored signs", cp.Size), Found: fmt.Sprintf("%d records", size)}
		case cp.Size <= n:
			checkpoints = append(checkpoints, cp)
		}
		// A checkpoint of a size between n and size signs records
		// appended since the checkpoint exported: it is left out with
		// them.
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
	// Items collected after size n are left out with their records; they
	// are in the store's records from n on, read after the items. An item
	// no record collects is a store tampered with: the export fails with
	// it, as a bundle holding it would be refused by its reader or its
	// verifier.
	later, err := ex.collectedSince(ctx, c, n)
	if err != nil {
		return nil, err
	}
	items := make([]evidence.Item, 0, len(collected))
	for _, it := range stored {
		switch {
		case collected[it.ID]:
			items = append(items, it)
		case !later[it.ID]:
			return nil, &evidence.TamperError{Case: c, Record: -1, Item: it.ID, What: "item",
				Expected: "a collected record of the item in the log", Found: "none"}
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

// collectedSince returns the items that the records of case c from index n
// on, as the store holds them now, collect.
func (ex *bundleExport) collectedSince(ctx context.Context, c evidence.CaseID, n int64) (map[evidence.ItemID]bool, error) {
	m, err := ex.store.Size(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("bundle: export case %s: %w", c, err)
	}
	later := make(map[evidence.ItemID]bool)
	err = ex.eachRecordIn(ctx, c, n, m, func(_ int64, data []byte) error {
		if id, ok := collectedItem(data); ok {
			later[id] = true
		}
		return nil
	})
	return later, err
}

// collectedItem returns the item a record collects, if it is a collected
// record that decodes.
func collectedItem(data []byte) (evidence.ItemID, bool) {
	var r struct {
		Snapshot *struct {
			ID evidence.ItemID `json:"id"`
		} `json:"snapshot"`
	}
	if json.Unmarshal(data, &r) != nil || r.Snapshot == nil {
		return "", false
	}
	return r.Snapshot.ID, true
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
		if id, ok := collectedItem(data); ok {
			collected[id] = true
		}
		return nil
	})
	return collected, err
}

// eachRecord calls f with each record [0, n) of case c, reading them a
// batch at a time.
func (ex *bundleExport) eachRecord(ctx context.Context, c evidence.CaseID, n int64, f func(i int64, data []byte) error) error {
	return ex.eachRecordIn(ctx, c, 0, n, f)
}

// eachRecordIn calls f with each record [from, n) of case c, reading them
// a batch at a time.
func (ex *bundleExport) eachRecordIn(ctx context.Context, c evidence.CaseID, from, n int64, f func(i int64, data []byte) error) error {
	for start := from; start < n; start += bundleBatch {
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

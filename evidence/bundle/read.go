package bundle

import (
	"archive/tar"
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

	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
)

// Limits bounds what [Read] accepts, and what [Bundle.Verify] reports, so
// that a hostile bundle cannot exhaust memory, disk or time. A zero field
// means its default; the defaults suit real cases, and a genuinely larger
// case is read with higher limits (custody-verify has a flag for each,
// named in the error that refuses a bundle). Whatever the limits, blob
// content is streamed and never held in memory; the manifest and the
// records are, as [evidence.VerifyLog] needs them: reading and verifying a
// bundle takes memory in proportion to MaxRecordsSize, MaxRecords and
// MaxManifestSize: about 1.7 GiB of heap at most with the defaults (see
// BenchmarkVerifyWorstBundle), and a problem for each record or checkpoint
// costs nothing once MaxProblems are listed. [VerifyStream] holds one
// record at a time instead of them all: about 800 MiB at most with the
// defaults, in proportion to MaxRecords and MaxManifestSize only.
type Limits struct {
	// MaxEntries bounds the number of entries; default
	// [DefaultMaxEntries] (custody-verify -max-entries).
	MaxEntries int
	// MaxManifestSize bounds the manifest, in bytes; default
	// [DefaultMaxManifestSize] (custody-verify -max-manifest-size).
	MaxManifestSize int64
	// MaxRecordSize bounds one record, in bytes; default
	// [DefaultMaxRecordSize] (custody-verify -max-record-size).
	MaxRecordSize int64
	// MaxRecords bounds the number of records; default
	// [DefaultMaxRecords] (custody-verify -max-records).
	MaxRecords int64
	// MaxRecordsSize bounds records.jsonl, in bytes: the memory the
	// records take; default [DefaultMaxRecordsSize] (custody-verify
	// -max-records-size).
	MaxRecordsSize int64
	// MaxItems bounds the items the manifest lists; default
	// [DefaultMaxItems] (custody-verify -max-items). Whatever the limit,
	// a bundle lists no more items than records, since each item has its
	// collected record.
	MaxItems int
	// MaxCheckpoints bounds the checkpoints the manifest lists, and so
	// its consistency proofs, one for each; default
	// [DefaultMaxCheckpoints] (custody-verify -max-checkpoints).
	// Whatever the limit, a bundle holds no more checkpoints than
	// records, since each signs a distinct size of the log.
	MaxCheckpoints int
	// MaxBlobSize bounds one blob, in bytes; default
	// [DefaultMaxBlobSize] (1 TiB, as disk images are often larger
	// than 64 GiB; custody-verify -max-blob-size).
	MaxBlobSize int64
	// MaxTotalSize bounds the whole bundle, in bytes; default
	// [DefaultMaxTotalSize] (16 TiB; custody-verify -max-total-size).
	MaxTotalSize int64
	// MaxProblems bounds the problems [Bundle.Verify] lists in its
	// report; those beyond it are counted in [evidence.Report.Omitted].
	// Default [evidence.DefaultMaxProblems] (custody-verify
	// -max-problems).
	MaxProblems int
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
	for _, f := range []struct {
		v    *int
		d    int
		name string
	}{
		{&l.MaxEntries, DefaultMaxEntries, "MaxEntries"},
		{&l.MaxItems, DefaultMaxItems, "MaxItems"},
		{&l.MaxCheckpoints, DefaultMaxCheckpoints, "MaxCheckpoints"},
		{&l.MaxProblems, evidence.DefaultMaxProblems, "MaxProblems"},
	} {
		v := int64(*f.v)
		if err := def(&v, int64(f.d), f.name); err != nil {
			return l, err
		}
		*f.v = int(v)
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

// overLimit returns the error refusing a bundle beyond one of its limits:
// what was found, the limit, and how to raise it for a genuinely larger
// case. name is the [Limits] field.
func overLimit(field, found string, limit int64, name string) error {
	return invalid(field, fmt.Sprintf("%s, more than the limit of %d %s", found, limit, raiseLimit(name)))
}

// raiseLimit says how to raise the [Limits] field name.
func raiseLimit(name string) string {
	return "(a genuinely larger case is read with a higher Limits." + name + ": custody-verify -" + LimitFlag(name) + ")"
}

// LimitFlag returns the custody-verify flag that sets the [Limits] field
// name: "max-records-size" for "MaxRecordsSize".
func LimitFlag(name string) string {
	var b strings.Builder
	for i, r := range name {
		if 'A' <= r && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Bundle is a custody bundle as read by [Read]: its manifest and
// records, held in memory, and what reading each blob found. Reading checks
// only the bundle's form; [Bundle.Verify] checks what it says. A Bundle is
// not safe for concurrent use while it is modified. One [VerifyStream]
// returns holds no records, as it checked each as it read it.
type Bundle struct {
	Manifest Manifest
	// Records are the lines of records.jsonl, without their newlines.
	// Those Read returns share one array.
	Records [][]byte
	// Blobs says what was read in each blob entry, in entry order.
	Blobs []BlobCheck
	// limits are those the bundle was read with; zero for a Bundle not
	// read by Read, which means the defaults.
	limits Limits
	// streamed reports that the records were checked as they were read
	// and not kept (VerifyStream); streamedRecords counts them.
	streamed        bool
	streamedRecords int64
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
// it hashes to that name, whether or not the bundle turns out to verify:
// [Import] instead keeps content staged where no reader sees it until the
// whole bundle has verified, and discards it otherwise. With blobs nil,
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
	b.limits = lim
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
		s.err = invalid("bundle", "larger than the limit of "+strconv.FormatInt(s.max, 10)+" bytes "+raiseLimit("MaxTotalSize"))
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
	// stage, if not nil, keeps blobs that hash to their name staged,
	// not committed; beforeBlobs, if not nil, is called once the
	// manifest and records are read, before any blob is.
	stage       *blobStage
	beforeBlobs func(*Bundle) error
	// onRecord, if not nil, is given each record as it is read, and
	// the records are not kept.
	onRecord func([]byte)
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
	b, err := br.readHead()
	if err != nil {
		return nil, err
	}
	if err := br.readBody(b); err != nil {
		return nil, err
	}
	return b, nil
}

// readHead reads the manifest, the first entry.
func (br *bundleReader) readHead() (*Bundle, error) {
	b := &Bundle{}
	hdr, err := br.next(bundleManifestName)
	if err != nil {
		return nil, err
	}
	if b.Manifest, err = br.readManifest(hdr); err != nil {
		return nil, err
	}
	return b, nil
}

// readBody reads what follows the manifest: the records, kept in b or,
// with br.onRecord set, handed to it one by one and not kept; then the
// blobs; and checks nothing follows them.
func (br *bundleReader) readBody(b *Bundle) error {
	hdr, err := br.next(bundleRecordsName)
	if err != nil {
		return err
	}
	if br.onRecord != nil {
		b.streamed = true
		b.streamedRecords, err = br.streamRecords(hdr, b.Manifest.Records, br.onRecord)
	} else {
		b.Records, err = br.readRecords(hdr, b.Manifest.Records)
	}
	if err != nil {
		return err
	}
	if br.beforeBlobs != nil {
		if err := br.beforeBlobs(b); err != nil {
			return err
		}
	}
	extra := bundleExtraDigests(b.Manifest.Items)
	buf := make([]byte, bundleCopyBuffer)
	for _, want := range b.Manifest.Blobs {
		if hdr, err = br.next(bundleBlobPrefix + want.SHA256); err != nil {
			return err
		}
		if hdr.Size != want.Size {
			return invalid("bundle entry "+strconv.Quote(hdr.Name), fmt.Sprintf("holds %d bytes, the manifest says %d", hdr.Size, want.Size))
		}
		check, err := br.readBlob(want, extra[want.SHA256], buf)
		if err != nil {
			return err
		}
		b.Blobs = append(b.Blobs, check)
	}
	br.entry = ""
	hdr, err = br.tr.Next()
	switch {
	case err == io.EOF:
		return nil
	case err != nil && !errors.Is(err, tar.ErrInsecurePath):
		return err
	}
	return br.unexpected(hdr, "")
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
		return nil, overLimit("bundle", strconv.Itoa(br.entries)+" entries", int64(br.lim.MaxEntries), "MaxEntries")
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
		return Manifest{}, overLimit(field, fmt.Sprintf("%d bytes", hdr.Size), br.lim.MaxManifestSize, "MaxManifestSize")
	}
	// Decoded as it is read, never held whole.
	r := &manifestReader{r: br.tr}
	m, err := decodeManifest(r, br.lim)
	switch {
	case r.err != nil:
		return Manifest{}, r.err // the tar reader's: a truncated entry, or the bundle's reader failing
	case err != nil:
		return Manifest{}, err
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
	if m.Records < 0 {
		return invalid(field, fmt.Sprintf("%d records", m.Records))
	}
	if m.Records > lim.MaxRecords {
		return overLimit(field, fmt.Sprintf("%d records", m.Records), lim.MaxRecords, "MaxRecords")
	}
	// decodeManifest held the lists to their limits; a log holds no more
	// of them than records.
	switch {
	case int64(len(m.Items)) > m.Records:
		return invalid(field, fmt.Sprintf("%d items for %d records: each item has a record of its own", len(m.Items), m.Records))
	case int64(len(m.Checkpoints)) > m.Records:
		return invalid(field, fmt.Sprintf("%d checkpoints for %d records: each checkpoint signs a distinct size of the log", len(m.Checkpoints), m.Records))
	case len(m.Blobs) > len(m.Items):
		return invalid(field, fmt.Sprintf("%d blobs for %d items: each blob is the content of an item", len(m.Blobs), len(m.Items)))
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
		return overLimit(field, fmt.Sprintf("%d entries (the manifest, the records and %d blobs)", len(m.Blobs)+2, len(m.Blobs)), int64(lim.MaxEntries), "MaxEntries")
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
		if b.Size < 0 {
			return invalid(field, fmt.Sprintf("blob %s of %d bytes", b.SHA256, b.Size))
		}
		if b.Size > lim.MaxBlobSize {
			return overLimit(field, fmt.Sprintf("blob %s of %d bytes", b.SHA256, b.Size), lim.MaxBlobSize, "MaxBlobSize")
		}
		if total += b.Size; total > lim.MaxTotalSize {
			return overLimit(field, fmt.Sprintf("blobs of %d bytes or more in all", total), lim.MaxTotalSize, "MaxTotalSize")
		}
	}
	return nil
}

// readRecords reads records.jsonl: n records, one per line. The records
// are slices of one array holding the entry, so that they take its size
// and a slice header each, whatever their number.
func (br *bundleReader) readRecords(hdr *tar.Header, n int64) ([][]byte, error) {
	field := "bundle records"
	if hdr.Size > br.lim.MaxRecordsSize {
		return nil, overLimit(field, fmt.Sprintf("%d bytes", hdr.Size), br.lim.MaxRecordsSize, "MaxRecordsSize")
	}
	// Each record takes at least two bytes with its newline.
	if n > hdr.Size/2 {
		return nil, invalid(field, fmt.Sprintf("%d bytes cannot hold the %d records the manifest declares", hdr.Size, n))
	}
	data, err := readEntry(br.tr, hdr.Size)
	if err != nil {
		return nil, err
	}
	records := make([][]byte, 0, n)
	for rest := data; len(rest) > 0; {
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			end = len(rest)
		}
		if int64(end) > br.lim.MaxRecordSize {
			return nil, overLimit(field, fmt.Sprintf("record %d of %d bytes", len(records), end), br.lim.MaxRecordSize, "MaxRecordSize")
		}
		switch {
		case end == len(rest):
			return nil, invalid(field, "the last record does not end with a newline")
		case int64(len(records)) == n:
			return nil, invalid(field, fmt.Sprintf("more records than the %d the manifest declares", n))
		case end == 0:
			return nil, invalid(field, fmt.Sprintf("record %d is an empty line", len(records)))
		}
		records = append(records, rest[:end:end])
		rest = rest[end+1:]
	}
	if int64(len(records)) != n {
		return nil, invalid(field, fmt.Sprintf("%d records; the manifest declares %d", len(records), n))
	}
	return records, nil
}

// readEntry reads an entry of size bytes whole. It allocates according
// to what it reads, not to what the header declares, but for the last
// allocation, which it sizes to the entry: so at most twice what it read in
// all, and the entry and half of it at once, where reading to the end
// would allocate five times the entry in all.
func readEntry(r io.Reader, size int64) ([]byte, error) {
	buf := make([]byte, 0, min(size, 1<<20))
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), size))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF && int64(len(buf)) < size {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
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
	staged := false
	var writers []io.Writer
	var w evidence.BlobWriter
	if br.blobs != nil {
		var err error
		if w, err = br.blobs.Create(br.ctx); err != nil {
			return check, &bundleStoreError{fmt.Errorf("bundle: read: store blob %s: %w", want.SHA256, err)}
		}
		defer func() {
			if !staged {
				_ = w.Abort()
			}
		}()
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
	if w != nil && check.Digests.SHA256 == want.SHA256 && br.stage != nil {
		if err := br.stage.add(br.ctx, w, want.SHA256); err != nil {
			return check, &bundleStoreError{fmt.Errorf("bundle: read: stage blob %s: %w", want.SHA256, err)}
		}
		staged = true
		return check, nil
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

// decodeManifest decodes a manifest field by field, and each list element
// by element, so that a list beyond its limit is refused as soon as it
// passes it: a decoded checkpoint or item takes many times the bytes of
// its smallest encoding ("{}"), and a manifest of millions of them must
// not be decoded first and counted after. It refuses unknown fields and
// fields given twice.
func decodeManifest(r io.Reader, lim Limits) (Manifest, error) {
	field := "bundle manifest"
	fail := func(err error) (Manifest, error) {
		if _, ok := err.(*evidence.InvalidError); ok {
			return Manifest{}, err // already says where
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // in the middle of the object
		}
		return Manifest{}, invalid(field, err.Error())
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := manifestDelim(dec, '{', "an object"); err != nil {
		return fail(err)
	}
	var m Manifest
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fail(invalid(field, "field "+strconv.Quote(key)+" is given twice"))
		}
		seen[key] = true
		switch key {
		case "format":
			err = dec.Decode(&m.Format)
		case "version":
			err = dec.Decode(&m.Version)
		case "case":
			err = dec.Decode(&m.Case)
		case "origin":
			err = dec.Decode(&m.Origin)
		case "verifier_key":
			err = dec.Decode(&m.VerifierKey)
		case "key_fingerprint":
			err = dec.Decode(&m.KeyFingerprint)
		case "records":
			err = dec.Decode(&m.Records)
		case "blobs_included":
			err = dec.Decode(&m.BlobsIncluded)
		case "items":
			m.Items, err = decodeManifestList[evidence.Item](dec, "items", lim.MaxItems, func(n int) error {
				return overLimit(field, strconv.Itoa(n)+" items or more", int64(lim.MaxItems), "MaxItems")
			})
		case "checkpoints":
			m.Checkpoints, err = decodeManifestList[evidence.Checkpoint](dec, "checkpoints", lim.MaxCheckpoints, func(n int) error {
				return overLimit(field, strconv.Itoa(n)+" checkpoints or more", int64(lim.MaxCheckpoints), "MaxCheckpoints")
			})
		case "consistency_proofs":
			// One for each checkpoint.
			m.ConsistencyProofs, err = decodeManifestList[[]evidence.Hash](dec, "consistency proofs", lim.MaxCheckpoints, func(n int) error {
				return overLimit(field, strconv.Itoa(n)+" consistency proofs or more, one for each checkpoint", int64(lim.MaxCheckpoints), "MaxCheckpoints")
			})
		case "blobs":
			// Each in an entry of its own, after the manifest and the
			// records.
			m.Blobs, err = decodeManifestList[Blob](dec, "blobs", max(lim.MaxEntries-2, 0), func(n int) error {
				return overLimit(field, fmt.Sprintf("%d entries or more (the manifest, the records and %d blobs or more)", n+2, n), int64(lim.MaxEntries), "MaxEntries")
			})
		default:
			err = invalid(field, "unknown field "+strconv.Quote(key))
		}
		if err != nil {
			return fail(err)
		}
	}
	if err := manifestDelim(dec, '}', "the end of the object"); err != nil {
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(invalid(field, "data after the JSON object"))
	}
	return m, nil
}

// manifestReader reads the manifest entry, and keeps the error reading it
// other than its end, which tells a truncated entry or a failing reader
// from malformed JSON.
type manifestReader struct {
	r   io.Reader
	err error
}

func (m *manifestReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		m.err = err
	}
	return n, err
}

// manifestDelim reads the delimiter want, described as what.
func manifestDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("want %s, found %v", what, tok)
	}
	return nil
}

// decodeManifestList decodes a JSON array (or null) of at most limit
// elements, one by one; name is the list's, and tooMany returns the error
// of a list of n elements, beyond the limit.
func decodeManifestList[T any](dec *json.Decoder, name string, limit int, tooMany func(n int) error) ([]T, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("%s: want an array, found %v", name, tok)
	}
	var out []T
	for dec.More() {
		if len(out) == limit {
			return nil, tooMany(limit + 1)
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, v)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, err
	}
	return out, nil
}

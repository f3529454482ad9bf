package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/incidentkit/incidentkit/evidence"
)

// VerifyStream reads a custody bundle from r and verifies it as it reads
// it: it returns the report [Read] and [Bundle.Verify] make of the same
// bundle, with the same trust and limits, and refuses what Read refuses,
// with the same errors, but holds no more than one record at a time. The
// manifest, before the records in a bundle, says what to check each
// record against, so each is checked and added to the rebuilt Merkle tree
// as it is read (see [evidence.LogVerifier]) and then dropped: the memory
// it takes grows with the records by the tree's hashes and a few dozen
// bytes an item, not with their size.
//
// The bundle it returns holds the manifest and what was read of each blob,
// but no records: it is for showing what the report is about, and its
// Verify method refuses to verify it again. Blobs are read, and stored in
// blobs if it is not nil, exactly as Read does.
//
// It returns an [*evidence.InvalidError] if trust is malformed (see
// [Trust.Validate]), once the bundle was read: an unreadable bundle is
// refused first, as Read would refuse it before Verify is called.
func VerifyStream(ctx context.Context, r io.Reader, blobs evidence.BlobStore, trust Trust, limits Limits) (*Bundle, *Report, error) {
	if r == nil {
		return nil, nil, invalid("read bundle", "no reader")
	}
	lim, err := limits.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	src := &bundleSource{ctx: ctx, r: r, max: lim.MaxTotalSize}
	br := &bundleReader{ctx: ctx, src: src, tr: tar.NewReader(src), lim: lim, blobs: blobs, seen: make(map[string]bool)}
	b, err := br.readHead()
	if err != nil {
		return nil, nil, br.explain(err)
	}
	b.limits = lim
	var readErr error
	read := false
	rep, verifyErr := b.verify(trust, func(log evidence.CaseLog, vkey string, opts evidence.VerifyOptions) *evidence.Report {
		v := evidence.NewLogVerifier(log.Case, log.Origin, vkey, log.Items, log.Checkpoints, opts)
		br.onRecord = v.Add
		read = true
		if readErr = br.readBody(b); readErr != nil {
			return &evidence.Report{} // not returned
		}
		return v.Finish()
	})
	if !read {
		// The trust is malformed: the bundle is still read whole, so
		// that what Read refuses is refused first.
		br.onRecord = func([]byte) {}
		readErr = br.readBody(b)
	}
	if readErr != nil {
		return nil, nil, br.explain(readErr)
	}
	if verifyErr != nil {
		return nil, nil, verifyErr
	}
	return b, rep, nil
}

// streamRecords reads records.jsonl as readRecords does, n records one per
// line, refusing what it refuses with the same errors, but hands each
// record to add as it is read instead of keeping it; add must not keep the
// slice it is given. It returns how many records it read. A line refused
// is refused once the whole entry was read, as readRecords reads it whole
// before it looks at its lines: a truncated entry is refused as truncated
// whatever its lines.
func (br *bundleReader) streamRecords(hdr *tar.Header, n int64, add func([]byte)) (int64, error) {
	field := "bundle records"
	if hdr.Size > br.lim.MaxRecordsSize {
		return 0, overLimit(field, fmt.Sprintf("%d bytes", hdr.Size), br.lim.MaxRecordsSize, "MaxRecordsSize")
	}
	// Each record takes at least two bytes with its newline.
	if n > hdr.Size/2 {
		return 0, invalid(field, fmt.Sprintf("%d bytes cannot hold the %d records the manifest declares", hdr.Size, n))
	}
	in := bufio.NewReaderSize(br.tr, 64<<10)
	var (
		count   int64
		line    []byte // the line read so far, while within the limit
		lineLen int64  // its length, whatever the limit
		refused error  // the first line refused
	)
	// check returns the error refusing the line read, ended by a newline
	// or not, or nil.
	check := func(ended bool) error {
		switch {
		case lineLen > br.lim.MaxRecordSize:
			return overLimit(field, fmt.Sprintf("record %d of %d bytes", count, lineLen), br.lim.MaxRecordSize, "MaxRecordSize")
		case !ended:
			return invalid(field, "the last record does not end with a newline")
		case count == n:
			return invalid(field, fmt.Sprintf("more records than the %d the manifest declares", n))
		case lineLen == 0:
			return invalid(field, fmt.Sprintf("record %d is an empty line", count))
		}
		return nil
	}
	for {
		frag, err := in.ReadSlice('\n')
		if refused == nil {
			body := bytes.TrimSuffix(frag, []byte{'\n'})
			lineLen += int64(len(body))
			if lineLen <= br.lim.MaxRecordSize {
				line = append(line, body...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if refused == nil && lineLen > 0 {
				refused = check(false)
			}
			if refused != nil {
				return 0, refused
			}
			if count != n {
				return 0, invalid(field, fmt.Sprintf("%d records; the manifest declares %d", count, n))
			}
			return count, nil
		case err != nil:
			return 0, err // the tar reader's: truncated, or the bundle's reader failing
		}
		if refused == nil { // a whole line, ended by its newline
			if refused = check(true); refused == nil {
				add(line)
				count++
			}
		}
		line, lineLen = line[:0], 0
	}
}

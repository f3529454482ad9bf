package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

// Default blob limits of [Import], which it uses in place of
// [DefaultMaxBlobSize] and [DefaultMaxTotalSize] when [Limits] leaves them
// zero. An import stages every blob of a bundle on the blob store's disk
// before it can tell whether the bundle verifies, so these bound the disk
// a bundle from anyone may take until it is refused (after which nothing
// of it remains). One TiB per blob holds the raw image of a 1 TB drive, or
// the E01 image of a larger one; 2 TiB in all holds such an image with
// memory dumps and logs, or a few images. Raise them in Limits for a
// larger case, after checking the store has the room.
const (
	DefaultImportMaxBlobSize  = 1 << 40
	DefaultImportMaxTotalSize = 2 << 40
)

// Import reads a custody bundle from r, verifies it with trust (see
// [Bundle.Verify]) and, only if it verifies completely and agrees with
// what store already holds of the case, stores its content in blobs and
// appends its records with their tree hashes, its items and its
// checkpoints to store. Read limits are those of [Read], except that zero
// blob limits mean [DefaultImportMaxBlobSize] and
// [DefaultImportMaxTotalSize]. The zero trust trusts the bundle's own key,
// which the report then says, unless store already holds the case (see
// below).
//
// Nothing is written unless the whole bundle verifies: a bundle that does
// not is refused with the report and an error matching
// [evidence.ErrTampered] (or [evidence.ErrInvalid] if it is malformed or
// trust is). Everything but the content is verified first, before any
// content is read; the content is then checked as it is read and staged
// where readers of blobs do not see it (see [evidence.BlobPreparer]), and
// committed only once the whole bundle has verified and agrees with store.
// A refused bundle leaves no blob, no temporary file and no record. With
// blobs nil, content is checked and discarded, and a bundle without
// content imports items without content.
//
// If store already holds records or checkpoints of the case, the bundle
// must be a later copy of that case, or the import is refused with a
// [*CaseConflictError] matching [evidence.ErrConflict], before any content
// is read, and nothing is written:
//   - every checkpoint the store holds of the case must be signed by the
//     key the bundle is verified with (trust's, or else the bundle's own),
//     be of the bundle's log and sign a prefix of it, so a bundle signed
//     by another key, even one of the same name, never extends a case;
//   - if the store holds records of the case but no checkpoint, nothing
//     says which key may extend them, so trust must name the key;
//   - the records the store holds must be the first records of the
//     bundle, byte for byte; the rest is appended.
//
// So an import that failed part way, or a later bundle of the same case,
// can be imported again: appending many records is not atomic, and one
// that fails part way (the store failing, or ctx ending) leaves a prefix
// of the bundle's log, and possibly content of its items. Another writer
// appending to the case meanwhile makes the import fail with
// [evidence.ErrConflict].
//
// To check an imported case later, pass the bundle's key and origin to
// [evidence.VerifyLog]: the checkpoints are signed by the exporting
// ledger's key.
func Import(ctx context.Context, r io.Reader, store evidence.LedgerStore, blobs evidence.BlobStore, trust Trust, limits Limits) (*Report, error) {
	if store == nil {
		return nil, invalid("import bundle", "no ledger store")
	}
	if r == nil {
		return nil, invalid("read bundle", "no reader")
	}
	if _, err := trust.validate(); err != nil {
		return nil, err
	}
	if limits.MaxBlobSize == 0 {
		limits.MaxBlobSize = DefaultImportMaxBlobSize
	}
	if limits.MaxTotalSize == 0 {
		limits.MaxTotalSize = DefaultImportMaxTotalSize
	}
	lim, err := limits.withDefaults()
	if err != nil {
		return nil, err
	}
	im := &importer{store: store, trust: trust}
	stage := &blobStage{}
	defer stage.abort()
	src := &bundleSource{ctx: ctx, r: r, max: lim.MaxTotalSize}
	br := &bundleReader{ctx: ctx, src: src, tr: tar.NewReader(src), lim: lim, blobs: blobs, seen: make(map[string]bool),
		stage: stage, beforeBlobs: func(b *Bundle) error { return im.checkBeforeBlobs(ctx, b) }}
	b, err := br.read()
	if err != nil {
		if im.rep != nil && !im.rep.OK() {
			// Refused before the content was read, with the report on
			// the rest.
			return im.rep, br.explain(err)
		}
		return nil, br.explain(err)
	}
	rep := im.rep
	b.checkBlobs(rep)
	if !rep.OK() {
		return rep, refused(rep)
	}
	// The store may have changed while the content was read.
	if err := im.checkStore(ctx, b); err != nil {
		return rep, err
	}
	if err := stage.commit(ctx); err != nil {
		return rep, fmt.Errorf("bundle: import case %s: %w", b.Manifest.Case, err)
	}
	if err := im.importInto(ctx, b, rep.Root); err != nil {
		return rep, err
	}
	return rep, nil
}

// CaseConflictError is why [Import] refused a bundle of a case the store
// already holds: the bundle is verified with another key than the one
// that signed the store's checkpoints of the case, or its log does not
// extend the store's records and checkpoints. Nothing was written, and
// importing the same bundle again will not help: the bundle is not a later
// copy of the case the store holds. It matches [evidence.ErrConflict].
type CaseConflictError struct {
	Case evidence.CaseID
	// Checkpoint is the index (oldest first) of the store's checkpoint
	// concerned, or -1; Record is the index of the record concerned, or
	// -1.
	Checkpoint int
	Record     int64
	// StoreKey names the keys that signed the store's checkpoint
	// concerned, when the conflict is one of keys: each as its name and
	// key ID, the start of its verifier key, such as
	// "custody.example.org+1a2b3c4d". BundleKey is the verifier key the
	// bundle was checked with: trust's, or else the bundle's own.
	StoreKey, BundleKey string
	// Reason says what conflicts, in words fit for a person.
	Reason string
}

func (e *CaseConflictError) Error() string {
	return fmt.Sprintf("bundle: import case %s: refused: %s", e.Case, e.Reason)
}

// Is reports whether target is [evidence.ErrConflict].
func (e *CaseConflictError) Is(target error) bool { return target == evidence.ErrConflict }

// importer checks a bundle against what a store holds of its case, and
// appends it.
type importer struct {
	store evidence.LedgerStore
	trust Trust
	// rep is the report on the bundle, once its log is verified.
	rep *Report
	// hashes are the tree hashes of the bundle's log, once worked out.
	hashes []evidence.Hash
}

// checkBeforeBlobs verifies all of a bundle but its content, and refuses
// it if that fails or the bundle conflicts with the store, before its
// content is read. Its error is returned by Read as it is.
func (im *importer) checkBeforeBlobs(ctx context.Context, b *Bundle) error {
	// Verify with the content left out, then check the content once
	// read: the report is the one Verify makes of the whole bundle.
	included := b.Manifest.BlobsIncluded
	b.Manifest.BlobsIncluded = false
	rep, err := b.Verify(im.trust)
	b.Manifest.BlobsIncluded = included
	if err != nil {
		return err
	}
	rep.BlobsIncluded = included
	im.rep = rep
	if !rep.OK() {
		return &bundleStoreError{refused(rep)}
	}
	if err := im.checkStore(ctx, b); err != nil {
		return &bundleStoreError{err}
	}
	return nil
}

// refused is the error of a bundle that does not verify.
func refused(rep *Report) error {
	return fmt.Errorf("bundle: import case %s: refused, %d %s: %w",
		rep.Case, rep.ProblemCount(), bundlePlural(rep.ProblemCount(), "problem"), rep.Err())
}

// key returns the verifier key a bundle is checked with.
func (im *importer) key(b *Bundle) string {
	if im.trust.VerifierKey != "" {
		return im.trust.VerifierKey
	}
	return b.Manifest.VerifierKey
}

// treeHashes returns the tree hashes of the bundle's log, as
// tlog.StoredHashes gives them record after record.
func (im *importer) treeHashes(b *Bundle) ([]evidence.Hash, error) {
	if im.hashes != nil {
		return im.hashes, nil
	}
	n := int64(len(b.Records))
	hashes := make([]evidence.Hash, 0, tlog.StoredHashCount(n))
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]evidence.Hash, error) {
		out := make([]evidence.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, data := range b.Records {
		stored, err := tlog.StoredHashes(int64(i), data, reader)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, stored...)
	}
	im.hashes = hashes
	return hashes, nil
}

// checkStore refuses, with a [*CaseConflictError], a bundle that is not a
// later copy of what the store holds of its case.
func (im *importer) checkStore(ctx context.Context, b *Bundle) error {
	m := b.Manifest
	c := m.Case
	fail := func(err error) error { return fmt.Errorf("bundle: import case %s: %w", c, err) }
	have, err := im.store.Size(ctx, c)
	if err != nil {
		return fail(err)
	}
	cps, err := im.store.Checkpoints(ctx, c)
	if err != nil {
		return fail(err)
	}
	if have == 0 && len(cps) == 0 {
		return nil
	}
	n := int64(len(b.Records))
	key := im.key(b)
	conflict := func(checkpoint int, record int64, reason string) error {
		return &CaseConflictError{Case: c, Checkpoint: checkpoint, Record: record, BundleKey: key, Reason: reason}
	}
	if have > n {
		return conflict(-1, -1, fmt.Sprintf("the store holds %d records of the case, the bundle only %d: it is not a later copy of the case", have, n))
	}
	if len(cps) == 0 && im.trust.VerifierKey == "" && im.trust.Fingerprint == "" {
		return conflict(-1, -1, fmt.Sprintf("the store holds %d records of the case but no checkpoint of them, so nothing says which key may extend them: "+
			"give the case's key in the trust to import a bundle signed by it", have))
	}
	hashes, err := im.treeHashes(b)
	if err != nil {
		return fail(err)
	}
	for i, cp := range cps {
		opened, err := evidence.OpenCheckpoint(cp.Note, key)
		if err != nil {
			e := conflict(i, -1, "").(*CaseConflictError)
			e.StoreKey = noteSigners(cp.Note)
			e.Reason = fmt.Sprintf("the store's checkpoint %d of the case (%d records) is signed by %s; the bundle is verified with %s (fingerprint %s), which did not sign it: "+
				"a bundle of a case the store holds must be signed by the key of the case's stored checkpoints, and a key of the same name is not that key",
				i, cp.Size, e.StoreKey, keyID(key), evidence.KeyFingerprint(key))
			return e
		}
		switch {
		case opened.Origin != m.Origin:
			return conflict(i, -1, fmt.Sprintf("the store's checkpoint %d is of the log %q, the bundle is of the log %q", i, opened.Origin, m.Origin))
		case opened.Size > n:
			return conflict(i, -1, fmt.Sprintf("the store's checkpoint %d signs %d records, the bundle holds only %d", i, opened.Size, n))
		case opened.Size == 0:
			continue
		}
		root, err := tlog.TreeHash(opened.Size, tlog.HashReaderFunc(func(indexes []int64) ([]evidence.Hash, error) {
			out := make([]evidence.Hash, len(indexes))
			for j, x := range indexes {
				out[j] = hashes[x]
			}
			return out, nil
		}))
		if err != nil {
			return fail(err)
		}
		if root != opened.Root {
			return conflict(i, -1, fmt.Sprintf("the bundle's log does not extend the store's checkpoint %d: its first %d records have the root %s, the checkpoint signs %s",
				i, opened.Size, root, opened.Root))
		}
	}
	for start := int64(0); start < have; start += bundleBatch {
		end := min(start+bundleBatch, have)
		batch, err := im.store.Records(ctx, c, start, end)
		if err != nil {
			return fail(err)
		}
		for i, data := range batch {
			if index := start + int64(i); !bytes.Equal(data, b.Records[index]) {
				return conflict(-1, index, fmt.Sprintf("the store's record %d of the case differs from the bundle's", index))
			}
		}
	}
	return nil
}

// importInto appends a verified bundle's log, checked against the store,
// to the store.
func (im *importer) importInto(ctx context.Context, b *Bundle, root evidence.Hash) error {
	m := b.Manifest
	c := m.Case
	fail := func(err error) error { return fmt.Errorf("bundle: import case %s: %w", c, err) }
	have, err := im.store.Size(ctx, c)
	if err != nil {
		return fail(err)
	}
	hashes, err := im.treeHashes(b)
	if err != nil {
		return fail(err)
	}
	items := make(map[evidence.ItemID]evidence.Item, len(m.Items))
	for _, it := range m.Items {
		items[it.ID] = it
	}
	n := int64(len(b.Records))
	for index := have; index < n; index++ {
		data := b.Records[index]
		r, err := evidence.DecodeRecord(data)
		if err != nil {
			return fail(err)
		}
		stored := hashes[tlog.StoredHashCount(index):tlog.StoredHashCount(index+1)]
		a := evidence.Append{Case: c, Index: index, Item: r.Item, Data: data, Hashes: stored}
		if r.Snapshot != nil {
			it := items[r.Item]
			a.NewItem = &it
		}
		if err := im.store.Append(ctx, a); err != nil {
			return fail(fmt.Errorf("record %d: %w", index, err))
		}
	}
	for _, cp := range m.Checkpoints {
		if err := im.store.AddCheckpoint(ctx, c, cp); err != nil {
			return fail(err)
		}
	}
	got, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(indexes []int64) ([]evidence.Hash, error) {
		return im.store.ReadHashes(ctx, c, indexes)
	}))
	if err != nil {
		return fail(err)
	}
	if got != root {
		return &evidence.TamperError{Case: c, Record: -1, What: "tree", Expected: "stored hashes giving root " + root.String(), Found: "root " + got.String()}
	}
	return nil
}

// keyID returns the name and key ID of a verifier key: its text up to the
// second '+'.
func keyID(vkey string) string {
	name, rest, _ := strings.Cut(vkey, "+")
	id, _, _ := strings.Cut(rest, "+")
	return name + "+" + id
}

// noteSigners names the keys that signed a note, each as its name and key
// ID, as its signature lines give them; it vouches for none of them.
func noteSigners(msg []byte) string {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return "no key (the note has no signature)"
	}
	var signers []string
	for line := range strings.Lines(string(msg[i+2:])) {
		name, sig, ok := strings.Cut(strings.TrimPrefix(strings.TrimSuffix(line, "\n"), "— "), " ")
		raw, err := base64.StdEncoding.DecodeString(sig)
		if !ok || err != nil || len(raw) < 4 || len(name) > 256 {
			continue
		}
		signers = append(signers, fmt.Sprintf("%s+%08x", name, binary.BigEndian.Uint32(raw)))
		if len(signers) == 8 {
			break
		}
	}
	if len(signers) == 0 {
		return "no key (the note has no signature)"
	}
	return strings.Join(signers, ", ")
}

// blobStage holds the blobs of a bundle being imported, written and
// checked but not visible, until the import commits or aborts them all.
type blobStage struct {
	writers []evidence.BlobWriter
	digests []string
}

// add stages w, whose content hashes to sha256hex: prepared, if the store
// can, so that it holds nothing open.
func (s *blobStage) add(ctx context.Context, w evidence.BlobWriter, sha256hex string) error {
	if p, ok := w.(evidence.BlobPreparer); ok {
		if err := p.Prepare(ctx, sha256hex); err != nil {
			return err
		}
	}
	s.writers = append(s.writers, w)
	s.digests = append(s.digests, sha256hex)
	return nil
}

// commit makes every staged blob visible. If one fails, the rest are
// aborted.
func (s *blobStage) commit(ctx context.Context) error {
	for i, w := range s.writers {
		if err := w.Commit(ctx, s.digests[i]); err != nil {
			digest := s.digests[i]
			s.writers, s.digests = s.writers[i+1:], s.digests[i+1:]
			s.abort()
			return fmt.Errorf("store blob %s: %w", digest, err)
		}
	}
	s.writers, s.digests = nil, nil
	return nil
}

// abort discards every staged blob.
func (s *blobStage) abort() {
	for _, w := range s.writers {
		_ = w.Abort()
	}
	s.writers, s.digests = nil, nil
}

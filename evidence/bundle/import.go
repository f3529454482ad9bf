package bundle

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

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

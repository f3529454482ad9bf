package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
)

// Append implements evidence.LedgerStore: it appends one record in its own
// transaction, serialised with every other append to the case, from any
// process, on the case's head row.
func (s *Store) Append(ctx context.Context, a evidence.Append) error {
	if err := ctxErr(ctx, "append"); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("postgres: append: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(ctx, "append", err)
	}
	defer rollback(ctx, tx)
	if err := s.appendCustody(ctx, tx, []evidence.Append{a}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(ctx, "append: commit", err)
	}
	return nil
}

// appendCustody writes appends, which follow one another in one case, in
// tx. It locks the case's head row first (creating it for a new case), so
// that concurrent appenders to the case, in any process, queue up behind
// it; once it holds the lock, the head says how many records the log holds
// and nobody else can change that until tx ends. If the log does not hold
// exactly the records the first append expects, or a new item's ID is
// taken, it writes nothing and returns an error matching both
// [ir.ErrConflict] and [evidence.ErrConflict].
func (s *Store) appendCustody(ctx context.Context, tx pgx.Tx, apps []evidence.Append) error {
	c := string(apps[0].Case)
	b := &pgx.Batch{}
	b.Queue(s.q.createHead, c)
	b.Queue(s.q.lockHead, c)
	res := tx.SendBatch(ctx, b)
	var (
		size  int64
		items int32
	)
	_, err := res.Exec()
	if err == nil {
		err = res.QueryRow().Scan(&size, &items)
	}
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return wrap(ctx, "append to case "+c, err)
	}
	if size != apps[0].Index {
		return fmt.Errorf("postgres: custody log of case %s holds %d records, the append expects %d: %w (%w)",
			c, size, apps[0].Index, ir.ErrConflict, evidence.ErrConflict)
	}
	var (
		idxs     = make([]int64, len(apps))
		itemIDs  = make([]string, len(apps))
		data     = make([][]byte, len(apps))
		hashes   [][]byte
		newIDs   []string
		newItems [][]byte
	)
	for i, a := range apps {
		if a.Case != apps[0].Case || a.Index != apps[0].Index+int64(i) {
			return fmt.Errorf("postgres: append: %w", &evidence.InvalidError{Field: "append", Reason: "appends must follow one another in one case"})
		}
		idxs[i], itemIDs[i], data[i] = a.Index, string(a.Item), a.Data
		for _, h := range a.Hashes {
			hashes = append(hashes, bytes.Clone(h[:]))
		}
		if a.NewItem != nil {
			doc, err := json.Marshal(a.NewItem)
			if err != nil {
				return fmt.Errorf("postgres: append: encode item %s: %w", a.NewItem.ID, err)
			}
			newIDs = append(newIDs, string(a.NewItem.ID))
			newItems = append(newItems, doc)
		}
	}
	b = &pgx.Batch{}
	if len(newIDs) > 0 {
		b.Queue(s.q.insertItems, c, items, newIDs, newItems)
	}
	b.Queue(s.q.insertRecords, c, idxs, itemIDs, data)
	b.Queue(s.q.insertHashes, c, tlog.StoredHashIndex(0, apps[0].Index), hashes)
	b.Queue(s.q.advanceHead, c, int64(len(apps)), int32(len(newIDs)))
	res = tx.SendBatch(ctx, b)
	if len(newIDs) > 0 {
		tag, err := res.Exec()
		if err == nil && tag.RowsAffected() != int64(len(newIDs)) {
			_ = res.Close()
			return fmt.Errorf("postgres: custody item of case %s exists: %w (%w)", c, ir.ErrConflict, evidence.ErrConflict)
		}
		if err != nil {
			_ = res.Close()
			return wrap(ctx, "append to case "+c, err)
		}
	}
	if err := res.Close(); err != nil {
		return wrap(ctx, "append to case "+c, err)
	}
	return nil
}

// Size implements evidence.LedgerStore.
func (s *Store) Size(ctx context.Context, c evidence.CaseID) (int64, error) {
	if err := ctxErr(ctx, "size"); err != nil {
		return 0, err
	}
	var n int64
	err := s.pool.QueryRow(ctx, s.q.size, string(c)).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap(ctx, "size of case "+string(c), err)
	}
	return n, nil
}

// Records implements evidence.LedgerStore. Records past the end of the log
// are refused with an error matching evidence.ErrNotFound.
func (s *Store) Records(ctx context.Context, c evidence.CaseID, start, end int64) ([][]byte, error) {
	if err := ctxErr(ctx, "records"); err != nil {
		return nil, err
	}
	if start < 0 || end < start {
		return nil, fmt.Errorf("postgres: records [%d, %d) of case %s: %w", start, end, c, evidence.ErrNotFound)
	}
	if start == end {
		n, err := s.Size(ctx, c)
		if err != nil {
			return nil, err
		}
		if end > n {
			return nil, fmt.Errorf("postgres: records [%d, %d) of %d in case %s: %w", start, end, n, c, evidence.ErrNotFound)
		}
		return [][]byte{}, nil
	}
	rows, err := s.pool.Query(ctx, s.q.records, string(c), start, end)
	if err != nil {
		return nil, wrap(ctx, "records of case "+string(c), err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, wrap(ctx, "records of case "+string(c), err)
	}
	// Records are never deleted, so a short read means the log ends
	// before end.
	if int64(len(out)) != end-start {
		return nil, fmt.Errorf("postgres: records [%d, %d) of case %s: the log holds fewer: %w", start, end, c, evidence.ErrNotFound)
	}
	return out, nil
}

// ReadHashes implements evidence.LedgerStore.
func (s *Store) ReadHashes(ctx context.Context, c evidence.CaseID, indexes []int64) ([]evidence.Hash, error) {
	if err := ctxErr(ctx, "read hashes"); err != nil {
		return nil, err
	}
	out := make([]evidence.Hash, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, s.q.readHashes, string(c), indexes)
	if err != nil {
		return nil, wrap(ctx, "read hashes of case "+string(c), err)
	}
	found := make(map[int64]evidence.Hash, len(indexes))
	var (
		idx int64
		h   []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&idx, &h}, func() error {
		if len(h) != len(evidence.Hash{}) {
			return fmt.Errorf("hash %d has %d bytes", idx, len(h))
		}
		found[idx] = evidence.Hash(h)
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, "read hashes of case "+string(c), err)
	}
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("postgres: hash %d of case %s: %w", x, c, evidence.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

// LogHead implements evidence.HeadReader: the head in one query, and the
// item's latest record's hash if it has one.
func (s *Store) LogHead(ctx context.Context, c evidence.CaseID, item evidence.ItemID) (evidence.LogHead, error) {
	if err := ctxErr(ctx, "log head"); err != nil {
		return evidence.LogHead{}, err
	}
	h := evidence.LogHead{Prev: -1}
	var items int64
	err := s.pool.QueryRow(ctx, s.q.logHead, string(c), string(item)).Scan(&h.Size, &items, &h.Prev)
	if errors.Is(err, pgx.ErrNoRows) {
		return evidence.LogHead{Prev: -1}, nil
	}
	if err != nil {
		return evidence.LogHead{}, wrap(ctx, "log head of case "+string(c), err)
	}
	h.Items = int(items)
	if h.Prev >= 0 {
		hashes, err := s.ReadHashes(ctx, c, []int64{tlog.StoredHashIndex(0, h.Prev)})
		if err != nil {
			return evidence.LogHead{}, err
		}
		h.PrevHash = hashes[0]
	}
	return h, nil
}

// LastRecord implements evidence.LedgerStore.
func (s *Store) LastRecord(ctx context.Context, c evidence.CaseID, item evidence.ItemID) (int64, error) {
	if err := ctxErr(ctx, "last record"); err != nil {
		return 0, err
	}
	var last *int64
	if err := s.pool.QueryRow(ctx, s.q.lastRecord, string(c), string(item)).Scan(&last); err != nil {
		return 0, wrap(ctx, "last record of "+string(item), err)
	}
	if last == nil {
		return 0, fmt.Errorf("postgres: item %s of case %s has no records: %w", item, c, evidence.ErrNotFound)
	}
	return *last, nil
}

// Item implements evidence.LedgerStore.
func (s *Store) Item(ctx context.Context, c evidence.CaseID, id evidence.ItemID) (evidence.Item, error) {
	if err := ctxErr(ctx, "item"); err != nil {
		return evidence.Item{}, err
	}
	var doc []byte
	err := s.pool.QueryRow(ctx, s.q.item, string(c), string(id)).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return evidence.Item{}, fmt.Errorf("postgres: item %s of case %s: %w", id, c, evidence.ErrNotFound)
	}
	if err != nil {
		return evidence.Item{}, wrap(ctx, "item "+string(id), err)
	}
	return decodeItem(doc)
}

func decodeItem(doc []byte) (evidence.Item, error) {
	var it evidence.Item
	if err := json.Unmarshal(doc, &it); err != nil {
		return evidence.Item{}, fmt.Errorf("postgres: decode item: %w", err)
	}
	return it, nil
}

// Items implements evidence.LedgerStore.
func (s *Store) Items(ctx context.Context, c evidence.CaseID) ([]evidence.Item, error) {
	if err := ctxErr(ctx, "items"); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.items, string(c))
	if err != nil {
		return nil, wrap(ctx, "items of case "+string(c), err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, wrap(ctx, "items of case "+string(c), err)
	}
	var out []evidence.Item
	for _, doc := range docs {
		it, err := decodeItem(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// AddCheckpoint implements evidence.LedgerStore. A checkpoint is
// identified by its signed note; storing one again changes nothing. A case
// with no records has no checkpoint to store: the error matches
// evidence.ErrNotFound.
func (s *Store) AddCheckpoint(ctx context.Context, c evidence.CaseID, cp evidence.Checkpoint) error {
	if err := ctxErr(ctx, "add checkpoint"); err != nil {
		return err
	}
	sum := sha256.Sum256(cp.Note)
	tag, err := s.pool.Exec(ctx, s.q.addCheckpoint, string(c), sum[:], cp.Origin, cp.Size, cp.Root[:], cp.Note)
	if err != nil {
		return wrap(ctx, "add checkpoint to case "+string(c), err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, s.q.caseExists, string(c)).Scan(&exists); err != nil {
		return wrap(ctx, "add checkpoint to case "+string(c), err)
	}
	if !exists {
		return fmt.Errorf("postgres: add checkpoint: case %s: %w", c, evidence.ErrNotFound)
	}
	return nil
}

// Checkpoints implements evidence.LedgerStore.
func (s *Store) Checkpoints(ctx context.Context, c evidence.CaseID) ([]evidence.Checkpoint, error) {
	if err := ctxErr(ctx, "checkpoints"); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.checkpoints, string(c))
	if err != nil {
		return nil, wrap(ctx, "checkpoints of case "+string(c), err)
	}
	var (
		out    []evidence.Checkpoint
		origin string
		size   int64
		root   []byte
		note   []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&origin, &size, &root, &note}, func() error {
		if len(root) != len(evidence.Hash{}) {
			return fmt.Errorf("checkpoint root has %d bytes", len(root))
		}
		out = append(out, evidence.Checkpoint{Origin: origin, Size: size, Root: evidence.Hash(root), Note: bytes.Clone(note)})
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, "checkpoints of case "+string(c), err)
	}
	return out, nil
}

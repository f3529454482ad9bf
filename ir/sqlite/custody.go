package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
)

// Append implements evidence.LedgerStore: it appends one record in its own
// immediate transaction, with the same code as a change carrying custody
// records.
func (s *Store) Append(ctx context.Context, a evidence.Append) error {
	if err := ctxErr(ctx, "append"); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("sqlite: append: %w", err)
	}
	return s.write(ctx, "append", func(tx *sql.Tx) error {
		return s.appendCustody(ctx, tx, []evidence.Append{a})
	})
}

// appendCustody writes appends, which follow one another in one case, in
// tx. The transaction holds the file's write lock, so the case's head row
// says how many records the log holds and nobody can change that until tx
// ends. If the log does not hold exactly the records the first append
// expects, or a new item's ID is taken, it returns an error matching both
// [ir.ErrConflict] and [evidence.ErrConflict], and the caller rolls tx
// back.
func (s *Store) appendCustody(ctx context.Context, tx *sql.Tx, apps []evidence.Append) error {
	c := string(apps[0].Case)
	var size, items int64
	err := tx.StmtContext(ctx, s.q.readHead).QueryRowContext(ctx, c).Scan(&size, &items)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return wrap(ctx, "append to case "+c, err)
	}
	if size != apps[0].Index {
		return custodyConflict("custody log of case %s holds %d records, the append expects %d", c, size, apps[0].Index)
	}
	newItems := int64(0)
	for i, a := range apps {
		if a.Case != apps[0].Case || a.Index != apps[0].Index+int64(i) {
			return fmt.Errorf("sqlite: append: %w", &evidence.InvalidError{Field: "append", Reason: "appends must follow one another in one case"})
		}
		if a.NewItem != nil {
			newItems++
		}
	}
	// The head comes first: the other rows refer to it.
	if _, err := tx.StmtContext(ctx, s.q.writeHead).ExecContext(ctx, c, size+int64(len(apps)), items+newItems); err != nil {
		return wrap(ctx, "append to case "+c, err)
	}
	insertItem := tx.StmtContext(ctx, s.q.insertItem)
	insertRecord := tx.StmtContext(ctx, s.q.insertRecord)
	insertHash := tx.StmtContext(ctx, s.q.insertHash)
	for _, a := range apps {
		if a.NewItem != nil {
			doc, err := json.Marshal(a.NewItem)
			if err != nil {
				return fmt.Errorf("sqlite: append: encode item %s: %w", a.NewItem.ID, err)
			}
			res, err := insertItem.ExecContext(ctx, c, string(a.NewItem.ID), items, string(doc))
			if err != nil {
				return wrap(ctx, "append to case "+c, err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return custodyConflict("custody item %s of case %s exists", a.NewItem.ID, c)
			}
			items++
		}
		if _, err := insertRecord.ExecContext(ctx, c, a.Index, string(a.Item), a.Data); err != nil {
			return wrap(ctx, "append to case "+c, err)
		}
		base := tlog.StoredHashIndex(0, a.Index)
		for j, h := range a.Hashes {
			if _, err := insertHash.ExecContext(ctx, c, base+int64(j), h[:]); err != nil {
				return wrap(ctx, "append to case "+c, err)
			}
		}
	}
	return nil
}

// custodyConflict is the error of a custody append another writer
// overtook.
func custodyConflict(format string, args ...any) error {
	return fmt.Errorf("sqlite: "+format+": %w (%w)", append(args, ir.ErrConflict, evidence.ErrConflict)...)
}

// Size implements evidence.LedgerStore.
func (s *Store) Size(ctx context.Context, c evidence.CaseID) (int64, error) {
	if err := ctxErr(ctx, "size"); err != nil {
		return 0, err
	}
	var n int64
	err := s.q.size.QueryRowContext(ctx, string(c)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
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
		return nil, fmt.Errorf("sqlite: records [%d, %d) of case %s: %w", start, end, c, evidence.ErrNotFound)
	}
	if start == end {
		n, err := s.Size(ctx, c)
		if err != nil {
			return nil, err
		}
		if end > n {
			return nil, fmt.Errorf("sqlite: records [%d, %d) of %d in case %s: %w", start, end, n, c, evidence.ErrNotFound)
		}
		return [][]byte{}, nil
	}
	rows, err := s.q.records.QueryContext(ctx, string(c), start, end)
	if err != nil {
		return nil, wrap(ctx, "records of case "+string(c), err)
	}
	defer func() { _ = rows.Close() }()
	out := make([][]byte, 0, end-start)
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, wrap(ctx, "records of case "+string(c), err)
		}
		out = append(out, data)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "records of case "+string(c), err)
	}
	// Records are never deleted, so a short read means the log ends
	// before end.
	if int64(len(out)) != end-start {
		return nil, fmt.Errorf("sqlite: records [%d, %d) of case %s: the log holds fewer: %w", start, end, c, evidence.ErrNotFound)
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
	found := make(map[int64]evidence.Hash, len(indexes))
	// Hashes are read in batches that stay below SQLite's limit on
	// parameters.
	const batch = 500
	for from := 0; from < len(indexes); from += batch {
		part := indexes[from:min(from+batch, len(indexes))]
		if err := s.readHashes(ctx, c, part, found); err != nil {
			return nil, err
		}
	}
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("sqlite: hash %d of case %s: %w", x, c, evidence.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

// readHashes reads the stored hashes at indexes into found.
func (s *Store) readHashes(ctx context.Context, c evidence.CaseID, indexes []int64, found map[int64]evidence.Hash) error {
	args := make([]any, 0, len(indexes)+1)
	args = append(args, string(c))
	for _, x := range indexes {
		args = append(args, x)
	}
	query := "SELECT idx, hash FROM custody_hashes WHERE case_id = ? AND idx IN (" +
		strings.Repeat(", ?", len(indexes))[2:] + ")"
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return wrap(ctx, "read hashes of case "+string(c), err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var (
			idx int64
			h   []byte
		)
		if err := rows.Scan(&idx, &h); err != nil {
			return wrap(ctx, "read hashes of case "+string(c), err)
		}
		if len(h) != len(evidence.Hash{}) {
			return fmt.Errorf("sqlite: hash %d of case %s has %d bytes: %w", idx, c, len(h), ErrCorrupt)
		}
		found[idx] = evidence.Hash(h)
	}
	if err := rows.Err(); err != nil {
		return wrap(ctx, "read hashes of case "+string(c), err)
	}
	return nil
}

// LogHead implements evidence.HeadReader: the head in one query, and the
// item's latest record's hash if it has one.
func (s *Store) LogHead(ctx context.Context, c evidence.CaseID, item evidence.ItemID) (evidence.LogHead, error) {
	if err := ctxErr(ctx, "log head"); err != nil {
		return evidence.LogHead{}, err
	}
	h := evidence.LogHead{Prev: -1}
	err := s.q.logHead.QueryRowContext(ctx, string(c), string(item)).Scan(&h.Size, &h.Items, &h.Prev)
	if errors.Is(err, sql.ErrNoRows) {
		return evidence.LogHead{Prev: -1}, nil
	}
	if err != nil {
		return evidence.LogHead{}, wrap(ctx, "log head of case "+string(c), err)
	}
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
	var last sql.NullInt64
	if err := s.q.lastRecord.QueryRowContext(ctx, string(c), string(item)).Scan(&last); err != nil {
		return 0, wrap(ctx, "last record of "+string(item), err)
	}
	if !last.Valid {
		return 0, fmt.Errorf("sqlite: item %s of case %s has no records: %w", item, c, evidence.ErrNotFound)
	}
	return last.Int64, nil
}

// Item implements evidence.LedgerStore.
func (s *Store) Item(ctx context.Context, c evidence.CaseID, id evidence.ItemID) (evidence.Item, error) {
	if err := ctxErr(ctx, "item"); err != nil {
		return evidence.Item{}, err
	}
	var doc []byte
	err := s.q.item.QueryRowContext(ctx, string(c), string(id)).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return evidence.Item{}, fmt.Errorf("sqlite: item %s of case %s: %w", id, c, evidence.ErrNotFound)
	}
	if err != nil {
		return evidence.Item{}, wrap(ctx, "item "+string(id), err)
	}
	return decodeItem(doc)
}

func decodeItem(doc []byte) (evidence.Item, error) {
	var it evidence.Item
	if err := json.Unmarshal(doc, &it); err != nil {
		return evidence.Item{}, fmt.Errorf("sqlite: decode item: %w", err)
	}
	return it, nil
}

// Items implements evidence.LedgerStore.
func (s *Store) Items(ctx context.Context, c evidence.CaseID) ([]evidence.Item, error) {
	if err := ctxErr(ctx, "items"); err != nil {
		return nil, err
	}
	rows, err := s.q.items.QueryContext(ctx, string(c))
	if err != nil {
		return nil, wrap(ctx, "items of case "+string(c), err)
	}
	defer func() { _ = rows.Close() }()
	var out []evidence.Item
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, wrap(ctx, "items of case "+string(c), err)
		}
		it, err := decodeItem(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "items of case "+string(c), err)
	}
	return out, nil
}

// AddCheckpoint implements evidence.LedgerStore. A checkpoint is
// identified by its signed note; storing one again changes nothing. A case
// with no records has no checkpoint to store: the error matches
// evidence.ErrNotFound.
func (s *Store) AddCheckpoint(ctx context.Context, c evidence.CaseID, cp evidence.Checkpoint) error {
	sum := sha256.Sum256(cp.Note)
	return s.write(ctx, "add checkpoint", func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.q.addCheckpoint).ExecContext(ctx,
			string(c), sum[:], cp.Origin, cp.Size, cp.Root[:], cp.Note)
		if err != nil {
			return wrap(ctx, "add checkpoint to case "+string(c), err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return nil
		}
		var exists bool
		if err := tx.StmtContext(ctx, s.q.caseExists).QueryRowContext(ctx, string(c)).Scan(&exists); err != nil {
			return wrap(ctx, "add checkpoint to case "+string(c), err)
		}
		if !exists {
			return fmt.Errorf("sqlite: add checkpoint: case %s: %w", c, evidence.ErrNotFound)
		}
		return nil
	})
}

// Checkpoints implements evidence.LedgerStore.
func (s *Store) Checkpoints(ctx context.Context, c evidence.CaseID) ([]evidence.Checkpoint, error) {
	if err := ctxErr(ctx, "checkpoints"); err != nil {
		return nil, err
	}
	rows, err := s.q.checkpoints.QueryContext(ctx, string(c))
	if err != nil {
		return nil, wrap(ctx, "checkpoints of case "+string(c), err)
	}
	defer func() { _ = rows.Close() }()
	var out []evidence.Checkpoint
	for rows.Next() {
		var (
			cp   evidence.Checkpoint
			root []byte
		)
		if err := rows.Scan(&cp.Origin, &cp.Size, &root, &cp.Note); err != nil {
			return nil, wrap(ctx, "checkpoints of case "+string(c), err)
		}
		if len(root) != len(evidence.Hash{}) {
			return nil, fmt.Errorf("sqlite: checkpoint root of case %s has %d bytes: %w", c, len(root), ErrCorrupt)
		}
		cp.Root = evidence.Hash(root)
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "checkpoints of case "+string(c), err)
	}
	return out, nil
}

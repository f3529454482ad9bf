package evidence

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// MemoryLedgerStore is a [LedgerStore] that keeps everything in memory. It
// is safe for concurrent use, and meant for tests and short-lived programs.
type MemoryLedgerStore struct {
	mu    sync.RWMutex
	cases map[CaseID]*memCase
}

type memCase struct {
	// records are copies of the records appended, carved from slab;
	// hashes are the stored tree hashes. Both are kept in chunks, so
	// that a long log grows without being copied.
	records     chunkList[[]byte]
	slab        byteSlab
	hashes      chunkList[Hash]
	last        map[ItemID]int64
	items       []Item
	itemIndex   map[ItemID]int
	checkpoints []Checkpoint
}

// NewMemoryLedgerStore returns an empty [MemoryLedgerStore].
func NewMemoryLedgerStore() *MemoryLedgerStore {
	return &MemoryLedgerStore{cases: make(map[CaseID]*memCase)}
}

var _ LedgerStore = (*MemoryLedgerStore)(nil)

// Append implements [LedgerStore].
func (s *MemoryLedgerStore) Append(ctx context.Context, a Append) error {
	if err := a.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return &opError{op: "memory ledger: append", err: err}
	}
	c := s.cases[a.Case]
	var n int64
	if c != nil {
		n = c.records.len()
	}
	if n != a.Index {
		return &opError{op: "memory ledger", kind: ErrConflict,
			err: fmt.Errorf("case %s holds %d records, append expects %d: conflict", a.Case, n, a.Index)}
	}
	if c == nil {
		c = &memCase{last: make(map[ItemID]int64), itemIndex: make(map[ItemID]int)}
		s.cases[a.Case] = c
	}
	if c.hashes.len() != tlog.StoredHashIndex(0, a.Index) {
		return fmt.Errorf("evidence: memory ledger: case %s: hash table out of step", a.Case)
	}
	if a.NewItem != nil {
		if _, ok := c.itemIndex[a.NewItem.ID]; ok {
			return &opError{op: "memory ledger", kind: ErrConflict, err: fmt.Errorf("item %s exists: conflict", a.NewItem.ID)}
		}
		c.itemIndex[a.NewItem.ID] = len(c.items)
		c.items = append(c.items, a.NewItem.Clone())
	}
	c.records.push(c.slab.clone(a.Data))
	for _, h := range a.Hashes {
		c.hashes.push(h)
	}
	c.last[a.Item] = a.Index
	return nil
}

func (s *MemoryLedgerStore) read(ctx context.Context, c CaseID) (*memCase, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapOp("memory ledger", err)
	}
	return s.cases[c], nil
}

// Size implements [LedgerStore].
func (s *MemoryLedgerStore) Size(ctx context.Context, c CaseID) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil || mc == nil {
		return 0, err
	}
	return mc.records.len(), nil
}

// Records implements [LedgerStore].
func (s *MemoryLedgerStore) Records(ctx context.Context, c CaseID, start, end int64) ([][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil {
		return nil, err
	}
	var n int64
	if mc != nil {
		n = mc.records.len()
	}
	if start < 0 || end < start || end > n {
		return nil, wrapOp(fmt.Sprintf("memory ledger: records [%d, %d) of %d", start, end, n), ErrNotFound)
	}
	out := make([][]byte, 0, end-start)
	if mc == nil {
		return out, nil
	}
	for i := start; i < end; i++ {
		out = append(out, bytes.Clone(mc.records.at(i)))
	}
	return out, nil
}

// ReadHashes implements [LedgerStore].
func (s *MemoryLedgerStore) ReadHashes(ctx context.Context, c CaseID, indexes []int64) ([]Hash, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]Hash, len(indexes))
	for i, x := range indexes {
		if mc == nil || x < 0 || x >= mc.hashes.len() {
			return nil, wrapOp(fmt.Sprintf("memory ledger: hash %d", x), ErrNotFound)
		}
		out[i] = mc.hashes.at(x)
	}
	return out, nil
}

// LastRecord implements [LedgerStore].
func (s *MemoryLedgerStore) LastRecord(ctx context.Context, c CaseID, item ItemID) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil {
		return 0, err
	}
	if mc != nil {
		if i, ok := mc.last[item]; ok {
			return i, nil
		}
	}
	return 0, wrapOp(fmt.Sprintf("memory ledger: item %s has no records", item), ErrNotFound)
}

// Item implements [LedgerStore].
func (s *MemoryLedgerStore) Item(ctx context.Context, c CaseID, id ItemID) (Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil {
		return Item{}, err
	}
	if mc != nil {
		if i, ok := mc.itemIndex[id]; ok {
			return mc.items[i].Clone(), nil
		}
	}
	return Item{}, wrapOp(fmt.Sprintf("memory ledger: item %s", id), ErrNotFound)
}

// Items implements [LedgerStore].
func (s *MemoryLedgerStore) Items(ctx context.Context, c CaseID) ([]Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil || mc == nil {
		return nil, err
	}
	out := make([]Item, len(mc.items))
	for i, it := range mc.items {
		out[i] = it.Clone()
	}
	return out, nil
}

// AddCheckpoint implements [LedgerStore].
func (s *MemoryLedgerStore) AddCheckpoint(ctx context.Context, c CaseID, cp Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, err := s.read(ctx, c)
	if err != nil {
		return err
	}
	if mc == nil {
		return wrapOp(fmt.Sprintf("memory ledger: case %s", c), ErrNotFound)
	}
	if slices.ContainsFunc(mc.checkpoints, func(have Checkpoint) bool { return bytes.Equal(have.Note, cp.Note) }) {
		return nil
	}
	cp.Note = bytes.Clone(cp.Note)
	mc.checkpoints = append(mc.checkpoints, cp)
	return nil
}

// Checkpoints implements [LedgerStore].
func (s *MemoryLedgerStore) Checkpoints(ctx context.Context, c CaseID) ([]Checkpoint, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil || mc == nil {
		return nil, err
	}
	out := make([]Checkpoint, len(mc.checkpoints))
	for i, cp := range mc.checkpoints {
		cp.Note = bytes.Clone(cp.Note)
		out[i] = cp
	}
	return out, nil
}

// head implements [headStore]: what [Ledger] needs to know of the log
// before an append, read under one lock.
func (s *MemoryLedgerStore) head(ctx context.Context, c CaseID, item ItemID, sibs []Hash) (logHead, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil {
		return logHead{}, err
	}
	lh := mc.head(item)
	h := logHead{size: lh.Size, prev: lh.Prev, prevHash: lh.PrevHash, items: lh.Items, siblings: sibs[:0], hasSiblings: true}
	if mc == nil {
		return h, nil
	}
	var idx [64]int64
	for _, x := range siblingIndexes(idx[:0], h.size) {
		h.siblings = append(h.siblings, mc.hashes.at(x))
	}
	return h, nil
}

// head returns the head of the case's log for an append about item; a nil
// case has an empty one.
func (mc *memCase) head(item ItemID) LogHead {
	h := LogHead{Prev: -1}
	if mc == nil {
		return h
	}
	h.Size = mc.records.len()
	if i, ok := mc.last[item]; ok {
		h.Prev, h.PrevHash = i, mc.hashes.at(tlog.StoredHashIndex(0, i))
	}
	h.Items = len(mc.items)
	return h
}

// copiesAppend implements [appendCopier].
func (s *MemoryLedgerStore) copiesAppend() {}

// LogHead implements [HeadReader].
func (s *MemoryLedgerStore) LogHead(ctx context.Context, c CaseID, item ItemID) (LogHead, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mc, err := s.read(ctx, c)
	if err != nil {
		return LogHead{}, err
	}
	return mc.head(item), nil
}

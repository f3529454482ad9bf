package ir

import (
	"context"
	"fmt"
	"slices"

	"github.com/incidentkit/incidentkit/evidence"
)

// checkCustody checks, under the store's lock, that the custody appends of
// a change can all be written: each log holds exactly the records the
// first append expects, and no new item is taken.
func (s *MemoryStore) checkCustody(ctx context.Context, apps []evidence.Append) error {
	if len(apps) == 0 {
		return nil
	}
	n, err := s.ledger.Size(ctx, apps[0].Case)
	if err != nil {
		return &opError{op: "memory store: apply", err: err}
	}
	if n != apps[0].Index {
		return custodyConflict(fmt.Sprintf("custody log of case %s holds %d records, the change expects %d",
			apps[0].Case, n, apps[0].Index))
	}
	for i, a := range apps {
		if a.NewItem == nil {
			continue
		}
		taken := slices.ContainsFunc(apps[:i], func(b evidence.Append) bool { return b.NewItem != nil && b.NewItem.ID == a.NewItem.ID })
		if _, err := s.ledger.Item(ctx, a.Case, a.NewItem.ID); err == nil || taken {
			return custodyConflict(fmt.Sprintf("custody item %s exists", a.NewItem.ID))
		}
	}
	return nil
}

// The custody log is read under the store's lock, like incidents, so that
// a reader never sees a custody record before the incident change that
// carries it.

// Append implements evidence.LedgerStore.
func (s *MemoryStore) Append(ctx context.Context, a evidence.Append) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ledger.Append(ctx, a)
}

// AddCheckpoint implements evidence.LedgerStore.
func (s *MemoryStore) AddCheckpoint(ctx context.Context, c evidence.CaseID, cp evidence.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ledger.AddCheckpoint(ctx, c, cp)
}

// Size implements evidence.LedgerStore.
func (s *MemoryStore) Size(ctx context.Context, c evidence.CaseID) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.Size(ctx, c)
}

// Records implements evidence.LedgerStore.
func (s *MemoryStore) Records(ctx context.Context, c evidence.CaseID, start, end int64) ([][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.Records(ctx, c, start, end)
}

// ReadHashes implements evidence.LedgerStore.
func (s *MemoryStore) ReadHashes(ctx context.Context, c evidence.CaseID, indexes []int64) ([]evidence.Hash, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.ReadHashes(ctx, c, indexes)
}

// LastRecord implements evidence.LedgerStore.
func (s *MemoryStore) LastRecord(ctx context.Context, c evidence.CaseID, item evidence.ItemID) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.LastRecord(ctx, c, item)
}

// Item implements evidence.LedgerStore.
func (s *MemoryStore) Item(ctx context.Context, c evidence.CaseID, id evidence.ItemID) (evidence.Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.Item(ctx, c, id)
}

// Items implements evidence.LedgerStore.
func (s *MemoryStore) Items(ctx context.Context, c evidence.CaseID) ([]evidence.Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.Items(ctx, c)
}

// Checkpoints implements evidence.LedgerStore.
func (s *MemoryStore) Checkpoints(ctx context.Context, c evidence.CaseID) ([]evidence.Checkpoint, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.Checkpoints(ctx, c)
}

// LogHead implements evidence.HeadReader.
func (s *MemoryStore) LogHead(ctx context.Context, c evidence.CaseID, item evidence.ItemID) (evidence.LogHead, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.LogHead(ctx, c, item)
}

// custodyConflict returns the error of a custody append that another
// writer overtook: it says what, once, and matches both [ErrConflict] and
// evidence.ErrConflict.
func custodyConflict(what string) error { return &custodyConflictError{what: what} }

type custodyConflictError struct{ what string }

func (e *custodyConflictError) Error() string {
	return "ir: memory store: " + e.what + ": conflict"
}

func (e *custodyConflictError) Unwrap() []error { return []error{ErrConflict, evidence.ErrConflict} }

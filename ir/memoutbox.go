package ir

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
)

// memoryOutbox is a [MemoryStore]'s outbox; the store's mutex guards it.
type memoryOutbox struct {
	next    int64
	entries []*OutboxEntry // by ID, ascending
	byID    map[int64]*OutboxEntry
	// claims holds the claim of each claimed entry.
	claims map[int64]memoryClaim
	// due holds the time Retry held an entry back to.
	due map[int64]time.Time
}

type memoryClaim struct {
	owner string
	until time.Time
}

func (o *memoryOutbox) add(msgs []OutboxMessage, now time.Time) {
	for _, m := range msgs {
		o.next++
		m.Payload = slices.Clone(m.Payload)
		e := &OutboxEntry{OutboxMessage: m, ID: o.next, CreatedAt: now}
		o.entries = append(o.entries, e)
		o.byID[e.ID] = e
	}
}

// Claim implements [Outbox].
func (s *MemoryStore) Claim(ctx context.Context, owner string, limit int, lease time.Duration) ([]OutboxEntry, error) {
	if err := CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ir: memory store: claim: %w", err)
	}
	o := &s.outbox
	now := s.clock.Now()
	var out []OutboxEntry
	for _, e := range o.entries {
		if len(out) == limit {
			break
		}
		if c, ok := o.claims[e.ID]; ok && now.Before(c.until) {
			continue
		}
		if due, ok := o.due[e.ID]; ok && now.Before(due) {
			continue
		}
		o.claims[e.ID] = memoryClaim{owner: owner, until: now.Add(lease)}
		e.Attempts++
		c := *e
		c.Payload = slices.Clone(e.Payload)
		out = append(out, c)
	}
	return out, nil
}

// Ack implements [Outbox].
func (s *MemoryStore) Ack(ctx context.Context, owner string, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.outbox.holds(ctx, owner, id); err != nil {
		return err
	}
	o := &s.outbox
	delete(o.byID, id)
	delete(o.claims, id)
	delete(o.due, id)
	i, _ := slices.BinarySearchFunc(o.entries, id, func(e *OutboxEntry, id int64) int { return int(e.ID - id) })
	o.entries = slices.Delete(o.entries, i, i+1)
	return nil
}

// Retry implements [Outbox].
func (s *MemoryStore) Retry(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.outbox.holds(ctx, owner, id); err != nil {
		return err
	}
	o := &s.outbox
	delete(o.claims, id)
	o.due[id] = at
	o.byID[id].LastError = TruncateError(lastErr)
	return nil
}

// holds checks that owner holds the claim of entry id.
func (o *memoryOutbox) holds(ctx context.Context, owner string, id int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ir: memory store: outbox: %w", err)
	}
	if _, ok := o.byID[id]; !ok {
		return fmt.Errorf("ir: memory store: outbox entry %d: %w", id, ErrNotFound)
	}
	if c, ok := o.claims[id]; !ok || c.owner != owner {
		return fmt.Errorf("ir: memory store: outbox entry %d is not claimed by %q: %w", id, owner, ErrConflict)
	}
	return nil
}

// checkCustody checks, under the store's lock, that the custody appends of
// a change can all be written: each log holds exactly the records the
// first append expects, and no new item is taken.
func (s *MemoryStore) checkCustody(ctx context.Context, apps []evidence.Append) error {
	if len(apps) == 0 {
		return nil
	}
	n, err := s.ledger.Size(ctx, apps[0].Case)
	if err != nil {
		return fmt.Errorf("ir: memory store: apply: %w", err)
	}
	if n != apps[0].Index {
		return fmt.Errorf("ir: memory store: custody log of case %s holds %d records, the change expects %d: %w (%w)",
			apps[0].Case, n, apps[0].Index, ErrConflict, evidence.ErrConflict)
	}
	for i, a := range apps {
		if a.NewItem == nil {
			continue
		}
		taken := slices.ContainsFunc(apps[:i], func(b evidence.Append) bool { return b.NewItem != nil && b.NewItem.ID == a.NewItem.ID })
		if _, err := s.ledger.Item(ctx, a.Case, a.NewItem.ID); err == nil || taken {
			return fmt.Errorf("ir: memory store: custody item %s exists: %w (%w)", a.NewItem.ID, ErrConflict, evidence.ErrConflict)
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

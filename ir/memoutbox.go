package ir

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// memoryOutbox is a [MemoryStore]'s outbox; the store's mutex guards it.
type memoryOutbox struct {
	next    int64
	entries []*notify.OutboxEntry // by ID, ascending
	byID    map[int64]*notify.OutboxEntry
	// claims holds the claim of each claimed entry.
	claims map[int64]memoryClaim
	// due holds the time Retry held an entry back to.
	due map[int64]time.Time
}

type memoryClaim struct {
	owner string
	until time.Time
}

func (o *memoryOutbox) add(msgs []notify.OutboxMessage, now time.Time) {
	for _, m := range msgs {
		o.next++
		m.Payload = slices.Clone(m.Payload)
		e := &notify.OutboxEntry{OutboxMessage: m, ID: o.next, CreatedAt: now}
		o.entries = append(o.entries, e)
		o.byID[e.ID] = e
	}
}

// Claim implements notify.Outbox.
func (s *MemoryStore) Claim(ctx context.Context, owner string, limit int, lease time.Duration) ([]notify.OutboxEntry, error) {
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: claim", err: err}
	}
	o := &s.outbox
	now := s.clock.Now()
	var out []notify.OutboxEntry
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

// OldestOutbox implements notify.OutboxAger.
func (s *MemoryStore) OldestOutbox(ctx context.Context) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, &opError{op: "memory store: oldest outbox entry", err: err}
	}
	if len(s.outbox.entries) == 0 {
		return time.Time{}, false, nil
	}
	return s.outbox.entries[0].CreatedAt, true, nil
}

// Ack implements notify.Outbox.
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
	i, _ := slices.BinarySearchFunc(o.entries, id, func(e *notify.OutboxEntry, id int64) int { return int(e.ID - id) })
	o.entries = slices.Delete(o.entries, i, i+1)
	return nil
}

// Retry implements notify.Outbox.
func (s *MemoryStore) Retry(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.outbox.holds(ctx, owner, id); err != nil {
		return err
	}
	o := &s.outbox
	delete(o.claims, id)
	o.due[id] = at
	o.byID[id].LastError = notify.TruncateError(lastErr)
	return nil
}

// holds checks that owner holds the claim of entry id.
func (o *memoryOutbox) holds(ctx context.Context, owner string, id int64) error {
	if err := ctx.Err(); err != nil {
		return &opError{op: "memory store: outbox", err: err}
	}
	return o.held(owner, id)
}

// held checks that owner holds the claim of entry id, whatever the
// context: for a caller that checked it already.
func (o *memoryOutbox) held(owner string, id int64) error {
	if _, ok := o.byID[id]; !ok {
		return &opError{op: fmt.Sprintf("memory store: outbox entry %d", id), err: notify.ErrNotFound}
	}
	if c, ok := o.claims[id]; !ok || c.owner != owner {
		return &opError{op: fmt.Sprintf("memory store: outbox entry %d is not claimed by %q", id, owner), err: notify.ErrConflict}
	}
	return nil
}

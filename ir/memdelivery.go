package ir

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// memoryDeliveries is a [MemoryStore]'s delivery state; the store's mutex
// guards it.
type memoryDeliveries struct {
	next int64
	// list holds every delivery, by outbox ID and then by ID.
	list []*memoryDelivery
	byID map[int64]*memoryDelivery
}

type memoryDelivery struct {
	notify.Delivery
	claim memoryClaim
}

var _ notify.Deliveries = (*MemoryStore)(nil)

// FanOut implements notify.Deliveries.
func (s *MemoryStore) FanOut(ctx context.Context, owner string, id int64, targets []notify.DeliveryTarget) error {
	if err := notify.CheckTargets(targets); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.outbox.holds(ctx, owner, id); err != nil {
		return err
	}
	s.fanOutLocked(id, targets)
	return nil
}

// FanOutBatch implements notify.Deliveries.
func (s *MemoryStore) FanOutBatch(ctx context.Context, owner string, fans []notify.Fan) ([]error, error) {
	if err := notify.CheckFans(fans); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: fan out", err: err}
	}
	errs := make([]error, len(fans))
	for i, f := range fans {
		if errs[i] = s.outbox.holds(ctx, owner, f.ID); errs[i] == nil {
			s.fanOutLocked(f.ID, f.Targets)
		}
	}
	return errs, nil
}

// fanOutLocked fans out outbox entry id, which the caller checked is
// held; s.mu is held.
func (s *MemoryStore) fanOutLocked(id int64, targets []notify.DeliveryTarget) {
	e := s.outbox.byID[id]
	d := &s.deliveries
	if d.byID == nil {
		d.byID = make(map[int64]*memoryDelivery)
	}
	now := s.clock.Now()
	audience := notify.DeliveryAudience(e.Payload)
	for _, t := range targets {
		d.next++
		status := notify.StatusPending
		if t.Held {
			status = notify.StatusHeld
		}
		md := &memoryDelivery{Delivery: notify.Delivery{
			ID: d.next, OutboxID: e.ID, Key: e.Key, Incident: e.Incident, Type: e.Type,
			Channel: t.Channel, Route: t.Route, Audience: audience, Payload: slices.Clone(e.Payload),
			Status: status, CreatedAt: e.CreatedAt, NextAt: now, UpdatedAt: now,
		}}
		i, _ := slices.BinarySearchFunc(d.list, md, func(a, b *memoryDelivery) int {
			return cmp.Or(cmp.Compare(a.OutboxID, b.OutboxID), cmp.Compare(a.ID, b.ID))
		})
		d.list = slices.Insert(d.list, i, md)
		d.byID[md.ID] = md
	}
	o := &s.outbox
	delete(o.byID, id)
	delete(o.claims, id)
	delete(o.due, id)
	i, _ := slices.BinarySearchFunc(o.entries, id, func(e *notify.OutboxEntry, id int64) int { return cmp.Compare(e.ID, id) })
	o.entries = slices.Delete(o.entries, i, i+1)
}

// ClaimDeliveries implements notify.Deliveries.
func (s *MemoryStore) ClaimDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]notify.Delivery, error) {
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: claim deliveries", err: err}
	}
	now := s.clock.Now()
	// firstOutbox is the oldest message of each incident still waiting
	// to be fanned out.
	firstOutbox := make(map[string]int64)
	for _, e := range s.outbox.entries {
		if _, ok := firstOutbox[e.Incident]; !ok {
			firstOutbox[e.Incident] = e.ID
		}
	}
	type stream struct{ incident, channel string }
	busy := make(map[stream]bool)
	var out []notify.Delivery
	for _, d := range s.deliveries.list {
		if len(out) == limit {
			break
		}
		if d.Status != notify.StatusPending {
			continue
		}
		k := stream{d.Incident, d.Channel}
		if busy[k] {
			continue
		}
		busy[k] = true
		if first, ok := firstOutbox[d.Incident]; ok && first < d.OutboxID {
			continue
		}
		if now.Before(d.NextAt) || (d.claim.owner != "" && now.Before(d.claim.until)) {
			continue
		}
		d.claim = memoryClaim{owner: owner, until: now.Add(lease)}
		d.Attempts++
		c := d.Delivery
		c.Payload = slices.Clone(d.Payload)
		out = append(out, c)
	}
	return out, nil
}

// Delivered implements notify.Deliveries.
func (s *MemoryStore) Delivered(ctx context.Context, owner string, id int64, r notify.Receipt) error {
	return s.settleDelivery(ctx, owner, id, func(d *memoryDelivery, now time.Time) {
		d.Status, d.Receipt, d.UpdatedAt = notify.StatusDelivered, r, now
	})
}

// Failed implements notify.Deliveries.
func (s *MemoryStore) Failed(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error {
	return s.settleDelivery(ctx, owner, id, func(d *memoryDelivery, now time.Time) {
		d.NextAt, d.LastError, d.claim = at, notify.TruncateError(lastErr), memoryClaim{}
	})
}

// Release implements notify.Deliveries.
func (s *MemoryStore) Release(ctx context.Context, owner string, id int64, at time.Time) error {
	return s.settleDelivery(ctx, owner, id, func(d *memoryDelivery, now time.Time) {
		d.NextAt, d.Attempts, d.claim = at, max(d.Attempts-1, 0), memoryClaim{}
	})
}

// Dead implements notify.Deliveries.
func (s *MemoryStore) Dead(ctx context.Context, owner string, id int64, lastErr string) error {
	return s.settleDelivery(ctx, owner, id, func(d *memoryDelivery, now time.Time) {
		d.Status, d.LastError, d.UpdatedAt, d.claim = notify.StatusDead, notify.TruncateError(lastErr), now, memoryClaim{}
	})
}

// Settle implements notify.Deliveries.
func (s *MemoryStore) Settle(ctx context.Context, owner string, settlements []notify.Settlement) ([]error, error) {
	if err := notify.CheckSettlements(settlements); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: settle deliveries", err: err}
	}
	now := s.clock.Now()
	errs := make([]error, len(settlements))
	for i, st := range settlements {
		errs[i] = s.settleLocked(owner, st.ID, now, func(d *memoryDelivery, now time.Time) {
			switch st.Kind {
			case notify.SettleDelivered:
				d.Status, d.Receipt, d.UpdatedAt = notify.StatusDelivered, st.Receipt, now
			case notify.SettleFailed:
				d.NextAt, d.LastError = st.At, notify.TruncateError(st.LastError)
			case notify.SettleRelease:
				d.NextAt, d.Attempts = st.At, max(d.Attempts-1, 0)
			case notify.SettleDead:
				d.Status, d.LastError, d.UpdatedAt = notify.StatusDead, notify.TruncateError(st.LastError), now
			}
			d.claim = memoryClaim{}
		})
	}
	return errs, nil
}

// settleDelivery applies f to delivery id if owner holds its claim.
func (s *MemoryStore) settleDelivery(ctx context.Context, owner string, id int64, f func(*memoryDelivery, time.Time)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return &opError{op: "memory store: delivery", err: err}
	}
	return s.settleLocked(owner, id, s.clock.Now(), f)
}

// settleLocked applies f to delivery id if owner holds its claim; s.mu is
// held.
func (s *MemoryStore) settleLocked(owner string, id int64, now time.Time, f func(*memoryDelivery, time.Time)) error {
	d, ok := s.deliveries.byID[id]
	switch {
	case !ok:
		return &opError{op: fmt.Sprintf("memory store: delivery %d", id), err: notify.ErrNotFound}
	case d.Status != notify.StatusPending || d.claim.owner != owner:
		return &opError{op: fmt.Sprintf("memory store: delivery %d is not pending and claimed by %q", id, owner), err: notify.ErrConflict}
	}
	f(d, now)
	return nil
}

// IncidentDeliveries implements notify.Deliveries.
func (s *MemoryStore) IncidentDeliveries(ctx context.Context, incident string) ([]notify.Delivery, error) {
	return s.listDeliveries(ctx, 0, func(d *memoryDelivery) bool { return d.Incident == incident }, func(a, b notify.Delivery) int {
		return cmp.Or(cmp.Compare(a.OutboxID, b.OutboxID), cmp.Compare(a.Channel, b.Channel))
	})
}

// DeadDeliveries implements notify.Deliveries.
func (s *MemoryStore) DeadDeliveries(ctx context.Context, channel string, limit int) ([]notify.Delivery, error) {
	if err := notify.CheckDeadList(channel, limit); err != nil {
		return nil, err
	}
	return s.listDeliveries(ctx, limit, func(d *memoryDelivery) bool {
		return d.Status == notify.StatusDead && (channel == "" || d.Channel == channel)
	}, func(a, b notify.Delivery) int { return cmp.Compare(a.ID, b.ID) })
}

func (s *MemoryStore) listDeliveries(ctx context.Context, limit int, keep func(*memoryDelivery) bool, order func(a, b notify.Delivery) int) ([]notify.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: list deliveries", err: err}
	}
	var out []notify.Delivery
	for _, d := range s.deliveries.list {
		if keep(d) {
			c := d.Delivery
			c.Payload = slices.Clone(d.Payload)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, order)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CountDeliveries implements notify.Deliveries.
func (s *MemoryStore) CountDeliveries(ctx context.Context) ([]notify.DeliveryCount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: count deliveries", err: err}
	}
	type group struct {
		channel string
		status  notify.DeliveryStatus
	}
	n := make(map[group]int64)
	for _, d := range s.deliveries.list {
		if d.Status == notify.StatusPending || d.Status == notify.StatusDead {
			n[group{d.Channel, d.Status}]++
		}
	}
	out := make([]notify.DeliveryCount, 0, len(n))
	for g, c := range n {
		out = append(out, notify.DeliveryCount{Channel: g.channel, Status: g.status, N: c})
	}
	return out, nil
}

// Replay implements notify.Deliveries.
func (s *MemoryStore) Replay(ctx context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return &opError{op: "memory store: replay", err: err}
	}
	d, ok := s.deliveries.byID[id]
	switch {
	case !ok:
		return &opError{op: fmt.Sprintf("memory store: delivery %d", id), err: notify.ErrNotFound}
	case d.Status != notify.StatusDead:
		return &opError{op: fmt.Sprintf("memory store: delivery %d is %s, not dead", id, d.Status), err: notify.ErrConflict}
	}
	now := s.clock.Now()
	d.Status, d.Attempts, d.NextAt, d.UpdatedAt, d.claim = notify.StatusPending, 0, now, now, memoryClaim{}
	return nil
}

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
	// pending holds the pending deliveries of each stream (an incident's
	// deliveries to one channel) that has any, by outbox ID and then by
	// ID: the first of each is the stream's head, the only one that can
	// be due.
	pending map[deliveryStream][]*memoryDelivery
}

// deliveryStream is an incident's deliveries to one channel.
type deliveryStream struct{ incident, channel string }

// deliveryOrder orders deliveries by outbox ID and then by ID.
func deliveryOrder(a, b *memoryDelivery) int {
	return cmp.Or(cmp.Compare(a.OutboxID, b.OutboxID), cmp.Compare(a.ID, b.ID))
}

// queue adds pending delivery md to its stream.
func (d *memoryDeliveries) queue(md *memoryDelivery) {
	if d.pending == nil {
		d.pending = make(map[deliveryStream][]*memoryDelivery)
	}
	k := deliveryStream{md.Incident, md.Channel}
	q := d.pending[k]
	i, found := slices.BinarySearchFunc(q, md, deliveryOrder)
	if !found {
		d.pending[k] = slices.Insert(q, i, md)
	}
}

// unqueue removes md, no longer pending, from its stream.
func (d *memoryDeliveries) unqueue(md *memoryDelivery) {
	k := deliveryStream{md.Incident, md.Channel}
	q := d.pending[k]
	i, found := slices.BinarySearchFunc(q, md, deliveryOrder)
	if !found {
		return
	}
	if q = slices.Delete(q, i, i+1); len(q) == 0 {
		delete(d.pending, k)
	} else {
		d.pending[k] = q
	}
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
	s.fanOutLocked(id, targets, notify.DeliveryAudience(s.outbox.byID[id].Payload))
	return nil
}

// FanOutAndClaim implements notify.Deliveries.
func (s *MemoryStore) FanOutAndClaim(ctx context.Context, owner string, limit int, lease time.Duration, route notify.RouteFunc) ([]notify.Delivery, error) {
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	if route == nil {
		return nil, &opError{op: "memory store: fan out", err: fmt.Errorf("%w: no route function", notify.ErrInvalid)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: fan out", err: err}
	}
	now := s.clock.Now()
	// The deliveries already due first; the messages taken and their fans
	// are decided next, so that a fan route gets wrong changes nothing.
	first := s.dueLocked(limit, now)
	o := &s.outbox
	type taken struct {
		e    notify.OutboxEntry
		fan  notify.Fan
		fast bool // claimed with its deliveries, recorded by Settle
	}
	var (
		take    []taken
		claimed = len(first)
		// blocked holds the incidents with an earlier message left in
		// the outbox; busy, the streams with a delivery from this pass.
		blocked = make(map[string]bool)
		busy    = make(map[deliveryStream]bool)
	)
	for _, e := range o.entries {
		if len(take) >= limit-len(first) {
			break
		}
		if c, ok := o.claims[e.ID]; ok && now.Before(c.until) {
			blocked[e.Incident] = true
			continue
		}
		if due, ok := o.due[e.ID]; ok && now.Before(due) {
			blocked[e.Incident] = true
			continue
		}
		c := *e
		c.Attempts++
		c.Payload = slices.Clone(e.Payload)
		fan := route(ctx, c)
		if err := notify.CheckTargets(fan.Targets); err != nil {
			return nil, err
		}
		fast := len(fan.Targets) > 0 && !blocked[e.Incident] && claimed+len(fan.Targets) <= limit
		for _, t := range fan.Targets {
			k := deliveryStream{e.Incident, t.Channel}
			if q := s.deliveries.pending[k]; t.Held || busy[k] || len(q) > 0 && q[0].OutboxID < e.ID {
				fast = false
			}
		}
		for _, t := range fan.Targets {
			if !t.Held {
				busy[deliveryStream{e.Incident, t.Channel}] = true
			}
		}
		if fast {
			claimed += len(fan.Targets)
			// Left in the outbox, it holds up the later messages of its
			// incident, in this pass too.
			blocked[e.Incident] = true
		}
		take = append(take, taken{c, fan, fast})
	}
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: fan out", err: err}
	}
	out := s.claimLocked(first, owner, lease, now)
	for _, t := range take {
		if !t.fast {
			s.fanOutLocked(t.e.ID, t.fan.Targets, t.fan.Audience)
			continue
		}
		o.claims[t.e.ID] = memoryClaim{owner: owner, until: now.Add(lease)}
		o.byID[t.e.ID].Attempts = t.e.Attempts
		for _, tg := range t.fan.Targets {
			out = append(out, notify.Delivery{OutboxID: t.e.ID, Key: t.e.Key, Incident: t.e.Incident, Type: t.e.Type,
				Channel: tg.Channel, Route: tg.Route, Audience: t.fan.Audience, Payload: slices.Clone(t.e.Payload),
				Status: notify.StatusPending, Attempts: t.e.Attempts, CreatedAt: t.e.CreatedAt, NextAt: now, UpdatedAt: now})
		}
	}
	// The new deliveries that are due are claimed at once, and so are
	// those the messages taken held up and that wait for nothing now.
	out = append(out, s.claimLocked(s.dueLocked(limit-len(out), now), owner, lease, now)...)
	slices.SortFunc(out, func(a, b notify.Delivery) int {
		return cmp.Or(cmp.Compare(a.OutboxID, b.OutboxID), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Channel, b.Channel))
	})
	return out, nil
}

// fanOutLocked fans out outbox entry id, which the caller checked is
// held; s.mu is held.
func (s *MemoryStore) fanOutLocked(id int64, targets []notify.DeliveryTarget, audience notify.Audience) {
	e := s.outbox.byID[id]
	d := &s.deliveries
	if d.byID == nil {
		d.byID = make(map[int64]*memoryDelivery)
	}
	now := s.clock.Now()
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
		if t.Held {
			md.LastError = notify.TruncateError(t.Reason)
		}
		i, _ := slices.BinarySearchFunc(d.list, md, deliveryOrder)
		d.list = slices.Insert(d.list, i, md)
		d.byID[md.ID] = md
		if status == notify.StatusPending {
			d.queue(md)
		}
	}
	s.removeEntryLocked(id)
}

// removeEntryLocked removes outbox entry id; s.mu is held.
func (s *MemoryStore) removeEntryLocked(id int64) {
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
	return s.claimLocked(s.dueLocked(limit, now), owner, lease, now), nil
}

// dueLocked returns up to limit due deliveries, in outbox order; s.mu is
// held.
func (s *MemoryStore) dueLocked(limit int, now time.Time) []*memoryDelivery {
	if limit <= 0 {
		return nil
	}
	// firstOutbox is the oldest message of each incident still waiting
	// to be fanned out.
	firstOutbox := make(map[string]int64)
	for _, e := range s.outbox.entries {
		if _, ok := firstOutbox[e.Incident]; !ok {
			firstOutbox[e.Incident] = e.ID
		}
	}
	// Only the head of each stream can be due: the rest wait for it.
	var out []*memoryDelivery
	for _, q := range s.deliveries.pending {
		d := q[0]
		if first, ok := firstOutbox[d.Incident]; ok && first < d.OutboxID {
			continue
		}
		if now.Before(d.NextAt) || (d.claim.owner != "" && now.Before(d.claim.until)) {
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, deliveryOrder)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// claimLocked claims ds for owner and returns copies of them; s.mu is
// held.
func (s *MemoryStore) claimLocked(ds []*memoryDelivery, owner string, lease time.Duration, now time.Time) []notify.Delivery {
	out := make([]notify.Delivery, 0, len(ds))
	for _, d := range ds {
		d.claim = memoryClaim{owner: owner, until: now.Add(lease)}
		d.Attempts++
		c := d.Delivery
		c.Payload = slices.Clone(d.Payload)
		out = append(out, c)
	}
	return out
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
		if st.ID == 0 {
			continue
		}
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
	for _, m := range notify.ByMessage(settlements) {
		if err := s.outbox.held(owner, m.OutboxID); err != nil {
			for _, i := range m.Index {
				errs[i] = err
			}
			continue
		}
		for _, i := range m.Index {
			settlements[i].ID = s.recordLocked(settlements[i], now)
		}
		s.removeEntryLocked(m.OutboxID)
	}
	return errs, nil
}

// recordLocked records the delivery of settlement st, whose message
// FanOutAndClaim claimed with it and the caller checked is held, with
// its outcome, and returns its ID; s.mu is held.
func (s *MemoryStore) recordLocked(st notify.Settlement, now time.Time) int64 {
	e := s.outbox.byID[st.OutboxID]
	d := &s.deliveries
	if d.byID == nil {
		d.byID = make(map[int64]*memoryDelivery)
	}
	d.next++
	md := &memoryDelivery{Delivery: notify.Delivery{
		ID: d.next, OutboxID: e.ID, Key: e.Key, Incident: e.Incident, Type: e.Type,
		Channel: st.Channel, Route: st.Route, Audience: st.Audience, Payload: slices.Clone(e.Payload),
		Status: notify.StatusPending, Attempts: e.Attempts, CreatedAt: e.CreatedAt, NextAt: now, UpdatedAt: now,
	}}
	switch st.Kind {
	case notify.SettleDelivered:
		md.Status, md.Receipt = notify.StatusDelivered, st.Receipt
	case notify.SettleFailed:
		md.NextAt, md.LastError = st.At, notify.TruncateError(st.LastError)
	case notify.SettleRelease:
		md.NextAt, md.Attempts = st.At, max(md.Attempts-1, 0)
	case notify.SettleDead:
		md.Status, md.LastError = notify.StatusDead, notify.TruncateError(st.LastError)
	case notify.SettleClaimed:
		md.claim = s.outbox.claims[st.OutboxID]
	}
	i, _ := slices.BinarySearchFunc(d.list, md, deliveryOrder)
	d.list = slices.Insert(d.list, i, md)
	d.byID[md.ID] = md
	if md.Status == notify.StatusPending {
		d.queue(md)
	}
	return md.ID
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
	if d.Status != notify.StatusPending {
		s.deliveries.unqueue(d)
	}
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
	s.deliveries.queue(d)
	return nil
}

package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/incidentkit/incidentkit/notify"
)

var _ notify.Deliveries = (*Store)(nil)

// deliveryColumns are the columns scanDelivery reads, in order.
const deliveryColumns = `id, outbox_id, key, incident_id, type, channel, route, audience, payload, status,
	attempts, created_at, next_at, updated_at, last_error, receipt_id, receipt_status`

func scanDelivery(row pgx.Row) (notify.Delivery, error) {
	var (
		d                 notify.Delivery
		audience, status  string
		attempts, rstatus int32
	)
	err := row.Scan(&d.ID, &d.OutboxID, &d.Key, &d.Incident, &d.Type, &d.Channel, &d.Route, &audience, &d.Payload,
		&status, &attempts, &d.CreatedAt, &d.NextAt, &d.UpdatedAt, &d.LastError, &d.Receipt.ID, &rstatus)
	d.Audience, d.Status, d.Attempts, d.Receipt.Status = notify.Audience(audience), notify.DeliveryStatus(status), int(attempts), int(rstatus)
	if d.Payload == nil {
		d.Payload = []byte{}
	}
	return d, err
}

// FanOut implements notify.Deliveries: the deliveries are inserted and the
// outbox row deleted in one transaction, with the row locked first.
func (s *Store) FanOut(ctx context.Context, owner string, id int64, targets []notify.DeliveryTarget) error {
	if err := notify.CheckTargets(targets); err != nil {
		return err
	}
	if err := ctxErr(ctx, "fan out"); err != nil {
		return err
	}
	op := fmt.Sprintf("fan out outbox entry %d", id)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer rollback(ctx, tx)
	var (
		claimedBy *string
		payload   []byte
	)
	err = tx.QueryRow(ctx, s.q.t(`SELECT claimed_by, payload FROM §.outbox WHERE id = $1 FOR UPDATE`), id).Scan(&claimedBy, &payload)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: fan out: outbox entry %d: %w", id, notify.ErrNotFound)
	case err != nil:
		return wrap(ctx, op, err)
	case claimedBy == nil || *claimedBy != owner:
		return fmt.Errorf("postgres: fan out: outbox entry %d is not claimed by %q: %w", id, owner, notify.ErrConflict)
	}
	audience := string(notify.DeliveryAudience(payload))
	for _, t := range targets {
		status, reason := notify.StatusPending, ""
		if t.Held {
			status, reason = notify.StatusHeld, notify.TruncateError(t.Reason)
		}
		if _, err := tx.Exec(ctx, s.q.t(`INSERT INTO §.deliveries (outbox_id, key, incident_id, type, channel, route,
				audience, payload, status, created_at, next_at, updated_at, last_error)
			SELECT id, key, incident_id, type, $2, $3, $4, payload, $5, created_at,
				coalesce($6::timestamptz, statement_timestamp()), coalesce($6::timestamptz, statement_timestamp()), $7
			FROM §.outbox WHERE id = $1`), id, t.Channel, t.Route, audience, string(status), s.now(), reason); err != nil {
			return wrap(ctx, op, err)
		}
	}
	if _, err := tx.Exec(ctx, s.q.t(`DELETE FROM §.outbox WHERE id = $1`), id); err != nil {
		return wrap(ctx, op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(ctx, op+": commit", err)
	}
	return nil
}

// FanOutAndClaim implements notify.Deliveries, in one transaction: the
// due deliveries are claimed as ClaimDeliveries claims them, then as many
// outbox rows as the limit leaves are claimed as Claim claims them (skipping
// those another pass is taking), by one statement. A message whose
// deliveries are all due and fit in the limit is left claimed in the
// outbox, and its deliveries are returned with ID 0 for Settle to record;
// the deliveries of the others are inserted by one statement, those that
// are due already claimed, and those messages deleted by another. Whether
// a delivery is due is decided from what holds it up as the transaction
// sees it: a message of its incident another pass is taking is still in
// the outbox until that pass commits its deliveries with its deletion, or
// until its deliveries are settled.
func (s *Store) FanOutAndClaim(ctx context.Context, owner string, limit int, lease time.Duration, route notify.RouteFunc) ([]notify.Delivery, error) {
	const op = "fan out and claim"
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	if route == nil {
		return nil, fmt.Errorf("postgres: %s: no route function: %w", op, notify.ErrInvalid)
	}
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rollback(ctx, tx)
	// The deliveries already due first: those the messages taken below
	// hold up are still held up by them while this runs.
	out, err := s.claimDeliveries(ctx, tx, owner, limit, lease)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	if len(out) >= limit {
		// A backlog of due deliveries is worked through before more
		// messages are taken.
		if err := tx.Commit(ctx); err != nil {
			return nil, wrap(ctx, op+": commit", err)
		}
		return sortDeliveries(out), nil
	}
	micros := int64((lease + time.Microsecond - 1) / time.Microsecond)
	var now, until any
	if s.clock != nil {
		t := s.clock.Now()
		now, until = t, microsUp(t.Add(lease))
	}
	rows, err := tx.Query(ctx, s.q.t(`WITH due AS (
			SELECT id FROM §.outbox
			WHERE available_at <= coalesce($1::timestamptz, statement_timestamp())
				AND (claimed_until IS NULL OR claimed_until <= coalesce($1::timestamptz, statement_timestamp()))
			ORDER BY id LIMIT $2
			FOR UPDATE SKIP LOCKED)
		UPDATE §.outbox o SET claimed_by = $3,
			claimed_until = coalesce($4::timestamptz, statement_timestamp() + $5::bigint * interval '1 microsecond'),
			attempts = o.attempts + 1
		FROM due WHERE o.id = due.id
		RETURNING o.id, o.key, o.incident_id, o.type, o.payload, o.created_at, o.attempts, o.last_error,
			coalesce($1::timestamptz, statement_timestamp())`), now, limit-len(out), owner, until, micros)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	var (
		entries  []notify.OutboxEntry
		e        notify.OutboxEntry
		attempts int32
		claimAt  time.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&e.ID, &e.Key, &e.Incident, &e.Type, &e.Payload, &e.CreatedAt, &attempts, &e.LastError, &claimAt}, func() error {
		e.Attempts = int(attempts)
		if e.Payload == nil {
			e.Payload = []byte{}
		}
		entries = append(entries, e)
		return nil
	}); err != nil {
		return nil, wrap(ctx, op, err)
	}
	if len(entries) == 0 {
		if err := tx.Commit(ctx); err != nil {
			return nil, wrap(ctx, op+": commit", err)
		}
		return sortDeliveries(out), nil
	}
	slices.SortFunc(entries, func(a, b notify.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })

	// What holds up the new deliveries: the earliest pending delivery of
	// each of their incidents to each channel, and the earliest message
	// of each of their incidents left in the outbox, other than those
	// taken here.
	incidents := make([]string, 0, len(entries))
	taken := make([]int64, 0, len(entries))
	for _, e := range entries {
		incidents, taken = append(incidents, e.Incident), append(taken, e.ID)
	}
	type stream struct{ incident, channel string }
	pendingFrom := make(map[stream]int64)
	outboxFrom := make(map[string]int64)
	rows, err = tx.Query(ctx, s.q.t(`SELECT incident_id, channel, min(outbox_id) FROM §.deliveries
			WHERE status = 'pending' AND incident_id = ANY($1) GROUP BY incident_id, channel
		UNION ALL
		SELECT incident_id, NULL, min(id) FROM §.outbox WHERE incident_id = ANY($1) AND id <> ALL($2)
			GROUP BY incident_id`), incidents, taken)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	var (
		inc     string
		channel *string
		from    int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&inc, &channel, &from}, func() error {
		if channel == nil {
			outboxFrom[inc] = from
		} else {
			pendingFrom[stream{inc, *channel}] = from
		}
		return nil
	}); err != nil {
		return nil, wrap(ctx, op, err)
	}

	// The rows to insert, column by column, for the messages fanned out.
	var (
		outboxIDs                                 []int64
		keys, incs, types, channels, routes, auds []string
		payloads                                  [][]byte
		statuses, reasons                         []string
		created                                   []time.Time
		claims                                    []bool
		fannedOut                                 []int64
	)
	type pending struct {
		e   int
		fan notify.Fan
		t   notify.DeliveryTarget
	}
	var made []pending
	claimed := len(out)
	for i, e := range entries {
		fan := route(ctx, e)
		if err := notify.CheckTargets(fan.Targets); err != nil {
			return nil, err
		}
		// due tells whether a pending delivery of e to channel would be
		// due under the order rule.
		due := func(channel string) bool {
			first, busy := pendingFrom[stream{e.Incident, channel}]
			held, waits := outboxFrom[e.Incident]
			return (!busy || first > e.ID) && (!waits || held > e.ID)
		}
		fast := len(fan.Targets) > 0 && claimed+len(fan.Targets) <= limit
		for _, t := range fan.Targets {
			if !fast {
				break
			}
			fast = !t.Held && due(t.Channel)
		}
		if fast {
			// Claimed with its message: nothing more is written until
			// Settle records the outcomes. Left in the outbox, it holds
			// up the later messages of its incident, in this pass too.
			if held, waits := outboxFrom[e.Incident]; !waits || held > e.ID {
				outboxFrom[e.Incident] = e.ID
			}
			for _, t := range fan.Targets {
				pendingFrom[stream{e.Incident, t.Channel}] = e.ID
				out = append(out, notify.Delivery{OutboxID: e.ID, Key: e.Key, Incident: e.Incident, Type: e.Type,
					Channel: t.Channel, Route: t.Route, Audience: fan.Audience, Payload: e.Payload,
					Status: notify.StatusPending, Attempts: e.Attempts, CreatedAt: e.CreatedAt, NextAt: claimAt, UpdatedAt: claimAt})
			}
			claimed += len(fan.Targets)
			continue
		}
		fannedOut = append(fannedOut, e.ID)
		for _, t := range fan.Targets {
			status, claim, reason := notify.StatusPending, false, ""
			if t.Held {
				status, reason = notify.StatusHeld, notify.TruncateError(t.Reason)
			} else {
				claim = claimed < limit && due(t.Channel)
				k := stream{e.Incident, t.Channel}
				if first, busy := pendingFrom[k]; !busy || first > e.ID {
					pendingFrom[k] = e.ID
				}
			}
			if claim {
				claimed++
			}
			outboxIDs, keys, incs, types = append(outboxIDs, e.ID), append(keys, e.Key), append(incs, e.Incident), append(types, e.Type)
			channels, routes, auds = append(channels, t.Channel), append(routes, t.Route), append(auds, string(fan.Audience))
			payloads, statuses, created = append(payloads, e.Payload), append(statuses, string(status)), append(created, e.CreatedAt)
			claims, reasons = append(claims, claim), append(reasons, reason)
			made = append(made, pending{i, fan, t})
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap(ctx, op, err)
	}
	if len(made) > 0 {
		rows, err = tx.Query(ctx, s.q.t(`INSERT INTO §.deliveries (outbox_id, key, incident_id, type, channel, route,
				audience, payload, status, created_at, next_at, updated_at, claimed_by, claimed_until, attempts, last_error)
			SELECT r.outbox_id, r.key, r.incident_id, r.type, r.channel, r.route, r.audience, r.payload, r.status,
				r.created_at, coalesce($12::timestamptz, statement_timestamp()), coalesce($12::timestamptz, statement_timestamp()),
				CASE WHEN r.claim THEN $13 END,
				CASE WHEN r.claim THEN coalesce($14::timestamptz, statement_timestamp() + $15::bigint * interval '1 microsecond') END,
				CASE WHEN r.claim THEN 1 ELSE 0 END, r.last_error
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[],
				$9::text[], $10::timestamptz[], $11::boolean[], $16::text[])
				AS r(outbox_id, key, incident_id, type, channel, route, audience, payload, status, created_at, claim, last_error)
			RETURNING id, outbox_id, channel, next_at, updated_at, attempts`),
			outboxIDs, keys, incs, types, channels, routes, auds, payloads, statuses, created, claims,
			s.now(), owner, until, micros, reasons)
		if err != nil {
			return nil, wrap(ctx, op, err)
		}
		type key struct {
			outbox  int64
			channel string
		}
		type inserted struct {
			id        int64
			next, upd time.Time
			attempts  int32
		}
		byKey := make(map[key]inserted, len(outboxIDs))
		var (
			r       inserted
			outbox  int64
			channel string
		)
		if _, err := pgx.ForEachRow(rows, []any{&r.id, &outbox, &channel, &r.next, &r.upd, &r.attempts}, func() error {
			byKey[key{outbox, channel}] = r
			return nil
		}); err != nil {
			return nil, wrap(ctx, op, err)
		}
		for _, p := range made {
			e := entries[p.e]
			m := byKey[key{e.ID, p.t.Channel}]
			if m.attempts == 0 {
				continue // held back by TLP, or not due yet
			}
			out = append(out, notify.Delivery{ID: m.id, OutboxID: e.ID, Key: e.Key, Incident: e.Incident, Type: e.Type,
				Channel: p.t.Channel, Route: p.t.Route, Audience: p.fan.Audience, Payload: e.Payload,
				Status: notify.StatusPending, Attempts: int(m.attempts), CreatedAt: e.CreatedAt, NextAt: m.next, UpdatedAt: m.upd})
		}
	}
	if len(fannedOut) > 0 {
		if _, err := tx.Exec(ctx, s.q.t(`DELETE FROM §.outbox WHERE id = ANY($1)`), fannedOut); err != nil {
			return nil, wrap(ctx, op, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, wrap(ctx, op+": commit", err)
	}
	return sortDeliveries(out), nil
}

// sortDeliveries sorts ds in outbox order and returns it; the deliveries
// of a message claimed with it, all with ID 0, by channel.
func sortDeliveries(ds []notify.Delivery) []notify.Delivery {
	slices.SortFunc(ds, func(a, b notify.Delivery) int {
		return cmp.Or(cmp.Compare(a.OutboxID, b.OutboxID), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Channel, b.Channel))
	})
	return ds
}

// ClaimDeliveries implements notify.Deliveries. Rows another claimer is
// claiming right now are skipped rather than waited for; a pending
// delivery, claimed or not, holds up the later ones of its incident and
// channel.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]notify.Delivery, error) {
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	if err := ctxErr(ctx, "claim deliveries"); err != nil {
		return nil, err
	}
	out, err := s.claimDeliveries(ctx, s.pool, owner, limit, lease)
	if err != nil {
		return nil, wrap(ctx, "claim deliveries", err)
	}
	return sortDeliveries(out), nil
}

// claimDeliveries claims up to limit due deliveries for owner with q.
func (s *Store) claimDeliveries(ctx context.Context, q rowsQuerier, owner string, limit int, lease time.Duration) ([]notify.Delivery, error) {
	micros := int64((lease + time.Microsecond - 1) / time.Microsecond)
	var now, until any
	if s.clock != nil {
		t := s.clock.Now()
		now, until = t, microsUp(t.Add(lease))
	}
	// Only the head of each stream, its earliest pending delivery, can be
	// due: the later ones wait for it. heads hops from stream to stream
	// along deliveries_pending, one index seek per stream that has a
	// pending delivery, so that the deliveries queued behind a head that
	// waits (a channel backing off) cost nothing. A head is due when its
	// time has come, no claim holds it, and no earlier message of its
	// incident is still in the outbox.
	rows, err := q.Query(ctx, s.q.t(`WITH RECURSIVE heads AS (
			(SELECT id, incident_id, channel FROM §.deliveries WHERE status = 'pending'
				ORDER BY incident_id, channel, outbox_id LIMIT 1)
			UNION ALL
			SELECT n.id, n.incident_id, n.channel FROM heads h, LATERAL (
				SELECT e.id, e.incident_id, e.channel FROM §.deliveries e
				WHERE e.status = 'pending' AND (e.incident_id, e.channel) > (h.incident_id, h.channel)
				ORDER BY e.incident_id, e.channel, e.outbox_id LIMIT 1) n),
		due AS (
			SELECT d.id FROM heads JOIN §.deliveries d ON d.id = heads.id
			WHERE d.status = 'pending' AND d.next_at <= coalesce($1::timestamptz, statement_timestamp())
				AND (d.claimed_until IS NULL OR d.claimed_until <= coalesce($1::timestamptz, statement_timestamp()))
				AND NOT EXISTS (SELECT 1 FROM §.outbox o WHERE o.incident_id = d.incident_id AND o.id < d.outbox_id)
			ORDER BY d.outbox_id, d.id LIMIT $2
			FOR UPDATE OF d SKIP LOCKED)
		UPDATE §.deliveries d SET claimed_by = $3,
			claimed_until = coalesce($4::timestamptz, statement_timestamp() + $5::bigint * interval '1 microsecond'),
			attempts = d.attempts + 1
		FROM due WHERE d.id = due.id AND d.status = 'pending'
		RETURNING d.id, d.outbox_id, d.key, d.incident_id, d.type, d.channel, d.route, d.audience, d.payload, d.status,
			d.attempts, d.created_at, d.next_at, d.updated_at, d.last_error, d.receipt_id, d.receipt_status`),
		now, limit, owner, until, micros)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (notify.Delivery, error) { return scanDelivery(row) })
}

// Delivered implements notify.Deliveries.
func (s *Store) Delivered(ctx context.Context, owner string, id int64, r notify.Receipt) error {
	return s.settleDelivery(ctx, owner, notify.Settlement{ID: id, Kind: notify.SettleDelivered, Receipt: r})
}

// Failed implements notify.Deliveries.
func (s *Store) Failed(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error {
	return s.settleDelivery(ctx, owner, notify.Settlement{ID: id, Kind: notify.SettleFailed, At: at, LastError: lastErr})
}

// Release implements notify.Deliveries.
func (s *Store) Release(ctx context.Context, owner string, id int64, at time.Time) error {
	return s.settleDelivery(ctx, owner, notify.Settlement{ID: id, Kind: notify.SettleRelease, At: at})
}

// Dead implements notify.Deliveries.
func (s *Store) Dead(ctx context.Context, owner string, id int64, lastErr string) error {
	return s.settleDelivery(ctx, owner, notify.Settlement{ID: id, Kind: notify.SettleDead, LastError: lastErr})
}

// settleQuery returns the statement that records st if owner holds the
// delivery, and its arguments; it returns the number of rows changed and
// whether the delivery exists.
func (s *Store) settleQuery(owner string, st notify.Settlement) (string, []any) {
	var (
		set  string
		args []any
	)
	switch st.Kind {
	case notify.SettleDelivered:
		set = `status = 'delivered', updated_at = coalesce($3::timestamptz, statement_timestamp()),
			receipt_id = $4, receipt_status = $5`
		args = []any{s.now(), st.Receipt.ID, st.Receipt.Status}
	case notify.SettleFailed:
		set, args = `next_at = $3, last_error = $4`, []any{st.At.Truncate(time.Microsecond), notify.TruncateError(st.LastError)}
	case notify.SettleRelease:
		set, args = `next_at = $3, attempts = greatest(attempts - 1, 0)`, []any{st.At.Truncate(time.Microsecond)}
	case notify.SettleDead:
		set = `status = 'dead', updated_at = coalesce($3::timestamptz, statement_timestamp()), last_error = $4`
		args = []any{s.now(), notify.TruncateError(st.LastError)}
	}
	return s.q.t(`WITH done AS (
			UPDATE §.deliveries SET claimed_by = NULL, claimed_until = NULL, ` + set + `
			WHERE id = $1 AND claimed_by = $2 AND status = 'pending' RETURNING 1)
		SELECT (SELECT count(*) FROM done), EXISTS (SELECT 1 FROM §.deliveries WHERE id = $1)`),
		append([]any{st.ID, owner}, args...)
}

// settled turns what a settle statement did into the errors of
// notify.Deliveries.
func settled(op, owner string, id, done int64, found bool) error {
	switch {
	case done == 1:
		return nil
	case !found:
		return fmt.Errorf("postgres: %s: delivery %d: %w", op, id, notify.ErrNotFound)
	default:
		return fmt.Errorf("postgres: %s: delivery %d is not pending and claimed by %q: %w", op, id, owner, notify.ErrConflict)
	}
}

// settleDelivery records st if owner holds the delivery.
func (s *Store) settleDelivery(ctx context.Context, owner string, st notify.Settlement) error {
	op := string(st.Kind)
	if err := ctxErr(ctx, op); err != nil {
		return err
	}
	var (
		done  int64
		found bool
	)
	query, args := s.settleQuery(owner, st)
	if err := s.pool.QueryRow(ctx, query, args...).Scan(&done, &found); err != nil {
		return wrap(ctx, fmt.Sprintf("%s delivery %d", op, st.ID), err)
	}
	return settled(op, owner, st.ID, done, found)
}

// rowsQuerier runs a query: a pool or a transaction.
type rowsQuerier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// Settle implements notify.Deliveries. The settlements of recorded
// deliveries are recorded by one statement, which updates the rows owner
// holds, locking them in delivery ID order, and tells which of the others
// exist. Those of deliveries claimed with their message are recorded by
// another, which locks the messages in ID order, inserts the deliveries
// of those owner holds with their outcomes and deletes those messages.
// With both kinds, both statements run in one transaction.
func (s *Store) Settle(ctx context.Context, owner string, settlements []notify.Settlement) ([]error, error) {
	const op = "settle deliveries"
	if err := notify.CheckSettlements(settlements); err != nil {
		return nil, err
	}
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	errs := make([]error, len(settlements))
	if len(settlements) == 0 {
		return errs, nil
	}
	var recorded, fanned []int
	for i, st := range settlements {
		if st.ID != 0 {
			recorded = append(recorded, i)
		} else {
			fanned = append(fanned, i)
		}
	}
	if len(fanned) == 0 {
		if err := s.settleRecorded(ctx, s.pool, owner, settlements, recorded, errs); err != nil {
			return nil, wrap(ctx, op, err)
		}
		return errs, nil
	}
	var (
		q  rowsQuerier = s.pool
		tx pgx.Tx
	)
	if len(recorded) > 0 {
		var err error
		if tx, err = s.pool.Begin(ctx); err != nil {
			return nil, wrap(ctx, op, err)
		}
		defer rollback(ctx, tx)
		q = tx
		if err := s.settleRecorded(ctx, tx, owner, settlements, recorded, errs); err != nil {
			return nil, wrap(ctx, op, err)
		}
	}
	ids, err := s.settleFanned(ctx, q, owner, settlements, fanned, errs)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	if tx != nil {
		if err := tx.Commit(ctx); err != nil {
			return nil, wrap(ctx, op+": commit", err)
		}
	}
	for i, id := range ids {
		settlements[i].ID = id
	}
	return errs, nil
}

// settleRecorded records the settlements at indexes idx, of deliveries
// with an ID, with q, and sets errs for those it could not.
func (s *Store) settleRecorded(ctx context.Context, q rowsQuerier, owner string, settlements []notify.Settlement, idx []int, errs []error) error {
	var (
		ids                       = make([]int64, len(idx))
		kinds, receipts, lastErrs = make([]string, len(idx)), make([]string, len(idx)), make([]string, len(idx))
		statuses                  = make([]int32, len(idx))
		ats                       = make([]time.Time, len(idx))
		index                     = make(map[int64]int, len(idx))
	)
	for j, i := range idx {
		st := settlements[i]
		ids[j], kinds[j], receipts[j], statuses[j] = st.ID, string(st.Kind), st.Receipt.ID, int32(st.Receipt.Status)
		ats[j], lastErrs[j] = st.At.Truncate(time.Microsecond), notify.TruncateError(st.LastError)
		index[st.ID] = i
	}
	rows, err := q.Query(ctx, s.q.t(`WITH s AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::timestamptz[], $6::text[])
				AS s(id, kind, receipt_id, receipt_status, at, last_error)),
		held AS (
			SELECT d.id FROM §.deliveries d JOIN s ON d.id = s.id
			WHERE d.claimed_by = $7 AND d.status = 'pending'
			ORDER BY d.id FOR UPDATE OF d),
		done AS (
			UPDATE §.deliveries d SET claimed_by = NULL, claimed_until = NULL,
				status = CASE s.kind WHEN 'delivered' THEN 'delivered' WHEN 'dead' THEN 'dead' ELSE d.status END,
				updated_at = CASE WHEN s.kind IN ('delivered', 'dead')
					THEN coalesce($8::timestamptz, statement_timestamp()) ELSE d.updated_at END,
				receipt_id = CASE WHEN s.kind = 'delivered' THEN s.receipt_id ELSE d.receipt_id END,
				receipt_status = CASE WHEN s.kind = 'delivered' THEN s.receipt_status ELSE d.receipt_status END,
				next_at = CASE WHEN s.kind IN ('failed', 'release') THEN s.at ELSE d.next_at END,
				last_error = CASE WHEN s.kind IN ('failed', 'dead') THEN s.last_error ELSE d.last_error END,
				attempts = CASE WHEN s.kind = 'release' THEN greatest(d.attempts - 1, 0) ELSE d.attempts END
			FROM s, held WHERE d.id = s.id AND d.id = held.id AND d.claimed_by = $7 AND d.status = 'pending'
			RETURNING d.id)
		SELECT s.id, EXISTS (SELECT 1 FROM done WHERE done.id = s.id), EXISTS (SELECT 1 FROM §.deliveries x WHERE x.id = s.id)
		FROM s`), ids, kinds, receipts, statuses, ats, lastErrs, owner, s.now())
	if err != nil {
		return err
	}
	var (
		id          int64
		done, found bool
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &done, &found}, func() error {
		if i := index[id]; !done {
			errs[i] = settled(string(settlements[i].Kind), owner, id, 0, found)
		}
		return nil
	})
	return err
}

// settleFanned records the settlements at indexes idx, of deliveries
// claimed with their message, with q, and sets errs for those it could
// not. It returns the IDs of the deliveries it recorded, by index.
func (s *Store) settleFanned(ctx context.Context, q rowsQuerier, owner string, settlements []notify.Settlement, idx []int, errs []error) (map[int]int64, error) {
	type key struct {
		outbox  int64
		channel string
	}
	var (
		outboxIDs                     = make([]int64, len(idx))
		channels, routes, auds, kinds = make([]string, len(idx)), make([]string, len(idx)), make([]string, len(idx)), make([]string, len(idx))
		receipts, lastErrs            = make([]string, len(idx)), make([]string, len(idx))
		statuses                      = make([]int32, len(idx))
		ats                           = make([]time.Time, len(idx))
		index                         = make(map[key]int, len(idx))
	)
	for j, i := range idx {
		st := settlements[i]
		outboxIDs[j], channels[j], routes[j], auds[j], kinds[j] = st.OutboxID, st.Channel, st.Route, string(st.Audience), string(st.Kind)
		receipts[j], statuses[j], ats[j], lastErrs[j] = st.Receipt.ID, int32(st.Receipt.Status), st.At.Truncate(time.Microsecond), notify.TruncateError(st.LastError)
		index[key{st.OutboxID, st.Channel}] = i
	}
	// The messages are locked first, in ID order; a message owner no
	// longer holds, or that is gone, is left as it is. The CTEs all read
	// one snapshot, so the deletion does not hide the rows the insertion
	// copies.
	rows, err := q.Query(ctx, s.q.t(`WITH r AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::integer[],
				$8::timestamptz[], $9::text[])
				AS r(outbox_id, channel, route, audience, kind, receipt_id, receipt_status, at, last_error)),
		locked AS (
			SELECT o.id, o.claimed_by, o.claimed_until, o.key, o.incident_id, o.type, o.payload, o.created_at, o.attempts
			FROM §.outbox o WHERE o.id IN (SELECT outbox_id FROM r)
			ORDER BY o.id FOR UPDATE),
		ins AS (
			INSERT INTO §.deliveries (outbox_id, key, incident_id, type, channel, route, audience, payload, status,
				attempts, created_at, next_at, updated_at, last_error, receipt_id, receipt_status, claimed_by, claimed_until)
			SELECT l.id, l.key, l.incident_id, l.type, r.channel, r.route, r.audience, l.payload,
				CASE r.kind WHEN 'delivered' THEN 'delivered' WHEN 'dead' THEN 'dead' ELSE 'pending' END,
				CASE WHEN r.kind = 'release' THEN greatest(l.attempts - 1, 0) ELSE l.attempts END,
				l.created_at,
				CASE WHEN r.kind IN ('failed', 'release') THEN r.at ELSE coalesce($11::timestamptz, statement_timestamp()) END,
				coalesce($11::timestamptz, statement_timestamp()),
				CASE WHEN r.kind IN ('failed', 'dead') THEN r.last_error ELSE '' END,
				CASE WHEN r.kind = 'delivered' THEN r.receipt_id ELSE '' END,
				CASE WHEN r.kind = 'delivered' THEN r.receipt_status ELSE 0 END,
				CASE WHEN r.kind = 'claimed' THEN l.claimed_by END,
				CASE WHEN r.kind = 'claimed' THEN l.claimed_until END
			FROM r JOIN locked l ON l.id = r.outbox_id
			WHERE l.claimed_by = $10
			RETURNING id, outbox_id, channel),
		gone AS (
			DELETE FROM §.outbox o USING locked l WHERE o.id = l.id AND l.claimed_by = $10)
		SELECT r.outbox_id, r.channel, ins.id, l.id IS NOT NULL
		FROM r LEFT JOIN ins ON ins.outbox_id = r.outbox_id AND ins.channel = r.channel
			LEFT JOIN locked l ON l.id = r.outbox_id`),
		outboxIDs, channels, routes, auds, kinds, receipts, statuses, ats, lastErrs, owner, s.now())
	if err != nil {
		return nil, err
	}
	ids := make(map[int]int64, len(idx))
	var (
		outbox  int64
		channel string
		id      *int64
		found   bool
	)
	if _, err := pgx.ForEachRow(rows, []any{&outbox, &channel, &id, &found}, func() error {
		i, ok := index[key{outbox, channel}]
		switch {
		case !ok:
			return fmt.Errorf("unexpected settlement of outbox entry %d to %q", outbox, channel)
		case id != nil:
			ids[i] = *id
		case !found:
			errs[i] = fmt.Errorf("postgres: %s: outbox entry %d: %w", settlements[i].Kind, outbox, notify.ErrNotFound)
		default:
			errs[i] = fmt.Errorf("postgres: %s: outbox entry %d is not claimed by %q: %w", settlements[i].Kind, outbox, owner, notify.ErrConflict)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return ids, nil
}

// IncidentDeliveries implements notify.Deliveries.
func (s *Store) IncidentDeliveries(ctx context.Context, incident string) ([]notify.Delivery, error) {
	return s.listDeliveries(ctx, "list deliveries", `SELECT `+deliveryColumns+` FROM §.deliveries
		WHERE incident_id = $1 ORDER BY outbox_id, channel`, incident)
}

// DeadDeliveries implements notify.Deliveries.
func (s *Store) DeadDeliveries(ctx context.Context, channel string, limit int) ([]notify.Delivery, error) {
	if err := notify.CheckDeadList(channel, limit); err != nil {
		return nil, err
	}
	return s.listDeliveries(ctx, "list dead deliveries", `SELECT `+deliveryColumns+` FROM §.deliveries
		WHERE status = 'dead' AND ($1 = '' OR channel = $1) ORDER BY id LIMIT $2`, channel, limit)
}

func (s *Store) listDeliveries(ctx context.Context, op, query string, args ...any) ([]notify.Delivery, error) {
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.t(query), args...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (notify.Delivery, error) { return scanDelivery(row) })
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	return out, nil
}

// CountDeliveries implements notify.Deliveries.
func (s *Store) CountDeliveries(ctx context.Context) ([]notify.DeliveryCount, error) {
	const op = "count deliveries"
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.t(`SELECT channel, status, count(*) FROM §.deliveries
		WHERE status IN ('pending', 'dead') GROUP BY channel, status`))
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (notify.DeliveryCount, error) {
		var c notify.DeliveryCount
		var status string
		err := row.Scan(&c.Channel, &status, &c.N)
		c.Status = notify.DeliveryStatus(status)
		return c, err
	})
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	return out, nil
}

// Replay implements notify.Deliveries.
func (s *Store) Replay(ctx context.Context, id int64) error {
	if err := ctxErr(ctx, "replay"); err != nil {
		return err
	}
	var (
		done   int64
		status *string
	)
	err := s.pool.QueryRow(ctx, s.q.t(`WITH done AS (
			UPDATE §.deliveries SET status = 'pending', attempts = 0, claimed_by = NULL, claimed_until = NULL,
				next_at = coalesce($2::timestamptz, statement_timestamp()), updated_at = coalesce($2::timestamptz, statement_timestamp())
			WHERE id = $1 AND status = 'dead' RETURNING 1)
		SELECT (SELECT count(*) FROM done), (SELECT status FROM §.deliveries WHERE id = $1)`), id, s.now()).Scan(&done, &status)
	switch {
	case err != nil:
		return wrap(ctx, fmt.Sprintf("replay delivery %d", id), err)
	case done == 1:
		return nil
	case status == nil:
		return fmt.Errorf("postgres: replay: delivery %d: %w", id, notify.ErrNotFound)
	default:
		return fmt.Errorf("postgres: replay: delivery %d is %s, not dead: %w", id, *status, notify.ErrConflict)
	}
}

package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/incidentkit/incidentkit/notify"
)

var _ notify.Deliveries = (*Store)(nil)

// deliveryColumns are the columns scanDelivery reads, in order.
const deliveryColumns = `id, outbox_id, key, incident_id, type, channel, route, audience, payload, status,
	attempts, created_at, next_at, updated_at, last_error, receipt_id, receipt_status`

func scanDelivery(sc interface{ Scan(...any) error }) (notify.Delivery, error) {
	var (
		d                     notify.Delivery
		audience, status, cat string
		next, updated         int64
	)
	if err := sc.Scan(&d.ID, &d.OutboxID, &d.Key, &d.Incident, &d.Type, &d.Channel, &d.Route, &audience, &d.Payload,
		&status, &d.Attempts, &cat, &next, &updated, &d.LastError, &d.Receipt.ID, &d.Receipt.Status); err != nil {
		return d, err
	}
	d.Audience, d.Status = notify.Audience(audience), notify.DeliveryStatus(status)
	d.NextAt, d.UpdatedAt = time.Unix(0, next).UTC(), time.Unix(0, updated).UTC()
	var err error
	if d.CreatedAt, err = time.Parse(time.RFC3339Nano, cat); err != nil {
		return d, fmt.Errorf("creation time of delivery %d: %w", d.ID, err)
	}
	if d.Payload == nil {
		d.Payload = []byte{}
	}
	return d, nil
}

// FanOut implements notify.Deliveries: the deliveries are inserted and the
// outbox row deleted in one immediate transaction.
func (s *Store) FanOut(ctx context.Context, owner string, id int64, targets []notify.DeliveryTarget) error {
	if err := notify.CheckTargets(targets); err != nil {
		return err
	}
	return s.write(ctx, "fan out", func(tx *sql.Tx) error {
		var (
			key, incident, typ, cat string
			payload                 []byte
			claimedBy               sql.NullString
		)
		err := tx.QueryRowContext(ctx, `SELECT key, incident_id, type, payload, created_at, claimed_by FROM outbox WHERE id = ?`, id).
			Scan(&key, &incident, &typ, &payload, &cat, &claimedBy)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite: fan out: outbox entry %d: %w", id, notify.ErrNotFound)
		case err != nil:
			return wrap(ctx, fmt.Sprintf("fan out outbox entry %d", id), err)
		case claimedBy.String != owner:
			return fmt.Errorf("sqlite: fan out: outbox entry %d is not claimed by %q: %w", id, owner, notify.ErrConflict)
		}
		now := unixNano(s.clock.Now())
		audience := string(notify.DeliveryAudience(payload))
		for _, t := range targets {
			status, reason := notify.StatusPending, ""
			if t.Held {
				status, reason = notify.StatusHeld, notify.TruncateError(t.Reason)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (outbox_id, key, incident_id, type, channel, route,
				audience, payload, status, created_at, next_at, updated_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, key, incident, typ, t.Channel, t.Route, audience, payload, string(status), cat, now, now, reason); err != nil {
				return wrap(ctx, fmt.Sprintf("fan out outbox entry %d", id), err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
			return wrap(ctx, fmt.Sprintf("fan out outbox entry %d", id), err)
		}
		return nil
	})
}

// FanOutAndClaim implements notify.Deliveries: the pass is one immediate
// transaction, run on the driver's connection directly with statements
// prepared once. The outbox rows are claimed with one UPDATE … RETURNING;
// a message claimed with its deliveries stays in the outbox, and the
// others are fanned out, each new delivery inserted already claimed when
// it is due, and deleted.
func (s *Store) FanOutAndClaim(ctx context.Context, owner string, limit int, lease time.Duration, route notify.RouteFunc) ([]notify.Delivery, error) {
	const op = "fan out and claim"
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	if route == nil {
		return nil, fmt.Errorf("sqlite: %s: no route function: %w", op, notify.ErrInvalid)
	}
	var out []notify.Delivery
	err := s.writeRaw(ctx, op, func(q *rawStatements) error {
		out = out[:0]
		now := s.clock.Now()
		nowNano, until := unixNano(now), unixNano(now.Add(lease))
		// The deliveries already due first: those the messages taken
		// below hold up are still held up by them while this runs.
		claimed, err := q.claimDeliveries(owner, until, nowNano, limit, out)
		if err != nil {
			return wrap(ctx, op, err)
		}
		out = claimed
		entries, err := q.takeOutbox(owner, until, nowNano, limit-len(out))
		if err != nil {
			return wrap(ctx, op, err)
		}
		if len(entries) == 0 {
			return nil
		}
		hold, err := q.holdUps(entries)
		if err != nil {
			return wrap(ctx, op, err)
		}
		ins, err := q.delivery(dsInsert)
		if err != nil {
			return wrap(ctx, op, err)
		}
		del, err := q.delivery(dsDeleteOutbox)
		if err != nil {
			return wrap(ctx, op, err)
		}
		at := time.Unix(0, nowNano).UTC()
		for _, e := range entries {
			fan := route(ctx, e.OutboxEntry)
			if err := notify.CheckTargets(fan.Targets); err != nil {
				return err
			}
			// A message all of whose deliveries are due is left in the
			// outbox, claimed: Settle records its deliveries with their
			// outcomes.
			fast := len(fan.Targets) > 0 && len(out)+len(fan.Targets) <= limit
			for _, t := range fan.Targets {
				if t.Held || !hold.due(e.Incident, t.Channel, e.ID) {
					fast = false
				}
			}
			if fast {
				// Left in the outbox, it holds up the later messages of
				// its incident, in this pass too.
				hold.leave(e.Incident, e.ID)
				for _, t := range fan.Targets {
					hold.mark(e.Incident, t.Channel, e.ID)
					out = append(out, notify.Delivery{OutboxID: e.ID, Key: e.Key, Incident: e.Incident, Type: e.Type,
						Channel: t.Channel, Route: t.Route, Audience: fan.Audience, Payload: e.Payload,
						Status: notify.StatusPending, Attempts: e.Attempts, CreatedAt: e.CreatedAt, NextAt: at, UpdatedAt: at})
				}
				continue
			}
			for _, t := range fan.Targets {
				status, claim, reason := notify.StatusPending, false, ""
				if t.Held {
					status, reason = notify.StatusHeld, notify.TruncateError(t.Reason)
				} else {
					claim = hold.due(e.Incident, t.Channel, e.ID) && len(out) < limit
					hold.mark(e.Incident, t.Channel, e.ID)
				}
				var claimedBy, claimedUntil, attempts arg
				if claim {
					claimedBy, claimedUntil, attempts = text(owner), integer(until), integer(1)
				} else {
					claimedBy, claimedUntil, attempts = null(), null(), integer(0)
				}
				if err := q.execStmt(ins, integer(e.ID), text(e.Key), text(e.Incident), text(e.Type), text(t.Channel),
					text(t.Route), text(string(fan.Audience)), blob(e.Payload), text(string(status)), text(e.createdAt),
					integer(nowNano), claimedBy, claimedUntil, attempts, text(reason)); err != nil {
					return wrap(ctx, op, err)
				}
				if !claim {
					continue
				}
				out = append(out, notify.Delivery{ID: q.conn.LastInsertRowID(), OutboxID: e.ID, Key: e.Key,
					Incident: e.Incident, Type: e.Type, Channel: t.Channel, Route: t.Route, Audience: fan.Audience,
					Payload: e.Payload, Status: status, Attempts: 1, CreatedAt: e.CreatedAt, NextAt: at, UpdatedAt: at})
			}
			if err := q.execStmt(del, integer(e.ID)); err != nil {
				return wrap(ctx, op, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortDeliveries(out)
	return out, nil
}

// sortDeliveries sorts ds in outbox order, then by ID, then by channel.
func sortDeliveries(ds []notify.Delivery) {
	slices.SortFunc(ds, func(a, b notify.Delivery) int {
		return cmp.Or(cmp.Compare(a.OutboxID, b.OutboxID), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Channel, b.Channel))
	})
}

// takenEntry is an outbox entry FanOutAndClaim took, with its creation
// time as the row keeps it.
type takenEntry struct {
	notify.OutboxEntry
	createdAt string
}

// takeOutbox claims up to limit due outbox entries for owner until until
// and returns them, oldest first.
func (q *rawStatements) takeOutbox(owner string, until, now int64, limit int) ([]takenEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	st, err := q.delivery(dsTake)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(st.BindInt64(1, now), st.BindInt64(2, int64(limit)), st.BindText(3, owner),
		st.BindInt64(4, until)); err != nil {
		return nil, err
	}
	var out []takenEntry
	for st.Step() {
		e := takenEntry{createdAt: st.ColumnText(5)}
		e.ID, e.Key, e.Incident, e.Type = st.ColumnInt64(0), st.ColumnText(1), st.ColumnText(2), st.ColumnText(3)
		e.Payload = st.ColumnBlob(4, []byte{})
		e.Attempts, e.LastError = st.ColumnInt(6), st.ColumnText(7)
		if e.CreatedAt, err = time.Parse(time.RFC3339Nano, e.createdAt); err != nil {
			_ = st.Reset()
			return nil, fmt.Errorf("creation time of outbox entry %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := st.Reset(); err != nil {
		return nil, err
	}
	// RETURNING hands rows out in no promised order.
	slices.SortFunc(out, func(a, b takenEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// holdUps is what holds up the deliveries of the outbox entries a pass
// took: the first pending delivery of each of their incidents to each
// channel, and the first entry of each of their incidents left in the
// outbox, other than those the pass took (another claimer holds it, or
// it waits for a retry). A pass marks each delivery it makes, so that
// the later ones of its incident and channel wait for it.
type holdUps struct {
	pending map[stream]int64
	outbox  map[string]int64
}

// stream is an incident's deliveries to one channel.
type stream struct{ incident, channel string }

// due reports whether a new delivery of outbox entry id to channel is
// due.
func (h holdUps) due(incident, channel string, id int64) bool {
	if first, busy := h.pending[stream{incident, channel}]; busy && first < id {
		return false
	}
	left, waits := h.outbox[incident]
	return !waits || left > id
}

// leave marks outbox entry id of incident left in the outbox: the later
// deliveries of the incident wait for it.
func (h holdUps) leave(incident string, id int64) {
	if left, waits := h.outbox[incident]; !waits || left > id {
		h.outbox[incident] = id
	}
}

// mark marks a delivery of outbox entry id to channel made: the later
// ones of its incident and channel wait for it.
func (h holdUps) mark(incident, channel string, id int64) {
	k := stream{incident, channel}
	if first, busy := h.pending[k]; !busy || first > id {
		h.pending[k] = id
	}
}

// holdUps reads what holds up the deliveries of entries.
func (q *rawStatements) holdUps(entries []takenEntry) (holdUps, error) {
	h := holdUps{pending: make(map[stream]int64), outbox: make(map[string]int64)}
	st, err := q.delivery(dsHoldUps)
	if err != nil {
		return h, err
	}
	incidents := make([]string, 0, len(entries))
	taken := make([]int64, 0, len(entries))
	for _, e := range entries {
		incidents = append(incidents, e.Incident)
		taken = append(taken, e.ID)
	}
	list, err := json.Marshal(incidents)
	if err != nil {
		return h, err
	}
	ids, err := json.Marshal(taken)
	if err != nil {
		return h, err
	}
	if err := errors.Join(st.BindRawText(1, list), st.BindRawText(2, ids)); err != nil {
		return h, err
	}
	for st.Step() {
		inc, from := st.ColumnText(0), st.ColumnInt64(2)
		if st.ColumnType(1) == sqlite3.NULL {
			h.outbox[inc] = from
		} else {
			h.pending[stream{inc, st.ColumnText(1)}] = from
		}
	}
	return h, st.Reset()
}

// claimDeliveries claims up to limit due pending deliveries for owner and
// appends them to out.
func (q *rawStatements) claimDeliveries(owner string, until, now int64, limit int, out []notify.Delivery) ([]notify.Delivery, error) {
	st, err := q.delivery(dsClaim)
	if err != nil {
		return out, err
	}
	if err := errors.Join(st.BindText(1, owner), st.BindInt64(2, until), st.BindInt64(3, now),
		st.BindInt64(4, int64(limit))); err != nil {
		return out, err
	}
	for st.Step() {
		d, err := scanDeliveryRaw(st)
		if err != nil {
			_ = st.Reset()
			return out, err
		}
		out = append(out, d)
	}
	return out, st.Reset()
}

// scanDeliveryRaw reads the deliveryColumns of the row st is on.
func scanDeliveryRaw(st *sqlite3.Stmt) (notify.Delivery, error) {
	d := notify.Delivery{
		ID: st.ColumnInt64(0), OutboxID: st.ColumnInt64(1), Key: st.ColumnText(2), Incident: st.ColumnText(3),
		Type: st.ColumnText(4), Channel: st.ColumnText(5), Route: st.ColumnText(6),
		Audience: notify.Audience(st.ColumnText(7)), Payload: st.ColumnBlob(8, []byte{}),
		Status: notify.DeliveryStatus(st.ColumnText(9)), Attempts: st.ColumnInt(10),
		NextAt: time.Unix(0, st.ColumnInt64(12)).UTC(), UpdatedAt: time.Unix(0, st.ColumnInt64(13)).UTC(),
		LastError: st.ColumnText(14), Receipt: notify.Receipt{ID: st.ColumnText(15), Status: st.ColumnInt(16)},
	}
	var err error
	if d.CreatedAt, err = time.Parse(time.RFC3339Nano, st.ColumnText(11)); err != nil {
		return d, fmt.Errorf("creation time of delivery %d: %w", d.ID, err)
	}
	return d, nil
}

// The statements of the dispatcher's passes, run on the driver's
// connection directly: see deliverySQL. Their LIMITs are written "?N + 0":
// SQLite plans a query for a LIMIT bound as a plain parameter, so binding
// it again, even to the same value, would make it prepare the statement
// again at every pass.
const (
	dsClaim = iota
	dsTake
	dsHoldUps
	dsInsert
	dsExists
	dsDelivered
	dsFailed
	dsRelease
	dsDead
	dsDeleteOutbox
	dsDeleteOutboxes
	dsRecord
	dsOutboxClaimer
	numDeliveryStatements
)

// claimSQL claims the due pending deliveries for owner ?1 until ?2 at ?3,
// up to the LIMIT that follows it. Only the head of each stream, its
// earliest pending delivery, can be due: the later ones wait for it.
// heads hops from stream to stream along deliveries_pending, to the next
// channel of the same incident or else to the next incident, with one or
// two index seeks per stream that has a pending delivery, so that the deliveries
// queued behind a head that waits (a channel backing off) cost nothing.
// A head is due when its time has come, no claim holds it, and no
// earlier message of its incident is still in the outbox.
const claimSQL = `WITH RECURSIVE heads(id) AS (
		SELECT (SELECT id FROM deliveries WHERE status = 'pending' ORDER BY incident_id, channel, outbox_id LIMIT 1)
		UNION ALL
		SELECT coalesce(
			(SELECT e.id FROM deliveries e WHERE e.status = 'pending' AND e.incident_id = h.incident_id
				AND e.channel > h.channel ORDER BY e.channel, e.outbox_id LIMIT 1),
			(SELECT e.id FROM deliveries e WHERE e.status = 'pending' AND e.incident_id > h.incident_id
				ORDER BY e.incident_id, e.channel, e.outbox_id LIMIT 1))
		FROM heads CROSS JOIN deliveries h ON h.id = heads.id)
	UPDATE deliveries SET claimed_by = ?1, claimed_until = ?2, attempts = attempts + 1
	WHERE id IN (
		SELECT d.id FROM heads CROSS JOIN deliveries d ON d.id = heads.id
		WHERE d.next_at <= ?3 AND (d.claimed_until IS NULL OR d.claimed_until <= ?3)
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = d.incident_id AND o.id < d.outbox_id)
		ORDER BY d.outbox_id, d.id LIMIT `

// deliverySQL are the statements of the dispatcher's passes, by index.
var deliverySQL = [numDeliveryStatements]string{
	// Due pending deliveries: not held up by an earlier pending delivery
	// of their incident to their channel, nor by an earlier message of
	// their incident still in the outbox.
	dsClaim: claimSQL + "?4 + 0)\n\t\tRETURNING " + deliveryColumns,
	// Due outbox entries, claimed for owner ?3 until ?4 as they are read:
	// the pass removes those it fans out, and Settle those it claims with
	// their deliveries.
	dsTake: `UPDATE outbox SET claimed_by = ?3, claimed_until = ?4, attempts = attempts + 1 WHERE id IN (
			SELECT id FROM outbox WHERE available_at <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
			ORDER BY id LIMIT ?2 + 0)
		RETURNING id, key, incident_id, type, payload, created_at, attempts, last_error`,
	// What holds up new deliveries of the incidents in the JSON array
	// ?1, the pass having taken the outbox entries in the JSON array ?2:
	// see holdUps.
	dsHoldUps: `SELECT incident_id, channel, min(outbox_id) FROM deliveries
			WHERE status = 'pending' AND incident_id IN (SELECT value FROM json_each(?1)) GROUP BY incident_id, channel
		UNION ALL
		SELECT incident_id, NULL, min(id) FROM outbox
			WHERE incident_id IN (SELECT value FROM json_each(?1)) AND id NOT IN (SELECT value FROM json_each(?2))
			GROUP BY incident_id`,
	// A new delivery; claimed_by, claimed_until and attempts are set
	// for one claimed at once, last_error to why a held one is held.
	dsInsert: `INSERT INTO deliveries (outbox_id, key, incident_id, type, channel, route, audience, payload, status,
			created_at, next_at, updated_at, claimed_by, claimed_until, attempts, last_error)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, ?15)`,
	dsExists:    `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = ?)`,
	dsDelivered: settleQueries[notify.SettleDelivered],
	dsFailed:    settleQueries[notify.SettleFailed],
	dsRelease:   settleQueries[notify.SettleRelease],
	dsDead:      settleQueries[notify.SettleDead],
	// An outbox entry fanned out.
	dsDeleteOutbox: `DELETE FROM outbox WHERE id = ?1`,
	// The outbox entries in the JSON array ?1, whose deliveries Settle
	// recorded.
	dsDeleteOutboxes: `DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?1))`,
	// A delivery of outbox entry ?1, which owner ?12 claimed with it,
	// recorded with its outcome: channel ?2, route ?3, audience ?4,
	// status ?5, due at ?6, updated at ?7, its claims less ?8, last
	// error ?9 and receipt ?10, ?11; still claimed as the entry is when
	// ?13 is 1.
	dsRecord: `INSERT INTO deliveries (outbox_id, key, incident_id, type, channel, route, audience, payload, status,
			created_at, next_at, updated_at, attempts, last_error, receipt_id, receipt_status, claimed_by, claimed_until)
		SELECT id, key, incident_id, type, ?2, ?3, ?4, payload, ?5, created_at, ?6, ?7, max(attempts - ?8, 0), ?9, ?10, ?11,
			CASE WHEN ?13 THEN claimed_by END, CASE WHEN ?13 THEN claimed_until END
		FROM outbox WHERE id = ?1 AND claimed_by = ?12`,
	// Who holds outbox entry ?1's claim; no row if there is no such entry.
	dsOutboxClaimer: `SELECT coalesce(claimed_by, '') FROM outbox WHERE id = ?1`,
}

// delivery returns the dispatcher's statement i.
func (q *rawStatements) delivery(i int) (*sqlite3.Stmt, error) {
	if st := q.deliveries[i]; st != nil {
		return st, nil
	}
	return q.prepared(&q.deliveries[i], deliverySQL[i])
}

// ClaimDeliveries implements notify.Deliveries.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]notify.Delivery, error) {
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	var out []notify.Delivery
	err := s.write(ctx, "claim deliveries", func(tx *sql.Tx) error {
		now := s.clock.Now()
		rows, err := tx.QueryContext(ctx, claimSQL+"?4)\n\t\t\tRETURNING "+deliveryColumns, owner, unixNano(now.Add(lease)), unixNano(now), limit)
		if err != nil {
			return wrap(ctx, "claim deliveries", err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return wrap(ctx, "claim deliveries", err)
			}
			out = append(out, d)
		}
		return wrap(ctx, "claim deliveries", rows.Err())
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b notify.Delivery) int {
		return cmp.Or(cmp.Compare(a.OutboxID, b.OutboxID), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Delivered implements notify.Deliveries.
func (s *Store) Delivered(ctx context.Context, owner string, id int64, r notify.Receipt) error {
	return s.settleDelivery(ctx, "delivered", owner, id, `UPDATE deliveries SET status = 'delivered', claimed_by = NULL,
		claimed_until = NULL, updated_at = ?1, receipt_id = ?2, receipt_status = ?3
		WHERE id = ?4 AND claimed_by = ?5 AND status = 'pending'`, unixNano(s.clock.Now()), r.ID, r.Status, id, owner)
}

// Failed implements notify.Deliveries.
func (s *Store) Failed(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error {
	return s.settleDelivery(ctx, "failed", owner, id, `UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL,
		next_at = ?1, last_error = ?2 WHERE id = ?3 AND claimed_by = ?4 AND status = 'pending'`,
		unixNano(at), notify.TruncateError(lastErr), id, owner)
}

// Release implements notify.Deliveries.
func (s *Store) Release(ctx context.Context, owner string, id int64, at time.Time) error {
	return s.settleDelivery(ctx, "release", owner, id, `UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL,
		next_at = ?1, attempts = max(attempts - 1, 0) WHERE id = ?2 AND claimed_by = ?3 AND status = 'pending'`,
		unixNano(at), id, owner)
}

// Dead implements notify.Deliveries.
func (s *Store) Dead(ctx context.Context, owner string, id int64, lastErr string) error {
	return s.settleDelivery(ctx, "dead", owner, id, `UPDATE deliveries SET status = 'dead', claimed_by = NULL,
		claimed_until = NULL, updated_at = ?1, last_error = ?2 WHERE id = ?3 AND claimed_by = ?4 AND status = 'pending'`,
		unixNano(s.clock.Now()), notify.TruncateError(lastErr), id, owner)
}

// Settle implements notify.Deliveries: every settlement is recorded in one
// immediate transaction, on the driver's connection directly with
// statements prepared once.
func (s *Store) Settle(ctx context.Context, owner string, settlements []notify.Settlement) ([]error, error) {
	const op = "settle deliveries"
	if err := notify.CheckSettlements(settlements); err != nil {
		return nil, err
	}
	var (
		errs []error
		ids  []int64 // the IDs of the deliveries recorded for settlements with ID 0
	)
	err := s.writeRaw(ctx, op, func(q *rawStatements) error {
		errs, ids = make([]error, len(settlements)), make([]int64, len(settlements))
		now := unixNano(s.clock.Now())
		for i, st := range settlements {
			if st.ID == 0 {
				continue
			}
			var (
				stmt *sqlite3.Stmt
				err  error
			)
			switch st.Kind {
			case notify.SettleDelivered:
				if stmt, err = q.delivery(dsDelivered); err == nil {
					err = errors.Join(stmt.BindInt64(1, now), stmt.BindText(2, st.Receipt.ID),
						stmt.BindInt64(3, int64(st.Receipt.Status)), stmt.BindInt64(4, st.ID), stmt.BindText(5, owner))
				}
			case notify.SettleFailed:
				if stmt, err = q.delivery(dsFailed); err == nil {
					err = errors.Join(stmt.BindInt64(1, unixNano(st.At)), stmt.BindText(2, notify.TruncateError(st.LastError)),
						stmt.BindInt64(3, st.ID), stmt.BindText(4, owner))
				}
			case notify.SettleRelease:
				if stmt, err = q.delivery(dsRelease); err == nil {
					err = errors.Join(stmt.BindInt64(1, unixNano(st.At)), stmt.BindInt64(2, st.ID), stmt.BindText(3, owner))
				}
			case notify.SettleDead:
				if stmt, err = q.delivery(dsDead); err == nil {
					err = errors.Join(stmt.BindInt64(1, now), stmt.BindText(2, notify.TruncateError(st.LastError)),
						stmt.BindInt64(3, st.ID), stmt.BindText(4, owner))
				}
			}
			if err == nil {
				err = stmt.Exec()
			}
			if err != nil {
				return wrap(ctx, fmt.Sprintf("%s delivery %d", st.Kind, st.ID), err)
			}
			if q.conn.Changes() == 1 {
				continue
			}
			exists, err := q.delivery(dsExists)
			if err == nil {
				err = exists.BindInt64(1, st.ID)
			}
			if err != nil {
				return wrap(ctx, fmt.Sprintf("%s delivery %d", st.Kind, st.ID), err)
			}
			found := exists.Step() && exists.ColumnBool(0)
			if err := exists.Reset(); err != nil {
				return wrap(ctx, fmt.Sprintf("%s delivery %d", st.Kind, st.ID), err)
			}
			errs[i] = settleError(string(st.Kind), owner, st.ID, found)
		}
		fanned := notify.ByMessage(settlements)
		if len(fanned) == 0 {
			return nil
		}
		recorded := make([]int64, 0, len(fanned))
		for _, m := range fanned {
			held, err := q.record(owner, m, now, settlements, errs, ids)
			if err != nil {
				return wrap(ctx, fmt.Sprintf("record the deliveries of outbox entry %d", m.OutboxID), err)
			}
			if held {
				recorded = append(recorded, m.OutboxID)
			}
		}
		// The entries whose deliveries are recorded leave the outbox.
		list, err := json.Marshal(recorded)
		if err == nil {
			var del *sqlite3.Stmt
			if del, err = q.delivery(dsDeleteOutboxes); err == nil {
				err = q.execStmt(del, text(string(list)))
			}
		}
		return wrap(ctx, op, err)
	})
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if id != 0 {
			settlements[i].ID = id
		}
	}
	return errs, nil
}

// record records the deliveries of message m, each with its outcome, as
// of now, and reports true, if owner holds the message's claim; else it
// sets their errors in errs. It sets the IDs of those it recorded in ids.
// The caller removes the message from the outbox.
func (q *rawStatements) record(owner string, m notify.MessageSettlements, now int64, settlements []notify.Settlement, errs []error, ids []int64) (bool, error) {
	ins, err := q.delivery(dsRecord)
	if err != nil {
		return false, err
	}
	id := m.OutboxID
	for _, i := range m.Index {
		st := settlements[i]
		status, next, less, claimed := notify.StatusPending, now, int64(0), int64(0)
		var lastErr string
		var receipt notify.Receipt
		switch st.Kind {
		case notify.SettleClaimed:
			claimed = 1
		case notify.SettleDelivered:
			status, receipt = notify.StatusDelivered, st.Receipt
		case notify.SettleFailed:
			next, lastErr = unixNano(st.At), notify.TruncateError(st.LastError)
		case notify.SettleRelease:
			next, less = unixNano(st.At), 1
		case notify.SettleDead:
			status, lastErr = notify.StatusDead, notify.TruncateError(st.LastError)
		}
		if err := q.execStmt(ins, integer(id), text(st.Channel), text(st.Route), text(string(st.Audience)),
			text(string(status)), integer(next), integer(now), integer(less), text(lastErr), text(receipt.ID),
			integer(int64(receipt.Status)), text(owner), integer(claimed)); err != nil {
			return false, err
		}
		if q.conn.Changes() == 1 {
			ids[i] = q.conn.LastInsertRowID()
			continue
		}
		// The entry is gone, or another claimer holds it: none of its
		// deliveries is recorded (the first one tried finds out).
		claimer, err := q.delivery(dsOutboxClaimer)
		if err == nil {
			err = claimer.BindInt64(1, id)
		}
		if err != nil {
			return false, err
		}
		found := claimer.Step()
		if err := claimer.Reset(); err != nil {
			return false, err
		}
		for _, j := range m.Index {
			errs[j] = outboxError(string(settlements[j].Kind), owner, id, found)
		}
		return false, nil
	}
	return true, nil
}

// outboxError is the error of a settlement with ID 0 whose outbox entry
// id owner does not hold.
func outboxError(op, owner string, id int64, found bool) error {
	if !found {
		return fmt.Errorf("sqlite: %s: outbox entry %d: %w", op, id, notify.ErrNotFound)
	}
	return fmt.Errorf("sqlite: %s: outbox entry %d is not claimed by %q: %w", op, id, owner, notify.ErrConflict)
}

// settleQueries are the statements of Settle, by kind.
var settleQueries = map[notify.SettleKind]string{
	notify.SettleDelivered: `UPDATE deliveries SET status = 'delivered', claimed_by = NULL, claimed_until = NULL, updated_at = ?1,
		receipt_id = ?2, receipt_status = ?3 WHERE id = ?4 AND claimed_by = ?5 AND status = 'pending'`,
	notify.SettleFailed: `UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL, next_at = ?1, last_error = ?2
		WHERE id = ?3 AND claimed_by = ?4 AND status = 'pending'`,
	notify.SettleRelease: `UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL, next_at = ?1,
		attempts = max(attempts - 1, 0) WHERE id = ?2 AND claimed_by = ?3 AND status = 'pending'`,
	notify.SettleDead: `UPDATE deliveries SET status = 'dead', claimed_by = NULL, claimed_until = NULL, updated_at = ?1,
		last_error = ?2 WHERE id = ?3 AND claimed_by = ?4 AND status = 'pending'`,
}

// settleError is the error of a settlement that changed nothing.
func settleError(op, owner string, id int64, found bool) error {
	if !found {
		return fmt.Errorf("sqlite: %s: delivery %d: %w", op, id, notify.ErrNotFound)
	}
	return fmt.Errorf("sqlite: %s: delivery %d is not pending and claimed by %q: %w", op, id, owner, notify.ErrConflict)
}

// settleOne runs a statement that changes delivery id only if owner holds
// it: it returns the delivery's own error (not found, conflict) first, and
// the store's error second.
func settleOne(ctx context.Context, tx *sql.Tx, op, owner string, id int64, query string, args ...any) (error, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(ctx, fmt.Sprintf("%s delivery %d", op, id), err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil, nil
	}
	var found bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = ?)`, id).Scan(&found); err != nil {
		return nil, wrap(ctx, fmt.Sprintf("%s delivery %d", op, id), err)
	}
	return settleError(op, owner, id, found), nil
}

// settleDelivery runs a statement that changes delivery id only if owner
// holds it, and turns what it did into the errors of notify.Deliveries.
func (s *Store) settleDelivery(ctx context.Context, op, owner string, id int64, query string, args ...any) error {
	return s.write(ctx, op, func(tx *sql.Tx) error {
		derr, err := settleOne(ctx, tx, op, owner, id, query, args...)
		return cmp.Or(err, derr)
	})
}

// IncidentDeliveries implements notify.Deliveries.
func (s *Store) IncidentDeliveries(ctx context.Context, incident string) ([]notify.Delivery, error) {
	return s.listDeliveries(ctx, "list deliveries", `SELECT `+deliveryColumns+` FROM deliveries
		WHERE incident_id = ? ORDER BY outbox_id, channel`, incident)
}

// DeadDeliveries implements notify.Deliveries.
func (s *Store) DeadDeliveries(ctx context.Context, channel string, limit int) ([]notify.Delivery, error) {
	if err := notify.CheckDeadList(channel, limit); err != nil {
		return nil, err
	}
	return s.listDeliveries(ctx, "list dead deliveries", `SELECT `+deliveryColumns+` FROM deliveries
		WHERE status = 'dead' AND (?1 = '' OR channel = ?1) ORDER BY id LIMIT ?2`, channel, limit)
}

func (s *Store) listDeliveries(ctx context.Context, op, query string, args ...any) ([]notify.Delivery, error) {
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer func() { _ = rows.Close() }()
	var out []notify.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, wrap(ctx, op, err)
		}
		out = append(out, d)
	}
	return out, wrap(ctx, op, rows.Err())
}

// CountDeliveries implements notify.Deliveries.
func (s *Store) CountDeliveries(ctx context.Context) ([]notify.DeliveryCount, error) {
	const op = "count deliveries"
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT channel, status, count(*) FROM deliveries
		WHERE status IN ('pending', 'dead') GROUP BY channel, status`)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer func() { _ = rows.Close() }()
	var out []notify.DeliveryCount
	for rows.Next() {
		var c notify.DeliveryCount
		var status string
		if err := rows.Scan(&c.Channel, &status, &c.N); err != nil {
			return nil, wrap(ctx, op, err)
		}
		c.Status = notify.DeliveryStatus(status)
		out = append(out, c)
	}
	return out, wrap(ctx, op, rows.Err())
}

// Replay implements notify.Deliveries.
func (s *Store) Replay(ctx context.Context, id int64) error {
	return s.write(ctx, "replay", func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = ?`, id).Scan(&status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite: replay: delivery %d: %w", id, notify.ErrNotFound)
		case err != nil:
			return wrap(ctx, fmt.Sprintf("replay delivery %d", id), err)
		case status != string(notify.StatusDead):
			return fmt.Errorf("sqlite: replay: delivery %d is %s, not dead: %w", id, status, notify.ErrConflict)
		}
		now := unixNano(s.clock.Now())
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', attempts = 0, next_at = ?1, updated_at = ?1,
			claimed_by = NULL, claimed_until = NULL WHERE id = ?2`, now, id)
		return wrap(ctx, fmt.Sprintf("replay delivery %d", id), err)
	})
}

// argNull is the kind of an arg bound as NULL, which only the
// dispatcher's statements take.
const argNull = argBlob + 1

func null() arg { return arg{kind: argNull} }

// execStmt binds args to st and runs it.
func (q *rawStatements) execStmt(st *sqlite3.Stmt, args ...arg) error {
	for i, a := range args {
		var err error
		switch a.kind {
		case argText:
			err = st.BindText(i+1, a.s)
		case argInt:
			err = st.BindInt64(i+1, a.i)
		case argBlob:
			err = st.BindBlob(i+1, a.b)
		case argNull:
			err = st.BindNull(i + 1)
		}
		if err != nil {
			return err
		}
	}
	return st.Exec()
}

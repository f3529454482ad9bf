package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

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
			status := notify.StatusPending
			if t.Held {
				status = notify.StatusHeld
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (outbox_id, key, incident_id, type, channel, route,
				audience, payload, status, created_at, next_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, key, incident, typ, t.Channel, t.Route, audience, payload, string(status), cat, now, now); err != nil {
				return wrap(ctx, fmt.Sprintf("fan out outbox entry %d", id), err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
			return wrap(ctx, fmt.Sprintf("fan out outbox entry %d", id), err)
		}
		return nil
	})
}

// FanOutBatch implements notify.Deliveries: every fan is made in one
// immediate transaction, each outbox row deleted, if owner holds it, by
// the statement that reads it.
func (s *Store) FanOutBatch(ctx context.Context, owner string, fans []notify.Fan) ([]error, error) {
	if err := notify.CheckFans(fans); err != nil {
		return nil, err
	}
	var errs []error
	err := s.write(ctx, "fan out", func(tx *sql.Tx) error {
		errs = make([]error, len(fans))
		take, err := tx.PrepareContext(ctx, `DELETE FROM outbox WHERE id = ? AND claimed_by = ?
			RETURNING key, incident_id, type, payload, created_at`)
		if err != nil {
			return wrap(ctx, "fan out", err)
		}
		defer func() { _ = take.Close() }()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (outbox_id, key, incident_id, type, channel, route,
			audience, payload, status, created_at, next_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return wrap(ctx, "fan out", err)
		}
		defer func() { _ = ins.Close() }()
		now := unixNano(s.clock.Now())
		for i, f := range fans {
			var (
				key, incident, typ, cat string
				payload                 []byte
			)
			err := take.QueryRowContext(ctx, f.ID, owner).Scan(&key, &incident, &typ, &payload, &cat)
			if errors.Is(err, sql.ErrNoRows) {
				// Not there, or not ours: which one is told apart.
				var found bool
				if err := tx.StmtContext(ctx, s.q.outboxEntryExists).QueryRowContext(ctx, f.ID).Scan(&found); err != nil {
					return wrap(ctx, fmt.Sprintf("fan out outbox entry %d", f.ID), err)
				}
				if !found {
					errs[i] = fmt.Errorf("sqlite: fan out: outbox entry %d: %w", f.ID, notify.ErrNotFound)
				} else {
					errs[i] = fmt.Errorf("sqlite: fan out: outbox entry %d is not claimed by %q: %w", f.ID, owner, notify.ErrConflict)
				}
				continue
			}
			if err != nil {
				return wrap(ctx, fmt.Sprintf("fan out outbox entry %d", f.ID), err)
			}
			audience := string(notify.DeliveryAudience(payload))
			for _, t := range f.Targets {
				status := notify.StatusPending
				if t.Held {
					status = notify.StatusHeld
				}
				if _, err := ins.ExecContext(ctx, f.ID, key, incident, typ, t.Channel, t.Route, audience, payload,
					string(status), cat, now, now); err != nil {
					return wrap(ctx, fmt.Sprintf("fan out outbox entry %d", f.ID), err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// ClaimDeliveries implements notify.Deliveries.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]notify.Delivery, error) {
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	var out []notify.Delivery
	err := s.write(ctx, "claim deliveries", func(tx *sql.Tx) error {
		now := s.clock.Now()
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET claimed_by = ?1, claimed_until = ?2, attempts = attempts + 1
			WHERE id IN (
				SELECT d.id FROM deliveries d
				WHERE d.status = 'pending' AND d.next_at <= ?3 AND (d.claimed_until IS NULL OR d.claimed_until <= ?3)
				AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.status = 'pending' AND e.incident_id = d.incident_id
					AND e.channel = d.channel AND e.outbox_id < d.outbox_id)
				AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = d.incident_id AND o.id < d.outbox_id)
				ORDER BY d.outbox_id, d.id LIMIT ?4)
			RETURNING `+deliveryColumns, owner, unixNano(now.Add(lease)), unixNano(now), limit)
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
// immediate transaction.
func (s *Store) Settle(ctx context.Context, owner string, settlements []notify.Settlement) ([]error, error) {
	if err := notify.CheckSettlements(settlements); err != nil {
		return nil, err
	}
	var errs []error
	err := s.write(ctx, "settle deliveries", func(tx *sql.Tx) error {
		errs = make([]error, len(settlements))
		now := unixNano(s.clock.Now())
		// One statement of each kind is prepared once for the batch.
		stmts := make(map[notify.SettleKind]*sql.Stmt, 4)
		defer func() {
			for _, st := range stmts {
				_ = st.Close()
			}
		}()
		exists, err := tx.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = ?)`)
		if err != nil {
			return wrap(ctx, "settle deliveries", err)
		}
		defer func() { _ = exists.Close() }()
		for i, st := range settlements {
			var args []any
			switch st.Kind {
			case notify.SettleDelivered:
				args = []any{now, st.Receipt.ID, st.Receipt.Status, st.ID, owner}
			case notify.SettleFailed:
				args = []any{unixNano(st.At), notify.TruncateError(st.LastError), st.ID, owner}
			case notify.SettleRelease:
				args = []any{unixNano(st.At), st.ID, owner}
			case notify.SettleDead:
				args = []any{now, notify.TruncateError(st.LastError), st.ID, owner}
			}
			stmt := stmts[st.Kind]
			if stmt == nil {
				if stmt, err = tx.PrepareContext(ctx, settleQueries[st.Kind]); err != nil {
					return wrap(ctx, "settle deliveries", err)
				}
				stmts[st.Kind] = stmt
			}
			res, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return wrap(ctx, fmt.Sprintf("%s delivery %d", st.Kind, st.ID), err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				continue
			}
			var found bool
			if err := exists.QueryRowContext(ctx, st.ID).Scan(&found); err != nil {
				return wrap(ctx, fmt.Sprintf("%s delivery %d", st.Kind, st.ID), err)
			}
			errs[i] = settleError(string(st.Kind), owner, st.ID, found)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
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

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
		status := notify.StatusPending
		if t.Held {
			status = notify.StatusHeld
		}
		if _, err := tx.Exec(ctx, s.q.t(`INSERT INTO §.deliveries (outbox_id, key, incident_id, type, channel, route,
				audience, payload, status, created_at, next_at, updated_at)
			SELECT id, key, incident_id, type, $2, $3, $4, payload, $5, created_at,
				coalesce($6::timestamptz, statement_timestamp()), coalesce($6::timestamptz, statement_timestamp())
			FROM §.outbox WHERE id = $1`), id, t.Channel, t.Route, audience, string(status), s.now()); err != nil {
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

// FanOutBatch implements notify.Deliveries: the outbox rows are locked in
// ID order, then every fan is made, in one transaction.
func (s *Store) FanOutBatch(ctx context.Context, owner string, fans []notify.Fan) ([]error, error) {
	const op = "fan out"
	if err := notify.CheckFans(fans); err != nil {
		return nil, err
	}
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	if len(fans) == 0 {
		return []error{}, nil
	}
	ids := make([]int64, len(fans))
	for i, f := range fans {
		ids[i] = f.ID
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rollback(ctx, tx)
	rows, err := tx.Query(ctx, s.q.t(`SELECT id, claimed_by, payload FROM §.outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE`), ids)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	type held struct {
		claimedBy *string
		payload   []byte
	}
	found := make(map[int64]held, len(fans))
	var (
		id int64
		h  held
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &h.claimedBy, &h.payload}, func() error {
		found[id] = h
		return nil
	}); err != nil {
		return nil, wrap(ctx, op, err)
	}
	errs := make([]error, len(fans))
	var (
		batch pgx.Batch
		gone  []int64
	)
	now := s.now()
	for i, f := range fans {
		h, ok := found[f.ID]
		switch {
		case !ok:
			errs[i] = fmt.Errorf("postgres: fan out: outbox entry %d: %w", f.ID, notify.ErrNotFound)
			continue
		case h.claimedBy == nil || *h.claimedBy != owner:
			errs[i] = fmt.Errorf("postgres: fan out: outbox entry %d is not claimed by %q: %w", f.ID, owner, notify.ErrConflict)
			continue
		}
		audience := string(notify.DeliveryAudience(h.payload))
		for _, t := range f.Targets {
			status := notify.StatusPending
			if t.Held {
				status = notify.StatusHeld
			}
			batch.Queue(s.q.t(`INSERT INTO §.deliveries (outbox_id, key, incident_id, type, channel, route,
					audience, payload, status, created_at, next_at, updated_at)
				SELECT id, key, incident_id, type, $2, $3, $4, payload, $5, created_at,
					coalesce($6::timestamptz, statement_timestamp()), coalesce($6::timestamptz, statement_timestamp())
				FROM §.outbox WHERE id = $1`), f.ID, t.Channel, t.Route, audience, string(status), now)
		}
		gone = append(gone, f.ID)
	}
	if len(gone) > 0 {
		batch.Queue(s.q.t(`DELETE FROM §.outbox WHERE id = ANY($1)`), gone)
		if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
			return nil, wrap(ctx, op, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, wrap(ctx, op+": commit", err)
	}
	return errs, nil
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
	micros := int64((lease + time.Microsecond - 1) / time.Microsecond)
	var now, until any
	if s.clock != nil {
		t := s.clock.Now()
		now, until = t, microsUp(t.Add(lease))
	}
	rows, err := s.pool.Query(ctx, s.q.t(`WITH due AS (
			SELECT d.id FROM §.deliveries d
			WHERE d.status = 'pending' AND d.next_at <= coalesce($1::timestamptz, statement_timestamp())
				AND (d.claimed_until IS NULL OR d.claimed_until <= coalesce($1::timestamptz, statement_timestamp()))
				AND NOT EXISTS (SELECT 1 FROM §.deliveries e WHERE e.status = 'pending' AND e.incident_id = d.incident_id
					AND e.channel = d.channel AND e.outbox_id < d.outbox_id)
				AND NOT EXISTS (SELECT 1 FROM §.outbox o WHERE o.incident_id = d.incident_id AND o.id < d.outbox_id)
			ORDER BY d.outbox_id, d.id LIMIT $2
			FOR UPDATE SKIP LOCKED)
		UPDATE §.deliveries d SET claimed_by = $3,
			claimed_until = coalesce($4::timestamptz, statement_timestamp() + $5::bigint * interval '1 microsecond'),
			attempts = d.attempts + 1
		FROM due WHERE d.id = due.id AND d.status = 'pending'
		RETURNING d.id, d.outbox_id, d.key, d.incident_id, d.type, d.channel, d.route, d.audience, d.payload, d.status,
			d.attempts, d.created_at, d.next_at, d.updated_at, d.last_error, d.receipt_id, d.receipt_status`),
		now, limit, owner, until, micros)
	if err != nil {
		return nil, wrap(ctx, "claim deliveries", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (notify.Delivery, error) { return scanDelivery(row) })
	if err != nil {
		return nil, wrap(ctx, "claim deliveries", err)
	}
	slices.SortFunc(out, func(a, b notify.Delivery) int {
		return cmp.Or(cmp.Compare(a.OutboxID, b.OutboxID), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
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

// Settle implements notify.Deliveries: the settlements are sent as one
// batch in one transaction, in delivery ID order so that two settlers
// never lock the same rows in opposite orders.
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
	order := make([]int, len(settlements))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(settlements[a].ID, settlements[b].ID) })
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rollback(ctx, tx)
	var batch pgx.Batch
	for _, i := range order {
		query, args := s.settleQuery(owner, settlements[i])
		batch.Queue(query, args...)
	}
	br := tx.SendBatch(ctx, &batch)
	for _, i := range order {
		var (
			done  int64
			found bool
		)
		if err := br.QueryRow().Scan(&done, &found); err != nil {
			_ = br.Close()
			return nil, wrap(ctx, op, err)
		}
		st := settlements[i]
		errs[i] = settled(string(st.Kind), owner, st.ID, done, found)
	}
	if err := br.Close(); err != nil {
		return nil, wrap(ctx, op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, wrap(ctx, op+": commit", err)
	}
	return errs, nil
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

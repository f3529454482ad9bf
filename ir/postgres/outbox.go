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

// Claim implements notify.Outbox. It picks the due rows oldest first with
// FOR UPDATE SKIP LOCKED, so that claimers in any number of processes
// share the outbox: a row another claimer is taking right now is passed
// over rather than waited for, and a row claimed a moment ago is no longer
// due. Times are the server's, or read from [Config.Clock]; PostgreSQL
// keeps microseconds, so a lease's end is rounded up to the next one, never
// shortened.
func (s *Store) Claim(ctx context.Context, owner string, limit int, lease time.Duration) ([]notify.OutboxEntry, error) {
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	if err := ctxErr(ctx, "claim"); err != nil {
		return nil, err
	}
	// The lease's end is rounded up to the microsecond, so the claim
	// holds at least for lease.
	micros := int64((lease + time.Microsecond - 1) / time.Microsecond)
	var now, until any
	if s.clock != nil {
		t := s.clock.Now()
		now, until = t, microsUp(t.Add(lease))
	}
	rows, err := s.pool.Query(ctx, s.q.claim, now, limit, owner, until, micros)
	if err != nil {
		return nil, wrap(ctx, "claim", err)
	}
	var (
		out      []notify.OutboxEntry
		e        notify.OutboxEntry
		incident string
		typ      string
		attempts int32
	)
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.Key, &incident, &typ, &e.Payload, &e.CreatedAt, &attempts, &e.LastError}, func() error {
		e.Incident, e.Type, e.Attempts = incident, typ, int(attempts)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, "claim", err)
	}
	slices.SortFunc(out, func(a, b notify.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

var _ notify.OutboxAger = (*Store)(nil)

// OldestOutbox implements notify.OutboxAger: the first row by id, one
// index seek whatever the outbox holds.
func (s *Store) OldestOutbox(ctx context.Context) (time.Time, bool, error) {
	const op = "oldest outbox entry"
	if err := ctxErr(ctx, op); err != nil {
		return time.Time{}, false, err
	}
	var at time.Time
	err := s.pool.QueryRow(ctx, s.q.t(`SELECT created_at FROM §.outbox ORDER BY id LIMIT 1`)).Scan(&at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, wrap(ctx, op, err)
	}
	return at, true, nil
}

// Ack implements notify.Outbox.
func (s *Store) Ack(ctx context.Context, owner string, id int64) error {
	if err := ctxErr(ctx, "ack"); err != nil {
		return err
	}
	return s.settle(ctx, "ack", id, owner, s.q.ack, id, owner)
}

// Retry implements notify.Outbox. The message is due again at at, rounded up
// to a whole microsecond.
func (s *Store) Retry(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error {
	if err := ctxErr(ctx, "retry"); err != nil {
		return err
	}
	return s.settle(ctx, "retry", id, owner, s.q.retry, id, owner, at.Truncate(time.Microsecond), notify.TruncateError(lastErr))
}

// settle runs an ack or retry statement, which reports whether it changed
// the row and whether the row existed, and turns that into the errors of
// notify.Outbox.
func (s *Store) settle(ctx context.Context, op string, id int64, owner, sql string, args ...any) error {
	var (
		done  int64
		found bool
	)
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&done, &found); err != nil {
		return wrap(ctx, fmt.Sprintf("%s outbox entry %d", op, id), err)
	}
	switch {
	case done == 1:
		return nil
	case !found:
		return fmt.Errorf("postgres: %s: outbox entry %d: %w", op, id, notify.ErrNotFound)
	default:
		return fmt.Errorf("postgres: %s: outbox entry %d is not claimed by %q: %w", op, id, owner, notify.ErrConflict)
	}
}

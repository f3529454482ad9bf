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

// Claim implements notify.Outbox. It claims the due rows, oldest first, in one
// immediate transaction, so claimers on any number of connections and
// processes never hold one message at the same time. Times are read from
// [Config.Clock].
func (s *Store) Claim(ctx context.Context, owner string, limit int, lease time.Duration) ([]notify.OutboxEntry, error) {
	if err := notify.CheckClaim(owner, limit, lease); err != nil {
		return nil, err
	}
	var out []notify.OutboxEntry
	err := s.write(ctx, "claim", func(tx *sql.Tx) error {
		now := s.clock.Now()
		rows, err := tx.StmtContext(ctx, s.q.claim).QueryContext(ctx, owner, unixNano(now.Add(lease)), unixNano(now), limit)
		if err != nil {
			return wrap(ctx, "claim", err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var (
				e                  notify.OutboxEntry
				incident, typ, cat string
			)
			if err := rows.Scan(&e.ID, &e.Key, &incident, &typ, &e.Payload, &cat, &e.Attempts, &e.LastError); err != nil {
				return wrap(ctx, "claim", err)
			}
			if e.CreatedAt, err = time.Parse(time.RFC3339Nano, cat); err != nil {
				return fmt.Errorf("sqlite: claim: creation time of outbox entry %d: %w", e.ID, err)
			}
			e.Incident, e.Type = incident, typ
			out = append(out, e)
		}
		return wrap(ctx, "claim", rows.Err())
	})
	if err != nil {
		return nil, err
	}
	// RETURNING hands rows out in no promised order.
	slices.SortFunc(out, func(a, b notify.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

var _ notify.OutboxAger = (*Store)(nil)

// OldestOutbox implements notify.OutboxAger: the first row by id, one
// seek whatever the outbox holds.
func (s *Store) OldestOutbox(ctx context.Context) (time.Time, bool, error) {
	const op = "oldest outbox entry"
	if err := ctxErr(ctx, op); err != nil {
		return time.Time{}, false, err
	}
	var cat string
	err := s.r.QueryRowContext(ctx, `SELECT created_at FROM outbox ORDER BY id LIMIT 1`).Scan(&cat)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, wrap(ctx, op, err)
	}
	at, err := time.Parse(time.RFC3339Nano, cat)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: %s: creation time: %w", op, err)
	}
	return at, true, nil
}

// Ack implements notify.Outbox.
func (s *Store) Ack(ctx context.Context, owner string, id int64) error {
	return s.settle(ctx, "ack", id, owner, s.q.ack, id, owner)
}

// Retry implements notify.Outbox.
func (s *Store) Retry(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error {
	return s.settle(ctx, "retry", id, owner, s.q.retry, unixNano(at), notify.TruncateError(lastErr), id, owner)
}

// settle runs an ack or retry statement, which changes the row only if
// owner holds it, and turns what it did into the errors of notify.Outbox.
func (s *Store) settle(ctx context.Context, op string, id int64, owner string, stmt *sql.Stmt, args ...any) error {
	return s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
		if err != nil {
			return wrap(ctx, fmt.Sprintf("%s outbox entry %d", op, id), err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return nil
		}
		var found bool
		if err := tx.StmtContext(ctx, s.q.outboxEntryExists).QueryRowContext(ctx, id).Scan(&found); err != nil {
			return wrap(ctx, fmt.Sprintf("%s outbox entry %d", op, id), err)
		}
		if !found {
			return fmt.Errorf("sqlite: %s: outbox entry %d: %w", op, id, notify.ErrNotFound)
		}
		return fmt.Errorf("sqlite: %s: outbox entry %d is not claimed by %q: %w", op, id, owner, notify.ErrConflict)
	})
}

package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// closeTimeout bounds how long closing the connection that waited may
// take.
const closeTimeout = 5 * time.Second

// Wait blocks until a change leaves messages in the outbox of the Store's
// schema, written through any Store in any process, or until ctx ends, and
// returns ctx's error then. Each change with outbox messages sends a
// PostgreSQL notification when it commits, and Wait listens for it.
//
// Notifications only shorten the wait of a dispatcher: one sent before
// Wait starts listening is not seen, so a dispatcher must not rely on them
// alone. Call Wait with a timeout as the polling interval between claims:
//
//	for {
//		entries, err := store.Claim(ctx, owner, 100, time.Minute)
//		// … deliver them …
//		if len(entries) == 0 {
//			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
//			_ = store.Wait(wctx)
//			cancel()
//		}
//	}
//
// Wait takes a connection out of the pool while it waits, and closes it
// afterwards, so that no pooled connection ever listens or keeps
// notifications for whoever uses it next.
func (s *Store) Wait(ctx context.Context) error {
	if err := ctxErr(ctx, "wait"); err != nil {
		return err
	}
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return wrap(ctx, "wait", err)
	}
	conn := pooled.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		_ = conn.Close(cctx)
		cancel()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return wrap(ctx, "wait: listen", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return wrap(ctx, "wait", err)
		}
		if n.Channel == s.channel {
			return nil
		}
	}
}

package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// unlistenTimeout bounds how long a connection that waited for the outbox
// may take to stop listening before it goes back to the pool.
const unlistenTimeout = 5 * time.Second

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
// Wait holds one connection of the pool while it waits.
func (s *Store) Wait(ctx context.Context) error {
	if err := ctxErr(ctx, "wait"); err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return wrap(ctx, "wait", err)
	}
	channel := pgx.Identifier{s.channel}.Sanitize()
	defer func() {
		// A connection that still listens would collect notifications
		// for whoever uses it next; one that cannot stop is dropped.
		if !conn.Conn().IsClosed() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlistenTimeout)
			if _, err := conn.Exec(uctx, "UNLISTEN "+channel); err != nil {
				_ = conn.Conn().Close(uctx)
			}
			cancel()
		}
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return wrap(ctx, "wait: listen", err)
	}
	if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
		return wrap(ctx, "wait", err)
	}
	return nil
}

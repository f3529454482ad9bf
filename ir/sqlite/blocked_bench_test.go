package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
)

// blockedStreams is the number of incidents whose deliveries to the
// down channel wait in BenchmarkBlockedBacklog.
const blockedStreams = 100

// BenchmarkBlockedBacklog times an empty dispatcher pass
// (FanOutAndClaim with nothing due) while a channel is down: each of
// blockedStreams incidents has its first pending delivery to the channel
// backing off and the rest of its deliveries to it due but held up behind
// it, 1,000 or 50,000 deliveries in all. baseline runs the claim as a
// query that walks every due pending delivery and rejects the held-up
// ones one by one; incidentkit runs the store's pass, which looks at the
// head of each incident's stream only. Each reports the mean pass in
// ms/pass; the goal is that incidentkit's pass at 50,000 costs about what
// it does at 1,000.
//
//	go test -run '^$' -bench BenchmarkBlockedBacklog ./ir/sqlite/
func BenchmarkBlockedBacklog(b *testing.B) {
	for _, n := range []int{1000, 50000} {
		b.Run(fmt.Sprintf("baseline/blocked=%d", n), func(b *testing.B) { benchmarkBlockedBacklog(b, n, false) })
		b.Run(fmt.Sprintf("incidentkit/blocked=%d", n), func(b *testing.B) { benchmarkBlockedBacklog(b, n, true) })
	}
}

// baselineClaim is the claim that checks every due pending delivery
// against the earlier pending deliveries of its stream.
const baselineClaim = `UPDATE deliveries SET claimed_by = ?1, claimed_until = ?2, attempts = attempts + 1
	WHERE id IN (
		SELECT d.id FROM deliveries d
		WHERE d.status = 'pending' AND d.next_at <= ?3 AND (d.claimed_until IS NULL OR d.claimed_until <= ?3)
		AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.status = 'pending' AND e.incident_id = d.incident_id
			AND e.channel = d.channel AND e.outbox_id < d.outbox_id)
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = d.incident_id AND o.id < d.outbox_id)
		ORDER BY d.outbox_id, d.id LIMIT 100)`

func benchmarkBlockedBacklog(b *testing.B, blocked int, store bool) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "blocked.db")
	st := openStore(b, path, sqlite.Config{})
	db, err := sql.Open("sqlite3", sqlite.WriterDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	fillBlocked(b, db, blocked)
	route := func(context.Context, notify.OutboxEntry) notify.Fan {
		b.Fatal("no outbox message to route")
		return notify.Fan{}
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if store {
			ds, err := st.FanOutAndClaim(ctx, "dispatcher", 100, time.Minute, route)
			if err != nil {
				b.Fatal(err)
			}
			if len(ds) != 0 {
				b.Fatalf("claimed %d deliveries held up behind their streams' heads", len(ds))
			}
			continue
		}
		now := time.Now()
		res, err := db.ExecContext(ctx, baselineClaim, "dispatcher", now.Add(time.Minute).UnixNano(), now.UnixNano())
		if err != nil {
			b.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 0 {
			b.Fatalf("claimed %d deliveries held up behind their streams' heads (%v)", n, err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/pass")
}

// fillBlocked records blocked pending deliveries to one channel, spread
// over blockedStreams incidents: the first of each incident backs off
// for a day, the rest are due.
func fillBlocked(b *testing.B, db *sql.DB, blocked int) {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	now := time.Now()
	created := now.UTC().Format(time.RFC3339Nano)
	for i := range blocked {
		inc := fmt.Sprintf("INC-%07d", i%blockedStreams)
		next := now.UnixNano()
		if i < blockedStreams {
			next = now.Add(24 * time.Hour).UnixNano()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (outbox_id, key, incident_id, type, channel, route,
				audience, payload, status, created_at, next_at, updated_at)
			VALUES (?1, ?2, ?3, 'opened', 'pager', 'default', 'internal', x'7b7d', 'pending', ?4, ?5, ?5)`,
			i+1, fmt.Sprintf("%s/%d", inc, i), inc, created, next); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

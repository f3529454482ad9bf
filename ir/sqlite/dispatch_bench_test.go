package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
)

// BenchmarkDispatch measures deliveries a second from the SQLite outbox to
// an in-memory notifier, one channel, one message per incident: the
// dispatcher (claim 100 outbox messages, route them and fan them out with
// their acknowledgement in one transaction, claim 100 deliveries, deliver
// them, record their outcomes in one transaction) against a raw SQL loop
// that claims and deletes the same outbox rows in batches of 100.
//
//	go test -run '^$' -bench BenchmarkDispatch -benchtime 5000x ./ir/sqlite/
func BenchmarkDispatch(b *testing.B) {
	b.Run("baseline", benchmarkRawDrain)
	b.Run("incidentkit", benchmarkDispatcher)
}

// fillOutbox leaves n messages, one per incident, in a new store's outbox.
func fillOutbox(b *testing.B, n int) (*sqlite.Store, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "outbox.db")
	st := openStore(b, path, sqlite.Config{})
	w := irtest.OutboxStore(st)
	payload := []byte(`{"incident":{"tlp":"TLP:GREEN","severity":"high"},"event":{"type":"opened"}}`)
	for i := range n {
		inc := fmt.Sprintf("INC-%06d", i+1)
		if err := w.Write(context.Background(), []notify.OutboxMessage{{Key: inc + "/1/1", Incident: inc, Type: "opened", Payload: payload}}); err != nil {
			b.Fatal(err)
		}
	}
	return st, path
}

func benchmarkRawDrain(b *testing.B) {
	ctx := context.Background()
	_, path := fillOutbox(b, b.N)
	db, err := sql.Open("sqlite3", sqlite.WriterDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	b.ResetTimer()
	start := time.Now()
	done := 0
	for done < b.N {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now().UnixNano()
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET claimed_by = 'raw', claimed_until = ?1, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE available_at <= ?2 AND (claimed_until IS NULL OR claimed_until <= ?2)
				ORDER BY id LIMIT 100)
			RETURNING id, payload`, now+int64(time.Minute), now)
		if err != nil {
			b.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			var p []byte
			if err := rows.Scan(&id, &p); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		_ = rows.Close()
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ? AND claimed_by = 'raw'`, id); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		done += len(ids)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

func benchmarkDispatcher(b *testing.B) {
	ctx := context.Background()
	st, _ := fillOutbox(b, b.N)
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "mem"}},
		Routes: []notify.Route{{Channels: []string{"mem"}}}})
	if err != nil {
		b.Fatal(err)
	}
	delivered := 0
	mem := notify.NotifierFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
		return notify.Receipt{ID: "ok"}, nil
	})
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: st, Deliveries: st, Router: router,
		Channels: map[string]notify.Notifier{"mem": mem}, Batch: 100,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	start := time.Now()
	for delivered < 2*b.N { // fan-outs, then deliveries
		n, err := d.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("stalled after %d of %d", delivered, 2*b.N)
		}
		delivered += n
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

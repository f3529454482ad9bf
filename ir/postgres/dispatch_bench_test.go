package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/incidentkit/incidentkit/ir/postgres"
	"github.com/incidentkit/incidentkit/notify"
)

// BenchmarkDispatch measures deliveries a second from the PostgreSQL
// outbox to an in-memory notifier, one channel, one message per incident,
// both sides draining an outbox filled beforehand with b.N messages:
//
//   - baseline: a raw pgx loop. Each transaction claims up to 100 due
//     outbox rows with one UPDATE … RETURNING (FOR UPDATE SKIP LOCKED,
//     reading their payloads) and deletes them with one DELETE … WHERE id
//     = ANY, then commits.
//
//   - incidentkit: notify.Dispatcher.RunOnce with Batch 100. Each pass is
//     one transaction that claims the deliveries already due, claims up
//     to 100 outbox messages with one UPDATE … RETURNING (FOR UPDATE SKIP
//     LOCKED), reads what holds up their deliveries and routes each
//     (decoding its payload); a message whose deliveries are all due, as
//     here, is returned with them and nothing more is written for it.
//     Then the deliveries are made by 8 workers, and their outcomes
//     recorded in a second statement, sent as one batch, that locks the
//     messages, inserts their deliveries with the outcomes and deletes
//     them.
//
//     INCIDENTKIT_TEST_POSTGRES_DSN=... go test -run '^$' -bench 'BenchmarkDispatch$' -benchtime 20000x -count 6 ./ir/postgres/
func BenchmarkDispatch(b *testing.B) {
	testDSN(b)
	b.Run("baseline", benchmarkRawDrain)
	b.Run("incidentkit", benchmarkDispatcher)
}

// fillDispatchOutbox leaves n messages, one per incident, in a new store's outbox,
// written directly: the dispatcher reads only the outbox.
func fillDispatchOutbox(b *testing.B, n int) (*postgres.Store, string) {
	b.Helper()
	st := newStore(b, nil)
	schema := pgx.Identifier{st.Schema()}.Sanitize()
	payload := []byte(`{"incident":{"tlp":"TLP:GREEN","severity":"high"},"event":{"type":"opened"}}`)
	_, err := testPool(b).Exec(context.Background(), `INSERT INTO `+schema+`.outbox
			(key, incident_id, type, payload, created_at, available_at)
		SELECT 'INC-' || lpad(i::text, 6, '0') || '/1/1', 'INC-' || lpad(i::text, 6, '0'), 'opened', $2, now(), now()
		FROM generate_series(1, $1) AS i`, n, payload)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := testPool(b).Exec(context.Background(), `ANALYZE `+schema+`.outbox`); err != nil {
		b.Fatal(err)
	}
	return st, schema
}

func benchmarkRawDrain(b *testing.B) {
	ctx := context.Background()
	_, schema := fillDispatchOutbox(b, b.N)
	pool := testPool(b)
	claim := `WITH due AS (
			SELECT id FROM ` + schema + `.outbox
			WHERE available_at <= statement_timestamp() AND (claimed_until IS NULL OR claimed_until <= statement_timestamp())
			ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED)
		UPDATE ` + schema + `.outbox o SET claimed_by = 'raw', claimed_until = statement_timestamp() + interval '1 minute',
			attempts = o.attempts + 1
		FROM due WHERE o.id = due.id RETURNING o.id, o.payload`
	remove := `DELETE FROM ` + schema + `.outbox WHERE id = ANY($1) AND claimed_by = 'raw'`
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; {
		var ids []int64
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, claim)
			if err != nil {
				return err
			}
			var (
				id      int64
				payload []byte
			)
			if _, err := pgx.ForEachRow(rows, []any{&id, &payload}, func() error {
				ids = append(ids, id)
				return nil
			}); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, remove, ids)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(ids) == 0 {
			b.Fatalf("stalled after %d of %d", done, b.N)
		}
		done += len(ids)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

func benchmarkDispatcher(b *testing.B) {
	ctx := context.Background()
	st, _ := fillDispatchOutbox(b, b.N)
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "mem"}},
		Routes: []notify.Route{{Channels: []string{"mem"}}}})
	if err != nil {
		b.Fatal(err)
	}
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
	for done := 0; done < 2*b.N; { // messages routed, then deliveries made
		n, err := d.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("stalled after %d of %d", done, 2*b.N)
		}
		done += n
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

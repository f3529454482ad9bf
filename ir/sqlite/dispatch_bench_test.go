package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/webhook"
)

// BenchmarkDispatch measures deliveries a second from the SQLite outbox to
// an in-memory notifier, one channel, one message per incident, both sides
// draining an outbox filled beforehand with b.N messages:
//
//   - baseline: a raw SQL loop on the store's file with the store's
//     writing-connection settings. Each transaction claims up to 100 due
//     outbox rows with one UPDATE … RETURNING (reading their payloads) and
//     deletes them one DELETE each, then commits.
//   - floor: the least SQL that also keeps the record of each delivery
//     the notify.Deliveries contract asks for, written as cheaply as we
//     know how: the baseline's claim in one transaction, then in a second
//     one, with statements prepared once, one INSERT of each delivery
//     with its outcome into the deliveries table and one DELETE of the
//     batch's messages. No routing, no decoding, no attempt.
//   - incidentkit: notify.Dispatcher.RunOnce with Batch 100. Each pass is
//     one transaction that claims the deliveries already due and claims
//     up to 100 outbox messages with one UPDATE … RETURNING, reads what
//     holds up their incidents, and routes each (decoding its payload);
//     a message all of whose deliveries are due stays in the outbox,
//     claimed with them. The deliveries are made by 8 workers, and their
//     outcomes recorded in a second transaction, one INSERT … SELECT
//     each, with the messages' removal.
//
// The goal is incidentkit at most 1.5 times the baseline's time per
// delivery, and at least 5,000 deliveries/s. floor shows how much of that
// the delivery record alone takes.
//
//	go test -run '^$' -bench 'BenchmarkDispatch$' -benchtime 20000x -count 6 ./ir/sqlite/
func BenchmarkDispatch(b *testing.B) {
	b.Run("baseline", benchmarkRawDrain)
	b.Run("floor", benchmarkRawRecord)
	b.Run("incidentkit", benchmarkDispatcher)
}

// fillOutbox leaves n messages, one per incident, in a new store's outbox.
func fillOutbox(b testing.TB, n int) (*sqlite.Store, string) {
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

// rawWriter opens the file at path with the store's writing-connection
// settings, on one connection, for a raw SQL baseline.
func rawWriter(b *testing.B, path string) *sql.DB {
	b.Helper()
	db, err := sql.Open("sqlite3", sqlite.WriterDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(1)
	return db
}

func benchmarkRawDrain(b *testing.B) {
	ctx := context.Background()
	_, path := fillOutbox(b, b.N)
	db := rawWriter(b, path)
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

// benchmarkRawRecord is BenchmarkDispatch's floor.
func benchmarkRawRecord(b *testing.B) {
	ctx := context.Background()
	_, path := fillOutbox(b, b.N)
	db := rawWriter(b, path)
	claim, err := db.Prepare(`UPDATE outbox SET claimed_by = 'raw', claimed_until = ?1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE available_at <= ?2 AND (claimed_until IS NULL OR claimed_until <= ?2)
			ORDER BY id LIMIT 100)
		RETURNING id, key, incident_id, type, payload, created_at, attempts`)
	if err != nil {
		b.Fatal(err)
	}
	record, err := db.Prepare(`INSERT INTO deliveries (outbox_id, key, incident_id, type, channel, route, audience,
		payload, status, created_at, next_at, updated_at, attempts, receipt_id)
		VALUES (?1, ?2, ?3, ?4, 'mem', '', '', ?5, 'delivered', ?6, ?7, ?7, ?8, 'ok')`)
	if err != nil {
		b.Fatal(err)
	}
	remove, err := db.Prepare(`DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?1)) AND claimed_by = 'raw'`)
	if err != nil {
		b.Fatal(err)
	}
	type claimed struct {
		id, attempts       int64
		key, inc, typ, cat string
		payload            []byte
	}
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now().UnixNano()
		rows, err := tx.Stmt(claim).QueryContext(ctx, now+int64(time.Minute), now)
		if err != nil {
			b.Fatal(err)
		}
		var got []claimed
		for rows.Next() {
			var c claimed
			if err := rows.Scan(&c.id, &c.key, &c.inc, &c.typ, &c.payload, &c.cat, &c.attempts); err != nil {
				b.Fatal(err)
			}
			got = append(got, c)
		}
		_ = rows.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		if tx, err = db.BeginTx(ctx, nil); err != nil {
			b.Fatal(err)
		}
		ids := make([]byte, 0, 8*len(got))
		ids = append(ids, '[')
		for i, c := range got {
			if _, err := tx.Stmt(record).ExecContext(ctx, c.id, c.key, c.inc, c.typ, c.payload, c.cat, now, c.attempts); err != nil {
				b.Fatal(err)
			}
			if i > 0 {
				ids = append(ids, ',')
			}
			ids = strconv.AppendInt(ids, c.id, 10)
		}
		ids = append(ids, ']')
		if _, err := tx.Stmt(remove).ExecContext(ctx, string(ids)); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		done += len(got)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

func benchmarkDispatcher(b *testing.B) {
	st, _ := fillOutbox(b, b.N)
	mem := notify.NotifierFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
		return notify.Receipt{ID: "ok"}, nil
	})
	runDispatcher(b, st, map[string]notify.Notifier{"mem": mem})
}

// runDispatcher drains st's outbox, filled with b.N messages, with a
// dispatcher that routes every message to every channel, and reports the
// deliveries a second.
func runDispatcher(b *testing.B, st *sqlite.Store, channels map[string]notify.Notifier) {
	b.Helper()
	ctx := context.Background()
	var names []string
	for name := range channels {
		names = append(names, name)
	}
	slices.Sort(names)
	rules := make([]notify.ChannelRule, len(names))
	for i, name := range names {
		rules[i] = notify.ChannelRule{Name: name}
	}
	router, err := notify.NewRouter(notify.Routing{Channels: rules, Routes: []notify.Route{{Channels: names}}})
	if err != nil {
		b.Fatal(err)
	}
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: st, Deliveries: st, Router: router,
		Channels: channels, Batch: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	want := b.N * (1 + len(channels)) // messages routed, then deliveries made
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < want; {
		n, err := d.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("stalled after %d of %d", done, want)
		}
		done += n
	}
	b.ReportMetric(float64(b.N*len(channels))/time.Since(start).Seconds(), "deliveries/s")
}

// BenchmarkDispatchWebhook measures deliveries a second from the SQLite
// outbox to two loopback webhook receivers (httptest servers that read
// each request and answer 204), every message going to both:
//
//   - baseline: a raw loop that claims up to 100 outbox rows with one
//     UPDATE … RETURNING and commits, POSTs each payload as it is to both
//     receivers with a plain http.Client, 8 requests at a time, then
//     deletes the rows, one DELETE each, in a second transaction.
//   - incidentkit: notify.Dispatcher.RunOnce with Batch 100 and two
//     notify/webhook channels (CloudEvents, Standard Webhooks signatures)
//     whose client is notify.NewHTTPClient with loopback allowed.
//
// ns/op is per message, two deliveries each.
//
//	go test -run '^$' -bench BenchmarkDispatchWebhook -benchtime 5000x -count 6 ./ir/sqlite/
func BenchmarkDispatchWebhook(b *testing.B) {
	b.Run("baseline", benchmarkRawWebhook)
	b.Run("incidentkit", benchmarkDispatcherWebhook)
}

// webhookReceivers starts n loopback receivers and returns their URLs.
func webhookReceivers(b *testing.B, n int) []string {
	b.Helper()
	urls := make([]string, n)
	for i := range urls {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		b.Cleanup(srv.Close)
		urls[i] = srv.URL
	}
	return urls
}

func benchmarkRawWebhook(b *testing.B) {
	ctx := context.Background()
	_, path := fillOutbox(b, b.N)
	urls := webhookReceivers(b, 2)
	db := rawWriter(b, path)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	post := func(url string, payload []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; {
		now := time.Now().UnixNano()
		rows, err := db.QueryContext(ctx, `UPDATE outbox SET claimed_by = 'raw', claimed_until = ?1, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE available_at <= ?2 AND (claimed_until IS NULL OR claimed_until <= ?2)
				ORDER BY id LIMIT 100)
			RETURNING id, payload`, now+int64(time.Minute), now)
		if err != nil {
			b.Fatal(err)
		}
		var (
			ids      []int64
			payloads [][]byte
		)
		for rows.Next() {
			var id int64
			var p []byte
			if err := rows.Scan(&id, &p); err != nil {
				b.Fatal(err)
			}
			ids, payloads = append(ids, id), append(payloads, p)
		}
		_ = rows.Close()
		var (
			wg   sync.WaitGroup
			next atomic.Int64
			errs = make(chan error, 8)
		)
		for range 8 {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= 2*len(ids) {
						return
					}
					if err := post(urls[i%2], payloads[i/2]); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
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
	b.ReportMetric(float64(2*b.N)/time.Since(start).Seconds(), "deliveries/s")
}

func benchmarkDispatcherWebhook(b *testing.B) {
	st, _ := fillOutbox(b, b.N)
	client := notify.NewHTTPClient(notify.HTTPConfig{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	defer client.CloseIdleConnections()
	secret := notify.NewSecret("whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	channels := make(map[string]notify.Notifier)
	for i, url := range webhookReceivers(b, 2) {
		u, err := notify.ParseSecretURL(url + "/hook")
		if err != nil {
			b.Fatal(err)
		}
		n, err := webhook.New(webhook.Config{URL: u, Secrets: []notify.Secret{secret}, Client: client})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = n.Close() })
		channels[fmt.Sprintf("hook-%d", i+1)] = n
	}
	runDispatcher(b, st, channels)
}

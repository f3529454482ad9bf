package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
)

// BenchmarkDurableTransition compares one phase transition through the
// Responder on a Store with a raw SQLite transaction, on the same driver
// with the same pragmas and schema, doing the same writes with prepared
// statements: the incident row updated with a version check, and the event
// inserted. Both commit durably (synchronous=FULL). The goal is at most
// 1.25x the baseline. Run both in one go and compare the medians:
//
//	go test -run '^$' -bench BenchmarkDurableTransition -count 10 ./ir/sqlite/
func BenchmarkDurableTransition(b *testing.B) {
	b.Run("baseline", benchmarkRawTransition)
	b.Run("incidentkit", benchmarkResponderTransition)
}

// benchmarkRawTransition writes what a transition writes, with JSON encoded
// beforehand and no read: the cost of the transaction itself.
func benchmarkRawTransition(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "raw.db")
	st := openStore(b, path, sqlite.Config{})
	raw := storetest.NewRawTransition(ctx, b, storetest.BenchResponder(b, st), st)
	at := raw.Event.At.Format(time.RFC3339Nano)

	db, err := sql.Open("sqlite3", sqlite.WriterDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	update, err := db.PrepareContext(ctx, `UPDATE incidents SET version = ?2, phase = ?3, doc = ?4, event_count = event_count + 1
		WHERE id = ?1 AND version = ?2 - 1`)
	if err != nil {
		b.Fatal(err)
	}
	insert, err := db.PrepareContext(ctx, `INSERT INTO events (incident_id, seq, version, type, at, doc) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	version, seq := raw.Version, raw.Seq
	b.ReportAllocs()
	for b.Loop() {
		version++
		seq++
		if err := rawTransition(ctx, db, update, insert, string(raw.ID), version, seq, string(raw.Doc), string(raw.EventDoc), at); err != nil {
			b.Fatal(err)
		}
	}
}

// rawTransition is one transition's writes in one immediate transaction.
func rawTransition(ctx context.Context, db *sql.DB, update, insert *sql.Stmt, id string, version, seq int64, doc, evDoc, at string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.StmtContext(ctx, update).ExecContext(ctx, id, version, string(phases.Eradication), doc)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("version %d: %w", version, ir.ErrConflict)
	}
	if _, err := tx.StmtContext(ctx, insert).ExecContext(ctx, id, seq, version, string(ir.EventPhaseChanged), at, evDoc); err != nil {
		return err
	}
	return tx.Commit()
}

// benchmarkResponderTransition is storetest.BenchTransitions on a Store.
func benchmarkResponderTransition(b *testing.B) {
	st := openStore(b, filepath.Join(b.TempDir(), "responder.db"), sqlite.Config{})
	storetest.BenchTransitions(b, storetest.BenchResponder(b, st))
}

// listIncidents is how many incidents BenchmarkListOpen's store holds.
const listIncidents = 100_000

// listQuery is the query BenchmarkListOpen runs: the first page of open
// incidents in one phase of one severity, as a console's default view
// shows them.
var listQuery = ir.Query{Status: ir.StatusOpen, Phases: []phases.Phase{phases.Containment}, Severities: []ir.Severity{ir.SeverityHigh}}

// BenchmarkListOpen lists the first page (50) of open incidents filtered by
// phase and severity from a store holding 100,000 incidents, a third of
// them open. The baseline runs the same SQL statement, prepared, on the
// same file and reads the rows' JSON without decoding it; incidentkit is
// Store.List, which decodes every incident. The index on (open, phase,
// severity, id) hands out the page in ID order, so neither side sorts or
// reads a row that does not match.
//
//	go test -run '^$' -bench BenchmarkListOpen -count 6 ./ir/sqlite/
func BenchmarkListOpen(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "list.db")
	st := openStore(b, path, sqlite.Config{})
	seedList(ctx, b, st)
	b.Run("baseline", func(b *testing.B) {
		db, err := sql.Open("sqlite3", sqlite.WriterDSN(path))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		q, err := db.PrepareContext(ctx, `SELECT doc FROM incidents WHERE open = 1 AND phase IN (?) AND severity IN (?)
			ORDER BY id DESC LIMIT ?`)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			n, err := rawList(ctx, q, string(phases.Containment), string(ir.SeverityHigh), ir.DefaultPageSize+1)
			if err != nil || n != ir.DefaultPageSize+1 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("incidentkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			page, err := st.List(ctx, listQuery)
			if err != nil || len(page.Incidents) != ir.DefaultPageSize {
				b.Fatal(len(page.Incidents), err)
			}
		}
	})
}

// rawList runs the baseline's listing and counts the rows.
func rawList(ctx context.Context, q *sql.Stmt, args ...any) (int, error) {
	rows, err := q.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var doc sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&doc); err != nil {
			return 0, err
		}
		n++
	}
	return n, rows.Err()
}

// seedList fills st with listIncidents incidents, spread at random (with a
// fixed seed) over the SANS phases and the severities, a third of them
// open, in batches of one transaction each.
func seedList(ctx context.Context, b *testing.B, st *sqlite.Store) {
	b.Helper()
	ps := phases.SANS.Phases()
	sevs := []ir.Severity{ir.SeverityLow, ir.SeverityMedium, ir.SeverityHigh, ir.SeverityCritical}
	rnd := rand.New(rand.NewPCG(1, 2))
	const batch = 10_000
	for from := 0; from < listIncidents; from += batch {
		changes := make([]ir.Change, 0, batch)
		for i := from; i < from+batch; i++ {
			opened := irtest.Epoch.Add(time.Duration(i) * time.Minute)
			bl := irtest.Incident(ir.ID(fmt.Sprintf("INC-%07d", i))).
				Title(fmt.Sprintf("Incident %d", i)).
				Severity(sevs[rnd.IntN(len(sevs))]).
				Phase(ps[rnd.IntN(len(ps))].Name).
				Labels("seed", fmt.Sprintf("team-%d", i%7)).
				Opened(opened)
			if rnd.IntN(3) != 0 {
				bl = bl.Closed(opened.Add(time.Hour))
			}
			changes = append(changes, irtest.OpenChange(bl.Build()))
		}
		if err := sqlite.ApplyAll(ctx, st, changes); err != nil {
			b.Fatal(err)
		}
	}
}

// contendedWriters is how many goroutines the incidentkit side of
// BenchmarkContendedIncident runs.
const contendedWriters = 8

// BenchmarkContendedIncident adds notes to one incident on a SQLite file
// through one Responder that never retries a conflict: baseline from one
// goroutine, incidentkit from 8 goroutines sharing the same number of
// notes. A note refused with ir.ErrConflict stops the benchmark. The goal
// is a ratio incidentkit/baseline of at most 1 (8 writers on one incident
// go at least as fast as one). Run both in one go and compare the medians:
//
//	go test -run '^$' -bench BenchmarkContendedIncident -count 6 ./ir/sqlite/
func BenchmarkContendedIncident(b *testing.B) {
	b.Run("baseline", func(b *testing.B) { benchmarkNotes(b, 1) })
	b.Run("incidentkit", func(b *testing.B) { benchmarkNotes(b, contendedWriters) })
}

// benchmarkNotes adds b.N notes to one fresh incident from writers
// goroutines.
func benchmarkNotes(b *testing.B, writers int) {
	ctx := context.Background()
	st := openStore(b, filepath.Join(b.TempDir(), "contended.db"), sqlite.Config{})
	r, err := ir.NewResponder(ir.Config{Store: st, Clock: irtest.NewClock(irtest.Epoch), IDs: &irtest.IDs{}, ConflictRetries: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	})
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Contended incident", Severity: ir.SeverityHigh})
	if err != nil {
		b.Fatal(err)
	}
	var (
		left sync.WaitGroup
		next atomic.Int64
		errs = make([]error, writers)
	)
	b.ReportAllocs()
	b.ResetTimer()
	for w := range writers {
		left.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := r.AddNote(ctx, alice, inc.ID, "note"); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	left.Wait()
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	got, err := st.Get(ctx, inc.ID)
	if err != nil {
		b.Fatal(err)
	}
	if got.Version != int64(1+b.N) {
		b.Fatalf("version %d after %d notes", got.Version, b.N)
	}
}

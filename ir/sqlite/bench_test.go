package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
)

// benchCycle is the loop both sides of BenchmarkDurableTransition walk,
// starting in Containment: containment → eradication → recovery →
// containment.
var benchCycle = []phases.Action{phases.Eradicate, phases.Recover, phases.ReturnToContainment}

// benchIncidentLength is how many transitions an incident takes before a
// fresh one is opened, so that phase histories stay realistically short.
const benchIncidentLength = 12

// BenchmarkDurableTransition compares one phase transition through the
// Responder on a Store with a raw SQLite transaction, on the same driver
// with the same pragmas and schema, doing the same writes with prepared
// statements: the incident row updated with a version check, and the event
// inserted. Both commit durably (synchronous=FULL). The goal is at most
// 1.5x the baseline. Run both in one go and compare the medians:
//
//	go test -run '^$' -bench BenchmarkDurableTransition -count 6 ./ir/sqlite/
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
	r := benchResponder(b, st)
	id := benchContainedIncident(ctx, b, r)
	inc, err := st.Get(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	events, err := st.Timeline(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	doc, err := json.Marshal(inc)
	if err != nil {
		b.Fatal(err)
	}
	ev := ir.Event{IncidentID: id, Type: ir.EventPhaseChanged, At: inc.UpdatedAt, Actor: inc.OpenedBy,
		Data: &ir.PhaseChanged{Action: phases.Eradicate, From: phases.Containment, To: phases.Eradication}}
	evDoc, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	at := ev.At.Format(time.RFC3339Nano)

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
	version, seq := inc.Version, int64(len(events))
	b.ReportAllocs()
	for b.Loop() {
		version++
		seq++
		if err := rawTransition(ctx, db, update, insert, string(id), version, seq, string(doc), string(evDoc), at); err != nil {
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

// benchmarkResponderTransition takes the actions of benchCycle with
// Responder.Transition, on a fresh incident every benchIncidentLength
// transitions, opened with the timer stopped.
func benchmarkResponderTransition(b *testing.B) {
	ctx := context.Background()
	commander := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	st := openStore(b, filepath.Join(b.TempDir(), "responder.db"), sqlite.Config{})
	r := benchResponder(b, st)
	var id ir.ID
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%benchIncidentLength == 0 {
			b.StopTimer()
			id = benchContainedIncident(ctx, b, r)
			b.StartTimer()
		}
		if _, err := r.Transition(ctx, commander, id, benchCycle[i%len(benchCycle)], ""); err != nil {
			b.Fatal(err)
		}
	}
}

// benchResponder makes a Responder on st.
func benchResponder(b *testing.B, st *sqlite.Store) *ir.Responder {
	b.Helper()
	r, err := ir.NewResponder(ir.Config{Store: st, Model: phases.SANS, Clock: irtest.NewClock(irtest.Epoch), IDs: &irtest.IDs{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r
}

// benchContainedIncident opens an incident, assigns its commander and
// moves it into Containment.
func benchContainedIncident(ctx context.Context, b *testing.B, r *ir.Responder) ir.ID {
	b.Helper()
	commander := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, commander, ir.NewIncident{Title: "Benchmark incident", Severity: ir.SeverityHigh})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Assign(ctx, commander, inc.ID, ir.RoleCommander, commander); err != nil {
		b.Fatal(err)
	}
	for _, a := range []phases.Action{phases.Identify, phases.Contain} {
		if _, err := r.Transition(ctx, commander, inc.ID, a, ""); err != nil {
			b.Fatal(err)
		}
	}
	return inc.ID
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

package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/postgres"
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
// Responder on a Store with a raw pgx transaction doing the same writes to
// the same tables: the incident row updated with a version check, and the
// event inserted. Run both in one go and compare the medians:
//
//	INCIDENTKIT_TEST_POSTGRES_DSN=... go test -run '^$' -bench BenchmarkDurableTransition -count 6 ./ir/postgres/
func BenchmarkDurableTransition(b *testing.B) {
	testDSN(b)
	b.Run("baseline", benchmarkRawTransition)
	b.Run("incidentkit", benchmarkResponderTransition)
}

// benchmarkRawTransition writes what a transition writes, with JSON encoded
// beforehand and no read: the cost of the transaction itself.
func benchmarkRawTransition(b *testing.B) {
	ctx := context.Background()
	pool := testPool(b)
	r, st := benchResponder(b)
	defer shutdown(b, r)
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
	schema := pgx.Identifier{st.Schema()}.Sanitize()
	update := "UPDATE " + schema + ".incidents SET version = $2, phase = $3, doc = $4, event_count = event_count + 1" +
		" WHERE id = $1 AND version = $2 - 1"
	insert := "INSERT INTO " + schema + ".events (incident_id, seq, version, type, at, doc) VALUES ($1, $2, $3, $4, $5, $6)"
	version, seq := inc.Version, int64(len(events))
	b.ReportAllocs()
	for b.Loop() {
		version++
		seq++
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, update, string(id), version, string(phases.Eradication), doc)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return ir.ErrConflict
			}
			_, err = tx.Exec(ctx, insert, string(id), seq, version, string(ev.Type), ev.At, evDoc)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkResponderTransition takes the actions of benchCycle with
// Responder.Transition, on a fresh incident every benchIncidentLength
// transitions, opened with the timer stopped.
func benchmarkResponderTransition(b *testing.B) {
	ctx := context.Background()
	commander := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	r, _ := benchResponder(b)
	defer shutdown(b, r)
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

// benchResponder makes a Responder on a Store in a fresh schema.
func benchResponder(b *testing.B) (*ir.Responder, *postgres.Store) {
	b.Helper()
	st := newStore(b, nil)
	r, err := ir.NewResponder(ir.Config{Store: st, Model: phases.SANS, Clock: irtest.NewClock(irtest.Epoch), IDs: &irtest.IDs{}})
	if err != nil {
		b.Fatal(err)
	}
	return r, st
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

func shutdown(b *testing.B, r *ir.Responder) {
	if r != nil {
		if err := r.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	}
}

package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// benchCycle is the loop a durable transition benchmark walks, starting in
// Containment: containment → eradication → recovery → containment.
var benchCycle = []phases.Action{phases.Eradicate, phases.Recover, phases.ReturnToContainment}

// benchIncidentLength is how many transitions an incident takes before a
// fresh one is opened, so that phase histories stay realistically short.
const benchIncidentLength = 12

// benchCommander is who runs the benchmark incidents.
var benchCommander = ir.Actor{ID: "alice", Name: "Alice Moreau"}

// BenchResponder returns a Responder on st running SANS, with a fake clock
// and predictable IDs, shut down when b ends.
func BenchResponder(b *testing.B, st ir.Store) *ir.Responder {
	b.Helper()
	r, err := ir.NewResponder(ir.Config{Store: st, Model: phases.SANS, Clock: irtest.NewClock(irtest.Epoch), IDs: &irtest.IDs{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	})
	return r
}

// ContainedIncident opens an incident on r, assigns its commander and
// moves it into Containment.
func ContainedIncident(ctx context.Context, b *testing.B, r *ir.Responder) ir.ID {
	b.Helper()
	inc, err := r.Open(ctx, benchCommander, ir.NewIncident{Title: "Benchmark incident", Severity: ir.SeverityHigh})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Assign(ctx, benchCommander, inc.ID, ir.RoleCommander, benchCommander); err != nil {
		b.Fatal(err)
	}
	for _, a := range []phases.Action{phases.Identify, phases.Contain} {
		if _, err := r.Transition(ctx, benchCommander, inc.ID, a, ""); err != nil {
			b.Fatal(err)
		}
	}
	return inc.ID
}

// BenchTransitions is the incidentkit side of a durable transition
// benchmark: r takes the actions of the containment loop with
// Responder.Transition, on a fresh incident every 12 transitions, opened
// with the timer stopped.
func BenchTransitions(b *testing.B, r *ir.Responder) {
	benchTransitions(b, r, nil)
}

// TimedTransitions runs the transitions of [BenchTransitions] and returns
// how long each took, in order.
func TimedTransitions(b *testing.B, r *ir.Responder) []time.Duration {
	latencies := make([]time.Duration, 0, max(b.N, 1))
	benchTransitions(b, r, &latencies)
	return latencies
}

// benchTransitions runs the transitions of BenchTransitions, appending
// how long each took to latencies if it is not nil.
func benchTransitions(b *testing.B, r *ir.Responder, latencies *[]time.Duration) {
	ctx := context.Background()
	var id ir.ID
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%benchIncidentLength == 0 {
			b.StopTimer()
			id = ContainedIncident(ctx, b, r)
			b.StartTimer()
		}
		var began time.Time
		if latencies != nil {
			began = time.Now()
		}
		if _, err := r.Transition(ctx, benchCommander, id, benchCycle[i%len(benchCycle)], ""); err != nil {
			b.Fatal(err)
		}
		if latencies != nil {
			*latencies = append(*latencies, time.Since(began))
		}
	}
}

// RawTransition is what the baseline of a durable transition benchmark
// writes for each transition of one incident in Containment: the incident
// row's new version and document (without the observables and tasks, which
// are rows of their own), and one phase-changed event.
type RawTransition struct {
	ID ir.ID
	// Version and Seq are the incident's version and its timeline's last
	// Seq before the first transition.
	Version, Seq int64
	// Doc is the incident's JSON; Event and EventDoc the event and its
	// JSON.
	Doc      []byte
	Event    ir.Event
	EventDoc []byte
}

// NewRawTransition opens a contained incident on r, whose store is st,
// and returns what the baseline writes for it.
func NewRawTransition(ctx context.Context, b *testing.B, r *ir.Responder, st ir.Store) RawTransition {
	b.Helper()
	id := ContainedIncident(ctx, b, r)
	inc, err := st.Get(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	latest, err := st.Timeline(ctx, id, ir.TimelineQuery{NewestFirst: true, Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	// The document leaves out the observables and tasks, which the stores
	// keep as rows of their own, and which a transition does not touch.
	head := *inc
	head.Observables, head.Tasks = nil, nil
	doc, err := json.Marshal(&head)
	if err != nil {
		b.Fatal(err)
	}
	ev := ir.Event{IncidentID: id, Type: ir.EventPhaseChanged, At: inc.UpdatedAt, Actor: inc.OpenedBy,
		Data: &ir.PhaseChanged{Action: phases.Eradicate, From: phases.Containment, To: phases.Eradication}}
	evDoc, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return RawTransition{ID: id, Version: inc.Version, Seq: latest.Events[0].Seq, Doc: doc, Event: ev, EventDoc: evDoc}
}

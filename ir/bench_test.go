package ir_test

import (
	"context"
	"testing"

	"github.com/looplab/fsm"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// benchCycle is the loop both sides of BenchmarkTransition walk, starting
// in Containment: containment → eradication → recovery → containment, the
// path of an incident that finds reinfection during recovery.
var benchCycle = []phases.Action{phases.Eradicate, phases.Recover, phases.ReturnToContainment}

// benchIncidentLength is how many transitions one incident takes before the
// incidentkit side opens a fresh one. It is a whole number of cycles, and
// about what a real incident takes: a full SANS walk with one loop back to
// containment is ten transitions.
const benchIncidentLength = 12

// BenchmarkTransition compares one phase transition through the Responder,
// on the in-memory store, with a bare looplab/fsm NewFSM+Event on the same
// SANS transition table. The goal is at most 3x the baseline.
func BenchmarkTransition(b *testing.B) {
	b.Run("baseline", benchmarkFSMTransition)
	b.Run("incidentkit", benchmarkResponderTransition)
}

// benchmarkFSMTransition builds a throwaway fsm.FSM for every transition
// from the current phase and fires the action, with no callbacks.
func benchmarkFSMTransition(b *testing.B) {
	var table []fsm.EventDesc
	for _, a := range phases.SANS.Actions() {
		src := make([]string, len(a.From))
		for i, from := range a.From {
			src[i] = string(from)
		}
		table = append(table, fsm.EventDesc{Name: string(a.Name), Src: src, Dst: string(a.To)})
	}
	ctx := context.Background()
	current := string(phases.Containment)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		machine := fsm.NewFSM(current, table, nil)
		if err := machine.Event(ctx, string(benchCycle[i%len(benchCycle)])); err != nil {
			b.Fatal(err)
		}
		current = machine.Current()
	}
}

// benchmarkResponderTransition takes the same actions with
// Responder.Transition. An incident's phase history grows with every
// transition, so a benchmark that moved one incident millions of times
// would measure an incident no one ever has; and a store that kept every
// incident the benchmark ever opened would mostly measure the garbage
// collector walking them. Instead, every benchIncidentLength transitions, a
// fresh store and Responder are set up with one incident that has a
// commander and no tasks (so every guard passes), with the timer stopped:
// the benchmark measures transitions of realistically sized incidents.
func benchmarkResponderTransition(b *testing.B) {
	ctx := context.Background()
	commander := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	var (
		r  *ir.Responder
		id ir.ID
	)
	shutdown := func() {
		if r != nil {
			if err := r.Shutdown(ctx); err != nil {
				b.Error(err)
			}
		}
	}
	defer shutdown()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%benchIncidentLength == 0 {
			b.StopTimer()
			shutdown()
			r, id = benchContainedIncident(ctx, b, commander)
			b.StartTimer()
		}
		if _, err := r.Transition(ctx, commander, id, benchCycle[i%len(benchCycle)], ""); err != nil {
			b.Fatal(err)
		}
	}
}

// benchContainedIncident makes a Responder on a fresh in-memory store, opens
// an incident, assigns its commander and moves it into Containment.
func benchContainedIncident(ctx context.Context, b *testing.B, commander ir.Actor) (*ir.Responder, ir.ID) {
	b.Helper()
	r, err := ir.NewResponder(ir.Config{
		Store: ir.NewMemoryStore(),
		Model: phases.SANS,
		Clock: irtest.NewClock(irtest.Epoch),
		IDs:   &irtest.IDs{},
	})
	if err != nil {
		b.Fatal(err)
	}
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
	return r, inc.ID
}

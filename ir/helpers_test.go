package ir_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// Actors used throughout the tests. Each has a kind, so that the actor a
// test passes in is exactly the actor an event records.
var (
	testAlice = ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	testBob   = ir.Actor{ID: "bob", Name: "Bob Tran", Kind: ir.ActorHuman}
	testCarol = ir.Actor{ID: "carol", Name: "Carol Diaz", Kind: ir.ActorHuman}
	testBot   = ir.Actor{ID: "edr-pipeline", Name: "EDR pipeline", Kind: ir.ActorService}
)

// harness is a Responder on an in-memory store, with a fake clock and
// predictable IDs. store is the memory store underneath any wrapper a test
// installs, so reads through it never go through the wrapper; used is the
// store the Responder was given.
type harness struct {
	t     testing.TB
	ctx   context.Context
	r     *ir.Responder
	store *ir.MemoryStore
	used  ir.Store
	clock *irtest.Clock
	// locker is the Responder's evidence locker, if it has one.
	locker *evidence.Locker
}

// newHarness builds a harness. Each configure function may change the
// Config before the Responder is built (wrap the store, set a policy, a
// model, telemetry providers).
func newHarness(t testing.TB, configure ...func(*ir.Config)) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		ctx:   context.Background(),
		store: ir.NewMemoryStore(),
		clock: irtest.NewClock(time.Time{}),
	}
	cfg := ir.Config{
		Store:          h.store,
		Clock:          h.clock,
		IDs:            &irtest.IDs{},
		TracerProvider: tracenoop.NewTracerProvider(),
		MeterProvider:  metricnoop.NewMeterProvider(),
	}
	for _, c := range configure {
		c(&cfg)
	}
	r, err := ir.NewResponder(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Shutdown(context.Background())) })
	h.r, h.used, h.locker = r, cfg.Store, cfg.Evidence
	return h
}

// withModel configures the harness's phase model.
func withModel(m *phases.Model) func(*ir.Config) {
	return func(c *ir.Config) { c.Model = m }
}

// withPolicy configures the harness's policy.
func withPolicy(p ir.Policy) func(*ir.Config) {
	return func(c *ir.Config) { c.Policy = p }
}

// phishing is the incident most tests open.
func phishing() ir.NewIncident {
	return ir.NewIncident{
		Title:    "Credential phishing against finance",
		Severity: ir.SeverityHigh,
		Category: ir.CategoryPhishing,
	}
}

// open opens an incident as Alice and fails the test if that fails.
func (h *harness) open(n ir.NewIncident) *ir.Incident {
	h.t.Helper()
	inc, err := h.r.Open(h.ctx, testAlice, n)
	require.NoError(h.t, err)
	return inc
}

// stored reads the incident straight from the memory store.
func (h *harness) stored(id ir.ID) *ir.Incident {
	h.t.Helper()
	inc, err := h.store.Get(h.ctx, id)
	require.NoError(h.t, err)
	return inc
}

// timeline reads the incident's timeline straight from the memory store.
func (h *harness) timeline(id ir.ID) []ir.Event {
	h.t.Helper()
	events, err := irtest.ReadTimeline(h.ctx, h.store, id)
	require.NoError(h.t, err)
	return events
}

// snapshot returns the stored incident and its timeline length, to check
// later that a refused change changed nothing.
func (h *harness) snapshot(id ir.ID) (*ir.Incident, int) {
	h.t.Helper()
	return h.stored(id), len(h.timeline(id))
}

// assertUnchanged checks that the stored incident is still before, at the
// same version, and that its timeline still has events entries.
func (h *harness) assertUnchanged(t testing.TB, before *ir.Incident, events int) {
	t.Helper()
	now := h.stored(before.ID)
	assert.Equal(t, before.Version, now.Version, "version")
	assert.Equal(t, before, now, "stored incident")
	assert.Len(t, h.timeline(before.ID), events, "timeline length")
}

// transition takes action as Alice and fails the test if that fails.
func (h *harness) transition(id ir.ID, action phases.Action) *ir.Incident {
	h.t.Helper()
	inc, err := h.r.Transition(h.ctx, testAlice, id, action, "moving on: "+string(action))
	require.NoError(h.t, err)
	return inc
}

// assign gives who the role, as Alice, and fails the test if that fails.
func (h *harness) assign(id ir.ID, role ir.Role, who ir.Actor) *ir.Incident {
	h.t.Helper()
	inc, err := h.r.Assign(h.ctx, testAlice, id, role, who)
	require.NoError(h.t, err)
	return inc
}

// verdict sets the verdict, as Alice, and fails the test if that fails.
func (h *harness) verdict(id ir.ID, v ir.Verdict) *ir.Incident {
	h.t.Helper()
	inc, err := h.r.SetVerdict(h.ctx, testAlice, id, v, "resolution for "+string(v))
	require.NoError(h.t, err)
	return inc
}

// review records a post-incident review with a root cause, as Alice, and
// fails the test if that fails.
func (h *harness) review(id ir.ID) *ir.Incident {
	h.t.Helper()
	inc, err := h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "What happened, in short",
		RootCause: "The cause found"})
	require.NoError(h.t, err)
	return inc
}

// dataOf returns the event's data as T, failing the test if it is another
// type.
func dataOf[T ir.EventData](t testing.TB, e ir.Event) T {
	t.Helper()
	d, ok := e.Data.(T)
	require.Truef(t, ok, "event %d (%s) has data %T", e.Seq, e.Type, e.Data)
	return d
}

// eventsOfType returns the events of type typ, in order.
func eventsOfType(events []ir.Event, typ ir.EventType) []ir.Event {
	var out []ir.Event
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// alwaysConflictStore wraps a Store. While conflicting is set, every Apply
// fails with ir.ErrConflict and is counted; otherwise it passes through.
type alwaysConflictStore struct {
	ir.Store
	conflicting atomic.Bool
	refused     atomic.Int64
}

func (s *alwaysConflictStore) Apply(ctx context.Context, ch ir.Change) error {
	if s.conflicting.Load() {
		s.refused.Add(1)
		return fmt.Errorf("test store: incident %s moved on: %w", ch.Incident.ID, ir.ErrConflict)
	}
	return s.Store.Apply(ctx, ch)
}

// pageCapStore wraps a Store and returns at most max incidents per page,
// whatever the query asks, as a store with a smaller page limit would.
type pageCapStore struct {
	ir.Store
	max   int
	lists atomic.Int64
}

func (s *pageCapStore) List(ctx context.Context, q ir.Query) (ir.Page, error) {
	s.lists.Add(1)
	if q.Limit == 0 || q.Limit > s.max {
		q.Limit = s.max
	}
	return s.Store.List(ctx, q)
}

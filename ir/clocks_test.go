package ir_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// withClocks configures the harness's clocks.
func withClocks(rd ir.ResponseDeadlines, defs ...[]ir.ClockDef) func(*ir.Config) {
	return func(c *ir.Config) {
		c.ResponseDeadlines = rd
		for _, d := range defs {
			c.Clocks = append(c.Clocks, d...)
		}
	}
}

// eventsOf returns the data of the incident's events of type typ.
func eventsOf[T ir.EventData](h *harness, id ir.ID) []T {
	var out []T
	for _, e := range h.timeline(id) {
		if d, ok := e.Data.(T); ok {
			out = append(out, d)
		}
	}
	return out
}

func TestResponseDeadlineNearMissedAndStopped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClocks(ir.ResponseDeadlines{
		ir.SeverityHigh: {Acknowledge: time.Hour, Contain: 4 * time.Hour, Warn: 15 * time.Minute},
	}))
	inc := h.open(ir.NewIncident{Title: "Beaconing host", Severity: ir.SeverityHigh})
	ack, ok := inc.Clock(ir.ClockAcknowledge)
	require.True(t, ok)
	assert.Equal(t, irtest.Epoch.Add(time.Hour), ack.Deadline)
	assert.Equal(t, irtest.Epoch.Add(45*time.Minute), ack.WarnAt)
	_, ok = inc.Clock(ir.ClockResolve)
	assert.False(t, ok, "no resolve deadline for high: no clock")
	assert.Equal(t, irtest.Epoch.Add(45*time.Minute), inc.ClockDue)

	run := func() int {
		t.Helper()
		n, err := h.r.RunClocksOnce(h.ctx)
		require.NoError(t, err)
		return n
	}
	assert.Equal(t, 0, run(), "nothing due yet")
	h.clock.Advance(50 * time.Minute)
	assert.Equal(t, 1, run(), "the warning")
	assert.Equal(t, 0, run(), "the warning once")
	near := eventsOf[*ir.DeadlineNear](h, inc.ID)
	require.Len(t, near, 1)
	assert.Equal(t, ir.ClockAcknowledge, near[0].Clock)
	assert.Equal(t, 10*time.Minute, near[0].Left)

	h.clock.Advance(20 * time.Minute)
	assert.Equal(t, 1, run(), "the miss")
	assert.Equal(t, 0, run(), "the miss once")
	missed := eventsOf[*ir.DeadlineMissed](h, inc.ID)
	require.Len(t, missed, 1)
	assert.Equal(t, 10*time.Minute, missed[0].Late)

	// Acknowledging stops the clock, late.
	h.clock.Advance(5 * time.Minute)
	inc = h.transition(inc.ID, phases.Identify)
	ack, _ = inc.Clock(ir.ClockAcknowledge)
	assert.False(t, ack.Running())
	assert.False(t, ack.Met)
	stopped := eventsOf[*ir.ClockStopped](h, inc.ID)
	require.Len(t, stopped, 1)
	assert.Equal(t, 15*time.Minute, stopped[0].Late)
	assert.Equal(t, irtest.Epoch.Add(4*time.Hour-15*time.Minute), inc.ClockDue, "the containment warning is next")

	m := ir.ComputeMetrics([]*ir.Incident{inc})
	assert.Equal(t, ir.ClockCounts{Missed: 1}, m.Clocks[ir.ClockAcknowledge])
	assert.Equal(t, ir.ClockCounts{Running: 1}, m.Clocks[ir.ClockContain])

	// The events are on the timeline in words.
	for _, e := range h.timeline(inc.ID) {
		if e.Type == ir.EventDeadlineMissed {
			assert.Equal(t, "deadline missed: Acknowledge, was due 2026-03-02T10:00:00Z (10m0s late)", ir.Describe(nil, e))
		}
	}
}

func TestClockStoppedInTimeIsMet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClocks(nil, ir.GDPRArticle33(12*time.Hour)))
	inc := h.open(ir.NewIncident{Title: "Payroll export left public", Severity: ir.SeverityHigh})
	assert.Empty(t, inc.Clocks, "the GDPR clock starts on its marker")
	aware := irtest.Epoch.Add(-2 * time.Hour)
	inc, err := h.r.Mark(h.ctx, testAlice, inc.ID, ir.NewMark{Marker: ir.MarkerPersonalDataBreach, At: aware, Note: "payroll data"})
	require.NoError(t, err)
	c, ok := inc.Clock(ir.ClockGDPR)
	require.True(t, ok)
	assert.Equal(t, aware, c.StartedAt)
	assert.Equal(t, aware.Add(72*time.Hour), c.Deadline)

	// Marking again changes nothing.
	again, err := h.r.Mark(h.ctx, testAlice, inc.ID, ir.NewMark{Marker: ir.MarkerPersonalDataBreach})
	require.NoError(t, err)
	assert.Equal(t, inc.Version, again.Version)

	h.clock.Advance(30 * time.Hour)
	inc, err = h.r.Mark(h.ctx, testAlice, inc.ID, ir.NewMark{Marker: ir.MarkerGDPRNotified})
	require.NoError(t, err)
	c, _ = inc.Clock(ir.ClockGDPR)
	assert.True(t, c.Met)
	assert.Equal(t, irtest.Epoch.Add(30*time.Hour), c.StoppedAt)
	assert.True(t, inc.ClockDue.IsZero())
	h.clock.Advance(100 * time.Hour)
	n, err := h.r.RunClocksOnce(h.ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a stopped clock is not missed")
	assert.Equal(t, ir.ClockCounts{Met: 1}, ir.ComputeMetrics([]*ir.Incident{inc}).Clocks[ir.ClockGDPR])

	_, err = h.r.Mark(h.ctx, testAlice, inc.ID, ir.NewMark{Marker: "Not A Marker"})
	require.ErrorIs(t, err, ir.ErrInvalid)
	_, err = h.r.Mark(h.ctx, testAlice, inc.ID, ir.NewMark{Marker: "later", At: h.clock.Now().Add(time.Hour)})
	require.ErrorIs(t, err, ir.ErrInvalid)
}

// TestClockTemplates checks the deadline of every clock of every built-in
// template.
func TestClockTemplates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClocks(nil, ir.NIS2Article23(0), ir.DORAMajorIncident(0), ir.SECForm8KItem105(0)))
	detected := irtest.Epoch.Add(-22 * time.Hour)
	inc := h.open(ir.NewIncident{Title: "Trading platform outage", Severity: ir.SeverityCritical, DetectedAt: detected})
	mark := func(m ir.Marker) *ir.Incident {
		t.Helper()
		inc, err := h.r.Mark(h.ctx, testAlice, inc.ID, ir.NewMark{Marker: m})
		require.NoError(t, err)
		return inc
	}
	deadline := func(inc *ir.Incident, name string) time.Time {
		t.Helper()
		c, ok := inc.Clock(name)
		require.True(t, ok, name)
		return c.Deadline
	}
	t0 := irtest.Epoch // Monday 2 March 2026, 09:00 UTC

	inc = mark(ir.MarkerNIS2Significant)
	assert.Equal(t, t0.Add(24*time.Hour), deadline(inc, ir.ClockNIS2EarlyWarning))
	assert.Equal(t, t0.Add(72*time.Hour), deadline(inc, ir.ClockNIS2Notification))
	h.clock.Advance(48 * time.Hour)
	inc = mark(ir.MarkerNIS2Notification)
	assert.Equal(t, time.Date(2026, 4, 4, 9, 0, 0, 0, time.UTC), deadline(inc, ir.ClockNIS2FinalReport), "one month after the notification")
	c, _ := inc.Clock(ir.ClockNIS2Notification)
	assert.True(t, c.Met)

	// DORA: classified 48h after t0; awareness (detection) was 70h
	// before, so the 24h cap from awareness has passed already and is
	// the deadline.
	inc = mark(ir.MarkerDORAMajor)
	assert.Equal(t, detected.Add(24*time.Hour), deadline(inc, ir.ClockDORAInitial))
	h.clock.Advance(2 * time.Hour)
	inc = mark(ir.MarkerDORAInitial)
	c, _ = inc.Clock(ir.ClockDORAInitial)
	assert.False(t, c.Met)
	assert.Equal(t, t0.Add(50*time.Hour+72*time.Hour), deadline(inc, ir.ClockDORAIntermediate))
	h.clock.Advance(time.Hour)
	inc = mark(ir.MarkerDORAIntermediate)
	assert.Equal(t, time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC), deadline(inc, ir.ClockDORAFinal))

	// SEC: determined Wednesday 4 March 12:00 UTC; four business days
	// later is Tuesday 10 March, 17:30 EDT (daylight time from 8 March).
	inc = mark(ir.MarkerSECMateriality)
	assert.Equal(t, time.Date(2026, 3, 10, 21, 30, 0, 0, time.UTC), deadline(inc, ir.ClockSEC8K))

	// DORA's 4 hours from classification, when awareness was recent.
	h2 := newHarness(t, withClocks(nil, ir.DORAMajorIncident(time.Hour)))
	inc2 := h2.open(ir.NewIncident{Title: "Payments down", Severity: ir.SeverityCritical})
	inc2, err := h2.r.Mark(h2.ctx, testAlice, inc2.ID, ir.NewMark{Marker: ir.MarkerDORAMajor})
	require.NoError(t, err)
	c, _ = inc2.Clock(ir.ClockDORAInitial)
	assert.Equal(t, t0.Add(4*time.Hour), c.Deadline)
	assert.Equal(t, t0.Add(3*time.Hour), c.WarnAt)

	// GDPR's 72 hours.
	defs := ir.GDPRArticle33(0)
	require.Len(t, defs, 1)
	assert.Equal(t, 72*time.Hour, defs[0].Within)
}

func TestUSBusinessDays(t *testing.T) {
	t.Parallel()
	utc := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, time.UTC) }
	for _, tt := range []struct {
		name     string
		from     time.Time
		want     time.Time
		business bool
	}{
		// Friday 6 March 2026: the weekend is skipped.
		{name: "weekend", from: utc(2026, 3, 6, 15, 0), want: utc(2026, 3, 12, 21, 30)},
		// Wednesday 4 March 22:00 EST is 5 March 03:00 UTC: the day is
		// the 4th in Eastern time.
		{name: "eastern day", from: utc(2026, 3, 5, 3, 0), want: utc(2026, 3, 10, 21, 30)},
		// Thursday 2 July 2026: Independence Day falls on a Saturday
		// and is observed on Friday 3 July.
		{name: "observed holiday", from: utc(2026, 7, 2, 14, 0), want: utc(2026, 7, 9, 21, 30)},
		// Wednesday 25 November 2026: Thanksgiving on the 26th.
		{name: "thanksgiving", from: utc(2026, 11, 25, 14, 0), want: utc(2026, 12, 2, 22, 30)},
		// Wednesday 29 December 2027: New Year's Day 2028 is a Saturday,
		// observed on Friday 31 December 2027.
		{name: "new year observed the year before", from: utc(2027, 12, 29, 14, 0), want: utc(2028, 1, 5, 22, 30)},
	} {
		assert.Equal(t, tt.want, ir.AddUSBusinessDays(tt.from, 4), tt.name)
	}
	assert.False(t, ir.USBusinessDay(time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)))
	assert.False(t, ir.USBusinessDay(time.Date(2026, 1, 19, 0, 0, 0, 0, time.UTC)), "Martin Luther King Jr. Day")
	assert.False(t, ir.USBusinessDay(time.Date(2026, 5, 25, 0, 0, 0, 0, time.UTC)), "Memorial Day")
	assert.False(t, ir.USBusinessDay(time.Date(2026, 6, 19, 0, 0, 0, 0, time.UTC)), "Juneteenth")
	assert.True(t, ir.USBusinessDay(time.Date(2020, 6, 19, 0, 0, 0, 0, time.UTC)), "before Juneteenth was a holiday")
	assert.True(t, ir.USBusinessDay(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)))
}

func TestClockDefsChecked(t *testing.T) {
	t.Parallel()
	for _, defs := range [][]ir.ClockDef{
		{{Name: "Bad Name", Title: "x", Start: ir.Trigger{Event: ir.EventOpened}, Stop: ir.Trigger{Marker: "done"}, Within: time.Hour}},
		{{Name: "a", Title: "", Start: ir.Trigger{Event: ir.EventOpened}, Stop: ir.Trigger{Marker: "done"}, Within: time.Hour}},
		{{Name: "a", Title: "x", Stop: ir.Trigger{Marker: "done"}, Within: time.Hour}},
		{{Name: "a", Title: "x", Start: ir.Trigger{Event: ir.EventOpened}, Stop: ir.Trigger{Marker: "done"}}},
		{{Name: "a", Title: "x", Start: ir.Trigger{Event: ir.EventOpened}, Stop: ir.Trigger{Milestone: "nowhere"}, Within: time.Hour}},
		append(ir.GDPRArticle33(0), ir.GDPRArticle33(0)...),
	} {
		_, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Clocks: defs})
		assert.ErrorIs(t, err, ir.ErrInvalid, "%+v", defs)
	}
}

// TestClockRunnersRace runs two Responders on one store, each with its own
// runner, at the same time: each near and missed deadline is recorded
// once.
func TestClockRunnersRace(t *testing.T) {
	t.Parallel()
	store := ir.NewMemoryStore()
	clock := irtest.NewClock(time.Time{})
	newR := func() *ir.Responder {
		r, err := ir.NewResponder(ir.Config{Store: store, Clock: clock, IDs: &irtest.IDs{Prefix: "RACE-"},
			Clocks: ir.GDPRArticle33(time.Hour), TracerProvider: tracenoop.NewTracerProvider(),
			MeterProvider: metricnoop.NewMeterProvider()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
		return r
	}
	a, b := newR(), newR()
	ctx := context.Background()
	const incidents = 5
	for i := range incidents {
		inc, err := a.Open(ctx, testAlice, ir.NewIncident{Title: "Breach", Severity: ir.SeverityHigh})
		require.NoError(t, err)
		_, err = a.Mark(ctx, testAlice, inc.ID, ir.NewMark{Marker: ir.MarkerPersonalDataBreach})
		require.NoError(t, err)
		_ = i
	}
	total := 0
	race := func() {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, r := range []*ir.Responder{a, b, a, b} {
			wg.Go(func() {
				n, err := r.RunClocksOnce(ctx)
				assert.NoError(t, err)
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	clock.Advance(71 * time.Hour)
	race()
	clock.Advance(2 * time.Hour)
	race()
	page, err := store.List(ctx, ir.Query{})
	require.NoError(t, err)
	require.Len(t, page.Incidents, incidents)
	for _, inc := range page.Incidents {
		tl, err := store.Timeline(ctx, inc.ID, ir.TimelineQuery{Limit: 100})
		require.NoError(t, err)
		near, missed := 0, 0
		for _, e := range tl.Events {
			switch e.Type {
			case ir.EventDeadlineNear:
				near++
			case ir.EventDeadlineMissed:
				missed++
			}
		}
		assert.Equal(t, 1, near, inc.ID)
		assert.Equal(t, 1, missed, inc.ID)
	}
	assert.Equal(t, 2*incidents, total)
}

// TestClockEventsInOutbox checks that a missed deadline leaves an outbox
// message with the change, like any other event.
func TestClockEventsInOutbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClocks(ir.ResponseDeadlines{ir.SeverityCritical: {Acknowledge: 15 * time.Minute}}),
		func(c *ir.Config) { c.Outbox = true })
	inc := h.open(ir.NewIncident{Title: "Domain admin compromised", Severity: ir.SeverityCritical})
	h.clock.Advance(time.Hour)
	n, err := h.r.RunClocksOnce(h.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	msgs, err := h.store.Claim(h.ctx, "test", 100, time.Minute)
	require.NoError(t, err)
	var types []string
	for _, m := range msgs {
		if m.Incident == string(inc.ID) {
			types = append(types, string(m.Type))
		}
	}
	assert.Contains(t, types, string(ir.EventDeadlineMissed))
	assert.Contains(t, types, string(ir.EventClockStarted))
}

// TestResponseDeadlinesEndWithIncident dismisses an incident before it is
// acknowledged: its response clocks stop, and nothing is recorded missed
// afterwards; a regulatory clock keeps running.
func TestResponseDeadlinesEndWithIncident(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClocks(ir.ResponseDeadlines{ir.SeverityHigh: {Acknowledge: time.Hour}}, ir.GDPRArticle33(0)))
	inc := h.open(ir.NewIncident{Title: "Odd login", Severity: ir.SeverityHigh})
	_, err := h.r.Mark(h.ctx, testAlice, inc.ID, ir.NewMark{Marker: ir.MarkerPersonalDataBreach})
	require.NoError(t, err)
	h.clock.Advance(10 * time.Minute)
	h.verdict(inc.ID, ir.VerdictFalsePositive)
	inc, err = h.r.Close(h.ctx, testAlice, inc.ID, "")
	require.NoError(t, err)
	ack, _ := inc.Clock(ir.ClockAcknowledge)
	assert.False(t, ack.Running())
	assert.True(t, ack.Met)
	gdpr, _ := inc.Clock(ir.ClockGDPR)
	assert.True(t, gdpr.Running())
	h.clock.Advance(100 * time.Hour)
	n, err := h.r.RunClocksOnce(h.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the GDPR deadline is missed")
}

// TestRunClocks runs the clock runner in a bubble of fake time: its
// passes record the miss once, and it returns when its context ends.
func TestRunClocks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(),
			ResponseDeadlines: ir.ResponseDeadlines{ir.SeverityCritical: {Acknowledge: time.Minute}},
			TracerProvider:    tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
		require.NoError(t, err)
		inc, err := r.Open(ctx, testAlice, ir.NewIncident{Title: "Ransom note on file shares", Severity: ir.SeverityCritical})
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- r.RunClocks(ctx, 10*time.Second) }()
		// Five minutes of fake time pass at once, and the runner's
		// passes run in them.
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		got, err := r.Get(context.Background(), inc.ID)
		require.NoError(t, err)
		c, _ := got.Clock(ir.ClockAcknowledge)
		assert.True(t, c.Missed)
		page, err := r.Timeline(context.Background(), inc.ID, ir.TimelineQuery{})
		require.NoError(t, err)
		missed := 0
		for _, e := range page.Events {
			if d, ok := e.Data.(*ir.DeadlineMissed); ok {
				missed++
				assert.Less(t, d.Late, 10*time.Second+time.Nanosecond, "a pass every 10s")
			}
		}
		assert.Equal(t, 1, missed)
		_ = r.Shutdown(context.Background())
	})
}

// TestResponseDeadlineFollowsSeverity escalates an incident: its running
// response clocks take the deadlines of the new severity.
func TestResponseDeadlineFollowsSeverity(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClocks(ir.ResponseDeadlines{
		ir.SeverityHigh:     {Acknowledge: time.Hour, Contain: 8 * time.Hour, Warn: 10 * time.Minute},
		ir.SeverityCritical: {Acknowledge: 15 * time.Minute, Contain: 2 * time.Hour, Warn: 10 * time.Minute},
	}))
	inc := h.open(ir.NewIncident{Title: "Lateral movement", Severity: ir.SeverityHigh})
	h.clock.Advance(20 * time.Minute)
	inc, err := h.r.SetSeverity(h.ctx, testAlice, inc.ID, ir.SeverityCritical, "domain controller touched")
	require.NoError(t, err)
	ack, _ := inc.Clock(ir.ClockAcknowledge)
	assert.Equal(t, irtest.Epoch.Add(15*time.Minute), ack.Deadline)
	contain, _ := inc.Clock(ir.ClockContain)
	assert.Equal(t, irtest.Epoch.Add(2*time.Hour), contain.Deadline)
	assert.Equal(t, irtest.Epoch.Add(110*time.Minute), contain.WarnAt)
	changed := eventsOf[*ir.DeadlineChanged](h, inc.ID)
	require.Len(t, changed, 2)
	assert.Equal(t, irtest.Epoch.Add(time.Hour), changed[0].From)

	n, err := h.r.RunClocksOnce(h.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the new acknowledgement deadline has passed")

	// Back to high: the miss no longer holds, and is recorded again
	// when the longer deadline passes.
	inc, err = h.r.SetSeverity(h.ctx, testAlice, inc.ID, ir.SeverityHigh, "contained to one host")
	require.NoError(t, err)
	ack, _ = inc.Clock(ir.ClockAcknowledge)
	assert.False(t, ack.Missed)
	assert.False(t, ack.Warned)
	h.clock.Advance(41 * time.Minute)
	n, err = h.r.RunClocksOnce(h.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, eventsOf[*ir.DeadlineMissed](h, inc.ID), 2)
}

// TestResponseDeadlineStartsOnEscalation checks that an incident opened
// at a severity without deadlines gets them, counted from its detection,
// when it is escalated to one that has them; and that a deadline whose
// milestone was already reached does not start.
func TestResponseDeadlineStartsOnEscalation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClocks(ir.ResponseDeadlines{
		ir.SeverityCritical: {Acknowledge: 15 * time.Minute, Contain: 2 * time.Hour},
	}))
	inc := h.open(ir.NewIncident{Title: "Odd logins", Severity: ir.SeverityLow})
	assert.Empty(t, inc.Clocks, "low has no deadlines")
	h.clock.Advance(20 * time.Minute)
	inc, err := h.r.SetSeverity(h.ctx, testAlice, inc.ID, ir.SeverityCritical, "domain admin account")
	require.NoError(t, err)
	ack, ok := inc.Clock(ir.ClockAcknowledge)
	require.True(t, ok, "escalation starts the acknowledgement clock")
	assert.Equal(t, irtest.Epoch, ack.StartedAt)
	assert.Equal(t, irtest.Epoch.Add(15*time.Minute), ack.Deadline)
	contain, ok := inc.Clock(ir.ClockContain)
	require.True(t, ok)
	assert.Equal(t, irtest.Epoch.Add(2*time.Hour), contain.Deadline)
	assert.Len(t, eventsOf[*ir.ClockStarted](h, inc.ID), 2)
	n, err := h.r.RunClocksOnce(h.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the acknowledgement deadline has passed")

	// Acknowledged before the escalation: that clock does not start.
	other := h.open(ir.NewIncident{Title: "Odd logins again", Severity: ir.SeverityLow})
	other, err = h.r.Assign(h.ctx, testAlice, other.ID, ir.RoleCommander, testAlice)
	require.NoError(t, err)
	other, err = h.r.SetSeverity(h.ctx, testAlice, other.ID, ir.SeverityCritical, "domain admin account")
	require.NoError(t, err)
	_, ok = other.Clock(ir.ClockAcknowledge)
	assert.False(t, ok, "already acknowledged")
	_, ok = other.Clock(ir.ClockContain)
	assert.True(t, ok)
}

package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// TestClocksAcrossRestarts stops the service between the clock runner's
// passes, reopening the file each time: a deadline recorded as near or
// missed before a restart is not recorded again after it.
func TestClocksAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "incidentkit.db")
	clock := irtest.NewClock(time.Time{})
	start := func() (*ir.Responder, func()) {
		st, err := sqlite.Open(ctx, path, sqlite.Config{Clock: clock})
		require.NoError(t, err)
		r, err := ir.NewResponder(ir.Config{Store: st, Clock: clock, Outbox: true, Clocks: ir.SECForm8KItem105(24 * time.Hour),
			TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
		require.NoError(t, err)
		return r, func() {
			assert.NoError(t, r.Shutdown(ctx))
			assert.NoError(t, st.Close())
		}
	}
	run := func() int {
		t.Helper()
		r, stop := start()
		defer stop()
		n, err := r.RunClocksOnce(ctx)
		require.NoError(t, err)
		return n
	}

	r, stop := start()
	inc, err := r.Open(ctx, irtest.Analyst, ir.NewIncident{Title: "Ransomware at a subsidiary", Severity: ir.SeverityCritical})
	require.NoError(t, err)
	// Monday 2 March 2026 09:00 UTC: due Friday 6 March, 17:30 EST.
	inc, err = r.Mark(ctx, irtest.Analyst, inc.ID, ir.NewMark{Marker: ir.MarkerSECMateriality})
	require.NoError(t, err)
	stop()
	c, _ := inc.Clock(ir.ClockSEC8K)
	require.Equal(t, time.Date(2026, 3, 6, 22, 30, 0, 0, time.UTC), c.Deadline)

	assert.Zero(t, run())
	clock.Set(c.Deadline.Add(-23 * time.Hour))
	assert.Equal(t, 1, run(), "near")
	assert.Zero(t, run(), "near, once")
	clock.Set(c.Deadline.Add(time.Second))
	assert.Equal(t, 1, run(), "missed")
	assert.Zero(t, run(), "missed, once")

	r, stop = start()
	defer stop()
	tl, err := r.Timeline(ctx, inc.ID, ir.TimelineQuery{Limit: 100})
	require.NoError(t, err)
	var types []ir.EventType
	for _, e := range tl.Events {
		types = append(types, e.Type)
	}
	assert.Equal(t, []ir.EventType{ir.EventOpened, ir.EventMarked, ir.EventClockStarted, ir.EventDeadlineNear,
		ir.EventDeadlineMissed}, types)
	got, err := r.Get(ctx, inc.ID)
	require.NoError(t, err)
	c, _ = got.Clock(ir.ClockSEC8K)
	assert.True(t, c.Warned && c.Missed && c.Running())
	assert.True(t, got.ClockDue.IsZero())
}

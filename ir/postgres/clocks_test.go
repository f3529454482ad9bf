package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/postgres"
)

// TestClockRunnersShareDatabase runs the clock runners of two service
// instances (two stores, each on its own connection pool, and two
// Responders) on one schema at the same time: each near and missed
// deadline is recorded once, and leaves one outbox message.
func TestClockRunnersShareDatabase(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t)
	ctx := context.Background()
	clock := irtest.NewClock(time.Time{})
	instance := func() *ir.Responder {
		st, err := postgres.Open(ctx, dsn, postgres.Config{Schema: schema, Clock: clock})
		require.NoError(t, err)
		t.Cleanup(st.Close)
		r, err := ir.NewResponder(ir.Config{Store: st, Clock: clock, Outbox: true,
			Clocks:            ir.GDPRArticle33(12 * time.Hour),
			ResponseDeadlines: ir.ResponseDeadlines{ir.SeverityHigh: {Acknowledge: 30 * time.Minute, Warn: 10 * time.Minute}},
			TracerProvider:    tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
		return r
	}
	a, b := instance(), instance()
	const incidents = 4
	var ids []ir.ID
	for range incidents {
		inc, err := a.Open(ctx, irtest.Analyst, ir.NewIncident{Title: "Customer records exposed", Severity: ir.SeverityHigh})
		require.NoError(t, err)
		_, err = b.Mark(ctx, irtest.Analyst, inc.ID, ir.NewMark{Marker: ir.MarkerPersonalDataBreach})
		require.NoError(t, err)
		ids = append(ids, inc.ID)
	}
	var mu sync.Mutex
	total := 0
	race := func() {
		var wg sync.WaitGroup
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
	// The acknowledgement warning, then its miss; the GDPR warning,
	// then its miss.
	for _, step := range []time.Duration{25 * time.Minute, 10 * time.Minute, 60 * time.Hour, 12 * time.Hour} {
		clock.Advance(step)
		race()
	}
	st := newStoreInSchema(t, schema)
	messages := make(map[ir.EventType]int)
	entries, err := st.Claim(ctx, "test", 1000, time.Minute)
	require.NoError(t, err)
	for _, e := range entries {
		messages[ir.EventType(e.Type)]++
	}
	for _, id := range ids {
		events, err := irtest.ReadTimeline(ctx, st, id)
		require.NoError(t, err)
		count := make(map[string]int)
		for _, e := range events {
			switch d := e.Data.(type) {
			case *ir.DeadlineNear:
				count["near "+d.Clock]++
			case *ir.DeadlineMissed:
				count["missed "+d.Clock]++
			}
		}
		assert.Equal(t, map[string]int{"near acknowledge": 1, "missed acknowledge": 1, "near gdpr-art33": 1, "missed gdpr-art33": 1},
			count, id)
	}
	assert.Equal(t, 4*incidents, total, "the runners count what they recorded")
	assert.Equal(t, 2*incidents, messages[ir.EventDeadlineNear])
	assert.Equal(t, 2*incidents, messages[ir.EventDeadlineMissed])
}

package ir_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/phases"
)

// TestDispatcherTelemetry checks the dispatcher's span per attempt, linked
// to the span of the change that wrote the message, and its metrics by
// channel and outcome.
func TestDispatcherTelemetry(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		assert.NoError(t, tp.Shutdown(context.Background()))
		assert.NoError(t, mp.Shutdown(context.Background()))
	})
	th := &telemetryHarness{harness: newHarness(t, func(c *ir.Config) {
		c.Outbox, c.TracerProvider, c.MeterProvider = true, tp, mp
		c.Store = ir.NewMemoryStore(ir.MemoryClock(c.Clock))
	}), spans: spans, reader: reader}
	store := th.used.(*ir.MemoryStore)
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "chat"}, {Name: "broken"}, {Name: "public", MaxTLP: notify.TLPClear}},
		Routes:   []notify.Route{{Channels: []string{"chat", "broken", "public"}}},
	})
	require.NoError(t, err)
	broken := &notifytest.Recorder{Fail: func(notify.Message, int) error { return notify.Retry(errors.New("503"), 0) }}
	d, err := notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: store, Deliveries: store, Router: router, Clock: th.clock, Owner: "d",
		Channels:       map[string]notify.Notifier{"chat": &notifytest.Recorder{}, "broken": broken, "public": &notifytest.Recorder{}},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		TracerProvider: tp, MeterProvider: mp,
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })

	inc, err := th.r.Open(context.Background(), testAlice, ir.NewIncident{Title: "Phish", Severity: ir.SeverityHigh})
	require.NoError(t, err)
	_, err = th.r.Transition(context.Background(), testAlice, inc.ID, phases.Identify, "")
	require.NoError(t, err)
	_, err = d.RunOnce(context.Background())
	require.NoError(t, err)

	change := th.onlySpan(t, "ir.transition")
	var linked, total int
	for _, s := range th.spansNamed("notify.deliver") {
		total++
		attrs := spanAttrs(s)
		assert.Equal(t, string(inc.ID), attrs["incidentkit.incident.id"])
		for _, l := range s.Links() {
			if l.SpanContext.SpanID() == change.SpanContext().SpanID() {
				linked++
				assert.Equal(t, "phase_changed", attrs["incidentkit.event.type"])
			}
		}
	}
	// One incident's messages go to each channel one at a time: the first
	// pass makes the opening's deliveries.
	assert.Equal(t, 2, total, "one span per attempt")
	_, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	th.clock.Advance(time.Hour)
	_, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	for _, s := range th.spansNamed("notify.deliver") {
		for _, l := range s.Links() {
			if l.SpanContext.SpanID() == change.SpanContext().SpanID() {
				linked++
			}
		}
	}
	assert.Positive(t, linked, "no delivery span links to the change's span")

	rm := th.collect(t)
	m, ok := findNotifyMetric(rm, "incidentkit.notify.deliveries")
	require.True(t, ok, "no deliveries metric")
	points := int64Points(t, m)
	key := func(channel, outcome string) string {
		return attrKey(attribute.String("incidentkit.notify.channel", channel), attribute.String("incidentkit.outcome", outcome))
	}
	assert.Equal(t, int64(2), points[key("chat", "delivered")])
	assert.Equal(t, int64(2), points[key("public", "held")])
	assert.Positive(t, points[key("broken", "retry")])
	_, ok = findNotifyMetric(rm, "incidentkit.notify.attempt.duration")
	assert.True(t, ok, "no attempt duration metric")
	m, ok = findNotifyMetric(rm, "incidentkit.notify.deliveries.pending")
	require.True(t, ok, "no pending deliveries metric")
	assert.Equal(t, int64(2), int64Points(t, m)[attrKey(attribute.String("incidentkit.notify.channel", "broken"))],
		"the broken channel's deliveries are pending")
	m, ok = findNotifyMetric(rm, "incidentkit.notify.breaker.state")
	require.True(t, ok, "no breaker metric")
	assert.Equal(t, int64(0), int64Points(t, m)[attrKey(attribute.String("incidentkit.notify.channel", "chat"))])
	assert.Zero(t, outboxAge(t, rm), "an empty outbox is behind")

	// A message waiting in the outbox: delivery is as far behind as it
	// is old.
	_, err = th.r.AddNote(context.Background(), testAlice, inc.ID, "waiting")
	require.NoError(t, err)
	th.clock.Advance(90 * time.Second)
	assert.Equal(t, 90.0, outboxAge(t, th.collect(t)))
	_, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Zero(t, outboxAge(t, th.collect(t)), "a delivered message still counts")
}

// outboxAge returns the one point of the outbox age gauge in rm.
func outboxAge(t *testing.T, rm metricdata.ResourceMetrics) float64 {
	t.Helper()
	m, ok := findNotifyMetric(rm, "incidentkit.notify.outbox.age")
	require.True(t, ok, "no outbox age metric")
	g, ok := m.Data.(metricdata.Gauge[float64])
	require.True(t, ok, "the outbox age is a %T", m.Data)
	require.Len(t, g.DataPoints, 1)
	return g.DataPoints[0].Value
}

// findNotifyMetric returns the metric called name from package notify's
// scope.
func findNotifyMetric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/incidentkit/incidentkit/notify" {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

package ir_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

const scopeName = "github.com/incidentkit/incidentkit/ir"

// telemetryHarness is a harness whose Responder reports to an in-memory
// span recorder and a manual metric reader.
type telemetryHarness struct {
	*harness
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newTelemetryHarness(t *testing.T, configure ...func(*ir.Config)) *telemetryHarness {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		assert.NoError(t, tp.Shutdown(context.Background()))
		assert.NoError(t, mp.Shutdown(context.Background()))
	})
	configure = append(configure, func(c *ir.Config) {
		c.TracerProvider = tp
		c.MeterProvider = mp
	})
	return &telemetryHarness{harness: newHarness(t, configure...), spans: spans, reader: reader}
}

// spansNamed returns the ended spans called name.
func (th *telemetryHarness) spansNamed(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range th.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// onlySpan returns the one ended span called name.
func (th *telemetryHarness) onlySpan(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var names []string
	for _, s := range th.spans.Ended() {
		names = append(names, s.Name())
	}
	spans := th.spansNamed(name)
	require.Lenf(t, spans, 1, "spans named %s among %v", name, names)
	return spans[0]
}

// spanAttrs returns a span's attributes by key, as strings.
func spanAttrs(s sdktrace.ReadOnlySpan) map[string]string {
	out := make(map[string]string)
	for _, kv := range s.Attributes() {
		out[string(kv.Key)] = kv.Value.String()
	}
	return out
}

func (th *telemetryHarness) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, th.reader.Collect(context.Background(), &rm))
	return rm
}

// findMetric returns the metric called name from this package's scope.
func findMetric(t *testing.T, rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				assert.Equal(t, scopeName, sm.Scope.Name, "the scope of %s", name)
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// int64Points returns the points of an int64 sum or gauge by their
// attribute set.
func int64Points(t *testing.T, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	out := make(map[string]int64)
	var points []metricdata.DataPoint[int64]
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		assert.True(t, d.IsMonotonic, "%s is a counter", m.Name)
		points = d.DataPoints
	case metricdata.Gauge[int64]:
		points = d.DataPoints
	default:
		t.Fatalf("%s has data %T", m.Name, m.Data)
	}
	for _, p := range points {
		out[p.Attributes.Encoded(attribute.DefaultEncoder())] = p.Value
	}
	return out
}

// attrKey encodes attributes as the metric points are keyed.
func attrKey(kvs ...attribute.KeyValue) string {
	s := attribute.NewSet(kvs...)
	return s.Encoded(attribute.DefaultEncoder())
}

var (
	kSeverity = attribute.Key("incidentkit.severity")
	kCategory = attribute.Key("incidentkit.category")
	kModel    = attribute.Key("incidentkit.model")
	kPhase    = attribute.Key("incidentkit.phase")
	kAction   = attribute.Key("incidentkit.action")
	kOutcome  = attribute.Key("incidentkit.outcome")
)

func TestEveryOperationHasASpan(t *testing.T) {
	t.Parallel()
	type want struct {
		span     string
		op       string
		incident bool // the span names the incident
		severity bool // the span carries the incident's severity
		extra    map[string]string
	}
	tests := []struct {
		name   string
		locker bool // the Responder has an evidence locker
		setup  func(h *harness, id ir.ID)
		do     func(h *harness, id ir.ID) error
		want   want
	}{
		{name: "open", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Open(h.ctx, testAlice, ir.NewIncident{Title: "Second", Severity: ir.SeverityHigh, Category: ir.CategoryMalware})
			return err
		}, want: want{span: "ir.open", op: "open", severity: true,
			extra: map[string]string{"incidentkit.incident.id": "INC-000002", "incidentkit.category": "malware",
				"incidentkit.model": "sans-picerl", "incidentkit.phase.to": "preparation"}}},
		{name: "open with id", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.OpenWithID(h.ctx, testAlice, "ALERT-1", ir.NewIncident{Title: "Second", Severity: ir.SeverityHigh, Category: ir.CategoryMalware})
			return err
		}, want: want{span: "ir.open", op: "open", severity: true,
			extra: map[string]string{"incidentkit.incident.id": "ALERT-1", "incidentkit.category": "malware",
				"incidentkit.model": "sans-picerl", "incidentkit.phase.to": "preparation"}}},
		{name: "get", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Get(h.ctx, id)
			return err
		}, want: want{span: "ir.get", op: "get", incident: true}},
		{name: "list", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.List(h.ctx, ir.Query{})
			return err
		}, want: want{span: "ir.list", op: "list"}},
		{name: "timeline", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Timeline(h.ctx, id, ir.TimelineQuery{})
			return err
		}, want: want{span: "ir.timeline", op: "timeline", incident: true}},
		{name: "snapshot", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Snapshot(h.ctx, id, 10)
			return err
		}, want: want{span: "ir.snapshot", op: "snapshot", incident: true}},
		{name: "all events", do: func(h *harness, id ir.ID) error {
			for _, err := range h.r.AllEvents(h.ctx, id) {
				if err != nil {
					return err
				}
			}
			return nil
		}, want: want{span: "ir.all_events", op: "all_events", incident: true}},
		{name: "allowed", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Allowed(h.ctx, testAlice, id)
			return err
		}, want: want{span: "ir.allowed", op: "allowed", incident: true}},
		{name: "collect evidence", locker: true, do: func(h *harness, id ir.ID) error {
			_, err := h.r.CollectEvidence(h.ctx, testAlice, id, evidence.Collection{Name: "mail.log", Content: strings.NewReader("log")})
			return err
		}, want: want{span: "ir.collect_evidence", op: "collect_evidence", incident: true}},
		{name: "link evidence", locker: true, setup: func(h *harness, id ir.ID) {
			_, err := h.r.CollectEvidence(h.ctx, testAlice, id, evidence.Collection{Name: "mail.log", Content: strings.NewReader("log")})
			require.NoError(h.t, err)
		}, do: func(h *harness, id ir.ID) error {
			_, err := h.r.LinkEvidence(h.ctx, testAlice, id, "ITEM-1")
			return err
		}, want: want{span: "ir.link_evidence", op: "link_evidence", incident: true, severity: true}},
		{name: "complete evidence", locker: true, setup: func(h *harness, id ir.ID) {
			_, err := h.r.CollectEvidence(h.ctx, testAlice, id, evidence.Collection{Name: "mail.log", Content: strings.NewReader("log")})
			require.NoError(h.t, err)
		}, do: func(h *harness, id ir.ID) error {
			staged, err := h.locker.Stage(h.ctx, evidence.Collection{Case: id.Case(), Name: "copy.log", Content: strings.NewReader("log"),
				Actor: evidence.Party{ID: testAlice.ID, Name: testAlice.Name}})
			require.NoError(h.t, err)
			_, err = h.r.CompleteEvidence(h.ctx, testAlice, id, staged)
			return err
		}, want: want{span: "ir.complete_evidence", op: "complete_evidence", incident: true}},
		{name: "actions", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Actions(h.ctx, testAlice, id)
			return err
		}, want: want{span: "ir.actions", op: "actions", incident: true}},
		{name: "run clocks once", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.RunClocksOnce(h.ctx)
			return err
		}, want: want{span: "ir.run_clocks", op: "run_clocks"}},
		{name: "mark", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Mark(h.ctx, testAlice, id, ir.NewMark{Marker: ir.MarkerPersonalDataBreach})
			return err
		}, want: want{span: "ir.mark", op: "mark", incident: true, severity: true}},
		{name: "check clocks", do: func(h *harness, id ir.ID) error {
			_, err := h.r.CheckClocks(h.ctx, ir.ClockActor, id)
			return err
		}, want: want{span: "ir.check_clocks", op: "check_clocks", incident: true, severity: true}},
		{name: "metrics", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Metrics(h.ctx, ir.Query{})
			return err
		}, want: want{span: "ir.metrics", op: "metrics"}},
		{name: "metrics with", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.MetricsWith(h.ctx, ir.Query{}, ir.MetricsOptions{Exercises: true})
			return err
		}, want: want{span: "ir.metrics", op: "metrics"}},
		{name: "add note", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddNote(h.ctx, testAlice, id, "note")
			return err
		}, want: want{span: "ir.add_note", op: "add_note", incident: true, severity: true}},
		{name: "post status", do: func(h *harness, id ir.ID) error {
			_, err := h.r.PostStatus(h.ctx, testAlice, id, notify.AudienceExecutives, "Contained")
			return err
		}, want: want{span: "ir.post_status", op: "post_status", incident: true, severity: true}},
		{name: "record notification failed", do: func(h *harness, id ir.ID) error {
			_, err := h.r.RecordNotificationFailed(h.ctx, testAlice, notify.Delivery{Incident: string(id), Channel: "slack", Key: "k", Type: "opened"})
			return err
		}, want: want{span: "ir.record_notification", op: "record_notification", incident: true, severity: true}},
		{name: "decide", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Decide(h.ctx, testAlice, id, ir.Decision{Summary: "Isolate"})
			return err
		}, want: want{span: "ir.decide", op: "decide", incident: true, severity: true}},
		{name: "add task", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Pull logs"})
			return err
		}, want: want{span: "ir.add_task", op: "add_task", incident: true, severity: true}},
		{name: "complete task", setup: func(h *harness, id ir.ID) {
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Pull logs"})
			require.NoError(h.t, err)
		}, do: func(h *harness, id ir.ID) error {
			_, err := h.r.CompleteTask(h.ctx, testAlice, id, 1, "done")
			return err
		}, want: want{span: "ir.complete_task", op: "complete_task", incident: true, severity: true}},
		{name: "record review", do: func(h *harness, id ir.ID) error {
			_, err := h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "Phished", RootCause: "No MFA"})
			return err
		}, want: want{span: "ir.record_review", op: "record_review", incident: true, severity: true}},
		{name: "add follow up", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddFollowUp(h.ctx, testAlice, id, ir.NewFollowUp{Title: "Turn on MFA"})
			return err
		}, want: want{span: "ir.add_follow_up", op: "add_follow_up", incident: true, severity: true}},
		{name: "complete follow up", setup: func(h *harness, id ir.ID) {
			_, err := h.r.AddFollowUp(h.ctx, testAlice, id, ir.NewFollowUp{Title: "Turn on MFA"})
			require.NoError(h.t, err)
		}, do: func(h *harness, id ir.ID) error {
			_, err := h.r.CompleteFollowUp(h.ctx, testAlice, id, 1, "done")
			return err
		}, want: want{span: "ir.complete_follow_up", op: "complete_follow_up", incident: true, severity: true}},
		{name: "assign", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Assign(h.ctx, testAlice, id, ir.RoleAnalyst, testBob)
			return err
		}, want: want{span: "ir.assign", op: "assign", incident: true, severity: true}},
		{name: "unassign", setup: func(h *harness, id ir.ID) { h.assign(id, ir.RoleAnalyst, testBob) },
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.Unassign(h.ctx, testAlice, id, ir.RoleAnalyst, testBob, "")
				return err
			}, want: want{span: "ir.unassign", op: "unassign", incident: true, severity: true}},
		{name: "add observable", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddObservable(h.ctx, testAlice, id, ir.Observable{Type: ir.ObservableIP, Value: "192.0.2.1"})
			return err
		}, want: want{span: "ir.add_observable", op: "add_observable", incident: true, severity: true}},
		{name: "add asset", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddAsset(h.ctx, testAlice, id, ir.Asset{Kind: ir.AssetHost, Name: "fs-01"})
			return err
		}, want: want{span: "ir.add_asset", op: "add_asset", incident: true, severity: true}},
		{name: "set severity", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetSeverity(h.ctx, testAlice, id, ir.SeverityHigh, "")
			return err
		}, want: want{span: "ir.set_severity", op: "set_severity", incident: true, severity: true}},
		{name: "set priority", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetPriority(h.ctx, testAlice, id, ir.PriorityP1, "")
			return err
		}, want: want{span: "ir.set_priority", op: "set_priority", incident: true, severity: true}},
		{name: "set impact", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetImpact(h.ctx, testAlice, id, ir.Impact{Functional: ir.FunctionalLow}, "")
			return err
		}, want: want{span: "ir.set_impact", op: "set_impact", incident: true, severity: true}},
		{name: "set verdict", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetVerdict(h.ctx, testAlice, id, ir.VerdictBenign, "")
			return err
		}, want: want{span: "ir.set_verdict", op: "set_verdict", incident: true, severity: true}},
		{name: "transition", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Transition(h.ctx, testAlice, id, phases.Identify, "")
			return err
		}, want: want{span: "ir.transition", op: "transition", incident: true, severity: true,
			extra: map[string]string{"incidentkit.action": "identify", "incidentkit.model": "sans-picerl",
				"incidentkit.phase.from": "preparation", "incidentkit.phase.to": "identification"}}},
		{name: "close", setup: func(h *harness, id ir.ID) { h.verdict(id, ir.VerdictFalsePositive) },
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.Close(h.ctx, testAlice, id, "")
				return err
			}, want: want{span: "ir.transition", op: "transition", incident: true, severity: true,
				extra: map[string]string{"incidentkit.action": "dismiss",
					"incidentkit.phase.from": "preparation", "incidentkit.phase.to": "closed"}}},
		{name: "reopen", setup: func(h *harness, id ir.ID) {
			h.verdict(id, ir.VerdictFalsePositive)
			h.transition(id, phases.Dismiss)
		}, do: func(h *harness, id ir.ID) error {
			_, err := h.r.Reopen(h.ctx, testAlice, id, "")
			return err
		}, want: want{span: "ir.transition", op: "transition", incident: true, severity: true,
			extra: map[string]string{"incidentkit.action": "reopen",
				"incidentkit.phase.from": "closed", "incidentkit.phase.to": "identification"}}},
	}
	// Every method of the Responder but Shutdown, Model and RunClocks has a row,
	// named for it.
	rows := make(map[string]bool)
	for _, tt := range tests {
		rows[strings.ReplaceAll(tt.name, " ", "")] = true
	}
	rt := reflect.TypeFor[*ir.Responder]()
	for i := range rt.NumMethod() {
		// RunClocks runs RunClocksOnce until its context ends.
		if name := rt.Method(i).Name; name != "Shutdown" && name != "Model" && name != "RunClocks" {
			assert.True(t, rows[strings.ToLower(name)], "Responder.%s has a row", name)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var configure []func(*ir.Config)
			if tt.locker {
				configure = append(configure, withLocker(t))
			}
			th := newTelemetryHarness(t, configure...)
			inc := th.open(ir.NewIncident{Title: "Phish", Severity: ir.SeverityHigh})
			if tt.setup != nil {
				tt.setup(th.harness, inc.ID)
			}
			th.spans.Reset()

			require.NoError(t, tt.do(th.harness, inc.ID))
			span := th.onlySpan(t, tt.want.span)
			attrs := spanAttrs(span)
			assert.Equal(t, tt.want.op, attrs["incidentkit.operation"])
			assert.Equal(t, "ok", attrs["incidentkit.outcome"])
			assert.Equal(t, codes.Unset, span.Status().Code)
			assert.Equal(t, scopeName, span.InstrumentationScope().Name)
			if tt.want.incident {
				assert.Equal(t, string(inc.ID), attrs["incidentkit.incident.id"])
			}
			if tt.want.severity {
				assert.Equal(t, "high", attrs["incidentkit.severity"])
			}
			for k, v := range tt.want.extra {
				assert.Equal(t, v, attrs[k], "attribute %s", k)
			}
		})
	}
}

// TestCollectEvidenceSpansItsSteps checks that collecting evidence makes one
// span, with its steps as children: the check before the content is read,
// and the change that records the item on the incident.
func TestCollectEvidenceSpansItsSteps(t *testing.T) {
	t.Parallel()
	th := newTelemetryHarness(t, withLocker(t))
	inc := th.open(ir.NewIncident{Title: "Phish", Severity: ir.SeverityHigh})
	th.spans.Reset()
	_, err := th.r.CollectEvidence(th.ctx, testAlice, inc.ID, evidence.Collection{Name: "mail.log", Content: strings.NewReader("log")})
	require.NoError(t, err)
	parent := th.onlySpan(t, "ir.collect_evidence")
	for _, name := range []string{"ir.collect_evidence.check", "ir.link_evidence"} {
		child := th.onlySpan(t, name)
		assert.Equal(t, parent.SpanContext().SpanID(), child.Parent().SpanID(), "%s is a step of ir.collect_evidence", name)
		assert.Equal(t, strings.TrimPrefix(name, "ir."), spanAttrs(child)["incidentkit.operation"])
	}
}

// outcomeCase is a failing Responder call and the span it must leave.
type outcomeCase struct {
	name      string
	configure func(*ir.Config)
	setup     func(h *harness, id ir.ID)
	do        func(h *harness, id ir.ID) error
	span      string
	outcome   string
}

func TestSpansRecordTheOutcome(t *testing.T) {
	t.Parallel()
	runOutcomeCases(t, []outcomeCase{
		{name: "invalid actor", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddNote(h.ctx, ir.Actor{}, id, "note")
			return err
		}, span: "ir.add_note", outcome: "invalid"},
		{name: "invalid open", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Open(h.ctx, testAlice, ir.NewIncident{Severity: ir.SeverityLow})
			return err
		}, span: "ir.open", outcome: "invalid"},
		{name: "invalid reason", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Transition(h.ctx, testAlice, id, phases.Identify, strings.Repeat("x", 5000))
			return err
		}, span: "ir.transition", outcome: "invalid"},
		{name: "not found", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Get(h.ctx, "INC-404404")
			return err
		}, span: "ir.get", outcome: "not_found"},
		{name: "all events not found", do: func(h *harness, _ ir.ID) error {
			for _, err := range h.r.AllEvents(h.ctx, "INC-404404") {
				if err != nil {
					return err
				}
			}
			return nil
		}, span: "ir.all_events", outcome: "not_found"},
		{name: "transition not found", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Transition(h.ctx, testAlice, "INC-404404", phases.Identify, "")
			return err
		}, span: "ir.transition", outcome: "not_found"},
		{name: "conflict", configure: func(c *ir.Config) {
			c.Store = &alwaysConflictStore{Store: c.Store}
		}, do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddNote(h.ctx, testAlice, id, "note")
			return err
		}, span: "ir.add_note", outcome: "conflict"},
		{name: "unauthorized", configure: withPolicy(ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
			if req.Operation == ir.OpSetSeverity {
				return errors.New("no")
			}
			return nil
		})), do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetSeverity(h.ctx, testAlice, id, ir.SeverityLow, "")
			return err
		}, span: "ir.set_severity", outcome: "unauthorized"},
		{name: "guard failed", setup: func(h *harness, id ir.ID) { h.transition(id, phases.Identify) },
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.Transition(h.ctx, testAlice, id, phases.Contain, "")
				return err
			}, span: "ir.transition", outcome: "guard_failed"},
		{name: "invalid transition", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Transition(h.ctx, testAlice, id, phases.Contain, "")
			return err
		}, span: "ir.transition", outcome: "invalid_transition"},
		{name: "unknown action", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Transition(h.ctx, testAlice, id, "teleport", "")
			return err
		}, span: "ir.transition", outcome: "invalid_transition"},
	})
}

// TestEveryRefusedCallHasASpan covers calls refused before the incident is
// read: bad input to a change, and Close from a phase no action closes.
// They are operations like any other and leave a span with their outcome.
func TestEveryRefusedCallHasASpan(t *testing.T) {
	t.Parallel()
	runOutcomeCases(t, []outcomeCase{
		{name: "invalid note text", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddNote(h.ctx, testAlice, id, "")
			return err
		}, span: "ir.add_note", outcome: "invalid"},
		{name: "invalid observable", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddObservable(h.ctx, testAlice, id, ir.Observable{Type: ir.ObservableIP, Value: "nope"})
			return err
		}, span: "ir.add_observable", outcome: "invalid"},
		{name: "invalid severity", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetSeverity(h.ctx, testAlice, id, "dire", "")
			return err
		}, span: "ir.set_severity", outcome: "invalid"},
		{name: "invalid decision", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Decide(h.ctx, testAlice, id, ir.Decision{})
			return err
		}, span: "ir.decide", outcome: "invalid"},
		{name: "invalid task", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "x", Phase: "nowhere"})
			return err
		}, span: "ir.add_task", outcome: "invalid"},
		{name: "oversized task outcome", do: func(h *harness, id ir.ID) error {
			_, err := h.r.CompleteTask(h.ctx, testAlice, id, 1, strings.Repeat("o", 1<<16+1))
			return err
		}, span: "ir.complete_task", outcome: "invalid"},
		{name: "unknown role", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Assign(h.ctx, testAlice, id, "janitor", testBob)
			return err
		}, span: "ir.assign", outcome: "invalid"},
		{name: "unassign an unknown role", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Unassign(h.ctx, testAlice, id, "janitor", testBob, "")
			return err
		}, span: "ir.unassign", outcome: "invalid"},
		{name: "invalid asset", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddAsset(h.ctx, testAlice, id, ir.Asset{Kind: "toaster", Name: "x"})
			return err
		}, span: "ir.add_asset", outcome: "invalid"},
		{name: "unknown priority", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetPriority(h.ctx, testAlice, id, "P9", "")
			return err
		}, span: "ir.set_priority", outcome: "invalid"},
		{name: "invalid impact", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetImpact(h.ctx, testAlice, id, ir.Impact{Functional: "total"}, "")
			return err
		}, span: "ir.set_impact", outcome: "invalid"},
		{name: "unknown verdict", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetVerdict(h.ctx, testAlice, id, "guilty", "")
			return err
		}, span: "ir.set_verdict", outcome: "invalid"},
		{name: "close with no closing action", setup: func(h *harness, id ir.ID) {
			h.transition(id, phases.Identify)
			h.assign(id, ir.RoleCommander, testAlice)
			h.transition(id, phases.Contain)
		}, do: func(h *harness, id ir.ID) error {
			_, err := h.r.Close(h.ctx, testAlice, id, "")
			return err
		}, span: "ir.transition", outcome: "invalid_transition"},
	})
}

func runOutcomeCases(t *testing.T, tests []outcomeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var configure []func(*ir.Config)
			if tt.configure != nil {
				configure = append(configure, tt.configure)
			}
			th := newTelemetryHarness(t, configure...)
			inc := th.open(phishing())
			if tt.setup != nil {
				tt.setup(th.harness, inc.ID)
			}
			if cs, ok := th.used.(*alwaysConflictStore); ok {
				cs.conflicting.Store(true)
			}
			th.spans.Reset()

			require.Error(t, tt.do(th.harness, inc.ID))
			span := th.onlySpan(t, tt.span)
			attrs := spanAttrs(span)
			assert.Equal(t, tt.outcome, attrs["incidentkit.outcome"])
			assert.Equal(t, strings.TrimPrefix(tt.span, "ir."), attrs["incidentkit.operation"])
			// Refusals and bad input are the caller's doing, not failures
			// of the service: the outcome attribute carries them and the
			// span status stays unset.
			assert.Equal(t, codes.Unset, span.Status().Code, "a refused operation's span is not an error")
		})
	}
}

func TestTransitionsCounter(t *testing.T) {
	t.Parallel()
	th := newTelemetryHarness(t)
	inc := th.open(phishing())
	th.transition(inc.ID, phases.Identify)
	_, err := th.r.Transition(th.ctx, testAlice, inc.ID, phases.Contain, "")
	require.ErrorIs(t, err, phases.ErrGuardFailed)
	_, err = th.r.Transition(th.ctx, testAlice, inc.ID, phases.Eradicate, "")
	require.ErrorIs(t, err, phases.ErrInvalidTransition)
	_, err = th.r.Transition(th.ctx, testAlice, inc.ID, phases.Eradicate, "")
	require.ErrorIs(t, err, phases.ErrInvalidTransition)
	th.assign(inc.ID, ir.RoleCommander, testAlice)
	th.transition(inc.ID, phases.Contain)

	m, ok := findMetric(t, th.collect(t), "incidentkit.transitions")
	require.True(t, ok)
	model := kModel.String("sans-picerl")
	assert.Equal(t, map[string]int64{
		attrKey(model, kAction.String("identify"), kOutcome.String("ok")):                  1,
		attrKey(model, kAction.String("contain"), kOutcome.String("guard_failed")):         1,
		attrKey(model, kAction.String("eradicate"), kOutcome.String("invalid_transition")): 2,
		attrKey(model, kAction.String("contain"), kOutcome.String("ok")):                   1,
	}, int64Points(t, m))
}

func TestOpenedCounter(t *testing.T) {
	t.Parallel()
	th := newTelemetryHarness(t)
	th.open(phishing())
	th.open(phishing())
	th.open(ir.NewIncident{Title: "Lost laptop", Severity: ir.SeverityLow})
	th.open(ir.NewIncident{Title: "Worm", Severity: ir.SeverityCritical, Category: ir.CategoryMalware})
	_, err := th.r.Open(th.ctx, testAlice, ir.NewIncident{Title: "", Severity: ir.SeverityLow})
	require.ErrorIs(t, err, ir.ErrInvalid)

	m, ok := findMetric(t, th.collect(t), "incidentkit.incidents.opened")
	require.True(t, ok)
	assert.Equal(t, map[string]int64{
		attrKey(kSeverity.String("high"), kCategory.String("phishing")):    2,
		attrKey(kSeverity.String("low"), kCategory.String("other")):        1,
		attrKey(kSeverity.String("critical"), kCategory.String("malware")): 1,
	}, int64Points(t, m), "refused openings are not counted")
}

func TestOpenIncidentsGaugeReflectsTheStore(t *testing.T) {
	t.Parallel()
	th := newTelemetryHarness(t)
	a := th.open(phishing())
	th.open(phishing())
	c := th.open(ir.NewIncident{Title: "Lost laptop", Severity: ir.SeverityLow})

	gauge := func() map[string]int64 {
		t.Helper()
		m, ok := findMetric(t, th.collect(t), "incidentkit.incidents.open")
		require.True(t, ok)
		_, isGauge := m.Data.(metricdata.Gauge[int64])
		require.True(t, isGauge, "incidentkit.incidents.open is a gauge, not %T", m.Data)
		return int64Points(t, m)
	}
	point := func(sev ir.Severity, p phases.Phase) string {
		return attrKey(kSeverity.String(string(sev)), kPhase.String(string(p)))
	}

	assert.Equal(t, map[string]int64{
		point(ir.SeverityHigh, phases.Preparation): 2,
		point(ir.SeverityLow, phases.Preparation):  1,
	}, gauge())

	th.transition(a.ID, phases.Identify)
	th.verdict(c.ID, ir.VerdictFalsePositive)
	_, err := th.r.Close(th.ctx, testAlice, c.ID, "")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{
		point(ir.SeverityHigh, phases.Preparation):    1,
		point(ir.SeverityHigh, phases.Identification): 1,
	}, gauge(), "closed incidents are not open")

	_, err = th.r.Reopen(th.ctx, testAlice, c.ID, "")
	require.NoError(t, err)
	_, err = th.r.SetSeverity(th.ctx, testAlice, a.ID, ir.SeverityCritical, "")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{
		point(ir.SeverityHigh, phases.Preparation):        1,
		point(ir.SeverityCritical, phases.Identification): 1,
		point(ir.SeverityLow, phases.Identification):      1,
	}, gauge())
}

func TestPhaseDurationHistogram(t *testing.T) {
	t.Parallel()
	th := newTelemetryHarness(t)
	inc := th.open(phishing())
	th.clock.Advance(90 * time.Second)
	th.transition(inc.ID, phases.Identify)
	th.clock.Advance(45 * time.Minute)
	th.assign(inc.ID, ir.RoleCommander, testAlice)
	th.clock.Advance(15 * time.Minute)
	th.transition(inc.ID, phases.Contain)
	th.clock.Advance(10 * time.Minute)
	th.transition(inc.ID, phases.Eradicate)
	th.clock.Advance(5 * time.Minute)
	th.transition(inc.ID, phases.ReturnToContainment)
	th.clock.Advance(20 * time.Minute)
	// A refused transition records no stay.
	_, err := th.r.Transition(th.ctx, testAlice, inc.ID, phases.Recover, "")
	require.ErrorIs(t, err, phases.ErrInvalidTransition)
	th.transition(inc.ID, phases.Eradicate)

	m, ok := findMetric(t, th.collect(t), "incidentkit.phase.duration")
	require.True(t, ok)
	assert.Equal(t, "s", m.Unit)
	hist, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "incidentkit.phase.duration is a float64 histogram, not %T", m.Data)
	type summary struct {
		Count uint64
		Sum   float64
	}
	got := make(map[string]summary)
	for _, p := range hist.DataPoints {
		got[p.Attributes.Encoded(attribute.DefaultEncoder())] = summary{p.Count, p.Sum}
	}
	model := kModel.String("sans-picerl")
	assert.Equal(t, map[string]summary{
		attrKey(model, kPhase.String("preparation")):    {1, 90},
		attrKey(model, kPhase.String("identification")): {1, 3600},
		attrKey(model, kPhase.String("containment")):    {2, 600 + 1200},
		attrKey(model, kPhase.String("eradication")):    {1, 300},
	}, got)
}

func TestMetricsNeverNameIncidents(t *testing.T) {
	t.Parallel()
	th := newTelemetryHarness(t)
	var ids []ir.ID
	for i := range 3 {
		inc := th.open(ir.NewIncident{Title: "Incident", Severity: ir.Severities()[i], Category: ir.CategoryMalware,
			Labels: []string{"label"}})
		ids = append(ids, inc.ID)
		th.clock.Advance(time.Minute)
		th.transition(inc.ID, phases.Identify)
		_, err := th.r.Transition(th.ctx, testAlice, inc.ID, phases.Contain, "")
		require.ErrorIs(t, err, phases.ErrGuardFailed)
		th.assign(inc.ID, ir.RoleCommander, testAlice)
		th.transition(inc.ID, phases.Contain)
		_, err = th.r.AddNote(th.ctx, testAlice, inc.ID, "note")
		require.NoError(t, err)
	}
	th.verdict(ids[0], ir.VerdictFalsePositive)
	_, err := th.r.Metrics(th.ctx, ir.Query{})
	require.NoError(t, err)

	rm := th.collect(t)
	points := 0
	check := func(metric string, set attribute.Set, exemplarAttrs ...[]attribute.KeyValue) {
		points++
		kvs := set.ToSlice()
		for _, ea := range exemplarAttrs {
			kvs = append(kvs, ea...)
		}
		for _, kv := range kvs {
			assert.NotEqual(t, "incidentkit.incident.id", string(kv.Key), "%s carries an incident ID attribute", metric)
			for _, id := range ids {
				assert.NotEqual(t, string(id), kv.Value.String(), "%s: attribute %s holds an incident ID", metric, kv.Key)
				assert.NotContains(t, kv.Value.String(), string(id), "%s: attribute %s holds an incident ID", metric, kv.Key)
			}
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					check(m.Name, p.Attributes, exemplarAttributes(p.Exemplars)...)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					check(m.Name, p.Attributes, exemplarAttributes(p.Exemplars)...)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					check(m.Name, p.Attributes, exemplarAttributes(p.Exemplars)...)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					check(m.Name, p.Attributes, exemplarAttributes(p.Exemplars)...)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					check(m.Name, p.Attributes, exemplarAttributes(p.Exemplars)...)
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					check(m.Name, p.Attributes, exemplarAttributes(p.Exemplars)...)
				}
			default:
				t.Errorf("%s has data of unexpected type %T", m.Name, m.Data)
			}
		}
	}
	assert.GreaterOrEqual(t, points, 10, "the check saw the data points of every metric")

	// The IDs are on the spans, where they belong.
	found := false
	for _, s := range th.spans.Ended() {
		if spanAttrs(s)["incidentkit.incident.id"] == string(ids[0]) {
			found = true
		}
	}
	assert.True(t, found, "spans carry the incident ID")
}

func exemplarAttributes[N int64 | float64](exemplars []metricdata.Exemplar[N]) [][]attribute.KeyValue {
	var out [][]attribute.KeyValue
	for _, e := range exemplars {
		out = append(out, e.FilteredAttributes)
	}
	return out
}

func TestShutdownUnregistersTheGauge(t *testing.T) {
	t.Parallel()
	th := newTelemetryHarness(t)
	th.open(phishing())

	m, ok := findMetric(t, th.collect(t), "incidentkit.incidents.open")
	require.True(t, ok)
	require.NotEmpty(t, int64Points(t, m), "the gauge reports before shutdown")

	require.NoError(t, th.r.Shutdown(context.Background()))
	counts, err := th.store.CountOpen(th.ctx)
	require.NoError(t, err)
	require.NotEmpty(t, counts, "the store still has an open incident to count")
	m, ok = findMetric(t, th.collect(t), "incidentkit.incidents.open")
	if ok {
		assert.Empty(t, int64Points(t, m), "after Shutdown the gauge reports nothing")
	}
}

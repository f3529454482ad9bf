package ir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/incidentkit/incidentkit/phases"
)

// instrumentationScope names this package's tracer and meter.
const instrumentationScope = "github.com/incidentkit/incidentkit/ir"

// Attribute keys on spans and metrics. Incident IDs appear on spans only,
// never on metrics, so metric cardinality stays bounded.
const (
	attrIncidentID = attribute.Key("incidentkit.incident.id")
	attrOperation  = attribute.Key("incidentkit.operation")
	attrSeverity   = attribute.Key("incidentkit.severity")
	attrCategory   = attribute.Key("incidentkit.category")
	attrModel      = attribute.Key("incidentkit.model")
	attrPhase      = attribute.Key("incidentkit.phase")
	attrPhaseFrom  = attribute.Key("incidentkit.phase.from")
	attrPhaseTo    = attribute.Key("incidentkit.phase.to")
	attrAction     = attribute.Key("incidentkit.action")
	attrOutcome    = attribute.Key("incidentkit.outcome")
)

// Outcomes recorded on spans and on the transitions counter.
const (
	outcomeOK           = "ok"
	outcomeInvalid      = "invalid"
	outcomeNotFound     = "not_found"
	outcomeConflict     = "conflict"
	outcomeUnauthorized = "unauthorized"
	outcomeGuardFailed  = "guard_failed"
	outcomeBadAction    = "invalid_transition"
	outcomeCanceled     = "canceled"
	outcomeError        = "error"
)

type telemetry struct {
	attrs         attrCache
	tracer        trace.Tracer
	logger        *slog.Logger
	opened        metric.Int64Counter
	transitions   metric.Int64Counter
	phaseDuration metric.Float64Histogram
	openGauge     metric.Int64ObservableGauge
	registration  metric.Registration
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider, logger *slog.Logger, store Store) (*telemetry, error) {
	meter := mp.Meter(instrumentationScope)
	t := &telemetry{tracer: tp.Tracer(instrumentationScope), logger: logger}
	var errs []error
	var err error
	t.opened, err = meter.Int64Counter("incidentkit.incidents.opened",
		metric.WithDescription("Incidents opened."), metric.WithUnit("{incident}"))
	errs = append(errs, err)
	t.transitions, err = meter.Int64Counter("incidentkit.transitions",
		metric.WithDescription("Phase transitions attempted, by outcome."), metric.WithUnit("{transition}"))
	errs = append(errs, err)
	t.phaseDuration, err = meter.Float64Histogram("incidentkit.phase.duration",
		metric.WithDescription("Time incidents spent in a phase before leaving it."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(60, 300, 900, 1800, 3600, 4*3600, 8*3600, 24*3600, 3*24*3600, 7*24*3600, 30*24*3600))
	errs = append(errs, err)
	// The gauge reports the whole store, so one Responder per store should
	// run it: two Responders on different stores sharing one meter
	// provider report the same series, and the last one observed wins.
	t.openGauge, err = meter.Int64ObservableGauge("incidentkit.incidents.open",
		metric.WithDescription("Open incidents in the store, by severity and phase."), metric.WithUnit("{incident}"))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("ir: create metric instruments: %w", err)
	}
	t.registration, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		counts, err := store.CountOpen(ctx)
		if err != nil {
			logger.WarnContext(ctx, "ir: count open incidents for metrics", "error", err)
			return err
		}
		for _, c := range counts {
			o.ObserveInt64(t.openGauge, c.Count, metric.WithAttributes(
				attrSeverity.String(string(c.Severity)), attrPhase.String(string(c.Phase))))
		}
		return nil
	}, t.openGauge)
	if err != nil {
		return nil, fmt.Errorf("ir: register metric callback: %w", err)
	}
	return t, nil
}

// outcome classifies err for spans and metrics.
func outcome(err error) string {
	switch {
	case err == nil:
		return outcomeOK
	// A transition's own outcomes come first: an unknown action is bad
	// input too, and is counted as a transition that could not be taken.
	case errors.Is(err, phases.ErrGuardFailed):
		return outcomeGuardFailed
	case errors.Is(err, phases.ErrInvalidTransition):
		return outcomeBadAction
	case errors.Is(err, ErrInvalid):
		return outcomeInvalid
	case errors.Is(err, ErrNotFound):
		return outcomeNotFound
	case errors.Is(err, ErrConflict):
		return outcomeConflict
	case errors.Is(err, ErrUnauthorized):
		return outcomeUnauthorized
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return outcomeCanceled
	default:
		return outcomeError
	}
}

// start opens the span of one Responder operation.
func (t *telemetry) start(ctx context.Context, op Operation, id ID, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, spanName(op))
	if span.IsRecording() {
		attrs = append(attrs, attrOperation.String(string(op)))
		if id != "" {
			attrs = append(attrs, attrIncidentID.String(string(id)))
		}
		span.SetAttributes(attrs...)
	}
	return ctx, span
}

// spanNames holds the span name of each operation, so that naming a span
// allocates nothing.
var spanNames sync.Map

func spanName(op Operation) string {
	if n, ok := spanNames.Load(op); ok {
		return n.(string)
	}
	n := "ir." + string(op)
	spanNames.Store(op, n)
	return n
}

// attrCache holds metric attribute options by their values: the sets are
// few (actions × outcomes, phases) and building one allocates.
type attrCache struct{ m sync.Map }

func (c *attrCache) get(key [3]string, make func() metric.MeasurementOption) metric.MeasurementOption {
	if o, ok := c.m.Load(key); ok {
		return o.(metric.MeasurementOption)
	}
	o := make()
	c.m.Store(key, o)
	return o
}

// end closes span with the operation's outcome and logs failures that are
// not the caller's doing.
func (t *telemetry) end(ctx context.Context, span trace.Span, err error) {
	o := outcome(err)
	if span.IsRecording() {
		span.SetAttributes(attrOutcome.String(o))
	}
	// Only failures that are not the caller's doing mark the span as an
	// error: a refused guard or bad input is the library working, and the
	// outcome attribute says which it was.
	if o == outcomeError {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		t.logger.ErrorContext(ctx, "ir: operation failed", "error", err)
	}
	span.End()
}

// transitionAttrs returns the attributes of a transition's measurements.
func (t *telemetry) transitionAttrs(model string, action phases.Action, outcome string) metric.MeasurementOption {
	return t.attrs.get([3]string{model, string(action), outcome}, func() metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(attrModel.String(model),
			attrAction.String(string(action)), attrOutcome.String(outcome)))
	})
}

// phaseAttrs returns the attributes of a phase-duration measurement.
func (t *telemetry) phaseAttrs(model string, phase phases.Phase) metric.MeasurementOption {
	return t.attrs.get([3]string{model, string(phase), "\x00phase"}, func() metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(attrModel.String(model), attrPhase.String(string(phase))))
	})
}

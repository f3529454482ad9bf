package notify

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationScope names this package's tracer and meter.
const instrumentationScope = "github.com/incidentkit/incidentkit/notify"

// Attribute keys on the dispatcher's spans and metrics. Incident IDs and
// message keys appear on spans only, so metric cardinality stays bounded.
const (
	attrChannel  = attribute.Key("incidentkit.notify.channel")
	attrOutcome  = attribute.Key("incidentkit.outcome")
	attrIncident = attribute.Key("incidentkit.incident.id")
	attrEvent    = attribute.Key("incidentkit.event.type")
	attrKey      = attribute.Key("incidentkit.notify.key")
	attrAttempt  = attribute.Key("incidentkit.notify.attempt")
)

// Outcomes of a delivery attempt, on spans and metrics.
const (
	outcomeDelivered = "delivered"
	outcomeRetry     = "retry"
	outcomeDead      = "dead"
	outcomeDeferred  = "deferred" // held back by a rate limit or an open breaker
	outcomeHeld      = "held"     // held back by TLP
	outcomeStopped   = "stopped"  // cut short by the dispatcher stopping
)

type dispatcherTelemetry struct {
	tracer     trace.Tracer
	deliveries metric.Int64Counter
	latency    metric.Float64Histogram
	breakers   metric.Int64ObservableGauge
	pending    metric.Int64ObservableGauge
	dead       metric.Int64ObservableGauge
	age        metric.Float64ObservableGauge // nil when the outbox is no OutboxAger
	reg        metric.Registration
	// outcomes caches the attributes of each channel and outcome, so
	// that an attempt does not build them again.
	outcomes sync.Map // outcomeKey → metric.MeasurementOption
}

// outcomeKey names the attributes of one channel and outcome.
type outcomeKey struct{ channel, outcome string }

// attrs returns the metric attributes of channel and outcome.
func (t *dispatcherTelemetry) attrs(channel, outcome string) metric.MeasurementOption {
	k := outcomeKey{channel, outcome}
	if o, ok := t.outcomes.Load(k); ok {
		return o.(metric.MeasurementOption)
	}
	o, _ := t.outcomes.LoadOrStore(k, metric.WithAttributes(attrChannel.String(channel), attrOutcome.String(outcome)))
	return o.(metric.MeasurementOption)
}

func newDispatcherTelemetry(d *Dispatcher, tp trace.TracerProvider, mp metric.MeterProvider) (*dispatcherTelemetry, error) {
	meter := mp.Meter(instrumentationScope)
	t := &dispatcherTelemetry{tracer: tp.Tracer(instrumentationScope)}
	var errs []error
	var err error
	t.deliveries, err = meter.Int64Counter("incidentkit.notify.deliveries",
		metric.WithDescription("Delivery attempts and fan-outs, by channel and outcome (delivered, retry, dead, deferred, held, stopped)."),
		metric.WithUnit("{delivery}"))
	errs = append(errs, err)
	t.latency, err = meter.Float64Histogram("incidentkit.notify.attempt.duration",
		metric.WithDescription("Time one delivery attempt took, by channel and outcome."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	errs = append(errs, err)
	t.breakers, err = meter.Int64ObservableGauge("incidentkit.notify.breaker.state",
		metric.WithDescription("State of each channel's circuit breaker: 0 closed, 1 half-open, 2 open."))
	errs = append(errs, err)
	// The store's counts are the whole store's: one dispatcher per store
	// should report them, or they are reported once per dispatcher.
	t.pending, err = meter.Int64ObservableGauge("incidentkit.notify.deliveries.pending",
		metric.WithDescription("Deliveries waiting to be made, by channel: the number to alert on."), metric.WithUnit("{delivery}"))
	errs = append(errs, err)
	t.dead, err = meter.Int64ObservableGauge("incidentkit.notify.deliveries.dead",
		metric.WithDescription("Deliveries given up on and waiting for a replay, by channel."), metric.WithUnit("{delivery}"))
	errs = append(errs, err)
	instruments := []metric.Observable{t.breakers, t.pending, t.dead}
	ager, _ := d.cfg.Outbox.(OutboxAger)
	if ager != nil {
		t.age, err = meter.Float64ObservableGauge("incidentkit.notify.outbox.age",
			metric.WithDescription("How long ago the oldest message in the outbox was written, 0 when it is empty: how far behind delivery is."),
			metric.WithUnit("s"))
		errs = append(errs, err)
		instruments = append(instruments, t.age)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.reg, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		if ager != nil {
			oldest, ok, err := ager.OldestOutbox(ctx)
			if err != nil {
				return err
			}
			var age float64
			if ok {
				age = max(d.cfg.Clock.Now().Sub(oldest).Seconds(), 0)
			}
			o.ObserveFloat64(t.age, age)
		}
		for name, c := range d.channels {
			if c.breaker != nil {
				o.ObserveInt64(t.breakers, int64(c.breaker.State()), metric.WithAttributes(attrChannel.String(name)))
			}
		}
		counts, err := d.cfg.Deliveries.CountDeliveries(ctx)
		if err != nil {
			return err
		}
		for _, c := range counts {
			g := t.pending
			if c.Status == StatusDead {
				g = t.dead
			}
			o.ObserveInt64(g, c.N, metric.WithAttributes(attrChannel.String(c.Channel)))
		}
		return nil
	}, instruments...)
	return t, err
}

// start starts the span of one attempt at dl, linked to the span of the
// change that wrote its message.
func (t *dispatcherTelemetry) start(ctx context.Context, dl Delivery, m Message) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
		attrChannel.String(dl.Channel), attrIncident.String(dl.Incident), attrEvent.String(dl.Type),
		attrKey.String(dl.Key), attrAttempt.Int(dl.Attempts))}
	if len(m.Trace) > 0 {
		linked := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier(m.Trace)))
		if linked.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: linked}))
		}
	}
	return t.tracer.Start(ctx, "notify.deliver", opts...)
}

// end records the outcome of an attempt that started at began.
func (t *dispatcherTelemetry) end(ctx context.Context, span trace.Span, channel, outcome string, began time.Time, err error) {
	attrs := t.attrs(channel, outcome)
	t.deliveries.Add(ctx, 1, attrs)
	if outcome != outcomeDeferred {
		t.latency.Record(ctx, time.Since(began).Seconds(), attrs)
	}
	span.SetAttributes(attrOutcome.String(outcome))
	if err != nil && outcome != outcomeDelivered {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"
)

// Clock tells the time. The dispatcher reads due times and ages from it;
// tests give it a fake one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// DispatcherConfig configures a [Dispatcher]. Outbox, Deliveries, Router
// and Channels are required; every other field has a default.
type DispatcherConfig struct {
	// Outbox and Deliveries are the store's: the incident stores
	// implement both. Deliveries takes the outbox's messages; the
	// Outbox is waited on when it is a [Waiter].
	Outbox     Outbox
	Deliveries Deliveries
	// Router picks the channels of each message.
	Router *Router
	// Channels are the notifiers by channel name: one for every channel
	// the Router knows.
	Channels map[string]Notifier

	// Owner names this dispatcher in the claims it takes; it must be
	// unique among the dispatchers sharing a store. Default: the host
	// name, the process ID and a random suffix.
	Owner string
	// Clock is read for due times and ages; default the system clock.
	Clock Clock
	// Logger receives what the dispatcher does; default slog.Default().
	// It never logs a message's content, only its key and where it goes.
	Logger *slog.Logger

	// Batch is how many outbox messages one pass takes, and how many
	// deliveries it claims; default 100, at most [MaxClaim].
	Batch int
	// Workers is how many deliveries are made at once; default 8.
	Workers int
	// Lease is how long a claim holds; default 2 minutes. It must be
	// longer than AttemptTimeout, so that an attempt ends before its
	// claim lapses: a pass begins no attempt later than Lease minus
	// AttemptTimeout after its claim, and gives the deliveries it has not
	// begun back, due at once and with their attempts unspent, so that a
	// slow channel never has a delivery made twice at once.
	Lease time.Duration
	// AttemptTimeout bounds one delivery attempt; default 30 seconds.
	AttemptTimeout time.Duration
	// PollInterval is how long [Dispatcher.Run] waits when there was
	// nothing to do; default 1 second.
	PollInterval time.Duration
	// Linger is how long [Dispatcher.Run] waits after a pass that
	// handled less than a full batch before it makes the next one, so
	// that the next pass gathers what came in meanwhile into its few
	// transactions instead of writing again at once for a handful of
	// messages: a dispatcher whose channel hangs or whose breaker is
	// open does not spin on the deliveries it can only give back.
	// Default 100ms, or PollInterval if that is shorter; negative means
	// no wait.
	Linger time.Duration
	// Quiet is how long an outbox that is a [Quieter] (the SQLite store,
	// whose one writer the incident changes share) must have gone
	// without a write before [Dispatcher.Run] begins a pass, so that the
	// dispatcher's transactions fall in the gaps between the changes of
	// the response rather than hold them up. Run waits at most
	// PollInterval for it, then makes the pass anyway, so that a store
	// that is never quiet still has its messages delivered. Default
	// 50ms; negative means Run does not wait.
	Quiet time.Duration

	// MinBackoff and MaxBackoff bound the wait before a retry: the n-th
	// retry waits a random time between 0 and MinBackoff·2ⁿ⁻¹, capped at
	// MaxBackoff (exponential backoff with full jitter), and never less
	// than the peer asked for with Retry-After. Defaults: 1 second and 1
	// hour.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is
	// dead; default 12.
	MaxAttempts int
	// MaxAge is how long after its change a delivery may still be made;
	// a delivery that fails past it is dead. Default 24 hours.
	MaxAge time.Duration

	// TracerProvider and MeterProvider receive a span per delivery
	// attempt, linked to the span of the change that wrote the message,
	// and the metrics incidentkit.notify.deliveries (by channel and
	// outcome), incidentkit.notify.attempt.duration,
	// incidentkit.notify.breaker.state, incidentkit.notify.deliveries.pending
	// and .dead (by channel), and, when the Outbox is an [OutboxAger],
	// incidentkit.notify.outbox.age. Nil means the global providers (see
	// go.opentelemetry.io/otel).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider

	// Limits are the rate limits and circuit breakers of the channels,
	// by name; a channel without an entry has no rate limit and the
	// default breaker.
	Limits map[string]ChannelLimits

	// Jitter returns a random duration in [0, n]; default a uniform
	// pseudo-random one. Tests set it to make backoff predictable.
	Jitter func(n time.Duration) time.Duration
	// OnDead, if set, is called once for each delivery the dispatcher
	// gives up on, after it is recorded dead, with the error of its last
	// attempt: the place to record the failure on the incident's
	// timeline (the incident package's Responder.RecordNotificationFailed).
	// It is not called for the deliveries of [EventNotificationFailed]
	// messages, so that failures do not feed on themselves. An error it
	// returns is logged.
	OnDead func(ctx context.Context, d Delivery, err error) error
}

// ChannelLimits spare one channel: a rate limit (golang.org/x/time/rate)
// and a circuit breaker (github.com/sony/gobreaker/v2). A delivery the
// rate limit or an open breaker holds back is not tried: it waits, and
// does not use up an attempt.
type ChannelLimits struct {
	// Rate is the most deliveries a second to the channel; 0 means no
	// limit.
	Rate float64
	// Burst is how many deliveries may go at once within the rate;
	// default 1.
	Burst int
	// BreakAfter is how many failed attempts in a row open the channel's
	// breaker; default 5, and negative means the channel has none. An
	// attempt that fails for its message alone ([ErrPermanent] other than
	// [ErrUnauthorized] and [ErrGone]) does not count.
	BreakAfter int
	// BreakFor is how long an open breaker holds deliveries back before
	// it lets one through to try the channel again; default 30 seconds.
	BreakFor time.Duration
}

// channel is a channel as the dispatcher drives it.
type channel struct {
	notifier Notifier
	limiter  *rate.Limiter                      // nil without a rate limit
	breaker  *gobreaker.CircuitBreaker[Receipt] // nil without a breaker
	breakFor time.Duration
}

// Dispatcher delivers what an incident store's outbox holds. Each pass
// claims the deliveries that are due and takes the outbox's messages,
// routing each to one delivery per channel, in one store transaction
// ([Deliveries.FanOutAndClaim]): a message all of whose deliveries are
// due is claimed with them, and any other is fanned out (recording what
// TLP held back) and removed from the outbox. Then the pass makes the
// deliveries, each with its own state, records how they went in one more
// transaction ([Deliveries.Settle]), which also removes the messages
// claimed with their deliveries, and retries the ones that fail with
// exponential backoff and full jitter. A delivery whose error is permanent, or that runs out of
// attempts or time, is dead: listed by [Deliveries.DeadDeliveries] and
// replayed with [Dispatcher.Replay] or [Dispatcher.ReplayChannel].
//
// Delivery is at least once: a dispatcher that stops in the middle of an
// attempt leaves its claims to lapse, and the delivery is made again by
// whichever dispatcher claims it next, with the same [Message.Key]. An
// incident's messages reach each channel in the order of its events.
// Several dispatchers, in one process or many, share one store through its
// claims.
type Dispatcher struct {
	cfg      DispatcherConfig
	log      *slog.Logger
	channels map[string]*channel
	tel      *dispatcherTelemetry
}

// NewDispatcher checks cfg and returns its dispatcher. It refuses, with an
// error matching [ErrInvalid] that lists every problem, a missing outbox,
// deliveries store or router, a channel the router knows that has no
// notifier, and limits out of range.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	var problems []error
	add := func(field, reason string) { problems = append(problems, invalid(field, "", reason)) }
	if cfg.Outbox == nil {
		add("dispatcher outbox", "is missing")
	}
	if cfg.Deliveries == nil {
		add("dispatcher deliveries", "are missing")
	}
	if cfg.Router == nil {
		add("dispatcher router", "is missing")
	} else {
		names := make([]string, 0, len(cfg.Router.maxTLP))
		for name := range cfg.Router.maxTLP {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if cfg.Channels[name] == nil {
				problems = append(problems, invalid("dispatcher channel", name, "has no notifier in Channels"))
			}
		}
	}
	defaults := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	defaults(&cfg.Lease, 2*time.Minute)
	defaults(&cfg.AttemptTimeout, 30*time.Second)
	defaults(&cfg.PollInterval, time.Second)
	defaults(&cfg.Linger, min(100*time.Millisecond, max(cfg.PollInterval, 0)))
	defaults(&cfg.Quiet, 50*time.Millisecond)
	defaults(&cfg.MinBackoff, time.Second)
	defaults(&cfg.MaxBackoff, time.Hour)
	defaults(&cfg.MaxAge, 24*time.Hour)
	if cfg.Batch == 0 {
		cfg.Batch = 100
	}
	if cfg.Workers == 0 {
		cfg.Workers = 8
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 12
	}
	switch {
	case cfg.Batch < 1 || cfg.Batch > MaxClaim:
		add("dispatcher batch", "must be between 1 and 1000")
	case cfg.Workers < 1:
		add("dispatcher workers", "must be at least 1")
	case cfg.MaxAttempts < 1:
		add("dispatcher max attempts", "must be at least 1")
	}
	switch {
	case cfg.Lease < MinOutboxLease:
		add("dispatcher lease", "must be at least 10ms")
	case cfg.AttemptTimeout <= 0 || cfg.AttemptTimeout >= cfg.Lease:
		add("dispatcher attempt timeout", "must be positive and shorter than the lease")
	case cfg.PollInterval < 0 || cfg.MinBackoff < 0 || cfg.MaxBackoff < cfg.MinBackoff || cfg.MaxAge < 0:
		add("dispatcher durations", "must not be negative, and MaxBackoff must be at least MinBackoff")
	}
	for name, l := range cfg.Limits {
		if l.Rate < 0 || l.Burst < 0 || l.BreakFor < 0 {
			problems = append(problems, invalid("dispatcher limits of channel", name, "must not be negative"))
		}
	}
	if cfg.Owner == "" {
		cfg.Owner = defaultOwner()
	}
	if err := checkText("dispatcher owner", cfg.Owner, MaxOutboxOwner); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, &InputError{Problems: problems}
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(n time.Duration) time.Duration {
			if n <= 0 {
				return 0
			}
			return mrand.N(n + 1)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &Dispatcher{cfg: cfg, log: log.With(slog.String("dispatcher", cfg.Owner)), channels: make(map[string]*channel)}
	for name, n := range cfg.Channels {
		d.channels[name] = d.newChannel(name, n, cfg.Limits[name])
	}
	tp, mp := cfg.TracerProvider, cfg.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	tel, err := newDispatcherTelemetry(d, tp, mp)
	if err != nil {
		return nil, fmt.Errorf("notify: dispatcher telemetry: %w", err)
	}
	d.tel = tel
	return d, nil
}

// Check checks the configuration of every channel whose notifier is a
// [Checker], so that a service refuses to start with a channel that
// cannot work rather than finding out at the first incident. It returns
// every failure at once, each naming its channel.
func (d *Dispatcher) Check(ctx context.Context) error {
	names := make([]string, 0, len(d.channels))
	for name := range d.channels {
		names = append(names, name)
	}
	slices.Sort(names)
	var errs []error
	for _, name := range names {
		if c, ok := d.channels[name].notifier.(Checker); ok {
			if err := c.Check(ctx); err != nil {
				errs = append(errs, fmt.Errorf("notify: channel %s: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Close stops reporting the dispatcher's metrics. Stop Run first.
func (d *Dispatcher) Close() error {
	if d.tel.reg == nil {
		return nil
	}
	return d.tel.reg.Unregister()
}

// newChannel sets up the rate limit and breaker of a channel.
func (d *Dispatcher) newChannel(name string, n Notifier, l ChannelLimits) *channel {
	c := &channel{notifier: n, breakFor: l.BreakFor}
	if l.Rate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(l.Rate), max(l.Burst, 1))
	}
	if l.BreakAfter < 0 {
		return c
	}
	trip := uint32(l.BreakAfter)
	if trip == 0 {
		trip = 5
	}
	if c.breakFor == 0 {
		c.breakFor = 30 * time.Second
	}
	c.breaker = gobreaker.NewCircuitBreaker[Receipt](gobreaker.Settings{
		Name:        name,
		Timeout:     c.breakFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool { return counts.ConsecutiveFailures >= trip },
		IsSuccessful: func(err error) bool {
			// A message the channel refuses says nothing of the channel.
			return err == nil || (errors.Is(err, ErrPermanent) && !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrGone))
		},
		// An attempt cut short by a stop says nothing either.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			d.log.LogAttrs(context.Background(), slog.LevelWarn, "notify: channel breaker "+to.String(),
				slog.String("channel", name), slog.String("was", from.String()))
		},
	})
	return c
}

// BreakerState returns the state of channel's circuit breaker: "closed",
// "half-open" or "open"; "" for a channel without one.
func (d *Dispatcher) BreakerState(channel string) string {
	c := d.channels[channel]
	if c == nil || c.breaker == nil {
		return ""
	}
	return c.breaker.State().String()
}

// defaultOwner names a dispatcher by its host, process and a random
// suffix.
func defaultOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Waiter is an [Outbox] that can wait for messages: Wait returns when a
// change may have left messages, or with ctx's error when ctx ends first.
// It may miss a message written just before it starts waiting, so it only
// shortens the wait of a dispatcher that polls anyway. The PostgreSQL
// store implements it with LISTEN/NOTIFY.
type Waiter interface {
	Wait(ctx context.Context) error
}

// Quieter is an [Outbox] whose store can say when it is quiet: Quiet
// returns once the store has gone d without a write under way or waiting,
// or with ctx's error when ctx ends first. [Dispatcher.Run] waits for it,
// for a bounded time, before each pass, so that on a store with a single
// writer its transactions fall between the changes of the response rather
// than hold them up. The SQLite store implements it.
type Quieter interface {
	Quiet(ctx context.Context, d time.Duration) error
}

// OutboxAger is an [Outbox] that can tell when the oldest message it holds
// was written: a [Dispatcher] reports how long ago as a metric, how far
// behind delivery is, which the pending deliveries alone do not show
// while messages wait to be taken. The memory, SQLite and PostgreSQL
// stores implement it.
type OutboxAger interface {
	// OldestOutbox returns the creation time of the oldest message in the
	// outbox, whether claimed or waiting for a retry, and false when the
	// outbox is empty. Its cost does not grow with the outbox.
	OldestOutbox(ctx context.Context) (time.Time, bool, error)
}

// Run delivers until ctx ends: it works while there is work, and polls
// every PollInterval when there is none, waking at once when a change
// leaves messages if the outbox is a [Waiter]. After a pass that handled
// less than a full batch it waits Linger before the next, and before each
// pass it waits, for at most PollInterval, until an outbox that is a
// [Quieter] has been quiet for Quiet. When ctx ends it stops claiming,
// lets the attempts in progress end (they see ctx's end), gives back what
// it could not deliver as due at once, and returns nil; whatever is left
// stays pending and is delivered by the next dispatcher. Store errors do
// not stop Run: they are logged, and the pass is tried again after
// PollInterval.
func (d *Dispatcher) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		d.awaitQuiet(ctx)
		if ctx.Err() != nil {
			return nil
		}
		n, err := d.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		timer.Reset(d.pause(ctx, n, err))
	}
}

// pause returns how long Run waits after a pass that handled n messages
// and deliveries, or failed with err.
func (d *Dispatcher) pause(ctx context.Context, n int, err error) time.Duration {
	switch {
	case err != nil:
		d.log.LogAttrs(ctx, slog.LevelWarn, "notify: dispatch pass failed", slog.String("error", err.Error()))
		return d.cfg.PollInterval
	case n == 0:
		w, ok := d.cfg.Outbox.(Waiter)
		if !ok {
			return d.cfg.PollInterval
		}
		// Woken early by a change that leaves messages.
		wctx, cancel := context.WithTimeout(ctx, d.cfg.PollInterval)
		_ = w.Wait(wctx)
		cancel()
		return 0
	case n < d.cfg.Batch:
		return max(d.cfg.Linger, 0)
	}
	return 0
}

// awaitQuiet waits, for at most PollInterval, until the outbox has been
// quiet for Quiet, if it is a [Quieter].
func (d *Dispatcher) awaitQuiet(ctx context.Context) {
	q, ok := d.cfg.Outbox.(Quieter)
	if !ok || d.cfg.Quiet <= 0 {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, d.cfg.PollInterval)
	defer cancel()
	_ = q.Quiet(qctx, d.cfg.Quiet)
}

// RunOnce makes one pass: in one store transaction it claims up to Batch
// due deliveries, then takes up to Batch outbox messages and routes each,
// claiming the new deliveries that are due while fewer than Batch are
// claimed, with their message when they all are; it makes the deliveries
// claimed, and records their outcomes, those of one message together. It returns how many messages and deliveries it handled. Tests
// drive a dispatcher with it, moving a fake clock between passes.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	p := &pass{d: d, claimed: time.Now()}
	due, err := d.cfg.Deliveries.FanOutAndClaim(ctx, d.cfg.Owner, d.cfg.Batch, d.cfg.Lease, p.route)
	if err != nil {
		return 0, fmt.Errorf("notify: dispatcher: fan out and claim: %w", err)
	}
	p.reportHeld(ctx)
	if len(due) == 0 {
		return len(p.routed), nil
	}
	return len(p.routed) + len(due), d.deliver(ctx, p, due)
}

// pass is what one [Dispatcher.RunOnce] learns while routing: the
// messages it decoded, so that their deliveries are not decoded again,
// and the deliveries TLP held back, reported once the fan-out is
// recorded.
type pass struct {
	d       *Dispatcher
	claimed time.Time        // when the pass claimed its deliveries
	routed  map[int64]routed // by outbox ID
}

// routed is an outbox message as routing decoded it.
type routed struct {
	m    Message
	err  error // the payload is not a Message
	held []Held
}

// route returns the fan-out of outbox entry e, held back deliveries
// included. It is the pass's [RouteFunc].
func (p *pass) route(ctx context.Context, e OutboxEntry) Fan {
	d := p.d
	m, err := e.Message()
	if err != nil {
		// A payload that is not a message is routed on what the outbox
		// says of it, as TLP:RED (its label is unknown). Its deliveries
		// die at their first attempt, where they are listed and
		// reported, rather than holding up the incident's later
		// messages.
		d.log.LogAttrs(ctx, slog.LevelError, "notify: outbox message cannot be read",
			slog.Int64("outbox_id", e.ID), slog.String("key", e.Key), slog.String("error", err.Error()))
		m = Message{Key: e.Key, Incident: Incident{ID: e.Incident, TLP: string(TLPRed)},
			Event: Event{IncidentID: e.Incident, Type: e.Type}}
	}
	decision := d.cfg.Router.Route(m)
	targets := make([]DeliveryTarget, 0, len(decision.Deliver)+len(decision.Held))
	failed := failedChannel(m)
	for _, t := range decision.Deliver {
		if t.Channel == failed {
			// A failure is never reported to the channel that failed.
			continue
		}
		targets = append(targets, DeliveryTarget{Channel: t.Channel, Route: t.Route})
	}
	for _, h := range decision.Held {
		targets = append(targets, DeliveryTarget{Channel: h.Channel, Route: h.Route, Held: true, Reason: h.Reason()})
	}
	if p.routed == nil {
		p.routed = make(map[int64]routed)
	}
	// A store that runs its transaction again routes the entry again:
	// the last routing stands.
	p.routed[e.ID] = routed{m: m, err: err, held: decision.Held}
	return Fan{Audience: FitAudience(m.Audience), Targets: targets}
}

// reportHeld counts and logs the deliveries TLP held back in the pass.
func (p *pass) reportHeld(ctx context.Context) {
	d := p.d
	for _, r := range p.routed {
		for _, h := range r.held {
			d.tel.deliveries.Add(ctx, 1, d.tel.attrs(h.Channel, outcomeHeld))
			d.log.LogAttrs(ctx, slog.LevelDebug, "notify: delivery held back", slog.String("key", r.m.Key),
				slog.String("channel", h.Channel), slog.String("reason", h.Reason()))
		}
	}
}

// message returns the message of delivery dl: as routing decoded it in
// this pass, or decoded from its payload.
func (p *pass) message(dl Delivery) (Message, error) {
	if r, ok := p.routed[dl.OutboxID]; ok && r.m.Key == dl.Key {
		return r.m, r.err
	}
	return dl.Message()
}

// attempted is how one delivery attempt went, waiting to be recorded.
type attempted struct {
	dl  Delivery
	st  Settlement
	err error // the attempt's error, for a dead delivery
}

// deliver makes the deliveries due, Workers at a time, on as many
// goroutines, which take the deliveries in turn. The outcomes are recorded
// in groups, each in one store transaction, by this goroutine: every
// recordDelay, what came in since the last group, and at the end what is
// left. A fast channel costs one transaction a pass, and a slow one holds
// up the record of no other channel, nor the incident's later messages,
// for more than recordDelay: a message claimed with its deliveries is
// then recorded with the ones still being made as such. Deliveries
// not begun by Lease minus AttemptTimeout after the claim are given back
// unattempted, so that no attempt outlives its claim.
func (d *Dispatcher) deliver(ctx context.Context, p *pass, due []Delivery) error {
	var (
		wg      sync.WaitGroup
		next    atomic.Int64
		mu      sync.Mutex
		results = make([]attempted, 0, len(due))
		done    = make(chan struct{})
	)
	for range min(d.cfg.Workers, len(due)) {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(due)) {
					return
				}
				var r attempted
				if time.Since(p.claimed) > d.cfg.Lease-d.cfg.AttemptTimeout {
					// Too late to begin: the attempt could outlast the
					// claim, and another dispatcher make the delivery
					// too. It is given back, due at once, without
					// using up an attempt.
					st := Settlement{Kind: SettleRelease, At: d.cfg.Clock.Now()}
					r = attempted{dl: due[i], st: due[i].Settled(st)}
				} else {
					m, merr := p.message(due[i])
					r = d.attempt(ctx, due[i], m, merr)
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	// The deliveries claimed with their message are recorded together,
	// with the message's removal from the outbox: fast keeps the
	// deliveries of each message not yet recorded, and held the outcomes
	// of theirs that came. At each recordDelay, a message whose attempts
	// are not all over is recorded anyway, those still going on as
	// claimed (SettleClaimed), so that a slow channel holds up none of
	// the incident's later messages; their outcomes are recorded later
	// by the IDs inFlight keeps (0 for a message another dispatcher took).
	type fanned struct {
		outbox  int64
		channel string
	}
	var (
		errs     []error
		timer    = time.NewTimer(recordDelay)
		taken    int
		fast     = make(map[int64][]Delivery)
		held     = make(map[int64][]attempted)
		inFlight = make(map[fanned]int64)
	)
	for _, dl := range due {
		if dl.ID == 0 {
			fast[dl.OutboxID] = append(fast[dl.OutboxID], dl)
		}
	}
	defer timer.Stop()
	flush := func(final bool) {
		mu.Lock()
		came := results[taken:len(results):len(results)]
		taken = len(results)
		mu.Unlock()
		var group []attempted
		for _, r := range came {
			if r.dl.ID != 0 {
				group = append(group, r)
				continue
			}
			if id, ok := inFlight[fanned{r.dl.OutboxID, r.dl.Channel}]; ok {
				if id != 0 {
					r.dl.ID = id
					r.st = r.dl.Settled(r.st)
					group = append(group, r)
				}
				continue
			}
			id := r.dl.OutboxID
			held[id] = append(held[id], r)
			if len(held[id]) == len(fast[id]) {
				group = append(group, held[id]...)
				delete(held, id)
				delete(fast, id)
			}
		}
		if !final {
			for id, dls := range fast {
				over := make(map[string]bool, len(held[id]))
				for _, r := range held[id] {
					over[r.dl.Channel] = true
				}
				group = append(group, held[id]...)
				for _, dl := range dls {
					if !over[dl.Channel] {
						group = append(group, attempted{dl: dl, st: dl.Settled(Settlement{Kind: SettleClaimed})})
					}
				}
				delete(held, id)
				delete(fast, id)
			}
		}
		if len(group) == 0 {
			return
		}
		if err := d.recordGroup(ctx, group); err != nil {
			errs = append(errs, err)
		}
		for _, r := range group {
			if r.st.Kind == SettleClaimed {
				inFlight[fanned{r.dl.OutboxID, r.dl.Channel}] = r.dl.ID
			}
		}
	}
	for {
		select {
		case <-done:
			flush(true)
			return errors.Join(errs...)
		case <-timer.C:
			flush(false)
			timer.Reset(recordDelay)
		}
	}
}

// settleTimeout bounds the store write that records attempts' outcomes
// after ctx has ended.
const settleTimeout = 5 * time.Second

// recordDelay is how long an outcome may wait for others to be recorded
// with it.
const recordDelay = 20 * time.Millisecond

// recordGroup records the outcomes of group in one store transaction,
// and sets the ID of each delivery claimed with its message that it
// recorded (it stays 0 for one that another dispatcher took). The
// outcomes are recorded even when ctx has ended.
func (d *Dispatcher) recordGroup(ctx context.Context, group []attempted) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	sts := make([]Settlement, len(group))
	for i, r := range group {
		sts[i] = r.st
	}
	errs, err := d.cfg.Deliveries.Settle(sctx, d.cfg.Owner, sts)
	if err != nil {
		return d.settle(err)
	}
	var serrs []error
	for i := range group {
		r := &group[i]
		if errs[i] != nil {
			serrs = append(serrs, d.settle(errs[i]))
			continue
		}
		r.dl.ID = sts[i].ID // set by Settle for a delivery claimed with its message
		if r.st.Kind == SettleDead {
			d.dead(sctx, r.dl, r.err)
		}
	}
	return errors.Join(serrs...)
}

// attempt makes one delivery attempt at dl, whose message is m (or
// could not be read, with merr), and returns how it went.
func (d *Dispatcher) attempt(ctx context.Context, dl Delivery, m Message, merr error) attempted {
	began := time.Now()
	ctx, span := d.tel.start(ctx, dl, m)
	outcome, st, err := d.try(ctx, attemptLog{d.log, &dl}, dl, m, merr)
	d.tel.end(ctx, span, dl.Channel, outcome, began, err)
	return attempted{dl: dl, st: dl.Settled(st), err: err}
}

// attemptLog logs what happens to one delivery, with its ID, key, channel
// and attempt; the attributes are made only for records the logger takes.
type attemptLog struct {
	log *slog.Logger
	dl  *Delivery
}

func (l attemptLog) LogAttrs(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if !l.log.Enabled(ctx, level) {
		return
	}
	all := make([]slog.Attr, 0, 4+len(attrs))
	all = append(all, slog.Int64("delivery", l.dl.ID), slog.String("key", l.dl.Key), slog.String("channel", l.dl.Channel),
		slog.Int("attempt", l.dl.Attempts))
	l.log.LogAttrs(ctx, level, msg, append(all, attrs...)...)
}

// try makes the attempt. It returns the outcome, the settlement that
// records it, and the attempt's error.
func (d *Dispatcher) try(ctx context.Context, log attemptLog, dl Delivery, m Message, merr error) (outcome string, st Settlement, err error) {
	if merr != nil {
		err = Permanent(merr)
		return outcomeDead, Settlement{Kind: SettleDead, LastError: err.Error()}, err
	}
	ch := d.channels[dl.Channel]
	if ch == nil {
		// The channel was configured when the delivery was routed and
		// is not now: wait for it to come back rather than drop it.
		err = Retry(fmt.Errorf("no notifier for channel %q", dl.Channel), d.cfg.MaxBackoff)
	} else {
		now := d.cfg.Clock.Now()
		if ch.limiter != nil {
			res := ch.limiter.ReserveN(now, 1)
			if wait := res.DelayFrom(now); wait > 0 {
				res.CancelAt(now)
				log.LogAttrs(ctx, slog.LevelDebug, "notify: delivery held back by the channel's rate limit", slog.Duration("wait", wait))
				return outcomeDeferred, Settlement{Kind: SettleRelease, At: now.Add(wait)}, nil
			}
		}
		actx, acancel := context.WithTimeout(ctx, d.cfg.AttemptTimeout)
		send := func() (Receipt, error) { return notifySafely(actx, ch.notifier, m) }
		var r Receipt
		if ch.breaker != nil {
			r, err = ch.breaker.Execute(send)
		} else {
			r, err = send()
		}
		acancel()
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			log.LogAttrs(ctx, slog.LevelDebug, "notify: delivery held back by the channel's open breaker")
			return outcomeDeferred, Settlement{Kind: SettleRelease, At: now.Add(min(ch.breakFor, d.cfg.PollInterval))}, nil
		}
		if err == nil {
			log.LogAttrs(ctx, slog.LevelDebug, "notify: delivered", slog.String("receipt", r.String()))
			return outcomeDelivered, Settlement{Kind: SettleDelivered, Receipt: r}, nil
		}
	}
	now := d.cfg.Clock.Now()
	if ctx.Err() != nil {
		// Shutting down: the attempt was cut short, not refused. It is
		// due again at once, for the next dispatcher.
		return outcomeStopped, Settlement{Kind: SettleFailed, At: now, LastError: "dispatcher stopped: " + err.Error()}, err
	}
	switch {
	case errors.Is(err, ErrPermanent):
	case dl.Attempts >= d.cfg.MaxAttempts:
		err = fmt.Errorf("gave up after %d attempts: %w", dl.Attempts, err)
	case now.Sub(dl.CreatedAt) >= d.cfg.MaxAge:
		err = fmt.Errorf("gave up after %s: %w", d.cfg.MaxAge, err)
	default:
		wait := d.Backoff(dl.Attempts)
		if after, ok := RetryAfter(err); ok && after > wait {
			wait = after
		}
		log.LogAttrs(ctx, slog.LevelWarn, "notify: delivery failed, will retry", slog.String("error", err.Error()),
			slog.Duration("retry_in", wait))
		return outcomeRetry, Settlement{Kind: SettleFailed, At: now.Add(wait), LastError: err.Error()}, err
	}
	return outcomeDead, Settlement{Kind: SettleDead, LastError: err.Error()}, err
}

// failedChannel returns the channel a notification_failed message reports
// on, or "" for other messages.
func failedChannel(m Message) string {
	if m.Event.Type != EventNotificationFailed {
		return ""
	}
	var data struct {
		Channel string `json:"channel"`
	}
	if err := json.Unmarshal(m.Event.Data, &data); err != nil {
		return ""
	}
	return data.Channel
}

// notifySafely calls n, turning a panic into a permanent error so that one
// broken notifier cannot stop the dispatcher.
func notifySafely(ctx context.Context, n Notifier, m Message) (r Receipt, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = Receipt{}, Permanent(fmt.Errorf("notifier panicked: %v", p))
		}
	}()
	return n.Notify(ctx, m)
}

// Backoff returns the wait before the retry that follows attempt (1 for the
// first): a random duration between 0 and MinBackoff·2^(attempt-1), capped
// at MaxBackoff.
func (d *Dispatcher) Backoff(attempt int) time.Duration {
	ceiling := d.cfg.MinBackoff
	for i := 1; i < attempt && ceiling < d.cfg.MaxBackoff; i++ {
		ceiling *= 2
	}
	return d.cfg.Jitter(min(ceiling, d.cfg.MaxBackoff))
}

// dead logs dl, recorded dead, and tells OnDead.
func (d *Dispatcher) dead(ctx context.Context, dl Delivery, cause error) {
	log := attemptLog{d.log, &dl}
	log.LogAttrs(ctx, slog.LevelError, "notify: delivery dead", slog.String("error", cause.Error()))
	// The failure to report a failure is not reported in turn: no loops.
	if d.cfg.OnDead != nil && dl.Type != EventNotificationFailed {
		dl.Status, dl.LastError = StatusDead, TruncateError(cause.Error())
		if err := d.cfg.OnDead(ctx, dl, cause); err != nil {
			log.LogAttrs(ctx, slog.LevelError, "notify: recording a dead delivery failed", slog.String("error", err.Error()))
		}
	}
}

// settle passes on a store error recording an outcome, except that the
// claim was taken over: another dispatcher delivers it then.
func (d *Dispatcher) settle(err error) error {
	if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		return nil
	}
	return fmt.Errorf("notify: dispatcher: record delivery: %w", err)
}

// Replay makes dead delivery id pending again, due at once.
func (d *Dispatcher) Replay(ctx context.Context, id int64) error {
	return d.cfg.Deliveries.Replay(ctx, id)
}

// ReplayChannel makes every dead delivery to channel pending again, once
// the channel is fixed, and returns how many it replayed.
func (d *Dispatcher) ReplayChannel(ctx context.Context, channel string) (int, error) {
	if channel == "" {
		return 0, invalid("channel", "", "must not be empty")
	}
	n := 0
	for {
		dead, err := d.cfg.Deliveries.DeadDeliveries(ctx, channel, MaxClaim)
		if err != nil {
			return n, err
		}
		if len(dead) == 0 {
			return n, nil
		}
		for _, dl := range dead {
			if err := d.cfg.Deliveries.Replay(ctx, dl.ID); err != nil && !errors.Is(err, ErrConflict) {
				return n, err
			}
			n++
		}
	}
}

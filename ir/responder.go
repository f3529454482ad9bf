package ir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Config configures a [Responder]. Only Store is required; every other zero
// value means a sensible default.
type Config struct {
	// Store keeps incidents and timelines. Required: use
	// [NewMemoryStore] for tests, or a durable store.
	Store Store
	// Model is the phase model new incidents follow. Nil means
	// phases.SANS.
	Model *phases.Model
	// Policy decides who may change what. Nil means [AllowAll].
	Policy Policy
	// Clock tells the time. Nil means [SystemClock].
	Clock Clock
	// IDs makes incident IDs. Nil means [UUIDv7].
	IDs IDGenerator
	// Logger receives the Responder's logs. Nil discards them.
	Logger *slog.Logger
	// TracerProvider and MeterProvider receive spans and metrics. Nil
	// means the global providers (see go.opentelemetry.io/otel).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Evidence is the evidence locker that [Responder.CollectEvidence]
	// takes evidence into. Nil means evidence cannot be collected through
	// the Responder.
	Evidence *evidence.Locker
	// AtomicCustody, if set, makes [Responder.CollectEvidence] write the
	// collected custody record, the incident's reference to the item and
	// its event in one transaction of Store. It needs the locker's ledger
	// to keep its custody logs in Store itself: the ledger must have been
	// made on the very Store value given here
	// (evidence.LedgerConfig{Store: store}), so that the ledger reads
	// what Store's Apply writes. NewResponder refuses with [ErrInvalid] a
	// Config where that is not so, such as a Store wrapped for metrics or
	// tracing while the ledger has the store underneath: wrap both, or
	// neither. Unset, evidence is collected in two steps (the custody
	// record first, then the incident change), whatever the stores.
	AtomicCustody bool
	// Outbox, if set, leaves a message in the store's outbox for every
	// timeline event, in the same transaction as the change: a
	// notify.Message that a dispatcher delivers to people and systems.
	// The store must implement notify.Outbox.
	Outbox bool
	// ConflictRetries is how many times a change that lost a race with
	// another writer is retried against the fresh incident before
	// [ErrConflict] is returned. Each retry checks the change again, so a
	// transition that is no longer valid fails as such. Zero means 20;
	// negative means no retries.
	//
	// A Responder queues the changes it makes to one incident, so only
	// writers outside it (other processes, or other Responders on the
	// same store) can make a change conflict. Before each retry it waits
	// a random time between half of and all of 1ms·2^n for the n-th
	// retry, at most 50ms: the default allows 0.4s to 0.8s of
	// waiting in all, far more than several processes writing one
	// incident at full speed need. A context that ends while a change
	// waits, for its turn or for a retry, ends it with the context's
	// error and nothing written.
	ConflictRetries int
	// CustodyTimeout bounds how long [Responder.CollectEvidence] and
	// [Responder.CompleteEvidence] keep trying to record a collection
	// once its content is stored, even if their context ends: the
	// collection already happened. Until then a conflict with other
	// writers is retried, however many times, with the waits of
	// ConflictRetries. A context whose deadline is later gives them
	// that long. Zero means 30s; negative is refused.
	CustodyTimeout time.Duration
	// Prepare, if set, is called whenever an incident enters a phase:
	// when it is opened (in the model's initial phase) and on every
	// transition. The tasks and role assignments it returns are added to
	// the incident in the same change, with their events, so that they
	// are written together with the opening or the transition, or not at
	// all. See [Preparation] for what is added and what is skipped. It
	// runs while the incident's change is being made, and again if the
	// change is retried after a conflict: it must not call the
	// Responder, and should be quick. An error it returns fails the
	// opening or the transition.
	Prepare func(ctx context.Context, e PhaseEntry) (Preparation, error)
	// Clocks are the deadline clocks the Responder starts and stops on
	// incidents (see [ClockDef]), such as the built-in templates
	// [GDPRArticle33] and [SECForm8KItem105]. NewResponder refuses, with
	// an [*InvalidError], a definition that is not valid.
	Clocks []ClockDef
	// ResponseDeadlines, if set, add the clocks of the response
	// deadlines by severity (see [ResponseDeadlines.Clocks]).
	ResponseDeadlines ResponseDeadlines
}

// Responder runs incidents: it opens them, moves them through their phase
// model, and records every change in their timeline. It is the one type most
// programs use.
//
// Every change takes an [Actor], is checked by the [Policy], is validated
// against the limits ([MaxShortText], [MaxLongText], [MaxBodyText],
// [MaxLabels], [MaxDecisionOptions], [MaxReviewItems], [MaxListSize];
// the reason a change gives is at most [MaxLongText] bytes; bad input
// returns an [*InvalidError] and changes nothing), and is written
// atomically with an optimistic version check, so concurrent writers never
// lose each other's updates. Changes to one incident through one Responder
// take turns, in the order they came: they never conflict with each other,
// and conflicts with other writers are retried (see
// [Config.ConflictRetries]). A change starts from the incident as the
// Responder last wrote it, if it is one of the last few hundred it
// changed, and writes only what it touches (see [Change].Lists): its cost
// does not grow with the observables and tasks the incident holds.
//
// Its errors match this package's sentinels whichever package found the
// problem, and that package's errors too: bad input matches [ErrInvalid]
// (an unknown evidence kind also matches evidence.ErrInvalid), a refusal
// by the policy or the evidence locker's access policy [ErrUnauthorized],
// a transition the phase or the guards do not allow [ErrRefused] (and
// phases.ErrInvalidTransition or phases.ErrGuardFailed), a missing
// incident or evidence item [ErrNotFound], and a lost race [ErrConflict].
//
// A Responder is safe for concurrent use. It starts no goroutines; call
// [Responder.Shutdown] when done with it to unregister its metric callback.
type Responder struct {
	store    Store
	model    *phases.Model
	policy   Policy
	clock    Clock
	ids      IDGenerator
	logger   *slog.Logger
	tel      *telemetry
	retries  int
	evidence *evidence.Locker
	// outbox is set when every change leaves outbox messages.
	outbox bool
	// custody is set when the store keeps the evidence locker's custody
	// logs, so a change and its custody records commit together.
	custody bool
	// phaseDefs holds the model's phases by name, read on every
	// transition.
	phaseDefs map[phases.Phase]phases.PhaseDef
	// actions holds the names of the model's actions.
	actions map[phases.Action]bool
	// locks queues the changes to one incident, so that they never
	// conflict with each other.
	locks incidentLocks
	// written keeps the incidents the Responder wrote last, which the
	// next change to them starts from.
	written writtenCache
	// custodyTimeout bounds recording a collection; see
	// Config.CustodyTimeout.
	custodyTimeout time.Duration
	// prepare is Config.Prepare.
	prepare func(ctx context.Context, e PhaseEntry) (Preparation, error)
	// clocks are the deadline clocks of Config.Clocks and
	// Config.ResponseDeadlines.
	clocks []ClockDef
}

// NewResponder returns a Responder configured by cfg, or an error if cfg is
// invalid.
func NewResponder(cfg Config) (*Responder, error) {
	if cfg.Store == nil {
		return nil, invalid("config", "", "Config.Store is required (use ir.NewMemoryStore() for tests)")
	}
	r := &Responder{
		store:    cfg.Store,
		model:    cfg.Model,
		policy:   cfg.Policy,
		clock:    cfg.Clock,
		ids:      cfg.IDs,
		logger:   cfg.Logger,
		retries:  cfg.ConflictRetries,
		evidence: cfg.Evidence,
		outbox:   cfg.Outbox,
		prepare:  cfg.Prepare,
	}
	if _, ok := cfg.Store.(notify.Outbox); cfg.Outbox && !ok {
		return nil, invalid("config", "", "Config.Outbox needs a store that implements notify.Outbox")
	}
	if cfg.AtomicCustody {
		if err := checkAtomicCustody(cfg); err != nil {
			return nil, err
		}
		r.custody = true
	}
	if r.model == nil {
		r.model = phases.SANS
	}
	clocks, err := checkClockDefs(append(cfg.ResponseDeadlines.Clocks(), cfg.Clocks...))
	if err != nil {
		return nil, err
	}
	r.clocks = clocks
	r.phaseDefs = make(map[phases.Phase]phases.PhaseDef)
	for _, p := range r.model.Phases() {
		r.phaseDefs[p.Name] = p
	}
	r.actions = make(map[phases.Action]bool)
	for _, a := range r.model.Actions() {
		r.actions[a.Name] = true
	}
	if r.policy == nil {
		r.policy = AllowAll
	}
	if r.clock == nil {
		r.clock = SystemClock
	}
	if r.ids == nil {
		r.ids = UUIDv7
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	switch r.custodyTimeout = cfg.CustodyTimeout; {
	case r.custodyTimeout < 0:
		return nil, invalid("config", "", "Config.CustodyTimeout must not be negative")
	case r.custodyTimeout == 0:
		r.custodyTimeout = defaultCustodyTimeout
	}
	switch {
	case r.retries == 0:
		r.retries = defaultConflictRetries
	case r.retries < 0:
		r.retries = 0
	}
	tp, mp := cfg.TracerProvider, cfg.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	tel, err := newTelemetry(tp, mp, r.logger, r.store)
	if err != nil {
		return nil, err
	}
	r.tel = tel
	return r, nil
}

// Shutdown unregisters the Responder's metric callback. The Responder must
// not be used after Shutdown. It does not close the store.
func (r *Responder) Shutdown(context.Context) error {
	if err := r.tel.registration.Unregister(); err != nil {
		return fmt.Errorf("ir: shut down responder: %w", err)
	}
	return nil
}

// Model returns the phase model the Responder runs incidents on.
func (r *Responder) Model() *phases.Model { return r.model }

// Get returns the incident with the given ID, or an error matching
// [ErrNotFound].
func (r *Responder) Get(ctx context.Context, id ID) (inc *Incident, err error) {
	ctx, span := r.tel.start(ctx, "get", id)
	defer func() { r.tel.end(ctx, span, err) }()
	if id == "" {
		return nil, invalid("incident ID", "", "must not be empty")
	}
	return r.store.Get(ctx, id)
}

// List returns one page of the incidents q selects, newest first.
func (r *Responder) List(ctx context.Context, q Query) (page Page, err error) {
	ctx, span := r.tel.start(ctx, "list", "")
	defer func() { r.tel.end(ctx, span, err) }()
	if q, err = q.Normalize(); err != nil {
		return Page{}, err
	}
	return r.store.List(ctx, q)
}

// change is one mutation of an existing incident.
type change struct {
	op Operation
	// span, if set, names the change's span instead of op: a step of a
	// larger operation, or an operation the policy knows as op.
	span   Operation
	action phases.Action
	// pick, if set, chooses the action from the incident as read, for
	// operations such as Close whose action depends on the phase.
	pick   func(inc *Incident) (phases.Action, error)
	role   Role
	reason string
	// check, if set, validates the operation's input before the incident
	// is read.
	check func() error
	// apply changes inc, which is a private copy, and returns the events
	// describing the change, or none if there is nothing to change.
	apply func(ctx context.Context, inc *Incident, now time.Time) ([]EventData, error)
	// custody, if set, returns the custody records the change carries,
	// as the last call of apply prepared them.
	custody func() []evidence.Append
	// untilDone, if set, retries the change after every conflict until
	// ctx ends, whatever the Responder's retries: for a change recording
	// what already happened, whose ctx has a deadline.
	untilDone bool
}

// apply writes ch, with its outbox messages when the Responder leaves
// them.
func (r *Responder) apply(ctx context.Context, ch Change) error {
	if r.outbox {
		msgs, seqs, err := outboxMessages(ctx, r.model, ch.Incident, ch.Events)
		if err != nil {
			return err
		}
		ch.Outbox, ch.OutboxSeqs = msgs, seqs
	}
	return r.store.Apply(ctx, ch)
}

// conflictBackoff waits before the retry that follows a conflict, which
// only a writer in another process (or another Responder) can cause: at
// least half of, and at most, 1ms·2^attempt, capped at 50ms. Growing waits
// let writers that keep colliding (service instances sharing a database)
// spread out; the random part keeps them from colliding again at once.
func conflictBackoff(ctx context.Context, attempt int) error {
	limit := maxConflictBackoff
	if attempt < 16 {
		limit = min(limit, minConflictBackoff<<attempt)
	}
	t := time.NewTimer(limit/2 + rand.N(limit/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Bounds of the wait between conflict retries.
const (
	minConflictBackoff = time.Millisecond
	maxConflictBackoff = 50 * time.Millisecond
)

// defaultConflictRetries is how many times a change is retried after a
// conflict when Config.ConflictRetries is zero.
const defaultConflictRetries = 20

// checkAtomicCustody checks that cfg can write custody records and
// incident changes together: the locker's ledger keeps its logs in the
// very value cfg.Store is.
func checkAtomicCustody(cfg Config) error {
	if cfg.Evidence == nil {
		return invalid("config", "", "Config.AtomicCustody needs Config.Evidence")
	}
	if _, ok := cfg.Store.(evidence.LedgerStore); !ok {
		return invalid("config", "", fmt.Sprintf("Config.AtomicCustody needs a store that keeps custody logs (evidence.LedgerStore); %T does not", cfg.Store))
	}
	if !sameValue(cfg.Store, cfg.Evidence.Ledger().Store()) {
		return invalid("config", "", fmt.Sprintf("Config.AtomicCustody needs the locker's ledger made on Config.Store itself; its store is a %T, Config.Store a %T", cfg.Evidence.Ledger().Store(), cfg.Store))
	}
	return nil
}

// sameValue reports whether a and b are the same value: for stores, which
// are pointers, the same store. Values of a type that cannot be compared
// are never the same.
func sameValue(a, b any) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// mutate runs one change against the stored incident: it checks the actor
// and the policy, applies the change to a copy, and writes it with a version
// check, retrying on conflict with the fresh incident.
func (r *Responder) mutate(ctx context.Context, actor Actor, id ID, c change) (inc *Incident, err error) {
	spanOp := c.op
	if c.span != "" {
		spanOp = c.span
	}
	ctx, span := r.tel.start(ctx, spanOp, id)
	if span.IsRecording() && c.op == OpTransition {
		span.SetAttributes(attrModel.String(r.model.Name()))
		if c.action != "" {
			span.SetAttributes(attrAction.String(string(c.action)))
		}
	}
	defer func() { err = facade(err); r.tel.end(ctx, span, err) }()
	// conflict is the latest conflict retried: a change retried until its
	// context ends fails with it, whatever step the end interrupts.
	var conflict error
	if c.untilDone {
		defer func() {
			if err != nil && conflict != nil && !errors.Is(err, ErrConflict) && ctx.Err() != nil {
				err = fmt.Errorf("ir: %s %s: gave up after conflicts (%w): %w", c.op, id, err, conflict)
			}
		}()
	}
	if actor, err = actor.normalize("actor"); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("incident ID", "", "must not be empty")
	}
	if err := checkText("reason", c.reason, MaxLongText); err != nil {
		return nil, err
	}
	if c.check != nil {
		if err := c.check(); err != nil {
			return nil, err
		}
	}
	turn, err := r.locks.lock(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("ir: %s %s: %w", c.op, id, err)
	}
	defer turn.release()
	retries := r.retries
	trustCache := true
	for attempt := 0; ; attempt++ {
		// The incident as this Responder last wrote it saves reading it
		// back. Another process may have changed it since: the store's
		// version check then refuses the change, and the incident is read
		// again. A change that the kept incident makes fail, or leaves
		// nothing to do, is decided again on the stored one.
		var cur *Incident
		if trustCache {
			cur = r.written.take(id)
		}
		cached := cur != nil
		if !cached {
			if cur, err = r.store.Get(ctx, id); err != nil {
				return nil, err
			}
		}
		observables, tasks := len(cur.Observables), len(cur.Tasks)
		next, data, now, err := r.decide(ctx, actor, cur, &c, span)
		if cached && (err != nil || len(data) == 0) {
			trustCache = false
			attempt--
			continue
		}
		if err != nil {
			r.written.put(cur)
			return nil, err
		}
		if len(data) == 0 {
			r.written.put(next)
			return next.shared(), nil
		}
		data = r.reactClocks(next, data, now)
		ch := Change{Incident: next, Events: r.events(next, actor, now, c.reason, data),
			Lists: listChanges(next, observables, tasks, data)}
		if c.custody != nil {
			ch.Custody = c.custody()
		}
		err = r.apply(ctx, ch)
		if errors.Is(err, ErrConflict) && (attempt < retries || c.untilDone) {
			conflict = err
			if r.logger.Enabled(ctx, slog.LevelDebug) {
				r.logger.DebugContext(ctx, "ir: retrying after conflict", "incident", id, "operation", c.op, "attempt", attempt+1)
			}
			if berr := conflictBackoff(ctx, attempt); berr != nil {
				if c.untilDone {
					return nil, fmt.Errorf("ir: %s %s: gave up after %d attempts (%w): %w", c.op, id, attempt+1, berr, err)
				}
				return nil, fmt.Errorf("ir: %s %s: %w", c.op, id, berr)
			}
			trustCache = false
			continue
		}
		if err != nil {
			return nil, err
		}
		r.written.put(next)
		if span.IsRecording() {
			span.SetAttributes(attrPhaseTo.String(string(next.Phase)))
		}
		if r.logger.Enabled(ctx, slog.LevelInfo) {
			r.logger.InfoContext(ctx, "ir: incident changed", "incident", id, "operation", c.op,
				"actor", actor.ID, "version", next.Version)
		}
		return next.shared(), nil
	}
}

// decide checks c against cur and applies it: it returns the incident
// after the change, with its version and update time set, and the data of
// the events recording it, or no data if there is nothing to change. It
// changes cur itself, which must be the caller's own: the lists that grow
// with the work are appended to, never altered in place, so copies that
// share their entries (see [Incident.shared]) see nothing. cur is left as
// it was when decide fails or changes nothing.
func (r *Responder) decide(ctx context.Context, actor Actor, cur *Incident, c *change, span trace.Span) (*Incident, []EventData, time.Time, error) {
	if span.IsRecording() {
		span.SetAttributes(attrSeverity.String(string(cur.Severity)), attrPhaseFrom.String(string(cur.Phase)))
	}
	if c.pick != nil {
		var err error
		if c.action, err = c.pick(cur); err != nil {
			return nil, nil, time.Time{}, err
		}
		if span.IsRecording() {
			span.SetAttributes(attrAction.String(string(c.action)))
		}
	}
	req := Request{Actor: actor, Operation: c.op, Action: c.action, Role: c.role, Incident: cur}
	if err := r.authorize(ctx, req); err != nil {
		return nil, nil, time.Time{}, err
	}
	next := cur
	now := r.clock.Now()
	data, err := c.apply(ctx, next, now)
	if err != nil || len(data) == 0 {
		return next, nil, now, err
	}
	next.Version++
	next.UpdatedAt = now
	return next, data, now, nil
}

// listChanges names the entries of inc's observables and tasks that a
// change recorded by data added or altered, the lists having held
// observables and tasks entries before it.
func listChanges(inc *Incident, observables, tasks int, data []EventData) *ListChanges {
	l := new(ListChanges)
	for i := observables; i < len(inc.Observables); i++ {
		l.Observables = append(l.Observables, i)
	}
	for _, d := range data {
		done, ok := d.(*TaskCompleted)
		if !ok {
			continue
		}
		for i := range inc.Tasks[:tasks] {
			if inc.Tasks[i].ID == done.TaskID {
				l.Tasks = append(l.Tasks, i)
				break
			}
		}
	}
	slices.Sort(l.Tasks)
	l.Tasks = slices.Compact(l.Tasks)
	for i := tasks; i < len(inc.Tasks); i++ {
		l.Tasks = append(l.Tasks, i)
	}
	return l
}

func (r *Responder) authorize(ctx context.Context, req Request) error {
	if err := r.policy.Authorize(ctx, req); err != nil {
		r.logger.WarnContext(ctx, "ir: change denied", "operation", req.Operation, "actor", req.Actor.ID, "reason", err)
		return &DeniedError{Request: req, Err: err}
	}
	return nil
}

// events wraps the data of one change into timeline events.
func (r *Responder) events(inc *Incident, actor Actor, now time.Time, reason string, data []EventData) []Event {
	events := make([]Event, len(data))
	for i, d := range data {
		events[i] = Event{
			IncidentID: inc.ID,
			Version:    inc.Version,
			Type:       d.EventType(),
			At:         now,
			Actor:      actor,
			Reason:     reason,
			Data:       d,
		}
	}
	return events
}

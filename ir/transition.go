package ir

import (
	"context"
	"slices"
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// Transition takes a phase action on the incident, such as phases.Contain,
// after the model's guards allow it, and returns the incident in its new
// phase. Entering a phase sets the lifecycle timestamps it marks.
//
// Errors match [ErrRefused] and phases.ErrInvalidTransition when the
// action does not leave from the current phase, [ErrRefused] and
// phases.ErrGuardFailed when guards refuse (the [*phases.GuardError] says
// which guards and why), and [ErrInvalid] and phases.ErrUnknownAction when
// the model has no such action.
func (r *Responder) Transition(ctx context.Context, actor Actor, id ID, action phases.Action, reason string) (*Incident, error) {
	return r.transition(ctx, actor, id, reason, change{action: action})
}

// Close takes the action that closes the incident from its current phase
// (the first action of the model that leads to a terminal phase; in the
// built-in models, phases.Close from the last phase or phases.Dismiss from
// triage). Closing from the review phase of SANS, NIST and ICARP needs a
// verdict, the phase's required tasks done and a post-incident review
// with a root cause ([Responder.RecordReview]); their guards say which is
// missing. It fails like [Responder.Transition], except that a refusal (by
// the model, its guards or the policy) is a [*RefusedError] that speaks of
// closing: it still matches phases.ErrInvalidTransition,
// phases.ErrGuardFailed or [ErrUnauthorized].
func (r *Responder) Close(ctx context.Context, actor Actor, id ID, reason string) (*Incident, error) {
	inc, err := r.transition(ctx, actor, id, reason, change{action: phases.Close, pick: r.closingAction})
	return inc, refused(RequestClose, id, "", err)
}

// Reopen takes the action that reopens a closed incident (phases.Reopen in
// the built-in models). Reopening clears the resolved and closed times; the
// timeline keeps the earlier ones. Reopening an open incident fails with
// [ErrRefused] and phases.ErrInvalidTransition. Refusals are
// [*RefusedError] values, as [Responder.Close] returns.
func (r *Responder) Reopen(ctx context.Context, actor Actor, id ID, reason string) (*Incident, error) {
	inc, err := r.transition(ctx, actor, id, reason, change{action: phases.Reopen, pick: r.reopeningAction})
	return inc, refused(RequestReopen, id, "", err)
}

// closingAction returns the action that closes inc from its phase.
func (r *Responder) closingAction(inc *Incident) (phases.Action, error) {
	if a, ok := r.model.ClosingAction(inc.Phase); ok {
		return a, nil
	}
	return "", &phases.TransitionError{Model: r.model.Name(), Action: phases.Close, From: inc.Phase,
		Reason: "no action closes the incident from this phase"}
}

// reopeningAction returns the action that reopens inc from its phase.
func (r *Responder) reopeningAction(inc *Incident) (phases.Action, error) {
	if a, ok := r.model.ReopeningAction(inc.Phase); ok {
		return a, nil
	}
	return "", &phases.TransitionError{Model: r.model.Name(), Action: phases.Reopen, From: inc.Phase,
		Reason: "the incident is not closed"}
}

// transition runs c as a phase transition: it fires c's action (or the one
// c.pick chooses) on the model and records the move.
func (r *Responder) transition(ctx context.Context, actor Actor, id ID, reason string, c change) (*Incident, error) {
	// One state shared by the closures below, so a transition allocates
	// it once rather than once per captured variable.
	st := &transitionState{action: c.action, pick: c.pick}
	c.op, c.reason = OpTransition, reason
	if st.pick != nil {
		c.pick = st.choose
	}
	c.apply = func(ctx context.Context, inc *Incident, now time.Time) ([]EventData, error) {
		if inc.Model != r.model.Name() {
			return nil, invalid("phase model", inc.Model, "the incident follows another model than this responder's "+r.model.Name())
		}
		st.from, st.entered = inc.Phase, inc.phaseEntered()
		to, err := r.model.Fire(ctx, inc, st.from, st.action)
		if err != nil {
			return nil, err
		}
		r.enterPhase(inc, st.action, to, now)
		data := []EventData{&PhaseChanged{Action: st.action, From: st.from, To: to}}
		return r.prepareEntry(ctx, inc, st.from, st.action, actor, now, data)
	}
	inc, err := r.mutate(ctx, actor, id, c)
	label := st.action
	if !r.actions[label] {
		label = "unknown" // a caller's typo must not become a metric series
	}
	r.tel.transitions.Add(ctx, 1, r.tel.transitionAttrs(r.model.Name(), label, outcome(err)))
	if err != nil {
		return nil, err
	}
	r.tel.phaseDuration.Record(ctx, inc.UpdatedAt.Sub(st.entered).Seconds(), r.tel.phaseAttrs(r.model.Name(), st.from))
	return inc, nil
}

// transitionState is what one transition learns as it runs.
type transitionState struct {
	action  phases.Action
	pick    func(*Incident) (phases.Action, error)
	from    phases.Phase
	entered time.Time
}

// choose picks the action from the incident as read, and remembers it.
func (st *transitionState) choose(inc *Incident) (phases.Action, error) {
	a, err := st.pick(inc)
	st.action = a
	return a, err
}

// ActionOption is an action the model offers from an incident's current
// phase, and whether it may be taken now.
type ActionOption struct {
	Action phases.Action
	// Title is the action's display name.
	Title string
	// To is the phase the action leads to.
	To phases.Phase
	// Err is nil if the action may be taken now. Otherwise it says why
	// not: a [*phases.GuardError] (matching [ErrRefused]), or a
	// [*DeniedError] from the policy (matching [ErrUnauthorized]).
	Err error
}

// Actions lists the actions the model offers from the incident's current
// phase, in model order, and checks each against the policy for actor and
// against the guards, without changing anything. Consoles use it to show
// what can be done next and why the rest cannot.
func (r *Responder) Actions(ctx context.Context, actor Actor, id ID) (opts []ActionOption, err error) {
	ctx, span := r.tel.start(ctx, "actions", id)
	defer func() { r.tel.end(ctx, span, err) }()
	if actor, err = actor.normalize("actor"); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("incident ID", "", "must not be empty")
	}
	inc, err := r.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.actionOptions(ctx, actor, inc), nil
}

// actionOptions lists the actions the model offers from inc's phase, each
// checked as [Responder.Transition] would check it.
func (r *Responder) actionOptions(ctx context.Context, actor Actor, inc *Incident) []ActionOption {
	var opts []ActionOption
	for _, a := range r.model.Available(inc.Phase) {
		def, _ := r.model.Action(a)
		opts = append(opts, ActionOption{Action: a, Title: def.Title, To: def.To, Err: facade(r.mayTransition(ctx, actor, inc, a))})
	}
	return opts
}

// phaseEntered returns when the incident entered its current phase.
func (inc *Incident) phaseEntered() time.Time {
	if n := len(inc.PhaseHistory); n > 0 {
		return inc.PhaseHistory[n-1].Entered
	}
	return inc.Times.Opened
}

// enterPhase moves the incident into phase to by action a: it closes the
// current stay, opens a new one and sets the milestones the phase marks.
// Entering a terminal phase closes (and resolves) the incident. Going back
// to a phase that does not mark the incident resolved (reopening, or
// returning to containment after the post-incident review began) clears the
// resolved and closed times: the response is running again. Earlier
// milestones (contained, eradicated…) keep their first time.
func (r *Responder) enterPhase(inc *Incident, a phases.Action, to phases.Phase, now time.Time) {
	if n := len(inc.PhaseHistory); n > 0 {
		inc.PhaseHistory[n-1].Left = now
	}
	inc.PhaseHistory = append(inc.PhaseHistory, PhaseInterval{Phase: to, Action: a, Entered: now})
	inc.Phase = to
	def := r.phaseDefs[to]
	if !def.Terminal && !slices.Contains(def.Marks, phases.MilestoneResolved) {
		inc.Times.Resolved = time.Time{}
		inc.Times.Closed = time.Time{}
	}
	inc.Times.markAll(def.Marks, now)
	if def.Terminal {
		inc.Times.mark(phases.MilestoneResolved, now)
		inc.Times.mark(phases.MilestoneClosed, now)
	}
}

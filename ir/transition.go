package ir

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/incidentkit/incidentkit/phases"
)

// Transition takes a phase action on the incident, such as phases.Contain,
// after the model's guards allow it, and returns the incident in its new
// phase. Entering a phase sets the lifecycle timestamps it marks.
//
// Errors match phases.ErrInvalidTransition when the action does not leave
// from the current phase (or is unknown: phases.ErrUnknownAction), and
// phases.ErrGuardFailed when guards refuse; the [*phases.GuardError] says
// which guards and why.
func (r *Responder) Transition(ctx context.Context, actor Actor, id ID, action phases.Action, reason string) (*Incident, error) {
	return r.transition(ctx, actor, id, reason, change{action: action})
}

// Close takes the action that closes the incident from its current phase
// (the first action of the model that leads to a terminal phase; in the
// built-in models, phases.Close from the last phase or phases.Dismiss from
// triage). It fails like [Responder.Transition].
func (r *Responder) Close(ctx context.Context, actor Actor, id ID, reason string) (*Incident, error) {
	return r.transition(ctx, actor, id, reason, change{action: phases.Close,
		pick: func(inc *Incident) (phases.Action, error) {
			if a, ok := r.model.ClosingAction(inc.Phase); ok {
				return a, nil
			}
			return "", &phases.TransitionError{Model: r.model.Name(), Action: phases.Close, From: inc.Phase,
				Reason: "no action closes the incident from this phase"}
		}})
}

// Reopen takes the action that reopens a closed incident (phases.Reopen in
// the built-in models). Reopening clears the resolved and closed times; the
// timeline keeps the earlier ones. Reopening an open incident fails with
// phases.ErrInvalidTransition.
func (r *Responder) Reopen(ctx context.Context, actor Actor, id ID, reason string) (*Incident, error) {
	return r.transition(ctx, actor, id, reason, change{action: phases.Reopen,
		pick: func(inc *Incident) (phases.Action, error) {
			if a, ok := r.model.ReopeningAction(inc.Phase); ok {
				return a, nil
			}
			return "", &phases.TransitionError{Model: r.model.Name(), Action: phases.Reopen, From: inc.Phase,
				Reason: "the incident is not closed"}
		}})
}

// transition runs c as a phase transition: it fires c's action (or the one
// c.pick chooses) on the model and records the move.
func (r *Responder) transition(ctx context.Context, actor Actor, id ID, reason string, c change) (*Incident, error) {
	var from, to phases.Phase
	var entered time.Time
	action := c.action
	pick := c.pick
	c.op, c.reason = OpTransition, reason
	if pick != nil {
		c.pick = func(inc *Incident) (phases.Action, error) {
			a, err := pick(inc)
			action = a
			return a, err
		}
	}
	c.apply = func(ctx context.Context, inc *Incident, now time.Time) ([]EventData, error) {
		if inc.Model != r.model.Name() {
			return nil, invalid("phase model", inc.Model, "the incident follows another model than this responder's "+r.model.Name())
		}
		from, entered = inc.Phase, inc.phaseEntered()
		next, err := r.model.Fire(ctx, inc, from, action)
		if err != nil {
			return nil, err
		}
		to = next
		inc.enterPhase(r.model, action, to, now)
		return []EventData{&PhaseChanged{Action: action, From: from, To: to}}, nil
	}
	inc, err := r.mutate(ctx, actor, id, c, attrAction.String(string(action)), attrModel.String(r.model.Name()))
	r.tel.transitions.Add(ctx, 1, metric.WithAttributes(attrModel.String(r.model.Name()),
		attrAction.String(string(action)), attrOutcome.String(outcome(err))))
	if err != nil {
		return nil, err
	}
	r.tel.phaseDuration.Record(ctx, inc.UpdatedAt.Sub(entered).Seconds(),
		metric.WithAttributes(attrModel.String(r.model.Name()), attrPhase.String(string(from))))
	return inc, nil
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
	// not: a [*phases.GuardError], or a [*DeniedError] from the policy.
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
	for _, a := range r.model.Available(inc.Phase) {
		def, _ := r.model.Action(a)
		opt := ActionOption{Action: a, Title: def.Title, To: def.To}
		opt.Err = r.authorize(ctx, Request{Actor: actor, Operation: OpTransition, Action: a, Incident: inc})
		if opt.Err == nil {
			_, opt.Err = r.model.Fire(ctx, inc, inc.Phase, a)
		}
		opts = append(opts, opt)
	}
	return opts, nil
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
func (inc *Incident) enterPhase(m *phases.Model, a phases.Action, to phases.Phase, now time.Time) {
	if n := len(inc.PhaseHistory); n > 0 {
		inc.PhaseHistory[n-1].Left = now
	}
	inc.PhaseHistory = append(inc.PhaseHistory, PhaseInterval{Phase: to, Action: a, Entered: now})
	inc.Phase = to
	def, _ := m.Phase(to)
	if !def.Terminal && !slices.Contains(def.Marks, phases.MilestoneResolved) {
		inc.Times.Resolved = time.Time{}
		inc.Times.Closed = time.Time{}
	}
	for _, ms := range def.Marks {
		inc.Times.mark(ms, now)
	}
	if m.IsTerminal(to) {
		inc.Times.mark(phases.MilestoneResolved, now)
		inc.Times.mark(phases.MilestoneClosed, now)
	}
}

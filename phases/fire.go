package phases

import (
	"context"
	"errors"
	"fmt"

	"github.com/looplab/fsm"
)

// Fire takes action a on subject s, which is in phase from. It runs the
// action's guards and returns the phase the subject moves to. Fire changes
// nothing itself: the caller records the new phase, so Fire doubles as a
// dry run (for example to show which actions a person may take now).
//
// Errors: [ErrUnknownPhase] if from is not a phase of the model,
// [ErrUnknownAction] if a is not an action of it, [ErrInvalidTransition] if a
// does not leave from there, a [*GuardError] (matching [ErrGuardFailed]) if
// guards refuse, and the context's error if ctx ends first. All are safe to
// retry: nothing is left half-done.
func (m *Model) Fire(ctx context.Context, s Subject, from Phase, a Action) (Phase, error) {
	if s == nil {
		return from, fmt.Errorf("phases: %s: %s from %s: nil subject", m.def.Name, a, from)
	}
	if _, ok := m.phases[from]; !ok {
		return from, &TransitionError{Model: m.def.Name, Action: a, From: from,
			Reason: "the model has no such phase", kind: ErrUnknownPhase}
	}
	if err := ctx.Err(); err != nil {
		return from, fmt.Errorf("phases: %s: %s from %s: %w", m.def.Name, a, from, err)
	}
	// Guards run before the machine fires, outside any fsm callback: a
	// guard can take its time or fail without holding the machine's locks.
	// They only run for a move the model allows.
	if to, ok := m.Target(from, a); ok {
		t := Transition{Model: m.def.Name, Action: a, From: from, To: to, Subject: s}
		refusals := runGuards(ctx, m.guards[a], t)
		if err := ctx.Err(); err != nil {
			// The caller gave up while guards ran: report that, not a
			// refusal.
			return from, fmt.Errorf("phases: %s: %s from %s: %w", m.def.Name, a, from, err)
		}
		if len(refusals) > 0 {
			return from, &GuardError{Model: t.Model, Action: a, From: from, To: to, Refusals: refusals}
		}
	}
	// A throwaway machine per transition: looplab/fsm instances can be left
	// stuck mid-transition by a cancelled context, so none is ever reused.
	// It holds only the action taken (none for an action the model does
	// not have), which decides the move as the whole table would: the
	// same phase reached, the same errors.
	machine := fsm.NewFSM(string(from), m.events[a], nil)
	if err := machine.Event(ctx, string(a)); err != nil {
		return from, m.translate(err, a, from)
	}
	return Phase(machine.Current()), nil
}

// translate turns an fsm error into one of this package's errors.
func (m *Model) translate(err error, a Action, from Phase) error {
	var (
		unknown fsm.UnknownEventError
		invalid fsm.InvalidEventError
		same    fsm.NoTransitionError
	)
	switch {
	case errors.As(err, &unknown):
		return &TransitionError{Model: m.def.Name, Action: a, From: from,
			Reason: "the model has no such action", kind: ErrUnknownAction}
	case errors.As(err, &invalid):
		return &TransitionError{Model: m.def.Name, Action: a, From: from,
			Reason: "the action does not leave from this phase"}
	case errors.As(err, &same):
		return &TransitionError{Model: m.def.Name, Action: a, From: from,
			Reason: "the incident is already in that phase"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("phases: %s: %s from %s: %w", m.def.Name, a, from, err)
	default:
		// Not wrapped: no fsm type may reach callers.
		return fmt.Errorf("phases: %s: %s from %s: transition failed: %s", m.def.Name, a, from, err.Error())
	}
}

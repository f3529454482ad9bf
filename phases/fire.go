package phases

import (
	"context"
	"errors"
	"fmt"

	"github.com/looplab/fsm"
)

// firing carries one transition's subject and outcome through the fsm
// callbacks.
type firing struct {
	transition Transition
	guards     []Guard
}

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
	// A throwaway machine per transition: looplab/fsm instances can be left
	// stuck mid-transition by a cancelled context, so none is ever reused.
	machine := fsm.NewFSM(string(from), m.table, m.callbacks)
	f := &firing{
		transition: Transition{Model: m.def.Name, Action: a, From: from, Subject: s},
		guards:     m.guards[a],
	}
	if err := machine.Event(ctx, string(a), f); err != nil {
		return from, m.translate(err, a, from)
	}
	return Phase(machine.Current()), nil
}

// beforeEvent runs the guards of the action being fired, and cancels the
// transition if any refuses. It must not call back into the machine: fsm
// holds its locks while before_ callbacks run.
func (m *Model) beforeEvent(ctx context.Context, e *fsm.Event) {
	f, ok := e.Args[0].(*firing)
	if !ok {
		e.Cancel(errors.New("phases: internal error: missing transition state"))
		return
	}
	f.transition.To = Phase(e.Dst)
	refusals := runGuards(ctx, f.guards, f.transition)
	if err := ctx.Err(); err != nil {
		// The caller gave up while guards ran: report that, not a refusal.
		e.Cancel(err)
		return
	}
	if len(refusals) > 0 {
		t := f.transition
		e.Cancel(&GuardError{Model: t.Model, Action: t.Action, From: t.From, To: t.To, Refusals: refusals})
	}
}

// translate turns an fsm error into one of this package's errors.
func (m *Model) translate(err error, a Action, from Phase) error {
	var (
		unknown  fsm.UnknownEventError
		invalid  fsm.InvalidEventError
		same     fsm.NoTransitionError
		canceled fsm.CanceledError
	)
	switch {
	case errors.As(err, &canceled):
		var g *GuardError
		if errors.As(canceled.Err, &g) {
			return g
		}
		if canceled.Err != nil {
			return fmt.Errorf("phases: %s: %s from %s: %w", m.def.Name, a, from, canceled.Err)
		}
		return fmt.Errorf("phases: %s: %s from %s: transition cancelled", m.def.Name, a, from)
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
		return fmt.Errorf("phases: %s: %s from %s: transition failed: %s", m.def.Name, a, from, err.Error())
	}
}

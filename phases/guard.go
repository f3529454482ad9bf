package phases

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Subject is what a guard may ask about the incident being moved. It is
// deliberately small: an incident type satisfies it without this package
// knowing anything else about incidents. Roles and verdicts are named by
// strings here, as models written as data name them; an incident type
// keeps its own typed methods beside these.
type Subject interface {
	// HoldsRole reports whether someone holds the named role.
	HoldsRole(role string) bool
	// PendingTasks returns the titles of the required tasks of the phase
	// that are not done yet, or nothing when all are done.
	PendingTasks(phase Phase) []string
	// VerdictIn reports whether a verdict is set and, given verdicts,
	// whether it is one of them.
	VerdictIn(verdicts ...string) bool
}

// Transition is the move a guard is asked about.
type Transition struct {
	// Model is the name of the model the move belongs to.
	Model string
	// Action is the action being taken.
	Action Action
	// From is the phase being left; To the phase being entered.
	From, To Phase
	// Subject is the incident being moved.
	Subject Subject
}

// Guard decides whether a transition may happen. Check returns nil to allow
// it, or an error that says, in words fit for a person, why not. A guard must
// not change anything: it may be asked about a transition that never happens
// (for example to show which actions are open). Guards are called from one
// goroutine per transition but may run concurrently for different
// transitions, so they must be safe for concurrent use. A guard that panics
// refuses the transition; the panic does not escape.
//
// A guard that implements [fmt.Stringer] is named by its String method in
// errors; use [NamedGuard] to give a [GuardFunc] a name.
type Guard interface {
	Check(ctx context.Context, t Transition) error
}

// GuardFunc adapts a function to a [Guard].
type GuardFunc func(ctx context.Context, t Transition) error

// Check calls f.
func (f GuardFunc) Check(ctx context.Context, t Transition) error { return f(ctx, t) }

// NamedGuard returns g with the given name, used in errors and listings.
func NamedGuard(name string, g Guard) Guard { return namedGuard{name: name, Guard: g} }

type namedGuard struct {
	name string
	Guard
}

func (g namedGuard) String() string { return g.name }

func guardName(g Guard) string {
	if s, ok := g.(fmt.Stringer); ok {
		return s.String()
	}
	return "guard"
}

// GuardType names a built-in guard in a [GuardSpec].
type GuardType string

// The built-in guards a model definition can name.
const (
	// GuardRoleAssigned requires someone to hold GuardSpec.Role.
	GuardRoleAssigned GuardType = "role_assigned"
	// GuardTasksDone requires every required task of the phase being left
	// to be done.
	GuardTasksDone GuardType = "tasks_done"
	// GuardVerdictSet requires a verdict; with GuardSpec.Verdicts, one of
	// those.
	GuardVerdictSet GuardType = "verdict_set"
	// GuardEvidencePreserved requires evidence to have been preserved
	// (see [EvidencePreserved]).
	GuardEvidencePreserved GuardType = "evidence_preserved"
	// GuardReviewRecorded requires a post-incident review with a root
	// cause (see [ReviewRecorded]).
	GuardReviewRecorded GuardType = "review_recorded"
)

// GuardSpec names a built-in guard in a [Definition], so that models written
// as data (JSON) can carry guards. Attach guards written in Go with
// [Model.WithGuards].
type GuardSpec struct {
	Type GuardType `json:"type"`
	// Role is the role GuardRoleAssigned requires.
	Role string `json:"role,omitempty"`
	// Verdicts, for GuardVerdictSet, are the verdicts accepted; empty
	// accepts any.
	Verdicts []string `json:"verdicts,omitempty"`
}

// guard builds the guard a spec names, or returns a problem.
func (s GuardSpec) guard() (Guard, string) {
	switch s.Type {
	case GuardRoleAssigned:
		if s.Role == "" {
			return nil, "guard role_assigned needs a role"
		}
		return RoleAssigned(s.Role), ""
	case GuardTasksDone:
		return TasksDone(), ""
	case GuardVerdictSet:
		return VerdictSet(s.Verdicts...), ""
	case GuardEvidencePreserved:
		return EvidencePreserved(), ""
	case GuardReviewRecorded:
		return ReviewRecorded(), ""
	default:
		return nil, fmt.Sprintf("unknown guard type %q", s.Type)
	}
}

// RoleAssigned returns a guard that requires someone to hold role.
func RoleAssigned(role string) Guard {
	return NamedGuard("role_assigned("+role+")", GuardFunc(func(_ context.Context, t Transition) error {
		if t.Subject.HoldsRole(role) {
			return nil
		}
		return fmt.Errorf("no %s is assigned", strings.ReplaceAll(role, "_", " "))
	}))
}

// TasksDone returns a guard that requires every required task of the phase
// being left to be done.
func TasksDone() Guard {
	return NamedGuard("tasks_done", GuardFunc(func(_ context.Context, t Transition) error {
		pending := t.Subject.PendingTasks(t.From)
		if len(pending) == 0 {
			return nil
		}
		return fmt.Errorf("required tasks of %s not done: %s", t.From, strings.Join(pending, ", "))
	}))
}

// VerdictSet returns a guard that requires a verdict; given verdicts, one of
// them.
func VerdictSet(verdicts ...string) Guard {
	verdicts = slices.Clone(verdicts)
	name := "verdict_set"
	if len(verdicts) > 0 {
		name += "(" + strings.Join(verdicts, "|") + ")"
	}
	return NamedGuard(name, GuardFunc(func(_ context.Context, t Transition) error {
		if t.Subject.VerdictIn(verdicts...) {
			return nil
		}
		if len(verdicts) == 0 {
			return fmt.Errorf("no verdict is set")
		}
		return fmt.Errorf("the verdict must be one of %s", strings.Join(verdicts, ", "))
	}))
}

// EvidenceHolder is the optional interface a [Subject] implements to tell
// guards whether evidence has been preserved (collected into custody).
type EvidenceHolder interface {
	HasEvidence() bool
}

// EvidencePreserved returns a guard that requires evidence to have been
// preserved: the subject must implement [EvidenceHolder] and report some.
// Put it before eradication, which destroys what an examiner would need;
// [WithEvidencePreserved] does so for the built-in models.
func EvidencePreserved() Guard {
	return NamedGuard("evidence_preserved", GuardFunc(func(_ context.Context, t Transition) error {
		h, ok := t.Subject.(EvidenceHolder)
		if !ok {
			return fmt.Errorf("the incident does not track evidence")
		}
		if !h.HasEvidence() {
			return fmt.Errorf("no evidence has been preserved")
		}
		return nil
	}))
}

// ReviewHolder is the optional interface a [Subject] implements to tell
// guards whether a post-incident review is recorded, and whether it names
// a root cause.
type ReviewHolder interface {
	HasReview() (recorded, rootCause bool)
}

// ReviewRecorded returns a guard that requires a post-incident review
// that names a root cause: the subject must implement [ReviewHolder] and
// report one. The built-in models put it on the action that closes the
// incident from their review phase ([SANS], [NIST], [ICARP]); a model of
// your own opts in by naming it ([GuardReviewRecorded] in a definition)
// or with [Model.WithGuards].
func ReviewRecorded() Guard {
	return NamedGuard("review_recorded", GuardFunc(func(_ context.Context, t Transition) error {
		h, ok := t.Subject.(ReviewHolder)
		if !ok {
			return fmt.Errorf("the incident does not track a post-incident review")
		}
		switch recorded, rootCause := h.HasReview(); {
		case !recorded:
			return fmt.Errorf("no post-incident review is recorded")
		case !rootCause:
			return fmt.Errorf("the post-incident review names no root cause")
		}
		return nil
	}))
}

// runGuards asks every guard and collects the refusals. A guard that panics
// refuses; the panic is turned into its reason.
func runGuards(ctx context.Context, guards []Guard, t Transition) []Refusal {
	var refusals []Refusal
	for _, g := range guards {
		if err := checkGuard(ctx, g, t); err != nil {
			refusals = append(refusals, Refusal{Guard: guardName(g), Reason: err})
		}
	}
	return refusals
}

func checkGuard(ctx context.Context, g Guard, t Transition) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if perr, ok := v.(error); ok {
				err = fmt.Errorf("guard panicked: %w", perr)
			} else {
				err = fmt.Errorf("guard panicked: %v", v)
			}
		}
	}()
	return g.Check(ctx, t)
}

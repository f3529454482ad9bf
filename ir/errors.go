package ir

import (
	"errors"
	"fmt"
	"strings"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/phases"
)

// Errors that callers branch on with [errors.Is]. An error the [Responder]
// returns matches one of them whichever package found the problem, and
// still matches that package's own errors too (see [Responder]).
var (
	// ErrNotFound means no incident has the given ID, or no evidence item
	// the given ID (then the error also matches evidence.ErrNotFound).
	ErrNotFound = errors.New("ir: not found")
	// ErrConflict means the incident, or its custody log, changed between
	// being read and being written; nothing was written. Read it again
	// and retry.
	ErrConflict = errors.New("ir: conflict")
	// ErrInvalid means the input was rejected; nothing was changed. The
	// error is an [*InvalidError] that says which field and why (an
	// [*InputError] listing them, when an input has several), or, for
	// input another package checks, that package's error: an
	// *evidence.InvalidError for evidence (matching evidence.ErrInvalid),
	// a transition error for a phase action the model does not have
	// (matching phases.ErrUnknownAction).
	ErrInvalid = errors.New("ir: invalid input")
	// ErrUnauthorized means the [Policy] refused the actor (the error is a
	// [*DeniedError]), or the evidence locker's access policy did (the
	// error matches evidence.ErrDenied); nothing was changed.
	ErrUnauthorized = errors.New("ir: unauthorized")
	// ErrRefused means the incident's state does not allow the change: the
	// phase action does not leave from the incident's current phase
	// (matching phases.ErrInvalidTransition), or the model's guards
	// refuse it (matching phases.ErrGuardFailed; a [*phases.GuardError]
	// says which guards and why). The input was well formed and the actor
	// allowed; nothing was changed. Change the incident first (assign the
	// role, finish the task, set the verdict) and try again.
	ErrRefused = errors.New("ir: refused")
)

// leafErrors pairs the errors of the packages the [Responder] calls with
// the error of this package each one matches when the Responder returns
// it. The first pair that matches wins: an unknown action is bad input
// before it is a transition the phase does not allow.
var leafErrors = [...]struct{ leaf, facade error }{
	{phases.ErrUnknownAction, ErrInvalid},
	{phases.ErrInvalidTransition, ErrRefused},
	{phases.ErrGuardFailed, ErrRefused},
	{evidence.ErrInvalid, ErrInvalid},
	{evidence.ErrNotFound, ErrNotFound},
	{evidence.ErrConflict, ErrConflict},
	{evidence.ErrDenied, ErrUnauthorized},
}

// facadeError is an error another package found, as the [Responder]
// returns it: with the same message, matching the error of this package
// that it pairs with in [leafErrors], and unwrapping to the original, so
// that the other package's errors and types still match.
type facadeError struct {
	err    error
	facade error
}

func (e *facadeError) Error() string        { return e.err.Error() }
func (e *facadeError) Unwrap() error        { return e.err }
func (e *facadeError) Is(target error) bool { return target == e.facade }

// facade returns err as the [Responder] returns it: unchanged if it
// matches none of [leafErrors] or already matches this package's error,
// otherwise wrapped so that it matches that error too.
func facade(err error) error {
	if err == nil {
		return nil
	}
	for _, p := range leafErrors {
		if errors.Is(err, p.leaf) {
			if errors.Is(err, p.facade) {
				return err
			}
			return &facadeError{err: err, facade: p.facade}
		}
	}
	return err
}

// InvalidError says which input was rejected and why. It matches
// [ErrInvalid].
type InvalidError struct {
	// Field names the input, such as "title" or "severity".
	Field string
	// Value is the rejected value, when showing it helps.
	Value string
	// Reason says what is wrong, in words fit for a person.
	Reason string
}

func (e *InvalidError) Error() string { return "ir: " + e.problem() }

// problem is the error's message without the package's name.
func (e *InvalidError) problem() string {
	if e.Value != "" {
		return fmt.Sprintf("invalid %s %q: %s", e.Field, e.Value, e.Reason)
	}
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Is reports whether target is [ErrInvalid].
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, value, reason string) error {
	return &InvalidError{Field: field, Value: value, Reason: reason}
}

// InputError lists every problem found in one input, such as the
// [NewIncident] given to [Responder.Open], so that a person can fix them
// all at once. It matches [ErrInvalid]. Each problem is an [*InvalidError]
// in Problems; [errors.As] finds the first. An input with one problem
// returns that [*InvalidError] alone.
type InputError struct {
	// Problems holds one error per problem, in the order of the input's
	// fields.
	Problems []*InvalidError
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString("ir: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.problem())
	}
	return b.String()
}

// Is reports whether target is [ErrInvalid].
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns each problem.
func (e *InputError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// problems collects the problems found in one input.
type problems []*InvalidError

// add records err, if not nil: an [*InvalidError], or the problems of an
// [*InputError].
func (ps *problems) add(err error) {
	var in *InputError
	var inv *InvalidError
	switch {
	case err == nil:
	case errors.As(err, &in):
		*ps = append(*ps, in.Problems...)
	case errors.As(err, &inv):
		*ps = append(*ps, inv)
	default:
		*ps = append(*ps, &InvalidError{Field: "input", Reason: err.Error()})
	}
}

// err returns nil if no problem was found, the one [*InvalidError] if one
// was, or an [*InputError] listing them all.
func (ps problems) err() error {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	return &InputError{Problems: ps}
}

// DeniedError reports a request the [Policy] refused. It matches
// [ErrUnauthorized] and unwraps to the policy's own error.
type DeniedError struct {
	Request Request
	Err     error
}

func (e *DeniedError) Error() string {
	what := string(e.Request.Operation)
	if e.Request.Action != "" {
		what += " " + string(e.Request.Action)
	}
	return fmt.Sprintf("ir: %s denied to %s: %v", what, e.Request.Actor.ID, e.Err)
}

// Is reports whether target is [ErrUnauthorized].
func (e *DeniedError) Is(target error) bool { return target == ErrUnauthorized }

// Unwrap returns the policy's error.
func (e *DeniedError) Unwrap() error { return e.Err }

// opError is an error of one of this package's operations. Its message
// names the package once, even when the error it wraps is this package's
// too ("ir: evidence … collected but not linked to incident …: conflict"
// rather than repeating "ir: "), and it unwraps to that error.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	return "ir: " + e.op + ": " + strings.TrimPrefix(e.err.Error(), "ir: ")
}

func (e *opError) Unwrap() error { return e.err }

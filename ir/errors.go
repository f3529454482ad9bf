package ir

import (
	"errors"
	"fmt"
)

// Errors that callers branch on with [errors.Is]. Transition failures are
// the errors of package phases: phases.ErrInvalidTransition,
// phases.ErrGuardFailed and phases.ErrUnknownAction.
var (
	// ErrNotFound means no incident has the given ID.
	ErrNotFound = errors.New("ir: not found")
	// ErrConflict means the incident changed between being read and being
	// written; nothing was written. Read it again and retry.
	ErrConflict = errors.New("ir: conflict")
	// ErrInvalid means the input was rejected; the error is an
	// [*InvalidError] that says which field and why. Nothing was changed.
	ErrInvalid = errors.New("ir: invalid input")
	// ErrUnauthorized means the [Policy] refused the actor; nothing was
	// changed.
	ErrUnauthorized = errors.New("ir: unauthorized")
)

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

func (e *InvalidError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("ir: invalid %s %q: %s", e.Field, e.Value, e.Reason)
	}
	return fmt.Sprintf("ir: invalid %s: %s", e.Field, e.Reason)
}

// Is reports whether target is [ErrInvalid].
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, value, reason string) error {
	return &InvalidError{Field: field, Value: value, Reason: reason}
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

package notify

import (
	"errors"
	"fmt"
)

// Errors that callers branch on with [errors.Is].
var (
	// ErrInvalid means the input was rejected; nothing was changed. The
	// error is an [*InvalidError] that says which input and why.
	ErrInvalid = errors.New("notify: invalid input")
	// ErrNotFound means no outbox entry has the given ID: it was
	// acknowledged already.
	ErrNotFound = errors.New("notify: not found")
	// ErrConflict means another claimer holds the outbox entry: the
	// caller's claim lapsed and the entry was handed out again. Leave the
	// entry to its new claimer.
	ErrConflict = errors.New("notify: conflict")
)

// InvalidError says which input was rejected and why. It matches
// [ErrInvalid].
type InvalidError struct {
	// Field names the input, such as "outbox owner".
	Field string
	// Value is the rejected value, when showing it helps.
	Value string
	// Reason says what is wrong, in words fit for a person.
	Reason string
}

func (e *InvalidError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("notify: invalid %s %q: %s", e.Field, e.Value, e.Reason)
	}
	return fmt.Sprintf("notify: invalid %s: %s", e.Field, e.Reason)
}

// Is reports whether target is [ErrInvalid].
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, value, reason string) error {
	return &InvalidError{Field: field, Value: value, Reason: reason}
}

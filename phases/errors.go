package phases

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Errors that callers branch on with [errors.Is].
var (
	// ErrInvalidTransition means the action cannot be taken from the
	// current phase: it does not leave from there, or it would not move
	// the incident at all. [ErrUnknownAction] and [ErrUnknownPhase] also
	// match it.
	ErrInvalidTransition = errors.New("phases: invalid transition")
	// ErrUnknownAction means the model has no action of that name.
	ErrUnknownAction = errors.New("phases: unknown action")
	// ErrUnknownPhase means the model has no phase of that name.
	ErrUnknownPhase = errors.New("phases: unknown phase")
	// ErrGuardFailed means one or more guards refused the transition; the
	// error is a [*GuardError] that says which and why.
	ErrGuardFailed = errors.New("phases: guard refused transition")
	// ErrInvalidModel means a model definition failed validation; the error
	// is a [*ValidationError] listing every problem, a [*LimitError] for a
	// definition beyond a size limit, or, for a definition [Load] could not
	// decode, a [*DecodeError] saying where.
	ErrInvalidModel = errors.New("phases: invalid model")
	// ErrModelTooLarge means a model definition is beyond one of the size
	// limits of [New] and [Load]; the error is a [*LimitError] that says
	// which. It also matches [ErrInvalidModel].
	ErrModelTooLarge = errors.New("phases: model too large")
)

// TransitionError reports an action that cannot be taken from a phase.
// It matches [ErrInvalidTransition], and [ErrUnknownAction] or
// [ErrUnknownPhase] when that is the cause.
type TransitionError struct {
	Model  string
	Action Action
	From   Phase
	// Reason says why, in words fit for a person.
	Reason string
	kind   error
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("phases: %s: cannot %s from %s: %s", e.Model, e.Action, e.From, e.Reason)
}

// Is reports whether target is [ErrInvalidTransition] or the specific cause.
func (e *TransitionError) Is(target error) bool {
	return target == ErrInvalidTransition || (e.kind != nil && target == e.kind)
}

// Refusal is one guard's refusal of a transition.
type Refusal struct {
	// Guard is the guard's name.
	Guard string
	// Reason is the error the guard returned.
	Reason error
}

// GuardError reports that guards refused a transition. It lists every
// refusal, not only the first, so a person can fix them all at once. It
// matches [ErrGuardFailed], and [errors.Is] and [errors.As] also see each
// guard's own error.
type GuardError struct {
	Model    string
	Action   Action
	From, To Phase
	Refusals []Refusal
}

func (e *GuardError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "phases: %s: cannot %s from %s to %s: ", e.Model, e.Action, e.From, e.To)
	for i, r := range e.Refusals {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", r.Guard, r.Reason)
	}
	return b.String()
}

// Is reports whether target is [ErrGuardFailed].
func (e *GuardError) Is(target error) bool { return target == ErrGuardFailed }

// Unwrap returns each guard's error.
func (e *GuardError) Unwrap() []error {
	errs := make([]error, len(e.Refusals))
	for i, r := range e.Refusals {
		errs[i] = r.Reason
	}
	return errs
}

// ValidationError lists every problem found in a model definition, up to
// 100, then says how many more there are. It matches [ErrInvalidModel].
type ValidationError struct {
	Model    string
	Problems []string
}

func (e *ValidationError) Error() string {
	name := e.Model
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Sprintf("phases: invalid model %s: %s", name, strings.Join(e.Problems, "; "))
}

// Is reports whether target is [ErrInvalidModel].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidModel }

// DecodeError reports a model definition that [Load] could not decode:
// malformed JSON, an unknown field, a value of the wrong type, or data
// after the definition. It matches [ErrInvalidModel] and unwraps to the
// decoder's error.
type DecodeError struct {
	// Line and Column locate the problem, both counted from 1; the column
	// counts bytes.
	Line, Column int
	// Offset is the problem's offset in bytes from the start of the input.
	Offset int64
	Err    error
}

// newDecodeError returns the [*DecodeError] of err, found at offset off of
// data.
func newDecodeError(data []byte, off int64, err error) *DecodeError {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return &DecodeError{Line: line, Column: col, Offset: off, Err: err}
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("phases: invalid model definition at line %d, column %d: %v", e.Line, e.Column, e.Err)
}

// Is reports whether target is [ErrInvalidModel].
func (e *DecodeError) Is(target error) bool { return target == ErrInvalidModel }

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

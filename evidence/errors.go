package evidence

import (
	"errors"
	"fmt"
	"strings"
)

// Errors that callers branch on with [errors.Is].
var (
	// ErrTampered means stored evidence or its custody log no longer
	// matches what was recorded: a blob's bytes, a record, a link or a
	// signature. The error is a [*TamperError] (or joins several) that
	// says exactly what.
	ErrTampered = errors.New("evidence: tampered")
	// ErrNotFound means no item, blob or case has the given identifier.
	ErrNotFound = errors.New("evidence: not found")
	// ErrConflict means the custody log moved on between reading its head
	// and appending; nothing was written. Retry.
	ErrConflict = errors.New("evidence: conflict")
	// ErrInvalid means the input was rejected; nothing was changed.
	ErrInvalid = errors.New("evidence: invalid input")
	// ErrDenied means the access policy refused an action. The refusal
	// itself is recorded: in the item's custody log as
	// [ActionAccessDenied] when the case holds the item, and always by
	// [LockerConfig.Refused] (see [Refusal]).
	ErrDenied = errors.New("evidence: access denied")
)

// TamperError describes one piece of evidence found altered. It matches
// [ErrTampered].
type TamperError struct {
	// Case is the case the problem is in.
	Case CaseID
	// Item is the item concerned, if any.
	Item ItemID
	// Record is the index of the custody record concerned, or -1.
	Record int64
	// What names what was checked: "record" (a record's encoding, its
	// fields or its leaf hash), "item link" (a record's link to its
	// item's previous record), "item", "tree", "checkpoint", "checkpoint
	// signature", "verifier key", "inclusion proof", "consistency proof",
	// "blob" (stored content), "content …" (content in a bundle),
	// "witnessed checkpoint", or "rollback": the stored log is shorter
	// than, or differs from, the checkpoint its [Witness] holds.
	What string
	// Expected and Found are what should have been seen and what was.
	Expected, Found string
}

func (e *TamperError) Error() string {
	msg := "evidence: tampered " + e.What
	if e.Case != "" {
		msg += " in case " + string(e.Case)
	}
	if e.Item != "" {
		msg += ", item " + string(e.Item)
	}
	if e.Record >= 0 {
		msg += fmt.Sprintf(", record %d", e.Record)
	}
	if e.Expected != "" || e.Found != "" {
		msg += fmt.Sprintf(": expected %s, found %s", e.Expected, e.Found)
	}
	return msg
}

// Is reports whether target is [ErrTampered].
func (e *TamperError) Is(target error) bool { return target == ErrTampered }

// InvalidError says which input was rejected and why. It matches
// [ErrInvalid]. It has the fields, and its message the shape, of the
// incident package's InvalidError.
type InvalidError struct {
	// Field names the input, such as "name" or "kind".
	Field string
	// Value is the rejected value, when showing it helps.
	Value string
	// Reason says what is wrong, in words fit for a person.
	Reason string
}

func (e *InvalidError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("evidence: invalid %s %q: %s", e.Field, e.Value, e.Reason)
	}
	return fmt.Sprintf("evidence: invalid %s: %s", e.Field, e.Reason)
}

// Is reports whether target is [ErrInvalid].
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// opError is an error of one of this package's operations. Its message
// names the package once, however many of the package's operations the
// error passed through ("evidence: collect huge.bin: ingest: invalid
// content: …" rather than repeating "evidence: " at each step), and it
// unwraps to the error it wraps, and to kind, a sentinel the error
// matches without the sentinel's words in its message.
type opError struct {
	op   string
	kind error
	err  error
}

func (e *opError) Error() string {
	return "evidence: " + e.op + ": " + strings.TrimPrefix(e.err.Error(), "evidence: ")
}

// Unwrap returns the wrapped error, and the sentinel if there is one.
func (e *opError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

// wrapOp names the operation op in err, or returns nil if err is nil.
func wrapOp(op string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, err: err}
}

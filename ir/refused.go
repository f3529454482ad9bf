package ir

import (
	"errors"
	"fmt"
	"strings"

	"github.com/incidentkit/incidentkit/phases"
)

// RequestKind names a change a caller asks for that the [Responder] carries
// out with a phase action of the model's choosing: closing or reopening.
type RequestKind string

// Requests whose refusals are [*RefusedError] values.
const (
	// RequestClose is [Responder.Close].
	RequestClose RequestKind = "close"
	// RequestReopen is [Responder.Reopen].
	RequestReopen RequestKind = "reopen"
)

// String returns the request's name.
func (k RequestKind) String() string { return string(k) }

// RefusedError reports that closing or reopening an incident was refused,
// in the words of what the caller asked for rather than of the model's
// action that would have carried it out (such as phases.Dismiss). It
// unwraps to the refusal itself: a [*phases.TransitionError] (matching
// phases.ErrInvalidTransition), a [*phases.GuardError] (matching
// phases.ErrGuardFailed) or a [*DeniedError] (matching [ErrUnauthorized]).
type RefusedError struct {
	// Request is what the caller asked for.
	Request RequestKind
	// Incident is the incident's ID.
	Incident ID
	// Phase is the phase the incident was in.
	Phase phases.Phase
	// Err is the refusal.
	Err error
}

func (e *RefusedError) Error() string {
	var why string
	var guard *phases.GuardError
	var move *phases.TransitionError
	var denied *DeniedError
	switch {
	case errors.As(e.Err, &guard):
		reasons := make([]string, len(guard.Refusals))
		for i, r := range guard.Refusals {
			reasons[i] = fmt.Sprintf("%s: %v", r.Guard, r.Reason)
		}
		why = strings.Join(reasons, "; ")
	case errors.As(e.Err, &move):
		why = move.Reason
	case errors.As(e.Err, &denied):
		why = fmt.Sprintf("denied to %s: %v", denied.Request.Actor.ID, denied.Err)
	default:
		why = e.Err.Error()
	}
	if e.Phase == "" {
		return fmt.Sprintf("ir: cannot %s incident %s: %s", e.Request, e.Incident, why)
	}
	return fmt.Sprintf("ir: cannot %s incident %s from %s: %s", e.Request, e.Incident, e.Phase, why)
}

// Unwrap returns the refusal.
func (e *RefusedError) Unwrap() error { return e.Err }

// refused turns a refusal of a close or reopen request into a
// [*RefusedError]; other errors, and nil, are returned as they are. from
// is the incident's phase, if known, for a refusal that does not carry it.
func refused(k RequestKind, id ID, from phases.Phase, err error) error {
	var (
		guard  *phases.GuardError
		move   *phases.TransitionError
		denied *DeniedError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &guard):
		return &RefusedError{Request: k, Incident: id, Phase: guard.From, Err: err}
	case errors.As(err, &move):
		return &RefusedError{Request: k, Incident: id, Phase: move.From, Err: err}
	case errors.As(err, &denied):
		if denied.Request.Incident != nil {
			from = denied.Request.Incident.Phase
		}
		return &RefusedError{Request: k, Incident: id, Phase: from, Err: err}
	default:
		return err
	}
}

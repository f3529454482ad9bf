package ir

import (
	"context"

	"github.com/incidentkit/incidentkit/phases"
)

// Operation names a kind of change, for a [Policy] to decide on.
type Operation string

// Operations the [Responder] asks its [Policy] about.
const (
	OpOpen          Operation = "open"
	OpTransition    Operation = "transition"
	OpSetSeverity   Operation = "set_severity"
	OpSetPriority   Operation = "set_priority"
	OpSetImpact     Operation = "set_impact"
	OpSetVerdict    Operation = "set_verdict"
	OpAssign        Operation = "assign"
	OpUnassign      Operation = "unassign"
	OpAddTask       Operation = "add_task"
	OpCompleteTask  Operation = "complete_task"
	OpAddObservable Operation = "add_observable"
	OpAddAsset      Operation = "add_asset"
	OpAddNote       Operation = "add_note"
	OpDecide        Operation = "decide"
	// OpCollectEvidence is checked before evidence is taken in; the
	// locker's own access policy then governs custody actions.
	OpCollectEvidence Operation = "collect_evidence"
	// OpPostStatus writes a status update for an audience.
	OpPostStatus Operation = "post_status"
	// OpRecordNotification records that a notification could not be
	// delivered; a dispatcher does it, as a service actor.
	OpRecordNotification Operation = "record_notification"
	// OpRecordReview records or revises the post-incident review.
	OpRecordReview Operation = "record_review"
	// OpAddFollowUp and OpCompleteFollowUp add a follow-up action of the
	// review and mark one done, also after the incident is closed.
	OpAddFollowUp      Operation = "add_follow_up"
	OpCompleteFollowUp Operation = "complete_follow_up"
)

// String returns the operation's name.
func (o Operation) String() string { return string(o) }

// Request is what a [Policy] decides on.
type Request struct {
	Actor     Actor
	Operation Operation
	// Action is the phase action, for [OpTransition].
	Action phases.Action
	// Role is the role being assigned or unassigned, for [OpAssign] and
	// [OpUnassign].
	Role Role
	// Incident is the incident as it is before the change; for [OpOpen],
	// the incident about to be opened. The policy must not modify it.
	Incident *Incident
}

// Policy decides whether an actor may make a change. Authorize returns nil
// to allow it, or an error saying why not; the [Responder] then returns a
// [*DeniedError] (matching [ErrUnauthorized]) and changes nothing.
// Implementations must be safe for concurrent use. Authorize is called
// while the change holds its incident's turn (see [Responder]): it may
// read through the Responder, but must not change the same incident
// through it, which would wait for itself.
type Policy interface {
	Authorize(ctx context.Context, req Request) error
}

// PolicyFunc adapts a function to a [Policy].
type PolicyFunc func(ctx context.Context, req Request) error

// Authorize calls f.
func (f PolicyFunc) Authorize(ctx context.Context, req Request) error { return f(ctx, req) }

// AllowAll is the [Policy] that allows everything. It is the default.
var AllowAll Policy = PolicyFunc(func(context.Context, Request) error { return nil })

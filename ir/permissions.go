package ir

import (
	"context"
	"fmt"

	"github.com/incidentkit/incidentkit/phases"
)

// Permission says whether an actor may make one kind of change to an
// incident now, and if not, why not.
type Permission struct {
	// Operation is the kind of change, as the [Policy] is asked about it.
	Operation Operation
	// Role is the role being assigned or unassigned: [OpAssign] and
	// [OpUnassign] have one Permission per role.
	Role Role
	// Err is nil if the change may be made. Otherwise it is the error the
	// change would return: a [*DeniedError] when the policy refuses, or an
	// [*InvalidError] when the Responder cannot make such a change to this
	// incident (no evidence locker configured, a list already full, a role
	// no one holds to take away).
	Err error
}

// Permissions says what an actor may do to one incident, as it stood when
// read, and why not the rest. Consoles use it to show the right buttons.
// The answers are those the operations give if nothing changes in between;
// an operation whose answer depends on its input (a task's ID, an
// observable's value) may still refuse that input.
type Permissions struct {
	// Incident is the incident the answers are about, as read.
	Incident *Incident
	// Changes has one entry for every [Operation] on an existing incident
	// other than [OpTransition], in the order the operations are declared;
	// [OpAssign] and [OpUnassign] have one entry per role.
	Changes []Permission
	// Actions are the phase actions, as [Responder.Actions] lists them.
	Actions []ActionOption
	// Close and Reopen are nil if [Responder.Close] and [Responder.Reopen]
	// may be called now, and otherwise the [*RefusedError] they would
	// return.
	Close, Reopen error
}

// Check returns the answer for op: nil if the change may be made, or why
// not. role picks the entry of [OpAssign] and [OpUnassign] and is ignored
// otherwise. An operation Changes does not hold is an [*InvalidError].
func (p *Permissions) Check(op Operation, role Role) error {
	for _, c := range p.Changes {
		if c.Operation == op && (c.Role == role || (op != OpAssign && op != OpUnassign)) {
			return c.Err
		}
	}
	return invalid("operation", fmt.Sprintf("%s %s", op, role), "is not a change to an existing incident")
}

// changeOperations are the operations Permissions answers for besides the
// phase actions, in the order they are declared.
var changeOperations = []Operation{
	OpSetSeverity, OpSetPriority, OpSetImpact, OpSetVerdict, OpAssign, OpUnassign, OpAddTask,
	OpCompleteTask, OpAddObservable, OpAddAsset, OpAddNote, OpDecide, OpCollectEvidence, OpPostStatus,
	OpRecordNotification, OpRecordReview, OpAddFollowUp, OpCompleteFollowUp, OpMark, OpCheckClocks,
}

// Allowed says, without changing anything, which changes actor may make to
// the incident now and why not the others: every operation, each phase
// action, closing and reopening. It asks the [Policy] the same [Request]
// each operation would, and checks what the phase model and the
// Responder's configuration allow, as the operations do. The policy is
// asked as a dry run: its refusals are returned, not logged as denied
// changes.
func (r *Responder) Allowed(ctx context.Context, actor Actor, id ID) (p *Permissions, err error) {
	ctx, span := r.tel.start(ctx, "allowed", id)
	defer func() { r.tel.end(ctx, span, err) }()
	if actor, err = actor.normalize("actor"); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("incident ID", "", "must not be empty")
	}
	inc, err := r.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	p = &Permissions{Incident: inc}
	for _, op := range changeOperations {
		if op != OpAssign && op != OpUnassign {
			p.Changes = append(p.Changes, Permission{Operation: op, Err: r.mayChange(ctx, actor, inc, op, "")})
			continue
		}
		for _, role := range roles {
			p.Changes = append(p.Changes, Permission{Operation: op, Role: role, Err: r.mayChange(ctx, actor, inc, op, role)})
		}
	}
	p.Actions = r.actionOptions(ctx, actor, inc)
	p.Close = refused(RequestClose, id, inc.Phase, r.mayPick(ctx, actor, inc, r.closingAction))
	p.Reopen = refused(RequestReopen, id, inc.Phase, r.mayPick(ctx, actor, inc, r.reopeningAction))
	return p, nil
}

// mayChange answers for one operation other than a transition, in the
// order the operation itself checks.
func (r *Responder) mayChange(ctx context.Context, actor Actor, inc *Incident, op Operation, role Role) error {
	if op == OpCollectEvidence && r.evidence == nil {
		return invalid("config", "", "collecting evidence needs Config.Evidence")
	}
	if err := r.mayRequest(ctx, Request{Actor: actor, Operation: op, Role: role, Incident: inc}); err != nil {
		return err
	}
	switch op {
	case OpUnassign:
		if !inc.HasRole(role) {
			return invalid("role", string(role), "no one holds it")
		}
	case OpAddTask:
		return full(len(inc.Tasks), "tasks", "too many tasks")
	case OpAddObservable:
		return full(len(inc.Observables), "observables", "too many observables")
	case OpAddAsset:
		return full(len(inc.Assets), "assets", "too many assets")
	case OpDecide:
		return full(len(inc.Decisions), "decisions", "too many decisions")
	case OpCollectEvidence:
		return full(len(inc.Evidence), "evidence", "too many evidence items")
	case OpAddFollowUp:
		return full(len(inc.FollowUps), "follow-ups", "too many follow-ups")
	case OpMark:
		return full(len(inc.Marks), "marks", "too many marks")
	}
	return nil
}

// full returns the error of adding to a list of n items that is full, or
// nil if it is not.
func full(n int, field, reason string) error {
	if n >= MaxListSize {
		return invalid(field, "", reason)
	}
	return nil
}

// mayRequest asks the policy about req as a dry run.
func (r *Responder) mayRequest(ctx context.Context, req Request) error {
	if err := r.policy.Authorize(ctx, req); err != nil {
		req.Incident = nil // the answer must not pin the incident
		return &DeniedError{Request: req, Err: err}
	}
	return nil
}

// mayTransition answers whether actor may take action a on inc, as
// [Responder.Transition] would: the policy, then the model and its guards.
func (r *Responder) mayTransition(ctx context.Context, actor Actor, inc *Incident, a phases.Action) error {
	if err := r.mayRequest(ctx, Request{Actor: actor, Operation: OpTransition, Action: a, Incident: inc}); err != nil {
		return err
	}
	if inc.Model != r.model.Name() {
		return invalid("phase model", inc.Model, "the incident follows another model than this responder's "+r.model.Name())
	}
	_, err := r.model.Fire(ctx, inc, inc.Phase, a)
	return err
}

// mayPick answers for a transition whose action pick chooses, as
// [Responder.Close] and [Responder.Reopen] do.
func (r *Responder) mayPick(ctx context.Context, actor Actor, inc *Incident, pick func(*Incident) (phases.Action, error)) error {
	a, err := pick(inc)
	if err != nil {
		return err
	}
	return r.mayTransition(ctx, actor, inc, a)
}

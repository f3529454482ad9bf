package ir

import (
	"context"
	"slices"
	"time"
)

// Assign gives who the role in the incident. For an exclusive role (see
// [Role.Exclusive]) this hands the role over from its current holder.
// Assigning a role someone already holds changes nothing. The first
// assignment marks the incident acknowledged. An incident has at most
// [MaxListSize] participants.
func (r *Responder) Assign(ctx context.Context, actor Actor, id ID, role Role, who Actor) (*Incident, error) {
	role, roleErr := ParseRole(string(role))
	return r.mutate(ctx, actor, id, change{op: OpAssign, role: role,
		check: func() (err error) { who, err = checkAssignee(roleErr, who); return err },
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			// Nothing is changed until the assignment is known to be
			// new: a no-op must leave inc as it was.
			for _, p := range inc.Participants {
				if p.Role == role && p.Actor.ID == who.ID {
					return nil, nil
				}
			}
			if len(inc.Participants) >= MaxListSize {
				return nil, invalid("participants", "", "too many participants")
			}
			var replaced Actor
			if role.Exclusive() {
				inc.Participants = slices.DeleteFunc(inc.Participants, func(p Participant) bool {
					if p.Role == role {
						replaced = p.Actor
						return true
					}
					return false
				})
			}
			inc.Participants = append(inc.Participants, Participant{Actor: who, Role: role, AssignedAt: now, AssignedBy: actor})
			if inc.Times.Acknowledged.IsZero() {
				inc.Times.Acknowledged = now
			}
			return []EventData{&RoleAssigned{Role: role, Assignee: who, Replaced: replaced}}, nil
		}})
}

// Unassign takes the role away from who. It fails with [ErrInvalid] if who
// does not hold it.
func (r *Responder) Unassign(ctx context.Context, actor Actor, id ID, role Role, who Actor, reason string) (*Incident, error) {
	role, roleErr := ParseRole(string(role))
	return r.mutate(ctx, actor, id, change{op: OpUnassign, role: role, reason: reason,
		check: func() (err error) { who, err = checkAssignee(roleErr, who); return err },
		apply: func(_ context.Context, inc *Incident, _ time.Time) ([]EventData, error) {
			for i, p := range inc.Participants {
				if p.Role == role && p.Actor.ID == who.ID {
					inc.Participants = append(inc.Participants[:i], inc.Participants[i+1:]...)
					return []EventData{&RoleUnassigned{Role: role, Assignee: p.Actor}}, nil
				}
			}
			return nil, invalid("assignee", who.ID, "does not hold the role "+string(role))
		}})
}

// checkAssignee reports the error parsing the role gave, if any, and
// validates the role's holder.
func checkAssignee(roleErr error, who Actor) (Actor, error) {
	if roleErr != nil {
		return Actor{}, roleErr
	}
	return who.normalize("assignee")
}

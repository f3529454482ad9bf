package ir

import (
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// Role is a responsibility in the response team.
type Role string

// Roles. The commander, scribe and communications lead are held by one
// person at a time: assigning one hands the role over. The others may be
// held by several people.
const (
	// RoleCommander leads the response and owns its decisions. The
	// built-in phase models require one before containment.
	RoleCommander Role = phases.RoleCommander
	// RoleDeputy stands in for the commander.
	RoleDeputy Role = "deputy_commander"
	// RoleScribe keeps the record.
	RoleScribe Role = "scribe"
	// RoleCommunications keeps stakeholders informed.
	RoleCommunications Role = "communications_lead"
	// RoleTechnicalLead leads the technical work.
	RoleTechnicalLead Role = "technical_lead"
	// RoleAnalyst investigates.
	RoleAnalyst Role = "analyst"
	// RoleLegal advises on legal and regulatory duties.
	RoleLegal Role = "legal"
	// RoleObserver follows the incident without a duty in it.
	RoleObserver Role = "observer"
)

var roles = []Role{
	RoleCommander, RoleDeputy, RoleScribe, RoleCommunications,
	RoleTechnicalLead, RoleAnalyst, RoleLegal, RoleObserver,
}

// ParseRole returns the role s names, or an [*InvalidError].
func ParseRole(s string) (Role, error) { return parseEnum("role", s, roles) }

// String returns the role's name.
func (r Role) String() string { return string(r) }

// Exclusive reports whether the role is held by one person at a time.
func (r Role) Exclusive() bool {
	return r == RoleCommander || r == RoleScribe || r == RoleCommunications
}

// MarshalText encodes the role, refusing unknown values.
func (r Role) MarshalText() ([]byte, error) { return marshalEnum("role", r, roles) }

// UnmarshalText decodes a role, refusing unknown values.
func (r *Role) UnmarshalText(b []byte) error { return unmarshalEnum("role", r, b, roles) }

// Participant is someone holding a role in an incident.
type Participant struct {
	Actor      Actor     `json:"actor"`
	Role       Role      `json:"role"`
	AssignedAt time.Time `json:"assigned_at"`
	AssignedBy Actor     `json:"assigned_by"`
}

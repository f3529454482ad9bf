// Package plan keeps an organisation's incident response plan: the response
// team and the roles each member can fill, the key contacts and how to
// reach them, the phase model incidents follow, who may decide what, the
// escalation path, and a playbook of tasks per incident category. It also
// records when the plan was last reviewed and exercised, and reports when
// either is overdue.
//
// A plan is defined in Go or loaded from JSON or YAML ([Load]), and
// validated with every problem listed at once, each with its location
// ([ValidationError]). Given to a Responder ([Plan.Configure]), it adds the
// playbook's tasks of each phase to an incident of the playbook's category
// in the very change that opens the incident or enters the phase, once
// (entering a phase again adds nothing), and fills the roles its on-duty
// members hold; the phase model's "required tasks done" guard then holds
// each transition until the required ones are done.
//
// The built-in playbooks ([Phishing], [Ransomware], [AccountCompromise],
// [DataExposure], [DenialOfService], [Malware]) are written for the SANS
// PICERL model from published guidance, named in each one's documentation;
// [Playbook.ForNIST] moves one onto the NIST SP 800-61r2 model.
package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Plan is an incident response plan. The zero value is not valid: a plan
// needs a name, a team with an incident commander, and a phase model.
type Plan struct {
	// Name names the plan, such as "acme-security".
	Name string
	// Model names the phase model incidents follow: a built-in model
	// (phases.Lookup) or, for a custom model, the name of CustomModel.
	Model string
	// CustomModel is the phase model when it is not a built-in one. Plans
	// loaded from files name custom models through [Options.Models].
	CustomModel *phases.Model
	// Team is the response team.
	Team []Member
	// Contacts are the people and organisations the team may have to
	// reach during an incident.
	Contacts []Contact
	// Decisions says who may decide what.
	Decisions []DecisionRule
	// Escalation is the escalation path, in order.
	Escalation []EscalationLevel
	// Playbooks are the tasks per incident category; at most one per
	// category.
	Playbooks []Playbook
	// Upkeep records when the plan was last reviewed and exercised.
	Upkeep Upkeep
}

// Member is a member of the response team.
type Member struct {
	// ID and Name are the member's identity as the incident records it
	// ([ir.Actor]); ID is required and unique in the team.
	ID   string
	Name string
	// Roles are the roles the member can fill.
	Roles []ir.Role
	// OnDuty are the roles among Roles that the member fills in every new
	// incident: the on-call incident commander, say. At most one member
	// is on duty for each role.
	OnDuty []ir.Role
}

// Actor returns the member as an incident's actor.
func (m Member) Actor() ir.Actor { return ir.Actor{ID: m.ID, Name: m.Name} }

// ContactKind says who a contact is.
type ContactKind string

// Kinds of contact.
const (
	ContactInternal       ContactKind = "internal"
	ContactExternal       ContactKind = "external"
	ContactLegal          ContactKind = "legal"
	ContactRegulator      ContactKind = "regulator"
	ContactLawEnforcement ContactKind = "law_enforcement"
	ContactCustomer       ContactKind = "customer"
)

var contactKinds = []ContactKind{
	ContactInternal, ContactExternal, ContactLegal, ContactRegulator, ContactLawEnforcement, ContactCustomer,
}

// Contact is someone the team may have to reach, and how: through named
// notify channels (the names a notify.Router's ChannelRules give), or
// through the routes that send messages for an audience. A contact needs
// at least one way to be reached.
type Contact struct {
	// Name is unique among the plan's contacts.
	Name string
	Kind ContactKind
	// Channels name notify channels that reach the contact.
	Channels []string
	// Audience is the notify audience whose routes reach the contact.
	Audience notify.Audience
	// Notes says what else people need to know, such as a phone number
	// to call when the channels are down.
	Notes string
}

// DecisionRule says which roles may take a kind of decision, such as
// taking a production system offline.
type DecisionRule struct {
	// Kind names the decision, such as "take_production_offline"; unique
	// in the plan, lower case letters, digits and underscores.
	Kind        string
	Description string
	// Roles may take the decision.
	Roles []ir.Role
}

// EscalationLevel is one step of the escalation path: who is told once an
// incident has been open for After without being resolved.
type EscalationLevel struct {
	// Name is unique in the path.
	Name string
	// After is how long after opening the level is reached; levels are
	// in order of After.
	After time.Duration
	// Contacts name the plan's contacts to reach.
	Contacts []string
}

// Playbook is the work an incident of one category takes: tasks per phase,
// each owned by a role.
type Playbook struct {
	// Name is unique in the plan; it begins the keys of the playbook's
	// tasks on incidents.
	Name     string
	Category ir.Category
	// Description and Source say what the playbook is for and which
	// published guidance it follows.
	Description string
	Source      string
	Steps       []Step
}

// Step is a task of a playbook.
type Step struct {
	// Key identifies the step in its playbook, for good: an incident
	// records it on the task (as "playbook/key"), so that the task is
	// added once however often its phase is entered. Lower case letters,
	// digits, '-' and '_'.
	Key string
	// Phase is the phase the task belongs to; the task is added when an
	// incident enters it.
	Phase    phases.Phase
	Title    string
	Required bool
	// Role owns the task; the task is assigned to whoever holds it when
	// the task is added.
	Role ir.Role
}

// TaskKey returns the key a step's task carries on an incident.
func (p Playbook) TaskKey(s Step) string { return p.Name + "/" + s.Key }

// Upkeep records when the plan was last reviewed and last exercised, and
// how often each is due. A zero interval means a year.
type Upkeep struct {
	LastReviewed  time.Time
	ReviewEvery   time.Duration
	LastExercised time.Time
	ExerciseEvery time.Duration
}

// DefaultUpkeepInterval is how often a plan is due for review and for an
// exercise when it does not say.
const DefaultUpkeepInterval = 365 * 24 * time.Hour

// PhaseModel returns the plan's phase model.
func (p *Plan) PhaseModel() (*phases.Model, error) {
	if p.CustomModel != nil {
		if p.Model != "" && p.Model != p.CustomModel.Name() {
			return nil, fmt.Errorf("plan %s: model %q is not the custom model %q: %w", p.Name, p.Model, p.CustomModel.Name(), ErrInvalidPlan)
		}
		return p.CustomModel, nil
	}
	if m, ok := phases.Lookup(p.Model); ok {
		return m, nil
	}
	return nil, fmt.Errorf("plan %s: no built-in phase model %q: %w", p.Name, p.Model, ErrInvalidPlan)
}

// Playbook returns the playbook for category c.
func (p *Plan) Playbook(c ir.Category) (Playbook, bool) {
	for _, pb := range p.Playbooks {
		if pb.Category == c {
			return pb, true
		}
	}
	return Playbook{}, false
}

// Member returns the team member with the given ID.
func (p *Plan) Member(id string) (Member, bool) {
	for _, m := range p.Team {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// Contact returns the contact with the given name.
func (p *Plan) Contact(name string) (Contact, bool) {
	for _, c := range p.Contacts {
		if c.Name == name {
			return c, true
		}
	}
	return Contact{}, false
}

// OnDuty returns the member on duty for role.
func (p *Plan) OnDuty(role ir.Role) (Member, bool) {
	for _, m := range p.Team {
		if slices.Contains(m.OnDuty, role) {
			return m, true
		}
	}
	return Member{}, false
}

// Deciders returns the roles that may take decisions of kind, or none if
// the plan has no rule for it.
func (p *Plan) Deciders(kind string) []ir.Role {
	for _, d := range p.Decisions {
		if d.Kind == kind {
			return slices.Clone(d.Roles)
		}
	}
	return nil
}

// MayDecide reports whether who, in inc, holds a role that may take
// decisions of kind. Without a rule for kind, nobody may.
func (p *Plan) MayDecide(inc *ir.Incident, who ir.Actor, kind string) bool {
	roles := p.Deciders(kind)
	for _, part := range inc.Participants {
		if part.Actor.ID == who.ID && slices.Contains(roles, part.Role) {
			return true
		}
	}
	return false
}

// Escalations returns the escalation levels reached once an incident has
// been open for elapsed, in order.
func (p *Plan) Escalations(elapsed time.Duration) []EscalationLevel {
	var out []EscalationLevel
	for _, l := range p.Escalation {
		if elapsed >= l.After {
			out = append(out, l)
		}
	}
	return out
}

// Configure returns cfg set up to follow the plan: with the plan's phase
// model (cfg.Model must be nil or that very model) and [Plan.Prepare] as
// its Prepare function (cfg.Prepare must be nil). It validates the plan
// first, and returns its [*ValidationError] if it is not valid.
func (p *Plan) Configure(cfg ir.Config) (ir.Config, error) {
	if err := p.Validate(Options{}); err != nil {
		return cfg, err
	}
	m, err := p.PhaseModel()
	if err != nil {
		return cfg, err
	}
	if cfg.Model != nil && cfg.Model != m {
		return cfg, fmt.Errorf("plan %s: the configuration's model %s is not the plan's %s: %w", p.Name, cfg.Model.Name(), m.Name(), ErrInvalidPlan)
	}
	if cfg.Prepare != nil {
		return cfg, fmt.Errorf("plan %s: the configuration already has a Prepare function: %w", p.Name, ErrInvalidPlan)
	}
	cfg.Model, cfg.Prepare = m, p.Prepare
	return cfg, nil
}

// Prepare is the ir.Config.Prepare function that follows the plan: it adds
// the tasks the playbook of the incident's category has for the phase
// entered (each keyed by [Playbook.TaskKey], so the Responder adds it once),
// assigned to whoever holds the task's role, or to the member on duty for
// it; and when the incident is opened, it fills each role a member is on
// duty for. The Responder leaves roles that someone holds as they are.
//
// The plan must not be changed while a Responder uses it.
func (p *Plan) Prepare(_ context.Context, e ir.PhaseEntry) (ir.Preparation, error) {
	if e.Incident == nil {
		return ir.Preparation{}, errors.New("plan: no incident to prepare")
	}
	inc := e.Incident
	var prep ir.Preparation
	holders := make(map[ir.Role]ir.Actor)
	for _, part := range inc.Participants {
		if _, ok := holders[part.Role]; !ok {
			holders[part.Role] = part.Actor
		}
	}
	if e.Opening() {
		for _, m := range p.Team {
			for _, r := range m.OnDuty {
				if _, ok := holders[r]; ok {
					continue
				}
				holders[r] = m.Actor()
				prep.Assign = append(prep.Assign, ir.Assignment{Role: r, Actor: m.Actor()})
			}
		}
	}
	pb, ok := p.Playbook(inc.Category)
	if !ok {
		return prep, nil
	}
	for _, s := range pb.Steps {
		if s.Phase != inc.Phase {
			continue
		}
		t := ir.NewTask{Title: s.Title, Phase: s.Phase, Required: s.Required, Role: s.Role, Key: pb.TaskKey(s)}
		if s.Role != "" {
			if who, ok := holders[s.Role]; ok {
				t.Assignee = who
			} else if m, ok := p.OnDuty(s.Role); ok {
				t.Assignee = m.Actor()
			}
		}
		prep.Tasks = append(prep.Tasks, t)
	}
	return prep, nil
}

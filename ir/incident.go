package ir

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/incidentkit/incidentkit/phases"
)

// ID identifies an incident. The default generator makes IDs that sort by
// creation time.
type ID string

// String returns the ID.
func (id ID) String() string { return string(id) }

// checkText refuses text longer than max bytes, text that is not valid
// UTF-8, and text holding a NUL byte, which no store keeps faithfully
// (JSON replaces invalid bytes; PostgreSQL refuses both).
func checkText(field, s string, max int) error {
	switch {
	case len(s) > max:
		return invalid(field, "", fmt.Sprintf("must be at most %d bytes", max))
	case !utf8.ValidString(s):
		return invalid(field, "", "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return invalid(field, "", "must not contain a NUL byte")
	}
	return nil
}

// Incident is a security incident record. It is a value: the [Responder]
// hands out copies, and changing a copy changes nothing stored. Every change
// to an incident is made through the Responder, which records it as an
// [Event] in the incident's timeline (read with [Responder.Timeline]; it is
// kept apart from the record because it only grows).
//
// The incidents a Responder's changes return share the entries of their
// Observables and Tasks, the lists that grow with the work, with the
// Responder's own copy, so that a change costs what it touches rather than
// what the incident holds: append to those lists freely, but call
// [Incident.Clone] before changing one of their entries in place. The
// incidents a [Store] returns share nothing.
//
// An Incident is not safe for concurrent modification; [Incident.Clone]
// makes an independent copy.
type Incident struct {
	ID       ID       `json:"id"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary,omitempty"`
	Severity Severity `json:"severity"`
	Priority Priority `json:"priority"`
	Category Category `json:"category"`
	TLP      TLP      `json:"tlp"`
	// Exercise is set for an incident opened as an exercise, such as a
	// drill of the response plan ([NewIncident].Exercise): it runs the
	// same workflow as any other, is marked as an exercise in its
	// timeline, its notifications and its review, and is left out of the
	// response metrics unless they ask for it ([MetricsOptions]). It is
	// set when the incident is opened and never changes.
	Exercise bool `json:"exercise,omitempty"`
	// Model is the name of the phase model the incident follows.
	Model string `json:"model"`
	// Phase is the phase the incident is in.
	Phase phases.Phase `json:"phase"`
	// PhaseHistory lists every phase the incident has been in, oldest
	// first; the last entry is the current phase.
	PhaseHistory []PhaseInterval `json:"phase_history"`
	Impact       Impact          `json:"impact,omitzero"`
	Verdict      Verdict         `json:"verdict,omitempty"`
	// Resolution says, in words, how the incident was resolved.
	Resolution   string        `json:"resolution,omitempty"`
	Assets       []Asset       `json:"assets,omitempty"`
	Observables  []Observable  `json:"observables,omitempty"`
	Participants []Participant `json:"participants,omitempty"`
	Tasks        []Task        `json:"tasks,omitempty"`
	Decisions    []Decision    `json:"decisions,omitempty"`
	// Evidence lists the evidence collected for the incident; the custody
	// of each item is in the evidence locker, under the incident's ID as
	// its case ID.
	Evidence []EvidenceRef `json:"evidence,omitempty"`
	// Review is the post-incident review, once one is recorded (see
	// [Responder.RecordReview]).
	Review *Review `json:"review,omitempty"`
	// FollowUps are the follow-up actions the review leads to, done or
	// not.
	FollowUps []FollowUp `json:"follow_ups,omitempty"`
	// Marks are the markers recorded (see [Responder.Mark]), oldest
	// first.
	Marks []Mark `json:"marks,omitempty"`
	// Clocks are the incident's deadline clocks, running or stopped, in
	// the order they started (see [ClockDef]).
	Clocks []ClockState `json:"clocks,omitempty"`
	// ClockDue is when one of the running clocks next needs attention
	// (its warning or its deadline), in UTC to the second; zero when
	// none does. The Responder keeps it; stores index it (see
	// [ClockIndex]).
	ClockDue time.Time `json:"clock_due,omitzero"`
	Labels   []string  `json:"labels,omitempty"`
	// Times holds the lifecycle timestamps. They are set by opening the
	// incident and by its transitions, never directly.
	Times    Lifecycle `json:"times"`
	OpenedBy Actor     `json:"opened_by"`
	// UpdatedAt is when the incident last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// Version counts the changes made to the incident; it is 1 when the
	// incident is opened. Stores use it to refuse stale writes.
	Version int64 `json:"version"`
}

// Lifecycle holds the moments of an incident's life. A zero time means the
// moment has not been reached.
type Lifecycle struct {
	// Occurred is when the incident began, if known.
	Occurred time.Time `json:"occurred,omitzero"`
	// Detected is when it was first detected; it defaults to Reported.
	Detected time.Time `json:"detected,omitzero"`
	// Reported is when it was reported; it defaults to Opened.
	Reported time.Time `json:"reported,omitzero"`
	// Opened is when the incident record was opened.
	Opened time.Time `json:"opened,omitzero"`
	// Acknowledged is when a responder first took it on: the first role
	// assignment, or entering a phase that marks it, whichever is first.
	Acknowledged time.Time `json:"acknowledged,omitzero"`
	Contained    time.Time `json:"contained,omitzero"`
	Eradicated   time.Time `json:"eradicated,omitzero"`
	Recovered    time.Time `json:"recovered,omitzero"`
	Resolved     time.Time `json:"resolved,omitzero"`
	Closed       time.Time `json:"closed,omitzero"`
}

// PhaseInterval is a stay in one phase.
type PhaseInterval struct {
	Phase phases.Phase `json:"phase"`
	// Action is the action that entered the phase; empty for the initial
	// phase.
	Action  phases.Action `json:"action,omitempty"`
	Entered time.Time     `json:"entered"`
	// Left is when the incident left the phase; zero for the current one.
	Left time.Time `json:"left,omitzero"`
}

// Task is a piece of work in an incident, belonging to a phase. Required
// tasks must be done before the built-in models let the incident leave
// their phase.
type Task struct {
	// ID numbers the incident's tasks from 1.
	ID       int          `json:"id"`
	Title    string       `json:"title"`
	Phase    phases.Phase `json:"phase"`
	Required bool         `json:"required,omitempty"`
	// Assignee is who is to do it, if anyone.
	Assignee Actor     `json:"assignee,omitzero"`
	AddedAt  time.Time `json:"added_at"`
	AddedBy  Actor     `json:"added_by"`
	Done     bool      `json:"done,omitempty"`
	DoneAt   time.Time `json:"done_at,omitzero"`
	DoneBy   Actor     `json:"done_by,omitzero"`
	Outcome  string    `json:"outcome,omitempty"`
	// Role is the role that owns the task, if any: whoever holds it sees
	// to the task when it has no assignee.
	Role Role `json:"role,omitempty"`
	// Key identifies a task that a procedure (such as a playbook) adds,
	// so that adding it again adds nothing: an incident holds at most one
	// task of each key. Empty for tasks added by hand.
	Key string `json:"key,omitempty"`
}

// Decision is a decision record: what was decided, the options considered
// and why.
type Decision struct {
	// ID numbers the incident's decisions from 1.
	ID        int       `json:"id"`
	Summary   string    `json:"summary"`
	Options   []string  `json:"options,omitempty"`
	Rationale string    `json:"rationale,omitempty"`
	DecidedAt time.Time `json:"decided_at"`
	DecidedBy Actor     `json:"decided_by"`
}

// IsOpen reports whether the incident is open: it has no closed time. The
// Responder sets the closed time on entering a terminal phase of the model
// and clears it on leaving one.
func (inc *Incident) IsOpen() bool { return inc.Times.Closed.IsZero() }

// Holders returns the actors holding role r.
func (inc *Incident) Holders(r Role) []Actor {
	var out []Actor
	for _, p := range inc.Participants {
		if p.Role == r {
			out = append(out, p.Actor)
		}
	}
	return out
}

// Task returns the task with the given ID.
func (inc *Incident) Task(id int) (Task, bool) {
	for _, t := range inc.Tasks {
		if t.ID == id {
			return t, true
		}
	}
	return Task{}, false
}

// HasRole reports whether someone holds role.
func (inc *Incident) HasRole(role Role) bool {
	for _, p := range inc.Participants {
		if p.Role == role {
			return true
		}
	}
	return false
}

// HoldsRole reports whether someone holds the role named role. With
// PendingTasks and VerdictIn it makes an Incident a phases.Subject, which
// is what phase guards see; use [Incident.HasRole] with a [Role].
func (inc *Incident) HoldsRole(role string) bool { return inc.HasRole(Role(role)) }

// PendingTasks returns the titles of the required tasks of phase p that are
// not done.
func (inc *Incident) PendingTasks(p phases.Phase) []string {
	var out []string
	for _, t := range inc.Tasks {
		if t.Phase == p && t.Required && !t.Done {
			out = append(out, t.Title)
		}
	}
	return out
}

// HasVerdict reports whether a verdict is set; given verdicts, whether the
// verdict is one of them.
func (inc *Incident) HasVerdict(verdicts ...Verdict) bool {
	if inc.Verdict == "" {
		return false
	}
	return len(verdicts) == 0 || slices.Contains(verdicts, inc.Verdict)
}

// VerdictIn reports whether a verdict is set and, given verdicts named by
// strings, whether it is one of them: [Incident.HasVerdict] as a
// phases.Subject asks it.
func (inc *Incident) VerdictIn(verdicts ...string) bool {
	if inc.Verdict == "" {
		return false
	}
	return len(verdicts) == 0 || slices.Contains(verdicts, string(inc.Verdict))
}

// HasEvidence reports whether any evidence has been collected for the
// incident; it makes an Incident a phases.EvidenceHolder, for the
// evidence-preserved guard.
func (inc *Incident) HasEvidence() bool { return len(inc.Evidence) > 0 }

var (
	_ phases.Subject        = (*Incident)(nil)
	_ phases.EvidenceHolder = (*Incident)(nil)
	_ phases.ReviewHolder   = (*Incident)(nil)
)

// Clone returns a deep copy of the incident.
func (inc *Incident) Clone() *Incident {
	if inc == nil {
		return nil
	}
	c := inc.cloneHead()
	c.Observables = slices.Clone(inc.Observables)
	c.Tasks = slices.Clone(inc.Tasks)
	return c
}

// cloneHead returns a deep copy of the incident but for its observables
// and tasks, the lists that grow with the work: the copy shares their
// entries with inc. Appending to the copy's lists writes past the end of
// inc's, which inc never sees; changing one of their entries in place
// changes inc's too, so a change replaces a list before it alters an entry
// (as [Responder.CompleteTask] does).
func (inc *Incident) cloneHead() *Incident {
	c := *inc
	// Room for one more stay: the next transition appends one.
	c.PhaseHistory = append(make([]PhaseInterval, 0, len(inc.PhaseHistory)+1), inc.PhaseHistory...)
	c.Impact.Information = slices.Clone(inc.Impact.Information)
	c.Assets = slices.Clone(inc.Assets)
	c.Participants = slices.Clone(inc.Participants)
	c.Decisions = slices.Clone(inc.Decisions)
	for i := range c.Decisions {
		c.Decisions[i].Options = slices.Clone(c.Decisions[i].Options)
	}
	c.Labels = slices.Clone(inc.Labels)
	c.Evidence = slices.Clone(inc.Evidence)
	c.Review = inc.Review.clone()
	c.FollowUps = slices.Clone(inc.FollowUps)
	c.Marks = slices.Clone(inc.Marks)
	c.Clocks = slices.Clone(inc.Clocks)
	return &c
}

// shared returns a copy of the incident for a caller to keep: a deep copy
// but for the entries of its observables and tasks, which it shares with
// inc, capped at their length so that appending to them never writes
// into inc's.
func (inc *Incident) shared() *Incident {
	c := inc.cloneHead()
	c.Observables = slices.Clip(c.Observables)
	c.Tasks = slices.Clip(c.Tasks)
	return c
}

// HasLabel reports whether the incident carries label l.
func (inc *Incident) HasLabel(l string) bool { return slices.Contains(inc.Labels, l) }

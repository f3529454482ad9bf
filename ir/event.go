package ir

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Event is one entry in an incident's timeline: a change, who made it, when
// and why. Timelines only grow; nothing in them is ever changed or deleted.
type Event struct {
	IncidentID ID `json:"incident_id"`
	// Seq numbers the incident's events from 1, in the order they were
	// stored. The store assigns it.
	Seq int64 `json:"seq"`
	// Version is the incident version the change produced.
	Version int64     `json:"version"`
	Type    EventType `json:"type"`
	At      time.Time `json:"at"`
	Actor   Actor     `json:"actor"`
	// Reason is why the change was made, as the actor gave it.
	Reason string `json:"reason,omitempty"`
	// Data holds the details; its concrete type matches Type, such as
	// [PhaseChanged] for [EventPhaseChanged].
	Data EventData `json:"data"`
}

// EventData is the typed detail of an [Event]. The concrete types are the
// ones in this package named after each [EventType].
type EventData interface {
	EventType() EventType
}

// EventType names the kind of change an [Event] records.
type EventType string

// Event types.
const (
	EventOpened            EventType = "opened"
	EventPhaseChanged      EventType = "phase_changed"
	EventSeverityChanged   EventType = "severity_changed"
	EventPriorityChanged   EventType = "priority_changed"
	EventImpactAssessed    EventType = "impact_assessed"
	EventRoleAssigned      EventType = "role_assigned"
	EventRoleUnassigned    EventType = "role_unassigned"
	EventTaskAdded         EventType = "task_added"
	EventTaskCompleted     EventType = "task_completed"
	EventObservableAdded   EventType = "observable_added"
	EventAssetAdded        EventType = "asset_added"
	EventNoteAdded         EventType = "note_added"
	EventDecisionRecorded  EventType = "decision_recorded"
	EventVerdictSet        EventType = "verdict_set"
	EventEvidenceCollected EventType = "evidence_collected"
	// EventStatusUpdate records a status update written for an audience
	// (see [Responder.PostStatus]).
	EventStatusUpdate EventType = "status_update"
	// EventNotificationFailed records that a notification about the
	// incident could not be delivered to a channel (see
	// [Responder.RecordNotificationFailed]).
	EventNotificationFailed EventType = notify.EventNotificationFailed
	// EventReviewRecorded records the post-incident review, or a
	// revision of it (see [Responder.RecordReview]).
	EventReviewRecorded EventType = "review_recorded"
	// EventFollowUpAdded and EventFollowUpDone record a follow-up action
	// of the review being added and done (see [Responder.AddFollowUp]).
	EventFollowUpAdded EventType = "follow_up_added"
	EventFollowUpDone  EventType = "follow_up_done"
)

// eventDataTypes makes an empty EventData of each type, for decoding.
var eventDataTypes = map[EventType]func() EventData{
	EventOpened:             func() EventData { return &Opened{} },
	EventPhaseChanged:       func() EventData { return &PhaseChanged{} },
	EventSeverityChanged:    func() EventData { return &SeverityChanged{} },
	EventPriorityChanged:    func() EventData { return &PriorityChanged{} },
	EventImpactAssessed:     func() EventData { return &ImpactAssessed{} },
	EventRoleAssigned:       func() EventData { return &RoleAssigned{} },
	EventRoleUnassigned:     func() EventData { return &RoleUnassigned{} },
	EventTaskAdded:          func() EventData { return &TaskAdded{} },
	EventTaskCompleted:      func() EventData { return &TaskCompleted{} },
	EventObservableAdded:    func() EventData { return &ObservableAdded{} },
	EventAssetAdded:         func() EventData { return &AssetAdded{} },
	EventNoteAdded:          func() EventData { return &NoteAdded{} },
	EventDecisionRecorded:   func() EventData { return &DecisionRecorded{} },
	EventVerdictSet:         func() EventData { return &VerdictSet{} },
	EventEvidenceCollected:  func() EventData { return &EvidenceCollected{} },
	EventStatusUpdate:       func() EventData { return &StatusUpdate{} },
	EventNotificationFailed: func() EventData { return &NotificationFailed{} },
	EventReviewRecorded:     func() EventData { return &ReviewRecorded{} },
	EventFollowUpAdded:      func() EventData { return &FollowUpAdded{} },
	EventFollowUpDone:       func() EventData { return &FollowUpDone{} },
	EventMarked:             func() EventData { return &Marked{} },
	EventClockStarted:       func() EventData { return &ClockStarted{} },
	EventClockStopped:       func() EventData { return &ClockStopped{} },
	EventDeadlineNear:       func() EventData { return &DeadlineNear{} },
	EventDeadlineMissed:     func() EventData { return &DeadlineMissed{} },
	EventDeadlineChanged:    func() EventData { return &DeadlineChanged{} },
}

// eventGoTypes maps each event type to the Go type of its data.
var eventGoTypes = func() map[EventType]reflect.Type {
	m := make(map[EventType]reflect.Type, len(eventDataTypes))
	for t, mk := range eventDataTypes {
		m[t] = reflect.TypeOf(mk())
	}
	return m
}()

// String returns the type's name.
func (t EventType) String() string { return string(t) }

// UnmarshalJSON decodes an event, choosing the concrete type of Data from
// Type. Unknown types are refused.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var raw struct {
		plain
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("ir: decode event: %w", err)
	}
	mk, ok := eventDataTypes[raw.Type]
	if !ok {
		return invalid("event type", string(raw.Type), "unknown event type")
	}
	data := mk()
	if err := json.Unmarshal(raw.Data, data); err != nil {
		return fmt.Errorf("ir: decode %s event: %w", raw.Type, err)
	}
	*e = Event(raw.plain)
	e.Data = data
	return nil
}

// Opened records that an incident was opened, with everything it was
// opened with (observables and assets follow as their own events).
type Opened struct {
	Title    string   `json:"title"`
	Summary  string   `json:"summary,omitempty"`
	Severity Severity `json:"severity"`
	Priority Priority `json:"priority"`
	Category Category `json:"category"`
	TLP      TLP      `json:"tlp"`
	// Exercise is set when the incident was opened as an exercise.
	Exercise bool         `json:"exercise,omitempty"`
	Impact   Impact       `json:"impact,omitzero"`
	Labels   []string     `json:"labels,omitempty"`
	Model    string       `json:"model"`
	Phase    phases.Phase `json:"phase"`
	// Times are the lifecycle times the incident was opened with.
	Times Lifecycle `json:"times"`
}

// PhaseChanged records a transition.
type PhaseChanged struct {
	Action phases.Action `json:"action"`
	From   phases.Phase  `json:"from"`
	To     phases.Phase  `json:"to"`
}

// SeverityChanged records a change of severity.
type SeverityChanged struct {
	From Severity `json:"from"`
	To   Severity `json:"to"`
}

// PriorityChanged records a change of priority.
type PriorityChanged struct {
	From Priority `json:"from"`
	To   Priority `json:"to"`
}

// ImpactAssessed records a new impact assessment.
type ImpactAssessed struct {
	Impact Impact `json:"impact"`
}

// RoleAssigned records that someone took a role. Replaced is whoever held
// an exclusive role before, if anyone.
type RoleAssigned struct {
	Role     Role  `json:"role"`
	Assignee Actor `json:"assignee"`
	Replaced Actor `json:"replaced,omitzero"`
}

// RoleUnassigned records that someone gave up a role.
type RoleUnassigned struct {
	Role     Role  `json:"role"`
	Assignee Actor `json:"assignee"`
}

// TaskAdded records a new task.
type TaskAdded struct {
	Task Task `json:"task"`
}

// TaskCompleted records that a task was done.
type TaskCompleted struct {
	TaskID  int    `json:"task_id"`
	Title   string `json:"title"`
	Outcome string `json:"outcome,omitempty"`
}

// ObservableAdded records a new observable.
type ObservableAdded struct {
	Observable Observable `json:"observable"`
}

// AssetAdded records a newly affected asset.
type AssetAdded struct {
	Asset Asset `json:"asset"`
}

// NoteAdded records a note.
type NoteAdded struct {
	Text string `json:"text"`
}

// DecisionRecorded records a decision.
type DecisionRecorded struct {
	Decision Decision `json:"decision"`
}

// VerdictSet records a verdict and resolution.
type VerdictSet struct {
	Verdict    Verdict `json:"verdict"`
	Previous   Verdict `json:"previous,omitempty"`
	Resolution string  `json:"resolution,omitempty"`
}

// EvidenceCollected records that an evidence item was collected for the
// incident, with the digest that identifies its content.
type EvidenceCollected struct {
	Evidence EvidenceRef `json:"evidence"`
}

// StatusUpdate records a status update: what a responder told an
// audience about the incident.
type StatusUpdate struct {
	// Audience is who the update is for, such as
	// notify.AudienceExecutives.
	Audience notify.Audience `json:"audience"`
	Text     string          `json:"text"`
}

// NotificationFailed records that the notification of one of the
// incident's events could not be delivered to a channel: the dispatcher
// gave up on it, and it waits, dead, to be replayed.
type NotificationFailed struct {
	// Channel is the channel the notification was for.
	Channel string `json:"channel"`
	// Key is the notification's key, and Event the type of the event it
	// reported.
	Key   string    `json:"key"`
	Event EventType `json:"event"`
	// Delivery identifies the dead delivery in the store, for replaying
	// it.
	Delivery int64 `json:"delivery"`
	// Attempts is how many attempts were made.
	Attempts int `json:"attempts"`
	// Error is the last attempt's error, redacted by the channel.
	Error string `json:"error"`
}

// ReviewRecorded records the post-incident review as recorded, in full:
// each revision is one event.
type ReviewRecorded struct {
	Review Review `json:"review"`
}

// FollowUpAdded records a new follow-up action.
type FollowUpAdded struct {
	FollowUp FollowUp `json:"follow_up"`
}

// FollowUpDone records that a follow-up action was done.
type FollowUpDone struct {
	FollowUpID int    `json:"follow_up_id"`
	Title      string `json:"title"`
	Outcome    string `json:"outcome,omitempty"`
}

// EventType returns [EventReviewRecorded].
func (*ReviewRecorded) EventType() EventType { return EventReviewRecorded }

// EventType returns [EventFollowUpAdded].
func (*FollowUpAdded) EventType() EventType { return EventFollowUpAdded }

// EventType returns [EventFollowUpDone].
func (*FollowUpDone) EventType() EventType { return EventFollowUpDone }

// EventType returns [EventNotificationFailed].
func (*NotificationFailed) EventType() EventType { return EventNotificationFailed }

// EventType returns [EventStatusUpdate].
func (*StatusUpdate) EventType() EventType { return EventStatusUpdate }

// EventType returns [EventEvidenceCollected].
func (*EvidenceCollected) EventType() EventType { return EventEvidenceCollected }

// EventType returns [EventOpened].
func (*Opened) EventType() EventType { return EventOpened }

// EventType returns [EventPhaseChanged].
func (*PhaseChanged) EventType() EventType { return EventPhaseChanged }

// EventType returns [EventSeverityChanged].
func (*SeverityChanged) EventType() EventType { return EventSeverityChanged }

// EventType returns [EventPriorityChanged].
func (*PriorityChanged) EventType() EventType { return EventPriorityChanged }

// EventType returns [EventImpactAssessed].
func (*ImpactAssessed) EventType() EventType { return EventImpactAssessed }

// EventType returns [EventRoleAssigned].
func (*RoleAssigned) EventType() EventType { return EventRoleAssigned }

// EventType returns [EventRoleUnassigned].
func (*RoleUnassigned) EventType() EventType { return EventRoleUnassigned }

// EventType returns [EventTaskAdded].
func (*TaskAdded) EventType() EventType { return EventTaskAdded }

// EventType returns [EventTaskCompleted].
func (*TaskCompleted) EventType() EventType { return EventTaskCompleted }

// EventType returns [EventObservableAdded].
func (*ObservableAdded) EventType() EventType { return EventObservableAdded }

// EventType returns [EventAssetAdded].
func (*AssetAdded) EventType() EventType { return EventAssetAdded }

// EventType returns [EventNoteAdded].
func (*NoteAdded) EventType() EventType { return EventNoteAdded }

// EventType returns [EventDecisionRecorded].
func (*DecisionRecorded) EventType() EventType { return EventDecisionRecorded }

// EventType returns [EventVerdictSet].
func (*VerdictSet) EventType() EventType { return EventVerdictSet }

// Clone returns a deep copy of the event, so that changing the copy's Data
// cannot change the original.
func (e Event) Clone() Event {
	switch d := e.Data.(type) {
	case *ImpactAssessed:
		c := *d
		c.Impact.Information = slices.Clone(d.Impact.Information)
		e.Data = &c
	case *DecisionRecorded:
		c := *d
		c.Decision.Options = slices.Clone(d.Decision.Options)
		e.Data = &c
	case *ReviewRecorded:
		e.Data = &ReviewRecorded{Review: *d.Review.clone()}
	case *FollowUpAdded:
		e.Data = copyOf(d)
	case *FollowUpDone:
		e.Data = copyOf(d)
	case *Opened:
		c := *d
		c.Impact.Information = slices.Clone(d.Impact.Information)
		c.Labels = slices.Clone(d.Labels)
		e.Data = &c
	case *PhaseChanged:
		e.Data = copyOf(d)
	case *SeverityChanged:
		e.Data = copyOf(d)
	case *PriorityChanged:
		e.Data = copyOf(d)
	case *RoleAssigned:
		e.Data = copyOf(d)
	case *RoleUnassigned:
		e.Data = copyOf(d)
	case *TaskAdded:
		e.Data = copyOf(d)
	case *TaskCompleted:
		e.Data = copyOf(d)
	case *ObservableAdded:
		e.Data = copyOf(d)
	case *AssetAdded:
		e.Data = copyOf(d)
	case *NoteAdded:
		e.Data = copyOf(d)
	case *VerdictSet:
		e.Data = copyOf(d)
	case *EvidenceCollected:
		e.Data = copyOf(d)
	case *StatusUpdate:
		e.Data = copyOf(d)
	case *NotificationFailed:
		e.Data = copyOf(d)
	case *Marked:
		e.Data = copyOf(d)
	case *ClockStarted:
		e.Data = copyOf(d)
	case *ClockStopped:
		e.Data = copyOf(d)
	case *DeadlineNear:
		e.Data = copyOf(d)
	case *DeadlineMissed:
		e.Data = copyOf(d)
	case *DeadlineChanged:
		e.Data = copyOf(d)
	}
	return e
}

// copyOf returns a pointer to a copy of *p, for event data without slices.
func copyOf[T any](p *T) *T {
	c := *p
	return &c
}

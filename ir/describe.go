package ir

import (
	"fmt"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// Describe says in words what an event records, as the predicate of a
// sentence whose subject is the event's actor: "moved the incident from
// Containment to Eradication", "made Ben Carter scribe". Phases are named
// by their titles in m; with a nil m, or a phase m does not have, by their
// names in words. Every event type has its words; an event whose data does not
// match its type is described by its type. The Responder writes the
// description into each outbox message (notify.Event.Summary), so that
// notifications, reports and tools all use these words.
func Describe(m *phases.Model, e Event) string {
	title := func(p phases.Phase) string {
		if m != nil {
			if d, ok := m.Phase(p); ok && d.Title != "" {
				return d.Title
			}
		}
		return words(string(p))
	}
	switch d := e.Data.(type) {
	case *Opened:
		if d.Exercise {
			return fmt.Sprintf("opened exercise %q, severity %s, in %s", d.Title, d.Severity, title(d.Phase))
		}
		return fmt.Sprintf("opened %q, severity %s, in %s", d.Title, d.Severity, title(d.Phase))
	case *PhaseChanged:
		return fmt.Sprintf("moved the incident from %s to %s", title(d.From), title(d.To))
	case *SeverityChanged:
		return fmt.Sprintf("changed the severity from %s to %s", d.From, d.To)
	case *PriorityChanged:
		return fmt.Sprintf("changed the priority from %s to %s", d.From, d.To)
	case *ImpactAssessed:
		return "assessed the impact: " + describeImpact(d.Impact)
	case *RoleAssigned:
		s := fmt.Sprintf("made %s %s", d.Assignee, words(string(d.Role)))
		if d.Assignee == e.Actor {
			s = "took the role of " + words(string(d.Role))
		}
		if !d.Replaced.IsZero() {
			s += fmt.Sprintf(", replacing %s", d.Replaced)
		}
		return s
	case *RoleUnassigned:
		if d.Assignee == e.Actor {
			return "gave up the role of " + words(string(d.Role))
		}
		return fmt.Sprintf("relieved %s as %s", d.Assignee, words(string(d.Role)))
	case *TaskAdded:
		s := fmt.Sprintf("added task %d (%s): %s", d.Task.ID, title(d.Task.Phase), d.Task.Title)
		if !d.Task.Assignee.IsZero() {
			s += fmt.Sprintf(", for %s", d.Task.Assignee)
		}
		return s
	case *TaskCompleted:
		if d.Outcome == "" {
			return fmt.Sprintf("completed task %d: %s", d.TaskID, d.Title)
		}
		return fmt.Sprintf("completed task %d: %s", d.TaskID, d.Outcome)
	case *ObservableAdded:
		o := d.Observable
		if o.Malicious {
			return fmt.Sprintf("recorded malicious %s %s", words(string(o.Type)), o.Value)
		}
		return fmt.Sprintf("recorded %s %s", words(string(o.Type)), o.Value)
	case *AssetAdded:
		return fmt.Sprintf("recorded affected %s %s", words(string(d.Asset.Kind)), d.Asset.Name)
	case *NoteAdded:
		return "noted: " + d.Text
	case *DecisionRecorded:
		return fmt.Sprintf("decided (%d): %s", d.Decision.ID, d.Decision.Summary)
	case *VerdictSet:
		s := "set the verdict: " + words(string(d.Verdict))
		if d.Previous != "" {
			s += fmt.Sprintf(" (was %s)", words(string(d.Previous)))
		}
		return s
	case *EvidenceCollected:
		ev := d.Evidence
		return fmt.Sprintf("collected exhibit %s, %s (%d bytes, SHA-256 %.16s…)", ev.Exhibit, ev.Name, ev.Size, ev.SHA256)
	case *StatusUpdate:
		return fmt.Sprintf("posted a status update for %s: %s", words(string(d.Audience)), d.Text)
	case *NotificationFailed:
		attempts := "attempts"
		if d.Attempts == 1 {
			attempts = "attempt"
		}
		return fmt.Sprintf("could not notify channel %s of %s after %d %s: %s", d.Channel, eventNoun(d.Event), d.Attempts, attempts, d.Error)
	case *ReviewRecorded:
		s := "recorded the post-incident review"
		if d.Review.Revision > 1 {
			s = fmt.Sprintf("revised the post-incident review (revision %d)", d.Review.Revision)
		}
		if d.Review.RootCause == "" {
			return s + "; no root cause yet"
		}
		return s + "; root cause: " + d.Review.RootCause
	case *FollowUpAdded:
		f := d.FollowUp
		s := fmt.Sprintf("added follow-up %d: %s", f.ID, f.Title)
		if !f.Owner.IsZero() {
			s += fmt.Sprintf(", for %s", f.Owner)
		}
		if !f.Due.IsZero() {
			s += ", due " + f.Due.Format(time.DateOnly)
		}
		return s
	case *FollowUpDone:
		if d.Outcome == "" {
			return fmt.Sprintf("completed follow-up %d: %s", d.FollowUpID, d.Title)
		}
		return fmt.Sprintf("completed follow-up %d: %s", d.FollowUpID, d.Outcome)
	case *Marked:
		if d.Mark.Note == "" {
			return fmt.Sprintf("marked %s", words(string(d.Mark.Marker)))
		}
		return fmt.Sprintf("marked %s: %s", words(string(d.Mark.Marker)), d.Mark.Note)
	case *ClockStarted:
		return fmt.Sprintf("clock started: %s, due %s", d.Title, d.Deadline.UTC().Format(time.RFC3339))
	case *ClockStopped:
		if d.Met {
			return fmt.Sprintf("clock stopped: %s, deadline met", d.Title)
		}
		return fmt.Sprintf("clock stopped: %s, deadline missed by %s", d.Title, d.Late)
	case *DeadlineNear:
		return fmt.Sprintf("deadline near: %s, due %s (%s left)", d.Title, d.Deadline.UTC().Format(time.RFC3339), d.Left)
	case *DeadlineChanged:
		return fmt.Sprintf("deadline changed: %s, now due %s (was %s)", d.Title, d.To.UTC().Format(time.RFC3339),
			d.From.UTC().Format(time.RFC3339))
	case *DeadlineMissed:
		return fmt.Sprintf("deadline missed: %s, was due %s (%s late)", d.Title, d.Deadline.UTC().Format(time.RFC3339), d.Late)
	default:
		return words(string(e.Type))
	}
}

// describeImpact lists the parts of an impact assessment that are set.
func describeImpact(im Impact) string {
	var parts []string
	if im.Functional != "" {
		parts = append(parts, "functional "+words(string(im.Functional)))
	}
	if len(im.Information) > 0 {
		info := make([]string, len(im.Information))
		for i, x := range im.Information {
			info[i] = words(string(x))
		}
		parts = append(parts, "information "+strings.Join(info, ", "))
	}
	if im.Recoverability != "" {
		parts = append(parts, "recoverability "+words(string(im.Recoverability)))
	}
	if len(parts) == 0 {
		return "none recorded"
	}
	return strings.Join(parts, "; ")
}

// words turns a name such as incident_commander into words.
func words(name string) string { return strings.ReplaceAll(name, "_", " ") }

// eventNouns name what an event of each type reports, for sentences about
// the event rather than of it.
var eventNouns = map[EventType]string{
	EventOpened:            "the opening",
	EventPhaseChanged:      "a phase change",
	EventSeverityChanged:   "a severity change",
	EventPriorityChanged:   "a priority change",
	EventImpactAssessed:    "an impact assessment",
	EventRoleAssigned:      "a role assignment",
	EventRoleUnassigned:    "a role unassignment",
	EventTaskAdded:         "a new task",
	EventTaskCompleted:     "a completed task",
	EventObservableAdded:   "a new observable",
	EventAssetAdded:        "a new asset",
	EventNoteAdded:         "a note",
	EventDecisionRecorded:  "a decision",
	EventVerdictSet:        "a verdict",
	EventEvidenceCollected: "collected evidence",
	EventStatusUpdate:      "a status update",
	EventReviewRecorded:    "the post-incident review",
	EventFollowUpAdded:     "a new follow-up action",
	EventFollowUpDone:      "a completed follow-up action",
	EventMarked:            "a marker",
	EventClockStarted:      "a clock started",
	EventClockStopped:      "a clock stopped",
	EventDeadlineNear:      "a near deadline",
	EventDeadlineMissed:    "a missed deadline",
	EventDeadlineChanged:   "a changed deadline",
}

// eventNoun returns what an event of type t reports, as a noun phrase.
func eventNoun(t EventType) string {
	if n, ok := eventNouns[t]; ok {
		return n
	}
	return "the " + words(string(t)) + " event"
}

package ir

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// A clock counts down to a deadline: a response deadline (to acknowledge,
// contain or resolve an incident in time for its severity) or a regulatory
// one (to notify an authority within so many hours of becoming aware of
// something). A [ClockDef] says what starts the clock, what stops it and
// when its deadline falls; the [Responder] keeps each running clock's
// state on the incident itself ([Incident.Clocks]), changed in the same
// change as the event that starts or stops it. [Responder.RunClocks]
// watches the running clocks and records, once, that a deadline is near
// ([EventDeadlineNear]) or missed ([EventDeadlineMissed]): each is one
// change to the incident, guarded by its version like every other, so
// that of several runners (in one process, or in several sharing one
// database) exactly one records it, and a runner that restarts finds in
// the store what was already recorded.

// Marker names a moment of an incident that a clock may start or stop
// on, recorded with [Responder.Mark]: the moment the organisation became
// aware of a personal data breach, or the moment it notified the
// supervisory authority. Markers are lowercase words joined by
// underscores; the built-in ones are below, and programs may use their
// own.
type Marker string

// Markers the built-in clock templates start and stop on.
const (
	// MarkerPersonalDataBreach: the controller became aware of a
	// personal data breach (GDPR article 33(1)).
	MarkerPersonalDataBreach Marker = "personal_data_breach"
	// MarkerGDPRNotified: the supervisory authority was notified of the
	// breach (GDPR article 33).
	MarkerGDPRNotified Marker = "gdpr_authority_notified"

	// MarkerNIS2Significant: the entity became aware of a significant
	// incident (NIS2 article 23(1) and (3)).
	MarkerNIS2Significant Marker = "nis2_significant_incident"
	// MarkerNIS2EarlyWarning: the early warning was submitted (NIS2
	// article 23(4)(a)).
	MarkerNIS2EarlyWarning Marker = "nis2_early_warning_sent"
	// MarkerNIS2Notification: the incident notification was submitted
	// (NIS2 article 23(4)(b)).
	MarkerNIS2Notification Marker = "nis2_notification_sent"
	// MarkerNIS2FinalReport: the final report was submitted (NIS2
	// article 23(4)(d)).
	MarkerNIS2FinalReport Marker = "nis2_final_report_sent"

	// MarkerDORAMajor: the ICT-related incident was classified as major
	// (DORA article 18 and 19).
	MarkerDORAMajor Marker = "dora_classified_major"
	// MarkerDORAInitial, MarkerDORAIntermediate and MarkerDORAFinal: the
	// initial notification, an intermediate report and the final report
	// were submitted to the competent authority (DORA article 19(4)).
	MarkerDORAInitial      Marker = "dora_initial_notification_sent"
	MarkerDORAIntermediate Marker = "dora_intermediate_report_sent"
	MarkerDORAFinal        Marker = "dora_final_report_sent"

	// MarkerSECMateriality: the registrant determined that the
	// cybersecurity incident is material (Form 8-K item 1.05).
	MarkerSECMateriality Marker = "sec_materiality_determined"
	// MarkerSEC8KFiled: the Form 8-K reporting it was filed.
	MarkerSEC8KFiled Marker = "sec_8k_filed"
)

// markerPattern is the form of a marker's and a clock's name.
var markerPattern = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// Mark is a recorded [Marker]: when the moment was, as the responder
// gave it, and who recorded it.
type Mark struct {
	Marker Marker `json:"marker"`
	// At is when the moment was, which may be before it was recorded
	// (the breach became known an hour ago).
	At time.Time `json:"at"`
	// Note says more, in words.
	Note       string    `json:"note,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy Actor     `json:"recorded_by"`
}

// NewMark is what [Responder.Mark] records.
type NewMark struct {
	// Marker is required.
	Marker Marker
	// At is when the moment was; zero means now. It may not be later
	// than now.
	At time.Time
	// Note is optional, at most [MaxLongText] bytes.
	Note string
}

// Trigger matches what starts or stops a clock: a marker recorded, a
// milestone of the incident's lifecycle reached, or an event of a type.
// Exactly one of Marker, Milestone and Event is set; If, when set, must
// also hold.
type Trigger struct {
	// Marker matches the recording of the marker (see [Responder.Mark]);
	// the clock starts or stops at the mark's time.
	Marker Marker
	// Milestone matches the incident reaching a milestone (its
	// Lifecycle time is set, as the phase model marks it); the clock
	// starts or stops at that time.
	Milestone phases.Milestone
	// Event matches an event of the type; the clock starts or stops at
	// the event's time, except on [EventOpened], where it starts at the
	// incident's detection time.
	Event EventType
	// If, when set, must also hold for the incident after the change and
	// the event matched (for a Milestone trigger, the change's first
	// event).
	If func(inc *Incident, e Event) bool
}

// isZero reports whether t matches nothing.
func (t Trigger) isZero() bool { return t.Marker == "" && t.Milestone == "" && t.Event == "" }

// ClockDef defines a clock. Programs list theirs in [Config.Clocks], with
// the built-in templates ([GDPRArticle33], [NIS2Article23],
// [DORAMajorIncident], [SECForm8KItem105]) and the clocks of
// [Config.ResponseDeadlines].
//
// A clock runs at most once in an incident: once started, it is not
// started again, even after it stopped.
type ClockDef struct {
	// Name identifies the clock within the incident: lowercase letters
	// and digits in words joined by "-", "_" or ".". Required, unique.
	Name string
	// Title names it for people, such as "GDPR art. 33: notify the
	// supervisory authority". Required.
	Title string
	// Start and Stop say what starts and stops it. Both required.
	Start, Stop Trigger
	// Within is the time from the start to the deadline. Due, if set,
	// takes its place.
	Within time.Duration
	// Due, if set, works out the deadline of a clock started at start on
	// inc; false leaves the clock unstarted (such as a severity without
	// a deadline).
	Due func(inc *Incident, start time.Time) (time.Time, bool)
	// Warn, if positive, is how long before the deadline a warning is
	// recorded ([EventDeadlineNear]). Zero means no warning.
	Warn time.Duration
	// EndsWithIncident, if set, stops the clock when the incident closes
	// (met if it closes by the deadline), as a response deadline ends
	// when an incident is dismissed before it is acknowledged. Unset, a
	// clock keeps running after the incident closes, as a duty to notify
	// an authority does.
	EndsWithIncident bool
	// FollowsSeverity, if set, works the deadline of the running clock
	// out again (with Due, from the time it started) when the incident's
	// severity changes, as an escalated incident gets the shorter
	// deadline of its new severity. A new deadline is recorded as an
	// [EventDeadlineChanged] event; a warning or a miss recorded before
	// stays recorded only if it still holds, so that it may be recorded
	// again for the new deadline. A severity for which Due gives no
	// deadline leaves the clock's deadline as it was.
	FollowsSeverity bool
}

// deadline returns the deadline of the clock started at start on inc.
func (d *ClockDef) deadline(inc *Incident, start time.Time) (time.Time, bool) {
	if d.Due != nil {
		return d.Due(inc, start)
	}
	return start.Add(d.Within), true
}

// ClockState is the state of one of an incident's clocks.
type ClockState struct {
	// Name and Title are the clock's, as its [ClockDef] gives them.
	Name  string `json:"name"`
	Title string `json:"title"`
	// StartedAt is when it started, and Deadline when it runs out.
	StartedAt time.Time `json:"started_at"`
	Deadline  time.Time `json:"deadline"`
	// WarnAt, if set, is when the deadline counts as near.
	WarnAt time.Time `json:"warn_at,omitzero"`
	// Warned and Missed say whether the deadline was recorded as near
	// and as missed.
	Warned bool `json:"warned,omitempty"`
	Missed bool `json:"missed,omitempty"`
	// StoppedAt is when it stopped; zero while it runs.
	StoppedAt time.Time `json:"stopped_at,omitzero"`
	// Met is whether it stopped by its deadline.
	Met bool `json:"met,omitempty"`
}

// Running reports whether the clock has not stopped.
func (c ClockState) Running() bool { return c.StoppedAt.IsZero() }

// Clock returns the state of the incident's clock of that name.
func (inc *Incident) Clock(name string) (ClockState, bool) {
	for _, c := range inc.Clocks {
		if c.Name == name {
			return c, true
		}
	}
	return ClockState{}, false
}

// Marked returns the mark of the marker, if it was recorded.
func (inc *Incident) Marked(m Marker) (Mark, bool) {
	for _, k := range inc.Marks {
		if k.Marker == m {
			return k, true
		}
	}
	return Mark{}, false
}

// Event types of clocks.
const (
	// EventMarked records a marker (see [Responder.Mark]).
	EventMarked EventType = "marked"
	// EventClockStarted and EventClockStopped record a clock starting
	// and stopping.
	EventClockStarted EventType = "clock_started"
	EventClockStopped EventType = "clock_stopped"
	// EventDeadlineNear records that a clock's deadline is near: its
	// warning time passed while it ran.
	EventDeadlineNear EventType = "deadline_near"
	// EventDeadlineMissed records that a clock's deadline passed while
	// it ran.
	EventDeadlineMissed EventType = "deadline_missed"
	// EventDeadlineChanged records that a running clock's deadline was
	// worked out again, after the incident's severity changed (see
	// [ClockDef].FollowsSeverity).
	EventDeadlineChanged EventType = "deadline_changed"
)

// Marked records a marker.
type Marked struct {
	Mark Mark `json:"mark"`
}

// ClockStarted records that a clock started.
type ClockStarted struct {
	Clock     string    `json:"clock"`
	Title     string    `json:"title"`
	StartedAt time.Time `json:"started_at"`
	Deadline  time.Time `json:"deadline"`
}

// ClockStopped records that a clock stopped, and whether by its
// deadline.
type ClockStopped struct {
	Clock     string    `json:"clock"`
	Title     string    `json:"title"`
	StoppedAt time.Time `json:"stopped_at"`
	Deadline  time.Time `json:"deadline"`
	Met       bool      `json:"met"`
	// Late is how long after the deadline it stopped; zero if met.
	Late time.Duration `json:"late,omitempty"`
}

// DeadlineNear records that a running clock's deadline is near.
type DeadlineNear struct {
	Clock    string    `json:"clock"`
	Title    string    `json:"title"`
	Deadline time.Time `json:"deadline"`
	// Left is the time that was left when it was recorded.
	Left time.Duration `json:"left"`
}

// DeadlineMissed records that a running clock's deadline passed.
type DeadlineMissed struct {
	Clock    string    `json:"clock"`
	Title    string    `json:"title"`
	Deadline time.Time `json:"deadline"`
	// Late is how long after the deadline it was recorded.
	Late time.Duration `json:"late"`
}

// DeadlineChanged records that a running clock's deadline changed.
type DeadlineChanged struct {
	Clock string    `json:"clock"`
	Title string    `json:"title"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// EventType returns [EventDeadlineChanged].
func (*DeadlineChanged) EventType() EventType { return EventDeadlineChanged }

// EventType returns [EventMarked].
func (*Marked) EventType() EventType { return EventMarked }

// EventType returns [EventClockStarted].
func (*ClockStarted) EventType() EventType { return EventClockStarted }

// EventType returns [EventClockStopped].
func (*ClockStopped) EventType() EventType { return EventClockStopped }

// EventType returns [EventDeadlineNear].
func (*DeadlineNear) EventType() EventType { return EventDeadlineNear }

// EventType returns [EventDeadlineMissed].
func (*DeadlineMissed) EventType() EventType { return EventDeadlineMissed }

// Operations of clocks, for a [Policy] to decide on.
const (
	// OpMark is [Responder.Mark].
	OpMark Operation = "mark"
	// OpCheckClocks is [Responder.CheckClocks], which the clock runner
	// calls as [ClockActor].
	OpCheckClocks Operation = "check_clocks"
)

// ClockActor is the actor that records near and missed deadlines.
var ClockActor = Actor{ID: "incidentkit-clocks", Name: "deadline clocks", Kind: ActorService}

// checkClockDefs validates clock definitions and returns them.
func checkClockDefs(defs []ClockDef) ([]ClockDef, error) {
	seen := make(map[string]bool)
	var errs problems
	for i, d := range defs {
		field := fmt.Sprintf("clock %d (%s)", i+1, d.Name)
		switch {
		case !markerPattern.MatchString(d.Name):
			errs.add(invalid(field, d.Name, `the name must be lowercase words joined by "-", "_" or "."`))
		case seen[d.Name]:
			errs.add(invalid(field, d.Name, "another clock has the same name"))
		}
		seen[d.Name] = true
		if strings.TrimSpace(d.Title) == "" {
			errs.add(invalid(field, "", "the title must not be empty"))
		}
		if d.Start.isZero() || d.Stop.isZero() {
			errs.add(invalid(field, "", "the clock needs a start and a stop trigger"))
		}
		for _, t := range []Trigger{d.Start, d.Stop} {
			n := 0
			for _, set := range []bool{t.Marker != "", t.Milestone != "", t.Event != ""} {
				if set {
					n++
				}
			}
			if n > 1 {
				errs.add(invalid(field, "", "a trigger sets one of Marker, Milestone and Event"))
			}
			if t.Milestone != "" && milestoneTime(&Lifecycle{}, t.Milestone) == nil {
				errs.add(invalid(field, string(t.Milestone), "unknown milestone"))
			}
		}
		if d.Due == nil && d.Within <= 0 {
			errs.add(invalid(field, "", "the clock needs a positive Within or a Due function"))
		}
		if d.Warn < 0 {
			errs.add(invalid(field, "", "Warn must not be negative"))
		}
	}
	return slices.Clone(defs), errs.err()
}

// milestoneTime returns the lifecycle time of milestone m, or nil for an
// unknown one.
func milestoneTime(t *Lifecycle, m phases.Milestone) *time.Time {
	switch m {
	case phases.MilestoneAcknowledged:
		return &t.Acknowledged
	case phases.MilestoneContained:
		return &t.Contained
	case phases.MilestoneEradicated:
		return &t.Eradicated
	case phases.MilestoneRecovered:
		return &t.Recovered
	case phases.MilestoneResolved:
		return &t.Resolved
	case phases.MilestoneClosed:
		return &t.Closed
	}
	return nil
}

// match reports whether t matches event e of a change that left inc, and
// at what time.
func (t Trigger) match(inc *Incident, e Event) (time.Time, bool) {
	var at time.Time
	switch {
	case t.Marker != "":
		m, ok := e.Data.(*Marked)
		if !ok || m.Mark.Marker != t.Marker {
			return time.Time{}, false
		}
		at = m.Mark.At
	case t.Event != "":
		if e.Type != t.Event {
			return time.Time{}, false
		}
		at = e.At
		if e.Type == EventOpened && !inc.Times.Detected.IsZero() {
			at = inc.Times.Detected
		}
	default:
		return time.Time{}, false
	}
	if t.If != nil && !t.If(inc, e) {
		return time.Time{}, false
	}
	return at, true
}

// matchMilestone reports whether t is a milestone trigger whose milestone
// inc has reached, and when.
func (t Trigger) matchMilestone(inc *Incident, first Event) (time.Time, bool) {
	if t.Milestone == "" {
		return time.Time{}, false
	}
	at := milestoneTime(&inc.Times, t.Milestone)
	if at == nil || at.IsZero() {
		return time.Time{}, false
	}
	if t.If != nil && !t.If(inc, first) {
		return time.Time{}, false
	}
	return *at, true
}

// reactClocks starts and stops inc's clocks on the events of a change
// that left inc, and returns the change's event data with the events of
// the clocks that started or stopped appended.
func (r *Responder) reactClocks(inc *Incident, data []EventData, now time.Time) []EventData {
	if len(r.clocks) == 0 || len(data) == 0 {
		return data
	}
	n := len(data)
	copied := false
	own := func() {
		if !copied {
			inc.Clocks = slices.Clone(inc.Clocks)
			copied = true
		}
	}
	start := func(d *ClockDef, at time.Time) {
		deadline, ok := d.deadline(inc, at)
		if !ok {
			return
		}
		own()
		c := ClockState{Name: d.Name, Title: d.Title, StartedAt: at, Deadline: deadline}
		if d.Warn > 0 {
			c.WarnAt = deadline.Add(-d.Warn)
		}
		inc.Clocks = append(inc.Clocks, c)
		data = append(data, &ClockStarted{Clock: c.Name, Title: c.Title, StartedAt: at, Deadline: deadline})
	}
	stop := func(i int, at time.Time) {
		own()
		c := &inc.Clocks[i]
		c.StoppedAt = at
		c.Met = !at.After(c.Deadline)
		ev := &ClockStopped{Clock: c.Name, Title: c.Title, StoppedAt: at, Deadline: c.Deadline, Met: c.Met}
		if !c.Met {
			ev.Late = at.Sub(c.Deadline)
		}
		data = append(data, ev)
	}
	rework := func(d *ClockDef, i int) {
		c := inc.Clocks[i]
		deadline, ok := d.deadline(inc, c.StartedAt)
		if !ok || deadline.Equal(c.Deadline) {
			return
		}
		own()
		s := &inc.Clocks[i]
		s.Deadline, s.WarnAt = deadline, time.Time{}
		if d.Warn > 0 {
			s.WarnAt = deadline.Add(-d.Warn)
		}
		s.Missed = s.Missed && !now.Before(deadline)
		s.Warned = s.Warned && (s.Missed || (!s.WarnAt.IsZero() && !now.Before(s.WarnAt)))
		data = append(data, &DeadlineChanged{Clock: c.Name, Title: c.Title, From: c.Deadline, To: deadline})
	}
	running := func(name string) int {
		return slices.IndexFunc(inc.Clocks, func(c ClockState) bool { return c.Name == name && c.Running() })
	}
	started := func(name string) bool {
		return slices.ContainsFunc(inc.Clocks, func(c ClockState) bool { return c.Name == name })
	}
	var first Event
	for k, d := range data[:n] {
		e := Event{IncidentID: inc.ID, Version: inc.Version, Type: d.EventType(), At: now, Data: d}
		if k == 0 {
			first = e
		}
		for i := range r.clocks {
			def := &r.clocks[i]
			if !started(def.Name) {
				if at, ok := def.Start.match(inc, e); ok {
					start(def, at)
				} else if _, ok := d.(*SeverityChanged); ok && def.FollowsSeverity && def.Start.Event == EventOpened && inc.IsOpen() {
					// A clock its severity gave no deadline when the
					// incident opened starts, from the same moment, once
					// a change of severity gives it one, unless what it
					// waits for has happened.
					if _, done := def.Stop.matchMilestone(inc, e); !done {
						at := inc.Times.Detected
						if at.IsZero() {
							at = inc.Times.Opened
						}
						start(def, at)
					}
				}
			}
			if j := running(def.Name); j >= 0 {
				if at, ok := def.Stop.match(inc, e); ok {
					stop(j, at)
				} else if _, ok := d.(*SeverityChanged); ok && def.FollowsSeverity {
					rework(def, j)
				}
			}
		}
	}
	for i := range r.clocks {
		def := &r.clocks[i]
		if !started(def.Name) {
			if at, ok := def.Start.matchMilestone(inc, first); ok {
				start(def, at)
			}
		}
		if j := running(def.Name); j >= 0 {
			if at, ok := def.Stop.matchMilestone(inc, first); ok {
				stop(j, later(at, inc.Clocks[j].StartedAt))
			} else if def.EndsWithIncident && !inc.IsOpen() {
				stop(j, later(inc.Times.Closed, inc.Clocks[j].StartedAt))
			}
		}
	}
	if copied {
		inc.ClockDue = nextClockDue(inc.Clocks)
	}
	return data
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// nextClockDue returns when the earliest of clocks next needs attention:
// a warning time not yet warned of or a deadline not yet recorded as
// missed, of a running clock, in UTC rounded up to the second (so that
// stores compare it as text); zero if none does.
func nextClockDue(clocks []ClockState) time.Time {
	var due time.Time
	for _, c := range clocks {
		if !c.Running() || c.Missed {
			continue
		}
		t := c.Deadline
		if !c.Warned && !c.WarnAt.IsZero() && c.WarnAt.Before(t) {
			t = c.WarnAt
		}
		if due.IsZero() || t.Before(due) {
			due = t
		}
	}
	if due.IsZero() {
		return due
	}
	due = due.UTC()
	if r := due.Truncate(time.Second); !r.Equal(due) {
		due = r.Add(time.Second)
	}
	return due.Round(0)
}

// Mark records a marker on the incident, as an [EventMarked] event: a
// moment that clocks may start or stop on (see [Trigger]). The clocks it
// starts and stops are recorded in the same change, each as an
// [EventClockStarted] or [EventClockStopped] event. A marker is recorded
// once: recording it again changes nothing. It may be called in any
// phase, and after the incident is closed.
func (r *Responder) Mark(ctx context.Context, actor Actor, id ID, m NewMark) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpMark,
		check: func() error {
			if !markerPattern.MatchString(string(m.Marker)) {
				return invalid("marker", string(m.Marker), `must be lowercase words joined by "-", "_" or "."`)
			}
			m.Note = strings.TrimSpace(m.Note)
			if err := checkText("mark note", m.Note, MaxLongText); err != nil {
				return err
			}
			if !m.At.IsZero() {
				if y := m.At.Year(); y < 1 || y > 9999 {
					return invalid("mark time", "", "must be in the years 1 to 9999")
				}
				m.At = m.At.UTC().Round(0)
			}
			return nil
		},
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			if _, ok := inc.Marked(m.Marker); ok {
				return nil, nil
			}
			if len(inc.Marks) >= MaxListSize {
				return nil, invalid("marks", "", "too many marks")
			}
			at := m.At
			if at.IsZero() {
				at = now
			} else if at.After(now) {
				return nil, invalid("mark time", "", "must not be in the future")
			}
			k := Mark{Marker: m.Marker, At: at, Note: m.Note, RecordedAt: now, RecordedBy: actor}
			inc.Marks = append(slices.Clip(inc.Marks), k)
			return []EventData{&Marked{Mark: k}}, nil
		}})
}

// CheckClocks records, for each of the incident's running clocks, that its
// deadline is near or missed, if it now is and that is not recorded yet:
// an [EventDeadlineNear] or [EventDeadlineMissed] event, recorded once
// (a deadline passed before its warning was recorded is recorded as
// missed only). The clock runner calls it (see [Responder.RunClocks]);
// like every change it is written with a version check, so that of
// several callers racing exactly one records each event.
func (r *Responder) CheckClocks(ctx context.Context, actor Actor, id ID) (*Incident, error) {
	inc, _, err := r.checkClocks(ctx, actor, id)
	return inc, err
}

// checkClocks is [Responder.CheckClocks]; it also returns how many events
// it recorded.
func (r *Responder) checkClocks(ctx context.Context, actor Actor, id ID) (*Incident, int, error) {
	// The last attempt's events are the ones written, if any.
	n := 0
	inc, err := r.mutate(ctx, actor, id, change{op: OpCheckClocks,
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			data := checkClocks(inc, now)
			n = len(data)
			return data, nil
		}})
	if err != nil {
		return nil, 0, err
	}
	return inc, n, nil
}

// checkClocks marks inc's clocks whose warning or deadline is due at now,
// and returns the events recording them.
func checkClocks(inc *Incident, now time.Time) []EventData {
	var data []EventData
	copied := false
	for i, c := range inc.Clocks {
		if !c.Running() || c.Missed {
			continue
		}
		missed := !now.Before(c.Deadline)
		near := !c.Warned && !c.WarnAt.IsZero() && !now.Before(c.WarnAt)
		if !missed && !near {
			continue
		}
		if !copied {
			inc.Clocks = slices.Clone(inc.Clocks)
			copied = true
		}
		s := &inc.Clocks[i]
		if missed {
			s.Missed, s.Warned = true, true
			data = append(data, &DeadlineMissed{Clock: s.Name, Title: s.Title, Deadline: s.Deadline, Late: now.Sub(s.Deadline)})
			continue
		}
		s.Warned = true
		data = append(data, &DeadlineNear{Clock: s.Name, Title: s.Title, Deadline: s.Deadline, Left: s.Deadline.Sub(now)})
	}
	if copied {
		inc.ClockDue = nextClockDue(inc.Clocks)
	}
	return data
}

// ClockCounts count the clocks of one name over a set of incidents.
type ClockCounts struct {
	// Met and Missed count the clocks stopped by their deadline and
	// after it, or not stopped and recorded as missed.
	Met, Missed int
	// Running counts the clocks still running whose deadline has not
	// been recorded as missed.
	Running int
}

// add counts c.
func (n ClockCounts) add(c ClockState) ClockCounts {
	switch {
	case !c.Running() && c.Met:
		n.Met++
	case !c.Running() || c.Missed:
		n.Missed++
	default:
		n.Running++
	}
	return n
}

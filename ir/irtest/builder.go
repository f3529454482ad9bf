package irtest

import (
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// Analyst is the actor the builders use when none is given.
var Analyst = ir.Actor{ID: "analyst", Name: "Ana Lyst", Kind: ir.ActorHuman}

// IncidentBuilder builds a valid [ir.Incident] without a [ir.Responder], for
// tests of stores and of code that reads incidents. Start one with
// [Incident], set what matters with its methods (each returns the builder,
// so calls chain) and call [IncidentBuilder.Build].
//
// What is not set gets a default: a version 1, open incident of medium
// severity (priority P3, category other, TLP:AMBER), titled after its ID,
// in the initial phase of phases.SANS, opened at [Epoch] by [Analyst], with
// one stay in its phase since it was opened. Unlike a Responder, a builder
// checks nothing: it makes exactly the incident it is told to.
//
// A builder is not safe for concurrent use.
type IncidentBuilder struct {
	inc  ir.Incident
	with []func(*ir.Incident)
}

// Incident starts building the incident with the given ID.
func Incident(id ir.ID) *IncidentBuilder {
	return &IncidentBuilder{inc: ir.Incident{ID: id}}
}

// Title sets the title.
func (b *IncidentBuilder) Title(title string) *IncidentBuilder {
	b.inc.Title = title
	return b
}

// Severity sets the severity, and the priority to [ir.DefaultPriority] of
// it (use [IncidentBuilder.With] for another priority).
func (b *IncidentBuilder) Severity(s ir.Severity) *IncidentBuilder {
	b.inc.Severity = s
	return b
}

// Phase sets the current phase. Unless [IncidentBuilder.PhaseHistory] is
// given, the history is one stay in this phase since the incident opened.
func (b *IncidentBuilder) Phase(p phases.Phase) *IncidentBuilder {
	b.inc.Phase = p
	return b
}

// PhaseHistory sets the phase history, oldest stay first, and the current
// phase to that of the last stay.
func (b *IncidentBuilder) PhaseHistory(stays ...ir.PhaseInterval) *IncidentBuilder {
	b.inc.PhaseHistory = append([]ir.PhaseInterval(nil), stays...)
	if n := len(stays); n > 0 {
		b.inc.Phase = stays[n-1].Phase
	}
	return b
}

// Labels sets the labels.
func (b *IncidentBuilder) Labels(labels ...string) *IncidentBuilder {
	b.inc.Labels = append([]string(nil), labels...)
	return b
}

// Opened sets when the incident was opened. Unless set otherwise, it is
// also when it was detected and reported, and when it last changed.
func (b *IncidentBuilder) Opened(t time.Time) *IncidentBuilder {
	b.inc.Times.Opened = t
	return b
}

// Closed marks the incident closed (and, unless already set, resolved) at
// t, which is what makes an incident not open (see [ir.Incident.IsOpen]).
// It does not change the phase.
func (b *IncidentBuilder) Closed(t time.Time) *IncidentBuilder {
	b.inc.Times.Closed = t
	if b.inc.Times.Resolved.IsZero() {
		b.inc.Times.Resolved = t
	}
	return b
}

// Version sets the version; 1 makes a new incident, as [OpenChange] needs.
func (b *IncidentBuilder) Version(v int64) *IncidentBuilder {
	b.inc.Version = v
	return b
}

// With calls f on the incident at the end of [IncidentBuilder.Build], after
// the defaults are filled in, to set anything the other methods do not.
func (b *IncidentBuilder) With(f func(inc *ir.Incident)) *IncidentBuilder {
	b.with = append(b.with, f)
	return b
}

// Build returns a new incident as set up so far. Each call returns a fresh
// copy.
func (b *IncidentBuilder) Build() *ir.Incident {
	inc := b.inc.Clone()
	if inc.Title == "" {
		inc.Title = "Test incident " + string(inc.ID)
	}
	if inc.Severity == "" {
		inc.Severity = ir.SeverityMedium
	}
	inc.Priority = ir.DefaultPriority(inc.Severity)
	inc.Category = ir.CategoryOther
	inc.TLP = ir.TLPAmber
	inc.Model = phases.SANS.Name()
	if inc.Phase == "" {
		inc.Phase = phases.SANS.Initial()
	}
	if inc.Version == 0 {
		inc.Version = 1
	}
	inc.OpenedBy = Analyst
	t := &inc.Times
	if t.Opened.IsZero() {
		t.Opened = Epoch
	}
	if t.Reported.IsZero() {
		t.Reported = t.Opened
	}
	if t.Detected.IsZero() {
		t.Detected = t.Reported
	}
	inc.UpdatedAt = latest(t.Opened, t.Acknowledged, t.Contained, t.Eradicated, t.Recovered, t.Resolved, t.Closed)
	if len(inc.PhaseHistory) == 0 {
		inc.PhaseHistory = []ir.PhaseInterval{{Phase: inc.Phase, Entered: t.Opened}}
	}
	for _, f := range b.with {
		f(inc)
	}
	return inc
}

// latest returns the latest of ts.
func latest(ts ...time.Time) time.Time {
	var last time.Time
	for _, t := range ts {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// OpenChange returns the change that creates inc: a copy of inc with its
// [ir.Opened] event, made by inc.OpenedBy when it was opened. inc.Version
// should be 1.
func OpenChange(inc *ir.Incident) ir.Change {
	ev := Event(inc, &ir.Opened{
		Title: inc.Title, Severity: inc.Severity, Priority: inc.Priority, Category: inc.Category,
		TLP: inc.TLP, Model: inc.Model, Phase: inc.Phase,
	})
	ev.At, ev.Actor = inc.Times.Opened, inc.OpenedBy
	return ir.Change{Incident: inc.Clone(), Events: []ir.Event{ev}}
}

// NextChange returns the change that follows inc: a copy of inc one version
// on, changed a minute after inc.UpdatedAt, with one event per data (a note
// if there is none), made by [Analyst]. It changes nothing else: make
// ch.Incident match the events before applying the change if that matters,
// such as setting the phase for an [ir.PhaseChanged].
func NextChange(inc *ir.Incident, data ...ir.EventData) ir.Change {
	next := inc.Clone()
	next.Version++
	next.UpdatedAt = inc.UpdatedAt.Add(time.Minute)
	if len(data) == 0 {
		data = []ir.EventData{&ir.NoteAdded{Text: "Next change of " + string(inc.ID)}}
	}
	events := make([]ir.Event, len(data))
	for i, d := range data {
		events[i] = Event(next, d)
	}
	return ir.Change{Incident: next, Events: events}
}

// Event returns an event recording data for inc's current version: it
// carries inc's ID and version, the type data names, inc.UpdatedAt as its
// time and [Analyst] as its actor. Its Seq is zero: stores assign it.
func Event(inc *ir.Incident, data ir.EventData) ir.Event {
	return ir.Event{
		IncidentID: inc.ID,
		Version:    inc.Version,
		Type:       data.EventType(),
		At:         inc.UpdatedAt,
		Actor:      Analyst,
		Data:       data,
	}
}

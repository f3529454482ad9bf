package ir

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/internal/jsonenc"
)

// The AppendJSON methods write what encoding/json writes for the same
// value, byte for byte, without reflection and with no allocation beyond
// growing the buffer: a store encodes an incident and its events on every
// change. They write the usual values directly and leave every other
// value (an enum value that is not in its canonical form or not valid, a
// time json.Marshal refuses, event data of a type of another package) to
// json.Marshal, which then encodes the whole value, or fails as it would.
// A test compares them with json.Marshal on generated values of every
// type they write.

// AppendJSON appends the JSON encoding of the incident to b and returns
// the extended buffer: the bytes json.Marshal writes for it.
func (inc *Incident) AppendJSON(b []byte) ([]byte, error) {
	e := jsonEncoder{b: b}
	e.incident(inc)
	if e.fallback {
		c := *inc // a copy, so that the receiver does not escape
		return appendMarshal(b, &c)
	}
	return e.b, nil
}

// AppendJSON appends the JSON encoding of the event to b and returns the
// extended buffer: the bytes json.Marshal writes for it.
func (ev *Event) AppendJSON(b []byte) ([]byte, error) {
	e := jsonEncoder{b: b}
	e.event(ev)
	if e.fallback {
		c := *ev // a copy, so that the receiver does not escape
		return appendMarshal(b, &c)
	}
	return e.b, nil
}

// AppendJSON appends the JSON encoding of the observable to b and returns
// the extended buffer: the bytes json.Marshal writes for it.
func (o *Observable) AppendJSON(b []byte) ([]byte, error) {
	e := jsonEncoder{b: b}
	e.observable(o)
	if e.fallback {
		c := *o // a copy, so that the receiver does not escape
		return appendMarshal(b, &c)
	}
	return e.b, nil
}

// AppendJSON appends the JSON encoding of the task to b and returns the
// extended buffer: the bytes json.Marshal writes for it.
func (t *Task) AppendJSON(b []byte) ([]byte, error) {
	e := jsonEncoder{b: b}
	e.task(t)
	if e.fallback {
		c := *t // a copy, so that the receiver does not escape
		return appendMarshal(b, &c)
	}
	return e.b, nil
}

// appendMarshal appends json.Marshal's encoding of v to b.
func appendMarshal(b []byte, v any) ([]byte, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, out...), nil
}

// jsonEncoder appends JSON to b. fallback is set when it met a value it
// leaves to encoding/json; what b holds is then of no use.
type jsonEncoder struct {
	b        []byte
	fallback bool
}

// raw appends s as it is: punctuation and field names.
func (e *jsonEncoder) raw(s string) { e.b = append(e.b, s...) }

// int appends n.
func (e *jsonEncoder) int(n int64) { e.b = strconv.AppendInt(e.b, n, 10) }

// str appends s as a JSON string, escaped as encoding/json escapes it.
func (e *jsonEncoder) str(s string) { e.b = jsonenc.AppendString(e.b, s) }

// time appends t as time.Time.MarshalJSON does: RFC 3339 with nanoseconds,
// quoted. The times it refuses (years outside 0 to 9999, zone offsets of
// a day or more) are left to encoding/json.
func (e *jsonEncoder) time(t time.Time) {
	var ok bool
	if e.b, ok = jsonenc.AppendTime(e.b, t); !ok {
		e.fallback = true
	}
}

// enum appends v, an enum value whose MarshalText refuses values that are
// not in values and writes others in their canonical form: a value that
// is not exactly one of values is left to encoding/json. The empty value
// encodes as an empty string.
func enum[T ~string](e *jsonEncoder, v T, values []T) {
	if v != "" && !isOneOf(v, values) {
		e.fallback = true
	}
	e.str(string(v))
}

// isOneOf reports whether v is one of values.
func isOneOf[T ~string](v T, values []T) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}

// strings appends a list of strings; nil is null.
func (e *jsonEncoder) strings(list []string) {
	if list == nil {
		e.raw("null")
		return
	}
	e.raw("[")
	for i, s := range list {
		if i > 0 {
			e.raw(",")
		}
		e.str(s)
	}
	e.raw("]")
}

// actor appends a.
func (e *jsonEncoder) actor(a *Actor) {
	e.raw(`{"id":`)
	e.str(a.ID)
	if a.Name != "" {
		e.raw(`,"name":`)
		e.str(a.Name)
	}
	if a.Kind != "" {
		e.raw(`,"kind":`)
		enum(e, a.Kind, actorKinds)
	}
	e.raw("}")
}

// impact appends i.
func (e *jsonEncoder) impact(i *Impact) {
	e.raw("{")
	sep := ""
	if i.Functional != "" {
		e.raw(`"functional":`)
		enum(e, i.Functional, functionalImpacts)
		sep = ","
	}
	if len(i.Information) > 0 {
		e.raw(sep + `"information":[`)
		for j, x := range i.Information {
			if j > 0 {
				e.raw(",")
			}
			enum(e, x, informationImpacts)
		}
		e.raw("]")
		sep = ","
	}
	if i.Recoverability != "" {
		e.raw(sep + `"recoverability":`)
		enum(e, i.Recoverability, recoverabilities)
	}
	e.raw("}")
}

// isZero reports whether i is the zero Impact, as omitzero sees it.
func (i *Impact) isZero() bool {
	return i.Functional == "" && i.Information == nil && i.Recoverability == ""
}

// lifecycle appends t.
func (e *jsonEncoder) lifecycle(t *Lifecycle) {
	e.raw("{")
	sep := ""
	for _, f := range [...]struct {
		key string
		t   *time.Time
	}{
		{`"occurred":`, &t.Occurred}, {`"detected":`, &t.Detected}, {`"reported":`, &t.Reported},
		{`"opened":`, &t.Opened}, {`"acknowledged":`, &t.Acknowledged}, {`"contained":`, &t.Contained},
		{`"eradicated":`, &t.Eradicated}, {`"recovered":`, &t.Recovered}, {`"resolved":`, &t.Resolved},
		{`"closed":`, &t.Closed},
	} {
		if f.t.IsZero() {
			continue
		}
		e.raw(sep)
		e.raw(f.key)
		e.time(*f.t)
		sep = ","
	}
	e.raw("}")
}

// phaseInterval appends p.
func (e *jsonEncoder) phaseInterval(p *PhaseInterval) {
	e.raw(`{"phase":`)
	e.str(string(p.Phase))
	if p.Action != "" {
		e.raw(`,"action":`)
		e.str(string(p.Action))
	}
	e.raw(`,"entered":`)
	e.time(p.Entered)
	if !p.Left.IsZero() {
		e.raw(`,"left":`)
		e.time(p.Left)
	}
	e.raw("}")
}

// asset appends a.
func (e *jsonEncoder) asset(a *Asset) {
	e.raw(`{"kind":`)
	enum(e, a.Kind, assetKinds)
	e.raw(`,"name":`)
	e.str(a.Name)
	if a.Description != "" {
		e.raw(`,"description":`)
		e.str(a.Description)
	}
	if !a.AddedAt.IsZero() {
		e.raw(`,"added_at":`)
		e.time(a.AddedAt)
	}
	if !a.AddedBy.IsZero() {
		e.raw(`,"added_by":`)
		e.actor(&a.AddedBy)
	}
	e.raw("}")
}

// observable appends o.
func (e *jsonEncoder) observable(o *Observable) {
	e.raw(`{"type":`)
	enum(e, o.Type, observableTypes)
	e.raw(`,"value":`)
	e.str(o.Value)
	if o.Description != "" {
		e.raw(`,"description":`)
		e.str(o.Description)
	}
	if o.Malicious {
		e.raw(`,"malicious":true`)
	}
	if !o.AddedAt.IsZero() {
		e.raw(`,"added_at":`)
		e.time(o.AddedAt)
	}
	if !o.AddedBy.IsZero() {
		e.raw(`,"added_by":`)
		e.actor(&o.AddedBy)
	}
	e.raw("}")
}

// participant appends p.
func (e *jsonEncoder) participant(p *Participant) {
	e.raw(`{"actor":`)
	e.actor(&p.Actor)
	e.raw(`,"role":`)
	enum(e, p.Role, roles)
	e.raw(`,"assigned_at":`)
	e.time(p.AssignedAt)
	e.raw(`,"assigned_by":`)
	e.actor(&p.AssignedBy)
	e.raw("}")
}

// task appends t.
func (e *jsonEncoder) task(t *Task) {
	e.raw(`{"id":`)
	e.int(int64(t.ID))
	e.raw(`,"title":`)
	e.str(t.Title)
	e.raw(`,"phase":`)
	e.str(string(t.Phase))
	if t.Required {
		e.raw(`,"required":true`)
	}
	if !t.Assignee.IsZero() {
		e.raw(`,"assignee":`)
		e.actor(&t.Assignee)
	}
	e.raw(`,"added_at":`)
	e.time(t.AddedAt)
	e.raw(`,"added_by":`)
	e.actor(&t.AddedBy)
	if t.Done {
		e.raw(`,"done":true`)
	}
	if !t.DoneAt.IsZero() {
		e.raw(`,"done_at":`)
		e.time(t.DoneAt)
	}
	if !t.DoneBy.IsZero() {
		e.raw(`,"done_by":`)
		e.actor(&t.DoneBy)
	}
	if t.Outcome != "" {
		e.raw(`,"outcome":`)
		e.str(t.Outcome)
	}
	if t.Role != "" {
		e.raw(`,"role":`)
		enum(e, t.Role, roles)
	}
	if t.Key != "" {
		e.raw(`,"key":`)
		e.str(t.Key)
	}
	e.raw("}")
}

// decision appends d.
func (e *jsonEncoder) decision(d *Decision) {
	e.raw(`{"id":`)
	e.int(int64(d.ID))
	e.raw(`,"summary":`)
	e.str(d.Summary)
	if len(d.Options) > 0 {
		e.raw(`,"options":`)
		e.strings(d.Options)
	}
	if d.Rationale != "" {
		e.raw(`,"rationale":`)
		e.str(d.Rationale)
	}
	e.raw(`,"decided_at":`)
	e.time(d.DecidedAt)
	e.raw(`,"decided_by":`)
	e.actor(&d.DecidedBy)
	e.raw("}")
}

// evidenceKinds are the kinds of evidence items written directly; others
// are left to encoding/json.
var evidenceKinds = []evidence.Kind{
	evidence.KindDiskImage, evidence.KindMemoryDump, evidence.KindLog, evidence.KindPacketCapture,
	evidence.KindFile, evidence.KindScreenshot, evidence.KindDocument, evidence.KindOther,
}

// evidenceRef appends r.
func (e *jsonEncoder) evidenceRef(r *EvidenceRef) {
	e.raw(`{"item":`)
	e.str(string(r.Item))
	e.raw(`,"exhibit":`)
	e.str(r.Exhibit)
	e.raw(`,"name":`)
	e.str(r.Name)
	e.raw(`,"kind":`)
	enum(e, r.Kind, evidenceKinds)
	e.raw(`,"size":`)
	e.int(r.Size)
	e.raw(`,"sha256":`)
	e.str(r.SHA256)
	e.raw(`,"collected_at":`)
	e.time(r.CollectedAt)
	e.raw(`,"collected_by":`)
	e.actor(&r.CollectedBy)
	e.raw("}")
}

// review appends rv.
func (e *jsonEncoder) review(rv *Review) {
	e.raw(`{"summary":`)
	e.str(rv.Summary)
	if rv.RootCause != "" {
		e.raw(`,"root_cause":`)
		e.str(rv.RootCause)
	}
	for _, f := range [...]struct {
		key  string
		list []string
	}{
		{`,"contributing_factors":`, rv.ContributingFactors}, {`,"went_well":`, rv.WentWell},
		{`,"went_poorly":`, rv.WentPoorly}, {`,"lessons_learned":`, rv.LessonsLearned},
	} {
		if len(f.list) > 0 {
			e.raw(f.key)
			e.strings(f.list)
		}
	}
	e.raw(`,"revision":`)
	e.int(int64(rv.Revision))
	e.raw(`,"recorded_at":`)
	e.time(rv.RecordedAt)
	e.raw(`,"recorded_by":`)
	e.actor(&rv.RecordedBy)
	e.raw("}")
}

// followUp appends f.
func (e *jsonEncoder) followUp(f *FollowUp) {
	e.raw(`{"id":`)
	e.int(int64(f.ID))
	e.raw(`,"title":`)
	e.str(f.Title)
	if !f.Owner.IsZero() {
		e.raw(`,"owner":`)
		e.actor(&f.Owner)
	}
	if !f.Due.IsZero() {
		e.raw(`,"due":`)
		e.time(f.Due)
	}
	if f.Reference != "" {
		e.raw(`,"reference":`)
		e.str(f.Reference)
	}
	e.raw(`,"added_at":`)
	e.time(f.AddedAt)
	e.raw(`,"added_by":`)
	e.actor(&f.AddedBy)
	if f.Done {
		e.raw(`,"done":true`)
	}
	if !f.DoneAt.IsZero() {
		e.raw(`,"done_at":`)
		e.time(f.DoneAt)
	}
	if !f.DoneBy.IsZero() {
		e.raw(`,"done_by":`)
		e.actor(&f.DoneBy)
	}
	if f.Outcome != "" {
		e.raw(`,"outcome":`)
		e.str(f.Outcome)
	}
	e.raw("}")
}

// list appends the entries of a list with put, after key if the list is
// not empty (omitempty).
func list[T any](e *jsonEncoder, key string, entries []T, put func(*jsonEncoder, *T)) {
	if len(entries) == 0 {
		return
	}
	e.raw(key)
	e.raw("[")
	for i := range entries {
		if i > 0 {
			e.raw(",")
		}
		put(e, &entries[i])
	}
	e.raw("]")
}

// incident appends inc.
func (e *jsonEncoder) incident(inc *Incident) {
	e.raw(`{"id":`)
	e.str(string(inc.ID))
	e.raw(`,"title":`)
	e.str(inc.Title)
	if inc.Summary != "" {
		e.raw(`,"summary":`)
		e.str(inc.Summary)
	}
	e.raw(`,"severity":`)
	enum(e, inc.Severity, severities)
	e.raw(`,"priority":`)
	enum(e, inc.Priority, priorities)
	e.raw(`,"category":`)
	enum(e, inc.Category, categories)
	e.raw(`,"tlp":`)
	enum(e, inc.TLP, tlps)
	if inc.Exercise {
		e.raw(`,"exercise":true`)
	}
	e.raw(`,"model":`)
	e.str(inc.Model)
	e.raw(`,"phase":`)
	e.str(string(inc.Phase))
	e.raw(`,"phase_history":`)
	if inc.PhaseHistory == nil {
		e.raw("null")
	} else {
		e.raw("[")
		for i := range inc.PhaseHistory {
			if i > 0 {
				e.raw(",")
			}
			e.phaseInterval(&inc.PhaseHistory[i])
		}
		e.raw("]")
	}
	if !inc.Impact.isZero() {
		e.raw(`,"impact":`)
		e.impact(&inc.Impact)
	}
	if inc.Verdict != "" {
		e.raw(`,"verdict":`)
		enum(e, inc.Verdict, verdicts)
	}
	if inc.Resolution != "" {
		e.raw(`,"resolution":`)
		e.str(inc.Resolution)
	}
	list(e, `,"assets":`, inc.Assets, (*jsonEncoder).asset)
	list(e, `,"observables":`, inc.Observables, (*jsonEncoder).observable)
	list(e, `,"participants":`, inc.Participants, (*jsonEncoder).participant)
	list(e, `,"tasks":`, inc.Tasks, (*jsonEncoder).task)
	list(e, `,"decisions":`, inc.Decisions, (*jsonEncoder).decision)
	list(e, `,"evidence":`, inc.Evidence, (*jsonEncoder).evidenceRef)
	if inc.Review != nil {
		e.raw(`,"review":`)
		e.review(inc.Review)
	}
	list(e, `,"follow_ups":`, inc.FollowUps, (*jsonEncoder).followUp)
	if len(inc.Marks) > 0 || len(inc.Clocks) > 0 || !inc.ClockDue.IsZero() {
		e.clocks(inc)
	}
	if len(inc.Labels) > 0 {
		e.raw(`,"labels":`)
		e.strings(inc.Labels)
	}
	e.raw(`,"times":`)
	e.lifecycle(&inc.Times)
	e.raw(`,"opened_by":`)
	e.actor(&inc.OpenedBy)
	e.raw(`,"updated_at":`)
	e.time(inc.UpdatedAt)
	e.raw(`,"version":`)
	e.int(inc.Version)
	e.raw("}")
}

// event appends ev.
func (e *jsonEncoder) event(ev *Event) {
	e.raw(`{"incident_id":`)
	e.str(string(ev.IncidentID))
	e.raw(`,"seq":`)
	e.int(ev.Seq)
	e.raw(`,"version":`)
	e.int(ev.Version)
	e.raw(`,"type":`)
	e.str(string(ev.Type))
	e.raw(`,"at":`)
	e.time(ev.At)
	e.raw(`,"actor":`)
	e.actor(&ev.Actor)
	if ev.Reason != "" {
		e.raw(`,"reason":`)
		e.str(ev.Reason)
	}
	e.raw(`,"data":`)
	e.eventData(ev.Data)
	e.raw("}")
}

// eventData appends the data of an event: this package's types are
// written directly, nil as null, and any other type is left to
// encoding/json.
func (e *jsonEncoder) eventData(data EventData) {
	switch d := data.(type) {
	case nil:
		e.raw("null")
	case *PhaseChanged:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"action":`)
		e.str(string(d.Action))
		e.raw(`,"from":`)
		e.str(string(d.From))
		e.raw(`,"to":`)
		e.str(string(d.To))
		e.raw("}")
	case *NoteAdded:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"text":`)
		e.str(d.Text)
		e.raw("}")
	case *SeverityChanged:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"from":`)
		enum(e, d.From, severities)
		e.raw(`,"to":`)
		enum(e, d.To, severities)
		e.raw("}")
	case *PriorityChanged:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"from":`)
		enum(e, d.From, priorities)
		e.raw(`,"to":`)
		enum(e, d.To, priorities)
		e.raw("}")
	case *RoleAssigned:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"role":`)
		enum(e, d.Role, roles)
		e.raw(`,"assignee":`)
		e.actor(&d.Assignee)
		if !d.Replaced.IsZero() {
			e.raw(`,"replaced":`)
			e.actor(&d.Replaced)
		}
		e.raw("}")
	case *RoleUnassigned:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"role":`)
		enum(e, d.Role, roles)
		e.raw(`,"assignee":`)
		e.actor(&d.Assignee)
		e.raw("}")
	case *TaskAdded:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"task":`)
		e.task(&d.Task)
		e.raw("}")
	case *TaskCompleted:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"task_id":`)
		e.int(int64(d.TaskID))
		e.raw(`,"title":`)
		e.str(d.Title)
		if d.Outcome != "" {
			e.raw(`,"outcome":`)
			e.str(d.Outcome)
		}
		e.raw("}")
	case *ObservableAdded:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"observable":`)
		e.observable(&d.Observable)
		e.raw("}")
	case *AssetAdded:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"asset":`)
		e.asset(&d.Asset)
		e.raw("}")
	case *DecisionRecorded:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"decision":`)
		e.decision(&d.Decision)
		e.raw("}")
	case *VerdictSet:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"verdict":`)
		enum(e, d.Verdict, verdicts)
		if d.Previous != "" {
			e.raw(`,"previous":`)
			enum(e, d.Previous, verdicts)
		}
		if d.Resolution != "" {
			e.raw(`,"resolution":`)
			e.str(d.Resolution)
		}
		e.raw("}")
	case *EvidenceCollected:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"evidence":`)
		e.evidenceRef(&d.Evidence)
		e.raw("}")
	case *ImpactAssessed:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"impact":`)
		e.impact(&d.Impact)
		e.raw("}")
	case *Opened:
		if d == nil {
			e.raw("null")
			return
		}
		e.opened(d)
	case *ReviewRecorded:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"review":`)
		e.review(&d.Review)
		e.raw("}")
	case *FollowUpAdded:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"follow_up":`)
		e.followUp(&d.FollowUp)
		e.raw("}")
	case *FollowUpDone:
		if d == nil {
			e.raw("null")
			return
		}
		e.raw(`{"follow_up_id":`)
		e.int(int64(d.FollowUpID))
		e.raw(`,"title":`)
		e.str(d.Title)
		if d.Outcome != "" {
			e.raw(`,"outcome":`)
			e.str(d.Outcome)
		}
		e.raw("}")
	default:
		e.fallback = true
	}
}

// opened appends d.
func (e *jsonEncoder) opened(d *Opened) {
	e.raw(`{"title":`)
	e.str(d.Title)
	if d.Summary != "" {
		e.raw(`,"summary":`)
		e.str(d.Summary)
	}
	e.raw(`,"severity":`)
	enum(e, d.Severity, severities)
	e.raw(`,"priority":`)
	enum(e, d.Priority, priorities)
	e.raw(`,"category":`)
	enum(e, d.Category, categories)
	e.raw(`,"tlp":`)
	enum(e, d.TLP, tlps)
	if d.Exercise {
		e.raw(`,"exercise":true`)
	}
	if !d.Impact.isZero() {
		e.raw(`,"impact":`)
		e.impact(&d.Impact)
	}
	if len(d.Labels) > 0 {
		e.raw(`,"labels":`)
		e.strings(d.Labels)
	}
	e.raw(`,"model":`)
	e.str(d.Model)
	e.raw(`,"phase":`)
	e.str(string(d.Phase))
	e.raw(`,"times":`)
	e.lifecycle(&d.Times)
	e.raw("}")
}

// clocks appends the incident's marks, clocks and clock due time, which
// few incidents have, with encoding/json.
func (e *jsonEncoder) clocks(inc *Incident) {
	for _, f := range []struct {
		key  string
		v    any
		omit bool
	}{
		{`,"marks":`, inc.Marks, len(inc.Marks) == 0},
		{`,"clocks":`, inc.Clocks, len(inc.Clocks) == 0},
		{`,"clock_due":`, inc.ClockDue, inc.ClockDue.IsZero()},
	} {
		if f.omit {
			continue
		}
		out, err := json.Marshal(f.v)
		if err != nil {
			e.fallback = true
			return
		}
		e.raw(f.key)
		e.b = append(e.b, out...)
	}
}

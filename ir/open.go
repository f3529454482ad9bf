package ir

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/incidentkit/incidentkit/phases"
)

// NewIncident is what [Responder.Open] needs to open an incident. Title and
// Severity are required; every other field has a default.
type NewIncident struct {
	// Title is required, at most [MaxShortText] bytes.
	Title string
	// Summary is at most [MaxBodyText] bytes.
	Summary string
	// Severity is required.
	Severity Severity
	// Priority defaults to [DefaultPriority] of the severity.
	Priority Priority
	// Category defaults to [CategoryOther].
	Category Category
	// TLP defaults to [TLPAmber].
	TLP    TLP
	Impact Impact
	// Labels are at most [MaxLabels], each at most [MaxShortText] bytes.
	Labels []string
	// Observables and Assets known at the outset, at most [MaxListSize]
	// of each.
	Observables []Observable
	Assets      []Asset
	// OccurredAt is when the incident began, if known. DetectedAt defaults
	// to ReportedAt, and ReportedAt to the moment the incident is opened.
	// They must be in that order and not in the future (up to
	// [MaxClockSkew] ahead is accepted).
	OccurredAt, DetectedAt, ReportedAt time.Time
	// Exercise opens the incident as an exercise (see
	// [Incident].Exercise): a drill or a test of the response, not a
	// real incident.
	Exercise bool
}

// MaxClockSkew is how far in the future a reported time may be, to allow
// for clocks on other machines running slightly ahead.
const MaxClockSkew = 5 * time.Minute

// Open opens an incident in the initial phase of the Responder's model and
// returns it. The timeline starts with an [Opened] event.
//
// Every field of n is checked before Open returns: bad input returns an
// [*InvalidError], or, when several fields are wrong, an [*InputError]
// listing each of them; both match [ErrInvalid].
func (r *Responder) Open(ctx context.Context, actor Actor, n NewIncident) (inc *Incident, err error) {
	return r.open(ctx, actor, n, "")
}

// open opens an incident with ID id, or with one from the Responder's
// generator if id is empty.
func (r *Responder) open(ctx context.Context, actor Actor, n NewIncident, id ID) (inc *Incident, err error) {
	ctx, span := r.tel.start(ctx, OpOpen, "", attrSeverity.String(string(n.Severity)))
	defer func() { err = facade(err); r.tel.end(ctx, span, err) }()
	if actor, err = actor.normalize("actor"); err != nil {
		return nil, err
	}
	now := r.clock.Now()
	inc, data, err := r.build(n, actor, now, id)
	if err != nil {
		return nil, err
	}
	if data, err = r.prepareEntry(ctx, inc, "", "", actor, now, data); err != nil {
		return nil, err
	}
	data = r.reactClocks(inc, data, now)
	span.SetAttributes(attrIncidentID.String(string(inc.ID)), attrCategory.String(string(inc.Category)),
		attrModel.String(inc.Model), attrPhaseTo.String(string(inc.Phase)))
	if err := r.authorize(ctx, Request{Actor: actor, Operation: OpOpen, Incident: inc.Clone()}); err != nil {
		return nil, err
	}
	if err := r.apply(ctx, Change{Incident: inc, Events: r.events(inc, actor, now, "", data)}); err != nil {
		return nil, err
	}
	r.tel.opened.Add(ctx, 1, metric.WithAttributes(attrSeverity.String(string(inc.Severity)), attrCategory.String(string(inc.Category))))
	r.logger.InfoContext(ctx, "ir: incident opened", "incident", inc.ID, "severity", inc.Severity, "actor", actor.ID)
	r.written.put(inc)
	return inc.shared(), nil
}

// build validates n and makes the incident it describes, with the events
// that record its opening. It checks every field before it returns, and
// reports every problem found: an [*InputError] when there are several.
// The incident gets ID id, or one from the Responder's generator if id is
// empty.
func (r *Responder) build(n NewIncident, actor Actor, now time.Time, id ID) (*Incident, []EventData, error) {
	var errs problems
	title, err := shortText("title", n.Title, true)
	errs.add(err)
	errs.add(checkText("summary", n.Summary, MaxBodyText))
	inc := &Incident{
		Title:    title,
		Summary:  strings.TrimSpace(n.Summary),
		Model:    r.model.Name(),
		Phase:    r.model.Initial(),
		OpenedBy: actor,
		Version:  1,
		Exercise: n.Exercise,
	}
	if n.Severity == "" {
		errs.add(invalid("severity", "", "is required"))
	} else {
		inc.Severity, err = ParseSeverity(string(n.Severity))
		errs.add(err)
	}
	inc.Priority, err = withDefault(n.Priority, DefaultPriority(inc.Severity), ParsePriority)
	errs.add(err)
	inc.Category, err = withDefault(n.Category, CategoryOther, ParseCategory)
	errs.add(err)
	inc.TLP, err = withDefault(n.TLP, TLPAmber, ParseTLP)
	errs.add(err)
	inc.Impact, err = n.Impact.normalize()
	errs.add(err)
	inc.Labels, err = normalizeLabels(n.Labels)
	errs.add(err)
	inc.Times, err = openingTimes(n, now)
	errs.add(err)
	var data []EventData
	if len(n.Observables) > MaxListSize || len(n.Assets) > MaxListSize {
		errs.add(invalid("incident", "", fmt.Sprintf("at most %d observables and %d assets", MaxListSize, MaxListSize)))
	} else {
		for _, o := range n.Observables {
			d, err := inc.addObservable(o, actor, now)
			errs.add(err)
			data = append(data, d...)
		}
		for _, a := range n.Assets {
			d, err := inc.addAsset(a, actor, now)
			errs.add(err)
			data = append(data, d...)
		}
	}
	if err := errs.err(); err != nil {
		return nil, nil, err
	}
	inc.ID = id
	if inc.ID == "" {
		inc.ID = r.ids.NewID()
	}
	if inc.ID == "" {
		return nil, nil, invalid("incident ID", "", "the ID generator returned an empty ID")
	}
	inc.UpdatedAt = now
	inc.PhaseHistory = []PhaseInterval{{Phase: inc.Phase, Entered: now}}
	inc.Times.markAll(r.phaseDefs[inc.Phase].Marks, now)
	opened := &Opened{
		Title: inc.Title, Summary: inc.Summary, Severity: inc.Severity, Priority: inc.Priority,
		Category: inc.Category, TLP: inc.TLP, Exercise: inc.Exercise, Impact: inc.Impact, Labels: slices.Clone(inc.Labels),
		Model: inc.Model, Phase: inc.Phase, Times: inc.Times,
	}
	return inc, append([]EventData{opened}, data...), nil
}

// withDefault parses v, or returns def if v is unset.
func withDefault[T ~string](v, def T, parse func(string) (T, error)) (T, error) {
	if v == "" {
		return def, nil
	}
	return parse(string(v))
}

// openingTimes checks the times given when opening an incident and fills in
// their defaults.
func openingTimes(n NewIncident, now time.Time) (Lifecycle, error) {
	t := Lifecycle{Occurred: n.OccurredAt, Detected: n.DetectedAt, Reported: n.ReportedAt, Opened: now}
	// The times given are checked before defaults fill the gaps, so an
	// error names the field the caller set.
	latest := now.Add(MaxClockSkew)
	for _, c := range []struct {
		name string
		t    time.Time
	}{{"occurred time", t.Occurred}, {"detected time", t.Detected}, {"reported time", t.Reported}} {
		if c.t.After(latest) {
			return Lifecycle{}, invalid(c.name, c.t.Format(time.RFC3339), "is in the future")
		}
	}
	if t.Reported.IsZero() {
		// A detection reported from a clock slightly ahead is reported no
		// earlier than it was detected.
		t.Reported = now
		if t.Detected.After(now) {
			t.Reported = t.Detected
		}
	}
	if t.Detected.IsZero() {
		t.Detected = t.Reported
	}
	if !t.Occurred.IsZero() && t.Occurred.After(t.Detected) {
		return Lifecycle{}, invalid("occurred time", t.Occurred.Format(time.RFC3339), "is after the detected time")
	}
	if t.Detected.After(t.Reported) {
		return Lifecycle{}, invalid("detected time", t.Detected.Format(time.RFC3339), "is after the reported time")
	}
	return t, nil
}

// markAll marks each of ms at now.
func (t *Lifecycle) markAll(ms []phases.Milestone, now time.Time) {
	for _, m := range ms {
		t.mark(m, now)
	}
}

// mark sets the timestamp of milestone m to now, unless it is already set.
func (t *Lifecycle) mark(m phases.Milestone, now time.Time) {
	var field *time.Time
	switch m {
	case phases.MilestoneAcknowledged:
		field = &t.Acknowledged
	case phases.MilestoneContained:
		field = &t.Contained
	case phases.MilestoneEradicated:
		field = &t.Eradicated
	case phases.MilestoneRecovered:
		field = &t.Recovered
	case phases.MilestoneResolved:
		field = &t.Resolved
	case phases.MilestoneClosed:
		field = &t.Closed
	default:
		return
	}
	if field.IsZero() {
		*field = now
	}
}

// shortText trims s and checks it is a title-sized text.
func shortText(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", invalid(field, "", "must not be empty")
	}
	if err := checkText(field, s, MaxShortText); err != nil {
		return "", err
	}
	return s, nil
}

// normalizeLabels trims labels, drops repeats and checks their size.
func normalizeLabels(labels []string) ([]string, error) {
	if len(labels) > MaxLabels {
		return nil, invalid("labels", "", fmt.Sprintf("at most %d labels", MaxLabels))
	}
	var out []string
	for _, l := range labels {
		l, err := shortText("label", l, true)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

package irtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

func TestIncidentDefaults(t *testing.T) {
	t.Parallel()
	inc := Incident("INC-000001").Build()
	assert.Equal(t, &ir.Incident{
		ID:           "INC-000001",
		Title:        "Test incident INC-000001",
		Severity:     ir.SeverityMedium,
		Priority:     ir.PriorityP3,
		Category:     ir.CategoryOther,
		TLP:          ir.TLPAmber,
		Model:        phases.SANS.Name(),
		Phase:        phases.Preparation,
		PhaseHistory: []ir.PhaseInterval{{Phase: phases.Preparation, Entered: Epoch}},
		Times:        ir.Lifecycle{Detected: Epoch, Reported: Epoch, Opened: Epoch},
		OpenedBy:     Analyst,
		UpdatedAt:    Epoch,
		Version:      1,
	}, inc)
	assert.True(t, inc.IsOpen())
}

func TestIncidentSetters(t *testing.T) {
	t.Parallel()
	opened := Epoch.Add(time.Hour)
	closed := opened.Add(time.Hour)
	b := Incident("INC-000002").
		Title("Lost laptop").
		Severity(ir.SeverityCritical).
		Phase(phases.Containment).
		Labels("a", "b").
		Opened(opened).
		Closed(closed).
		Version(4).
		With(func(inc *ir.Incident) { inc.Category = ir.CategoryLostDevice })
	inc := b.Build()
	assert.Equal(t, "Lost laptop", inc.Title)
	assert.Equal(t, ir.SeverityCritical, inc.Severity)
	assert.Equal(t, ir.PriorityP1, inc.Priority)
	assert.Equal(t, ir.CategoryLostDevice, inc.Category)
	assert.Equal(t, phases.Containment, inc.Phase)
	assert.Equal(t, []ir.PhaseInterval{{Phase: phases.Containment, Entered: opened}}, inc.PhaseHistory)
	assert.Equal(t, []string{"a", "b"}, inc.Labels)
	assert.Equal(t, ir.Lifecycle{Detected: opened, Reported: opened, Opened: opened, Resolved: closed, Closed: closed}, inc.Times)
	assert.Equal(t, closed, inc.UpdatedAt)
	assert.Equal(t, int64(4), inc.Version)
	assert.False(t, inc.IsOpen())

	again := b.Build()
	again.Labels[0] = "changed"
	assert.Equal(t, []string{"a", "b"}, b.Build().Labels, "Build returns a fresh copy")
	assert.Equal(t, []string{"a", "b"}, inc.Labels, "Build returns a fresh copy")
}

func TestPhaseHistorySetsPhase(t *testing.T) {
	t.Parallel()
	inc := Incident("INC-000003").PhaseHistory(
		ir.PhaseInterval{Phase: phases.Preparation, Entered: Epoch, Left: Epoch.Add(time.Minute)},
		ir.PhaseInterval{Phase: phases.Identification, Action: phases.Identify, Entered: Epoch.Add(time.Minute)},
	).Build()
	assert.Equal(t, phases.Identification, inc.Phase)
	assert.Len(t, inc.PhaseHistory, 2)
}

func TestChanges(t *testing.T) {
	t.Parallel()
	inc := Incident("INC-000004").Labels("x").Build()
	open := OpenChange(inc)
	require.Len(t, open.Events, 1)
	e := open.Events[0]
	assert.Equal(t, ir.ID("INC-000004"), e.IncidentID)
	assert.Equal(t, int64(1), e.Version)
	assert.Equal(t, ir.EventOpened, e.Type)
	assert.Equal(t, inc.Times.Opened, e.At)
	assert.Equal(t, inc.OpenedBy, e.Actor)
	assert.Equal(t, &ir.Opened{Title: inc.Title, Severity: inc.Severity, Priority: inc.Priority,
		Category: inc.Category, TLP: inc.TLP, Model: inc.Model, Phase: inc.Phase}, e.Data)
	assert.Equal(t, inc, open.Incident)
	assert.NotSame(t, inc, open.Incident)

	next := NextChange(open.Incident, &ir.SeverityChanged{From: ir.SeverityMedium, To: ir.SeverityHigh},
		&ir.NoteAdded{Text: "why"})
	assert.Equal(t, int64(2), next.Incident.Version)
	assert.Equal(t, inc.UpdatedAt.Add(time.Minute), next.Incident.UpdatedAt)
	require.Len(t, next.Events, 2)
	for _, e := range next.Events {
		assert.Equal(t, next.Incident.ID, e.IncidentID)
		assert.Equal(t, next.Incident.Version, e.Version)
		assert.Equal(t, e.Data.EventType(), e.Type)
		assert.Equal(t, next.Incident.UpdatedAt, e.At)
	}
	next.Incident.Labels[0] = "changed"
	assert.Equal(t, []string{"x"}, open.Incident.Labels, "NextChange shares nothing with its input")

	note := NextChange(next.Incident)
	require.Len(t, note.Events, 1)
	assert.Equal(t, ir.EventNoteAdded, note.Events[0].Type)
	assert.Equal(t, int64(3), note.Events[0].Version)
}

// TestFixturesSurviveJSON checks the suite's own fixtures: a durable store
// that keeps incidents and event data as JSON can pass the suite.
func TestFixturesSurviveJSON(t *testing.T) {
	t.Parallel()
	inc := fullIncident("INC-000001")
	b, err := json.Marshal(inc)
	require.NoError(t, err)
	var back ir.Incident
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, canonicalIncident(inc), canonicalIncident(&back))

	seen := make(map[ir.EventType]bool)
	for _, d := range everyEventData() {
		assert.False(t, seen[d.EventType()], "two data of type %s", d.EventType())
		seen[d.EventType()] = true
		e := Event(inc, d)
		e.Seq = 3
		b, err := json.Marshal(e)
		require.NoError(t, err)
		var back ir.Event
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		assert.Equal(t, canonicalEvents([]ir.Event{e}), canonicalEvents([]ir.Event{back}))
	}
	assert.Len(t, seen, 26, "data of every event type")
}

func TestFullIncidentIsFull(t *testing.T) {
	t.Parallel()
	inc := fullIncident("INC-000001")
	v := func(t time.Time) bool { return !t.IsZero() && t.Equal(t.Truncate(time.Microsecond)) }
	times := inc.Times
	for name, tm := range map[string]time.Time{
		"occurred": times.Occurred, "detected": times.Detected, "reported": times.Reported, "opened": times.Opened,
		"acknowledged": times.Acknowledged, "contained": times.Contained, "eradicated": times.Eradicated,
		"recovered": times.Recovered, "resolved": times.Resolved, "closed": times.Closed, "updated": inc.UpdatedAt,
	} {
		assert.True(t, v(tm), "%s time %v is unset or finer than a microsecond", name, tm)
	}
	assert.NotEmpty(t, inc.Summary)
	assert.True(t, inc.Exercise)
	assert.NotEmpty(t, inc.Impact.Information)
	assert.NotEmpty(t, inc.Verdict)
	assert.NotEmpty(t, inc.Resolution)
	assert.NotEmpty(t, inc.Assets)
	assert.NotEmpty(t, inc.Observables)
	assert.NotEmpty(t, inc.Participants)
	assert.NotEmpty(t, inc.Tasks)
	assert.NotEmpty(t, inc.Decisions)
	assert.NotEmpty(t, inc.Labels)
	assert.Greater(t, len(inc.PhaseHistory), 1)
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	now := time.Now() // has a monotonic clock reading
	a := Incident("INC-000001").Opened(now).Build()
	b := Incident("INC-000001").Opened(now.In(zone).Round(0)).Build()
	b.Labels = []string{}
	b.PhaseHistory[0].Entered = now.UTC()
	require.NotEqual(t, a, b)
	assert.Equal(t, canonicalIncident(a), canonicalIncident(b))

	c := b.Clone()
	c.Times.Opened = c.Times.Opened.Add(time.Microsecond)
	assert.NotEqual(t, canonicalIncident(a), canonicalIncident(c))
}

package ir_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

func TestExerciseIsMarkedEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOutbox)
	n := phishing()
	n.Exercise = true
	inc := h.open(n)
	assert.True(t, inc.Exercise)
	h.transition(inc.ID, phases.Identify)
	assert.True(t, h.stored(inc.ID).Exercise, "the mark stays through every change")

	events := h.timeline(inc.ID)
	opened := dataOf[*ir.Opened](t, events[0])
	assert.True(t, opened.Exercise, "the opened event records the exercise")
	assert.Equal(t, `opened exercise "Credential phishing against finance", severity high, in Preparation`,
		ir.Describe(phases.SANS, events[0]))

	entries := h.claimAll()
	require.Len(t, entries, 2)
	for _, e := range entries {
		m, err := e.Message()
		require.NoError(t, err)
		assert.True(t, m.Incident.Exercise, "message %s says the incident is an exercise", e.Key)
	}

	real := h.open(phishing())
	assert.False(t, real.Exercise)
	assert.NotContains(t, ir.Describe(phases.SANS, h.timeline(real.ID)[0]), "exercise")
	assert.False(t, ir.NotifyIncident(real).Exercise)
}

func TestMetricsLeaveOutExercises(t *testing.T) {
	t.Parallel()
	d := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	incidents := reportIncidents(d)
	drill := incidents[0].Clone()
	drill.ID, drill.Exercise = "X", true
	drill.Times.Acknowledged = d.Add(10 * time.Hour)
	with := append(incidents, drill)

	got := ir.ComputeMetrics(with)
	want := ir.ComputeMetrics(incidents)
	assert.Equal(t, 1, got.Exercises)
	got.Exercises = 0
	assert.Equal(t, want, got, "an exercise changes no figure")

	all := ir.MetricsOptions{Exercises: true}.Compute(with)
	assert.Equal(t, 1, all.Exercises)
	assert.Equal(t, len(with), all.All.Incidents)
	assert.Equal(t, 10*time.Hour, all.All.TimeToAcknowledge.P90, "the exercise's acknowledgement is counted")
}

func TestResponderMetricsLeaveOutExercises(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.open(phishing())
	n := phishing()
	n.Exercise = true
	h.open(n)
	h.open(n)

	m, err := h.r.Metrics(h.ctx, ir.Query{})
	require.NoError(t, err)
	assert.Equal(t, 1, m.All.Incidents)
	assert.Equal(t, 2, m.Exercises)
	assert.Equal(t, 1, m.BySeverity[ir.SeverityHigh].Incidents)

	m, err = h.r.MetricsWith(h.ctx, ir.Query{}, ir.MetricsOptions{Exercises: true})
	require.NoError(t, err)
	assert.Equal(t, 3, m.All.Incidents)
	assert.Equal(t, 2, m.Exercises)
}

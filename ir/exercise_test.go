package ir_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
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

// countNotifier counts the messages it is given.
type countNotifier struct{ n atomic.Int64 }

func (c *countNotifier) Notify(context.Context, notify.Message) (notify.Receipt, error) {
	c.n.Add(1)
	return notify.Receipt{}, nil
}

func TestDispatcherHoldsExercisesBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOutbox)
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "pager"}, {Name: "drills"}},
		Routes: []notify.Route{{Name: "page", Channels: []string{"pager"}, Continue: true},
			{Name: "drills", Channels: []string{"drills"}, Exercises: true}},
	})
	require.NoError(t, err)
	pager, drills := &countNotifier{}, &countNotifier{}
	store := h.store
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: store, Deliveries: store, Router: router,
		Channels: map[string]notify.Notifier{"pager": pager, "drills": drills}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })

	n := phishing()
	n.Exercise = true
	drill := h.open(n)
	real := h.open(phishing())
	for {
		done, err := d.RunOnce(h.ctx)
		require.NoError(t, err)
		if done == 0 {
			break
		}
	}
	assert.Equal(t, int64(1), pager.n.Load(), "the real incident's opening only")
	assert.Equal(t, int64(2), drills.n.Load(), "both openings: the drills route takes real incidents too")

	dls, err := store.IncidentDeliveries(h.ctx, string(drill.ID))
	require.NoError(t, err)
	states := map[string]notify.DeliveryStatus{}
	for _, dl := range dls {
		states[dl.Channel+" by "+dl.Route] = dl.Status
		if dl.Status == notify.StatusHeld {
			assert.Equal(t, `route "page" does not take exercises`, dl.LastError, "why it is held back")
		}
	}
	assert.Equal(t, map[string]notify.DeliveryStatus{"pager by page": notify.StatusHeld, "drills by drills": notify.StatusDelivered}, states,
		"what the exercise was kept from is recorded as held, with the route that would have sent it")
	dls, err = store.IncidentDeliveries(h.ctx, string(real.ID))
	require.NoError(t, err)
	assert.Len(t, dls, 2)
}

package ir_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// reportIncidents are four incidents with known times, all detected at d.
//
//	     severity  occurred  acknowledged  contained  resolved
//	A    high      d-30m     d+10m         d+1h       d+5h
//	B    high      d-10m     d+20m         d+3h       d+7h
//	C    low       -         d+40m         -          -
//	D    low       d-2h      d+30m         d+2h       d+9h
//
// A stayed 5m in preparation, 10m in identification, 30m+20m in
// containment and 5m in eradication, where it is again now. B stayed 15m
// in preparation and is in identification. C and D are in their first
// phase.
func reportIncidents(d time.Time) []*ir.Incident {
	at := func(x time.Duration) time.Time { return d.Add(x) }
	return []*ir.Incident{
		{
			ID: "A", Severity: ir.SeverityHigh,
			Times: ir.Lifecycle{Occurred: at(-30 * time.Minute), Detected: d, Acknowledged: at(10 * time.Minute),
				Contained: at(time.Hour), Resolved: at(5 * time.Hour)},
			PhaseHistory: []ir.PhaseInterval{
				{Phase: phases.Preparation, Entered: d, Left: at(5 * time.Minute)},
				{Phase: phases.Identification, Entered: at(5 * time.Minute), Left: at(15 * time.Minute)},
				{Phase: phases.Containment, Entered: at(15 * time.Minute), Left: at(45 * time.Minute)},
				{Phase: phases.Eradication, Entered: at(45 * time.Minute), Left: at(50 * time.Minute)},
				{Phase: phases.Containment, Entered: at(50 * time.Minute), Left: at(70 * time.Minute)},
				{Phase: phases.Eradication, Entered: at(70 * time.Minute)},
			},
		},
		{
			ID: "B", Severity: ir.SeverityHigh,
			Times: ir.Lifecycle{Occurred: at(-10 * time.Minute), Detected: d, Acknowledged: at(20 * time.Minute),
				Contained: at(3 * time.Hour), Resolved: at(7 * time.Hour)},
			PhaseHistory: []ir.PhaseInterval{
				{Phase: phases.Preparation, Entered: d, Left: at(15 * time.Minute)},
				{Phase: phases.Identification, Entered: at(15 * time.Minute)},
			},
		},
		{
			ID: "C", Severity: ir.SeverityLow,
			Times:        ir.Lifecycle{Detected: d, Acknowledged: at(40 * time.Minute)},
			PhaseHistory: []ir.PhaseInterval{{Phase: phases.Preparation, Entered: d}},
		},
		{
			ID: "D", Severity: ir.SeverityLow,
			Times: ir.Lifecycle{Occurred: at(-2 * time.Hour), Detected: d, Acknowledged: at(30 * time.Minute),
				Contained: at(2 * time.Hour), Resolved: at(9 * time.Hour)},
			PhaseHistory: []ir.PhaseInterval{{Phase: phases.Preparation, Entered: d}},
		},
	}
}

func TestComputeReport(t *testing.T) {
	t.Parallel()
	const m, h = time.Minute, time.Hour
	stats := func(count int, mean, median, p90 time.Duration) ir.Stats {
		return ir.Stats{Count: count, Mean: mean, Median: median, P90: p90}
	}
	want := ir.Metrics{
		All: ir.ResponseTimes{
			Incidents:         4,
			TimeToDetect:      stats(3, 53*m+20*time.Second, 30*m, 2*h),
			TimeToAcknowledge: stats(4, 25*m, 25*m, 40*m), // even count: the mean of 20m and 30m
			TimeToContain:     stats(3, 2*h, 2*h, 3*h),
			TimeToResolve:     stats(3, 7*h, 7*h, 9*h),
			TimeInPhase: map[phases.Phase]ir.Stats{
				phases.Preparation:    stats(2, 10*m, 10*m, 15*m),
				phases.Identification: stats(1, 10*m, 10*m, 10*m),
				phases.Containment:    stats(1, 50*m, 50*m, 50*m), // two stays added up
				phases.Eradication:    stats(1, 5*m, 5*m, 5*m),    // the current stay is left out
			},
		},
		BySeverity: map[ir.Severity]ir.ResponseTimes{
			ir.SeverityHigh: {
				Incidents:         2,
				TimeToDetect:      stats(2, 20*m, 20*m, 30*m),
				TimeToAcknowledge: stats(2, 15*m, 15*m, 20*m),
				TimeToContain:     stats(2, 2*h, 2*h, 3*h),
				TimeToResolve:     stats(2, 6*h, 6*h, 7*h),
				TimeInPhase: map[phases.Phase]ir.Stats{
					phases.Preparation:    stats(2, 10*m, 10*m, 15*m),
					phases.Identification: stats(1, 10*m, 10*m, 10*m),
					phases.Containment:    stats(1, 50*m, 50*m, 50*m),
					phases.Eradication:    stats(1, 5*m, 5*m, 5*m),
				},
			},
			ir.SeverityLow: {
				Incidents:         2,
				TimeToDetect:      stats(1, 2*h, 2*h, 2*h),
				TimeToAcknowledge: stats(2, 35*m, 35*m, 40*m),
				TimeToContain:     stats(1, 2*h, 2*h, 2*h),
				TimeToResolve:     stats(1, 9*h, 9*h, 9*h),
				TimeInPhase:       map[phases.Phase]ir.Stats{},
			},
		},
	}
	assert.Equal(t, want, ir.ComputeMetrics(reportIncidents(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC))))
}

func TestComputeReportStatistics(t *testing.T) {
	t.Parallel()
	d := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	// incidents acknowledged the given numbers of minutes after detection,
	// in a scrambled order.
	incidents := func(minutes ...int) []*ir.Incident {
		var out []*ir.Incident
		for i, n := range minutes {
			out = append(out, &ir.Incident{ID: ir.ID(fmt.Sprint(i)), Severity: ir.SeverityMedium,
				Times: ir.Lifecycle{Detected: d, Acknowledged: d.Add(time.Duration(n) * time.Minute)}})
		}
		return out
	}
	const m = time.Minute
	tests := []struct {
		name    string
		minutes []int
		want    ir.Stats
	}{
		{"one", []int{7}, ir.Stats{Count: 1, Mean: 7 * m, Median: 7 * m, P90: 7 * m}},
		{"two", []int{9, 3}, ir.Stats{Count: 2, Mean: 6 * m, Median: 6 * m, P90: 9 * m}},
		{"odd count", []int{50, 10, 40, 20, 30}, ir.Stats{Count: 5, Mean: 30 * m, Median: 30 * m, P90: 50 * m}},
		// Nearest rank: the 9th of 10 values, not an interpolation.
		{"ten", []int{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, ir.Stats{Count: 10, Mean: 5*m + 30*time.Second, Median: 5*m + 30*time.Second, P90: 9 * m}},
		// The 18th of 20 values.
		{"twenty", []int{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1},
			ir.Stats{Count: 20, Mean: 10*m + 30*time.Second, Median: 10*m + 30*time.Second, P90: 18 * m}},
		// The 10th of 11 values.
		{"eleven", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 110}, ir.Stats{Count: 11, Mean: 15 * m, Median: 6 * m, P90: 10 * m}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := incidents(tt.minutes...)
			rep := ir.ComputeMetrics(in)
			assert.Equal(t, tt.want, rep.All.TimeToAcknowledge)
			assert.Equal(t, tt.want, rep.BySeverity[ir.SeverityMedium].TimeToAcknowledge)
			assert.Equal(t, ir.Stats{}, rep.All.TimeToContain, "no incident was contained")
			assert.Equal(t, len(tt.minutes), rep.All.Incidents)
			assert.Equal(t, d.Add(time.Duration(tt.minutes[0])*time.Minute), in[0].Times.Acknowledged,
				"ComputeMetrics does not reorder or change its input")
		})
	}
}

func TestComputeReportOfNothing(t *testing.T) {
	t.Parallel()
	rep := ir.ComputeMetrics(nil)
	assert.Equal(t, 0, rep.All.Incidents)
	assert.Equal(t, ir.Stats{}, rep.All.TimeToResolve)
	assert.Empty(t, rep.All.TimeInPhase)
	assert.Empty(t, rep.BySeverity)
}

func TestResponderReportReadsEveryPage(t *testing.T) {
	t.Parallel()
	store := &pageCapStore{max: 2}
	h := newHarness(t, func(c *ir.Config) {
		store.Store = c.Store
		c.Store = store
	})
	// Five incidents, acknowledged 10, 20, 30, 40 and 50 minutes after
	// they were opened; the last one is low severity.
	for i := range 5 {
		sev := ir.SeverityHigh
		if i == 4 {
			sev = ir.SeverityLow
		}
		inc := h.open(ir.NewIncident{Title: fmt.Sprintf("Incident %d", i), Severity: sev})
		h.clock.Advance(time.Duration(i+1) * 10 * time.Minute)
		h.assign(inc.ID, ir.RoleCommander, testAlice)
	}

	rep, err := h.r.Metrics(h.ctx, ir.Query{Limit: 1})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, store.lists.Load(), int64(3), "five incidents at two a page take three pages")
	assert.Equal(t, 5, rep.All.Incidents)
	const m = time.Minute
	assert.Equal(t, ir.Stats{Count: 5, Mean: 30 * m, Median: 30 * m, P90: 50 * m}, rep.All.TimeToAcknowledge)
	assert.Equal(t, ir.Stats{Count: 4, Mean: 25 * m, Median: 25 * m, P90: 40 * m}, rep.BySeverity[ir.SeverityHigh].TimeToAcknowledge)
	assert.Equal(t, 1, rep.BySeverity[ir.SeverityLow].Incidents)

	low, err := h.r.Metrics(h.ctx, ir.Query{Severities: []ir.Severity{ir.SeverityLow}, After: "INC-000002"})
	require.NoError(t, err)
	assert.Equal(t, 1, low.All.Incidents, "the query selects; its After is ignored")
	assert.Equal(t, ir.Stats{Count: 1, Mean: 50 * m, Median: 50 * m, P90: 50 * m}, low.All.TimeToAcknowledge)

	_, err = h.r.Metrics(h.ctx, ir.Query{Status: "sleeping"})
	assert.ErrorIs(t, err, ir.ErrInvalid)
}

func TestResponderReportReadsMoreThanOnePageOfTheStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	n := ir.MaxPageSize + 2
	for i := range n {
		sev := ir.SeverityMedium
		if i%2 == 0 {
			sev = ir.SeverityCritical
		}
		h.open(ir.NewIncident{Title: "Bulk", Severity: sev})
	}
	rep, err := h.r.Metrics(h.ctx, ir.Query{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, n, rep.All.Incidents)
	assert.Equal(t, n/2, rep.BySeverity[ir.SeverityCritical].Incidents)
	assert.Equal(t, n/2, rep.BySeverity[ir.SeverityMedium].Incidents)
}

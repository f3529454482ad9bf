package ir_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// acknowledgedAfter returns incidents acknowledged the given durations
// after their detection.
func acknowledgedAfter(ds []time.Duration) []*ir.Incident {
	d := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	out := make([]*ir.Incident, len(ds))
	for i, x := range ds {
		out[i] = &ir.Incident{ID: ir.ID(fmt.Sprint(i)), Severity: ir.SeverityMedium,
			Times: ir.Lifecycle{Detected: d, Acknowledged: d.Add(x)}}
	}
	return out
}

// exactStats computes the statistics of ds the way Stats defines them,
// from every duration.
func exactStats(ds []time.Duration) ir.Stats {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	n := len(sorted)
	var sum float64
	for _, x := range sorted {
		sum += x.Seconds()
	}
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return ir.Stats{Count: n, Mean: time.Duration(sum / float64(n) * float64(time.Second)), Median: median,
		P90: sorted[int(math.Ceil(0.9*float64(n)))-1]}
}

// randomDurations returns n durations spread over several orders of
// magnitude, from a second to a month, with a few zeros.
func randomDurations(seed uint64, n int) []time.Duration {
	rnd := rand.New(rand.NewPCG(seed, 1))
	out := make([]time.Duration, n)
	for i := range out {
		if rnd.IntN(50) == 0 {
			continue
		}
		out[i] = time.Duration(math.Exp(rnd.Float64()*math.Log(30*24*3600)) * float64(time.Second))
	}
	return out
}

func TestComputeReportExactUpTo1024(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1023, 1024} {
		ds := randomDurations(uint64(n), n)
		got := ir.ComputeMetrics(acknowledgedAfter(ds)).All.TimeToAcknowledge
		assert.Equal(t, exactStats(ds), got, "%d durations", n)
	}
}

func TestComputeReportEstimatesWithinHalfAPercent(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1025, 1026, 20_000, 100_001} {
		ds := randomDurations(uint64(n), n)
		want := exactStats(ds)
		got := ir.ComputeMetrics(acknowledgedAfter(ds)).All.TimeToAcknowledge
		assert.Equal(t, want.Count, got.Count, "%d durations: count", n)
		assert.InEpsilon(t, float64(want.Mean), float64(got.Mean), 1e-9, "%d durations: mean", n)
		assert.InEpsilon(t, float64(want.Median), float64(got.Median), 0.005, "%d durations: median", n)
		assert.InEpsilon(t, float64(want.P90), float64(got.P90), 0.005, "%d durations: 90th percentile", n)
	}
}

// generatedStore lists n generated incidents, made as each page is read,
// and records the live heap at each page.
type generatedStore struct {
	*ir.MemoryStore
	n     int
	heaps []uint64
}

func (s *generatedStore) List(_ context.Context, q ir.Query) (ir.Page, error) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.heaps = append(s.heaps, ms.HeapAlloc)
	end := s.n
	if q.After != "" {
		_, err := fmt.Sscanf(q.After, "INC-%d", &end)
		if err != nil {
			return ir.Page{}, err
		}
	}
	d := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	var page ir.Page
	for i := end - 1; i >= 0 && len(page.Incidents) < q.Limit; i-- {
		m := time.Duration(i%977+1) * time.Minute
		page.Incidents = append(page.Incidents, &ir.Incident{
			ID: ir.ID(fmt.Sprintf("INC-%09d", i)), Severity: ir.SeverityHigh, Title: "Generated incident",
			Times: ir.Lifecycle{Occurred: d.Add(-m), Detected: d, Acknowledged: d.Add(m), Contained: d.Add(2 * m), Resolved: d.Add(3 * m)},
			PhaseHistory: []ir.PhaseInterval{
				{Phase: phases.Identification, Entered: d, Left: d.Add(m)},
				{Phase: phases.Containment, Entered: d.Add(m), Left: d.Add(2 * m)},
				{Phase: phases.Eradication, Entered: d.Add(2 * m)},
			},
		})
	}
	if len(page.Incidents) == q.Limit && end-q.Limit > 0 {
		page.Next = string(page.Incidents[len(page.Incidents)-1].ID)
	}
	return page, nil
}

// TestMetricsMemoryDoesNotGrow reports on 200,000 incidents read a page at a
// time, and checks that the live heap after 200 pages is about what it was
// after 10: the report keeps no incident, and no duration beyond a bound.
func TestMetricsMemoryDoesNotGrow(t *testing.T) {
	st := &generatedStore{MemoryStore: ir.NewMemoryStore(), n: 200_000}
	h := newHarness(t, func(c *ir.Config) { c.Store = st })
	rep, err := h.r.Metrics(h.ctx, ir.Query{})
	require.NoError(t, err)
	require.Equal(t, st.n, rep.All.Incidents)
	require.Len(t, st.heaps, st.n/ir.MaxPageSize)
	early, late := st.heaps[10], slices.Max(st.heaps[10:])
	assert.Less(t, late, early+8<<20, "the live heap grows with the incidents")
	t.Logf("live heap after 10 pages %d, at most %d after", early, late)
	assert.Equal(t, st.n, rep.All.TimeInPhase[phases.Containment].Count)
	assert.NotContains(t, rep.All.TimeInPhase, phases.Eradication, "no incident left eradication")
}

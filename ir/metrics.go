package ir

import (
	"context"
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// Stats summarises a set of durations. Count and Mean are exact; so are
// Median and P90 for up to 1,024 durations, and for more each is within
// 0.5% of the exact figure, so that metrics take memory that does not
// grow with the number of incidents.
type Stats struct {
	// Count is how many durations there were; the rest are zero if none.
	Count int
	Mean  time.Duration
	// Median is the middle duration (the mean of the two middle ones for
	// an even count).
	Median time.Duration
	// P90 is the 90th percentile, by the nearest-rank method.
	P90 time.Duration
}

// ResponseTimes are the response metrics of a set of incidents. Each
// measure counts only the incidents that reached both of its moments.
type ResponseTimes struct {
	// Incidents is how many incidents were measured.
	Incidents int
	// TimeToDetect runs from when the incident occurred to its detection
	// (MTTD is its mean).
	TimeToDetect Stats
	// TimeToAcknowledge runs from detection to acknowledgement (MTTA).
	TimeToAcknowledge Stats
	// TimeToContain runs from detection to containment (MTTC).
	TimeToContain Stats
	// TimeToResolve runs from detection to resolution (MTTR).
	TimeToResolve Stats
	// TimeInPhase is the time incidents spent in each phase, counting
	// only stays that ended and adding up repeated stays in one incident.
	TimeInPhase map[phases.Phase]Stats
}

// Metrics holds response metrics over all incidents and per severity.
type Metrics struct {
	All        ResponseTimes
	BySeverity map[Severity]ResponseTimes
	// Exercises is how many of the incidents were exercises
	// ([Incident].Exercise): counted in All and BySeverity when the
	// [MetricsOptions] include them, left out otherwise.
	Exercises int
	// Clocks counts the deadline clocks of the incidents by clock name
	// (see [ClockDef]): how many were met, missed and are running.
	Clocks map[string]ClockCounts
}

// MetricsOptions say which incidents response metrics count.
type MetricsOptions struct {
	// Exercises, if set, counts incidents opened as exercises too. By
	// default they are left out: a drill's response times say how the
	// drill went, not how the team responds to real incidents.
	Exercises bool
}

// ComputeMetrics computes response metrics over incidents, leaving out
// exercises (see [MetricsOptions.Compute] to count them). It is a pure
// function of its input.
func ComputeMetrics(incidents []*Incident) Metrics {
	return MetricsOptions{}.Compute(incidents)
}

// Compute computes response metrics over the incidents o selects. It is a
// pure function of its input.
func (o MetricsOptions) Compute(incidents []*Incident) Metrics {
	acc := metricsAccumulator{opts: o}
	for _, inc := range incidents {
		acc.add(inc)
	}
	return acc.metrics()
}

// Metrics computes response metrics over every incident q selects (its Limit
// and After are ignored: all pages are read), leaving out exercises (see
// [Responder.MetricsWith] to count them). It reads the incidents a page
// at a time and keeps none of them, so its memory does not grow with their
// number (see [Stats]).
func (r *Responder) Metrics(ctx context.Context, q Query) (Metrics, error) {
	return r.MetricsWith(ctx, q, MetricsOptions{})
}

// MetricsWith is [Responder.Metrics] counting the incidents o selects.
func (r *Responder) MetricsWith(ctx context.Context, q Query, o MetricsOptions) (rep Metrics, err error) {
	ctx, span := r.tel.start(ctx, "metrics", "")
	defer func() { r.tel.end(ctx, span, err) }()
	q.Limit, q.After = MaxPageSize, ""
	acc := metricsAccumulator{opts: o}
	for {
		page, err := r.List(ctx, q)
		if err != nil {
			return Metrics{}, err
		}
		for _, inc := range page.Incidents {
			acc.add(inc)
		}
		if page.Next == "" {
			return acc.metrics(), nil
		}
		q.After = page.Next
	}
}

// metricsAccumulator gathers the response metrics of incidents added one at
// a time, over all of them and per severity.
type metricsAccumulator struct {
	opts      MetricsOptions
	all       *samples
	bySev     map[Severity]*samples
	exercises int
	clocks    map[string]ClockCounts
}

func (a *metricsAccumulator) add(inc *Incident) {
	if inc.Exercise {
		a.exercises++
		if !a.opts.Exercises {
			return
		}
	}
	if a.all == nil {
		a.all, a.bySev = newSamples(), make(map[Severity]*samples)
	}
	a.all.add(inc)
	s := a.bySev[inc.Severity]
	if s == nil {
		s = newSamples()
		a.bySev[inc.Severity] = s
	}
	s.add(inc)
	for _, c := range inc.Clocks {
		if a.clocks == nil {
			a.clocks = make(map[string]ClockCounts)
		}
		a.clocks[c.Name] = a.clocks[c.Name].add(c)
	}
}

func (a *metricsAccumulator) metrics() Metrics {
	if a.all == nil {
		a.all = newSamples()
	}
	rep := Metrics{All: a.all.times(), BySeverity: make(map[Severity]ResponseTimes, len(a.bySev)), Exercises: a.exercises}
	for sev, s := range a.bySev {
		rep.BySeverity[sev] = s.times()
	}
	rep.Clocks = a.clocks
	return rep
}

// samples gathers the durations of one set of incidents.
type samples struct {
	n                      int
	detect, ack, cont, res durations
	inPhase                map[phases.Phase]*durations
}

func newSamples() *samples { return &samples{inPhase: make(map[phases.Phase]*durations)} }

func (s *samples) add(inc *Incident) {
	t := inc.Times
	s.n++
	addSpan(&s.detect, t.Occurred, t.Detected)
	addSpan(&s.ack, t.Detected, t.Acknowledged)
	addSpan(&s.cont, t.Detected, t.Contained)
	addSpan(&s.res, t.Detected, t.Resolved)
	perPhase := make(map[phases.Phase]time.Duration)
	var order []phases.Phase
	for _, stay := range inc.PhaseHistory {
		if stay.Left.IsZero() {
			continue
		}
		if _, ok := perPhase[stay.Phase]; !ok {
			order = append(order, stay.Phase)
		}
		perPhase[stay.Phase] += stay.Left.Sub(stay.Entered)
	}
	for _, p := range order {
		d := s.inPhase[p]
		if d == nil {
			d = new(durations)
			s.inPhase[p] = d
		}
		d.add(perPhase[p])
	}
}

// addSpan adds the time from start to end to d when both are known.
func addSpan(d *durations, start, end time.Time) {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return
	}
	d.add(end.Sub(start))
}

func (s *samples) times() ResponseTimes {
	rt := ResponseTimes{
		Incidents:         s.n,
		TimeToDetect:      s.detect.stats(),
		TimeToAcknowledge: s.ack.stats(),
		TimeToContain:     s.cont.stats(),
		TimeToResolve:     s.res.stats(),
		TimeInPhase:       make(map[phases.Phase]Stats, len(s.inPhase)),
	}
	for p, d := range s.inPhase {
		rt.TimeInPhase[p] = d.stats()
	}
	return rt
}

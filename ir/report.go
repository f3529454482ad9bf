package ir

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// Stats summarises a set of durations.
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

// Report holds response metrics over all incidents and per severity.
type Report struct {
	All        ResponseTimes
	BySeverity map[Severity]ResponseTimes
}

// ComputeReport computes response metrics over incidents. It is a pure
// function of its input.
func ComputeReport(incidents []*Incident) Report {
	all := newSamples()
	bySev := make(map[Severity]*samples)
	for _, inc := range incidents {
		all.add(inc)
		s := bySev[inc.Severity]
		if s == nil {
			s = newSamples()
			bySev[inc.Severity] = s
		}
		s.add(inc)
	}
	rep := Report{All: all.times(), BySeverity: make(map[Severity]ResponseTimes, len(bySev))}
	for sev, s := range bySev {
		rep.BySeverity[sev] = s.times()
	}
	return rep
}

// Report computes response metrics over every incident q selects (its Limit
// and After are ignored: all pages are read).
func (r *Responder) Report(ctx context.Context, q Query) (rep Report, err error) {
	ctx, span := r.tel.start(ctx, "report", "")
	defer func() { r.tel.end(ctx, span, err) }()
	q.Limit, q.After = MaxPageSize, ""
	var incidents []*Incident
	for {
		page, err := r.List(ctx, q)
		if err != nil {
			return Report{}, err
		}
		incidents = append(incidents, page.Incidents...)
		if page.Next == "" {
			return ComputeReport(incidents), nil
		}
		q.After = page.Next
	}
}

type samples struct {
	n                      int
	detect, ack, cont, res []time.Duration
	inPhase                map[phases.Phase][]time.Duration
}

func newSamples() *samples { return &samples{inPhase: make(map[phases.Phase][]time.Duration)} }

func (s *samples) add(inc *Incident) {
	t := inc.Times
	s.n++
	s.detect = appendSpan(s.detect, t.Occurred, t.Detected)
	s.ack = appendSpan(s.ack, t.Detected, t.Acknowledged)
	s.cont = appendSpan(s.cont, t.Detected, t.Contained)
	s.res = appendSpan(s.res, t.Detected, t.Resolved)
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
		s.inPhase[p] = append(s.inPhase[p], perPhase[p])
	}
}

// appendSpan appends the time from start to end when both are known.
func appendSpan(d []time.Duration, start, end time.Time) []time.Duration {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return d
	}
	return append(d, end.Sub(start))
}

func (s *samples) times() ResponseTimes {
	rt := ResponseTimes{
		Incidents:         s.n,
		TimeToDetect:      summarize(s.detect),
		TimeToAcknowledge: summarize(s.ack),
		TimeToContain:     summarize(s.cont),
		TimeToResolve:     summarize(s.res),
		TimeInPhase:       make(map[phases.Phase]Stats, len(s.inPhase)),
	}
	for p, d := range s.inPhase {
		rt.TimeInPhase[p] = summarize(d)
	}
	return rt
}

// summarize computes the statistics of d.
func summarize(d []time.Duration) Stats {
	if len(d) == 0 {
		return Stats{}
	}
	d = slices.Clone(d)
	slices.Sort(d)
	// Summed in float64 seconds: int64 nanoseconds overflow after about
	// 292 years, which a few thousand month-long incidents reach.
	var sum float64
	for _, x := range d {
		sum += x.Seconds()
	}
	n := len(d)
	median := d[n/2]
	if n%2 == 0 {
		median = (d[n/2-1] + d[n/2]) / 2
	}
	rank := int(math.Ceil(0.9*float64(n))) - 1
	mean := time.Duration(sum / float64(n) * float64(time.Second))
	return Stats{Count: n, Mean: mean, Median: median, P90: d[rank]}
}

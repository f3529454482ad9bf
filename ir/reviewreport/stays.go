package reviewreport

import (
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// stay is one stay of the incident in a phase, as the document shows it.
type stay struct {
	// n numbers the stays from 1.
	n      int
	phase  phases.Phase
	action phases.Action
	// entered and left are when the stay began and ended; left is zero
	// for the current one.
	entered, left time.Time
	// end is when the stay is counted to: left, or the time the document
	// is made for the current stay of an open incident.
	end time.Time
	// again is set when the incident was in the phase before: a loop.
	again bool
	// ongoing is set for the current stay of an open incident, counted
	// to the time the document is made; counted for every stay whose
	// time is counted (terminal phases are not).
	ongoing, counted bool
}

// stays returns the incident's stays in its phases, oldest first.
func (d *writer) stays() []stay {
	seen := make(map[phases.Phase]bool)
	out := make([]stay, 0, len(d.inc.PhaseHistory))
	for i, h := range d.inc.PhaseHistory {
		s := stay{n: i + 1, phase: h.Phase, action: h.Action, entered: h.Entered, left: h.Left, end: h.Left, again: seen[h.Phase]}
		seen[h.Phase] = true
		if s.end.IsZero() && !d.terminal(h.Phase) && d.doc.GeneratedAt.After(h.Entered) {
			s.end, s.ongoing = d.doc.GeneratedAt, true
		}
		s.counted = !s.end.IsZero()
		out = append(out, s)
	}
	return out
}

// phaseTotal is the time spent in one phase over all its stays.
type phaseTotal struct {
	phase phases.Phase
	stays int
	total time.Duration
}

// phaseTotals returns the time spent in each phase, in the order the
// phases were first entered, counting only the stays that are counted.
func (d *writer) phaseTotals() []phaseTotal {
	var out []phaseTotal
	index := make(map[phases.Phase]int)
	for _, s := range d.stays() {
		if !s.counted {
			continue
		}
		i, ok := index[s.phase]
		if !ok {
			i = len(out)
			index[s.phase] = i
			out = append(out, phaseTotal{phase: s.phase})
		}
		out[i].stays++
		out[i].total += s.end.Sub(s.entered)
	}
	return out
}

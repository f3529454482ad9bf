package ir

import (
	"context"
	"slices"
	"time"
)

// SetSeverity changes the incident's severity. Setting the severity it
// already has changes nothing.
func (r *Responder) SetSeverity(ctx context.Context, actor Actor, id ID, s Severity, reason string) (*Incident, error) {
	var to Severity
	return r.mutate(ctx, actor, id, change{op: OpSetSeverity, reason: reason,
		check: func() (err error) { to, err = ParseSeverity(string(s)); return err },
		apply: func(_ context.Context, inc *Incident, _ time.Time) ([]EventData, error) {
			if inc.Severity == to {
				return nil, nil
			}
			from := inc.Severity
			inc.Severity = to
			return []EventData{&SeverityChanged{From: from, To: to}}, nil
		}})
}

// SetPriority changes the incident's priority. Setting the priority it
// already has changes nothing.
func (r *Responder) SetPriority(ctx context.Context, actor Actor, id ID, p Priority, reason string) (*Incident, error) {
	var to Priority
	return r.mutate(ctx, actor, id, change{op: OpSetPriority, reason: reason,
		check: func() (err error) { to, err = ParsePriority(string(p)); return err },
		apply: func(_ context.Context, inc *Incident, _ time.Time) ([]EventData, error) {
			if inc.Priority == to {
				return nil, nil
			}
			from := inc.Priority
			inc.Priority = to
			return []EventData{&PriorityChanged{From: from, To: to}}, nil
		}})
}

// SetImpact records a new impact assessment, replacing the previous one.
func (r *Responder) SetImpact(ctx context.Context, actor Actor, id ID, im Impact, reason string) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpSetImpact, reason: reason,
		check: func() (err error) { im, err = im.normalize(); return err },
		apply: func(_ context.Context, inc *Incident, _ time.Time) ([]EventData, error) {
			if sameImpact(inc.Impact, im) {
				return nil, nil
			}
			inc.Impact = im
			return []EventData{&ImpactAssessed{Impact: im}}, nil
		}})
}

func sameImpact(a, b Impact) bool {
	return a.Functional == b.Functional && a.Recoverability == b.Recoverability &&
		slices.Equal(a.Information, b.Information)
}

// SetVerdict records what the incident was, and in words how it was
// resolved (at most [MaxBodyText] bytes). The built-in models need a
// verdict before closing.
func (r *Responder) SetVerdict(ctx context.Context, actor Actor, id ID, v Verdict, resolution string) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpSetVerdict,
		check: func() (err error) {
			if err := checkText("resolution", resolution, MaxBodyText); err != nil {
				return err
			}
			v, err = ParseVerdict(string(v))
			return err
		},
		apply: func(_ context.Context, inc *Incident, _ time.Time) ([]EventData, error) {
			if inc.Verdict == v && inc.Resolution == resolution {
				return nil, nil
			}
			prev := inc.Verdict
			inc.Verdict, inc.Resolution = v, resolution
			return []EventData{&VerdictSet{Verdict: v, Previous: prev, Resolution: resolution}}, nil
		}})
}

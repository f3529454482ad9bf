package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// print writes what the incident record holds once the incident is closed.
func (s *response) print(ctx context.Context) error {
	inc, err := s.r.Get(ctx, s.id)
	if err != nil {
		return err
	}
	model := s.r.Model()

	fmt.Fprintf(s.out, "%s: %s\n", inc.ID, inc.Title)
	fmt.Fprintf(s.out, "%s, severity %s, priority %s, %s, %s; verdict %s.\n",
		model.PhaseTitle(inc.Phase), inc.Severity, inc.Priority, inc.Category, inc.TLP, inc.Verdict)
	fmt.Fprintf(s.out, "%s\n", inc.Resolution)

	fmt.Fprintf(s.out, "\nTimeline (UTC)\n")
	for e, err := range s.r.AllEvents(ctx, s.id) {
		if err != nil {
			return err
		}
		line := ir.Describe(model, e)
		if e.Reason != "" {
			line += " — " + e.Reason
		}
		fmt.Fprintf(s.out, "%s  %-12s  %s\n", stamp(e.At), e.Actor, line)
	}

	fmt.Fprintf(s.out, "\nDecisions\n")
	for _, d := range inc.Decisions {
		fmt.Fprintf(s.out, "%d. %s (%s, %s)\n", d.ID, d.Summary, d.DecidedBy, stamp(d.DecidedAt))
		fmt.Fprintf(s.out, "   options: %s\n", strings.Join(d.Options, " | "))
		fmt.Fprintf(s.out, "   why: %s\n", d.Rationale)
	}

	fmt.Fprintf(s.out, "\nLifecycle (UTC)\n")
	t := inc.Times
	for _, m := range []struct {
		name string
		at   time.Time
	}{
		{"occurred", t.Occurred}, {"detected", t.Detected}, {"reported", t.Reported},
		{"opened", t.Opened}, {"acknowledged", t.Acknowledged}, {"contained", t.Contained},
		{"eradicated", t.Eradicated}, {"recovered", t.Recovered}, {"resolved", t.Resolved},
		{"closed", t.Closed},
	} {
		fmt.Fprintf(s.out, "  %-13s %s\n", m.name, stamp(m.at))
	}

	// ComputeMetrics works on any set of incidents; here it is one.
	rep := ir.ComputeMetrics([]*ir.Incident{inc}).All
	fmt.Fprintf(s.out, "\nResponse times\n")
	for _, m := range []struct {
		name, from, to string
		took           time.Duration
	}{
		{"to detect", "occurred", "detected", rep.TimeToDetect.Mean},
		{"to acknowledge", "detected", "acknowledged", rep.TimeToAcknowledge.Mean},
		{"to contain", "detected", "contained", rep.TimeToContain.Mean},
		{"to resolve", "detected", "resolved", rep.TimeToResolve.Mean},
	} {
		fmt.Fprintf(s.out, "  %-15s %-11s %s → %s\n", m.name, span(m.took), m.from, m.to)
	}

	fmt.Fprintf(s.out, "\nTime in each phase\n")
	for _, p := range model.Phases() {
		st, ok := rep.TimeInPhase[p.Name]
		if !ok {
			continue
		}
		line := fmt.Sprintf("  %-16s %s", p.Title, span(st.Mean))
		if n := stays(inc, p.Name); n > 1 {
			line += fmt.Sprintf(" in %d stays", n)
		}
		fmt.Fprintln(s.out, line)
	}

	if err := s.printEvidence(ctx); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "\nThe %s process, as a Mermaid diagram\n%s", model.Title(), model.Mermaid())
	return nil
}

// stays counts how many times the incident entered phase p.
func stays(inc *ir.Incident, p phases.Phase) int {
	n := 0
	for _, stay := range inc.PhaseHistory {
		if stay.Phase == p {
			n++
		}
	}
	return n
}

// stamp formats a moment of the incident, or a dash if it has not come.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("Mon 02 Jan 15:04")
}

// span formats a duration in days, hours and minutes.
func span(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, minutes := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %02dh %02dm", days, hours, minutes)
	case hours > 0:
		return fmt.Sprintf("%dh %02dm", hours, minutes)
	default:
		return fmt.Sprintf("%dm", minutes)
	}
}

// printEvidence prints each exhibit with its chain of custody, then signs a
// checkpoint of the custody log and verifies the whole case: every record,
// every link, every signature, and every item's content re-hashed.
func (s *response) printEvidence(ctx context.Context) error {
	c := s.id.Case()
	ledger := s.locker.Ledger()
	items, err := s.locker.Items(ctx, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "\nEvidence\n")
	for _, it := range items {
		fmt.Fprintf(s.out, "%s  %s (%s, %d bytes)\n", it.Exhibit, it.Name, it.Kind, it.Size)
		fmt.Fprintf(s.out, "        SHA-256 %s\n", it.Digests.SHA256)
		history, err := ledger.History(ctx, c, it.ID)
		if err != nil {
			return err
		}
		for _, r := range history {
			line := fmt.Sprintf("%s by %s", r.Action, r.Actor)
			if r.Action == evidence.ActionTransferred {
				line = fmt.Sprintf("transferred from %s to %s (%s)", r.From, r.To, r.To.Organization)
			}
			if r.Authority != "" {
				line += ", on the authority of " + r.Authority
			}
			fmt.Fprintf(s.out, "        %s  %s\n", stamp(r.At), line)
		}
	}
	cp, err := ledger.Checkpoint(ctx, c)
	if err != nil {
		return err
	}
	rep, err := s.locker.Verify(ctx, c)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("custody of %s does not verify: %w", c, rep.Err())
	}
	fmt.Fprintf(s.out, "Chain of custody verified: %d records, %d exhibits, content re-hashed; signed checkpoint at size %d, root %s\n",
		rep.Size, rep.Items, cp.Size, cp.Root)
	return nil
}

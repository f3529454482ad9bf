package reviewreport

import (
	"bytes"

	"github.com/incidentkit/incidentkit/internal/mdtext"
	"github.com/incidentkit/incidentkit/ir"
)

// deadlineRows returns, for each of the incident's clocks, its title, when
// it started, its deadline, when it stopped and how it went.
func (d *writer) deadlineRows() [][5]string {
	var rows [][5]string
	for _, c := range d.inc.Clocks {
		stopped, outcome := "still running", outcomeOf(c)
		if !c.Running() {
			stopped = when(c.StoppedAt)
		}
		rows = append(rows, [5]string{c.Title, when(c.StartedAt), when(c.Deadline), stopped, outcome})
	}
	return rows
}

// outcomeOf says how a clock went: met, missed and by how much, or
// running.
func outcomeOf(c ir.ClockState) string {
	switch {
	case !c.Running() && c.Met:
		return "met"
	case !c.Running():
		return "missed by " + duration(c.StoppedAt.Sub(c.Deadline))
	case c.Missed:
		return "missed, not yet stopped"
	case c.Warned:
		return "running, deadline near"
	}
	return "running"
}

// deadlines writes the incident's deadline clocks, if it has any.
func (d *writer) deadlines(b *bytes.Buffer) {
	if len(d.inc.Clocks) == 0 {
		return
	}
	b.WriteString("## Deadlines\n\n")
	mdtext.TableHead(b, "Clock", "Started", "Deadline", "Stopped", "Outcome")
	for _, r := range d.deadlineRows() {
		mdtext.TableRow(b, text(r[0]), r[1], r[2], r[3], r[4])
	}
	b.WriteString("\n")
}

// deadlineSection is the HTML section of the incident's deadline clocks;
// a section without an ID, left out, if it has none.
func (d *writer) deadlineSection() section {
	if len(d.inc.Clocks) == 0 {
		return section{}
	}
	t := &table{Head: []string{"Clock", "Started", "Deadline", "Stopped", "Outcome"}}
	for _, r := range d.deadlineRows() {
		row := plain(visible(r[0]), r[1], r[2], r[3], r[4])
		row[4].Strong = r[4] != "met" && r[4] != "running"
		t.Rows = append(t.Rows, row)
	}
	return section{ID: "deadlines", Title: "Deadlines", Table: t}
}

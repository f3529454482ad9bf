package reviewreport

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/incidentkit/incidentkit/phases"
)

// Sizes of the course chart, in SVG user units.
const (
	courseLabelWidth = 170.0 // the phase names on the left
	coursePlotWidth  = 620.0 // the incident's span
	courseLaterWidth = 150.0 // the due dates after the span, on the right
	courseRowHeight  = 26.0
	courseTop        = 40.0 // room for the milestones' names
	courseBottom     = 34.0 // room for the time axis
)

// courseChart is the picture of the incident's phases over time: one row
// per phase, one bar per stay, a line for every move between phases (red
// when it goes back), the milestones, and the follow-ups' due dates.
type courseChart struct {
	Width, Height    float64
	PlotLeft         float64
	PlotRight        float64
	PlotTop, PlotBot float64
	Rows             []chartRow
	Bars             []chartBar
	Moves            []chartMove
	Ticks            []chartMark
	Marks            []chartMark
	Deadlines        []chartMark
	// Later are the due dates after the incident's span, drawn in their
	// own column on the right; LaterX is that column's left edge.
	Later  []chartMark
	LaterX float64
}

// chartRow is one phase's row.
type chartRow struct {
	Y, Mid float64
	Label  string
	Shade  bool
}

// chartBar is one stay.
type chartBar struct {
	X, Y, W, H float64
	// Loop marks a stay in a phase the incident had left before;
	// Ongoing the current stay of an open incident.
	Loop, Ongoing bool
	Title         string
}

// chartMove is a move between phases, at X from the row at Y1 to the row
// at Y2; Back is set when it goes back to an earlier phase.
type chartMove struct {
	X, Y1, Y2 float64
	Back      bool
}

// chartMark is a labelled point in time: a tick of the axis, a
// milestone, or a due date (Y places its label).
type chartMark struct {
	X, Y  float64
	Label string
	Title string
}

// newCourseChart lays out the course chart, or returns nil if the
// incident has no phase history.
func newCourseChart(d *writer) *courseChart {
	stays := d.stays()
	if len(stays) == 0 {
		return nil
	}
	rows := d.chartPhases(stays)
	rowOf := make(map[phases.Phase]int, len(rows))
	for i, p := range rows {
		rowOf[p] = i
	}
	start := stays[0].entered
	end := start
	for _, s := range stays {
		end = later(end, s.entered, s.end)
	}
	if !d.inc.IsOpen() {
		end = later(end, d.inc.Times.Closed)
	}
	if !end.After(start) {
		end = start.Add(time.Minute)
	}
	c := &courseChart{PlotLeft: courseLabelWidth, PlotRight: courseLabelWidth + coursePlotWidth, PlotTop: courseTop}
	c.PlotBot = courseTop + courseRowHeight*float64(len(rows))
	c.Height = c.PlotBot + courseBottom
	c.Width = c.PlotRight + 10
	span := end.Sub(start)
	x := func(t time.Time) float64 {
		return round1(c.PlotLeft + coursePlotWidth*float64(t.Sub(start))/float64(span))
	}
	for i, p := range rows {
		y := courseTop + courseRowHeight*float64(i)
		c.Rows = append(c.Rows, chartRow{Y: y, Mid: y + courseRowHeight/2, Label: shorten(visible(d.phasePlain(p)), 24), Shade: i%2 == 0})
	}
	var prev *stay
	for i := range stays {
		s := &stays[i]
		row, ok := rowOf[s.phase]
		if prev != nil {
			if prow, pok := rowOf[prev.phase]; pok && ok {
				c.Moves = append(c.Moves, chartMove{X: x(s.entered), Y1: c.Rows[prow].Mid, Y2: c.Rows[row].Mid, Back: row < prow})
			}
		}
		prev = s
		if !ok || !s.counted {
			continue
		}
		title := fmt.Sprintf("%s: %s to %s (%s)", d.phasePlain(s.phase), when(s.entered), when(s.end), duration(s.end.Sub(s.entered)))
		if s.again {
			title += ", back again"
		}
		c.Bars = append(c.Bars, chartBar{X: x(s.entered), Y: c.Rows[row].Y + 5, W: max(round1(x(s.end)-x(s.entered)), 2),
			H: courseRowHeight - 10, Loop: s.again, Ongoing: s.ongoing, Title: visible(title)})
	}
	for i := range 5 {
		t := start.Add(span * time.Duration(i) / 4)
		c.Ticks = append(c.Ticks, chartMark{X: x(t), Y: c.PlotBot + 16, Label: t.UTC().Format("Jan 2 15:04")})
	}
	tm := d.inc.Times
	for i, m := range []milestone{
		{"contained", tm.Contained}, {"resolved", tm.Resolved}, {"closed", tm.Closed},
	} {
		if m.at.IsZero() || m.at.Before(start) || m.at.After(end) {
			continue
		}
		c.Marks = append(c.Marks, chartMark{X: x(m.at), Y: 14 + 12*float64(i%2), Label: m.name, Title: m.name + " " + when(m.at)})
	}
	c.LaterX = c.PlotRight + 20
	for _, k := range d.inc.Clocks {
		if k.Deadline.IsZero() {
			continue
		}
		title := visible(fmt.Sprintf("%s: deadline %s, %s", k.Title, when(k.Deadline), outcomeOf(k)))
		switch {
		case k.Deadline.After(end):
			c.Later = append(c.Later, chartMark{Label: shorten(visible(k.Title), 18) + " " + k.Deadline.UTC().Format(time.DateOnly), Title: title})
		case !k.Deadline.Before(start):
			c.Deadlines = append(c.Deadlines, chartMark{X: x(k.Deadline), Y: c.PlotBot - 4,
				Label: shorten(visible(k.Title), 24) + " due", Title: title})
		}
	}
	for _, f := range d.inc.FollowUps {
		if f.Due.IsZero() {
			continue
		}
		label := fmt.Sprintf("follow-up %d due", f.ID)
		title := visible(fmt.Sprintf("Follow-up %d, %s: due %s", f.ID, f.Title, f.Due.Format(time.DateOnly)))
		if f.Done {
			title += ", done"
		}
		if f.Due.After(end) {
			c.Later = append(c.Later, chartMark{Label: fmt.Sprintf("#%d %s", f.ID, f.Due.Format(time.DateOnly)), Title: title})
			continue
		}
		if f.Due.Before(start) {
			continue
		}
		c.Deadlines = append(c.Deadlines, chartMark{X: x(f.Due), Y: c.PlotBot - 4, Label: label, Title: title})
	}
	if len(c.Later) > 0 {
		c.Width = c.LaterX + courseLaterWidth
		for i := range c.Later {
			c.Later[i].X = c.LaterX + 8
			c.Later[i].Y = courseTop + 14 + 16*float64(i)
		}
		c.Height = max(c.Height, courseTop+20+16*float64(len(c.Later)))
	}
	return c
}

// chartPhases returns the phases the course chart has a row for: the
// model's phases that are not terminal, in model order, and any other
// phase the incident was in, in the order it first was.
func (d *writer) chartPhases(stays []stay) []phases.Phase {
	var rows []phases.Phase
	if d.doc.Model != nil {
		for _, p := range d.doc.Model.Phases() {
			if !p.Terminal {
				rows = append(rows, p.Name)
			}
		}
	}
	for _, s := range stays {
		if !slices.Contains(rows, s.phase) && !d.terminal(s.phase) {
			rows = append(rows, s.phase)
		}
	}
	return rows
}

// Sizes of the process chart, in SVG user units.
const (
	boxWidth  = 132.0
	boxHeight = 44.0
	boxGap    = 58.0
	arcStep   = 22.0
)

// processChart is the picture of the model: its phases in a row, its
// actions as arrows (forward over the boxes, back under them), and the
// path the incident took drawn strong.
type processChart struct {
	Width, Height float64
	Boxes         []chartBox
	Edges         []chartEdge
	// StartX and StartY place the mark of the initial phase.
	StartX, StartY float64
}

// chartBox is one phase.
type chartBox struct {
	X, Y, W, H float64
	Mid        float64
	Label      string
	Title      string
	// Visited is set for a phase the incident was in, Current for the
	// one it is in.
	Visited, Current, Terminal bool
}

// chartEdge is one action from one phase.
type chartEdge struct {
	Path           string
	LabelX, LabelY float64
	Label          string
	Title          string
	// Taken counts the times the incident took the action from that
	// phase.
	Taken int
}

// newProcessChart lays out the process chart, or returns nil without a
// model.
func newProcessChart(d *writer) *processChart {
	m := d.doc.Model
	if m == nil {
		return nil
	}
	defs := m.Phases()
	index := make(map[phases.Phase]int, len(defs))
	for i, p := range defs {
		index[p.Name] = i
	}
	taken := make(map[[2]string]int)
	visited := make(map[phases.Phase]bool)
	history := d.inc.PhaseHistory
	for i, h := range history {
		visited[h.Phase] = true
		if i > 0 {
			taken[[2]string{string(history[i-1].Phase), string(h.Action)}]++
		}
	}
	type arc struct {
		from, to int
		a        phases.ActionDef
	}
	var arcs []arc
	maxUp, maxDown := 0, 0
	for _, a := range m.Actions() {
		for _, from := range a.From {
			i, j := index[from], index[a.To]
			arcs = append(arcs, arc{i, j, a})
			switch {
			case j > i+1:
				maxUp = max(maxUp, j-i)
			case j < i:
				maxDown = max(maxDown, i-j)
			}
		}
	}
	top := 30 + arcStep*float64(maxUp)
	c := &processChart{Width: 40 + float64(len(defs))*(boxWidth+boxGap), StartX: 10, StartY: top + boxHeight/2}
	c.Height = top + boxHeight + 30 + arcStep*float64(maxDown)
	for i, p := range defs {
		title := p.Title
		if title == "" {
			title = string(p.Name)
		}
		x := 30 + float64(i)*(boxWidth+boxGap)
		c.Boxes = append(c.Boxes, chartBox{X: x, Y: top, W: boxWidth, H: boxHeight, Mid: x + boxWidth/2,
			Label: shorten(visible(title), 20), Title: visible(title), Visited: visited[p.Name],
			Current: p.Name == d.inc.Phase, Terminal: p.Terminal})
	}
	// Arcs that span the same phases are spread out so that they do not
	// lie on each other.
	seen := make(map[[2]int]int)
	for _, a := range arcs {
		key := [2]int{a.from, a.to}
		k := seen[key]
		seen[key]++
		from, to := c.Boxes[a.from], c.Boxes[a.to]
		e := chartEdge{Label: shorten(visible(string(a.a.Name)), 22), Title: visible(a.a.Title),
			Taken: taken[[2]string{string(m.Phases()[a.from].Name), string(a.a.Name)}]}
		if e.Title == "" {
			e.Title = e.Label
		}
		y := from.Y + from.H/2
		switch {
		case a.to == a.from+1:
			y += 8 * float64(k)
			e.Path = fmt.Sprintf("M %.1f %.1f L %.1f %.1f", from.X+from.W, y, to.X, y)
			e.LabelX, e.LabelY = round1((from.X+from.W+to.X)/2), round1(y-6)
		case a.to > a.from:
			h := arcStep*float64(a.to-a.from) + 8*float64(k)
			sx, ex := from.Mid+12, to.Mid-12
			e.Path = fmt.Sprintf("M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f", sx, from.Y, sx, from.Y-h, ex, to.Y-h, ex, to.Y)
			e.LabelX, e.LabelY = round1((sx+ex)/2), round1(from.Y-0.75*h-3)
		default:
			h := arcStep*float64(a.from-a.to) + 8*float64(k)
			bottom := from.Y + from.H
			sx, ex := from.Mid-12, to.Mid+12
			e.Path = fmt.Sprintf("M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f", sx, bottom, sx, bottom+h, ex, bottom+h, ex, bottom)
			e.LabelX, e.LabelY = round1((sx+ex)/2), round1(bottom+0.75*h+11)
		}
		c.Edges = append(c.Edges, e)
	}
	// The path taken is drawn last, over the rest.
	slices.SortStableFunc(c.Edges, func(a, b chartEdge) int { return min(a.Taken, 1) - min(b.Taken, 1) })
	return c
}

// shorten cuts s to at most n characters, ending it with an ellipsis if
// it was longer.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// round1 rounds v to one decimal place, so that the pictures' numbers
// are short and the same on every platform.
func round1(v float64) float64 {
	if v < 0 {
		return -round1(-v)
	}
	return float64(int64(v*10+0.5)) / 10
}

// later returns the latest of t and others.
func later(t time.Time, others ...time.Time) time.Time {
	for _, o := range others {
		if o.After(t) {
			t = o
		}
	}
	return t
}

package reviewreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/internal/mdtext"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

//go:embed review.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("review").Funcs(template.FuncMap{
	// n writes a number of the pictures.
	"n":   func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) },
	"add": func(a, b float64) float64 { return a + b },
	// pair passes a section and the whole view to a template.
	"pair": func(s section, v *view) sectionView { return sectionView{S: s, V: v} },
}).Parse(htmlSource))

// sectionView is a section with the view it is in.
type sectionView struct {
	S section
	V *view
}

// HTML writes doc's review document to w as one self-contained HTML page:
// no script, no external style sheet, font or image, styled to read well
// on screen and printed. Besides what [Markdown] writes, it draws the
// incident's course as two inline SVG pictures: the phases over time,
// each stay a bar, with the loops back (a return to containment on
// reinfection) and the follow-ups' due dates marked; and the model's
// phases and actions with the path the incident took highlighted.
//
// Every text the incident holds is escaped by html/template, and
// characters that would not show as themselves (control characters,
// bidirectional overrides, zero-width characters, bytes that are not
// UTF-8) show as escapes such as \u202E, so that nothing a responder wrote
// can reach the reader as markup or read differently from what it is. It
// fails with an error matching ir.ErrInvalid if doc has no incident, and
// otherwise only if w does. Its output depends only on doc.
func HTML(w io.Writer, doc Document) error {
	if doc.Incident == nil {
		return &ir.InvalidError{Field: "review document", Reason: "needs the incident"}
	}
	v := newView(doc)
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, v); err != nil {
		return fmt.Errorf("reviewreport: render review of incident %s: %w", doc.Incident.ID, err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("reviewreport: write review of incident %s: %w", doc.Incident.ID, err)
	}
	return nil
}

// view is what the HTML template shows, every text already made
// visible (see [visible]); the template escapes it.
type view struct {
	Title string
	// Exercise is the banner of an exercise, empty for a real incident.
	Exercise string
	Facts    []fact
	Sections []section
	Course   *courseChart
	Process  *processChart
}

// fact is one line of the document's head, or of a list of facts.
type fact struct{ Name, Value string }

// section is one part of the document.
type section struct {
	ID, Title string
	// Paras are paragraphs; Facts a list of named values; Items a
	// bulleted list; Table a table; Sub are sections within.
	Paras []string
	Facts []fact
	Items []string
	Table *table
	Sub   []section
	// Chart names a picture the section shows first: "course" or
	// "process".
	Chart string
}

// table is a table of cells.
type table struct {
	Head []string
	Rows [][]cell
}

// cell is one table cell: its text, shown strong (a warning) or in a
// fixed-width font (a digest).
type cell struct {
	Text         string
	Strong, Mono bool
}

// visible returns s with every character that would not show as itself
// written as an escape such as \u202E, and every byte that is not UTF-8
// as one such as \xFF; line breaks are kept.
func visible(s string) string { return mdtext.Verbatim(strings.ReplaceAll(s, "\r\n", "\n")) }

// plain returns cells of the texts given.
func plain(texts ...string) []cell {
	cells := make([]cell, len(texts))
	for i, t := range texts {
		cells[i] = cell{Text: t}
	}
	return cells
}

func newView(doc Document) *view {
	d := &writer{doc: doc, inc: doc.Incident}
	inc := d.inc
	v := &view{Title: visible(inc.Title)}
	if inc.Exercise {
		v.Exercise = exerciseBanner
	}
	model := inc.Model
	if doc.Model != nil && doc.Model.Title() != "" {
		model = doc.Model.Title()
	}
	state := "open, in " + d.phasePlain(inc.Phase)
	if !inc.IsOpen() {
		state = "closed " + when(inc.Times.Closed)
	}
	verdict := "none set"
	if inc.Verdict != "" {
		verdict = words(string(inc.Verdict))
		if inc.Resolution != "" {
			verdict += ": " + inc.Resolution
		}
	}
	v.Facts = []fact{
		{"Incident", string(inc.ID)},
		{"Severity", fmt.Sprintf("%s · priority %s · category %s · %s", inc.Severity, inc.Priority, words(string(inc.Category)), inc.TLP)},
		{"Process", model}, {"State", state}, {"Verdict", verdict},
		{"Opened", when(inc.Times.Opened) + " by " + plainActor(inc.OpenedBy)},
	}
	if len(inc.Labels) > 0 {
		v.Facts = append(v.Facts, fact{"Labels", strings.Join(inc.Labels, ", ")})
	}
	if !doc.GeneratedAt.IsZero() {
		v.Facts = append(v.Facts, fact{"Document generated", fmt.Sprintf("%s, at version %d of the incident", when(doc.GeneratedAt), inc.Version)})
	}
	for i := range v.Facts {
		v.Facts[i].Value = visible(v.Facts[i].Value)
	}
	v.Course = newCourseChart(d)
	v.Process = newProcessChart(d)
	v.Sections = slices.DeleteFunc([]section{
		d.summarySection(), d.impactSection(), d.severitySection(), d.courseSection(v), d.milestonesSection(),
		d.responseSection(), d.deadlineSection(), d.reviewSection(), d.followUpSection(), d.decisionSection(), d.taskSection(),
		d.observableSection(), d.assetSection(), d.evidenceSection(), d.notificationSection(), d.timelineSection(),
	}, func(s section) bool { return s.ID == "" })
	return v
}

func (d *writer) summarySection() section {
	s := section{ID: "summary", Title: "Summary"}
	switch {
	case d.inc.Summary != "":
		s.Paras = []string{visible(d.inc.Summary)}
	case d.inc.Review != nil:
		s.Paras = []string{"No summary was given when the incident was opened; the review's summary is below."}
	default:
		s.Paras = []string{"No summary was recorded."}
	}
	return s
}

func (d *writer) impactSection() section {
	s := section{ID: "impact", Title: "Impact"}
	im := d.inc.Impact
	if im.Functional == "" && len(im.Information) == 0 && im.Recoverability == "" {
		s.Paras = []string{"No impact assessment was recorded."}
		return s
	}
	info := make([]string, len(im.Information))
	for i, x := range im.Information {
		info[i] = words(string(x))
	}
	s.Facts = []fact{
		{"Functional impact", visible(dash(words(string(im.Functional))))},
		{"Information impact", visible(dash(strings.Join(info, ", ")))},
		{"Recoverability", visible(dash(words(string(im.Recoverability))))},
	}
	return s
}

func (d *writer) severitySection() section {
	t := &table{Head: []string{"When", "Severity", "Changed by", "Why"}}
	for _, e := range d.doc.Timeline {
		switch data := e.Data.(type) {
		case *ir.Opened:
			t.Rows = append(t.Rows, plain(when(e.At), visible(string(data.Severity))+" (opened)", visible(plainActor(e.Actor)), visible(dash(e.Reason))))
		case *ir.SeverityChanged:
			t.Rows = append(t.Rows, plain(when(e.At), visible(string(data.From)+" → "+string(data.To)), visible(plainActor(e.Actor)), visible(dash(e.Reason))))
		}
	}
	if len(t.Rows) == 0 {
		t.Rows = append(t.Rows, plain(when(d.inc.Times.Opened), visible(string(d.inc.Severity))+" (now)", "—", "—"))
	}
	return section{ID: "severity", Title: "Severity history", Table: t}
}

func (d *writer) courseSection(v *view) section {
	s := section{ID: "course", Title: "Phases"}
	if len(d.inc.PhaseHistory) == 0 {
		s.Paras = []string{"No phase history was recorded."}
		return s
	}
	if v.Course != nil {
		s.Chart = "course"
	}
	path := &table{Head: []string{"#", "Phase", "Entered by", "Entered", "Left", "Time"}}
	for _, st := range d.stays() {
		name := d.phasePlain(st.phase)
		if st.again {
			name += " (again)"
		}
		entered := "opened"
		if st.action != "" {
			entered = d.actionPlain(st.action)
		}
		left, took := when(st.left), "—"
		if st.ongoing {
			left = "still there"
		}
		if st.counted {
			took = duration(st.end.Sub(st.entered))
		}
		row := plain(strconv.Itoa(st.n), visible(name), visible(entered), when(st.entered), left, took)
		row[1].Strong = st.again
		path.Rows = append(path.Rows, row)
	}
	totals := &table{Head: []string{"Phase", "Stays", "Time"}}
	for _, p := range d.phaseTotals() {
		totals.Rows = append(totals.Rows, plain(visible(d.phasePlain(p.phase)), strconv.Itoa(p.stays), duration(p.total)))
	}
	s.Sub = []section{
		{Title: "Path through the phases", Table: path},
		{Title: "Time in each phase", Paras: []string{"Repeated stays are added up."}, Table: totals},
	}
	if v.Process != nil {
		s.Sub = append(s.Sub, section{Title: "The process, with the path taken", Chart: "process"})
	}
	return s
}

func (d *writer) milestonesSection() section {
	tm := d.inc.Times
	t := &table{Head: []string{"Milestone", "When"}}
	for _, m := range []milestone{
		{"Occurred", tm.Occurred}, {"Detected", tm.Detected}, {"Reported", tm.Reported}, {"Opened", tm.Opened},
		{"Acknowledged", tm.Acknowledged}, {"Contained", tm.Contained}, {"Eradicated", tm.Eradicated},
		{"Recovered", tm.Recovered}, {"Resolved", tm.Resolved}, {"Closed", tm.Closed},
	} {
		t.Rows = append(t.Rows, plain(m.name, when(m.at)))
	}
	return section{ID: "lifecycle", Title: "Lifecycle", Table: t}
}

func (d *writer) responseSection() section {
	rt := ir.MetricsOptions{Exercises: true}.Compute([]*ir.Incident{d.inc}).All
	t := &table{Head: []string{"Measure", "From", "To", "Time"}}
	for _, m := range []struct {
		name, from, to string
		s              ir.Stats
	}{
		{"Time to detect", "occurred", "detected", rt.TimeToDetect},
		{"Time to acknowledge", "detected", "acknowledged", rt.TimeToAcknowledge},
		{"Time to contain", "detected", "contained", rt.TimeToContain},
		{"Time to resolve", "detected", "resolved", rt.TimeToResolve},
	} {
		took := "not reached"
		if m.s.Count > 0 {
			took = duration(m.s.Mean)
		}
		t.Rows = append(t.Rows, plain(m.name, m.from, m.to, took))
	}
	return section{ID: "response-times", Title: "Response times", Table: t}
}

func (d *writer) reviewSection() section {
	s := section{ID: "review", Title: "Post-incident review"}
	rv := d.inc.Review
	if rv == nil {
		s.Paras = []string{"No post-incident review has been recorded."}
		return s
	}
	s.Paras = []string{fmt.Sprintf("Revision %d, recorded %s by %s.", rv.Revision, when(rv.RecordedAt), visible(plainActor(rv.RecordedBy)))}
	root := "No root cause has been recorded yet."
	if rv.RootCause != "" {
		root = visible(rv.RootCause)
	}
	s.Sub = []section{
		{Title: "What happened", Paras: []string{visible(rv.Summary)}},
		{Title: "Root cause", Paras: []string{root}},
	}
	for _, l := range []struct {
		title string
		items []string
	}{
		{"Contributing factors", rv.ContributingFactors}, {"What went well", rv.WentWell},
		{"What went poorly", rv.WentPoorly}, {"Lessons learned", rv.LessonsLearned},
	} {
		sub := section{Title: l.title}
		if len(l.items) == 0 {
			sub.Paras = []string{"None recorded."}
		}
		for _, it := range l.items {
			sub.Items = append(sub.Items, visible(it))
		}
		s.Sub = append(s.Sub, sub)
	}
	return s
}

func (d *writer) followUpSection() section {
	s := section{ID: "follow-ups", Title: "Follow-up actions"}
	fus := d.inc.FollowUps
	if len(fus) == 0 {
		s.Paras = []string{"No follow-up action has been recorded."}
		return s
	}
	done := 0
	t := &table{Head: []string{"#", "Action", "Owner", "Due", "Tracked in", "State"}}
	for _, f := range fus {
		owner, due := "—", "—"
		if !f.Owner.IsZero() {
			owner = plainActor(f.Owner)
		}
		if !f.Due.IsZero() {
			due = f.Due.Format(time.DateOnly)
		}
		state := cell{Text: "open"}
		switch {
		case f.Done:
			done++
			state.Text = "done " + when(f.DoneAt) + " by " + plainActor(f.DoneBy)
			if f.Outcome != "" {
				state.Text += ": " + f.Outcome
			}
			state.Text = visible(state.Text)
		case !d.doc.GeneratedAt.IsZero() && f.Overdue(d.doc.GeneratedAt):
			state = cell{Text: "overdue", Strong: true}
		}
		t.Rows = append(t.Rows, []cell{{Text: strconv.Itoa(f.ID)}, {Text: visible(f.Title)}, {Text: visible(owner)},
			{Text: due}, {Text: visible(dash(f.Reference))}, state})
	}
	s.Paras = []string{fmt.Sprintf("%d of %d done.", done, len(fus))}
	s.Table = t
	return s
}

func (d *writer) decisionSection() section {
	s := section{ID: "decisions", Title: "Decisions"}
	if len(d.inc.Decisions) == 0 {
		s.Paras = []string{"No decision was recorded."}
		return s
	}
	t := &table{Head: []string{"#", "Decision", "Options considered", "Rationale", "Decided"}}
	for _, dec := range d.inc.Decisions {
		row := plain(strconv.Itoa(dec.ID), visible(dec.Summary), visible(dash(strings.Join(dec.Options, "; "))),
			visible(dash(dec.Rationale)), visible(when(dec.DecidedAt)+" by "+plainActor(dec.DecidedBy)))
		row[1].Strong = true
		t.Rows = append(t.Rows, row)
	}
	s.Table = t
	return s
}

func (d *writer) taskSection() section {
	s := section{ID: "tasks", Title: "Tasks"}
	if len(d.inc.Tasks) == 0 {
		s.Paras = []string{"No task was recorded."}
		return s
	}
	t := &table{Head: []string{"#", "Phase", "Task", "Required", "Assignee", "State"}}
	for _, tk := range d.inc.Tasks {
		required, assignee, state := "no", "—", "open"
		if tk.Required {
			required = "yes"
		}
		if !tk.Assignee.IsZero() {
			assignee = plainActor(tk.Assignee)
		}
		if tk.Done {
			state = "done " + when(tk.DoneAt) + " by " + plainActor(tk.DoneBy)
			if tk.Outcome != "" {
				state += ": " + tk.Outcome
			}
		}
		t.Rows = append(t.Rows, plain(strconv.Itoa(tk.ID), visible(d.phasePlain(tk.Phase)), visible(tk.Title), required,
			visible(assignee), visible(state)))
	}
	s.Table = t
	return s
}

func (d *writer) observableSection() section {
	s := section{ID: "observables", Title: "Observables"}
	if len(d.inc.Observables) == 0 {
		s.Paras = []string{"No observable was recorded."}
		return s
	}
	t := &table{Head: []string{"Type", "Value", "Malicious", "Description", "Recorded"}}
	for _, o := range d.inc.Observables {
		malicious := cell{Text: "no"}
		if o.Malicious {
			malicious = cell{Text: "yes", Strong: true}
		}
		t.Rows = append(t.Rows, []cell{{Text: visible(words(string(o.Type)))}, {Text: visible(o.Value), Mono: true}, malicious,
			{Text: visible(dash(o.Description))}, {Text: visible(plainRecorded(o.AddedAt, o.AddedBy))}})
	}
	s.Table = t
	return s
}

func (d *writer) assetSection() section {
	s := section{ID: "assets", Title: "Affected assets"}
	if len(d.inc.Assets) == 0 {
		s.Paras = []string{"No affected asset was recorded."}
		return s
	}
	t := &table{Head: []string{"Kind", "Name", "Description", "Recorded"}}
	for _, a := range d.inc.Assets {
		t.Rows = append(t.Rows, plain(visible(words(string(a.Kind))), visible(a.Name), visible(dash(a.Description)),
			visible(plainRecorded(a.AddedAt, a.AddedBy))))
	}
	s.Table = t
	return s
}

func (d *writer) evidenceSection() section {
	s := section{ID: "evidence", Title: "Evidence"}
	if len(d.inc.Evidence) == 0 {
		s.Paras = []string{"No evidence was collected."}
		return s
	}
	t := &table{Head: []string{"Exhibit", "Name", "Kind", "Size", "SHA-256", "Collected", "Custody"}}
	for _, ev := range d.inc.Evidence {
		custody, bad := d.custodyPlain(ev.Item)
		t.Rows = append(t.Rows, []cell{{Text: visible(ev.Exhibit)}, {Text: visible(ev.Name)}, {Text: visible(words(string(ev.Kind)))},
			{Text: size(ev.Size)}, {Text: visible(dash(ev.SHA256)), Mono: true},
			{Text: visible(plainRecorded(ev.CollectedAt, ev.CollectedBy))}, {Text: visible(custody), Strong: bad}})
	}
	s.Table = t
	return s
}

// custodyPlain says where item's chain of custody stands, in plain text,
// and whether verification found a problem.
func (d *writer) custodyPlain(item evidence.ItemID) (string, bool) {
	st, ok := d.doc.Custody[item]
	if !ok {
		return "not checked", false
	}
	s := "no custody record"
	if st.Records > 0 {
		last := st.Last
		s = fmt.Sprintf("%d %s; last %s %s by %s", st.Records, plural(st.Records, "record", "records"),
			words(string(last.Action)), when(last.At), plainActor(ir.Actor{ID: last.Actor.ID, Name: last.Actor.Name}))
		if last.Action == evidence.ActionTransferred && last.To.ID != "" {
			s += " to " + plainActor(ir.Actor{ID: last.To.ID, Name: last.To.Name})
		}
	}
	switch {
	case !st.Verified:
		return s + "; not verified", false
	case len(st.Problems) == 0 && st.ContentChecked:
		return s + "; verified intact", false
	case len(st.Problems) == 0:
		return s + "; custody log verified intact, content not re-hashed", false
	}
	return s + fmt.Sprintf("; %d %s found: %s", len(st.Problems), plural(len(st.Problems), "problem", "problems"),
		strings.Join(st.Problems, "; ")), true
}

func (d *writer) notificationSection() section {
	s := section{ID: "notifications", Title: "Notifications"}
	if len(d.doc.Deliveries) == 0 {
		s.Paras = []string{"No notification delivery is recorded."}
		return s
	}
	s.Paras = []string{"Who was told of what, and when, from the delivery records."}
	t := &table{Head: []string{"Written", "What", "Channel", "Audience", "State", "Attempts"}}
	for _, dl := range d.doc.Deliveries {
		what := words(dl.Type)
		if m, err := dl.Message(); err == nil && m.Event.Summary != "" {
			what = m.Event.Actor.String() + " " + m.Event.Summary
		}
		state := cell{}
		switch dl.Status {
		case notify.StatusDelivered:
			state.Text = "delivered " + when(dl.UpdatedAt)
			if r := dl.Receipt.String(); r != "" {
				state.Text += " (receipt " + r + ")"
			}
		case notify.StatusDead:
			state.Text, state.Strong = "failed, given up "+when(dl.UpdatedAt), true
			if dl.LastError != "" {
				state.Text += ": " + dl.LastError
			}
		case notify.StatusHeld:
			state.Text = heldWords(d.inc)
		case notify.StatusPending:
			state.Text = "pending"
		default:
			state.Text = string(dl.Status)
		}
		state.Text = visible(state.Text)
		t.Rows = append(t.Rows, []cell{{Text: when(dl.CreatedAt)}, {Text: visible(what)}, {Text: visible(dl.Channel)},
			{Text: visible(dash(words(string(dl.Audience))))}, state, {Text: strconv.Itoa(dl.Attempts)}})
	}
	s.Table = t
	return s
}

func (d *writer) timelineSection() section {
	s := section{ID: "timeline", Title: "Timeline"}
	if len(d.doc.Timeline) == 0 {
		s.Paras = []string{"No timeline was given."}
		return s
	}
	t := &table{Head: []string{"When", "Who", "What", "Why"}}
	for _, e := range d.doc.Timeline {
		t.Rows = append(t.Rows, plain(when(e.At), visible(plainActor(e.Actor)), visible(ir.Describe(d.doc.Model, e)), visible(dash(e.Reason))))
	}
	s.Table = t
	return s
}

// phasePlain names phase p by its title in the model, or in words.
func (d *writer) phasePlain(p phases.Phase) string {
	if d.doc.Model != nil {
		if def, ok := d.doc.Model.Phase(p); ok && def.Title != "" {
			return def.Title
		}
	}
	return words(string(p))
}

// actionPlain names action a by its title in the model, or in words.
func (d *writer) actionPlain(a phases.Action) string {
	if d.doc.Model != nil {
		if def, ok := d.doc.Model.Action(a); ok && def.Title != "" {
			return def.Title
		}
	}
	return words(string(a))
}

// plainActor shows an actor by name, with its ID when it has a name.
func plainActor(a ir.Actor) string {
	switch {
	case a.IsZero():
		return "—"
	case a.Name == "" || a.Name == a.ID:
		return a.ID
	}
	return a.Name + " (" + a.ID + ")"
}

// plainRecorded shows when and by whom something was recorded.
func plainRecorded(at time.Time, by ir.Actor) string {
	if by.IsZero() {
		return when(at)
	}
	return when(at) + " by " + plainActor(by)
}

// dash returns s, or a dash if s is empty.
func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

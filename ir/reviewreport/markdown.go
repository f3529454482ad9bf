package reviewreport

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/internal/mdtext"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Markdown writes doc's review document to w as GitHub-flavoured
// Markdown. It fails with an error matching ir.ErrInvalid if doc has no
// incident, and otherwise only if w does. Its output depends only on doc.
//
// Every text the incident holds (titles, summaries, notes, names,
// observables) is escaped, so that no Markdown renderer makes anything
// live of it: it cannot break the document's tables or reach the reader
// as markup, HTML, a link or an image. What an autolink needs is defanged
// the way incident responders write indicators ("://" shows as "[://]",
// the dot of "www." as "[.]" and "@" as "[@]"), and characters that would
// not show as themselves show as escapes such as \u202E. When the
// document defangs or escapes anything, it says so under its title.
func Markdown(w io.Writer, doc Document) error {
	if doc.Incident == nil {
		return &ir.InvalidError{Field: "review document", Reason: "needs the incident"}
	}
	d := &writer{doc: doc, inc: doc.Incident}
	var head, body bytes.Buffer
	d.header(&head)
	for _, section := range []func(*bytes.Buffer){
		d.summary, d.impact, d.severityHistory, d.milestones, d.responseTimes, d.deadlines, d.phasePath,
		d.review, d.followUps, d.decisions, d.tasks, d.observables, d.assets, d.evidence,
		d.notifications, d.timeline,
	} {
		section(&body)
	}
	var b bytes.Buffer
	b.Grow(head.Len() + body.Len() + 512)
	b.Write(head.Bytes())
	writeShownAs(&b, append(head.Bytes(), body.Bytes()...))
	b.Write(body.Bytes())
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("reviewreport: write review of incident %s: %w", doc.Incident.ID, err)
	}
	return nil
}

// writeShownAs says how the document shows text it had to defang or
// escape, if the document has any.
func writeShownAs(b *bytes.Buffer, doc []byte) {
	if mdtext.ShowsDefanged(doc) {
		b.WriteString("In text the responders wrote, a colon followed by two slashes, the dot after www and the at sign " +
			"are shown in brackets, as \\[://\\], www\\[.\\] and \\[@\\], so that no Markdown viewer makes a link of them.\n\n")
	}
	if mdtext.ShowsEscaped(doc) {
		b.WriteString("Characters the responders wrote that would not show as themselves (control characters, " +
			"bidirectional overrides, zero-width characters) are shown as escapes such as \\\\u202E, " +
			"and bytes that are not UTF-8 as escapes such as \\\\xFF.\n\n")
	}
}

// exerciseBanner heads the review of an exercise, after the word
// EXERCISE.
const exerciseBanner = "this incident was opened as an exercise, not a real incident. " +
	"Its response times are not counted in the response metrics."

// heldWords says why a delivery about inc was held back: the channel's
// TLP clearance, or, for an exercise, that or a route that does not take
// exercises (the delivery record does not say which).
func heldWords(inc *ir.Incident) string {
	if inc.Exercise {
		return "held back: an exercise its route does not take, or above the channel's TLP clearance"
	}
	return "held back by the channel's TLP clearance"
}

// writer writes one document.
type writer struct {
	doc Document
	inc *ir.Incident
}

func (d *writer) header(b *bytes.Buffer) {
	inc := d.inc
	fmt.Fprintf(b, "# Post-incident review: %s\n\n", text(inc.Title))
	if inc.Exercise {
		fmt.Fprintf(b, "**EXERCISE:** %s\n\n", exerciseBanner)
	}
	fmt.Fprintf(b, "- **Incident:** %s\n", mdtext.Code(string(inc.ID)))
	fmt.Fprintf(b, "- **Severity:** %s · **Priority:** %s · **Category:** %s · **TLP:** %s\n",
		text(string(inc.Severity)), text(string(inc.Priority)), text(words(string(inc.Category))), text(string(inc.TLP)))
	model := text(inc.Model)
	if d.doc.Model != nil && d.doc.Model.Title() != "" {
		model = text(d.doc.Model.Title())
	}
	fmt.Fprintf(b, "- **Process:** %s\n", model)
	state := "open, in " + d.phase(inc.Phase)
	if !inc.IsOpen() {
		state = "closed " + when(inc.Times.Closed)
	}
	fmt.Fprintf(b, "- **State:** %s\n", state)
	verdict := "none set"
	if inc.Verdict != "" {
		verdict = text(words(string(inc.Verdict)))
		if inc.Resolution != "" {
			verdict += ": " + text(inc.Resolution)
		}
	}
	fmt.Fprintf(b, "- **Verdict:** %s\n", verdict)
	fmt.Fprintf(b, "- **Opened:** %s by %s\n", when(inc.Times.Opened), actor(inc.OpenedBy))
	if len(inc.Labels) > 0 {
		labels := make([]string, len(inc.Labels))
		for i, l := range inc.Labels {
			labels[i] = text(l)
		}
		fmt.Fprintf(b, "- **Labels:** %s\n", strings.Join(labels, ", "))
	}
	if !d.doc.GeneratedAt.IsZero() {
		fmt.Fprintf(b, "- **Document generated:** %s, at version %d of the incident\n", when(d.doc.GeneratedAt), inc.Version)
	}
	b.WriteString("\nTimes are in UTC.\n\n")
}

func (d *writer) summary(b *bytes.Buffer) {
	b.WriteString("## Summary\n\n")
	switch {
	case d.inc.Summary != "":
		b.WriteString(text(d.inc.Summary) + "\n\n")
	case d.inc.Review != nil:
		b.WriteString("No summary was given when the incident was opened; the review's summary is below.\n\n")
	default:
		b.WriteString("No summary was recorded.\n\n")
	}
}

func (d *writer) impact(b *bytes.Buffer) {
	b.WriteString("## Impact\n\n")
	im := d.inc.Impact
	if im.Functional == "" && len(im.Information) == 0 && im.Recoverability == "" {
		b.WriteString("No impact assessment was recorded.\n\n")
		return
	}
	info := make([]string, len(im.Information))
	for i, x := range im.Information {
		info[i] = text(words(string(x)))
	}
	fmt.Fprintf(b, "- **Functional impact:** %s\n", value(words(string(im.Functional))))
	fmt.Fprintf(b, "- **Information impact:** %s\n", orDash(strings.Join(info, ", ")))
	fmt.Fprintf(b, "- **Recoverability:** %s\n\n", value(words(string(im.Recoverability))))
}

func (d *writer) severityHistory(b *bytes.Buffer) {
	b.WriteString("## Severity history\n\n")
	mdtext.TableHead(b, "When", "Severity", "Changed by", "Why")
	rows := 0
	for _, e := range d.doc.Timeline {
		switch data := e.Data.(type) {
		case *ir.Opened:
			mdtext.TableRow(b, when(e.At), text(string(data.Severity))+" (opened)", actor(e.Actor), value(e.Reason))
			rows++
		case *ir.SeverityChanged:
			mdtext.TableRow(b, when(e.At), fmt.Sprintf("%s → %s", text(string(data.From)), text(string(data.To))),
				actor(e.Actor), value(e.Reason))
			rows++
		}
	}
	if rows == 0 {
		mdtext.TableRow(b, when(d.inc.Times.Opened), text(string(d.inc.Severity))+" (now)", "—", "—")
	}
	b.WriteString("\n")
}

// milestone is one lifecycle moment.
type milestone struct {
	name string
	at   time.Time
}

func (d *writer) milestones(b *bytes.Buffer) {
	t := d.inc.Times
	b.WriteString("## Lifecycle\n\n")
	mdtext.TableHead(b, "Milestone", "When")
	for _, m := range []milestone{
		{"Occurred", t.Occurred}, {"Detected", t.Detected}, {"Reported", t.Reported}, {"Opened", t.Opened},
		{"Acknowledged", t.Acknowledged}, {"Contained", t.Contained}, {"Eradicated", t.Eradicated},
		{"Recovered", t.Recovered}, {"Resolved", t.Resolved}, {"Closed", t.Closed},
	} {
		mdtext.TableRow(b, m.name, when(m.at))
	}
	b.WriteString("\n")
}

func (d *writer) responseTimes(b *bytes.Buffer) {
	rt := ir.MetricsOptions{Exercises: true}.Compute([]*ir.Incident{d.inc}).All
	b.WriteString("## Response times\n\n")
	mdtext.TableHead(b, "Measure", "From", "To", "Time")
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
		mdtext.TableRow(b, m.name, m.from, m.to, took)
	}
	b.WriteString("\n")
}

func (d *writer) phasePath(b *bytes.Buffer) {
	b.WriteString("## Phases\n\n")
	history := d.inc.PhaseHistory
	if len(history) == 0 {
		b.WriteString("No phase history was recorded.\n\n")
		return
	}
	b.WriteString("The path the incident took, one row per stay in a phase:\n\n")
	mdtext.TableHead(b, "#", "Phase", "Entered by", "Entered", "Left", "Time")
	for _, st := range d.stays() {
		name := d.phase(st.phase)
		if st.again {
			name += " (again)"
		}
		entered := "opened"
		if st.action != "" {
			entered = d.action(st.action)
		}
		left, took := when(st.left), "—"
		if st.ongoing {
			left = "still there"
		}
		if st.counted {
			took = duration(st.end.Sub(st.entered))
		}
		mdtext.TableRow(b, strconv.Itoa(st.n), name, entered, when(st.entered), left, took)
	}
	b.WriteString("\nTime in each phase, adding up repeated stays:\n\n")
	mdtext.TableHead(b, "Phase", "Stays", "Time")
	for _, p := range d.phaseTotals() {
		mdtext.TableRow(b, d.phase(p.phase), strconv.Itoa(p.stays), duration(p.total))
	}
	b.WriteString("\n")
}

func (d *writer) review(b *bytes.Buffer) {
	b.WriteString("## Post-incident review\n\n")
	rv := d.inc.Review
	if rv == nil {
		b.WriteString("No post-incident review has been recorded.\n\n")
		return
	}
	fmt.Fprintf(b, "Revision %d, recorded %s by %s.\n\n", rv.Revision, when(rv.RecordedAt), actor(rv.RecordedBy))
	b.WriteString("### What happened\n\n" + text(rv.Summary) + "\n\n")
	b.WriteString("### Root cause\n\n")
	if rv.RootCause == "" {
		b.WriteString("No root cause has been recorded yet.\n\n")
	} else {
		b.WriteString(text(rv.RootCause) + "\n\n")
	}
	for _, l := range []struct {
		title string
		items []string
	}{
		{"Contributing factors", rv.ContributingFactors}, {"What went well", rv.WentWell},
		{"What went poorly", rv.WentPoorly}, {"Lessons learned", rv.LessonsLearned},
	} {
		b.WriteString("### " + l.title + "\n\n")
		if len(l.items) == 0 {
			b.WriteString("None recorded.\n\n")
			continue
		}
		for _, it := range l.items {
			b.WriteString("- " + text(it) + "\n")
		}
		b.WriteString("\n")
	}
}

func (d *writer) followUps(b *bytes.Buffer) {
	b.WriteString("## Follow-up actions\n\n")
	fus := d.inc.FollowUps
	if len(fus) == 0 {
		b.WriteString("No follow-up action has been recorded.\n\n")
		return
	}
	done := 0
	for _, f := range fus {
		if f.Done {
			done++
		}
	}
	fmt.Fprintf(b, "%d of %d done.\n\n", done, len(fus))
	mdtext.TableHead(b, "#", "Action", "Owner", "Due", "Tracked in", "State")
	for _, f := range fus {
		owner := "—"
		if !f.Owner.IsZero() {
			owner = actor(f.Owner)
		}
		due := "—"
		if !f.Due.IsZero() {
			due = f.Due.Format(time.DateOnly)
		}
		var state string
		switch {
		case f.Done:
			state = "done " + when(f.DoneAt) + " by " + actor(f.DoneBy)
			if f.Outcome != "" {
				state += ": " + text(f.Outcome)
			}
		case !d.doc.GeneratedAt.IsZero() && f.Overdue(d.doc.GeneratedAt):
			state = "**overdue**"
		default:
			state = "open"
		}
		mdtext.TableRow(b, strconv.Itoa(f.ID), text(f.Title), owner, due, value(f.Reference), state)
	}
	b.WriteString("\n")
}

func (d *writer) decisions(b *bytes.Buffer) {
	b.WriteString("## Decisions\n\n")
	if len(d.inc.Decisions) == 0 {
		b.WriteString("No decision was recorded.\n\n")
		return
	}
	for _, dec := range d.inc.Decisions {
		fmt.Fprintf(b, "%d. **%s**, decided %s by %s.\n", dec.ID, text(dec.Summary), when(dec.DecidedAt), actor(dec.DecidedBy))
		if len(dec.Options) > 0 {
			opts := make([]string, len(dec.Options))
			for i, o := range dec.Options {
				opts[i] = text(o)
			}
			b.WriteString("   - Options considered: " + strings.Join(opts, "; ") + "\n")
		}
		if dec.Rationale != "" {
			b.WriteString("   - Rationale: " + text(dec.Rationale) + "\n")
		}
	}
	b.WriteString("\n")
}

func (d *writer) tasks(b *bytes.Buffer) {
	b.WriteString("## Tasks\n\n")
	if len(d.inc.Tasks) == 0 {
		b.WriteString("No task was recorded.\n\n")
		return
	}
	mdtext.TableHead(b, "#", "Phase", "Task", "Required", "Assignee", "State")
	for _, t := range d.inc.Tasks {
		required := "no"
		if t.Required {
			required = "yes"
		}
		assignee := "—"
		if !t.Assignee.IsZero() {
			assignee = actor(t.Assignee)
		}
		state := "open"
		if t.Done {
			state = "done " + when(t.DoneAt) + " by " + actor(t.DoneBy)
			if t.Outcome != "" {
				state += ": " + text(t.Outcome)
			}
		}
		mdtext.TableRow(b, strconv.Itoa(t.ID), d.phase(t.Phase), text(t.Title), required, assignee, state)
	}
	b.WriteString("\n")
}

func (d *writer) observables(b *bytes.Buffer) {
	b.WriteString("## Observables\n\n")
	if len(d.inc.Observables) == 0 {
		b.WriteString("No observable was recorded.\n\n")
		return
	}
	mdtext.TableHead(b, "Type", "Value", "Malicious", "Description", "Recorded")
	for _, o := range d.inc.Observables {
		malicious := "no"
		if o.Malicious {
			malicious = "**yes**"
		}
		mdtext.TableRow(b, text(words(string(o.Type))), text(o.Value), malicious, value(o.Description),
			recorded(o.AddedAt, o.AddedBy))
	}
	b.WriteString("\n")
}

func (d *writer) assets(b *bytes.Buffer) {
	b.WriteString("## Affected assets\n\n")
	if len(d.inc.Assets) == 0 {
		b.WriteString("No affected asset was recorded.\n\n")
		return
	}
	mdtext.TableHead(b, "Kind", "Name", "Description", "Recorded")
	for _, a := range d.inc.Assets {
		mdtext.TableRow(b, text(words(string(a.Kind))), text(a.Name), value(a.Description), recorded(a.AddedAt, a.AddedBy))
	}
	b.WriteString("\n")
}

func (d *writer) evidence(b *bytes.Buffer) {
	b.WriteString("## Evidence\n\n")
	if len(d.inc.Evidence) == 0 {
		b.WriteString("No evidence was collected.\n\n")
		return
	}
	mdtext.TableHead(b, "Exhibit", "Name", "Kind", "Size", "SHA-256", "Collected", "Custody")
	for _, ev := range d.inc.Evidence {
		mdtext.TableRow(b, text(ev.Exhibit), text(ev.Name), text(words(string(ev.Kind))), size(ev.Size),
			mdtext.Code(ev.SHA256), recorded(ev.CollectedAt, ev.CollectedBy), d.custody(ev.Item))
	}
	b.WriteString("\n")
}

// custody says where item's chain of custody stands.
func (d *writer) custody(item evidence.ItemID) string {
	st, ok := d.doc.Custody[item]
	if !ok {
		return "not checked"
	}
	var s string
	switch {
	case st.Records == 0:
		s = "no custody record"
	default:
		last := st.Last
		s = fmt.Sprintf("%d %s; last %s %s by %s", st.Records, plural(st.Records, "record", "records"),
			words(string(last.Action)), when(last.At), party(last.Actor))
		if last.Action == evidence.ActionTransferred && last.To.ID != "" {
			s += " to " + party(last.To)
		}
	}
	switch {
	case !st.Verified:
		s += "; not verified"
	case len(st.Problems) == 0 && st.ContentChecked:
		s += "; verified intact"
	case len(st.Problems) == 0:
		s += "; custody log verified intact, content not re-hashed"
	default:
		problems := make([]string, len(st.Problems))
		for i, p := range st.Problems {
			problems[i] = text(p)
		}
		s += fmt.Sprintf("; **%d %s found**: %s", len(st.Problems), plural(len(st.Problems), "problem", "problems"),
			strings.Join(problems, "; "))
	}
	return s
}

func (d *writer) notifications(b *bytes.Buffer) {
	b.WriteString("## Notifications\n\n")
	if len(d.doc.Deliveries) == 0 {
		b.WriteString("No notification delivery is recorded.\n\n")
		return
	}
	b.WriteString("Who was told of what, and when, from the delivery records:\n\n")
	mdtext.TableHead(b, "Written", "What", "Channel", "Audience", "State", "Attempts")
	for _, dl := range d.doc.Deliveries {
		what := text(words(dl.Type))
		if m, err := dl.Message(); err == nil && m.Event.Summary != "" {
			what = text(m.Event.Actor.String() + " " + m.Event.Summary)
		}
		audience := "—"
		if dl.Audience != "" {
			audience = text(words(string(dl.Audience)))
		}
		var state string
		switch dl.Status {
		case notify.StatusDelivered:
			state = "delivered " + when(dl.UpdatedAt)
			if r := dl.Receipt.String(); r != "" {
				state += " (receipt " + text(r) + ")"
			}
		case notify.StatusDead:
			state = "**failed**, given up " + when(dl.UpdatedAt)
			if dl.LastError != "" {
				state += ": " + text(dl.LastError)
			}
		case notify.StatusHeld:
			state = heldWords(d.inc)
		case notify.StatusPending:
			state = "pending"
		default:
			state = text(string(dl.Status))
		}
		mdtext.TableRow(b, when(dl.CreatedAt), what, text(dl.Channel), audience, state, strconv.Itoa(dl.Attempts))
	}
	b.WriteString("\n")
}

func (d *writer) timeline(b *bytes.Buffer) {
	b.WriteString("## Timeline\n\n")
	if len(d.doc.Timeline) == 0 {
		b.WriteString("No timeline was given.\n\n")
		return
	}
	mdtext.TableHead(b, "When", "Who", "What", "Why")
	for _, e := range d.doc.Timeline {
		mdtext.TableRow(b, when(e.At), actor(e.Actor), text(ir.Describe(d.doc.Model, e)), value(e.Reason))
	}
	b.WriteString("\n")
}

// phase names phase p by its title in the model, escaped.
func (d *writer) phase(p phases.Phase) string { return text(d.phasePlain(p)) }

// action names action a by its title in the model, escaped.
func (d *writer) action(a phases.Action) string { return text(d.actionPlain(a)) }

// terminal reports whether p is a terminal phase, where time is not
// counted: one of the model, or without a model the phase a closed
// incident is in.
func (d *writer) terminal(p phases.Phase) bool {
	if d.doc.Model != nil {
		return d.doc.Model.IsTerminal(p)
	}
	return !d.inc.IsOpen() && p == d.inc.Phase
}

// text escapes s for Markdown.
func text(s string) string { return mdtext.Text(s) }

// value escapes s, or shows a dash for an empty s.
func value(s string) string { return orDash(text(s)) }

// orDash returns s, or a dash if s is empty.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// words turns a name such as true_positive into words.
func words(name string) string { return strings.ReplaceAll(name, "_", " ") }

// when shows t in UTC to the second, or a dash for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// actor shows an actor by name, with its ID when it has a name.
func actor(a ir.Actor) string {
	switch {
	case a.IsZero():
		return "—"
	case a.Name == "" || a.Name == a.ID:
		return text(a.ID)
	}
	return text(a.Name) + " (" + text(a.ID) + ")"
}

// party shows a custody party as [actor] shows an actor.
func party(p evidence.Party) string { return actor(ir.Actor{ID: p.ID, Name: p.Name}) }

// recorded shows when and by whom something was recorded.
func recorded(at time.Time, by ir.Actor) string {
	if by.IsZero() {
		return when(at)
	}
	return when(at) + " by " + actor(by)
}

// duration shows d in days, hours, minutes and seconds, leaving out the
// units that are zero: "2d 3h 10m", "45s".
func duration(d time.Duration) string {
	if d < 0 {
		return "-" + duration(-d)
	}
	d = d.Round(time.Second)
	if d == 0 {
		return "0s"
	}
	var parts []string
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			parts = append(parts, strconv.FormatInt(int64(n), 10)+u.name)
			d -= n * u.unit
		}
	}
	return strings.Join(parts, " ")
}

// size shows a size in bytes, with a larger unit when it is large.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n)/unit, 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s (%d bytes)", v, units[i], n)
}

// plural returns one for n of 1, and many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

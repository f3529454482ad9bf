package plan

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/internal/mdtext"
)

// Markdown writes the report to w as GitHub-flavoured Markdown: the
// steps and how each went (blocked ones with their reasons), the tasks the
// playbook added, the roles nobody held, the notifications the drill
// would have sent and to which channels, and the deadlines, missed ones
// marked. Every text the drill's incident holds is escaped, so that no
// renderer makes anything live of it. It fails only if w does.
func (r *DrillReport) Markdown(w io.Writer) error {
	var b bytes.Buffer
	name := r.Drill
	if name == "" {
		name = "drill"
	}
	fmt.Fprintf(&b, "# Drill report: %s\n\n", mdtext.Text(name))
	b.WriteString("**EXERCISE:** the incident was opened as an exercise; no notification was delivered.\n\n")
	fmt.Fprintf(&b, "- **Plan:** %s\n", mdtext.Text(r.Plan))
	if inc := r.Incident; inc != nil {
		fmt.Fprintf(&b, "- **Incident:** %s, %s\n", mdtext.Code(string(inc.ID)), mdtext.Text(inc.Title))
		fmt.Fprintf(&b, "- **Ended in:** %s\n", mdtext.Text(words(string(inc.Phase))))
	}
	fmt.Fprintf(&b, "- **Drill clock:** %s to %s (%s)\n", stamp(r.Start), stamp(r.End), r.End.Sub(r.Start))
	blocked, missed := len(r.Blocked()), len(r.Missed())
	fmt.Fprintf(&b, "- **Outcome:** %d of %s blocked; %s added; %s; %s missed\n\n", blocked, count(len(r.Steps), "step"),
		count(len(r.Tasks), "playbook task"), count(len(r.Notifications), "notification"), count(missed, "deadline"))

	b.WriteString("## Steps\n\n")
	mdtext.TableHead(&b, "#", "At", "Step", "Outcome", "Why")
	for _, s := range r.Steps {
		outcome := string(s.Outcome)
		if s.Outcome != StepDone {
			outcome = "**" + outcome + "**"
		}
		why := make([]string, len(s.Reasons))
		for i, reason := range s.Reasons {
			why[i] = mdtext.Text(reason)
		}
		mdtext.TableRow(&b, fmt.Sprint(s.N), stamp(s.At), mdtext.Text(s.Step.String()), outcome, dash(strings.Join(why, "<br>")))
	}
	b.WriteString("\n## Tasks the playbook added\n\n")
	if len(r.Tasks) == 0 {
		b.WriteString("None.\n")
	} else {
		mdtext.TableHead(&b, "Step", "Phase", "Task", "Required", "Role", "Assignee", "Done")
		for _, t := range r.Tasks {
			req := "no"
			if t.Task.Required {
				req = "yes"
			}
			assignee := dash(mdtext.Text(actorName(t.Task.Assignee)))
			if t.Unowned {
				assignee = "**nobody holds the role**"
			}
			done := "no"
			if r.Incident != nil {
				if cur, ok := r.Incident.Task(t.Task.ID); ok && cur.Done {
					done = "yes"
				}
			}
			mdtext.TableRow(&b, fmt.Sprint(t.Step), mdtext.Text(words(string(t.Task.Phase))), mdtext.Text(t.Task.Title), req,
				dash(mdtext.Text(words(string(t.Task.Role)))), assignee, done)
		}
	}
	if roles := r.MissingRoles(); len(roles) > 0 {
		names := make([]string, len(roles))
		for i, role := range roles {
			names[i] = mdtext.Text(words(string(role)))
		}
		fmt.Fprintf(&b, "\nRoles the playbook's tasks name that nobody held: %s.\n", strings.Join(names, ", "))
	}
	b.WriteString("\n## Notifications that would have been sent\n\n")
	if len(r.Notifications) == 0 {
		b.WriteString("None.\n")
	} else {
		mdtext.TableHead(&b, "Step", "Event", "Channels", "Held back")
		for _, n := range r.Notifications {
			to := make([]string, len(n.Deliver))
			for i, t := range n.Deliver {
				to[i] = mdtext.Text(t.Channel)
			}
			held := make([]string, len(n.Held))
			for i, h := range n.Held {
				held[i] = mdtext.Text(h.Channel + ": " + h.Reason())
			}
			mdtext.TableRow(&b, fmt.Sprint(n.Step), mdtext.Text(n.Message.Event.Sentence()),
				dash(strings.Join(to, ", ")), dash(strings.Join(held, "<br>")))
		}
	}
	b.WriteString("\n## Deadlines\n\n")
	if len(r.Deadlines) == 0 {
		b.WriteString("The incident carried no deadlines.\n")
	} else {
		mdtext.TableHead(&b, "Deadline", "Due", "Stopped", "State")
		for _, d := range r.Deadlines {
			state := "met"
			switch {
			case d.Missed(r.End):
				state = "**missed**"
			case d.StoppedAt.IsZero():
				state = "running"
			}
			title := d.Title
			if title == "" {
				title = d.Name
			}
			stopped := "—"
			if !d.StoppedAt.IsZero() {
				stopped = stamp(d.StoppedAt)
			}
			mdtext.TableRow(&b, mdtext.Text(title), stamp(d.Due), stopped, state)
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("plan: write drill report: %w", err)
	}
	return nil
}

// stamp writes a time of the drill's clock, in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// count writes n things.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// dash returns s, or a dash for an empty cell.
func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

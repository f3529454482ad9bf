package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// itoa formats an int.
func itoa(n int) string { return strconv.Itoa(n) }

// exactArgs accepts exactly n arguments, naming them in its error.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return fmt.Errorf("%s takes %s; got %d argument(s)", cmd.CommandPath(), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// openCommand: irctl open TITLE.
func (a *app) openCommand() *cobra.Command {
	var n ir.NewIncident
	var severity, category, tlp, model, occurred, detected string
	var observables []string
	cmd := &cobra.Command{
		Use:   "open TITLE",
		Short: "Open an incident",
		Example: `  irctl open "Credential phishing against finance" --severity high --category phishing --label finance
  irctl open "Ransomware on the file server" --severity critical --model nist-800-61r2
  irctl open "Tabletop: ransomware on the file server" --severity critical --category ransomware --exercise`,
		Args: exactArgs("TITLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			actor, err := a.actor()
			if err != nil {
				return err
			}
			m, ok := phases.Lookup(model)
			if !ok {
				return usageError{fmt.Errorf("--model %q is not a built-in model (list them: irctl models)", model)}
			}
			n.Title = args[0]
			n.Severity = ir.Severity(severity)
			n.Category = ir.Category(category)
			n.TLP = ir.TLP(strings.ToUpper(tlp))
			if tlp != "" && !strings.HasPrefix(string(n.TLP), "TLP:") {
				n.TLP = "TLP:" + n.TLP
			}
			if occurred != "" {
				if n.OccurredAt, err = parseTime("occurred", occurred); err != nil {
					return err
				}
			}
			if detected != "" {
				if n.DetectedAt, err = parseTime("detected", detected); err != nil {
					return err
				}
			}
			for _, o := range observables {
				obs, err := parseObservable(o)
				if err != nil {
					return err
				}
				n.Observables = append(n.Observables, obs)
			}
			r, err := a.responder(ctx, m)
			if err != nil {
				return err
			}
			inc, err := r.Open(ctx, actor, n)
			if err != nil {
				return err
			}
			return a.printIncidentLine(inc, "opened")
		},
	}
	f := cmd.Flags()
	f.StringVarP(&severity, "severity", "s", "", "severity: low, medium, high or critical (required)")
	f.StringVarP(&category, "category", "c", "", "category, such as phishing or malware (default other)")
	f.StringVar(&tlp, "tlp", "", "traffic light protocol: clear, green, amber, amber+strict or red (default amber)")
	f.StringVar(&n.Summary, "summary", "", "what is known so far")
	f.StringSliceVarP(&n.Labels, "label", "l", nil, "a label; repeat for more")
	f.StringArrayVar(&observables, "observable", nil, "an indicator known at the outset, TYPE:VALUE (such as domain:payroll-update.example); repeat for more")
	f.StringVar(&model, "model", phases.SANS.Name(), "the phase model the incident follows (see irctl models)")
	f.StringVar(&occurred, "occurred", "", "when the incident began, if known (RFC 3339, or \"YYYY-MM-DD HH:MM\" in UTC)")
	f.StringVar(&detected, "detected", "", "when it was detected (default now)")
	f.BoolVar(&n.Exercise, "exercise", false, "open it as an exercise: marked as one everywhere, sent only by routes that accept exercises, left out of the metrics")
	_ = cmd.MarkFlagRequired("severity")
	_ = cmd.RegisterFlagCompletionFunc("severity", completeFixed(severityNames...))
	_ = cmd.RegisterFlagCompletionFunc("category", completeFixed(categoryNames...))
	_ = cmd.RegisterFlagCompletionFunc("tlp", completeFixed("clear", "green", "amber", "amber+strict", "red"))
	_ = cmd.RegisterFlagCompletionFunc("model", completeFixed(modelNames()...))
	return cmd
}

// parseObservable reads TYPE:VALUE.
func parseObservable(s string) (ir.Observable, error) {
	typ, value, ok := strings.Cut(s, ":")
	if !ok {
		return ir.Observable{}, &ir.InvalidError{Field: "observable", Value: s, Reason: "must be TYPE:VALUE, such as ip:203.0.113.7"}
	}
	return ir.Observable{Type: ir.ObservableType(strings.TrimSpace(typ)), Value: strings.TrimSpace(value)}, nil
}

// printIncidentLine prints what a change left of an incident: one line for
// people, the incident for scripts.
func (a *app) printIncidentLine(inc *ir.Incident, what string) error {
	if a.json {
		return a.printJSON(inc)
	}
	fmt.Fprintf(a.stdout, "%s %s: %s%s, %s, phase %s, version %d\n", inc.ID, what, exerciseMark(inc), oneLine(inc.Title), inc.Severity, inc.Phase, inc.Version)
	return nil
}

// exerciseMark marks the title of an exercise.
func exerciseMark(inc *ir.Incident) string {
	if inc.Exercise {
		return notify.ExerciseMarker + " "
	}
	return ""
}

// listCommand: irctl list.
func (a *app) listCommand() *cobra.Command {
	var phaseNames, severities, labels, categories []string
	var open, closed bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List incidents, newest first, with filters",
		Example: `  irctl list --open --severity high --severity critical
  irctl list --phase containment --label finance --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			d, err := a.open(ctx)
			if err != nil {
				return err
			}
			q := ir.Query{Labels: labels, Limit: ir.MaxPageSize}
			for _, p := range phaseNames {
				q.Phases = append(q.Phases, phases.Phase(p))
			}
			for _, s := range severities {
				sev, err := ir.ParseSeverity(s)
				if err != nil {
					return err
				}
				q.Severities = append(q.Severities, sev)
			}
			for _, c := range categories {
				if _, err := ir.ParseCategory(c); err != nil {
					return err
				}
			}
			switch {
			case open && closed:
				return usageError{errors.New("--open and --closed exclude each other")}
			case open:
				q.Status = ir.StatusOpen
			case closed:
				q.Status = ir.StatusClosed
			}
			if limit < 1 {
				return usageError{errors.New("--limit must be at least 1")}
			}
			var found []*ir.Incident
			for {
				page, err := d.Store.List(ctx, q)
				if err != nil {
					return err
				}
				for _, inc := range page.Incidents {
					// The store's query has no category: irctl filters
					// on it as it reads.
					if len(categories) == 0 || slices.Contains(categories, string(inc.Category)) {
						found = append(found, inc)
					}
				}
				if page.Next == "" {
					break
				}
				q.After = page.Next
			}
			slices.SortStableFunc(found, func(x, y *ir.Incident) int { return y.Times.Opened.Compare(x.Times.Opened) })
			if len(found) > limit {
				found = found[:limit]
			}
			if a.json {
				if found == nil {
					found = []*ir.Incident{}
				}
				return a.printJSON(found)
			}
			if len(found) == 0 {
				fmt.Fprintln(a.stdout, "No incidents match.")
				return nil
			}
			w := a.table()
			row(w, "ID", "SEVERITY", "PHASE", "CATEGORY", "OPENED", "TITLE")
			for _, inc := range found {
				row(w, string(inc.ID), string(inc.Severity), string(inc.Phase), string(inc.Category), when(inc.Times.Opened), exerciseMark(inc)+inc.Title)
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&phaseNames, "phase", nil, "only incidents in this phase; repeat for several")
	f.StringSliceVar(&severities, "severity", nil, "only incidents of this severity; repeat for several")
	f.StringSliceVar(&categories, "category", nil, "only incidents of this category; repeat for several")
	f.StringSliceVar(&labels, "label", nil, "only incidents carrying this label; repeat to require several")
	f.BoolVar(&open, "open", false, "only open incidents")
	f.BoolVar(&closed, "closed", false, "only closed incidents")
	f.IntVar(&limit, "limit", 100, "show at most this many")
	_ = cmd.RegisterFlagCompletionFunc("severity", completeFixed(severityNames...))
	_ = cmd.RegisterFlagCompletionFunc("category", completeFixed(categoryNames...))
	return cmd
}

// showCommand: irctl show ID.
func (a *app) showCommand() *cobra.Command {
	var events int
	cmd := &cobra.Command{
		Use:               "show ID",
		Short:             "Show an incident and its timeline",
		Args:              exactArgs("ID"),
		ValidArgsFunction: a.completeIncidents(nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			inc, r, err := a.incident(ctx, args[0])
			if err != nil {
				return err
			}
			var timeline []ir.Event
			for q := (ir.TimelineQuery{NewestFirst: true, Limit: ir.MaxPageSize}); events <= 0 || len(timeline) < events; {
				page, err := r.Timeline(ctx, inc.ID, q)
				if err != nil {
					return err
				}
				timeline = append(timeline, page.Events...)
				if page.Next == 0 {
					break
				}
				q.From = page.Next
			}
			if events > 0 && len(timeline) > events {
				timeline = timeline[:events]
			}
			slices.Reverse(timeline)
			if a.json {
				if timeline == nil {
					timeline = []ir.Event{}
				}
				return a.printJSON(struct {
					Incident *ir.Incident `json:"incident"`
					Timeline []ir.Event   `json:"timeline"`
				}{inc, timeline})
			}
			a.printIncident(inc, r.Model())
			fmt.Fprintln(a.stdout, "\nTimeline:")
			w := a.table()
			for _, e := range timeline {
				row(w, "  "+itoa(int(e.Seq)), when(e.At), actorName(e.Actor), ir.Describe(r.Model(), e))
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVar(&events, "events", 0, "show only the latest N events of the timeline (default all)")
	return cmd
}

// printIncident prints an incident's record for people.
func (a *app) printIncident(inc *ir.Incident, m *phases.Model) {
	w := a.table()
	status := "open"
	if !inc.IsOpen() {
		status = "closed"
	}
	row(w, "ID:", string(inc.ID))
	row(w, "Title:", exerciseMark(inc)+inc.Title)
	if inc.Exercise {
		row(w, "Exercise:", "yes: a drill, not a real incident; left out of the metrics")
	}
	row(w, "Status:", fmt.Sprintf("%s, phase %s (%s, model %s)", status, inc.Phase, m.PhaseTitle(inc.Phase), inc.Model))
	row(w, "Severity:", fmt.Sprintf("%s, priority %s", inc.Severity, inc.Priority))
	row(w, "Category:", string(inc.Category))
	row(w, "TLP:", string(inc.TLP))
	if inc.Verdict != "" {
		row(w, "Verdict:", strings.TrimSuffix(string(inc.Verdict)+": "+inc.Resolution, ": "))
	}
	if len(inc.Labels) > 0 {
		row(w, "Labels:", strings.Join(inc.Labels, ", "))
	}
	row(w, "Opened:", when(inc.Times.Opened)+" by "+actorName(inc.OpenedBy))
	for _, ms := range []struct {
		name string
		at   string
	}{{"Acknowledged:", when(inc.Times.Acknowledged)}, {"Contained:", when(inc.Times.Contained)},
		{"Resolved:", when(inc.Times.Resolved)}, {"Closed:", when(inc.Times.Closed)}} {
		if ms.at != "-" {
			row(w, ms.name, ms.at)
		}
	}
	if inc.Summary != "" {
		row(w, "Summary:", inc.Summary)
	}
	for _, p := range inc.Participants {
		row(w, "Role:", fmt.Sprintf("%s: %s", p.Role, actorName(p.Actor)))
	}
	_ = w.Flush()
	if len(inc.Tasks) > 0 {
		fmt.Fprintln(a.stdout, "\nTasks:")
		w = a.table()
		for _, t := range inc.Tasks {
			state := "pending"
			if t.Done {
				state = "done"
			}
			req := ""
			if t.Required {
				req = "required"
			}
			row(w, "  "+itoa(t.ID), state, string(t.Phase), req, actorName(t.Assignee), t.Title)
		}
		_ = w.Flush()
	}
	if len(inc.Observables) > 0 {
		fmt.Fprintln(a.stdout, "\nObservables:")
		w = a.table()
		for _, o := range inc.Observables {
			mal := ""
			if o.Malicious {
				mal = "malicious"
			}
			row(w, "  "+string(o.Type), o.Value, mal, o.Description)
		}
		_ = w.Flush()
	}
	if len(inc.Evidence) > 0 {
		fmt.Fprintln(a.stdout, "\nEvidence:")
		w = a.table()
		for _, e := range inc.Evidence {
			row(w, "  "+e.Exhibit, e.Name, string(e.Kind), strconv.FormatInt(e.Size, 10)+" bytes", "sha256:"+e.SHA256)
		}
		_ = w.Flush()
	}
	if len(inc.Decisions) > 0 {
		fmt.Fprintln(a.stdout, "\nDecisions:")
		w = a.table()
		for _, d := range inc.Decisions {
			row(w, "  "+itoa(d.ID), d.Summary, "options: "+strings.Join(d.Options, " | "), "why: "+d.Rationale)
		}
		_ = w.Flush()
	}
	if rv := inc.Review; rv != nil {
		fmt.Fprintf(a.stdout, "\nReview (revision %d, %s by %s):\n", rv.Revision, when(rv.RecordedAt), actorName(rv.RecordedBy))
		w = a.table()
		row(w, "  Summary:", rv.Summary)
		row(w, "  Root cause:", rv.RootCause)
		for _, l := range []struct {
			name  string
			items []string
		}{{"Contributing:", rv.ContributingFactors}, {"Went well:", rv.WentWell}, {"Went poorly:", rv.WentPoorly}, {"Lessons:", rv.LessonsLearned}} {
			for _, it := range l.items {
				row(w, "  "+l.name, it)
			}
		}
		_ = w.Flush()
	}
	if len(inc.FollowUps) > 0 {
		fmt.Fprintln(a.stdout, "\nFollow-ups:")
		w = a.table()
		for _, f := range inc.FollowUps {
			state := "open"
			if f.Done {
				state = "done"
			}
			due := ""
			if !f.Due.IsZero() {
				due = "due " + f.Due.UTC().Format("2006-01-02")
			}
			row(w, "  "+itoa(f.ID), state, actorName(f.Owner), due, f.Reference, f.Title)
		}
		_ = w.Flush()
	}
}

// actionsCommand: irctl actions ID.
func (a *app) actionsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "actions ID",
		Short: "What the actor can do next to an incident, and why the rest is refused",
		Long: `actions lists the phase actions the incident's model offers from its current
phase, each allowed or refused with the reason (the guards that refuse it, or
the access policy), then whether it can be closed or reopened, and any other
change the actor may not make now.`,
		Args:              exactArgs("ID"),
		ValidArgsFunction: a.completeIncidents(nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			actor, err := a.actor()
			if err != nil {
				return err
			}
			inc, r, err := a.incident(ctx, args[0])
			if err != nil {
				return err
			}
			p, err := r.Allowed(ctx, actor, inc.ID)
			if err != nil {
				return change(string(inc.ID), err)
			}
			if a.json {
				type option struct {
					Action  string `json:"action"`
					Title   string `json:"title,omitempty"`
					To      string `json:"to,omitempty"`
					Allowed bool   `json:"allowed"`
					Reason  string `json:"reason,omitempty"`
				}
				var out struct {
					Incident string   `json:"incident"`
					Phase    string   `json:"phase"`
					Actor    ir.Actor `json:"actor"`
					Actions  []option `json:"actions"`
					Changes  []option `json:"changes"`
				}
				out.Incident, out.Phase, out.Actor = string(inc.ID), string(inc.Phase), actor
				out.Actions, out.Changes = []option{}, []option{}
				for _, o := range p.Actions {
					out.Actions = append(out.Actions, option{Action: string(o.Action), Title: o.Title, To: string(o.To), Allowed: o.Err == nil, Reason: refusal(o.Err)})
				}
				for _, c := range []struct {
					name string
					err  error
				}{{"close", p.Close}, {"reopen", p.Reopen}} {
					out.Changes = append(out.Changes, option{Action: c.name, Allowed: c.err == nil, Reason: refusal(c.err)})
				}
				for _, c := range p.Changes {
					name := string(c.Operation)
					if c.Role != "" {
						name += ":" + string(c.Role)
					}
					out.Changes = append(out.Changes, option{Action: name, Allowed: c.Err == nil, Reason: refusal(c.Err)})
				}
				return a.printJSON(out)
			}
			fmt.Fprintf(a.stdout, "%s is in %s (%s). As %s:\n\n", inc.ID, inc.Phase, r.Model().PhaseTitle(inc.Phase), actorName(actor))
			w := a.table()
			row(w, "ACTION", "TO", "STATE", "WHY NOT")
			for _, o := range p.Actions {
				state := "allowed"
				if o.Err != nil {
					state = "refused"
				}
				row(w, string(o.Action), string(o.To), state, refusal(o.Err))
			}
			for _, c := range []struct {
				name string
				err  error
			}{{"(close)", p.Close}, {"(reopen)", p.Reopen}} {
				state := "allowed"
				if c.err != nil {
					state = "refused"
				}
				row(w, c.name, "", state, refusal(c.err))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			var refused []string
			for _, c := range p.Changes {
				var invalid *ir.InvalidError
				if c.Err == nil || c.Operation == ir.OpUnassign && errors.As(c.Err, &invalid) {
					// Taking away a role no one holds is not worth a line.
					continue
				}
				name := string(c.Operation)
				if c.Role != "" {
					name += " " + string(c.Role)
				}
				refused = append(refused, fmt.Sprintf("  %s: %s", name, refusal(c.Err)))
			}
			if len(refused) > 0 {
				fmt.Fprintln(a.stdout, "\nOther changes refused:")
				fmt.Fprintln(a.stdout, strings.Join(refused, "\n"))
			}
			if len(p.Actions) > 0 {
				fmt.Fprintf(a.stdout, "\nRun one: irctl act %s ACTION --reason \"…\"\n", inc.ID)
			}
			return nil
		},
	}
}

// refusal says in a few words why err refuses something, without the
// layers' prefixes; empty for nil.
func refusal(err error) string {
	if err == nil {
		return ""
	}
	var guard *phases.GuardError
	if errors.As(err, &guard) {
		var reasons []string
		for _, r := range guard.Refusals {
			reasons = append(reasons, r.Reason.Error())
		}
		return strings.Join(reasons, "; ")
	}
	var transition *phases.TransitionError
	if errors.As(err, &transition) {
		return transition.Reason
	}
	var invalid *ir.InvalidError
	if errors.As(err, &invalid) {
		return invalid.Reason
	}
	return oneLine(err.Error())
}

// actCommand: irctl act ID ACTION --reason.
func (a *app) actCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "act ID ACTION",
		Short: "Take a phase action, such as contain or eradicate",
		Example: `  irctl act INC-20261206-0912-3fa2c identify --reason "three reports of the same e-mail"
  irctl act INC-20261206-0912-3fa2c return_to_containment --reason "the loader came back on FIN-LT-031"`,
		Args:              exactArgs("ID", "ACTION"),
		ValidArgsFunction: a.completeIncidents(completeActions),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			actor, err := a.actor()
			if err != nil {
				return err
			}
			inc, r, err := a.incident(ctx, args[0])
			if err != nil {
				return err
			}
			action := phases.Action(strings.ReplaceAll(strings.TrimSpace(args[1]), "-", "_"))
			id := string(inc.ID)
			inc, err = r.Transition(ctx, actor, inc.ID, action, reason)
			if err != nil {
				return change(id, err)
			}
			return a.printIncidentLine(inc, string(action))
		},
	}
	cmd.Flags().StringVarP(&reason, "reason", "r", "", "why, for the timeline")
	return cmd
}

// simpleChange builds a command that changes an incident and prints what
// the change left.
func (a *app) simpleChange(use, short, example string, args []string, next func(context.Context, *ir.Incident, []string, string) []string,
	do func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error)) *cobra.Command {
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Example:           example,
		Args:              exactArgs(args...),
		ValidArgsFunction: a.completeIncidents(next),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			actor, err := a.actor()
			if err != nil {
				return err
			}
			inc, r, err := a.incident(ctx, args[0])
			if err != nil {
				return err
			}
			id := string(inc.ID)
			inc, what, err := do(ctx, r, actor, inc, args[1:])
			if err != nil {
				return change(id, err)
			}
			return a.printIncidentLine(inc, what)
		},
	}
}

// severityCommand: irctl severity ID LEVEL.
func (a *app) severityCommand() *cobra.Command {
	var reason string
	cmd := a.simpleChange("severity ID LEVEL", "Change an incident's severity (low, medium, high, critical)",
		`  irctl severity INC-20261206-0912-3fa2c critical --reason "payroll data reached the attacker"`,
		[]string{"ID", "LEVEL"},
		func(_ context.Context, _ *ir.Incident, args []string, _ string) []string {
			if len(args) > 0 {
				return nil
			}
			return severityNames
		},
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			inc, err := r.SetSeverity(ctx, actor, inc.ID, ir.Severity(strings.ToLower(args[0])), reason)
			return inc, "severity set", err
		})
	cmd.Flags().StringVarP(&reason, "reason", "r", "", "why, for the timeline")
	return cmd
}

// verdictCommand: irctl verdict ID VERDICT.
func (a *app) verdictCommand() *cobra.Command {
	var resolution string
	cmd := a.simpleChange("verdict ID VERDICT", "Set the verdict: true_positive, false_positive or benign",
		`  irctl verdict INC-20261206-0912-3fa2c true_positive --resolution "account reset, mail purged, laptop reimaged"`,
		[]string{"ID", "VERDICT"},
		func(_ context.Context, _ *ir.Incident, args []string, _ string) []string {
			if len(args) > 0 {
				return nil
			}
			return verdictNames
		},
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			inc, err := r.SetVerdict(ctx, actor, inc.ID, ir.Verdict(strings.ReplaceAll(args[0], "-", "_")), resolution)
			return inc, "verdict set", err
		})
	cmd.Flags().StringVar(&resolution, "resolution", "", "how the incident was resolved, in words")
	return cmd
}

// assignCommand: irctl assign ID ROLE WHO.
func (a *app) assignCommand() *cobra.Command {
	var remove bool
	var reason string
	cmd := a.simpleChange("assign ID ROLE WHO", "Assign a role (commander, scribe, analyst…) to someone, or take it away with --remove",
		`  irctl assign INC-20261206-0912-3fa2c commander "alice:Alice Moreau"
  irctl assign INC-20261206-0912-3fa2c analyst raj --remove --reason "handed over to the night shift"`,
		[]string{"ID", "ROLE", "WHO"}, completeRoles,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			role, err := parseRole(args[0])
			if err != nil {
				return nil, "", err
			}
			who, err := parseActor(args[1])
			if err != nil {
				return nil, "", err
			}
			if remove {
				inc, err = r.Unassign(ctx, actor, inc.ID, role, who, reason)
				return inc, "unassigned " + string(role) + " " + who.ID, err
			}
			inc, err = r.Assign(ctx, actor, inc.ID, role, who)
			return inc, "assigned " + string(role) + " " + who.ID, err
		})
	cmd.Flags().BoolVar(&remove, "remove", false, "take the role away instead")
	cmd.Flags().StringVarP(&reason, "reason", "r", "", "why the role is taken away")
	return cmd
}

// taskCommand: irctl task add|done.
func (a *app) taskCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "task", Short: "Add a task to an incident, or mark one done"}
	var nt ir.NewTask
	var phase, assignee string
	add := a.simpleChange("add ID TITLE", "Add a task, to the current phase unless --phase says otherwise",
		`  irctl task add INC-20261206-0912-3fa2c "Reset the finance accounts" --required --assignee raj`,
		[]string{"ID", "TITLE"}, nil,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			nt.Title, nt.Phase = args[0], phases.Phase(phase)
			if assignee != "" {
				who, err := parseActor(assignee)
				if err != nil {
					return nil, "", err
				}
				nt.Assignee = who
			}
			inc, err := r.AddTask(ctx, actor, inc.ID, nt)
			if err != nil {
				return nil, "", err
			}
			return inc, "task " + itoa(inc.Tasks[len(inc.Tasks)-1].ID) + " added", nil
		})
	add.Flags().StringVar(&phase, "phase", "", "the phase the task belongs to (default the current one)")
	add.Flags().BoolVar(&nt.Required, "required", false, "the phase cannot be left until it is done")
	add.Flags().StringVar(&assignee, "assignee", "", "who is to do it: ID or ID:Name")
	var outcome string
	done := a.simpleChange("done ID TASK", "Mark a task done",
		`  irctl task done INC-20261206-0912-3fa2c 2 --outcome "all 14 accounts reset"`,
		[]string{"ID", "TASK"}, completeTasks,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return nil, "", &ir.InvalidError{Field: "task", Value: args[0], Reason: "must be a task number (see irctl show)"}
			}
			if _, ok := inc.Task(n); !ok {
				return nil, "", notFoundError{what: "task " + args[0] + " in " + string(inc.ID), hint: "see its tasks: irctl show " + string(inc.ID)}
			}
			inc, err = r.CompleteTask(ctx, actor, inc.ID, n, outcome)
			return inc, "task " + args[0] + " done", err
		})
	done.Flags().StringVar(&outcome, "outcome", "", "what came of it")
	cmd.AddCommand(add, done)
	return cmd
}

// observableCommand: irctl observable add ID TYPE VALUE.
func (a *app) observableCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "observable", Short: "Add an indicator: an address, a domain, a hash, an account"}
	var o ir.Observable
	add := a.simpleChange("add ID TYPE VALUE", "Add an observable (ip, domain, url, email, md5, sha1, sha256, host, account…)",
		`  irctl observable add INC-20261206-0912-3fa2c domain payroll-update.example --malicious --description "sender domain"`,
		[]string{"ID", "TYPE", "VALUE"},
		func(_ context.Context, _ *ir.Incident, args []string, _ string) []string {
			if len(args) > 0 {
				return nil
			}
			return observableNames
		},
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			o.Type, o.Value = ir.ObservableType(args[0]), args[1]
			inc, err := r.AddObservable(ctx, actor, inc.ID, o)
			return inc, "observable added", err
		})
	add.Flags().StringVar(&o.Description, "description", "", "what it is")
	add.Flags().BoolVar(&o.Malicious, "malicious", false, "known to be malicious")
	cmd.AddCommand(add)
	return cmd
}

// noteCommand: irctl note ID TEXT.
func (a *app) noteCommand() *cobra.Command {
	return a.simpleChange("note ID TEXT", "Add a note to the timeline",
		`  irctl note INC-20261206-0912-3fa2c "the attacker's mailbox rule forwarded 212 messages"`,
		[]string{"ID", "TEXT"}, nil,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			inc, err := r.AddNote(ctx, actor, inc.ID, args[0])
			return inc, "note added", err
		})
}

// updateCommand: irctl update ID TEXT --audience.
func (a *app) updateCommand() *cobra.Command {
	var audience string
	cmd := a.simpleChange("update ID TEXT", "Post a status update for an audience (responders, executives, legal, customers…)",
		`  irctl update INC-20261206-0912-3fa2c "Contained; no customer data involved so far." --audience executives`,
		[]string{"ID", "TEXT"}, nil,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			inc, err := r.PostStatus(ctx, actor, inc.ID, notify.Audience(audience), args[0])
			return inc, "status update posted for " + audience, err
		})
	cmd.Flags().StringVar(&audience, "audience", string(notify.AudienceResponders), "who the update is for")
	_ = cmd.RegisterFlagCompletionFunc("audience", completeFixed(audienceNames...))
	return cmd
}

// decideCommand: irctl decide ID SUMMARY.
func (a *app) decideCommand() *cobra.Command {
	var d ir.Decision
	cmd := a.simpleChange("decide ID SUMMARY", "Record a decision, with the options considered and why",
		`  irctl decide INC-20261206-0912-3fa2c "Reimage FIN-LT-023" --option "clean in place" --option reimage --rationale "the loader persists"`,
		[]string{"ID", "SUMMARY"}, nil,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			d.Summary = args[0]
			inc, err := r.Decide(ctx, actor, inc.ID, d)
			if err != nil {
				return nil, "", err
			}
			return inc, "decision " + itoa(inc.Decisions[len(inc.Decisions)-1].ID) + " recorded", nil
		})
	cmd.Flags().StringArrayVar(&d.Options, "option", nil, "an option considered; repeat for more")
	cmd.Flags().StringVar(&d.Rationale, "rationale", "", "why this one")
	return cmd
}

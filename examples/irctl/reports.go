package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/reviewreport"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// reportCommand: irctl report ID.
func (a *app) reportCommand() *cobra.Command {
	var format, out string
	var logOnly bool
	cmd := &cobra.Command{
		Use:   "report ID",
		Short: "Write the post-incident review document, in Markdown or self-contained HTML",
		Long: `report writes the incident's review document from its own records: summary,
impact, severity history, milestones and response times, the time in each
phase, decisions, tasks, observables, evidence with its custody verified, who
was notified of what and when, the review and its follow-ups, and the
timeline. The HTML page needs nothing else to show and prints well.`,
		Example: `  irctl report INC-20261206-0912-3fa2c > review.md
  irctl report INC-20261206-0912-3fa2c --format html -o review.html`,
		Args:              exactArgs("ID"),
		ValidArgsFunction: a.completeIncidents(nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var write func(io.Writer, reviewreport.Document) error
			switch strings.ToLower(format) {
			case "md", "markdown":
				write = reviewreport.Markdown
			case "html":
				write = reviewreport.HTML
			default:
				return usageError{fmt.Errorf("--format %q: use md or html", format)}
			}
			inc, r, err := a.incident(ctx, args[0])
			if err != nil {
				return err
			}
			doc, err := reviewreport.Gather(ctx, reviewreport.Sources{
				Responder: r, Locker: a.dir.Locker, LogOnly: logOnly, Deliveries: a.dir.Store,
			}, inc.ID)
			if err != nil {
				return change(string(inc.ID), err)
			}
			if err := a.writeFile(out, func(w io.Writer) error { return write(w, doc) }); err != nil {
				return err
			}
			if out != "-" {
				fmt.Fprintf(a.stdout, "Wrote the review document of %s to %s.\n", inc.ID, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "md", "md or html")
	cmd.Flags().StringVarP(&out, "output", "o", "-", "the file to write (default stdout)")
	cmd.Flags().BoolVar(&logOnly, "log-only", false, "verify the custody log without re-reading the evidence content")
	_ = cmd.RegisterFlagCompletionFunc("format", completeFixed("md", "html"))
	return cmd
}

// metricsCommand: irctl metrics.
func (a *app) metricsCommand() *cobra.Command {
	var severities, labels []string
	var open, closed, exercises bool
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Response times over incidents, per severity: mean, median and 90th percentile",
		Long: `metrics computes the time to detect (from occurrence), acknowledge, contain
and resolve (from detection) over the incidents selected, in all and per
severity, each as mean / median / 90th percentile; with --json, also the time
spent in each phase.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			d, err := a.open(ctx)
			if err != nil {
				return err
			}
			q := ir.Query{Labels: labels}
			for _, s := range severities {
				sev, err := ir.ParseSeverity(s)
				if err != nil {
					return err
				}
				q.Severities = append(q.Severities, sev)
			}
			switch {
			case open && closed:
				return usageError{fmt.Errorf("--open and --closed exclude each other")}
			case open:
				q.Status = ir.StatusOpen
			case closed:
				q.Status = ir.StatusClosed
			}
			m, err := d.Responder.MetricsWith(ctx, q, ir.MetricsOptions{Exercises: exercises})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(metricsJSON(m))
			}
			w := a.table()
			row(w, "SEVERITY", "INCIDENTS", "DETECT", "ACKNOWLEDGE", "CONTAIN", "RESOLVE")
			line := func(name string, rt ir.ResponseTimes) {
				row(w, name, strconv.Itoa(rt.Incidents), stats(rt.TimeToDetect), stats(rt.TimeToAcknowledge), stats(rt.TimeToContain), stats(rt.TimeToResolve))
			}
			line("all", m.All)
			sevs := ir.Severities()
			slices.Reverse(sevs)
			for _, s := range sevs {
				if rt, ok := m.BySeverity[s]; ok && rt.Incidents > 0 {
					line(string(s), rt)
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "\nEach time is mean / median / 90th percentile, over the incidents that reached both moments.")
			if m.Exercises > 0 && !exercises {
				fmt.Fprintf(a.stdout, "%d exercises left out (count them with --exercises).\n", m.Exercises)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&severities, "severity", nil, "only incidents of this severity; repeat for several")
	f.StringSliceVar(&labels, "label", nil, "only incidents carrying this label; repeat to require several")
	f.BoolVar(&open, "open", false, "only open incidents")
	f.BoolVar(&closed, "closed", false, "only closed incidents")
	f.BoolVar(&exercises, "exercises", false, "count incidents opened as exercises too")
	_ = cmd.RegisterFlagCompletionFunc("severity", completeFixed(severityNames...))
	return cmd
}

// stats shows a measure as mean / median / p90.
func stats(s ir.Stats) string {
	if s.Count == 0 {
		return "-"
	}
	return duration(s.Mean) + " / " + duration(s.Median) + " / " + duration(s.P90)
}

// statsJSON is a measure for scripts, in seconds.
type statsJSON struct {
	Count         int     `json:"count"`
	MeanSeconds   float64 `json:"mean_seconds"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
}

// responseJSON is a set of response times for scripts.
type responseJSON struct {
	Incidents   int                  `json:"incidents"`
	Detect      statsJSON            `json:"time_to_detect"`
	Acknowledge statsJSON            `json:"time_to_acknowledge"`
	Contain     statsJSON            `json:"time_to_contain"`
	Resolve     statsJSON            `json:"time_to_resolve"`
	InPhase     map[string]statsJSON `json:"time_in_phase,omitempty"`
}

// metricsJSON shapes m for scripts.
func metricsJSON(m ir.Metrics) any {
	conv := func(s ir.Stats) statsJSON {
		return statsJSON{s.Count, s.Mean.Seconds(), s.Median.Seconds(), s.P90.Seconds()}
	}
	resp := func(rt ir.ResponseTimes) responseJSON {
		out := responseJSON{Incidents: rt.Incidents, Detect: conv(rt.TimeToDetect), Acknowledge: conv(rt.TimeToAcknowledge),
			Contain: conv(rt.TimeToContain), Resolve: conv(rt.TimeToResolve)}
		if len(rt.TimeInPhase) > 0 {
			out.InPhase = map[string]statsJSON{}
			for p, s := range rt.TimeInPhase {
				out.InPhase[string(p)] = conv(s)
			}
		}
		return out
	}
	by := map[string]responseJSON{}
	for s, rt := range m.BySeverity {
		by[string(s)] = resp(rt)
	}
	return struct {
		All        responseJSON            `json:"all"`
		BySeverity map[string]responseJSON `json:"by_severity"`
		Exercises  int                     `json:"exercises"`
	}{resp(m.All), by, m.Exercises}
}

// deliveriesCommand: irctl deliveries [ID] | --dead | replay.
func (a *app) deliveriesCommand() *cobra.Command {
	var dead bool
	var channel string
	cmd := &cobra.Command{
		Use:   "deliveries [ID]",
		Short: "The record of communication: who was notified of what, and when; dead deliveries",
		Long: `deliveries lists every delivery of an incident's notifications, to each
channel, with its state (delivered, pending, dead, or held back: by TLP, or an
exercise its route does not take), its attempts and the peer's receipt or the
last error. With --dead it lists the deliveries given up on, of every incident
(or of one --channel); replay them with "irctl deliveries replay" once the
channel is fixed, and the dispatcher delivers them again.`,
		Example: `  irctl deliveries INC-20261206-0912-3fa2c
  irctl deliveries --dead --channel soar
  irctl deliveries replay --channel soar`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var list []notify.Delivery
			switch {
			case dead && len(args) > 0:
				return usageError{fmt.Errorf("--dead lists every incident's dead deliveries: give no ID")}
			case dead:
				d, err := a.open(ctx)
				if err != nil {
					return err
				}
				if list, err = d.Store.DeadDeliveries(ctx, channel, notify.MaxClaim); err != nil {
					return err
				}
			case len(args) == 1:
				inc, _, err := a.incident(ctx, args[0])
				if err != nil {
					return err
				}
				if list, err = a.dir.Store.IncidentDeliveries(ctx, string(inc.ID)); err != nil {
					return err
				}
				if channel != "" {
					list = slices.DeleteFunc(list, func(d notify.Delivery) bool { return d.Channel != channel })
				}
			default:
				return usageError{fmt.Errorf("name an incident (irctl deliveries ID), or list the dead ones (irctl deliveries --dead)")}
			}
			return a.printDeliveries(list)
		},
	}
	cmd.Flags().BoolVar(&dead, "dead", false, "list the dead deliveries of every incident")
	cmd.Flags().StringVar(&channel, "channel", "", "only deliveries to this channel")

	var replayChannel string
	replay := &cobra.Command{
		Use:   "replay [DELIVERY]",
		Short: "Make a dead delivery, or every dead delivery to --channel, pending again",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if (len(args) == 1) == (replayChannel != "") {
				return usageError{fmt.Errorf("give either a delivery ID or --channel")}
			}
			d, err := a.open(ctx)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				id, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil || id < 1 {
					return usageError{fmt.Errorf("delivery %q: must be a delivery number (see irctl deliveries --dead)", args[0])}
				}
				if err := d.Store.Replay(ctx, id); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"replayed": []int64{id}})
				}
				fmt.Fprintf(a.stdout, "Delivery %d is pending again; the dispatcher delivers it next.\n", id)
				return nil
			}
			// As notify.Dispatcher.ReplayChannel does, on the store.
			var replayed []int64
			for {
				list, err := d.Store.DeadDeliveries(ctx, replayChannel, notify.MaxClaim)
				if err != nil {
					return err
				}
				if len(list) == 0 {
					break
				}
				for _, dl := range list {
					if err := d.Store.Replay(ctx, dl.ID); err != nil && !isConflict(err) {
						return err
					}
					replayed = append(replayed, dl.ID)
				}
			}
			if a.json {
				if replayed == nil {
					replayed = []int64{}
				}
				return a.printJSON(map[string]any{"replayed": replayed})
			}
			fmt.Fprintf(a.stdout, "%d dead deliveries to %s are pending again.\n", len(replayed), replayChannel)
			return nil
		},
	}
	replay.Flags().StringVar(&replayChannel, "channel", "", "replay every dead delivery to this channel")
	cmd.AddCommand(replay)
	return cmd
}

// printDeliveries prints deliveries as a table or JSON.
func (a *app) printDeliveries(list []notify.Delivery) error {
	if a.json {
		type deliveryJSON struct {
			ID        int64           `json:"id"`
			Incident  string          `json:"incident"`
			Type      string          `json:"type"`
			Channel   string          `json:"channel"`
			Route     string          `json:"route,omitempty"`
			Audience  string          `json:"audience,omitempty"`
			Status    string          `json:"status"`
			Attempts  int             `json:"attempts"`
			CreatedAt string          `json:"created_at"`
			UpdatedAt string          `json:"updated_at"`
			LastError string          `json:"last_error,omitempty"`
			Receipt   *notify.Receipt `json:"receipt,omitempty"`
		}
		out := []deliveryJSON{}
		for _, d := range list {
			j := deliveryJSON{ID: d.ID, Incident: d.Incident, Type: d.Type, Channel: d.Channel, Route: d.Route,
				Audience: string(d.Audience), Status: string(d.Status), Attempts: d.Attempts,
				CreatedAt: d.CreatedAt.UTC().Format("2006-01-02T15:04:05.999999999Z"),
				UpdatedAt: d.UpdatedAt.UTC().Format("2006-01-02T15:04:05.999999999Z"), LastError: d.LastError}
			if d.Receipt != (notify.Receipt{}) {
				j.Receipt = &d.Receipt
			}
			out = append(out, j)
		}
		return a.printJSON(out)
	}
	if len(list) == 0 {
		fmt.Fprintln(a.stdout, "No deliveries.")
		return nil
	}
	w := a.table()
	row(w, "ID", "INCIDENT", "WRITTEN", "EVENT", "CHANNEL", "AUDIENCE", "STATUS", "ATTEMPTS", "UPDATED", "RECEIPT OR ERROR")
	for _, d := range list {
		detail := d.Receipt.String()
		if d.Status != notify.StatusDelivered {
			detail = d.LastError
		}
		row(w, strconv.FormatInt(d.ID, 10), d.Incident, when(d.CreatedAt), d.Type, d.Channel, string(d.Audience),
			string(d.Status), strconv.Itoa(d.Attempts), when(d.UpdatedAt), detail)
	}
	return w.Flush()
}

// diagramCommand: irctl diagram [ID].
func (a *app) diagramCommand() *cobra.Command {
	var model string
	cmd := &cobra.Command{
		Use:   "diagram [ID]",
		Short: "Print the phase model as a Mermaid state diagram (an incident's, or --model's)",
		Example: `  irctl diagram --model nist-800-61r2
  irctl diagram INC-20261206-0912-3fa2c > process.mmd`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, ok := phases.Lookup(model)
			if !ok {
				return usageError{fmt.Errorf("--model %q is not a built-in model (list them: irctl models)", model)}
			}
			if len(args) == 1 {
				_, r, err := a.incident(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				m = r.Model()
			}
			if a.json {
				return a.printJSON(map[string]string{"model": m.Name(), "mermaid": m.Mermaid()})
			}
			_, err := io.WriteString(a.stdout, m.Mermaid())
			return err
		},
	}
	cmd.Flags().StringVar(&model, "model", phases.SANS.Name(), "the built-in model to draw (see irctl models)")
	_ = cmd.RegisterFlagCompletionFunc("model", completeFixed(modelNames()...))
	return cmd
}

// modelsCommand: irctl models.
func (a *app) modelsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "models",
		Short: "List the built-in phase models, their phases and actions",
		RunE: func(*cobra.Command, []string) error {
			if a.json {
				var out []json.RawMessage
				for _, m := range phases.Builtin() {
					b, err := m.MarshalJSON()
					if err != nil {
						return err
					}
					out = append(out, b)
				}
				return a.printJSON(out)
			}
			w := a.table()
			row(w, "NAME", "TITLE", "PHASES")
			for _, m := range phases.Builtin() {
				var ps []string
				for _, p := range m.Phases() {
					ps = append(ps, string(p.Name))
				}
				row(w, m.Name(), m.Title(), strings.Join(ps, " → "))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "\nNew incidents follow %s unless irctl open --model says otherwise; irctl diagram --model NAME draws one.\n", phases.SANS.Name())
			return nil
		},
	}
}

// isConflict reports a delivery that stopped being dead meanwhile.
func isConflict(err error) bool { return errors.Is(err, notify.ErrConflict) }

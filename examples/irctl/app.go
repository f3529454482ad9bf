package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
)

// Environment variables that give the defaults of --data and --actor.
const (
	envData  = "INCIDENTKIT_DATA"
	envActor = "INCIDENTKIT_ACTOR"
)

// defaultData is the data directory when neither --data nor
// INCIDENTKIT_DATA names one: the quickstart's.
const defaultData = "./incidentkit-data"

// app holds what the commands share: the global flags, the data directory
// once opened, and the Responders made for models other than the default.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	data    string
	actorID string
	json    bool
	// ran is set once a command starts running, past cobra's checks of
	// the command line.
	ran bool

	dir        *sqlite.Dir
	responders map[string]*ir.Responder
}

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "irctl",
		Short: "Run security incidents from the command line",
		Long: `irctl runs security incidents kept in an incidentkit data directory: it opens
them, moves them through their phase model, records tasks, indicators, notes,
decisions, evidence with its chain of custody and the post-incident review, and
writes the review document and custody bundles.

The data directory is --data, or $` + envData + `, or ` + defaultData + `.
The actor recorded for every change is --actor, or $` + envActor + `, or the
user running irctl: an ID, optionally with a display name ("alice:Alice Moreau").

Exit status:
  0  success
  1  any other failure (the data directory cannot be opened, a file cannot be written)
  2  invalid input: a bad flag, argument or value
  3  not found: no such incident, evidence item or delivery
  4  refused: a guard of the phase model or the access policy does not allow it
  5  conflict: someone else changed it at the same time; try again
  6  tampering detected: the chain of custody or the evidence does not verify`,
		Example: `  irctl open "Credential phishing against finance" --severity high --category phishing
  irctl list --open
  irctl actions INC-20261206-0912-3fa2c
  irctl assign INC-20261206-0912-3fa2c commander "alice:Alice Moreau"
  irctl act INC-20261206-0912-3fa2c contain --reason "one account compromised"`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	data := os.Getenv(envData)
	if data == "" {
		data = defaultData
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.data, "data", data, "data directory (env "+envData+")")
	pf.StringVar(&a.actorID, "actor", os.Getenv(envActor), "who acts: ID or ID:Name (env "+envActor+"; default the current user)")
	pf.BoolVar(&a.json, "json", false, "print JSON for scripts instead of tables")
	_ = root.RegisterFlagCompletionFunc("data", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	})
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{err}
	})

	root.AddGroup(
		&cobra.Group{ID: "incidents", Title: "Incidents:"},
		&cobra.Group{ID: "changes", Title: "Working on an incident:"},
		&cobra.Group{ID: "review", Title: "Closing and the review:"},
		&cobra.Group{ID: "evidence", Title: "Evidence and custody:"},
		&cobra.Group{ID: "reports", Title: "Reports, notifications and models:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("incidents", a.openCommand(), a.listCommand(), a.showCommand(), a.actionsCommand())
	add("changes", a.actCommand(), a.severityCommand(), a.verdictCommand(), a.assignCommand(), a.taskCommand(),
		a.observableCommand(), a.noteCommand(), a.updateCommand(), a.decideCommand())
	add("review", a.reviewCommand(), a.followUpCommand(), a.closeCommand(), a.reopenCommand())
	add("evidence", a.evidenceCommand(), a.custodyCommand(), a.verifyCommand(), a.exportCommand())
	add("reports", a.reportCommand(), a.metricsCommand(), a.deliveriesCommand(), a.diagramCommand(), a.modelsCommand())
	for _, c := range root.Commands() {
		if c.Args == nil {
			c.Args = cobra.NoArgs
		}
	}
	a.markRuns(root)
	return root
}

// markRuns makes every command under c set a.ran when it starts running,
// once cobra has checked its arguments and flags.
func (a *app) markRuns(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			a.ran = true
			return run(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		a.markRuns(sub)
	}
}

// open opens the data directory, once.
func (a *app) open(ctx context.Context) (*sqlite.Dir, error) {
	if a.dir != nil {
		return a.dir, nil
	}
	d, err := sqlite.OpenDir(ctx, a.data, sqlite.DirConfig{
		KeyName: "custody.irctl",
		Responder: ir.Config{
			Model: phases.SANS,
			IDs:   ir.IDGeneratorFunc(newID),
			// Every change leaves a notification in the store's outbox,
			// for a dispatcher running on the same directory (as the
			// quickstart's does) to deliver.
			Outbox: true,
		},
	})
	if err != nil {
		return nil, dataDirError{path: a.data, err: err}
	}
	a.dir = d
	return d, nil
}

// close shuts down the Responders made for other models and closes the
// data directory.
func (a *app) close(ctx context.Context) error {
	var errs []error
	for _, r := range a.responders {
		errs = append(errs, r.Shutdown(ctx))
	}
	a.responders = nil
	if a.dir != nil {
		errs = append(errs, a.dir.Close(ctx))
		a.dir = nil
	}
	return errors.Join(errs...)
}

// responder returns a Responder for incidents of model m: the data
// directory's own for SANS PICERL, and one made on the same store, locker
// and outbox for the other models.
func (a *app) responder(ctx context.Context, m *phases.Model) (*ir.Responder, error) {
	d, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	if m == nil || m.Name() == d.Responder.Model().Name() {
		return d.Responder, nil
	}
	if r, ok := a.responders[m.Name()]; ok {
		return r, nil
	}
	r, err := ir.NewResponder(ir.Config{
		Store: d.Store, Model: m, IDs: ir.IDGeneratorFunc(newID),
		Evidence: d.Locker, AtomicCustody: true, Outbox: true,
	})
	if err != nil {
		return nil, err
	}
	if a.responders == nil {
		a.responders = map[string]*ir.Responder{}
	}
	a.responders[m.Name()] = r
	return r, nil
}

// incident reads incident id and returns it with the Responder of its
// model.
func (a *app) incident(ctx context.Context, id string) (*ir.Incident, *ir.Responder, error) {
	d, err := a.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	inc, err := d.Store.Get(ctx, ir.ID(id))
	if errors.Is(err, ir.ErrNotFound) {
		inc, err = a.shortID(ctx, id)
	}
	if err != nil {
		return nil, nil, err
	}
	m, ok := phases.Lookup(inc.Model)
	if !ok {
		return nil, nil, fmt.Errorf("incident %s follows the phase model %q, which is not built in", id, inc.Model)
	}
	r, err := a.responder(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	return inc, r, nil
}

// shortID finds the one incident whose ID ends with "-" and short, such as
// the random part of an ID irctl made ("3fa2c"), as people say it.
func (a *app) shortID(ctx context.Context, short string) (*ir.Incident, error) {
	notFound := notFoundError{what: "incident " + short, hint: "list them: irctl list"}
	if short == "" || strings.Contains(short, "-") {
		return nil, notFound
	}
	var found []*ir.Incident
	for q := (ir.Query{Limit: ir.MaxPageSize}); ; {
		page, err := a.dir.Store.List(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, inc := range page.Incidents {
			if strings.HasSuffix(string(inc.ID), "-"+short) {
				found = append(found, inc)
			}
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	switch len(found) {
	case 0:
		return nil, notFound
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, inc := range found {
		ids[i] = string(inc.ID)
	}
	return nil, usageError{fmt.Errorf("%s names %d incidents: %s; give the whole ID", short, len(found), strings.Join(ids, ", "))}
}

// actor returns the actor of changes: --actor, $INCIDENTKIT_ACTOR, or the
// user running the program.
func (a *app) actor() (ir.Actor, error) {
	s := strings.TrimSpace(a.actorID)
	if s == "" {
		u, err := user.Current()
		if err != nil || u.Username == "" {
			return ir.Actor{}, usageError{errors.New("no actor: pass --actor ID[:Name] or set " + envActor)}
		}
		return ir.Actor{ID: u.Username, Name: u.Name, Kind: ir.ActorHuman}, nil
	}
	act, err := parseActor(s)
	if err != nil {
		return ir.Actor{}, fmt.Errorf("--actor: %w", err)
	}
	return act, nil
}

// parseActor reads "id" or "id:Name".
func parseActor(s string) (ir.Actor, error) {
	id, name, _ := strings.Cut(strings.TrimSpace(s), ":")
	id, name = strings.TrimSpace(id), strings.TrimSpace(name)
	if id == "" {
		return ir.Actor{}, &ir.InvalidError{Field: "actor", Value: s, Reason: "must be an ID, optionally followed by :Name"}
	}
	return ir.Actor{ID: id, Name: name, Kind: ir.ActorHuman}, nil
}

// newID makes an incident ID that people can read, say and type, and that
// sorts by opening time: INC-YYYYMMDD-HHMM- followed by five random hex
// digits, so that incidents opened in the same minute differ.
func newID() ir.ID {
	var b [3]byte
	_, _ = rand.Read(b[:])
	now := time.Now().UTC()
	return ir.ID(fmt.Sprintf("INC-%s-%05x", now.Format("20060102-1504"), (int(b[0])<<16|int(b[1])<<8|int(b[2]))&0xfffff))
}

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table starts an aligned table on stdout; call Flush when done.
func (a *app) table() *tabwriter.Writer {
	return tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
}

// row writes one row of a table, with empty cells shown as a dash.
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		c = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
		if c == "" {
			c = "-"
		}
		cells[i] = c
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// when formats a time for people, in UTC, or a dash for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// duration formats a duration for people, in days, hours, minutes and
// seconds, leaving out the units that are zero: "3d8h19m", "49m", "12s".
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "-"
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}

// parseTime reads a time given on the command line: RFC 3339, or
// "YYYY-MM-DD HH:MM" in UTC.
func parseTime(field, s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &ir.InvalidError{Field: field, Value: s, Reason: "must be a time such as 2026-03-02T07:52:00Z or \"2026-03-02 07:52\" (UTC)"}
}

// actorName shows an actor as "Name (id)", or its ID alone.
func actorName(act ir.Actor) string {
	switch {
	case act.ID == "":
		return ""
	case act.Name == "":
		return act.ID
	default:
		return act.Name + " (" + act.ID + ")"
	}
}

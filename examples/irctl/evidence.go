package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/ocsf"
	"github.com/incidentkit/incidentkit/ir/stix"
)

// party turns an actor into a party to the chain of custody.
func party(a ir.Actor) evidence.Party { return evidence.Party{ID: a.ID, Name: a.Name} }

// evidenceCommand: irctl evidence add.
func (a *app) evidenceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Take evidence into the locker, with its chain of custody"}
	var c evidence.Collection
	var kind, host, path string
	var allDigests bool
	add := &cobra.Command{
		Use:   "add ID FILE",
		Short: "Stream a file (or - for stdin) into the evidence locker and record its collection",
		Long: `evidence add streams FILE into the evidence locker of the data directory,
hashing it (SHA-256, and SHA-1 and MD5 with --all-digests) as it is stored,
and records its collection in the case's chain of custody and on the
incident's timeline, in one transaction. A progress bar shows on stderr when
stderr is a terminal.`,
		Example: `  irctl evidence add INC-20261206-0912-3fa2c FIN-LT-023-memory.raw --kind memory_dump --host FIN-LT-023 \
    --reason "memory before isolation" --tool "WinPmem 4.0.rc2" --location "Evidence locker A"`,
		Args: exactArgs("ID", "FILE"),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 1 {
				return nil, cobra.ShellCompDirectiveDefault
			}
			return a.completeIncidents(nil)(cmd, args, prefix)
		},
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
			var content io.Reader = a.stdin
			size := int64(-1)
			if args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return usageError{fmt.Errorf("cannot read the evidence: %w", err)}
				}
				defer f.Close()
				if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
					size = fi.Size()
				}
				content = f
				if c.Name == "" {
					c.Name = filepath.Base(args[1])
				}
				if path == "" {
					if abs, err := filepath.Abs(args[1]); err == nil {
						path = abs
					}
				}
			}
			if c.Name == "" {
				return usageError{errors.New("evidence read from stdin needs --name")}
			}
			c.Kind = evidence.Kind(kind)
			c.Source = evidence.Source{Host: host, Path: path}
			c.CollectedBy = party(actor)
			c.SHA1, c.MD5 = allDigests, allDigests
			c.Content = content
			if bar := a.progressBar(size, c.Name); bar != nil {
				c.Progress = func(read int64) { _ = bar.Set64(read) }
				defer func() { _ = bar.Finish() }()
			}
			item, err := r.CollectEvidence(ctx, actor, inc.ID, c)
			if err != nil {
				return change(string(inc.ID), err)
			}
			if a.json {
				return a.printJSON(item)
			}
			fmt.Fprintf(a.stdout, "%s %s collected into %s: %s, %d bytes, sha256:%s\n",
				item.Exhibit, item.ID, inc.ID, oneLine(item.Name), item.Size, item.Digests.SHA256)
			return nil
		},
	}
	f := add.Flags()
	f.StringVar(&c.Name, "name", "", "the item's name (default the file's base name)")
	f.StringVar(&kind, "kind", string(evidence.KindFile), "what it is: "+strings.Join(kindNames, ", "))
	f.StringVar(&host, "host", "", "the machine it was taken from")
	f.StringVar(&path, "source-path", "", "its path on that machine (default the file's absolute path)")
	f.StringVar(&c.Location, "location", "", "where the original is kept")
	f.StringVar(&c.Reason, "reason", "", "why it was collected")
	f.StringVar(&c.Tool, "tool", "", "the tool that acquired it, with its version")
	f.StringVar(&c.Authority, "authority", "", "on whose authority")
	f.StringVar(&c.Notes, "notes", "", "anything else")
	f.StringSliceVar(&c.Labels, "label", nil, "a label; repeat for more")
	f.BoolVar(&allDigests, "all-digests", false, "also compute SHA-1 and MD5")
	_ = add.RegisterFlagCompletionFunc("kind", completeFixed(kindNames...))
	cmd.AddCommand(add)
	return cmd
}

// progressBar returns a progress bar on stderr for content of size bytes
// (-1 if unknown), or nil when stderr is not a terminal.
func (a *app) progressBar(size int64, name string) *progressbar.ProgressBar {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)
}

// item finds an evidence item of inc by its exhibit number or item ID.
func item(inc *ir.Incident, ref string) (ir.EvidenceRef, error) {
	for _, e := range inc.Evidence {
		if strings.EqualFold(e.Exhibit, ref) || string(e.Item) == ref {
			return e, nil
		}
	}
	return ir.EvidenceRef{}, notFoundError{what: fmt.Sprintf("evidence item %s in %s", ref, inc.ID),
		hint: "see its exhibits: irctl show " + string(inc.ID)}
}

// custodyCommand: irctl custody ID ITEM.
func (a *app) custodyCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "custody ID ITEM",
		Short:             "Show an evidence item's chain of custody (ITEM: its exhibit, such as EX-001, or its ID)",
		Args:              exactArgs("ID", "ITEM"),
		ValidArgsFunction: a.completeIncidents(completeEvidence),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			inc, _, err := a.incident(ctx, args[0])
			if err != nil {
				return err
			}
			ref, err := item(inc, args[1])
			if err != nil {
				return err
			}
			history, err := a.dir.Ledger.History(ctx, inc.ID.Case(), ref.Item)
			if err != nil {
				return change(string(inc.ID), err)
			}
			if a.json {
				return a.printJSON(struct {
					Item    ir.EvidenceRef    `json:"item"`
					History []evidence.Record `json:"history"`
				}{ref, history})
			}
			fmt.Fprintf(a.stdout, "%s %s (%s, %d bytes, sha256:%s)\n\n", ref.Exhibit, oneLine(ref.Name), ref.Kind, ref.Size, ref.SHA256)
			w := a.table()
			row(w, "#", "AT", "ACTION", "BY", "DETAILS")
			for _, r := range history {
				var details []string
				if !r.From.IsZero() || !r.To.IsZero() {
					details = append(details, "from "+r.From.String()+" to "+r.To.String())
				}
				for _, d := range []struct{ k, v string }{{"authority", r.Authority}, {"at", r.Location}, {"reason", r.Reason}, {"tool", r.Tool}, {"notes", r.Notes}} {
					if d.v != "" {
						details = append(details, d.k+": "+d.v)
					}
				}
				row(w, fmt.Sprint(r.Index), when(r.At), string(r.Action), r.Actor.String(), strings.Join(details, "; "))
			}
			return w.Flush()
		},
	}
}

// verifyCommand: irctl verify ID.
func (a *app) verifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify ID",
		Short: "Verify an incident's whole chain of custody and re-hash its evidence (exit 6 on tampering)",
		Long: `verify checks the case of an incident completely: every custody record, the
Merkle tree and the signed checkpoints, the witness's latest checkpoint, and
every evidence item's content, re-hashed from the locker and compared with the
digest recorded at collection. It lists every problem found and exits with
status 6 if there is any.`,
		Args:              exactArgs("ID"),
		ValidArgsFunction: a.completeIncidents(nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			inc, _, err := a.incident(ctx, args[0])
			if err != nil {
				return err
			}
			rep, err := a.dir.Locker.Verify(ctx, inc.ID.Case())
			if errors.Is(err, evidence.ErrNotFound) && len(inc.Evidence) == 0 {
				if a.json {
					return a.printJSON(map[string]any{"case": inc.ID, "ok": true, "records": 0, "items": 0})
				}
				fmt.Fprintf(a.stdout, "%s holds no evidence: nothing to verify.\n", inc.ID)
				return nil
			}
			if err != nil {
				return change(string(inc.ID), err)
			}
			problems := make([]string, 0, len(rep.Problems))
			for _, p := range rep.Problems {
				problems = append(problems, oneLine(p.Error()))
			}
			if a.json {
				if err := a.printJSON(map[string]any{
					"case": inc.ID, "ok": rep.OK(), "records": rep.Size, "root": rep.Root.String(),
					"items": rep.Items, "checkpoints": rep.Checkpoints, "problems": problems, "omitted": rep.Omitted,
				}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.stdout, "%s: %d custody record(s), %d item(s), %d checkpoint(s), root %s\n",
					inc.ID, rep.Size, rep.Items, rep.Checkpoints, rep.Root)
				if rep.OK() {
					fmt.Fprintln(a.stdout, "VERIFIED: the chain of custody and every item's content are intact.")
				} else {
					fmt.Fprintf(a.stdout, "FAILED: %d problem(s):\n", rep.ProblemCount())
					for _, p := range problems {
						fmt.Fprintln(a.stdout, "  "+p)
					}
					if rep.Omitted > 0 {
						fmt.Fprintf(a.stdout, "  … and %d more\n", rep.Omitted)
					}
				}
			}
			if !rep.OK() {
				return tamperedError{id: string(inc.ID), problems: rep.ProblemCount()}
			}
			return nil
		},
	}
}

// exportCommand: irctl export ID -o FILE [--format custody|ocsf|stix].
func (a *app) exportCommand() *cobra.Command {
	var out, format string
	var content bool
	cmd := &cobra.Command{
		Use:   "export ID",
		Short: "Export an incident: its chain of custody as a bundle, or the incident as OCSF or STIX",
		Long: `export signs a checkpoint of the case's custody log and writes the case as a
custody bundle (a deterministic tar file), with the evidence content if
--content is given. An independent party checks it offline with
examples/custody-verify, against the verifier key export prints.

With --format ocsf it writes the incident as an OCSF 1.8.0 Incident Finding,
with --format stix as a STIX 2.1 bundle, both JSON, for SIEMs and threat
intelligence platforms.`,
		Example: `  irctl export INC-20261206-0912-3fa2c -o INC-20261206-0912-3fa2c.tar --content
  irctl export INC-20261206-0912-3fa2c --format stix -o -`,
		Args:              exactArgs("ID"),
		ValidArgsFunction: a.completeIncidents(nil),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			ctx := cmd.Context()
			format = strings.ToLower(format)
			switch format {
			case "custody":
			case "ocsf", "stix":
				if content {
					return usageError{fmt.Errorf("--content goes with --format custody only")}
				}
			default:
				return usageError{fmt.Errorf("--format %q: use custody, ocsf or stix", format)}
			}
			inc, _, err := a.incident(ctx, args[0])
			if err != nil {
				return err
			}
			if format != "custody" {
				return a.exportRecord(inc, format, out)
			}
			if len(inc.Evidence) == 0 {
				return notFoundError{what: "evidence in " + string(inc.ID) + " to export", hint: "collect some: irctl evidence add " + string(inc.ID) + " FILE"}
			}
			if out == "" {
				out = string(inc.ID) + ".tar"
			}
			if err := a.writeFile(out, func(w io.Writer) error {
				return bundle.Export(ctx, w, a.dir.Ledger, a.dir.Blobs, inc.ID.Case(), bundle.Options{IncludeBlobs: content, Checkpoint: true})
			}); err != nil {
				return change(string(inc.ID), err)
			}
			if a.json {
				return a.printJSON(map[string]any{"case": inc.ID, "file": out, "content": content, "verifier_key": a.dir.VerifierKey})
			}
			fmt.Fprintf(a.stdout, "Wrote the custody bundle of %s to %s.\nVerify it with: go run ./examples/custody-verify -key '%s' %s\n",
				inc.ID, out, a.dir.VerifierKey, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write, - for standard output (default ID.tar, ID.ocsf.json or ID.stix.json)")
	cmd.Flags().BoolVar(&content, "content", false, "include the evidence content in the custody bundle")
	cmd.Flags().StringVarP(&format, "format", "f", "custody", "custody, ocsf or stix")
	_ = cmd.RegisterFlagCompletionFunc("format", completeFixed("custody", "ocsf", "stix"))
	return cmd
}

// exportRecord writes inc as an OCSF Incident Finding or a STIX bundle.
func (a *app) exportRecord(inc *ir.Incident, format, out string) error {
	var data []byte
	var err error
	what := "OCSF Incident Finding"
	if format == "ocsf" {
		data, err = ocsf.Marshal(inc, ocsf.Options{})
	} else {
		what = "STIX bundle"
		data, err = stix.Marshal(inc, stix.Options{})
	}
	if err != nil {
		return err
	}
	if out == "" {
		out = string(inc.ID) + "." + format + ".json"
	}
	if err := a.writeFile(out, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return err
	}
	if out == "-" {
		return nil
	}
	if a.json {
		return a.printJSON(map[string]any{"incident": inc.ID, "format": format, "file": out})
	}
	fmt.Fprintf(a.stdout, "Wrote the %s of %s to %s.\n", what, inc.ID, out)
	return nil
}

// writeFile writes path through write, atomically: into a temporary file
// in the same directory, renamed over path only once write succeeded. "-"
// writes to stdout.
func (a *app) writeFile(path string, write func(io.Writer) error) (err error) {
	if path == "-" {
		return write(a.stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

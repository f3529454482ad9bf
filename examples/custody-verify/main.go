// Custody-verify checks an incidentkit custody bundle offline: the
// deterministic archive a case's evidence locker exports with
// bundle.Export (package evidence/bundle). An independent party (an outside examiner, an
// auditor, the other side's expert) runs it on a copy of the bundle, with no
// access to the locker and no network.
//
// Usage:
//
//	custody-verify [-key VERIFIER_KEY | -fingerprint HEX] [-checkpoint FILE]... BUNDLE.tar
//
// It prints each item (exhibit, name, kind, size, digests, who collected it
// and when), its custody history (when, with the time zone, what was done,
// by whom, on whose authority, from whom to whom, why, with which tool), the
// signed checkpoints, and a verdict as its last lines: "VERIFIED: …", or
// "FAILED: n problems" followed by each problem.
//
// Trust comes from outside the bundle. Whoever alters a bundle can sign it
// again with a key of their own, so give the ledger's public key (-key) or
// its fingerprint (-fingerprint), obtained from the custodian through
// another channel: on paper, by phone, from the custody report. Without
// either, the bundle's own key is trusted and a warning says so. Each
// -checkpoint is a signed checkpoint of the case kept from earlier; the
// bundle must extend the log it signs, which shows that the history was not
// rewritten since, even by the key's holder.
//
// Item content in the bundle is hashed as it is read and never kept: the
// program needs no disk space and a constant amount of memory for it.
//
// The exit status is 0 when everything verifies, 1 when anything does not
// (a bundle that cannot be read included), and 2 on a usage error (bad
// flags, or a file that cannot be opened).
//
// Try it from the repository root on a bundle made by the tests:
//
//	go test ./examples/custody-verify -run TestRun -v
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitVerified = 0
	exitFailed   = 1
	exitUsage    = 2
)

const usage = `usage: custody-verify [-key VERIFIER_KEY | -fingerprint HEX] [-checkpoint FILE]... BUNDLE.tar

Checks an incidentkit custody bundle offline and prints its items, their
custody history, its checkpoints and a verdict. Exit status: 0 verified,
1 failed, 2 usage error.

`

// run is the program: it verifies the bundle args name, writes what it
// finds to stdout and usage errors to stderr, and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	trust, path, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "custody-verify:", err)
		}
		return exitUsage
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "custody-verify:", err)
		return exitUsage
	}
	defer f.Close()

	fmt.Fprintf(stdout, "Custody bundle %s\n", clean(path))
	b, err := bundle.Read(context.Background(), f, nil, bundle.Limits{})
	if err != nil {
		fmt.Fprintln(stdout)
		printFailure(stdout, "FAILED: 1 problem", []error{err})
		return exitFailed
	}
	rep, err := b.Verify(trust)
	if err != nil { // parseArgs validated trust
		fmt.Fprintln(stderr, "custody-verify:", err)
		return exitUsage
	}
	printBundle(stdout, b, rep)
	if !rep.OK() {
		printFailure(stdout, rep.Verdict(), rep.Problems)
		return exitFailed
	}
	fmt.Fprintln(stdout, rep.Verdict())
	if !rep.KeyTrusted {
		fmt.Fprintln(stdout, "WARNING: the bundle's own key was trusted; compare its fingerprint with the custodian's.")
	}
	return exitVerified
}

// parseArgs reads the flags into what the verifier trusts, and returns the
// bundle's path.
func parseArgs(args []string, stderr io.Writer) (bundle.Trust, string, error) {
	var trust bundle.Trust
	var checkpoints []string
	fs := flag.NewFlagSet("custody-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&trust.VerifierKey, "key", "", "the ledger's verifier `key`, obtained from the custodian")
	fs.StringVar(&trust.Fingerprint, "fingerprint", "", "the SHA-256 `fingerprint` of the ledger's verifier key, in hex, obtained from the custodian")
	fs.Func("checkpoint", "a signed checkpoint `file` of the case kept from earlier; may be repeated", func(s string) error {
		checkpoints = append(checkpoints, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return trust, "", err
	}
	switch {
	case fs.NArg() != 1:
		fs.Usage()
		return trust, "", errors.New("give exactly one bundle")
	case trust.VerifierKey != "" && trust.Fingerprint != "":
		return trust, "", errors.New("give -key or -fingerprint, not both")
	}
	for _, path := range checkpoints {
		note, err := os.ReadFile(path)
		if err != nil {
			return trust, "", err
		}
		trust.Checkpoints = append(trust.Checkpoints, note)
	}
	if err := trust.Validate(); err != nil {
		return trust, "", err
	}
	return trust, fs.Arg(0), nil
}

// printBundle prints what the bundle holds: the key, the items with their
// custody histories, and the checkpoints.
func printBundle(w io.Writer, b *bundle.Bundle, rep *bundle.Report) {
	m := b.Manifest
	field(w, "  ", "case", string(m.Case))
	field(w, "  ", "log origin", m.Origin)
	field(w, "  ", "records", strconv.FormatInt(m.Records, 10))
	field(w, "  ", "verifier key", m.VerifierKey)
	field(w, "  ", "key fingerprint", evidence.KeyFingerprint(m.VerifierKey))
	switch {
	case !rep.KeyTrusted:
		field(w, "  ", "key trusted", "NO: no -key or -fingerprint was given")
		fmt.Fprintln(w, "WARNING: the bundle's own key was trusted. Anyone can sign a bundle with a key of their own:")
		fmt.Fprintln(w, "         compare the fingerprint above with the one the custodian gives through another channel.")
	case hasProblem(rep.Problems, "verifier key", ""):
		field(w, "  ", "key trusted", "NO: the bundle's key is not the one given")
	default:
		field(w, "  ", "key trusted", "yes, it is the one given")
	}

	histories := recordsByItem(b.Records)
	flagged := flaggedRecords(rep.Problems)
	fmt.Fprintf(w, "\nItems (%d)\n", len(m.Items))
	for _, it := range m.Items {
		fmt.Fprintln(w)
		printItem(w, it, contentStatus(m, it, rep.Problems))
		fmt.Fprintln(w, "  custody:")
		for _, r := range histories[it.ID] {
			printRecord(w, r, flagged[r.Index])
		}
	}

	fmt.Fprintf(w, "\nCheckpoints (%d)\n", len(m.Checkpoints))
	for _, cp := range m.Checkpoints {
		fmt.Fprintf(w, "  size %d, root %s\n", cp.Size, cp.Root)
	}
	fmt.Fprintln(w)
}

func printItem(w io.Writer, it evidence.Item, content string) {
	fmt.Fprintf(w, "%s  %s\n", clean(it.Exhibit), clean(it.Name))
	const in = "  "
	field(w, in, "item ID", string(it.ID))
	field(w, in, "kind", string(it.Kind))
	field(w, in, "media type", it.MediaType)
	field(w, in, "size", fmt.Sprintf("%d bytes", it.Size))
	field(w, in, "SHA-256", it.Digests.SHA256)
	field(w, in, "SHA-1", it.Digests.SHA1)
	field(w, in, "MD5", it.Digests.MD5)
	field(w, in, "source", source(it.Source))
	field(w, in, "collected by", party(it.CollectedBy))
	field(w, in, "collected at", it.CollectedAt.Format(timeLayout))
	field(w, in, "location", it.Location)
	field(w, in, "labels", strings.Join(it.Labels, ", "))
	field(w, in, "content", content)
}

// timeLayout shows a time as the actor recorded it, in their time zone.
const timeLayout = "2006-01-02 15:04:05 -07:00"

func printRecord(w io.Writer, r evidence.Record, flagged bool) {
	mark := ""
	if flagged {
		mark = "   <- see the problems below"
	}
	fmt.Fprintf(w, "    #%d  %s  %s%s\n", r.Index, r.At.Format(timeLayout), r.Action, mark)
	const in = "        "
	field(w, in, "actor", party(r.Actor))
	field(w, in, "authority", r.Authority)
	if !r.From.IsZero() || !r.To.IsZero() {
		field(w, in, "from -> to", party(r.From)+" -> "+party(r.To))
	}
	field(w, in, "location", r.Location)
	field(w, in, "reason", r.Reason)
	field(w, in, "tool", r.Tool)
	field(w, in, "digest seen", r.Digest)
	field(w, in, "notes", r.Notes)
}

// recordsByItem decodes the records and groups them by item, in log
// order. Records that do not decode are left out: verification reports
// them.
func recordsByItem(records [][]byte) map[evidence.ItemID][]evidence.Record {
	out := make(map[evidence.ItemID][]evidence.Record)
	for _, data := range records {
		r, err := evidence.DecodeRecord(data)
		if err != nil {
			continue
		}
		out[r.Item] = append(out[r.Item], r)
	}
	return out
}

// flaggedRecords returns the indexes of the records a problem names.
func flaggedRecords(problems []error) map[int64]bool {
	out := make(map[int64]bool)
	for _, p := range problems {
		var te *evidence.TamperError
		if errors.As(p, &te) && te.Record >= 0 && (te.What == "record" || te.What == "item link") {
			out[te.Record] = true
		}
	}
	return out
}

// contentStatus says whether the item's content was in the bundle and
// checked.
func contentStatus(m bundle.Manifest, it evidence.Item, problems []error) string {
	if !m.BlobsIncluded {
		return "not included in the bundle"
	}
	if hasProblem(problems, "blob", it.ID) {
		return "FAILED: see the problems below"
	}
	return "included, matches its size and digests"
}

// hasProblem reports whether a problem is a tampering of what, with item
// if it is not empty.
func hasProblem(problems []error, what string, item evidence.ItemID) bool {
	for _, p := range problems {
		var te *evidence.TamperError
		if errors.As(p, &te) && te.What == what && (item == "" || te.Item == item) {
			return true
		}
	}
	return false
}

// printFailure prints the verdict and each problem.
func printFailure(w io.Writer, verdict string, problems []error) {
	fmt.Fprintln(w, verdict)
	for _, p := range problems {
		fmt.Fprintf(w, "  - %s\n", clean(p.Error()))
	}
}

// field prints one labelled value, unless it is empty.
func field(w io.Writer, indent, label, value string) {
	if value == "" {
		return
	}
	fmt.Fprintf(w, "%s%-17s %s\n", indent, label+":", clean(value))
}

func party(p evidence.Party) string {
	if p.IsZero() {
		return "(nobody)"
	}
	s := p.String()
	details := []string{}
	if p.Name != "" {
		details = append(details, p.ID)
	}
	if p.Organization != "" {
		details = append(details, p.Organization)
	}
	if len(details) > 0 {
		s += " (" + strings.Join(details, ", ") + ")"
	}
	return s
}

func source(s evidence.Source) string {
	var parts []string
	switch {
	case s.Host != "" && s.Path != "":
		parts = append(parts, s.Host+":"+s.Path)
	case s.Host != "":
		parts = append(parts, s.Host)
	case s.Path != "":
		parts = append(parts, s.Path)
	}
	if s.SerialNumber != "" {
		parts = append(parts, "serial "+s.SerialNumber)
	}
	parts = append(parts, s.Network...)
	if s.Description != "" {
		parts = append(parts, s.Description)
	}
	return strings.Join(parts, ", ")
}

// clean returns s as it is if it is printable on one line, and quoted
// otherwise: everything printed comes from the bundle, and a name or a
// reason holding a newline must not pass for a line of the program's own,
// such as a verdict.
func clean(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

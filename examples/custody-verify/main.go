// Custody-verify checks an incidentkit custody bundle offline: the
// deterministic archive a case's evidence locker exports with
// bundle.Export (package evidence/bundle). An independent party (an outside examiner, an
// auditor, the other side's expert) runs it on a copy of the bundle, with no
// access to the locker and no network.
//
// Usage:
//
//	custody-verify [-key VERIFIER_KEY | -fingerprint HEX] [-checkpoint FILE]... [-no-history] [-max-LIMIT N]... BUNDLE.tar
//
// It prints each item (exhibit, name, kind, size, digests, who collected it
// and when), its custody history (when, with the time zone, what was done,
// by whom, on whose authority, from whom to whom, why, with which tool), the
// signed checkpoints, and a verdict as its last lines: "VERIFIED: …", or
// "FAILED: n problems" followed by each problem. With -no-history it leaves
// out the custody histories, and then holds no record: each is checked as
// it is read (bundle.VerifyStream), which takes far less memory on a large
// or hostile bundle.
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
// The bundle may come from a party you do not trust, so what it may hold is
// bounded (see bundle.Limits): by default 1,048,576 records in 512 MiB,
// 65,536 items, 16,384 checkpoints and a 64 MiB manifest, which a large
// real case fits in. A bundle beyond a limit is refused with an error that
// names the flag raising it (-max-records, -max-records-size,
// -max-record-size, -max-items, -max-checkpoints, -max-manifest-size,
// -max-entries, -max-blob-size, -max-total-size); raise it for a
// genuinely larger case, and the memory the program needs grows with it:
// within the defaults, the worst bundle takes about 7 seconds of CPU and
// 1.7 GiB of memory to check, or with -no-history about 6 seconds and
// 800 MiB. The first 1,000 problems found are listed and the others
// counted (-max-problems lists more).
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
	"math"
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

const usage = `usage: custody-verify [-key VERIFIER_KEY | -fingerprint HEX] [-checkpoint FILE]... [-no-history] [-max-LIMIT N]... BUNDLE.tar

Checks an incidentkit custody bundle offline and prints its items, their
custody history, its checkpoints and a verdict. Exit status: 0 verified,
1 failed, 2 usage error.

A bundle may come from a party you do not trust: what it may hold is
limited, with defaults a large real case fits in, so that a hostile bundle
cannot exhaust memory or time. A bundle beyond a limit is refused with an
error naming the -max flag that raises it; raise it only for a genuinely
larger case, as the memory needed grows with it. Sizes are in bytes, or
with a suffix KiB, MiB, GiB or TiB.

`

// run is the program: it verifies the bundle args name, writes what it
// finds to stdout and usage errors to stderr, and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	trust, limits, path, history, err := parseArgs(args, stderr)
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
	b, rep, err := verify(f, trust, limits, history)
	if err != nil {
		fmt.Fprintln(stdout)
		printFailure(stdout, "FAILED: 1 problem", []error{err})
		return exitFailed
	}
	printBundle(stdout, b, rep, history)
	if !rep.OK() {
		printFailure(stdout, rep.Verdict(), rep.Problems)
		if rep.Omitted > 0 {
			fmt.Fprintf(stdout, "  ... and %d more %s not listed (-max-problems %d lists more)\n",
				rep.Omitted, plural(rep.Omitted, "problem"), rep.ProblemCount())
		}
		return exitFailed
	}
	fmt.Fprintln(stdout, rep.Verdict())
	if !rep.KeyTrusted {
		fmt.Fprintln(stdout, "WARNING: the bundle's own key was trusted; compare its fingerprint with the custodian's.")
	}
	return exitVerified
}

// verify reads and verifies the bundle r holds: whole, to show the custody
// histories afterwards, or, without history, as it is read, holding one
// record at a time. An error is the bundle refused (parseArgs validated
// trust).
func verify(r io.Reader, trust bundle.Trust, limits bundle.Limits, history bool) (*bundle.Bundle, *bundle.Report, error) {
	if !history {
		return bundle.VerifyStream(context.Background(), r, nil, trust, limits)
	}
	b, err := bundle.Read(context.Background(), r, nil, limits)
	if err != nil {
		return nil, nil, err
	}
	rep, err := b.Verify(trust)
	if err != nil {
		return nil, nil, err
	}
	return b, rep, nil
}

// parseArgs reads the flags into what the verifier trusts, the limits of
// what the bundle may hold and whether to show the custody histories, and
// returns the bundle's path.
func parseArgs(args []string, stderr io.Writer) (trust bundle.Trust, limits bundle.Limits, path string, history bool, err error) {
	var checkpoints []string
	noHistory := false
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
	fs.BoolVar(&noHistory, "no-history", false, "leave out the custody histories, so that no record is held: each is checked as it is read, which takes far less memory")
	lim := limitFlags(fs)
	if err := fs.Parse(args); err != nil {
		return trust, bundle.Limits{}, "", false, err
	}
	switch {
	case fs.NArg() != 1:
		fs.Usage()
		return trust, bundle.Limits{}, "", false, errors.New("give exactly one bundle")
	case trust.VerifierKey != "" && trust.Fingerprint != "":
		return trust, bundle.Limits{}, "", false, errors.New("give -key or -fingerprint, not both")
	}
	for _, path := range checkpoints {
		note, err := os.ReadFile(path)
		if err != nil {
			return trust, bundle.Limits{}, "", false, err
		}
		trust.Checkpoints = append(trust.Checkpoints, note)
	}
	if err := trust.Validate(); err != nil {
		return trust, bundle.Limits{}, "", false, err
	}
	return trust, *lim, fs.Arg(0), !noHistory, nil
}

// limitFlags defines a flag for each limit of what a bundle may hold,
// named as bundle.LimitFlag names it, with the library's default, and
// returns the limits the flags set.
func limitFlags(fs *flag.FlagSet) *bundle.Limits {
	l := &bundle.Limits{
		MaxEntries: bundle.DefaultMaxEntries, MaxManifestSize: bundle.DefaultMaxManifestSize,
		MaxRecordSize: bundle.DefaultMaxRecordSize, MaxRecords: bundle.DefaultMaxRecords,
		MaxRecordsSize: bundle.DefaultMaxRecordsSize, MaxItems: bundle.DefaultMaxItems,
		MaxCheckpoints: bundle.DefaultMaxCheckpoints, MaxBlobSize: bundle.DefaultMaxBlobSize,
		MaxTotalSize: bundle.DefaultMaxTotalSize, MaxProblems: evidence.DefaultMaxProblems,
	}
	count := func(v *int, name, usage string) { fs.Var((*countFlag)(v), bundle.LimitFlag(name), usage) }
	size := func(v *int64, name, usage string) { fs.Var((*sizeFlag)(v), bundle.LimitFlag(name), usage) }
	fs.Var((*count64Flag)(&l.MaxRecords), bundle.LimitFlag("MaxRecords"), "the most `records` the bundle may hold")
	size(&l.MaxRecordsSize, "MaxRecordsSize", "the largest `size` of all records together, which the program holds in memory")
	size(&l.MaxRecordSize, "MaxRecordSize", "the largest `size` of one record")
	count(&l.MaxItems, "MaxItems", "the most `items` the manifest may list")
	count(&l.MaxCheckpoints, "MaxCheckpoints", "the most `checkpoints` the manifest may list, each with its consistency proof")
	size(&l.MaxManifestSize, "MaxManifestSize", "the largest `size` of the manifest")
	count(&l.MaxEntries, "MaxEntries", "the most `entries` of the bundle: the manifest, the records and one for each item content")
	size(&l.MaxBlobSize, "MaxBlobSize", "the largest `size` of one item's content")
	size(&l.MaxTotalSize, "MaxTotalSize", "the largest `size` of the whole bundle")
	count(&l.MaxProblems, "MaxProblems", "the most `problems` listed; those beyond are counted")
	return l
}

// countFlag is a positive count.
type countFlag int

func (c *countFlag) String() string { return strconv.Itoa(int(*c)) }

func (c *countFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return errors.New("want a whole number of 1 or more")
	}
	*c = countFlag(n)
	return nil
}

// count64Flag is a positive count that may pass 2^31.
type count64Flag int64

func (c *count64Flag) String() string { return strconv.FormatInt(int64(*c), 10) }

func (c *count64Flag) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return errors.New("want a whole number of 1 or more")
	}
	*c = count64Flag(n)
	return nil
}

// sizeSuffixes are the suffixes of a size, each 1024 times the one before,
// starting at 1024.
var sizeSuffixes = []string{"KiB", "MiB", "GiB", "TiB"}

// sizeFlag is a positive number of bytes: a whole number, with an
// optional suffix KiB, MiB, GiB or TiB.
type sizeFlag int64

// String shows the size with the largest suffix that divides it.
func (f *sizeFlag) String() string {
	n, suffix := int64(*f), ""
	for _, s := range sizeSuffixes {
		if n == 0 || n%1024 != 0 {
			break
		}
		n, suffix = n/1024, s
	}
	return strconv.FormatInt(n, 10) + suffix
}

func (f *sizeFlag) Set(s string) error {
	unit := int64(1)
	for i, suffix := range sizeSuffixes {
		if strings.HasSuffix(s, suffix) {
			s, unit = strings.TrimSuffix(s, suffix), 1<<(10*(i+1))
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64/unit {
		return errors.New("want a whole number of 1 or more, with an optional suffix KiB, MiB, GiB or TiB")
	}
	*f = sizeFlag(n * unit)
	return nil
}

// printBundle prints what the bundle holds: the key, the items with their
// custody histories if history, and the checkpoints.
func printBundle(w io.Writer, b *bundle.Bundle, rep *bundle.Report, history bool) {
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
	read := make(map[string]bundle.BlobCheck, len(b.Blobs))
	for _, bc := range b.Blobs {
		read[bc.SHA256] = bc
	}
	flagged := flaggedRecords(rep.Problems)
	fmt.Fprintf(w, "\nItems (%d)\n", len(m.Items))
	for _, it := range m.Items {
		fmt.Fprintln(w)
		printItem(w, it, contentStatus(m, it, read))
		if !history {
			field(w, "  ", "custody", "not shown (-no-history): the records were checked as they were read")
			continue
		}
		fmt.Fprintln(w, "  custody:")
		for _, i := range histories[it.ID] {
			if r, err := evidence.DecodeRecord(b.Records[i]); err == nil {
				printRecord(w, r, flagged[r.Index])
			}
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

// recordsByItem returns the indexes of the records of each item, in log
// order, decoding each record once and keeping only its index, so that
// the program does not hold every record decoded at once. Records that do
// not decode are left out: verification reports them.
func recordsByItem(records [][]byte) map[evidence.ItemID][]int {
	out := make(map[evidence.ItemID][]int)
	for i, data := range records {
		r, err := evidence.DecodeRecord(data)
		if err != nil {
			continue
		}
		out[r.Item] = append(out[r.Item], i)
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
// matches it, from what was read: not from the problems listed, which may
// leave out the item's.
func contentStatus(m bundle.Manifest, it evidence.Item, read map[string]bundle.BlobCheck) string {
	if !m.BlobsIncluded {
		return "not included in the bundle"
	}
	bc, ok := read[it.Digests.SHA256]
	switch {
	case !ok, bc.Digests.SHA256 != it.Digests.SHA256, bc.Size != it.Size,
		it.Digests.SHA1 != "" && bc.Digests.SHA1 != it.Digests.SHA1,
		it.Digests.MD5 != "" && bc.Digests.MD5 != it.Digests.MD5:
		return "FAILED: does not match the item"
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

// plural returns word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
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

package custodyreport

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/internal/mdtext"
)

// defaultVerifyCommand is the program a custody report tells an
// independent party to run on an exported bundle.
const defaultVerifyCommand = "go run github.com/incidentkit/incidentkit/examples/custody-verify"

// Options says how [Render] writes a custody report. The zero value is
// ready to use: it stamps the report with the current time and names
// nobody as its preparer.
type Options struct {
	// Title heads the report; empty means "Chain of custody report".
	Title string
	// PreparedBy is who prepared the report.
	PreparedBy evidence.Party
	// Now tells the time the report is generated at, in the zone it is
	// to be shown in. Nil means time.Now; set it for output that is the
	// same on every run.
	Now func() time.Time
	// ContentVerified says that the verification outcome given to
	// [Render] also re-hashed every item's content from its blob store,
	// as [evidence.Locker.Verify] does, and the report says so. [Write]
	// sets it and [WriteLedger] clears it, whatever the caller passed.
	ContentVerified bool
	// VerifyCommand is the command the report tells an independent
	// party to run on the exported bundle. Empty means
	// "go run github.com/incidentkit/incidentkit/examples/custody-verify".
	VerifyCommand string
}

// Render writes the custody report of a case's log to w, in Markdown
// that a court or an auditor can read: the case, the register of
// exhibits, each exhibit's custody timeline, the verification history and
// the outcome of verification, the tools used, a cryptographic appendix
// (tree size and root, the latest signed checkpoint, the verifier key and
// its fingerprint, each exhibit's first and last record, each record's leaf
// hash) and the steps an independent party follows to check it all
// offline.
//
// vkey is the verifier key of the ledger that signed the log's
// checkpoints. verification is the outcome of checking the log, from
// [evidence.VerifyLog], [evidence.Ledger.Verify] or
// [evidence.Locker.Verify]; nil reports the log as not verified. The
// report renders whatever the log holds, a tampered log included: records
// that cannot be decoded are listed as such, every problem in
// verification is shown, numbered, and every record a problem names is
// marked with the problems' numbers wherever the report shows it.
//
// The function touches no store, so it also reports on a log imported from
// a bundle. Its output depends only on its arguments: the same inputs,
// with opts.Now fixed, give the same bytes.
//
// Every piece of text taken from the log, or from a bundle an attacker
// wrote, is escaped, so that no GitHub-flavoured Markdown renderer makes
// anything live of it: it cannot break the report's tables or reach its
// reader as markup, HTML, a link or an image. What an autolink needs is
// defanged, the way incident responders write indicators: "://" shows as
// "[://]", the dot of "www." as "[.]" and "@" (of an e-mail address or a
// mention) as "[@]". Characters that would not show as themselves (control
// characters, terminal escape sequences, bidirectional overrides and
// isolates, zero-width characters) and bytes that are not UTF-8 show as
// escapes such as \u202E and \xFF, in tables and in the signed note and
// verifier key shown verbatim alike. When the report defangs or escapes
// anything, its header says so.
func Render(w io.Writer, log evidence.CaseLog, vkey string, verification *evidence.Report, opts Options) error {
	m := newCustodyReportModel(log, vkey, verification, opts)
	var head, body bytes.Buffer
	m.writeHeader(&head)
	m.writeRegister(&body)
	m.writeTimelines(&body)
	m.writeVerification(&body)
	m.writeTools(&body)
	m.writeAppendix(&body)
	m.writeReproduce(&body)
	var b bytes.Buffer
	b.Grow(head.Len() + body.Len() + 512)
	b.Write(head.Bytes())
	writeShownAs(&b, append(head.Bytes(), body.Bytes()...))
	b.Write(body.Bytes())
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("custodyreport: write report of case %s: %w", log.Case, err)
	}
	return nil
}

// Write writes the custody report of case c to w (see [Render]): it
// exports the case's log and checks it as [evidence.Locker.Verify] does,
// re-hashing every item's content from the blob store, and reports both
// ([evidence.Locker.ExportVerified]). It fails with an error matching
// [evidence.ErrNotFound] if the case has no custody record.
func Write(ctx context.Context, w io.Writer, locker *evidence.Locker, c evidence.CaseID, opts Options) error {
	log, rep, err := locker.ExportVerified(ctx, c)
	if err != nil {
		return err
	}
	opts.ContentVerified = true
	return Render(w, log, locker.Ledger().VerifierKey(), rep, opts)
}

// WriteLedger writes the custody report of case c of a ledger alone to w
// (see [Render]): it exports the case's log, checks it as
// [evidence.Ledger.Verify] does, and reports both
// ([evidence.Ledger.ExportVerified]). Item contents are not re-hashed;
// [Write] does that too. It fails with an error matching
// [evidence.ErrNotFound] if the case has no custody record.
func WriteLedger(ctx context.Context, w io.Writer, ledger *evidence.Ledger, c evidence.CaseID, opts Options) error {
	log, rep, err := ledger.ExportVerified(ctx, c)
	if err != nil {
		return err
	}
	opts.ContentVerified = false
	return Render(w, log, ledger.VerifierKey(), rep, opts)
}

// custodyReportModel is what a custody report shows, gathered from the
// log once.
type custodyReportModel struct {
	log          evidence.CaseLog
	vkey         string
	verification *evidence.Report
	opts         Options
	records      []reportRecord
	exhibits     []*reportExhibit
	byItem       map[evidence.ItemID]*reportExhibit
	root         evidence.Hash
	rootErr      error
	// problems lists, for each record a verification problem names, the
	// numbers of those problems, from 1 as the report lists them.
	problems map[int64][]int
}

// reportRecord is one record of the log, decoded if it could be.
type reportRecord struct {
	index int64
	leaf  evidence.Hash
	rec   evidence.Record
	err   error
}

// reportExhibit is one item and its records.
type reportExhibit struct {
	item evidence.Item
	// listed says the item is in the log's item list, rather than known
	// only from its records.
	listed bool
	// collected is the item as its collected record, at collectedAt,
	// describes it.
	collected   *evidence.Item
	collectedAt int64
	records     []*reportRecord
}

// label names the exhibit in headings and tables.
func (e *reportExhibit) label() string {
	if e.item.Exhibit != "" {
		return e.item.Exhibit
	}
	if e.collected != nil && e.collected.Exhibit != "" {
		return e.collected.Exhibit
	}
	return "item " + string(e.item.ID)
}

// collectedSHA256 is the SHA-256 the item had when it was collected: the
// one its collected record holds, or failing that the item list's.
func (e *reportExhibit) collectedSHA256() string {
	if e.collected != nil {
		return e.collected.Digests.SHA256
	}
	return e.item.Digests.SHA256
}

func newCustodyReportModel(log evidence.CaseLog, vkey string, verification *evidence.Report, opts Options) *custodyReportModel {
	m := &custodyReportModel{log: log, vkey: vkey, verification: verification, opts: opts, byItem: make(map[evidence.ItemID]*reportExhibit)}
	for _, it := range log.Items {
		e := &reportExhibit{item: it, listed: true}
		m.exhibits = append(m.exhibits, e)
		if _, dup := m.byItem[it.ID]; !dup {
			m.byItem[it.ID] = e
		}
	}
	m.records = make([]reportRecord, len(log.Records))
	for i, data := range log.Records {
		rr := &m.records[i]
		rr.index, rr.leaf = int64(i), tlog.RecordHash(data)
		rr.rec, rr.err = evidence.DecodeRecord(data)
		if rr.err == nil {
			m.attach(rr)
		}
	}
	m.root, m.rootErr = custodyTreeRoot(log.Records)
	m.problems = recordProblems(verification)
	return m
}

// recordProblems maps each record the problems of rep name to the numbers
// of those problems.
func recordProblems(rep *evidence.Report) map[int64][]int {
	out := make(map[int64][]int)
	if rep == nil {
		return out
	}
	for i, p := range rep.Problems {
		for _, te := range tamperErrors(p) {
			if te.Record >= 0 && !slices.Contains(out[te.Record], i+1) {
				out[te.Record] = append(out[te.Record], i+1)
			}
		}
	}
	return out
}

// tamperErrors returns the tamper errors err is or joins.
func tamperErrors(err error) []*evidence.TamperError {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*evidence.TamperError
		for _, e := range joined.Unwrap() {
			out = append(out, tamperErrors(e)...)
		}
		return out
	}
	var te *evidence.TamperError
	if errors.As(err, &te) {
		return []*evidence.TamperError{te}
	}
	return nil
}

// recordCell shows a record's index, marked with the problems that name
// it.
func (m *custodyReportModel) recordCell(index int64) string {
	s := strconv.FormatInt(index, 10)
	nums := m.problems[index]
	if len(nums) == 0 {
		return s
	}
	refs := make([]string, len(nums))
	for i, n := range nums {
		refs[i] = strconv.Itoa(n)
	}
	word := "problem"
	if len(nums) > 1 {
		word = "problems"
	}
	return fmt.Sprintf("**%s ⚠ %s %s**", s, word, strings.Join(refs, ", "))
}

// attach files a decoded record under its item, adding the item if the
// log's item list lacks it.
func (m *custodyReportModel) attach(rr *reportRecord) {
	r := rr.rec
	e := m.byItem[r.Item]
	if e == nil {
		e = &reportExhibit{item: evidence.Item{ID: r.Item, CaseID: r.Case}}
		if r.Snapshot != nil {
			e.item = r.Snapshot.Clone()
		}
		m.byItem[r.Item] = e
		m.exhibits = append(m.exhibits, e)
	}
	if r.Snapshot != nil && e.collected == nil {
		snap := r.Snapshot.Clone()
		e.collected, e.collectedAt = &snap, rr.index
	}
	e.records = append(e.records, rr)
}

// custodyTreeRoot rebuilds the RFC 6962 Merkle tree of the records and
// returns its root.
func custodyTreeRoot(records [][]byte) (evidence.Hash, error) {
	hashes := make([]evidence.Hash, 0, tlog.StoredHashCount(int64(len(records))))
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]evidence.Hash, error) {
		out := make([]evidence.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(hashes)) {
				return nil, fmt.Errorf("evidence: tree hash %d not built", x)
			}
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, data := range records {
		stored, err := tlog.StoredHashes(int64(i), data, reader)
		if err != nil {
			return evidence.Hash{}, err
		}
		hashes = append(hashes, stored...)
	}
	return tlog.TreeHash(int64(len(records)), reader)
}

func (m *custodyReportModel) verdict() string {
	switch {
	case m.verification == nil:
		return "NOT VERIFIED: no verification outcome was supplied with this report"
	case m.verification.OK():
		return "PASSED: no problem found"
	case m.verification.ProblemCount() == 1:
		return "FAILED: 1 problem found"
	case m.verification.Omitted > 0:
		return fmt.Sprintf("FAILED: %d problems found, the first %d listed",
			m.verification.ProblemCount(), len(m.verification.Problems))
	default:
		return fmt.Sprintf("FAILED: %d problems found", len(m.verification.Problems))
	}
}

func (m *custodyReportModel) writeHeader(b *bytes.Buffer) {
	title := m.opts.Title
	if title == "" {
		title = "Chain of custody report"
	}
	now := time.Now
	if m.opts.Now != nil {
		now = m.opts.Now
	}
	fmt.Fprintf(b, "# %s: case %s\n\n", mdtext.Text(title), mdtext.Text(string(m.log.Case)))
	fmt.Fprintf(b, "- **Case:** %s\n", mdValue(string(m.log.Case)))
	fmt.Fprintf(b, "- **Report generated at:** %s\n", reportTime(now()))
	fmt.Fprintf(b, "- **Prepared by:** %s\n", mdParty(m.opts.PreparedBy))
	fmt.Fprintf(b, "- **Log origin:** %s\n", mdValue(m.log.Origin))
	fmt.Fprintf(b, "- **Exhibits:** %d\n", len(m.exhibits))
	fmt.Fprintf(b, "- **Custody records:** %d\n", len(m.log.Records))
	fmt.Fprintf(b, "- **Signed checkpoints:** %d\n", len(m.log.Checkpoints))
	fmt.Fprintf(b, "- **Verification:** %s\n\n", m.verdict())
	b.WriteString("Times are RFC 3339 timestamps in the time zone of whoever acted, with its offset from UTC. " +
		"Record numbers are positions in the case's custody log, counted from 0.\n\n")
}

// writeShownAs says how the report shows text it had to defang or
// escape, if report, the rest of the report, has any.
func writeShownAs(b *bytes.Buffer, report []byte) {
	if mdtext.ShowsDefanged(report) {
		b.WriteString("In text taken from the log, a colon followed by two slashes, the dot after www and the at sign " +
			"are shown in brackets, as \\[://\\], www\\[.\\] and \\[@\\], so that no Markdown viewer makes a link of them.\n\n")
	}
	if mdtext.ShowsEscaped(report) {
		b.WriteString("Characters taken from the log that would not show as themselves (control characters, " +
			"bidirectional overrides, zero-width characters) are shown as escapes such as \\\\u202E, " +
			"and bytes that are not UTF-8 as escapes such as \\\\xFF.\n\n")
	}
}

func (m *custodyReportModel) writeRegister(b *bytes.Buffer) {
	b.WriteString("## Exhibit register\n\n")
	if len(m.exhibits) == 0 {
		b.WriteString("The case has no exhibit.\n\n")
		return
	}
	sha1, md5 := false, false
	for _, e := range m.exhibits {
		sha1 = sha1 || e.item.Digests.SHA1 != ""
		md5 = md5 || e.item.Digests.MD5 != ""
	}
	head := []string{"Exhibit", "Name", "Kind", "Size (bytes)", "SHA-256"}
	if sha1 {
		head = append(head, "SHA-1")
	}
	if md5 {
		head = append(head, "MD5")
	}
	head = append(head, "Collected by", "Collected at", "Source", "Storage location")
	mdtext.TableHead(b, head...)
	for _, e := range m.exhibits {
		it := e.item
		row := []string{mdValue(e.label()), mdValue(it.Name), mdValue(string(it.Kind)), strconv.FormatInt(it.Size, 10), mdtext.Code(it.Digests.SHA256)}
		if sha1 {
			row = append(row, mdtext.Code(it.Digests.SHA1))
		}
		if md5 {
			row = append(row, mdtext.Code(it.Digests.MD5))
		}
		row = append(row, mdParty(it.CollectedBy), reportTime(it.CollectedAt), mdSource(it.Source), mdValue(it.Location))
		mdtext.TableRow(b, row...)
	}
	b.WriteString("\n")
	for _, e := range m.exhibits {
		switch {
		case !e.listed:
			fmt.Fprintf(b, "**Warning:** exhibit %s is not in the case's item list: it is described here from its custody records.\n\n", mdtext.Text(e.label()))
		case e.collected != nil && !sameDescription(e.item, *e.collected):
			fmt.Fprintf(b, "**Warning:** the item list describes exhibit %s differently from its collected record, record %d.\n\n",
				mdtext.Text(e.label()), e.collectedAt)
		}
	}
}

// sameDescription compares two descriptions of an item by their encoding,
// as the custody log stores them.
func sameDescription(a, b evidence.Item) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func (m *custodyReportModel) writeTimelines(b *bytes.Buffer) {
	b.WriteString("## Custody timeline\n\n")
	for _, e := range m.exhibits {
		fmt.Fprintf(b, "### %s: %s\n\n", mdtext.Text(e.label()), mdValue(e.item.Name))
		if len(e.records) == 0 {
			fmt.Fprintf(b, "Item ID %s. No custody record names this item.\n\n", mdtext.Text(string(e.item.ID)))
			continue
		}
		fmt.Fprintf(b, "Item ID %s. %s, from record %d to record %d.\n\n", mdtext.Text(string(e.item.ID)),
			plural(len(e.records), "record", "records"), e.records[0].index, e.records[len(e.records)-1].index)
		mdtext.TableHead(b, "Record", "Time", "Action", "Actor", "Authority", "From → To", "Location", "Reason", "Tool", "Digest observed", "Notes")
		for _, rr := range e.records {
			r := rr.rec
			mdtext.TableRow(b, m.recordCell(rr.index), reportTime(r.At), actionWords(r.Action), mdParty(r.Actor),
				mdValue(r.Authority), mdTransfer(r.From, r.To), mdValue(r.Location), mdValue(r.Reason), mdValue(r.Tool),
				mdObserved(r.Digest, e.collectedSHA256()), mdValue(r.Notes))
		}
		b.WriteString("\n")
	}
	var unread []reportRecord
	for _, rr := range m.records {
		if rr.err != nil {
			unread = append(unread, rr)
		}
	}
	if len(unread) == 0 {
		return
	}
	b.WriteString("### Records that could not be read\n\n")
	b.WriteString("These records are in the log but do not decode to a custody record in canonical form; their content is not shown.\n\n")
	for _, rr := range unread {
		fmt.Fprintf(b, "- Record %s: %s\n", m.recordCell(rr.index), mdtext.Text(rr.err.Error()))
	}
	b.WriteString("\n")
}

func (m *custodyReportModel) writeVerification(b *bytes.Buffer) {
	b.WriteString("## Verification\n\n### Verification records\n\n")
	var rows [][]string
	for _, rr := range m.records {
		if rr.err != nil || rr.rec.Action != evidence.ActionVerified {
			continue
		}
		r, e := rr.rec, m.byItem[rr.rec.Item]
		rows = append(rows, []string{strconv.FormatInt(rr.index, 10), mdtext.Text(e.label()), reportTime(r.At),
			mdParty(r.Actor), mdValue(r.Tool), mdtext.Code(r.Digest), digestResult(r.Digest, e.collectedSHA256())})
	}
	if len(rows) == 0 {
		b.WriteString("No record in the log is a verification.\n\n")
	} else {
		mdtext.TableHead(b, "Record", "Exhibit", "Time", "Verified by", "Tool", "Digest observed", "Result")
		for _, row := range rows {
			mdtext.TableRow(b, row...)
		}
		b.WriteString("\n")
	}

	b.WriteString("### Outcome of this verification\n\n")
	fmt.Fprintf(b, "**Verdict: %s.**\n\n", m.verdict())
	v := m.verification
	if v == nil {
		b.WriteString("Follow the steps to reproduce the verification, at the end of this report, before relying on it.\n\n")
		return
	}
	if v.Case != m.log.Case || v.Size != int64(len(m.log.Records)) {
		fmt.Fprintf(b, "**Warning:** this outcome is of case %s at %s, but this report shows case %s at %s.\n\n",
			mdtext.Text(string(v.Case)), plural(int(v.Size), "record", "records"),
			mdtext.Text(string(m.log.Case)), plural(len(m.log.Records), "record", "records"))
	}
	b.WriteString("The verification checked:\n\n")
	fmt.Fprintf(b, "- that each record decodes to its canonical form and stands at its index in the log (%s);\n", plural(int(v.Size), "record", "records"))
	fmt.Fprintf(b, "- the Merkle tree rebuilt from the records: size %d, root %s;\n", v.Size, mdtext.Code(v.Root.String()))
	b.WriteString("- each record's link to the previous record of its item, by index and leaf hash;\n")
	fmt.Fprintf(b, "- each item against the copy in its collected record (%s);\n", plural(v.Items, "item", "items"))
	fmt.Fprintf(b, "- each signed checkpoint: its signature by the verifier key, its origin, and its root against the rebuilt tree (%s);\n", plural(v.Checkpoints, "checkpoint", "checkpoints"))
	if m.opts.ContentVerified {
		b.WriteString("- each item's content, re-hashed from the blob store and compared with the SHA-256 recorded at collection.\n\n")
	} else {
		b.WriteString("- not the items' content: it was not re-hashed for this verification.\n\n")
	}
	if v.OK() {
		return
	}
	b.WriteString("Problems found:\n\n")
	for i, p := range v.Problems {
		fmt.Fprintf(b, "%d. %s\n", i+1, mdtext.Text(problemText(p)))
	}
	if v.Omitted > 0 {
		fmt.Fprintf(b, "\nand %d more not listed.\n", v.Omitted)
	}
	b.WriteString("\n")
}

// problemText describes one verification problem.
func problemText(err error) string {
	if err == nil {
		return "(no detail)"
	}
	return err.Error()
}

func (m *custodyReportModel) writeTools(b *bytes.Buffer) {
	b.WriteString("## Tools used\n\n")
	var tools []string
	used := make(map[string][]string)
	for _, rr := range m.records {
		if rr.err != nil || rr.rec.Tool == "" {
			continue
		}
		t := rr.rec.Tool
		if _, seen := used[t]; !seen {
			tools = append(tools, t)
		}
		used[t] = append(used[t], strconv.FormatInt(rr.index, 10))
	}
	if len(tools) == 0 {
		b.WriteString("No record names a tool.\n\n")
		return
	}
	mdtext.TableHead(b, "Tool", "Records")
	for _, t := range tools {
		mdtext.TableRow(b, mdtext.Text(t), strings.Join(used[t], ", "))
	}
	b.WriteString("\n")
}

func (m *custodyReportModel) writeAppendix(b *bytes.Buffer) {
	b.WriteString("## Cryptographic appendix\n\n")
	n := len(m.log.Records)
	fmt.Fprintf(b, "- **Tree size:** %s\n", plural(n, "record", "records"))
	if m.rootErr != nil {
		fmt.Fprintf(b, "- **Merkle root:** could not be computed: %s\n", mdtext.Text(m.rootErr.Error()))
	} else {
		fmt.Fprintf(b, "- **Merkle root (base64):** %s\n", mdtext.Code(m.root.String()))
		fmt.Fprintf(b, "- **Merkle root (hex):** %s\n", mdtext.Code(hex.EncodeToString(m.root[:])))
	}
	b.WriteString("- **Merkle tree:** RFC 6962 (section 2.1) over SHA-256. " +
		"A leaf hash is SHA-256(0x00 ‖ record), where the record is its canonical JSON encoding, exactly the bytes stored; " +
		"an interior node hash is SHA-256(0x01 ‖ left ‖ right).\n")
	b.WriteString("- **Checkpoints:** C2SP tlog-checkpoint bodies (origin, tree size, base64 root) in C2SP signed notes, signed with Ed25519.\n")
	b.WriteString("- **Content digests:** SHA-256 of each item's bytes, which also names its stored content; SHA-1 and MD5, where listed, are for other forensic tools only.\n\n")

	b.WriteString("### Latest signed checkpoint\n\n")
	if len(m.log.Checkpoints) == 0 {
		b.WriteString("The log has no signed checkpoint: nothing binds its records to the ledger's key.\n\n")
	} else {
		cp := m.log.Checkpoints[len(m.log.Checkpoints)-1]
		fmt.Fprintf(b, "Checkpoint %d of %d, as stored: size %d, root %s.", len(m.log.Checkpoints), len(m.log.Checkpoints), cp.Size, mdtext.Code(cp.Root.String()))
		if cp.Size < int64(n) {
			fmt.Fprintf(b, " Records %d to %d were appended after it and no checkpoint covers them yet.", cp.Size, n-1)
		}
		b.WriteString(" The signed note, verbatim:\n\n")
		mdtext.Fenced(b, "text", string(cp.Note))
	}

	b.WriteString("### Verifier key\n\n")
	if m.vkey == "" {
		b.WriteString("No verifier key was supplied with this report.\n\n")
	} else {
		b.WriteString("The public key that checks the checkpoints, in signed-note verifier key format:\n\n")
		mdtext.Fenced(b, "text", m.vkey)
		fmt.Fprintf(b, "Its SHA-256 fingerprint, to compare by eye or read over the phone: %s\n\n", mdtext.Code(evidence.KeyFingerprint(m.vkey)))
	}

	b.WriteString("### Records of each exhibit\n\n")
	if len(m.exhibits) == 0 {
		b.WriteString("The case has no exhibit.\n\n")
	} else {
		mdtext.TableHead(b, "Exhibit", "Item ID", "First record", "Last record", "Records")
		for _, e := range m.exhibits {
			first, last := "—", "—"
			if len(e.records) > 0 {
				first = strconv.FormatInt(e.records[0].index, 10)
				last = strconv.FormatInt(e.records[len(e.records)-1].index, 10)
			}
			mdtext.TableRow(b, mdtext.Text(e.label()), mdtext.Text(string(e.item.ID)), first, last, strconv.Itoa(len(e.records)))
		}
		b.WriteString("\n")
	}

	b.WriteString("### Leaf hashes\n\n")
	if n == 0 {
		b.WriteString("The log has no record.\n\n")
		return
	}
	mdtext.TableHead(b, "Record", "Exhibit", "Action", "Leaf hash (hex)")
	for _, rr := range m.records {
		exhibit, action := "—", "could not be read"
		if rr.err == nil {
			exhibit, action = mdtext.Text(m.byItem[rr.rec.Item].label()), actionWords(rr.rec.Action)
		}
		mdtext.TableRow(b, m.recordCell(rr.index), exhibit, action, mdtext.Code(hex.EncodeToString(rr.leaf[:])))
	}
	b.WriteString("\n")
}

func (m *custodyReportModel) writeReproduce(b *bytes.Buffer) {
	command := m.opts.VerifyCommand
	if command == "" {
		command = defaultVerifyCommand
	}
	fingerprint := "<fingerprint>"
	if m.vkey != "" {
		fingerprint = evidence.KeyFingerprint(m.vkey)
	}
	b.WriteString("## Steps to reproduce the verification\n\n")
	b.WriteString("An independent party needs only the case's exported bundle and the verifier key's fingerprint above: " +
		"no access to the ledger's store, and no network.\n\n")
	b.WriteString("1. Export the case as a custody bundle, `bundle.tar`, with bundle.Export (package evidence/bundle): a tar archive holding " +
		"manifest.json (the items, the signed checkpoints with their consistency proofs, the verifier key), " +
		"records.jsonl (each record's exact bytes, one per line, in log order) and, with Options.IncludeBlobs, " +
		"blobs/ with each exhibit's content. Options.Checkpoint signs a checkpoint first, so that one covers every record.\n")
	b.WriteString("2. Confirm the fingerprint with the ledger's operator through another channel (on paper, by phone).\n")
	b.WriteString("3. With Go installed, run the custody verifier on the bundle:\n\n")
	mdtext.Fenced(b, "sh", command+" -fingerprint "+fingerprint+" bundle.tar")
	b.WriteString("The verifier makes these checks (in Go, bundle.Read and Bundle.Verify make them too); each proves one thing:\n\n")
	b.WriteString("- **The verifier key in the bundle has the fingerprint given:** the checkpoints are checked against the key named in this report, " +
		"not against a key that came with a forged bundle.\n")
	b.WriteString("- **Each checkpoint carries a valid Ed25519 signature by that key:** the key's holder stated that the log had that size and root.\n")
	b.WriteString("- **A checkpoint covers every record:** no record was added after the last signature.\n")
	b.WriteString("- **Each record decodes to its canonical form and stands at its index:** no two byte strings can stand for the same record, " +
		"and no record was moved.\n")
	b.WriteString("- **The Merkle tree rebuilt from the records has the root each checkpoint signed:** no record a checkpoint covers was changed, " +
		"removed, reordered or inserted since it was signed.\n")
	b.WriteString("- **Each earlier checkpoint's consistency proof holds against the latest:** the log only ever grew; " +
		"what was signed earlier was not rewritten later.\n")
	b.WriteString("- **Each record links to the previous record of its item, by index and leaf hash:** each exhibit's history is complete and in order.\n")
	b.WriteString("- **The items are exactly those the records collect, each matching the copy in its collected record:** " +
		"no exhibit was added, dropped or described differently after collection.\n")
	b.WriteString("- **Each exhibit's content hashes to the digests recorded at collection and has its size,** when the bundle includes content: " +
		"the exhibit is bit for bit what was collected.\n\n")

	b.WriteString("### Checking one record by hand\n\n")
	b.WriteString("1. Take the record's line from records.jsonl (record i is line i + 1), without its newline: those are the record's exact bytes, " +
		"its canonical JSON encoding.\n")
	b.WriteString("2. Compute its leaf hash, SHA-256 of a 0x00 byte followed by those bytes, and compare it with the table of leaf hashes above. " +
		"For record 3:\n\n")
	mdtext.Fenced(b, "sh", "tar -xf bundle.tar records.jsonl\n( printf '\\000'; sed -n 4p records.jsonl | tr -d '\\n' ) | sha256sum")
	b.WriteString("3. Obtain from the ledger's operator the record's inclusion proof for the tree size of the latest checkpoint " +
		"(Ledger.ProveInclusion): at most one hash per level of the tree.\n")
	b.WriteString("4. Fold the proof into the leaf hash as RFC 9162 (section 2.1.3.2) describes: with fn = the record's index, " +
		"sn = tree size − 1 and r = the leaf hash, for each proof hash p in order: if fn is odd or fn = sn, " +
		"set r = SHA-256(0x01 ‖ p ‖ r) and, while fn is even and not 0, halve fn and sn; otherwise set r = SHA-256(0x01 ‖ r ‖ p); " +
		"then halve fn and sn. At the end sn must be 0 and r must equal the checkpoint's root. " +
		"In Go, evidence.CheckInclusion does the same.\n")
	b.WriteString("5. Check the checkpoint's signature with the verifier key (in Go, evidence.OpenCheckpoint): " +
		"the record is then proven part of the log the key's holder signed.\n")
}

// actionWords names a custody action for a reader.
func actionWords(a evidence.Action) string {
	switch a {
	case evidence.ActionCollected:
		return "Collected"
	case evidence.ActionTransferred:
		return "Transferred"
	case evidence.ActionCheckedOut:
		return "Checked out"
	case evidence.ActionCheckedIn:
		return "Checked in"
	case evidence.ActionAccessed:
		return "Accessed"
	case evidence.ActionAnalyzed:
		return "Analyzed"
	case evidence.ActionCopied:
		return "Copied"
	case evidence.ActionVerified:
		return "Verified"
	case evidence.ActionSealed:
		return "Sealed"
	case evidence.ActionUnsealed:
		return "Unsealed"
	case evidence.ActionReleased:
		return "Released"
	case evidence.ActionDisposed:
		return "Disposed of"
	case evidence.ActionAccessDenied:
		return "Access denied"
	}
	return mdValue(string(a))
}

// digestResult says whether an observed digest is the one collected.
func digestResult(observed, collected string) string {
	switch {
	case observed == "":
		return "no digest recorded"
	case collected == "":
		return "nothing to compare with"
	case observed == collected:
		return "matches"
	default:
		return "**DIFFERS**"
	}
}

// mdObserved shows an observed digest and whether it matches.
func mdObserved(observed, collected string) string {
	if observed == "" {
		return "—"
	}
	return mdtext.Code(observed) + " (" + digestResult(observed, collected) + ")"
}

// reportTime formats a time as RFC 3339 with its zone offset and every
// fractional digit it has.
func reportTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format(time.RFC3339Nano)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// mdParty shows a party as "Name (ID), Organization".
func mdParty(p evidence.Party) string {
	if p.IsZero() {
		return "—"
	}
	s := p.ID
	if p.Name != "" {
		s = p.Name
		if p.ID != "" && p.ID != p.Name {
			s += " (" + p.ID + ")"
		}
	}
	switch {
	case s == "":
		s = p.Organization
	case p.Organization != "":
		s += ", " + p.Organization
	}
	return mdtext.Text(s)
}

// mdTransfer shows the parties of a transfer.
func mdTransfer(from, to evidence.Party) string {
	if from.IsZero() && to.IsZero() {
		return "—"
	}
	return mdParty(from) + " → " + mdParty(to)
}

// mdSource shows where an item came from, one fact a line.
func mdSource(s evidence.Source) string {
	var lines []string
	add := func(label, v string) {
		if v != "" {
			lines = append(lines, label+": "+mdtext.Text(v))
		}
	}
	add("host", s.Host)
	add("path", s.Path)
	add("serial number", s.SerialNumber)
	add("network", strings.Join(s.Network, ", "))
	add("description", s.Description)
	if len(lines) == 0 {
		return "—"
	}
	return strings.Join(lines, "<br>")
}

// mdValue is mdtext.Text, or a dash for an empty value.
func mdValue(s string) string {
	if s == "" {
		return "—"
	}
	return mdtext.Text(s)
}

package custodyreport_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
	"github.com/incidentkit/incidentkit/evidence/custodyreport"
	"github.com/incidentkit/incidentkit/evidence/internal/custodycase"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// requireLines checks the report holds each piece of text, without
// printing the whole report when it does not.
func requireLines(t *testing.T, report string, want ...string) {
	t.Helper()
	for _, w := range want {
		assert.True(t, strings.Contains(report, w), "the report lacks %q", w)
	}
}

// The case is package custodycase's, shared with the other packages'
// tests so that they describe the same case.
var (
	reportZoneLyon   = custodycase.ZoneLyon
	reportZoneBoston = custodycase.ZoneBoston
	reportT0         = custodycase.T0

	reportBob = custodycase.Bob
)

const reportCaseID = custodycase.ID

type reportCase = custodycase.Case

func newReportCase(t testing.TB, blobs evidence.BlobStore) *reportCase {
	return custodycase.New(t, blobs)
}

func reportSigningKey(t testing.TB) (evidence.SigningKey, string) { return custodycase.SigningKey(t) }

// custodyGolden compares got with the golden file at path, or rewrites the
// file when the tests run with -update.
func custodyGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	custodycase.Golden(t, path, got, *updateGolden)
}

var (
	reportGeneratedAt = time.Date(2026, time.March, 10, 16, 0, 0, 0, reportZoneLyon)
	reportAuditor     = evidence.Party{ID: "dana", Name: "Dana Whitfield", Organization: "Internal Audit"}
)

func reportOptions() custodyreport.Options {
	return custodyreport.Options{PreparedBy: reportAuditor, Now: func() time.Time { return reportGeneratedAt }}
}

// tamperedReportLog returns the case's log after a forger: appended a
// verification that found other content, signed nothing more, then
// rewrote the transfer's reason, reformatted the check-out record and
// renamed the second exhibit.
func tamperedReportLog(t *testing.T, rc *reportCase) evidence.CaseLog {
	t.Helper()
	ctx := t.Context()
	rc.Record(t, evidence.Record{Item: rc.Items[0].ID, Action: evidence.ActionVerified, Actor: reportBob,
		At: time.Date(2026, time.March, 9, 10, 0, 0, 0, reportZoneBoston), Tool: "sha256sum (GNU coreutils) 9.4",
		Reason: "before release", Digest: strings.Repeat("0f", 32)})
	log, err := rc.Ledger.Export(ctx, reportCaseID)
	require.NoError(t, err)

	transfer, err := evidence.DecodeRecord(log.Records[2])
	require.NoError(t, err)
	require.Equal(t, evidence.ActionTransferred, transfer.Action)
	transfer.Reason = "to a private address"
	log.Records[2], err = transfer.Encode()
	require.NoError(t, err)

	log.Records[3] = append([]byte(" "), log.Records[3]...)
	log.Items[1].Name = "mail-gw-clean.log"
	return log
}

func TestCustodyReportGolden(t *testing.T) {
	t.Parallel()
	t.Run("case", func(t *testing.T) {
		t.Parallel()
		rc := newReportCase(t, evidence.NewMemoryBlobs())
		var out bytes.Buffer
		require.NoError(t, custodyreport.Write(t.Context(), &out, rc.Locker, reportCaseID, reportOptions()))
		custodyGolden(t, filepath.Join("testdata", "case.md"), out.Bytes())
		assert.Contains(t, out.String(), "**Verdict: PASSED: no problem found.**")
	})
	t.Run("tampered", func(t *testing.T) {
		t.Parallel()
		rc := newReportCase(t, evidence.NewMemoryBlobs())
		log := tamperedReportLog(t, rc)
		rep := evidence.VerifyLog(log, rc.VKey)
		require.False(t, rep.OK())
		var out bytes.Buffer
		require.NoError(t, custodyreport.Render(&out, log, rc.VKey, rep, reportOptions()))
		custodyGolden(t, filepath.Join("testdata", "tampered.md"), out.Bytes())
		for i, p := range rep.Problems {
			requireLines(t, out.String(), fmt.Sprintf("%d. %s", i+1, p.Error()[:40]))
		}
	})
}

func TestCustodyReportContent(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	var out bytes.Buffer
	require.NoError(t, custodyreport.WriteLedger(t.Context(), &out, rc.Ledger, reportCaseID, reportOptions()))
	report := out.String()
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	cp := log.Checkpoints[len(log.Checkpoints)-1]
	fingerprint := evidence.KeyFingerprint(rc.VKey)

	for _, want := range []string{
		"# Chain of custody report: case INC-2026-0042",
		"- **Report generated at:** 2026-03-10T16:00:00+01:00",
		"- **Prepared by:** Dana Whitfield (dana), Internal Audit",
		"- **Log origin:** incidentkit/custody/INC-2026-0042",
		"- **Exhibits:** 2",
		"- **Custody records:** 6",
		"| EX-001 | fin-laptop-07.E01 | disk\\_image | 7000 | `" + rc.Items[0].Digests.SHA256 + "` | `" + rc.Items[0].Digests.SHA1 + "` | `" + rc.Items[0].Digests.MD5 + "` |",
		"| 2026-03-02T09:15:30+01:00 |",                                               // collected, in Lyon
		"| 2026-03-02T04:40:00-05:00 |",                                               // collected, in Boston
		"| 2026-03-02T16:05:00Z | Access denied | Mallory Quinn (mallory), Finance |", // refused, in London
		"| Transferred | Alice Moreau (alice), CSIRT | — | Alice Moreau (alice), CSIRT → Carol Lindqvist (carol), Secure Transport Ltd |",
		"| Checked out | Bob Ndiaye (bob), Forensics Lab |",
		"`" + rc.Items[0].Digests.SHA256 + "` (matches)",
		"| 5 | EX-001 | 2026-03-03T08:30:00-05:00 | Bob Ndiaye (bob), Forensics Lab | sha256sum (GNU coreutils) 9.4 | `" + rc.Items[0].Digests.SHA256 + "` | matches |",
		"- not the items' content: it was not re-hashed for this verification.",
		"| FTK Imager 4.7.1 | 0 |",
		"| sha256sum (GNU coreutils) 9.4 | 5 |",
		"| plaso 20240308 | 3 |",
		"- **Tree size:** 6 records",
		"- **Merkle root (base64):** `" + cp.Root.String() + "`",
		"- **Merkle root (hex):** `" + hex.EncodeToString(cp.Root[:]) + "`",
		"```text\n" + string(cp.Note) + "```\n",
		"```text\n" + rc.VKey + "\n```\n",
		"fingerprint, to compare by eye or read over the phone: `" + fingerprint + "`",
		"| EX-001 | ITEM-1 | 0 | 5 | 4 |",
		"| EX-002 | ITEM-2 | 1 | 3 | 2 |",
		"go run github.com/incidentkit/incidentkit/examples/custody-verify -fingerprint " + fingerprint + " bundle.tar",
	} {
		requireLines(t, report, want)
	}
	for _, data := range log.Records {
		leaf := sha256.Sum256(append([]byte{0}, data...))
		requireLines(t, report, "`"+hex.EncodeToString(leaf[:])+"`") // computed as the report says
	}

	t.Run("deterministic", func(t *testing.T) {
		var again bytes.Buffer
		require.NoError(t, custodyreport.WriteLedger(t.Context(), &again, rc.Ledger, reportCaseID, reportOptions()))
		assert.Equal(t, report, again.String())
	})
}

// TestCustodyReportHandCheck follows the report's instructions for
// checking one record by hand, for every record of a log, so the
// instructions stay true.
func TestCustodyReportHandCheck(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	for range 5 {
		rc.Record(t, evidence.Record{Item: rc.Items[1].ID, Action: evidence.ActionAccessed, Actor: reportBob, At: reportT0})
	}
	cp, err := rc.Ledger.Checkpoint(ctx, reportCaseID)
	require.NoError(t, err)
	opened, err := evidence.OpenCheckpoint(cp.Note, rc.VKey)
	require.NoError(t, err)
	log, err := rc.Ledger.Export(ctx, reportCaseID)
	require.NoError(t, err)

	// Record i is line i + 1 of the bundle's records.jsonl, as the report
	// says.
	var tarball bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &tarball, rc.Ledger, nil, reportCaseID, bundle.Options{}))
	tr := tar.NewReader(&tarball)
	var lines []string
	for {
		hdr, err := tr.Next()
		require.NoError(t, err, "the bundle holds records.jsonl")
		if hdr.Name == "records.jsonl" {
			all, err := io.ReadAll(tr)
			require.NoError(t, err)
			lines = strings.Split(strings.TrimSuffix(string(all), "\n"), "\n")
			break
		}
	}
	require.Len(t, lines, len(log.Records))
	for i, data := range log.Records {
		assert.Equal(t, string(data), lines[i], "record %d", i)
	}

	node := func(left, right []byte) []byte {
		sum := sha256.Sum256(append(append([]byte{1}, left...), right...))
		return sum[:]
	}
	for i, data := range log.Records {
		index := int64(i)
		leaf := sha256.Sum256(append([]byte{0}, data...))
		proof, err := rc.Ledger.ProveInclusion(ctx, reportCaseID, index, opened.Size)
		require.NoError(t, err)

		// RFC 9162, section 2.1.3.2, as the report words it.
		fn, sn, r := index, opened.Size-1, leaf[:]
		for _, p := range proof {
			require.NotZero(t, sn)
			if fn%2 == 1 || fn == sn {
				r = node(p[:], r)
				for fn%2 == 0 && fn != 0 {
					fn, sn = fn>>1, sn>>1
				}
			} else {
				r = node(r, p[:])
			}
			fn, sn = fn>>1, sn>>1
		}
		assert.Zero(t, sn, "record %d", i)
		assert.Equal(t, opened.Root[:], r, "record %d", i)
	}
}

// TestCustodyReportEscapesUserText records hostile text everywhere a
// custody record takes text, and checks none of it can break a table or
// reach the reader as Markdown or HTML: line by line, the report has the
// same markup as the report of the same case with harmless text.
func TestCustodyReportEscapesUserText(t *testing.T) {
	t.Parallel()
	// Two texts, each short enough for an item ID (MaxIDLen).
	for _, part := range []struct {
		hostile, want []string
	}{{
		hostile: []string{
			"pipe | in the middle",
			"new\nline and\r\ncarriage return",
			"`code span` and ``double``",
			"<script>alert(1)</script>",
			"<img src=x onerror=alert(1)>",
			"back\\slash\\|pipe",
		},
		want: []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "new<br>line and<br>carriage return", "pipe \\| in the middle"},
	}, {
		hostile: []string{
			"[a link](https://evil.example/) ![an image](https://evil.example/x.png)",
			"**bold** _emphasis_ ~~struck~~ $math$",
			"# not a heading",
			"&lt;entity&gt;",
			"invoice\u202Egpj.exe",
			"zero\u200Bwidth and bell\a",
		},
		want: []string{"\\[a link\\](https\\[://\\]evil.example/) !\\[an image\\]", "&amp;lt;entity&amp;gt;", "invoice\\\\u202Egpj.exe",
			"bell\\\\u0007"},
	}} {
		checkReportEscapes(t, strings.Join(part.hostile, " "), part.want...)
	}
}

// checkReportEscapes checks the report of a case with hostile text
// everywhere holds the lines want and has the markup of a report of
// harmless text.
func checkReportEscapes(t *testing.T, hostile string, want ...string) {
	t.Helper()
	harmless := hostileReport(t, "X", "Y")
	// A ledger refuses invalid UTF-8 and NUL bytes, but an imported log
	// may hold some.
	report := hostileReport(t, hostile, "bad utf-8 \xff\xfe and nul\x00")

	for _, bad := range []string{"<script", "<img", "\u202E", "\u200B", "\x00", "\a", "\xff", "&lt;entity"} {
		assert.False(t, strings.Contains(report, bad), "the report holds %q", bad)
	}
	requireLines(t, report, append(want, "bad utf-8 \\\\xFF\\\\xFE and nul\\\\u0000")...)
	checkRendersNothingLive(t, report)

	// The notes on defanged and escaped text are the one addition.
	if strings.Contains(hostile, "://") {
		require.Contains(t, report, "\n\nIn text taken from the log, a colon followed by two slashes")
	}
	require.Contains(t, report, "\n\nCharacters taken from the log that would not show as themselves")
	report = shownAsNotes.ReplaceAllString(report, "")
	want, got := strings.Split(harmless, "\n"), strings.Split(report, "\n")
	require.Len(t, got, len(want), "hostile text adds no line")
	columns := 0
	for n := range got {
		assert.Equal(t, reportMarkup(want[n]), reportMarkup(got[n]), "line %d: %s", n+1, got[n])
		if !strings.HasPrefix(got[n], "|") {
			columns = 0
			continue
		}
		cells := strings.Count(reportMarkup(got[n]), "|") - 1
		if columns == 0 {
			columns = cells
		}
		assert.Equal(t, columns, cells, "line %d keeps the table's columns: %s", n+1, got[n])
	}
}

// shownAsNotes matches the notes of a report that defanged or escaped
// text.
var shownAsNotes = regexp.MustCompile(`(?m)^(In text taken from the log|Characters taken from the log).*\n\n`)

// hostileReport returns the verified report of a case whose every piece
// of text is text, and whose first item's name, in the item list only,
// ends with suffix.
func hostileReport(t *testing.T, text, suffix string) string {
	t.Helper()
	ctx := t.Context()
	key, vkey := reportSigningKey(t)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	actor := evidence.Party{ID: "id-" + text, Name: text, Organization: text}
	item := evidence.Item{ID: evidence.ItemID(text), CaseID: reportCaseID, Exhibit: text, Name: text, Kind: evidence.KindFile,
		MediaType: text, Size: 1, Digests: evidence.Digests{SHA256: strings.Repeat("ab", 32)}, CollectedBy: actor, CollectedAt: reportT0,
		Source:   evidence.Source{Host: text, Path: text, SerialNumber: text, Network: []string{text}, Description: text},
		Location: text, Labels: []string{text}}
	for _, r := range []evidence.Record{
		{Action: evidence.ActionCollected, Snapshot: &item},
		{Action: evidence.ActionTransferred, From: actor, To: actor},
		{Action: evidence.ActionVerified, Digest: strings.Repeat("cd", 32)},
	} {
		r.Case, r.Item, r.Actor, r.At = reportCaseID, item.ID, actor, reportT0
		r.Authority, r.Location, r.Reason, r.Tool, r.Notes = text, text, text, text, text
		_, err = ledger.Append(ctx, r)
		require.NoError(t, err)
	}
	_, err = ledger.Checkpoint(ctx, reportCaseID)
	require.NoError(t, err)
	log, err := ledger.Export(ctx, reportCaseID)
	require.NoError(t, err)
	log.Items[0].Name += suffix
	opts := reportOptions()
	opts.Title, opts.PreparedBy = text, actor
	var out bytes.Buffer
	require.NoError(t, custodyreport.Render(&out, log, vkey, evidence.VerifyLog(log, vkey), opts))
	return out.String()
}

// reportMarkup returns the characters of a line of Markdown that could be
// markup: escaped characters, entities and line breaks left out.
func reportMarkup(line string) string {
	line = regexp.MustCompile(`\\.|&(amp|lt|gt);|<br>`).ReplaceAllString(line, "")
	return regexp.MustCompile("[^|`*_~\\[\\]$#<>&]").ReplaceAllString(line, "")
}

// TestCustodyReportFencesVerbatim checks a checkpoint note holding
// backticks cannot close the block that shows it.
func TestCustodyReportFencesVerbatim(t *testing.T) {
	t.Parallel()
	log := evidence.CaseLog{Case: reportCaseID, Origin: "o", Checkpoints: []evidence.Checkpoint{{Size: 0, Note: []byte("a\n````\n## injected\n")}}}
	var out bytes.Buffer
	require.NoError(t, custodyreport.Render(&out, log, "", nil, reportOptions()))
	assert.Contains(t, out.String(), "`````text\na\n````\n## injected\n`````\n")
}

func TestCustodyReportVerification(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	render := func(t *testing.T, rep *evidence.Report, opts custodyreport.Options) string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, custodyreport.Render(&out, log, rc.VKey, rep, opts))
		return out.String()
	}

	t.Run("none", func(t *testing.T) {
		report := render(t, nil, reportOptions())
		assert.Contains(t, report, "- **Verification:** NOT VERIFIED: no verification outcome was supplied with this report\n")
		assert.Contains(t, report, "**Verdict: NOT VERIFIED")
	})
	t.Run("of another log", func(t *testing.T) {
		rep := evidence.VerifyLog(evidence.CaseLog{Case: log.Case, Origin: log.Origin, Records: log.Records[:3], Items: log.Items}, rc.VKey)
		report := render(t, rep, reportOptions())
		assert.Contains(t, report, "**Warning:** this outcome is of case INC-2026-0042 at 3 records, but this report shows case INC-2026-0042 at 6 records.")
	})
	t.Run("content verified", func(t *testing.T) {
		opts := reportOptions()
		opts.ContentVerified = true
		report := render(t, evidence.VerifyLog(log, rc.VKey), opts)
		assert.Contains(t, report, "- each item's content, re-hashed from the blob store")
	})
	t.Run("verify command", func(t *testing.T) {
		opts := reportOptions()
		opts.VerifyCommand = "irctl custody verify"
		report := render(t, evidence.VerifyLog(log, rc.VKey), opts)
		assert.Contains(t, report, "irctl custody verify -fingerprint "+evidence.KeyFingerprint(rc.VKey)+" bundle.tar")
	})
	t.Run("problems beyond those listed", func(t *testing.T) {
		altered := log
		altered.Records = slices.Clone(log.Records)
		for i := range altered.Records {
			altered.Records[i] = append(slices.Clone(altered.Records[i]), ' ')
		}
		rep := evidence.VerifyLogWith(altered, rc.VKey, evidence.VerifyOptions{MaxProblems: 2})
		require.Len(t, rep.Problems, 2)
		require.Positive(t, rep.Omitted)
		report := render(t, rep, reportOptions())
		assert.Contains(t, report, fmt.Sprintf("- **Verification:** FAILED: %d problems found, the first 2 listed\n", rep.ProblemCount()))
		assert.Contains(t, report, fmt.Sprintf("\nand %d more not listed.\n", rep.Omitted))
	})
	t.Run("no checkpoint, no key", func(t *testing.T) {
		bare := log
		bare.Checkpoints = nil
		var out bytes.Buffer
		require.NoError(t, custodyreport.Render(&out, bare, "", nil, reportOptions()))
		assert.Contains(t, out.String(), "The log has no signed checkpoint")
		assert.Contains(t, out.String(), "No verifier key was supplied")
		assert.Contains(t, out.String(), "-fingerprint <fingerprint> bundle.tar")
	})
}

// reportAlteredBlobs serves one blob with a byte changed, as a disk that rotted
// or a person who edited it would.
type reportAlteredBlobs struct {
	*evidence.MemoryBlobs
	digest string
}

func (a reportAlteredBlobs) Open(ctx context.Context, sha256hex string) (io.ReadCloser, error) {
	rc, err := a.MemoryBlobs.Open(ctx, sha256hex)
	if err != nil || sha256hex != a.digest {
		return rc, err
	}
	content, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	content = bytes.Clone(content)
	content[0] ^= 1
	return evidence.NewVerifyingReader(io.NopCloser(bytes.NewReader(content)), sha256hex), nil
}

func TestLockerCustodyReportRehashesContent(t *testing.T) {
	t.Parallel()
	blobs := &reportAlteredBlobs{MemoryBlobs: evidence.NewMemoryBlobs()}
	rc := newReportCase(t, blobs)
	blobs.digest = rc.Items[1].Digests.SHA256

	var out bytes.Buffer
	require.NoError(t, custodyreport.Write(t.Context(), &out, rc.Locker, reportCaseID, reportOptions()))
	report := out.String()
	assert.Contains(t, report, "- **Verification:** FAILED: 1 problem found\n")
	assert.Contains(t, report, "- each item's content, re-hashed from the blob store")
	assert.Contains(t, report, "1. evidence: tampered blob in case INC-2026-0042, item ITEM-2: expected "+rc.Items[1].Digests.SHA256)

	out.Reset()
	require.NoError(t, custodyreport.WriteLedger(t.Context(), &out, rc.Ledger, reportCaseID, reportOptions()))
	assert.Contains(t, out.String(), "- **Verification:** PASSED: no problem found\n", "the ledger alone does not read content")
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	err := custodyreport.WriteLedger(t.Context(), io.Discard, rc.Ledger, "INC-NONE", reportOptions())
	assert.ErrorIs(t, err, evidence.ErrNotFound)
	err = custodyreport.Write(t.Context(), io.Discard, rc.Locker, "INC-NONE", reportOptions())
	assert.ErrorIs(t, err, evidence.ErrNotFound)

	broken := errors.New("disk full")
	err = custodyreport.Write(t.Context(), reportFailingWriter{broken}, rc.Locker, reportCaseID, reportOptions())
	assert.ErrorIs(t, err, broken)
}

type reportFailingWriter struct{ err error }

func (f reportFailingWriter) Write([]byte) (int, error) { return 0, f.err }

// TestCustodyReportInconsistentItems renders a log whose item list was
// tampered with: an item listed twice, another missing. The report
// describes the missing item from its records and warns about it.
func TestCustodyReportInconsistentItems(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	log.Items = []evidence.Item{log.Items[0], log.Items[0]}

	var out bytes.Buffer
	require.NoError(t, custodyreport.Render(&out, log, rc.VKey, evidence.VerifyLog(log, rc.VKey), reportOptions()))
	requireLines(t, out.String(),
		"**Warning:** exhibit EX-002 is not in the case's item list: it is described here from its custody records.",
		"- **Exhibits:** 3",
	)
}

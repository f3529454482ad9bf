package custodyreport_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/custodyreport"
	"github.com/incidentkit/incidentkit/internal/mdtext/mdtexttest"
)

// hostileTexts is what an attacker might put in any text a custody log
// holds, each aimed at a GitHub-flavoured Markdown renderer or at the
// terminal or editor a report is read in.
var hostileTexts = []string{
	// Autolinks, preceded by each character after which GFM looks for one.
	"see https://evil.example/x and http://evil.example",
	"HTTPS://EVIL.EXAMPLE/UPPER ftp://evil.example/file",
	"www.evil.example WWW.EVIL.EXAMPLE/path wwww.evil.example",
	"(www.evil.example) *www.evil.example* _https://evil.example_ ~www.evil.example~",
	"mallory@evil.example mailto:mallory@evil.example xmpp:mallory@evil.example/res",
	"a.b-c+d_e@evil.example. @octocat cc @org/team",
	"<https://evil.example> <mallory@evil.example> <mailto:m@evil.example>",
	// Links, images, references and footnotes.
	"[a link](https://evil.example/) ![an image](https://evil.example/x.png)",
	"[ref]\n\n[ref]: https://evil.example \"title\"",
	"[^1]\n\n[^1]: https://evil.example",
	"[x][y] [x]: /relative",
	// Raw HTML and entities.
	"<a href=\"https://evil.example\">click</a> <img src=x onerror=alert(1)>",
	"<script>alert(1)</script> <!-- comment --> <?php ?> <![CDATA[x]]> <!DOCTYPE html>",
	"&lt;img src=x&gt; &#x3C;script&#x3E; &#106;avascript:alert(1) &amp;",
	// Block markup, if the text were to start a line.
	"- [ ] task\n- [x] done\n| a | b |\n|---|---|\n| c | d |",
	"```\ncode\n```\n    indented\n# heading\n---\n> quote\n1. list",
	// Escapes an attacker writes, hoping to be unescaped.
	"www\\.evil.example https:\\/\\/evil.example \\@octocat h\ttps://evil.example",
	// Terminal escapes, control characters, bidirectional overrides.
	"\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b31m",
	"invoice\u202Egpj.exe \u2066isolate\u2069 \u200Bzero\u200Dwidth \u061Calm \uFEFFbom",
	"next\u0085line\u2028separator\u2029paragraph\rreturn\vtab\fform\x7fdel",
	"bad utf-8 \xff\xfe and nul\x00",
}

// gfm is a GitHub-flavoured Markdown renderer that lets raw HTML through,
// so that any raw HTML a report holds shows.
// TestCustodyReportRendersNothingLive renders the report of a log whose
// every text is hostile with a GFM renderer: no link, image, footnote,
// task box or raw HTML comes of it, and no control or formatting
// character reaches the HTML.
func TestCustodyReportRendersNothingLive(t *testing.T) {
	t.Parallel()
	for _, hostile := range hostileTexts {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			checkRendersNothingLive(t, renderHostile(t, hostile))
		})
	}
	t.Run("all at once", func(t *testing.T) {
		t.Parallel()
		checkRendersNothingLive(t, renderHostile(t, strings.Join(hostileTexts, " ")))
	})
}

// TestCustodyReportShowsHostileTextVisibly checks what a reader of the
// rendered report sees of hostile text: the text itself, defanged, with
// the characters that would not show as themselves written as escapes.
func TestCustodyReportShowsHostileTextVisibly(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ hostile, shown string }{
		{"see https://evil.example/x", "see https[://]evil.example/x"},
		{"WWW.evil.example", "WWW[.]evil.example"},
		{"mallory@evil.example", "mallory[@]evil.example"},
		{"@octocat", "[@]octocat"},
		{"<img src=x>", "<img src=x>"},
		{"[a](b)", "[a](b)"},
		{"invoice\u202Egpj.exe", `invoice\u202Egpj.exe`},
		{"\x1b[31mred", `\u001B[31mred`},
		{"C1 \u009b31m", `C1 \u009B31m`},
		{"tag \U000E0041", `tag \U000E0041`},
		{"bad \xff", `bad \xFF`},
		{`C:\Users\alice\image.E01`, `C:\Users\alice\image.E01`},
	} {
		doc := renderHTML(t, renderHostile(t, tt.hostile))
		require.Contains(t, plainText(doc), tt.shown, "%q", tt.hostile)
	}
	// The report says how it shows such text, when it has any.
	require.Contains(t, plainText(renderHTML(t, renderHostile(t, "mallory@evil.example"))),
		"In text taken from the log, a colon followed by two slashes, the dot after www and the at sign are shown in brackets, as [://], www[.] and [@]")
	require.Contains(t, plainText(renderHTML(t, renderHostile(t, "\x1b[31m"))),
		`are shown as escapes such as \u202E, and bytes that are not UTF-8 as escapes such as \xFF.`)
}

// TestCustodyReportVerbatimBlocksShowControls checks the checkpoint note
// and the verifier key, shown verbatim in code blocks, have their control
// and formatting characters written as escapes, lines kept.
func TestCustodyReportVerbatimBlocksShowControls(t *testing.T) {
	t.Parallel()
	note := "origin\n\x1b[2J\x1b[Hcleared\u202Etxt.exe\n\t\r\x00\u009b\x9b\xff\n— key sig\n"
	log := evidence.CaseLog{Case: reportCaseID, Origin: "o", Checkpoints: []evidence.Checkpoint{{Size: 0, Note: []byte(note)}}}
	var out bytes.Buffer
	require.NoError(t, custodyreport.Render(&out, log, "key\u2066+\x07", nil, reportOptions()))
	require.Contains(t, out.String(),
		"```text\norigin\n\\u001B[2J\\u001B[Hcleared\\u202Etxt.exe\n\\u0009\\u000D\\u0000\\u009B\\x9B\\xFF\n— key sig\n```\n")
	require.Contains(t, out.String(), "```text\nkey\\u2066+\\u0007\n```\n")
	checkRendersNothingLive(t, out.String())
}

// FuzzCustodyReportRendersNothingLive is TestCustodyReportRendersNothingLive
// for any text.
func FuzzCustodyReportRendersNothingLive(f *testing.F) {
	for _, s := range hostileTexts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hostile string) {
		checkRendersNothingLive(t, renderHostile(t, hostile))
	})
}

// renderHostile renders the report of a log whose every text is hostile:
// each field of each record, the item list, the checkpoint's note, the
// verifier key, a verification problem and the report's own title and
// preparer. The log is built by hand, so that no limit of a ledger stops
// any text, as none stops a forged bundle's.
func renderHostile(t testing.TB, hostile string) string {
	t.Helper()
	actor := evidence.Party{ID: hostile, Name: hostile + " name", Organization: hostile}
	item := evidence.Item{ID: evidence.ItemID(hostile), CaseID: evidence.CaseID(hostile), Exhibit: hostile, Name: hostile,
		Kind: evidence.Kind(hostile), MediaType: hostile, Size: 1,
		Digests:     evidence.Digests{SHA256: hostile, SHA1: hostile, MD5: hostile},
		CollectedBy: actor, CollectedAt: reportT0,
		Source:   evidence.Source{Host: hostile, Path: hostile, SerialNumber: hostile, Network: []string{hostile, hostile}, Description: hostile},
		Location: hostile, Labels: []string{hostile}}
	log := evidence.CaseLog{Case: evidence.CaseID(hostile), Origin: hostile, Items: []evidence.Item{item}}
	for _, r := range []evidence.Record{
		{Action: evidence.ActionCollected, Snapshot: &item},
		{Action: evidence.ActionTransferred, From: actor, To: actor},
		{Action: evidence.ActionVerified, Digest: hostile},
		{Action: evidence.Action(hostile)},
	} {
		r.Case, r.Item, r.Actor, r.At = evidence.CaseID(hostile), item.ID, actor, reportT0
		r.Authority, r.Location, r.Reason, r.Tool, r.Notes = hostile, hostile, hostile, hostile, hostile
		data, err := r.Encode()
		if err != nil {
			data = []byte(hostile) // a record that does not decode
		}
		log.Records = append(log.Records, data)
	}
	log.Records = append(log.Records, []byte(hostile))
	log.Checkpoints = []evidence.Checkpoint{{Origin: hostile, Size: 1, Note: []byte(hostile)}}
	rep := evidence.VerifyLog(log, hostile)
	rep.Problems = append(rep.Problems, errors.New(hostile))
	opts := reportOptions()
	opts.Title, opts.PreparedBy = hostile, actor
	var out bytes.Buffer
	require.NoError(t, custodyreport.Render(&out, log, hostile, rep, opts))
	return out.String()
}

// checkRendersNothingLive fails if anything live comes of rendering report with
// a GFM renderer (see mdtexttest.CheckRendersNothingLive).
func checkRendersNothingLive(t testing.TB, report string) {
	t.Helper()
	mdtexttest.CheckRendersNothingLive(t, report, reportTag)
}

var (
	// reportTag matches the tags the report's own markup makes.
	reportTag = regexp.MustCompile(`^(</?(h[1-3]|p|ul|ol|li|strong|table|thead|tbody|tr|th|td|pre|code)>|<br>|` +
		`<ol start="[0-9]+">|<code class="language-(text|sh)">)$`)
)

func renderHTML(t testing.TB, report string) string { return mdtexttest.RenderHTML(t, report) }

func plainText(doc string) string { return mdtexttest.PlainText(doc) }

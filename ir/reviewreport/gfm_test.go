package reviewreport_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/internal/mdtext/mdtexttest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/reviewreport"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// hostileTexts is what an attacker, or a careless responder, might put in
// any text an incident holds, each aimed at a GitHub-flavoured Markdown
// renderer or at the terminal or editor the document is read in.
var hostileTexts = []string{
	"see https://evil.example/x and http://evil.example",
	"www.evil.example WWW.EVIL.EXAMPLE/path",
	"mallory@evil.example mailto:mallory@evil.example @octocat",
	"<https://evil.example> <mallory@evil.example>",
	"[a link](https://evil.example/) ![an image](https://evil.example/x.png)",
	"[ref]\n\n[ref]: https://evil.example \"title\"",
	"[^1]\n\n[^1]: https://evil.example",
	"<a href=\"https://evil.example\">click</a> <img src=x onerror=alert(1)>",
	"<script>alert(1)</script> <!-- comment --> <![CDATA[x]]>",
	"&lt;img src=x&gt; &#x3C;script&#x3E; &amp;",
	"- [ ] task\n- [x] done\n| a | b |\n|---|---|\n| c | d |",
	"```\ncode\n```\n    indented\n# heading\n---\n> quote\n1. list",
	"www\\.evil.example https:\\/\\/evil.example \\@octocat",
	"\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b31m",
	"invoice\u202Egpj.exe \u2066isolate\u2069 \u200Bzero\u200Dwidth \uFEFFbom",
	"next\u0085line\u2028separator\u2029paragraph\rreturn\vtab\fform\x7fdel",
	"bad utf-8 \xff\xfe and nul\x00",
}

// gfm is a GitHub-flavoured Markdown renderer that lets raw HTML through,
// so that any raw HTML a document holds shows.
// hostileDocument is a document whose every text is h, built by hand so
// that no limit of the Responder stops any of it.
func hostileDocument(t testing.TB, h string) reviewreport.Document {
	t.Helper()
	who := ir.Actor{ID: h, Name: h + " name"}
	at := t0
	inc := &ir.Incident{ID: ir.ID(h), Title: h, Summary: h, Severity: ir.Severity(h), Priority: ir.Priority(h),
		Category: ir.Category(h), TLP: ir.TLP(h), Model: h, Phase: phases.Phase(h),
		PhaseHistory: []ir.PhaseInterval{{Phase: phases.Phase(h), Entered: at, Left: at.Add(time.Hour)},
			{Phase: phases.Phase(h), Action: phases.Action(h), Entered: at.Add(time.Hour)}},
		Impact:  ir.Impact{Functional: ir.FunctionalImpact(h), Information: []ir.InformationImpact{ir.InformationImpact(h)}, Recoverability: ir.Recoverability(h)},
		Verdict: ir.Verdict(h), Resolution: h,
		Assets:      []ir.Asset{{Kind: ir.AssetKind(h), Name: h, Description: h, AddedAt: at, AddedBy: who}},
		Observables: []ir.Observable{{Type: ir.ObservableType(h), Value: h, Description: h, Malicious: true, AddedAt: at, AddedBy: who}},
		Tasks: []ir.Task{{ID: 1, Title: h, Phase: phases.Phase(h), Required: true, Assignee: who, AddedAt: at, AddedBy: who,
			Done: true, DoneAt: at, DoneBy: who, Outcome: h}},
		Decisions: []ir.Decision{{ID: 1, Summary: h, Options: []string{h, h}, Rationale: h, DecidedAt: at, DecidedBy: who}},
		Evidence: []ir.EvidenceRef{{Item: evidence.ItemID(h), Exhibit: h, Name: h, Kind: evidence.Kind(h), Size: 1,
			SHA256: h, CollectedAt: at, CollectedBy: who}},
		Review: &ir.Review{Summary: h, RootCause: h, ContributingFactors: []string{h}, WentWell: []string{h},
			WentPoorly: []string{h}, LessonsLearned: []string{h}, Revision: 1, RecordedAt: at, RecordedBy: who},
		FollowUps: []ir.FollowUp{{ID: 1, Title: h, Owner: who, Due: at, Reference: h, AddedAt: at, AddedBy: who,
			Done: true, DoneAt: at, DoneBy: who, Outcome: h}, {ID: 2, Title: h, AddedAt: at, AddedBy: who}},
		Labels: []string{h, h},
		Times:  ir.Lifecycle{Opened: at, Closed: at.Add(2 * time.Hour)}, OpenedBy: who, Version: 2,
	}
	var timeline []ir.Event
	for _, d := range []ir.EventData{
		&ir.Opened{Title: h, Severity: ir.Severity(h), Phase: phases.Phase(h)},
		&ir.SeverityChanged{From: ir.Severity(h), To: ir.Severity(h)},
		&ir.NoteAdded{Text: h},
		&ir.ReviewRecorded{Review: *inc.Review},
		&ir.FollowUpAdded{FollowUp: inc.FollowUps[0]},
	} {
		timeline = append(timeline, ir.Event{IncidentID: inc.ID, Type: d.EventType(), At: at, Actor: who, Reason: h, Data: d})
	}
	payload, err := json.Marshal(notify.Message{Event: notify.Event{Summary: h, Actor: notify.Actor{ID: h, Name: h}}})
	require.NoError(t, err)
	var dls []notify.Delivery
	for _, st := range []notify.DeliveryStatus{notify.StatusDelivered, notify.StatusDead, notify.StatusHeld, notify.DeliveryStatus(h)} {
		dls = append(dls, notify.Delivery{Type: h, Channel: h, Audience: notify.Audience(h), Payload: payload, Status: st,
			LastError: h, Receipt: notify.Receipt{ID: h}, CreatedAt: at, UpdatedAt: at})
	}
	dls = append(dls, notify.Delivery{Type: h, Channel: h, Payload: []byte(h), Status: notify.StatusPending})
	custody := map[evidence.ItemID]reviewreport.CustodyStatus{evidence.ItemID(h): {Records: 2, Verified: true, Problems: []string{h},
		Last: evidence.Record{Action: evidence.ActionTransferred, At: at, Actor: evidence.Party{ID: h, Name: h},
			To: evidence.Party{ID: h, Name: h}}}}
	return reviewreport.Document{Incident: inc, Timeline: timeline, Custody: custody, Deliveries: dls, GeneratedAt: at.Add(3 * time.Hour)}
}

func renderHostile(t testing.TB, h string) string {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&out, hostileDocument(t, h)))
	return out.String()
}

// TestMarkdownRendersNothingLive renders the document of an incident whose
// every text is hostile with a GFM renderer: no link, image, footnote,
// task box or raw HTML comes of it, and no control or formatting
// character reaches the HTML.
func TestMarkdownRendersNothingLive(t *testing.T) {
	t.Parallel()
	for _, h := range hostileTexts {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			checkRendersNothingLive(t, renderHostile(t, h))
		})
	}
	t.Run("all at once", func(t *testing.T) {
		t.Parallel()
		checkRendersNothingLive(t, renderHostile(t, strings.Join(hostileTexts, " ")))
	})
}

// TestMarkdownShowsHostileTextVisibly checks what a reader of the rendered
// document sees of hostile text, and that the document says how it shows
// such text.
func TestMarkdownShowsHostileTextVisibly(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ hostile, shown string }{
		{"see https://evil.example/x", "see https[://]evil.example/x"},
		{"WWW.evil.example", "WWW[.]evil.example"},
		{"mallory@evil.example", "mallory[@]evil.example"},
		{"<img src=x>", "<img src=x>"},
		{"[a](b)", "[a](b)"},
		{"invoice\u202Egpj.exe", `invoice\u202Egpj.exe`},
		{"bad \xff", `bad \xFF`},
	} {
		require.Contains(t, plainText(renderHTML(t, renderHostile(t, tt.hostile))), tt.shown, "%q", tt.hostile)
	}
	require.Contains(t, plainText(renderHTML(t, renderHostile(t, "mallory@evil.example"))),
		"In text the responders wrote, a colon followed by two slashes, the dot after www and the at sign are shown in brackets")
	require.Contains(t, plainText(renderHTML(t, renderHostile(t, "\x1b[31m"))),
		`are shown as escapes such as \u202E, and bytes that are not UTF-8 as escapes such as \xFF.`)
	require.NotContains(t, renderHostile(t, "plain words"), "shown in brackets")
}

// FuzzMarkdownRendersNothingLive is TestMarkdownRendersNothingLive for
// any text.
func FuzzMarkdownRendersNothingLive(f *testing.F) {
	for _, s := range hostileTexts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		checkRendersNothingLive(t, renderHostile(t, h))
	})
}

// checkRendersNothingLive fails if anything live comes of rendering doc with
// a GFM renderer (see mdtexttest.CheckRendersNothingLive).
func checkRendersNothingLive(t testing.TB, doc string) {
	t.Helper()
	mdtexttest.CheckRendersNothingLive(t, doc, documentTag)
}

var (
	// documentTag matches the tags the document's own markup makes.
	documentTag = regexp.MustCompile(`^(</?(h[1-3]|p|ul|ol|li|strong|table|thead|tbody|tr|th|td|code)>|<br>|<ol start="[0-9]+">)$`)
)

func renderHTML(t testing.TB, doc string) string { return mdtexttest.RenderHTML(t, doc) }

func plainText(doc string) string { return mdtexttest.PlainText(doc) }

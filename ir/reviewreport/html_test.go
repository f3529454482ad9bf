package reviewreport_test

import (
	"bytes"
	"context"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/reviewreport"
	"github.com/incidentkit/incidentkit/phases"
)

func TestHTMLGolden(t *testing.T) {
	t.Parallel()
	s := runStory(t)
	doc, err := reviewreport.Gather(context.Background(), reviewreport.Sources{Responder: s.r, Locker: s.locker,
		Deliveries: storyDeliveries(t, s), Clock: s.clock}, s.id)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, reviewreport.HTML(&out, doc))
	golden(t, filepath.Join("testdata", "review.html.golden"), out.Bytes())
	checkHTMLIsInert(t, out.String())

	page := out.String()
	// The course chart: the stays back in containment, eradication and
	// recovery are loops, and the move back is drawn red.
	assert.Equal(t, 3, strings.Count(page, `class="bar loop"`), "three stays in phases left before")
	assert.Equal(t, 1, strings.Count(page, `class="move back"`), "one move back")
	assert.Contains(t, page, ">Due after this span:</text>")
	assert.Contains(t, page, ">#2 2026-03-16<title>")
	// The process chart: the actions taken are drawn solid, the others not.
	assert.Contains(t, page, `<title>Return to containment (taken 1×)</title>`)
	assert.Contains(t, page, `<title>Dismiss as false positive</title>`)
	assert.Equal(t, 7, strings.Count(page, `class="box visited`), "every phase of SANS was visited")

	var again bytes.Buffer
	require.NoError(t, reviewreport.HTML(&again, doc))
	assert.Equal(t, page, again.String(), "the same document gives the same bytes")
}

// TestHTMLOfHostileText checks that the page of an incident whose every
// text is hostile holds only the markup the template makes, and shows
// every character that would not show as itself as an escape.
func TestHTMLOfHostileText(t *testing.T) {
	t.Parallel()
	for _, h := range append(hostileTexts, strings.Join(hostileTexts, " ")) {
		doc := hostileDocument(t, h)
		doc.Model = phases.SANS
		var out bytes.Buffer
		require.NoError(t, reviewreport.HTML(&out, doc))
		checkHTMLIsInert(t, out.String())
	}
	var out bytes.Buffer
	require.NoError(t, reviewreport.HTML(&out, hostileDocument(t, "invoice\u202Egpj.exe <img src=x> \xff")))
	assert.Contains(t, out.String(), `invoice\u202Egpj.exe &lt;img src=x&gt; \xFF`)
}

// TestHTMLOfAnOpenIncident checks the pictures of an incident still open,
// with a deadline inside its span, and of one with no model.
func TestHTMLOfAnOpenIncident(t *testing.T) {
	t.Parallel()
	inc := &ir.Incident{ID: "INC-7", Title: "Beaconing", Severity: ir.SeverityLow, Model: phases.NIST.Name(),
		Phase: phases.DetectionAndAnalysis,
		PhaseHistory: []ir.PhaseInterval{
			{Phase: phases.Preparation, Entered: t0, Left: t0.Add(10 * time.Minute)},
			{Phase: phases.DetectionAndAnalysis, Action: phases.Detect, Entered: t0.Add(10 * time.Minute)},
		},
		FollowUps: []ir.FollowUp{{ID: 1, Title: "Patch", Due: t0.Add(time.Hour), AddedAt: t0, AddedBy: alice}},
		Times:     ir.Lifecycle{Opened: t0}, OpenedBy: alice, Version: 3}
	var out bytes.Buffer
	require.NoError(t, reviewreport.HTML(&out, reviewreport.Document{Incident: inc, Model: phases.NIST, GeneratedAt: t0.Add(2 * time.Hour)}))
	page := out.String()
	checkHTMLIsInert(t, page)
	assert.Contains(t, page, `class="bar ongoing"`)
	assert.Contains(t, page, `>follow-up 1 due</text>`)
	assert.Contains(t, page, `<strong class="warn">overdue</strong>`)
	assert.Contains(t, page, `class="box visited current"`)
	assert.NotContains(t, page, "Due after this span")

	out.Reset()
	require.NoError(t, reviewreport.HTML(&out, reviewreport.Document{Incident: inc}))
	checkHTMLIsInert(t, out.String())
	assert.NotContains(t, out.String(), "The phase model, with the path the incident took", "no model, no process picture")
	assert.Contains(t, out.String(), "The phases of the incident over time")

	// Without a model, a closed incident's last phase is where it ended,
	// not a phase it spent time in.
	closed := *inc
	closed.Phase = "done"
	closed.PhaseHistory = append([]ir.PhaseInterval{closed.PhaseHistory[0]},
		ir.PhaseInterval{Phase: "done", Action: "finish", Entered: t0.Add(10 * time.Minute)})
	closed.Times.Closed = t0.Add(10 * time.Minute)
	out.Reset()
	require.NoError(t, reviewreport.HTML(&out, reviewreport.Document{Incident: &closed, GeneratedAt: t0.Add(2 * time.Hour)}))
	assert.NotContains(t, out.String(), "still there")
	assert.NotContains(t, out.String(), ">done</text>", "no row for the phase it ended in")

	assert.ErrorIs(t, reviewreport.HTML(&out, reviewreport.Document{}), ir.ErrInvalid)
}

var (
	anyTag = regexp.MustCompile(`<[^>]*>`)
	// pageTag matches the tags the page's own template makes, with the
	// attributes it gives them.
	pageTag = regexp.MustCompile(`^(<!DOCTYPE html>|</?(html|head|title|style|body|header|main|section|h1|h2|h3|p|dl|dt|dd|ul|li|table|thead|tbody|tr|th|td|strong|figure|figcaption|svg|defs|marker|path|circle|line|rect|text|title)>` +
		`|<html lang="en">|<meta charset="utf-8">|<meta name="viewport" content="width=device-width, initial-scale=1">` +
		`|<section id="[a-z-]+">|<td class="mono">|<strong class="warn">|<dl class="facts">` +
		`|<svg xmlns="http://www.w3.org/2000/svg" viewBox="[0-9. ]+" role="img" aria-label="[A-Za-z ,]+">` +
		`|<marker id="arrow(-taken)?" [a-zA-Z0-9="\- ]+>|<path d="M 0 0 L 10 5 L 0 10 z" fill="#[0-9a-f]+"/>` +
		`|<circle [a-z0-9=". #]+/>|<line [a-z0-9=". #\-()]+/?>|<line class="[a-z ]+" [a-z0-9=". ]+/?>` +
		`|<rect class="[a-z ]+" [a-z0-9=". ]+/?>|<text [a-z0-9=". \-]+>|<text class="[a-z\- ]+" [a-z0-9=". \-]+>` +
		`|<path class="edge( taken)?" d="[MLC0-9., \-]+" marker-end="url\(#arrow(-taken)?\)">)$`)
)

// checkHTMLIsInert fails if page holds markup its template does not make
// (so that no text reached the reader as markup), a link, a script or an
// external resource, or a character that would not show as itself.
func checkHTMLIsInert(t *testing.T, page string) {
	t.Helper()
	style := strings.Index(page, "<style>")
	end := strings.Index(page, "</style>")
	require.True(t, style >= 0 && end > style)
	css, rest := page[style:end], page[:style]+page[end:]
	assert.NotContains(t, css, "url(", "the style sheet loads nothing")
	assert.NotContains(t, css, "@import")
	tags := anyTag.FindAllString(rest, -1)
	for _, tag := range tags {
		if !pageTag.MatchString(tag) {
			t.Errorf("the page holds markup its template does not make: %s", tag)
		}
	}
	markup := strings.ToLower(strings.Join(tags, "\n"))
	for _, bad := range []string{"<script", "<a ", "<img", "<iframe", "<link", " src=", " href=", "javascript:"} {
		if strings.Contains(markup, bad) {
			t.Errorf("the page's markup holds %q", bad)
		}
	}
	text := html.UnescapeString(anyTag.ReplaceAllString(rest, " "))
	for i, r := range text {
		if r == utf8.RuneError && !strings.HasPrefix(text[i:], "\uFFFD") {
			t.Errorf("the page holds a byte that is not UTF-8 at %d", i)
		}
		if r != '\n' && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			t.Errorf("the page holds %U at %d: …%s…", r, i, text[max(0, i-20):min(len(text), i+20)])
		}
	}
}

package phases_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

// mermaidKeywords are words of Mermaid's state diagram grammar (and of its
// other diagrams) that phases.New accepts as names.
var mermaidKeywords = []string{
	"state", "class", "classdef", "note", "scale", "style", "click", "default", "direction",
	"acctitle", "accdescr", "end", "as", "left", "right", "of", "over", "fork", "join", "choice",
	"concurrent", "hide", "linkstyle", "graph", "flowchart", "statediagram", "s0", "s1", "s10", "tb", "lr",
}

// hostileTitles are display names that break a diagram written without
// escapes.
var hostileTitles = []string{
	"#1;", "<ok>", `say "hi"`, "a: b", "a --> b", "first\nsecond", "100%", "%%{init: {}}%%", "#quot;",
	"a; b", "back\\slash", "[*]", "{x}", "&amp;", "<b>bold</b>", "café ☕", "tab\there", "\x00nul", "bad \xff utf-8",
	"s1", "state", "`code`", "a | b", "end",
}

var (
	mermaidStateLine = regexp.MustCompile(`^    state "([^"]*)" as (s\d+)$`)
	mermaidEdgeLine  = regexp.MustCompile(`^    (s\d+) --> (s\d+): ([a-z][a-z0-9_]*)$`)
	mermaidEntry     = regexp.MustCompile(`^    \[\*\] --> (s\d+)$`)
	mermaidExit      = regexp.MustCompile(`^    (s\d+) --> \[\*\]$`)
	mermaidComment   = regexp.MustCompile(`^    %% [^%{}]*$`)
	mermaidSafeLabel = regexp.MustCompile(`^(?:[A-Za-z0-9 .,\-_()/']|#\d+;|#quot;)*$`)
	mermaidEntity    = regexp.MustCompile(`#(\d+|quot);`)
)

// mermaidUnescape decodes the entity codes of a label.
func mermaidUnescape(s string) string {
	return mermaidEntity.ReplaceAllStringFunc(s, func(e string) string {
		code := e[1 : len(e)-1]
		if code == "quot" {
			return `"`
		}
		n, _ := strconv.Atoi(code)
		return string(rune(n))
	})
}

// mermaidShown is what a label should show of a title: the title, with
// line breaks and other control characters as spaces, and each byte of
// invalid UTF-8 as U+FFFD.
func mermaidShown(title string) string {
	var b strings.Builder
	for _, c := range title {
		if c < ' ' || c == 0x7f || 0x80 <= c && c < 0xa0 || c == '\u2028' || c == '\u2029' {
			c = ' '
		}
		b.WriteRune(c)
	}
	return b.String()
}

// checkMermaid checks the diagram of def has every phase once, labelled
// with its title in nothing but plain characters and entity codes, every
// transition once, the entry and each exit, and no other line.
func checkMermaid(t *testing.T, def phases.Definition, got string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	require.Equal(t, "stateDiagram-v2", lines[0], got)
	ids := map[string]phases.Phase{}
	labels := map[phases.Phase]string{}
	edges := map[string]int{}
	exits := map[phases.Phase]int{}
	var entry []phases.Phase
	comments := 0
	for _, line := range lines[1:] {
		switch {
		case mermaidStateLine.MatchString(line):
			m := mermaidStateLine.FindStringSubmatch(line)
			require.Regexp(t, mermaidSafeLabel, m[1], "label of %s", m[2])
			require.NotContains(t, ids, m[2], "state %s declared twice", m[2])
			p := def.Phases[len(ids)].Name
			ids[m[2]] = p
			labels[p] = mermaidUnescape(m[1])
		case mermaidEdgeLine.MatchString(line):
			m := mermaidEdgeLine.FindStringSubmatch(line)
			require.Contains(t, ids, m[1], line)
			require.Contains(t, ids, m[2], line)
			edges[fmt.Sprintf("%s --%s--> %s", ids[m[1]], m[3], ids[m[2]])]++
		case mermaidEntry.MatchString(line):
			entry = append(entry, ids[mermaidEntry.FindStringSubmatch(line)[1]])
		case mermaidExit.MatchString(line):
			exits[ids[mermaidExit.FindStringSubmatch(line)[1]]]++
		case mermaidComment.MatchString(line):
			comments++
		default:
			t.Fatalf("unexpected line %q in\n%s", line, got)
		}
	}
	require.Len(t, ids, len(def.Phases), "every phase, once")
	wantComments := 0
	if def.Title != "" {
		wantComments = 1
	}
	require.Equal(t, wantComments, comments, "the title, in one comment")
	for _, p := range def.Phases {
		want := p.Title
		if want == "" {
			want = string(p.Name)
		}
		require.Equal(t, mermaidShown(want), labels[p.Name], "label of phase %s", p.Name)
		if p.Terminal {
			require.Equal(t, 1, exits[p.Name], "exit of %s", p.Name)
		}
	}
	require.Equal(t, []phases.Phase{def.Initial}, entry)
	want := map[string]int{}
	for _, a := range def.Actions {
		for _, from := range a.From {
			want[fmt.Sprintf("%s --%s--> %s", from, a.Name, a.To)]++
		}
	}
	require.Equal(t, want, edges, "every transition, once")
}

// hostileDef is a chain of phases named like Mermaid keywords, with
// hostile titles, actions also named like keywords, and an edge back.
func hostileDef() phases.Definition {
	def := phases.Definition{Name: "hostile", Title: "Hostile %%{init}%% <model>\n[*] --> state", Initial: phases.Phase(mermaidKeywords[0])}
	for i, name := range mermaidKeywords {
		def.Phases = append(def.Phases, phases.PhaseDef{Name: phases.Phase(name), Title: hostileTitles[i%len(hostileTitles)],
			Terminal: i == len(mermaidKeywords)-1})
		if i > 0 {
			def.Actions = append(def.Actions, phases.ActionDef{Name: phases.Action(mermaidKeywords[(i+7)%len(mermaidKeywords)]),
				From: []phases.Phase{phases.Phase(mermaidKeywords[i-1])}, To: phases.Phase(name)})
		}
	}
	def.Actions = append(def.Actions, phases.ActionDef{Name: "back_to_state",
		From: []phases.Phase{phases.Phase(mermaidKeywords[len(mermaidKeywords)-1]), "default"}, To: "state"})
	return def
}

// TestMermaidHostileModel renders a model whose phases and actions are
// named like Mermaid keywords, with titles holding entity codes, markup,
// quotes, colons, arrows and line breaks: every phase and transition is
// drawn, once, and every title shows as written.
func TestMermaidHostileModel(t *testing.T) {
	t.Parallel()
	def := hostileDef()
	m, err := phases.New(def)
	require.NoError(t, err)
	checkMermaid(t, def, m.Mermaid())
	for _, title := range hostileTitles {
		def := smallDef()
		def.Phases[1].Title = title
		def.Title = title
		m, err := phases.New(def)
		require.NoError(t, err)
		checkMermaid(t, def, m.Mermaid())
	}
}

// FuzzMermaid renders a small model with any phase and model titles.
func FuzzMermaid(f *testing.F) {
	for _, title := range hostileTitles {
		f.Add(title, title)
	}
	f.Fuzz(func(t *testing.T, title, phaseTitle string) {
		def := smallDef()
		def.Title, def.Phases[1].Title = title, phaseTitle
		m, err := phases.New(def)
		if err != nil {
			return
		}
		checkMermaid(t, def, m.Mermaid())
	})
}

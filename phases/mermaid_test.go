package phases_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// expectedMermaidLines is how many lines a diagram of def has: the header,
// the title comment, one per phase, the entry, one per edge, one per exit.
func expectedMermaidLines(def phases.Definition) int {
	n := 1 + len(def.Phases) + 1
	if def.Title != "" {
		n++
	}
	for _, a := range def.Actions {
		n += len(a.From)
	}
	for _, p := range def.Phases {
		if p.Terminal {
			n++
		}
	}
	return n
}

func TestMermaidGolden(t *testing.T) {
	t.Parallel()
	for _, m := range phases.Builtin() {
		t.Run(m.Name(), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", m.Name()+".mmd")
			got := m.Mermaid()
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./phases -run TestMermaidGolden -update to create it")
			assert.Equal(t, string(want), got)
			assert.Equal(t, expectedMermaidLines(m.Definition()), strings.Count(got, "\n"))
		})
	}
}

func TestMermaidSmallModel(t *testing.T) {
	t.Parallel()
	m, err := phases.New(smallDef())
	require.NoError(t, err)
	assert.Equal(t, `stateDiagram-v2
    %% Small
    state "New" as s0
    state "Work" as s1
    state "Done" as s2
    [*] --> s0
    s0 --> s1: start
    s1 --> s2: finish
    s2 --> s1: reopen
    s2 --> [*]
`, m.Mermaid())
}

func TestMermaidIsStable(t *testing.T) {
	t.Parallel()
	for _, m := range phases.Builtin() {
		first := m.Mermaid()
		for range 50 {
			require.Equal(t, first, m.Mermaid(), m.Name())
		}
		withGuard, err := m.WithGuards(phases.Close, phases.TasksDone())
		require.NoError(t, err)
		assert.Equal(t, first, withGuard.Mermaid(), "guards written in Go do not change the diagram")
	}
}

func TestMermaidEscapesText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(d *phases.Definition)
		wantLine string
	}{
		{
			name:     "double quote in a phase title",
			edit:     func(d *phases.Definition) { d.Phases[1].Title = `Work "in progress"` },
			wantLine: `    state "Work #quot;in progress#quot;" as s1`,
		},
		{
			name:     "newline in a phase title",
			edit:     func(d *phases.Definition) { d.Phases[1].Title = "Work\nin progress\r\n" },
			wantLine: `    state "Work in progress  " as s1`,
		},
		{
			name:     "no phase title",
			edit:     func(d *phases.Definition) { d.Phases[1].Title = "" },
			wantLine: `    state "work" as s1`,
		},
		{
			// Mermaid has no backslash escapes inside a quoted state
			// description: entity codes write the text as it is.
			name:     "backslash in a phase title",
			edit:     func(d *phases.Definition) { d.Phases[1].Title = `Work on C:\temp` },
			wantLine: `    state "Work on C#58;#92;temp" as s1`,
		},
		{
			// The model title is a %% comment; a newline in it would end the
			// comment and let the rest of the title be read as diagram.
			name:     "newline in the model title",
			edit:     func(d *phases.Definition) { d.Title = "Small\n    [*] --> done" },
			wantLine: `    %% Small     [*] --> done`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def := smallDef()
			tt.edit(&def)
			m, err := phases.New(def)
			require.NoError(t, err)
			got := m.Mermaid()
			assert.Contains(t, strings.Split(got, "\n"), tt.wantLine, got)
			assert.Equal(t, expectedMermaidLines(def), strings.Count(got, "\n"), got)
		})
	}
}

func TestMermaidWithoutTitleHasNoComment(t *testing.T) {
	t.Parallel()
	def := smallDef()
	def.Title = ""
	m, err := phases.New(def)
	require.NoError(t, err)
	assert.NotContains(t, m.Mermaid(), "%%")
	assert.Equal(t, "small", m.Title(), "the name stands in for a missing title")
}

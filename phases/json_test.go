package phases_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

func marshalModel(t testing.TB, m *phases.Model) []byte {
	t.Helper()
	data, err := json.Marshal(m)
	require.NoError(t, err)
	return data
}

func TestMarshalJSONRoundTripsBuiltins(t *testing.T) {
	t.Parallel()
	for _, m := range phases.Builtin() {
		t.Run(m.Name(), func(t *testing.T) {
			t.Parallel()
			data := marshalModel(t, m)

			loaded, err := phases.Load(bytes.NewReader(data))
			require.NoError(t, err)
			assert.Equal(t, m.Definition(), loaded.Definition())
			// Guards travel as GuardSpecs, so the loaded model guards the
			// same actions with the same guards.
			for _, a := range m.Actions() {
				assert.Equal(t, m.GuardNames(a.Name), loaded.GuardNames(a.Name), a.Name)
			}
			assert.Equal(t, m.Mermaid(), loaded.Mermaid())
			assert.JSONEq(t, string(data), string(marshalModel(t, loaded)))
		})
	}
}

func TestMarshalJSONUsesDefinitionFieldNames(t *testing.T) {
	t.Parallel()
	var raw map[string]any
	require.NoError(t, json.Unmarshal(marshalModel(t, phases.SANS), &raw))
	assert.Equal(t, "sans-picerl", raw["name"])
	assert.Equal(t, "preparation", raw["initial"])
	assert.Contains(t, raw, "phases")
	assert.Contains(t, raw, "actions")
}

func TestLoadRefusesUnknownFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json, field string
	}{
		{
			name:  "top level",
			json:  `{"name":"m","initial":"a","colour":"red","phases":[{"name":"a","terminal":true}],"actions":[]}`,
			field: "colour",
		},
		{
			// A misspelled "terminal" would otherwise silently give a model
			// with no terminal phase, or worse, a different one.
			name:  "phase",
			json:  `{"name":"m","initial":"a","phases":[{"name":"a","terminal":true},{"name":"b","terminl":true}],"actions":[{"name":"go","from":["a"],"to":"b"}]}`,
			field: "terminl",
		},
		{
			name:  "action",
			json:  `{"name":"m","initial":"a","phases":[{"name":"a"},{"name":"b","terminal":true}],"actions":[{"name":"go","from":["a"],"to":"b","guard":[{"type":"tasks_done"}]}]}`,
			field: "guard",
		},
		{
			name:  "guard",
			json:  `{"name":"m","initial":"a","phases":[{"name":"a"},{"name":"b","terminal":true}],"actions":[{"name":"go","from":["a"],"to":"b","guards":[{"type":"role_assigned","roles":"analyst"}]}]}`,
			field: "roles",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := phases.Load(strings.NewReader(tt.json))
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), `unknown field "`+tt.field+`"`)
			assert.ErrorIs(t, err, phases.ErrInvalidModel)
			var de *phases.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, 1, de.Line)
			assert.Equal(t, strings.Index(tt.json, `"`+tt.field+`"`)+1, de.Column, "the column of the unknown key")
		})
	}
}

func TestLoadSaysWhereTheDefinitionIsWrong(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json   string
		line, column int
		says         string
	}{
		{"syntax", "{\n  \"name\": \"m\",\n  \"initial\" \"a\"\n}", 3, 13, "invalid character"},
		{"unknown field", "{\n  \"name\": \"m\",\n  \"phases\": [\n    {\"name\": \"a\", \"terminl\": true}\n  ]\n}", 4, 19, `unknown field "terminl"`},
		{"key known elsewhere", "{\"phases\": [{\"name\": \"a\", \"initial\": \"a\"}]}", 1, 27, `unknown field "initial"`},
		{"wrong type", "{\n\"name\": 5}", 2, 9, "cannot unmarshal number"},
		{"truncated", "{\"name\":\"m\",\n\"phases\":[", 2, 11, "unexpected EOF"},
		{"empty", "", 1, 1, "EOF"},
		{"trailing data", "{\"name\":\"m\"}\n  x", 2, 3, "unexpected data after the definition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := phases.Load(strings.NewReader(tt.json))
			require.ErrorIs(t, err, phases.ErrInvalidModel)
			var de *phases.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, [2]int{tt.line, tt.column}, [2]int{de.Line, de.Column}, "line and column of %v", err)
			assert.Contains(t, err.Error(), tt.says)
			assert.Contains(t, err.Error(), fmt.Sprintf("at line %d, column %d: ", tt.line, tt.column))
		})
	}
}

func TestLoadRefusesTrailingData(t *testing.T) {
	t.Parallel()
	valid := string(marshalModel(t, phases.DACER))
	tests := []struct{ name, trailer string }{
		{"second object", " " + valid},
		{"garbage", "x"},
		{"number", " 42"},
		{"closing brace", "}"},
		{"closing bracket", "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := phases.Load(strings.NewReader(valid + tt.trailer))
			assert.Error(t, err, "trailing %q must be refused", tt.trailer)
			assert.True(t, m == nil, "no model alongside an error")
		})
	}

	t.Run("trailing whitespace is fine", func(t *testing.T) {
		t.Parallel()
		_, err := phases.Load(strings.NewReader(valid + "\n\t \n"))
		assert.NoError(t, err)
	})
}

func TestLoadRefusesOversizedInput(t *testing.T) {
	t.Parallel()
	const limit = phases.MaxDefinitionBytes
	valid := marshalModel(t, phases.SANS)

	// Whitespace padding keeps the JSON valid, so only the size can refuse it.
	padded := append(bytes.Repeat([]byte(" "), limit+1-len(valid)), valid...)
	require.Len(t, padded, limit+1)
	_, err := phases.Load(bytes.NewReader(padded))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than")
	var limitErr *phases.LimitError
	require.ErrorAs(t, err, &limitErr)
	assert.Equal(t, "MaxDefinitionBytes", limitErr.Limit)
	assert.Equal(t, phases.MaxDefinitionBytes, limitErr.Max)
	assert.ErrorIs(t, err, phases.ErrModelTooLarge)
	assert.ErrorIs(t, err, phases.ErrInvalidModel)

	atLimit := append(bytes.Repeat([]byte(" "), limit-len(valid)), valid...)
	require.Len(t, atLimit, limit)
	_, err = phases.Load(bytes.NewReader(atLimit))
	assert.NoError(t, err, "exactly the limit is allowed")
}

// endlessReader never runs out, like a hostile or broken stream.
type endlessReader struct{}

func (endlessReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestLoadStopsReadingAnEndlessStream(t *testing.T) {
	t.Parallel()
	_, err := phases.Load(endlessReader{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than")
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestLoadWrapsReadErrors(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk on fire")
	_, err := phases.Load(failingReader{err: errDisk})
	require.Error(t, err)
	assert.ErrorIs(t, err, errDisk)
}

func TestLoadRefusesMalformedJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, json string }{
		{"empty", ""},
		{"truncated", `{"name":"m","phases":[`},
		{"array", `[]`},
		{"string", `"sans-picerl"`},
		{"wrong type", `{"name":5}`},
		{"terminal as string", `{"name":"m","initial":"a","phases":[{"name":"a","terminal":"yes"}],"actions":[]}`},
		{"from as string", `{"name":"m","initial":"a","phases":[{"name":"a"},{"name":"b","terminal":true}],"actions":[{"name":"go","from":"a","to":"b"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := phases.Load(strings.NewReader(tt.json))
			require.Error(t, err)
			assert.Nil(t, m)
			assert.True(t, strings.HasPrefix(err.Error(), "phases: "), "package-prefixed: %v", err)
		})
	}
}

func TestLoadReportsModelProblems(t *testing.T) {
	t.Parallel()
	const def = `{
		"name": "broken",
		"initial": "new",
		"phases": [{"name": "new"}, {"name": "closed", "terminal": true}],
		"actions": [
			{"name": "close", "from": ["new"], "to": "closd"},
			{"name": "close", "from": ["new"], "to": "closed", "guards": [{"type": "verdict"}]}
		]
	}`
	_, err := phases.Load(strings.NewReader(def))
	require.Error(t, err)
	assert.ErrorIs(t, err, phases.ErrInvalidModel)
	var verr *phases.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "broken", verr.Model)
	assert.Equal(t, []string{
		`action "close" leads to unknown phase "closd"`,
		`action "close" is defined twice`,
		`action "close": unknown guard type "verdict"`,
	}, verr.Problems)
}

func loadTriage(t *testing.T) *phases.Model {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "triage.json"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	m, err := phases.Load(f)
	require.NoError(t, err)
	return m
}

func TestLoadedModelGuardsWork(t *testing.T) {
	t.Parallel()
	m := loadTriage(t)
	require.Equal(t, "soc-triage", m.Name())
	assert.Equal(t, "SOC alert triage", m.Title())
	assert.Equal(t, phases.Phase("new"), m.Initial())
	assert.Equal(t, []phases.Phase{"closed"}, m.Terminal())
	assert.Equal(t, []string{"role_assigned(incident_commander)", "tasks_done"}, m.GuardNames("escalate"))
	assert.Equal(t, []string{"verdict_set(false_positive|benign|duplicate)"}, m.GuardNames("dismiss"))

	analyst := &fakeSubject{roles: []string{"analyst"}}
	commander := &fakeSubject{
		roles:   []string{"analyst", phases.RoleCommander},
		pending: map[phases.Phase][]string{"triage": {"Pull the mail headers"}},
	}
	tests := []struct {
		name     string
		subject  phases.Subject
		from     phases.Phase
		action   phases.Action
		want     phases.Phase
		refusals []string // "guard: reason", empty when allowed
	}{
		{"triage needs an analyst", &fakeSubject{}, "new", "triage", "new",
			[]string{"role_assigned(analyst): no analyst is assigned"}},
		{"triage with an analyst", analyst, "new", "triage", "triage", nil},
		{"escalate refuses for every reason", &fakeSubject{
			roles:   []string{"analyst"},
			pending: map[phases.Phase][]string{"triage": {"Pull the mail headers"}},
		}, "triage", "escalate", "triage", []string{
			"role_assigned(incident_commander): no incident commander is assigned",
			"tasks_done: required tasks of triage not done: Pull the mail headers",
		}},
		{"escalate with pending task", commander, "triage", "escalate", "triage",
			[]string{"tasks_done: required tasks of triage not done: Pull the mail headers"}},
		{"escalate when ready", &fakeSubject{roles: []string{phases.RoleCommander}}, "triage", "escalate", "escalated", nil},
		{"resolve needs a verdict", analyst, "escalated", "resolve", "escalated",
			[]string{"verdict_set: no verdict is set"}},
		{"resolve with any verdict", &fakeSubject{verdict: "true_positive"}, "escalated", "resolve", "closed", nil},
		{"dismiss refuses a true positive", &fakeSubject{verdict: "true_positive"}, "triage", "dismiss", "triage",
			[]string{"verdict_set(false_positive|benign|duplicate): the verdict must be one of false_positive, benign, duplicate"}},
		{"dismiss a duplicate", &fakeSubject{verdict: "duplicate"}, "new", "dismiss", "closed", nil},
		{"reopen is unguarded", &fakeSubject{}, "closed", "reopen", "triage", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := m.Fire(context.Background(), tt.subject, tt.from, tt.action)
			assert.Equal(t, tt.want, got)
			if len(tt.refusals) == 0 {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, tt.refusals, refusalStrings(t, err))
		})
	}
}

// refusalStrings returns each refusal of a *GuardError as "guard: reason".
func refusalStrings(t *testing.T, err error) []string {
	t.Helper()
	require.ErrorIs(t, err, phases.ErrGuardFailed)
	var gerr *phases.GuardError
	require.ErrorAs(t, err, &gerr)
	var out []string
	for _, r := range gerr.Refusals {
		out = append(out, r.Guard+": "+r.Reason.Error())
	}
	return out
}

// FuzzLoad feeds Load arbitrary bytes. Load parses untrusted model files, so
// it must never panic, and any model it accepts must be one the rest of the
// package handles: valid again through New, stable through JSON, renderable,
// and fireable along every edge.
func FuzzLoad(f *testing.F) {
	// The seed corpus lives in testdata/fuzz/FuzzLoad; the built-in models
	// are added here too so the seeds follow the models as they change.
	for _, m := range phases.Builtin() {
		f.Add(marshalModel(f, m))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := phases.Load(bytes.NewReader(data))
		if err != nil {
			assert.Nil(t, m)
			return
		}
		require.NotNil(t, m)

		def := m.Definition()
		again, err := phases.New(def)
		require.NoError(t, err, "a loaded model's definition must validate again")
		assert.Equal(t, def, again.Definition())

		encoded := marshalModel(t, m)
		reloaded, err := phases.Load(bytes.NewReader(encoded))
		require.NoError(t, err, "a model's own JSON must load")
		assert.Equal(t, string(encoded), string(marshalModel(t, reloaded)))

		diagram := m.Mermaid()
		assert.True(t, strings.HasPrefix(diagram, "stateDiagram-v2\n"))
		assert.Equal(t, diagram, again.Mermaid())
		assert.Equal(t, expectedMermaidLines(def), strings.Count(diagram, "\n"),
			"one line per phase, edge, entry and exit: text must not break lines")

		ctx := context.Background()
		for _, p := range def.Phases {
			for _, a := range m.Available(p.Name) {
				to, ok := m.Target(p.Name, a)
				require.True(t, ok)
				got, err := m.Fire(ctx, permissiveSubject{}, p.Name, a)
				require.NoError(t, err)
				assert.Equal(t, to, got)
			}
			_, err := m.Fire(ctx, permissiveSubject{}, p.Name, "Not An Action")
			assert.ErrorIs(t, err, phases.ErrUnknownAction)
		}
	})
}

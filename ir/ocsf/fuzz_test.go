package ocsf_test

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/ocsf"
)

// FuzzMarshal exports incidents with arbitrary text in the title, summary
// and observables, and checks the finding is still what OCSF requires and
// gives the text back unchanged.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{"plain", `it's "quoted"`, `C:\dir`, "\x01\n\t\u2028", "<b>&amp;</b>", "🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			t.Skip("the library refuses text that is not UTF-8")
		}
		inc := sample()
		inc.Title, inc.Summary = text, text
		inc.Observables = []ir.Observable{{Type: ir.ObservableOther, Value: text, AddedAt: at(1)}}
		b, err := ocsf.Marshal(inc, opts)
		require.NoError(t, err)
		finding := decode(t, b)
		checkFinding(t, finding)
		require.Equal(t, text, finding["message"])
		require.Equal(t, text, finding["observables"].([]any)[0].(map[string]any)["value"])
	})
}

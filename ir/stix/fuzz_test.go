package stix_test

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/stix"
)

// FuzzMarshal exports incidents with arbitrary text in the title and in an
// observable of every type, and checks that the bundle is still what STIX
// requires and that each pattern gives back the observable's value.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{"plain", `it's`, `C:\dir\'x`, "\x01\n\t\u2028", `'\''\\`, "]", "🙂"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, title, value string) {
		if !utf8.ValidString(title) || !utf8.ValidString(value) || value == "" {
			t.Skip("the library refuses text that is not UTF-8, and empty values")
		}
		inc := sample()
		inc.Title = title
		inc.Observables = nil
		for _, typ := range []ir.ObservableType{ir.ObservableFileName, ir.ObservableAccount, ir.ObservableRegistry,
			ir.ObservableUserAgent, ir.ObservableProcess, ir.ObservableOther, ir.ObservableHost} {
			inc.Observables = append(inc.Observables, ir.Observable{Type: typ, Value: value, Malicious: true, AddedAt: at(1)})
		}
		b, err := stix.Marshal(inc, stix.Options{Creator: title})
		require.NoError(t, err)
		objs := checkBundle(t, b)
		for _, ind := range ofType(objs, "indicator") {
			_, _, v, err := parsePattern(ind["pattern"].(string))
			require.NoError(t, err)
			if !registryPattern(ind["pattern"].(string)) {
				require.Equal(t, value, v)
			}
		}
	})
}

// registryPattern reports whether p tests a registry key, whose hive the
// export may have written out.
func registryPattern(p string) bool {
	return len(p) > 22 && p[:22] == "[windows-registry-key:"
}

package stix_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/ir/stix"
)

// BenchmarkMarshal exports the sample incident, with 17 observables.
func BenchmarkMarshal(b *testing.B) {
	inc := sample()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stix.Marshal(inc, stix.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

package ocsf_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/ir/ocsf"
)

// BenchmarkMarshal exports the sample incident, with 17 observables.
func BenchmarkMarshal(b *testing.B) {
	inc := sample()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ocsf.Marshal(inc, opts); err != nil {
			b.Fatal(err)
		}
	}
}

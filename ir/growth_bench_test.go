package ir_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// BenchmarkMemoryCountOpen counts the open incidents by severity and phase
// in memory stores of 1,000 and 100,000 incidents, a third of them open.
// The counts are kept with every change, so both take about as long.
//
//	go test -run '^$' -bench BenchmarkMemoryCountOpen -count 6 ./ir/
func BenchmarkMemoryCountOpen(b *testing.B) {
	ctx := context.Background()
	ps := phases.SANS.Phases()
	sevs := []ir.Severity{ir.SeverityLow, ir.SeverityMedium, ir.SeverityHigh, ir.SeverityCritical}
	for _, n := range []int{1_000, 100_000} {
		st := ir.NewMemoryStore()
		for i := range n {
			opened := irtest.Epoch.Add(time.Duration(i) * time.Minute)
			bl := irtest.Incident(ir.ID(fmt.Sprintf("INC-%07d", i))).
				Severity(sevs[i%len(sevs)]).Phase(ps[i%len(ps)].Name).Opened(opened)
			if i%3 != 0 {
				bl = bl.Closed(opened.Add(time.Hour))
			}
			if err := st.Apply(ctx, irtest.OpenChange(bl.Build())); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("incidents=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				counts, err := st.CountOpen(ctx)
				if err != nil || len(counts) == 0 {
					b.Fatal(len(counts), err)
				}
			}
		})
	}
}

// BenchmarkGrownIncident makes the same changes (a note and a severity
// change) to a fresh incident and to one of 5,000 observables and 1,000
// tasks, in a memory store: a change writes only what it touches, so both
// take about as long. The goal is grown/fresh at most 2.
//
//	go test -run '^$' -bench BenchmarkGrownIncident -count 10 ./ir/
func BenchmarkGrownIncident(b *testing.B) {
	storetest.BenchGrowth(b, ir.NewMemoryStore())
}

package plan_test

import (
	"context"
	"testing"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// BenchmarkOpenAndIdentify opens a phishing incident and starts its
// identification, on the memory store, with and without the plan: with
// it, the opening also fills three roles and the transition adds the
// playbook's three identification tasks.
//
//	go test -run '^$' -bench BenchmarkOpenAndIdentify -benchmem -count 6 ./plan/
func BenchmarkOpenAndIdentify(b *testing.B) {
	p := builtinPlan(b)
	for _, withPlan := range []bool{false, true} {
		name := "bare"
		if withPlan {
			name = "plan"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var r *ir.Responder
			alice := ir.Actor{ID: "alice"}
			for i := 0; b.Loop(); i++ {
				if i%100 == 0 {
					// A fresh store now and then, so the benchmark measures
					// the changes rather than a store of every incident.
					b.StopTimer()
					if r != nil {
						_ = r.Shutdown(ctx)
					}
					cfg := ir.Config{Store: ir.NewMemoryStore()}
					if withPlan {
						var err error
						if cfg, err = p.Configure(cfg); err != nil {
							b.Fatal(err)
						}
					}
					var err error
					if r, err = ir.NewResponder(cfg); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Phish", Severity: ir.SeverityHigh, Category: ir.CategoryPhishing})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Transition(ctx, alice, inc.ID, phases.Identify, "reported"); err != nil {
					b.Fatal(err)
				}
			}
			_ = r.Shutdown(ctx)
		})
	}
}

package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/ir"
)

// Sizes of the grown incident of [BenchGrowth].
const (
	GrownObservables = 5000
	GrownTasks       = 1000
)

// BenchGrowth is a benchmark of the cost of a change against the size of
// the incident it changes: sub-benchmarks fresh and grown make the same
// changes (a note, then a severity change, per iteration) through one
// Responder on st, to a freshly opened incident and to one grown to
// [GrownObservables] observables and [GrownTasks] tasks. The grown
// incident is built through the Responder beforehand, and how long that
// took is logged. A change whose cost does not grow with the incident
// takes about as long on both.
func BenchGrowth(b *testing.B, st ir.Store) {
	ctx := context.Background()
	r := BenchResponder(b, st)
	open := func(title string) ir.ID {
		inc, err := r.Open(ctx, benchCommander, ir.NewIncident{Title: title, Severity: ir.SeverityHigh})
		if err != nil {
			b.Fatal(err)
		}
		return inc.ID
	}
	fresh, grown := open("Fresh incident"), open("Grown incident")
	start := time.Now()
	if err := Grow(ctx, r, grown, GrownObservables, GrownTasks); err != nil {
		b.Fatal(err)
	}
	b.Logf("grew an incident to %d observables and %d tasks through the Responder in %v",
		GrownObservables, GrownTasks, time.Since(start).Round(time.Millisecond))
	for _, bc := range []struct {
		name string
		id   ir.ID
	}{{"fresh", fresh}, {"grown", grown}} {
		b.Run(bc.name, func(b *testing.B) {
			sevs := []ir.Severity{ir.SeverityCritical, ir.SeverityHigh}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := r.AddNote(ctx, benchCommander, bc.id, "Still looking"); err != nil {
					b.Fatal(err)
				}
				if _, err := r.SetSeverity(ctx, benchCommander, bc.id, sevs[i%2], "reassessed"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Grow adds observables distinct observables and tasks tasks to incident
// id through r, interleaved, completing every other task it adds.
func Grow(ctx context.Context, r *ir.Responder, id ir.ID, observables, tasks int) error {
	every := max(observables/max(tasks, 1), 1)
	added := 0
	for i := range observables {
		o := ir.Observable{Type: ir.ObservableDomain, Value: fmt.Sprintf("host-%d.example.net", i)}
		if _, err := r.AddObservable(ctx, benchCommander, id, o); err != nil {
			return err
		}
		if i%every == 0 && added < tasks {
			if err := addTask(ctx, r, id, added); err != nil {
				return err
			}
			added++
		}
	}
	for ; added < tasks; added++ {
		if err := addTask(ctx, r, id, added); err != nil {
			return err
		}
	}
	return nil
}

// addTask adds the n-th task of Grow, and completes it if n is odd.
func addTask(ctx context.Context, r *ir.Responder, id ir.ID, n int) error {
	inc, err := r.AddTask(ctx, benchCommander, id, ir.NewTask{Title: fmt.Sprintf("Check host %d", n)})
	if err != nil {
		return err
	}
	if n%2 == 1 {
		_, err = r.CompleteTask(ctx, benchCommander, id, inc.Tasks[len(inc.Tasks)-1].ID, "clean")
	}
	return err
}

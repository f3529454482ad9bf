package ir_test

import (
	"context"
	"fmt"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
)

// Response deadlines by severity and the GDPR clock, with a clock runner
// recording the deadline that is near and the one that is missed. A
// service runs r.RunClocks(ctx, time.Minute) in a goroutine beside the
// Responder; the example drives the fake clock and runs single passes.
func ExampleResponder_RunClocksOnce() {
	ctx := context.Background()
	clock := irtest.NewClock(time.Time{})
	r, err := ir.NewResponder(ir.Config{
		Store: ir.NewMemoryStore(), Clock: clock, IDs: &irtest.IDs{},
		ResponseDeadlines: ir.ResponseDeadlines{
			ir.SeverityCritical: {Acknowledge: 15 * time.Minute, Contain: 4 * time.Hour, Warn: 5 * time.Minute},
		},
		Clocks: ir.GDPRArticle33(12 * time.Hour),
	})
	if err != nil {
		panic(err)
	}
	alice := ir.Actor{ID: "alice"}
	inc, _ := r.Open(ctx, alice, ir.NewIncident{Title: "Customer database exfiltrated", Severity: ir.SeverityCritical})
	// The breach of personal data became known an hour before.
	_, _ = r.Mark(ctx, alice, inc.ID, ir.NewMark{Marker: ir.MarkerPersonalDataBreach, At: clock.Now().Add(-time.Hour)})

	clock.Advance(12 * time.Minute)
	n, _ := r.RunClocksOnce(ctx)
	fmt.Println("recorded:", n)
	clock.Advance(5 * time.Minute)
	n, _ = r.RunClocksOnce(ctx)
	fmt.Println("recorded:", n)
	n, _ = r.RunClocksOnce(ctx)
	fmt.Println("recorded again:", n)

	page, _ := r.Timeline(ctx, inc.ID, ir.TimelineQuery{})
	for _, e := range page.Events {
		fmt.Println(ir.Describe(r.Model(), e))
	}
	inc, _ = r.Get(ctx, inc.ID)
	for _, c := range inc.Clocks {
		fmt.Printf("%s: due %s, missed %t\n", c.Name, c.Deadline.Format(time.RFC3339), c.Missed)
	}
	// Output:
	// recorded: 1
	// recorded: 1
	// recorded again: 0
	// opened "Customer database exfiltrated", severity critical, in Preparation
	// clock started: Acknowledge, due 2026-03-02T09:15:00Z
	// clock started: Contain, due 2026-03-02T13:00:00Z
	// marked personal data breach
	// clock started: GDPR art. 33: notify the supervisory authority, due 2026-03-05T08:00:00Z
	// deadline near: Acknowledge, due 2026-03-02T09:15:00Z (3m0s left)
	// deadline missed: Acknowledge, was due 2026-03-02T09:15:00Z (2m0s late)
	// acknowledge: due 2026-03-02T09:15:00Z, missed true
	// contain: due 2026-03-02T13:00:00Z, missed false
	// gdpr-art33: due 2026-03-05T08:00:00Z, missed false
}

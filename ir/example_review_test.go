package ir_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// The built-in models close from their review phase only once a review
// with a root cause is recorded; follow-ups are tracked after the close.
func ExampleResponder_RecordReview() {
	ctx := context.Background()
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Phishing against finance", Severity: ir.SeverityHigh})
	if err != nil {
		log.Fatal(err)
	}
	// Walk the incident to Lessons Learned, with a commander and a verdict.
	if _, err := r.Assign(ctx, alice, inc.ID, ir.RoleCommander, alice); err != nil {
		log.Fatal(err)
	}
	for _, a := range []phases.Action{phases.Identify, phases.Contain, phases.Eradicate, phases.Recover, phases.Review} {
		if _, err := r.Transition(ctx, alice, inc.ID, a, ""); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := r.SetVerdict(ctx, alice, inc.ID, ir.VerdictTruePositive, "one account"); err != nil {
		log.Fatal(err)
	}

	_, err = r.Close(ctx, alice, inc.ID, "done")
	fmt.Println(err)

	_, err = r.RecordReview(ctx, alice, inc.ID, ir.NewReview{
		Summary:   "A fake payroll e-mail took a password.",
		RootCause: "Webmail accepted passwords alone.",
		FollowUps: []ir.NewFollowUp{{Title: "Require MFA on webmail", Owner: ir.Actor{ID: "raj"},
			Due: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Close(ctx, alice, inc.ID, "done"); err != nil {
		log.Fatal(err)
	}
	closed, err := r.CompleteFollowUp(ctx, ir.Actor{ID: "raj"}, inc.ID, 1, "enforced for everyone")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("open:", closed.IsOpen(), "follow-up done:", closed.FollowUps[0].Done)
	// Output:
	// ir: cannot close incident INC-000001 from lessons_learned: review_recorded: no post-incident review is recorded
	// open: false follow-up done: true
}

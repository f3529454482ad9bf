package ir_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// A console asks what an actor may do before showing its buttons: here the
// policy lets observers only add notes, and the model needs a verdict
// before an incident in identification is dismissed.
func ExampleResponder_Allowed() {
	ctx := context.Background()
	observersOnlyNote := ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
		if req.Actor.ID == "olivia" && req.Operation != ir.OpAddNote {
			return errors.New("observers only add notes")
		}
		return nil
	})
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Policy: observersOnlyNote, IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	olivia := ir.Actor{ID: "olivia", Name: "Olivia Park"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Suspicious login", Severity: ir.SeverityLow})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Transition(ctx, alice, inc.ID, phases.Identify, ""); err != nil {
		log.Fatal(err)
	}

	for _, actor := range []ir.Actor{olivia, alice} {
		p, err := r.Allowed(ctx, actor, inc.ID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s may add a note: %v\n", actor.ID, p.Check(ir.OpAddNote, "") == nil)
		fmt.Printf("%s may assign a scribe: %v\n", actor.ID, p.Check(ir.OpAssign, ir.RoleScribe) == nil)
		fmt.Printf("%s may collect evidence: %v\n", actor.ID, p.Check(ir.OpCollectEvidence, "") == nil)
		fmt.Printf("%s may close: %v\n", actor.ID, p.Close == nil)
	}
	p, err := r.Allowed(ctx, alice, inc.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Close)
	fmt.Println(p.Check(ir.OpCollectEvidence, ""))
	// Output:
	// olivia may add a note: true
	// olivia may assign a scribe: false
	// olivia may collect evidence: false
	// olivia may close: false
	// alice may add a note: true
	// alice may assign a scribe: true
	// alice may collect evidence: false
	// alice may close: false
	// ir: cannot close incident INC-000001 from identification: verdict_set(false_positive|benign): the verdict must be one of false_positive, benign
	// ir: invalid config: collecting evidence needs Config.Evidence
}

// Closing an incident the model cannot close yet is refused in the words of
// what was asked, and the error still matches the errors of package phases.
func ExampleResponder_Close_refused() {
	ctx := context.Background()
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Suspicious login", Severity: ir.SeverityLow})
	if err != nil {
		log.Fatal(err)
	}
	_, err = r.Close(ctx, alice, inc.ID, "nothing happened")
	fmt.Println(err)
	fmt.Println(errors.Is(err, phases.ErrGuardFailed))
	// Output:
	// ir: cannot close incident INC-000001 from preparation: verdict_set(false_positive|benign): the verdict must be one of false_positive, benign
	// true
}

package ir_test

import (
	"fmt"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// Describe gives the words for an event; the outbox messages a Responder
// leaves carry them, so a notification reads the same as a report.
func ExampleDescribe() {
	e := ir.Event{
		Type:   ir.EventPhaseChanged,
		Actor:  ir.Actor{ID: "alice", Name: "Alice Moreau"},
		Reason: "account secured, laptop isolated",
		Data:   &ir.PhaseChanged{Action: phases.Eradicate, From: phases.Containment, To: phases.Eradication},
	}
	fmt.Println(e.Actor, ir.Describe(phases.SANS, e)+":", e.Reason)
	// Output:
	// Alice Moreau moved the incident from Containment to Eradication: account secured, laptop isolated
}

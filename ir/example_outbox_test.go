package ir_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// With Config.Outbox, every change leaves a notice per event in the store's
// outbox, in the same transaction. A dispatcher claims them, delivers them
// and acknowledges them; a notice it neither acknowledges nor gives back is
// handed out again once its lease lapses.
func ExampleConfig_outbox() {
	ctx := context.Background()
	store := ir.NewMemoryStore()
	r, err := ir.NewResponder(ir.Config{
		Store: store, Outbox: true,
		Clock: irtest.NewClock(irtest.Epoch), IDs: &irtest.IDs{},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Ransomware on a file server", Severity: ir.SeverityCritical})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Transition(ctx, alice, inc.ID, phases.Identify, "encrypted shares"); err != nil {
		log.Fatal(err)
	}

	// A dispatcher's loop, once round.
	entries, err := store.Claim(ctx, "dispatcher-1", 10, 30*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		m, err := notify.DecodeMessage(e.Payload)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: [%s] %s — %s, now in %s\n", e.Key, m.Incident.Severity, m.Incident.Title, e.Type, m.Incident.Phase)
		if err := store.Ack(ctx, "dispatcher-1", e.ID); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// INC-000001/1/1: [critical] Ransomware on a file server — opened, now in preparation
	// INC-000001/2/1: [critical] Ransomware on a file server — phase_changed, now in identification
}

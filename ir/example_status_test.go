package ir_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
)

// A status update is an event like any other, recorded on the timeline;
// its outbox message is for the update's audience, so that routes send it
// to that audience's channels.
func ExampleResponder_PostStatus() {
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

	comms := ir.Actor{ID: "carla", Name: "Carla Nunes"}
	inc, err := r.Open(ctx, comms, ir.NewIncident{Title: "Ransomware on a file server", Severity: ir.SeverityCritical})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.PostStatus(ctx, comms, inc.ID, notify.AudienceExecutives,
		"File server isolated; no other host affected. Next update at 11:00."); err != nil {
		log.Fatal(err)
	}

	entries, err := store.Claim(ctx, "dispatcher-1", 10, 30*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		m, err := e.Message()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("for %q: %s\n", m.Audience, m.Event.Sentence())
	}
	// Output:
	// for "": Carla Nunes opened "Ransomware on a file server", severity critical, in Preparation
	// for "executives": Carla Nunes posted a status update for executives: File server isolated; no other host affected. Next update at 11:00.
}

package ir_test

import (
	"context"
	"fmt"
	"log"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/phases"
)

// A service runs a notify.Dispatcher beside its Responder, on the same
// store: it routes each notice, fans it out to one delivery per channel,
// delivers them and keeps the record of who was told what. In a service,
// go dispatcher.Run(ctx) replaces the RunOnce below.
func ExampleConfig_dispatcher() {
	ctx := context.Background()
	clock := irtest.NewClock(irtest.Epoch)
	store := ir.NewMemoryStore(ir.MemoryClock(clock))
	r, err := ir.NewResponder(ir.Config{Store: store, Outbox: true, Clock: clock, IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "responders"}, {Name: "status-page", MaxTLP: notify.TLPClear}},
		Routes:   []notify.Route{{Channels: []string{"responders", "status-page"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	chat := &notifytest.Recorder{}
	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: store, Deliveries: store, Router: router, Clock: clock,
		Channels: map[string]notify.Notifier{"responders": chat, "status-page": &notifytest.Recorder{}},
	})
	if err != nil {
		log.Fatal(err)
	}

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Ransomware on a file server", Severity: ir.SeverityCritical})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Transition(ctx, alice, inc.ID, phases.Identify, "encrypted shares"); err != nil {
		log.Fatal(err)
	}
	for range 2 {
		if _, err := dispatcher.RunOnce(ctx); err != nil {
			log.Fatal(err)
		}
	}

	record, err := store.IncidentDeliveries(ctx, string(inc.ID))
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range record {
		fmt.Printf("%s → %s: %s", d.Key, d.Channel, d.Status)
		if d.Status == notify.StatusDelivered {
			fmt.Printf(", receipt %s", d.Receipt)
		}
		fmt.Println()
	}
	// Output:
	// INC-000001/1/1 → responders: delivered, receipt rec-1
	// INC-000001/1/1 → status-page: held
	// INC-000001/2/1 → responders: delivered, receipt rec-2
	// INC-000001/2/1 → status-page: held
}

package postgres_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/postgres"
)

// Example opens a store, runs an incident on it through a Responder with an
// outbox, and claims the notifications its changes left. It needs a
// database, so go test compiles it without running it.
func Example() {
	dsn := os.Getenv("DATABASE_URL") // postgres://user@host:5432/db
	ctx := context.Background()
	store, err := postgres.Open(ctx, dsn, postgres.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	r, err := ir.NewResponder(ir.Config{Store: store, Outbox: true})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = r.Shutdown(ctx) }()

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing against finance", Severity: ir.SeverityHigh})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.AddNote(ctx, alice, inc.ID, "Two mailboxes forward invoices outside"); err != nil {
		log.Fatal(err)
	}

	// A dispatcher, in this process or another, claims what the changes
	// left and acknowledges it once delivered.
	entries, err := store.Claim(ctx, "dispatcher-1", 10, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println("deliver", e.Type)
		if err := store.Ack(ctx, "dispatcher-1", e.ID); err != nil {
			log.Fatal(err)
		}
	}
}

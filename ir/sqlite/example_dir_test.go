package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// ExampleOpenDir opens a durable setup in one call: the store, the custody
// ledger on it, the evidence files and the signing key, made on the first
// open and reused after it.
func ExampleOpenDir() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "incidentkit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	d, err := sqlite.OpenDir(ctx, dir, sqlite.DirConfig{
		Responder: ir.Config{Outbox: true, Clock: irtest.NewClock(irtest.Epoch), IDs: &irtest.IDs{}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	inc, err := d.Responder.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing against finance", Severity: ir.SeverityHigh})
	if err != nil {
		log.Fatal(err)
	}
	item, err := d.Responder.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{
		Name: "mail-gw.log", Kind: evidence.KindLog, Content: strings.NewReader("from=billing@examp1e.com\n")})
	if err != nil {
		log.Fatal(err)
	}
	report, err := d.Locker.Verify(ctx, inc.ID.Case())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inc.ID, item.Exhibit, "custody verified:", report.OK())
	// Output:
	// INC-000001 EX-001 custody verified: true
}

package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
)

// Example keeps incidents, their evidence custody logs and their outbox in
// one SQLite file: the Responder's evidence locker keeps its ledger in the
// same Store, so collecting evidence writes the custody record, the
// incident change and its notices in one transaction.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "incidentkit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := sqlite.Open(ctx, filepath.Join(dir, "incidentkit.db"), sqlite.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	key, _, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: key})
	if err != nil {
		log.Fatal(err)
	}
	blobs, err := evidence.NewDirBlobs(filepath.Join(dir, "blobs"))
	if err != nil {
		log.Fatal(err)
	}
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	if err != nil {
		log.Fatal(err)
	}
	r, err := ir.NewResponder(ir.Config{Store: store, Evidence: locker, AtomicCustody: true, Outbox: true,
		Clock: irtest.NewClock(irtest.Epoch), IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing against finance", Severity: ir.SeverityHigh})
	if err != nil {
		log.Fatal(err)
	}
	item, err := r.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{
		Name: "mail-gw.log", Kind: evidence.KindLog, Content: strings.NewReader("from=billing@examp1e.com\n")})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Transition(ctx, alice, inc.ID, phases.Identify, "two mailboxes forward invoices outside"); err != nil {
		log.Fatal(err)
	}

	inc, err = store.Get(ctx, inc.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s version %d in %s, evidence %s\n", inc.ID, inc.Version, inc.Phase, item.Exhibit)
	report, err := locker.Verify(ctx, inc.ID.Case())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("custody verified:", report.OK())

	entries, err := store.Claim(ctx, "dispatcher-1", 10, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println("notify", e.Key, e.Type)
		if err := store.Ack(ctx, "dispatcher-1", e.ID); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// INC-000001 version 3 in identification, evidence EX-001
	// custody verified: true
	// notify INC-000001/1/1 opened
	// notify INC-000001/2/1 evidence_collected
	// notify INC-000001/3/1 phase_changed
}

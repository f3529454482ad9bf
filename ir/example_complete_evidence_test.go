package ir_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
)

// A collection whose content is stored but whose custody record could not
// be written in Config.CustodyTimeout, here because other writers kept
// moving the custody log, returns the collection as the locker staged
// and sealed it in an evidence.UnrecordedError: CompleteEvidence records
// it later, without reading the source again. It takes only what the
// locker staged, unaltered.
func ExampleResponder_CompleteEvidence() {
	ctx := context.Background()
	// A store whose custody log keeps moving, until told otherwise.
	st := &contendedStore{MemoryStore: ir.NewMemoryStore()}
	key, _, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	if err != nil {
		log.Fatal(err)
	}
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs()})
	if err != nil {
		log.Fatal(err)
	}
	r, err := ir.NewResponder(ir.Config{Store: st, Evidence: locker, AtomicCustody: true, CustodyTimeout: 50 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing", Severity: ir.SeverityHigh})
	if err != nil {
		log.Fatal(err)
	}

	st.forever.Store(true)
	_, err = r.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{
		Name: "mail-gw.log", Kind: evidence.KindLog, Content: strings.NewReader("a log that cannot be read twice")})
	var unrecorded *evidence.UnrecordedError
	if !errors.As(err, &unrecorded) {
		log.Fatal(err)
	}
	fmt.Println("content stored, collection not recorded:", errors.Is(err, ir.ErrConflict))

	// Later, once the writers have calmed down:
	st.forever.Store(false)
	item, err := r.CompleteEvidence(ctx, alice, inc.ID, unrecorded.Staged)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recorded:", item.Exhibit, item.Name)
	// Output:
	// content stored, collection not recorded: true
	// recorded: EX-001 mail-gw.log
}

package evidence_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
)

// A collection whose content is stored but whose record could not be
// appended before the ledger's write timeout, here because other writers
// kept taking the head of the log, returns the collection as the locker
// staged and sealed it in an UnrecordedError: CompleteCollection appends
// its record later, without reading the source again. Only a collection
// the locker staged, unaltered, can be completed.
func ExampleLocker_CompleteCollection() {
	ctx := context.Background()
	// A store whose log keeps moving, until told otherwise.
	st := &movingStore{MemoryLedgerStore: evidence.NewMemoryLedgerStore()}
	key, _, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key, WriteTimeout: 50 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs()})
	if err != nil {
		log.Fatal(err)
	}

	st.forever.Store(true)
	_, err = locker.Collect(ctx, evidence.Collection{
		Case: "INC-2026-0042", Name: "mail-gw.log", Kind: evidence.KindLog,
		Content:     strings.NewReader("a log that cannot be read twice"),
		CollectedBy: evidence.Party{ID: "alice", Name: "Alice Moreau"},
	})
	var unrecorded *evidence.UnrecordedError
	if !errors.As(err, &unrecorded) {
		log.Fatal(err)
	}
	fmt.Println("content stored, collection not recorded:", errors.Is(err, evidence.ErrConflict))

	// Later, once the writers have calmed down:
	st.forever.Store(false)
	item, err := locker.CompleteCollection(ctx, unrecorded.Staged)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recorded:", item.Exhibit, item.Name)
	// Output:
	// content stored, collection not recorded: true
	// recorded: EX-001 mail-gw.log
}

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

// An access policy decides on the party that acts, and sees on whose
// behalf a collection is made; every refusal is recorded. The parties are
// whoever the program says: authenticating them is its job.
func ExampleAccessPolicy() {
	ctx := context.Background()
	key, _, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	if err != nil {
		log.Fatal(err)
	}
	alice := evidence.Party{ID: "alice", Name: "Alice Moreau"}
	bob := evidence.Party{ID: "bob", Name: "Bob Tran", Organization: "Evidence desk"}
	mallory := evidence.Party{ID: "mallory"}
	locker, err := evidence.NewLocker(evidence.LockerConfig{
		Ledger: ledger,
		Blobs:  evidence.NewMemoryBlobs(),
		Policy: evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
			switch {
			case req.Actor.ID == "mallory":
				return errors.New("not on the case")
			case !req.OnBehalfOf.IsZero() && req.Actor.ID != "bob":
				return errors.New("only the evidence desk takes evidence in for others")
			}
			return nil
		}),
		Refused: func(_ context.Context, r evidence.Refusal) {
			fmt.Printf("refused %s of %s to %s (in the item's log: %v)\n", r.Request.Action, r.Request.Item, r.Request.Actor.ID, r.Record != nil)
		},
		Now:   func() time.Time { return time.Date(2026, time.March, 2, 9, 15, 0, 0, time.UTC) },
		NewID: func() evidence.ItemID { return "ITEM-1" },
	})
	if err != nil {
		log.Fatal(err)
	}

	// Bob, at the evidence desk, takes in the image Alice made.
	image, err := locker.Collect(ctx, evidence.Collection{
		Case: "INC-2026-0042", Name: "fin-laptop-07.E01", Kind: evidence.KindDiskImage,
		Content: strings.NewReader("sectors"), Actor: bob, CollectedBy: alice,
	})
	if err != nil {
		log.Fatal(err)
	}
	recs, err := ledger.Records(ctx, "INC-2026-0042", 0, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s collected by %s, taken in by %s\n", image.Exhibit, image.CollectedBy, recs[0].Actor)

	// Mallory probes an item the case holds and one it does not: the same
	// refusal, both recorded.
	for _, id := range []evidence.ItemID{image.ID, "ITEM-2"} {
		_, err := locker.Open(ctx, "INC-2026-0042", id, mallory, "curious")
		fmt.Println(errors.Is(err, evidence.ErrDenied), errors.Is(err, evidence.ErrNotFound))
	}
	// Output:
	// EX-001 collected by Alice Moreau, taken in by Bob Tran
	// refused accessed of ITEM-1 to mallory (in the item's log: true)
	// true false
	// refused accessed of ITEM-2 to mallory (in the item's log: false)
	// true false
}

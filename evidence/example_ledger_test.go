package evidence_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
)

// A ledger records the chain of custody of a disk image: its collection
// and its transfer to a courier. A signed checkpoint fixes the log, and an
// auditor checks the exported log offline with the public key alone.
func ExampleLedger() {
	ctx := context.Background()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	if err != nil {
		log.Fatal(err)
	}

	const incident evidence.CaseID = "INC-2026-0042"
	alice := evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	carol := evidence.Party{ID: "carol", Name: "Carol Lindqvist", Organization: "Secure Transport Ltd"}
	at := time.Date(2026, time.March, 2, 9, 15, 0, 0, time.FixedZone("CET", 60*60))
	image := evidence.Item{
		ID:          "ITEM-1",
		CaseID:      incident,
		Exhibit:     "EX-001",
		Name:        "fin-laptop-07.E01",
		Kind:        evidence.KindDiskImage,
		Size:        256 << 30,
		Digests:     evidence.Digests{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		CollectedBy: alice,
		CollectedAt: at,
	}

	collected, err := ledger.Append(ctx, evidence.Record{
		Case: incident, Item: image.ID, Action: evidence.ActionCollected,
		Actor: alice, At: at, Reason: "laptop that opened the phishing mail",
		Snapshot: &image,
	})
	if err != nil {
		log.Fatal(err)
	}
	moved, err := ledger.Append(ctx, evidence.Record{
		Case: incident, Item: image.ID, Action: evidence.ActionTransferred,
		Actor: alice, From: alice, To: carol, At: at.Add(2 * time.Hour), Reason: "to the forensics lab",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("record %d: %s %s by %s\n", collected.Index, collected.Action, collected.Item, collected.Actor)
	fmt.Printf("record %d: %s %s to %s, after record %d\n", moved.Index, moved.Action, moved.Item, moved.To, moved.Prev)

	cp, err := ledger.Checkpoint(ctx, incident)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("checkpoint: %s at size %d\n", cp.Origin, cp.Size)

	exported, err := ledger.Export(ctx, incident)
	if err != nil {
		log.Fatal(err)
	}
	report := evidence.VerifyLog(exported, vkey)
	fmt.Printf("verified %d records of %d item(s) against %d checkpoint(s): ok=%v\n",
		report.Size, report.Items, report.Checkpoints, report.OK())
	// Output:
	// record 0: collected ITEM-1 by Alice Moreau
	// record 1: transferred ITEM-1 to Carol Lindqvist, after record 0
	// checkpoint: incidentkit/custody/INC-2026-0042 at size 2
	// verified 2 records of 1 item(s) against 1 checkpoint(s): ok=true
}

// An auditor who kept an earlier checkpoint asks the ledger to prove that
// its log today extends it: nothing recorded then was changed or removed
// since. A log rebuilt from scratch cannot give that proof.
func ExampleCheckConsistency() {
	ctx := context.Background()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	if err != nil {
		log.Fatal(err)
	}

	const incident evidence.CaseID = "INC-2026-0042"
	alice := evidence.Party{ID: "alice", Name: "Alice Moreau"}
	at := time.Date(2026, time.March, 2, 9, 15, 0, 0, time.UTC)
	record := func(action evidence.Action, minutes int) {
		r := evidence.Record{Case: incident, Item: "ITEM-1", Action: action, Actor: alice, At: at.Add(time.Duration(minutes) * time.Minute)}
		if action == evidence.ActionCollected {
			r.Snapshot = &evidence.Item{ID: "ITEM-1", CaseID: incident, Name: "mail-gw.log", Kind: evidence.KindLog, CollectedBy: alice, CollectedAt: r.At}
		}
		if _, err := ledger.Append(ctx, r); err != nil {
			log.Fatal(err)
		}
	}

	record(evidence.ActionCollected, 0)
	record(evidence.ActionSealed, 5)
	kept, err := ledger.Checkpoint(ctx, incident) // the auditor keeps this note
	if err != nil {
		log.Fatal(err)
	}

	record(evidence.ActionUnsealed, 60)
	record(evidence.ActionAnalyzed, 90)
	latest, err := ledger.Checkpoint(ctx, incident)
	if err != nil {
		log.Fatal(err)
	}

	// The auditor opens both notes with the ledger's public key, then
	// checks the proof between them.
	old, err := evidence.OpenCheckpoint(kept.Note, vkey)
	if err != nil {
		log.Fatal(err)
	}
	now, err := evidence.OpenCheckpoint(latest.Note, vkey)
	if err != nil {
		log.Fatal(err)
	}
	proof, err := ledger.ProveConsistency(ctx, incident, old.Size, now.Size)
	if err != nil {
		log.Fatal(err)
	}
	err = evidence.CheckConsistency(proof, now.Size, now.Root, old.Size, old.Root)
	fmt.Printf("size %d extends size %d: %v\n", now.Size, old.Size, err == nil)

	// The same proof cannot vouch for a different history.
	forged := old.Root
	forged[0] ^= 1
	err = evidence.CheckConsistency(proof, now.Size, now.Root, old.Size, forged)
	fmt.Println("another history refused as tampering:", errors.Is(err, evidence.ErrTampered))
	// Output:
	// size 4 extends size 2: true
	// another history refused as tampering: true
}

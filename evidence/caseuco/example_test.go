package caseuco_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/caseuco"
)

// A case's log, exported from its ledger, written as a CASE/UCO graph.
// Printed here are the types of the graph's nodes.
func ExampleWrite() {
	ctx := context.Background()
	key, _, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	if err != nil {
		log.Fatal(err)
	}
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs()})
	if err != nil {
		log.Fatal(err)
	}

	const incident evidence.CaseID = "INC-2026-0042"
	alice := evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	_, err = locker.Collect(ctx, evidence.Collection{
		Case: incident, Name: "mail-gw.log", Kind: evidence.KindLog,
		Content:     strings.NewReader("Mar  2 08:58:01 mail-gw postfix/smtpd: connect from unknown\n"),
		CollectedBy: alice, CollectedAt: time.Date(2026, time.March, 2, 9, 15, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	exported, err := ledger.Export(ctx, incident)
	if err != nil {
		log.Fatal(err)
	}

	var out bytes.Buffer
	if err := caseuco.Write(&out, exported); err != nil {
		log.Fatal(err)
	}
	var graph struct {
		Nodes []struct {
			Type any `json:"@type"`
		} `json:"@graph"`
	}
	if err := json.Unmarshal(out.Bytes(), &graph); err != nil {
		log.Fatal(err)
	}
	for _, n := range graph.Nodes {
		fmt.Println(n.Type)
	}
	// Output:
	// case-investigation:Investigation
	// uco-observable:File
	// case-investigation:InvestigativeAction
	// case-investigation:ProvenanceRecord
	// uco-identity:Identity
	// uco-identity:Organization
	// uco-core:Relationship
}

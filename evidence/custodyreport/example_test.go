package custodyreport_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/custodyreport"
)

// A custody report renders a case's log, exported from its ledger or read
// from a bundle, together with the outcome of verifying it, as Markdown
// for a court or an auditor. Printed here are its header and its exhibit
// register; the custody timelines, the verification, the tools, the
// cryptographic appendix and the steps to check it all independently
// follow.
func ExampleRender() {
	ctx := context.Background()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
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
	lyon := time.FixedZone("CET", 60*60)
	item, err := locker.Collect(ctx, evidence.Collection{
		Case: incident, Name: "mail-gw.log", Kind: evidence.KindLog,
		Content:     strings.NewReader("Mar  2 08:58:01 mail-gw postfix/smtpd: connect from unknown\n"),
		Source:      evidence.Source{Host: "mail-gw", Path: "/var/log/mail.log"},
		CollectedBy: alice, CollectedAt: time.Date(2026, time.March, 2, 9, 15, 0, 0, lyon),
		Location: "Evidence server", Tool: "rsync 3.2.7",
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = locker.Record(ctx, evidence.Record{
		Case: incident, Item: item.ID, Action: evidence.ActionSealed, Actor: alice,
		At: time.Date(2026, time.March, 2, 9, 20, 0, 0, lyon), Reason: "read-only snapshot",
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := ledger.Checkpoint(ctx, incident); err != nil {
		log.Fatal(err)
	}

	exported, err := ledger.Export(ctx, incident)
	if err != nil {
		log.Fatal(err)
	}
	var report strings.Builder
	err = custodyreport.Render(&report, exported, vkey, evidence.VerifyLog(exported, vkey), custodyreport.Options{
		PreparedBy: evidence.Party{ID: "dana", Name: "Dana Whitfield", Organization: "Internal Audit"},
		Now:        func() time.Time { return time.Date(2026, time.March, 10, 16, 0, 0, 0, lyon) },
	})
	if err != nil {
		log.Fatal(err)
	}
	head, _, _ := strings.Cut(report.String(), "## Custody timeline")
	fmt.Print(head)
	// Output:
	// # Chain of custody report: case INC-2026-0042
	//
	// - **Case:** INC-2026-0042
	// - **Report generated at:** 2026-03-10T16:00:00+01:00
	// - **Prepared by:** Dana Whitfield (dana), Internal Audit
	// - **Log origin:** incidentkit/custody/INC-2026-0042
	// - **Exhibits:** 1
	// - **Custody records:** 2
	// - **Signed checkpoints:** 1
	// - **Verification:** PASSED: no problem found
	//
	// Times are RFC 3339 timestamps in the time zone of whoever acted, with its offset from UTC. Record numbers are positions in the case's custody log, counted from 0.
	//
	// ## Exhibit register
	//
	// | Exhibit | Name | Kind | Size (bytes) | SHA-256 | Collected by | Collected at | Source | Storage location |
	// | --- | --- | --- | --- | --- | --- | --- | --- | --- |
	// | EX-001 | mail-gw.log | log | 60 | `fa0b0de6b2fbde0601d7fbb41a3c23197449ef2d54c2973994e64f7f4e6a4063` | Alice Moreau (alice), CSIRT | 2026-03-02T09:15:00+01:00 | host: mail-gw<br>path: /var/log/mail.log | Evidence server |
}

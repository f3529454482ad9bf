package reviewreport_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/reviewreport"
)

// Example records a post-incident review and writes the incident's review
// document, printing only its review section here.
func Example() {
	ctx := context.Background()
	clock := ir.ClockFunc(func() time.Time { return time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC) })
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Clock: clock})
	if err != nil {
		panic(err)
	}
	defer r.Shutdown(ctx)
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Phishing against finance", Severity: ir.SeverityHigh})
	if err != nil {
		panic(err)
	}
	_, err = r.RecordReview(ctx, alice, inc.ID, ir.NewReview{
		Summary:   "A fake payroll e-mail took a password.",
		RootCause: "Webmail accepted passwords alone.",
		WentWell:  []string{"Reported within the hour"},
		FollowUps: []ir.NewFollowUp{{Title: "Require MFA on webmail", Owner: ir.Actor{ID: "raj"}}},
	})
	if err != nil {
		panic(err)
	}

	doc, err := reviewreport.Gather(ctx, reviewreport.Sources{Responder: r, Clock: clock}, inc.ID)
	if err != nil {
		panic(err)
	}
	var out bytes.Buffer
	if err := reviewreport.Markdown(&out, doc); err != nil {
		panic(err)
	}
	md := out.String()
	start := strings.Index(md, "## Post-incident review")
	end := strings.Index(md, "## Decisions")
	fmt.Print(md[start:end])
	// Output:
	// ## Post-incident review
	//
	// Revision 1, recorded 2026-03-06 12:00:00 by Alice Moreau (alice).
	//
	// ### What happened
	//
	// A fake payroll e-mail took a password.
	//
	// ### Root cause
	//
	// Webmail accepted passwords alone.
	//
	// ### Contributing factors
	//
	// None recorded.
	//
	// ### What went well
	//
	// - Reported within the hour
	//
	// ### What went poorly
	//
	// None recorded.
	//
	// ### Lessons learned
	//
	// None recorded.
	//
	// ## Follow-up actions
	//
	// 0 of 1 done.
	//
	// | # | Action | Owner | Due | Tracked in | State |
	// | --- | --- | --- | --- | --- | --- |
	// | 1 | Require MFA on webmail | raj | — | — | open |
}

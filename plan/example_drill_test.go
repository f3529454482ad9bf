package plan_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
	"github.com/incidentkit/incidentkit/plan"
)

// A tabletop drill of the phishing playbook: the team tries to contain
// before identification is done, and the report says what held it back,
// which role nobody held, and where the drill's notifications would have
// gone, though none was sent.
func ExampleRunDrill() {
	p := &plan.Plan{
		Name:  "acme-security",
		Model: phases.SANS.Name(),
		Team: []plan.Member{
			{ID: "alice", Name: "Alice Moreau", Roles: []ir.Role{ir.RoleCommander}, OnDuty: []ir.Role{ir.RoleCommander}},
			{ID: "bob", Name: "Bob Okafor", Roles: []ir.Role{ir.RoleAnalyst}, OnDuty: []ir.Role{ir.RoleAnalyst}},
		},
		Playbooks: []plan.Playbook{plan.Phishing()},
	}
	routing, err := notify.LoadRouting(strings.NewReader(`{
	  "channels": [{"name": "pager"}, {"name": "drills"}],
	  "routes": [
	    {"name": "page", "min_severity": "high", "channels": ["pager"]},
	    {"name": "drills", "channels": ["drills"], "exercises": true}
	  ]}`))
	if err != nil {
		log.Fatal(err)
	}
	router, err := notify.NewRouter(routing)
	if err != nil {
		log.Fatal(err)
	}
	rep, err := plan.RunDrill(context.Background(), p, plan.Drill{
		Name:   "phishing tabletop",
		Start:  time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Router: router,
		Steps: []plan.DrillStep{
			plan.DrillOpen("Payroll phishing wave", ir.SeverityHigh, ir.CategoryPhishing),
			plan.DrillTransition(phases.Identify, "reported by finance"),
			plan.DrillAdvance(30 * time.Minute),
			plan.DrillCompleteTask("collect-message", "headers saved"),
			plan.DrillTransition(phases.Contain, "it is spreading"),
			plan.DrillCompleteRequired(),
			plan.DrillTransition(phases.Contain, "it is spreading"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range rep.Blocked() {
		fmt.Printf("step %d blocked at %s:\n", s.N, s.At.Format("15:04"))
		for _, r := range s.Reasons {
			fmt.Println(" ", r)
		}
	}
	fmt.Println("nobody held:", rep.MissingRoles())
	fmt.Println("playbook tasks added:", len(rep.Tasks))
	n := rep.Notifications[0]
	fmt.Printf("%q would have gone to %v; held back: %s\n", n.Message.Event.Summary, n.Deliver[0].Channel, n.Held[0].Reason())
	// Output:
	// step 5 blocked at 09:30:
	//   tasks_done: required tasks of identification not done: Find every recipient, and who clicked, opened an attachment or replied, Record the sender, links and attachment hashes as observables
	// nobody held: [technical_lead]
	// playbook tasks added: 6
	// "opened exercise \"Payroll phishing wave\", severity high, in Preparation" would have gone to drills; held back: route "page" does not take exercises
}

package plan_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
	"github.com/incidentkit/incidentkit/plan"
)

// A plan is loaded from a file, and asked who is on duty, who may take a
// production system offline, whom to escalate to, and whether its upkeep
// is overdue.
func ExampleLoadFile() {
	p, err := plan.LoadFile("testdata/plan.yaml", plan.Options{})
	if err != nil {
		log.Fatal(err)
	}
	commander, _ := p.OnDuty(ir.RoleCommander)
	fmt.Println("on duty:", commander.Name)
	fmt.Println("may take production offline:", p.Deciders("take_production_offline"))
	for _, l := range p.Escalations(5 * time.Hour) {
		fmt.Println("escalated to:", strings.Join(l.Contacts, ", "))
	}
	for _, o := range p.Overdue(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)) {
		fmt.Println(o)
	}
	// Output:
	// on duty: Alice Moreau
	// may take production offline: [incident_commander]
	// escalated to: Security on call
	// escalated to: Incident response retainer
	// the plan's exercise is overdue since 2026-09-13 (last 2026-03-15, due every 182 days)
}

// A plan file with mistakes is refused with every one of them, each with
// its place in the file.
func ExampleLoad_problems() {
	src := `name: acme
model: sans-picerl
team:
  - {id: alice, roles: [incident_commander, ceo]}
contacts:
  - {name: Legal counsel, kind: legal}
playbooks:
  - name: phishing
    category: phishing
    steps:
      - {key: block, phase: contaiment, title: Block the sender, required: true}
`
	_, err := plan.Load(strings.NewReader(src), plan.YAML, plan.Options{})
	var ve *plan.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// /team/0/roles/1 (4:45): unknown role "ceo"
	// /contacts/0 (6:5): contact "Legal counsel" has no way to be reached: give channels or an audience
	// /playbooks/0/steps/0/phase (11:29): playbook for unknown phase "contaiment": sans-picerl has no such phase
}

// A Responder configured by a plan opens a ransomware incident with the
// on-duty members in their roles, adds the playbook's tasks as each phase
// is entered, and holds the next transition until the required ones are
// done.
func ExamplePlan_Configure() {
	ctx := context.Background()
	p := &plan.Plan{
		Name:  "example",
		Model: phases.SANS.Name(),
		Team: []plan.Member{
			{ID: "alice", Name: "Alice Moreau", Roles: []ir.Role{ir.RoleCommander}, OnDuty: []ir.Role{ir.RoleCommander}},
			{ID: "bob", Name: "Bob Okafor", Roles: []ir.Role{ir.RoleAnalyst, ir.RoleTechnicalLead}, OnDuty: []ir.Role{ir.RoleAnalyst, ir.RoleTechnicalLead}},
		},
		Playbooks: []plan.Playbook{plan.Ransomware()},
	}
	cfg, err := p.Configure(ir.Config{Store: ir.NewMemoryStore()})
	if err != nil {
		log.Fatal(err)
	}
	r, err := ir.NewResponder(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "File server encrypted", Severity: ir.SeverityCritical, Category: ir.CategoryRansomware})
	if err != nil {
		log.Fatal(err)
	}
	for _, part := range inc.Participants {
		fmt.Printf("%s: %s\n", part.Role, part.Actor)
	}
	inc, err = r.Transition(ctx, alice, inc.ID, phases.Identify, "ransom note on fs-02")
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range inc.Tasks {
		fmt.Printf("%d. %s (%s, %s, required: %t)\n", t.ID, t.Title, t.Role, t.Assignee, t.Required)
	}
	_, err = r.Transition(ctx, alice, inc.ID, phases.Contain, "isolating")
	fmt.Println("refused:", errors.Is(err, phases.ErrGuardFailed))
	// Output:
	// incident_commander: Alice Moreau
	// analyst: Bob Okafor
	// technical_lead: Bob Okafor
	// 1. Determine which systems and data are affected (analyst, Bob Okafor, required: true)
	// 2. Triage the affected systems for restoration and recovery, critical ones first (technical_lead, Bob Okafor, required: true)
	// 3. Identify the ransomware variant and the initial access (analyst, Bob Okafor, required: false)
	// refused: true
}

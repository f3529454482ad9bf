package phases_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/incidentkit/incidentkit/phases"
)

// incident is the smallest phases.Subject: the roles held, the required tasks
// still open in each phase, and the verdict.
type incident struct {
	roles   []string
	pending map[phases.Phase][]string
	verdict string
}

func (i *incident) HoldsRole(role string) bool           { return slices.Contains(i.roles, role) }
func (i *incident) PendingTasks(p phases.Phase) []string { return i.pending[p] }
func (i *incident) VerdictIn(verdicts ...string) bool {
	return i.verdict != "" && (len(verdicts) == 0 || slices.Contains(verdicts, i.verdict))
}

func ExampleModel_Fire() {
	ctx := context.Background()
	inc := &incident{}

	// Containment needs an incident commander.
	_, err := phases.SANS.Fire(ctx, inc, phases.Identification, phases.Contain)
	fmt.Println(errors.Is(err, phases.ErrGuardFailed))
	fmt.Println(err)

	inc.roles = append(inc.roles, phases.RoleCommander)
	next, err := phases.SANS.Fire(ctx, inc, phases.Identification, phases.Contain)
	fmt.Println(next, err)
	// Output:
	// true
	// phases: sans-picerl: cannot contain from identification to containment: role_assigned(incident_commander): no incident commander is assigned
	// containment <nil>
}

func ExampleNew() {
	bounty, err := phases.New(phases.Definition{
		Name:    "bug-bounty",
		Initial: "received",
		Phases: []phases.PhaseDef{
			{Name: "received", Title: "Received"},
			{Name: "validated", Title: "Validated", Marks: []phases.Milestone{phases.MilestoneAcknowledged}},
			{Name: "paid", Title: "Paid", Terminal: true},
			{Name: "rejected", Title: "Rejected", Terminal: true},
		},
		Actions: []phases.ActionDef{
			{Name: "validate", From: []phases.Phase{"received"}, To: "validated",
				Guards: []phases.GuardSpec{{Type: phases.GuardRoleAssigned, Role: "triager"}}},
			{Name: "pay", From: []phases.Phase{"validated"}, To: "paid"},
			{Name: "reject", From: []phases.Phase{"received", "validated"}, To: "rejected"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bounty.Initial(), bounty.Available(bounty.Initial()), bounty.Terminal())

	// Every problem is reported at once.
	_, err = phases.New(phases.Definition{
		Name:    "broken",
		Initial: "open",
		Phases:  []phases.PhaseDef{{Name: "open"}},
	})
	var invalid *phases.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println(strings.Join(invalid.Problems, "\n"))
	}
	// Output:
	// received [validate reject] [paid rejected]
	// the model has no terminal phase
	// phase "open" is not terminal but no action leaves it
}

func ExampleLoad() {
	const model = `{
		"name": "phishing",
		"initial": "reported",
		"phases": [
			{"name": "reported"},
			{"name": "investigating", "marks": ["acknowledged"]},
			{"name": "closed", "terminal": true, "marks": ["closed"]}
		],
		"actions": [
			{"name": "investigate", "from": ["reported"], "to": "investigating"},
			{"name": "close", "from": ["reported", "investigating"], "to": "closed",
			 "guards": [{"type": "verdict_set"}]}
		]
	}`
	m, err := phases.Load(strings.NewReader(model))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Name(), m.Available("reported"), m.GuardNames("close"))

	_, err = m.Fire(context.Background(), &incident{}, "investigating", "close")
	fmt.Println(err)
	// Output:
	// phishing [investigate close] [verdict_set]
	// phases: phishing: cannot close from investigating to closed: verdict_set: no verdict is set
}

// A definition Load cannot decode is refused with the line and column of
// the problem.
func ExampleDecodeError() {
	const model = `{
		"name": "phishing",
		"initial": "reported",
		"phases": [{"name": "reported", "terminl": true}]
	}`
	_, err := phases.Load(strings.NewReader(model))
	var de *phases.DecodeError
	if errors.As(err, &de) {
		fmt.Println(errors.Is(err, phases.ErrInvalidModel), de.Line, de.Column)
	}
	fmt.Println(err)
	// Output:
	// true 4 35
	// phases: invalid model definition at line 4, column 35: json: unknown field "terminl"
}

func ExampleModel_Mermaid() {
	m := phases.MustNew(phases.Definition{
		Name:    "takedown",
		Title:   "Domain takedown",
		Initial: "requested",
		Phases: []phases.PhaseDef{
			{Name: "requested", Title: "Requested"},
			{Name: "done", Title: "Taken down", Terminal: true},
		},
		Actions: []phases.ActionDef{
			{Name: "confirm", From: []phases.Phase{"requested"}, To: "done"},
			{Name: "reopen", From: []phases.Phase{"done"}, To: "requested"},
		},
	})
	fmt.Print(m.Mermaid())
	// Output:
	// stateDiagram-v2
	//     %% Domain takedown
	//     state "Requested" as s0
	//     state "Taken down" as s1
	//     [*] --> s0
	//     s0 --> s1: confirm
	//     s1 --> s0: reopen
	//     s1 --> [*]
}

func ExampleModel_WithGuards() {
	imaged := map[string]bool{"laptop-1": true}
	evidencePreserved := phases.NamedGuard("evidence_preserved",
		phases.GuardFunc(func(ctx context.Context, t phases.Transition) error {
			for _, host := range []string{"laptop-1", "laptop-2"} {
				if !imaged[host] {
					return fmt.Errorf("%s has not been imaged", host)
				}
			}
			return nil
		}))

	m, err := phases.SANS.WithGuards(phases.Eradicate, evidencePreserved)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.GuardNames(phases.Eradicate))

	_, err = m.Fire(context.Background(), &incident{}, phases.Containment, phases.Eradicate)
	fmt.Println(err)
	// Output:
	// [tasks_done evidence_preserved]
	// phases: sans-picerl: cannot eradicate from containment to eradication: evidence_preserved: laptop-2 has not been imaged
}

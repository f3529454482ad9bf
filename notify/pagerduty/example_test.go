package pagerduty_test

import (
	"encoding/json"
	"fmt"
	"log"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/pagerduty"
)

// Action says what each event of an incident does to its PagerDuty alert.
func ExampleNotifier_Action() {
	n, err := pagerduty.New(pagerduty.Config{RoutingKey: notify.NewSecret("R0UTINGKEY0123456789abcdefABCDEF")})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range []struct{ typ, data, phase string }{
		{"opened", `{}`, "preparation"},
		{"severity_changed", `{"from":"medium","to":"critical"}`, "identification"},
		{"note_added", `{"text":"mail gateway logs pulled"}`, "identification"},
		{"phase_changed", `{"from":"identification","to":"containment"}`, "containment"},
		{"phase_changed", `{"from":"lessons_learned","to":"closed"}`, "closed"},
	} {
		m := notifytest.Message()
		m.Event.Type, m.Event.Data, m.Incident.Phase, m.Incident.Open = e.typ, json.RawMessage(e.data), e.phase, e.phase != "closed"
		action := n.Action(m)
		if action == "" {
			action = "(nothing)"
		}
		fmt.Printf("%-16s %s\n", e.typ, action)
	}
	// Output:
	// opened           trigger
	// severity_changed trigger
	// note_added       (nothing)
	// phase_changed    acknowledge
	// phase_changed    resolve
}

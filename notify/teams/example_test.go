package teams_test

import (
	"context"
	"fmt"
	"log"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/teams"
)

// Card shows what a Teams channel posts; a template override changes the
// text of one event type.
func ExampleNotifier_Card() {
	url, err := notify.ParseSecretURL("https://example.webhook.office.com/workflows/abc/triggers/manual/paths/invoke?sig=SIGNATURE")
	if err != nil {
		log.Fatal(err)
	}
	n, err := teams.New(teams.Config{URL: url, Templates: map[string]string{
		"phase_changed": `{{.Incident.ID}} entered {{words .Incident.Phase}}: {{.Event.Reason}}`,
	}})
	if err != nil {
		log.Fatal(err)
	}
	card := n.Card(context.Background(), notifytest.Message(), 4000)
	body := card["attachments"].([]map[string]any)[0]["content"].(map[string]any)["body"].([]map[string]any)
	fmt.Println(body[0]["text"])
	fmt.Println(body[1]["text"])
	fmt.Println(n)
	// Output:
	// [HIGH] INC-000042: Credential phishing against the finance team
	// INC-000042 entered eradication: account secured, laptop isolated, indicators blocked
	// teams https://example.webhook.office.com/[REDACTED]
}

package slack_test

import (
	"context"
	"fmt"
	"log"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/slack"
)

// Payload shows what a Slack channel posts: a colour bar for the
// severity, and the text its templates render, escaped for Slack.
func ExampleNotifier_Payload() {
	url, err := notify.ParseSecretURL("https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX")
	if err != nil {
		log.Fatal(err)
	}
	n, err := slack.New(slack.Config{URL: url})
	if err != nil {
		log.Fatal(err)
	}
	p := n.Payload(context.Background(), notifytest.Message())
	a := p["attachments"].([]map[string]any)[0]
	fmt.Println(a["color"])
	fmt.Println(p["text"])
	fmt.Println(n)
	// Output:
	// #E01E5A
	// [HIGH] INC-000042 Credential phishing against the finance team: Alice Moreau moved the incident from Containment to Eradication: account secured, laptop isolated, indicators blocked
	// slack https://hooks.slack.com/[REDACTED]
}

package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/webhook"
)

// A service sends signed CloudEvents; a receiver written in Go verifies
// them with the Verifier's middleware before handling them.
func Example() {
	signing := notify.NewSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

	verifier, err := webhook.NewVerifier(webhook.VerifierConfig{Secrets: []notify.Secret{signing}})
	if err != nil {
		log.Fatal(err)
	}
	receiver := httptest.NewServer(verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev webhook.Event
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		fmt.Printf("verified %s about %s: %s\n", ev.Type, ev.Subject, ev.Data.Event.Sentence())
	})))
	defer receiver.Close()

	url, err := notify.ParseSecretURL(receiver.URL + "/incidentkit")
	if err != nil {
		log.Fatal(err)
	}
	n, err := webhook.New(webhook.Config{
		URL: url, Secrets: []notify.Secret{signing},
		// The receiver is on loopback, which notifiers refuse unless
		// allowed.
		Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Notify(context.Background(), notifytest.Message()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// verified io.incidentkit.incident.phase_changed about INC-000042: Alice Moreau moved the incident from Containment to Eradication: account secured, laptop isolated, indicators blocked
}

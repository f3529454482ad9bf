package slack_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"

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
	// [HIGH] INC-000042 Credential phishing against the finance team: Phase: eradication
	// Alice Moreau moved the incident from Containment to Eradication: account secured, laptop isolated, indicators blocked
	// slack https://hooks.slack.com/[REDACTED]
}

// With a bot token and a channel ID, a Notifier posts through the Web API
// and gives each incident one thread: the first message starts it, later
// ones reply in it. Here the Web API is a fake on loopback.
func ExampleNew_botToken() {
	var (
		mu      sync.Mutex
		posts   int
		threads []string
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/conversations.history") {
			fmt.Fprint(w, `{"ok":true,"messages":[]}`)
			return
		}
		posts++
		threads = append(threads, r.FormValue("thread_ts"))
		fmt.Fprintf(w, `{"ok":true,"channel":"C0123ABCD","ts":"1700000000.00000%d"}`, posts)
	}))
	defer api.Close()

	n, err := slack.New(slack.Config{
		Token:   notify.NewSecret("xoxb-0000-0000-XXXXXXXXXXXXXXXXXXXXXXXX"),
		Channel: "C0123ABCD",
		APIURL:  api.URL + "/api/",
		// Outbound requests to loopback are refused unless allowed.
		Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()
	for range 3 {
		r, err := n.Notify(context.Background(), notifytest.Message())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("posted", r.ID)
	}
	fmt.Printf("in thread %q\n", threads)
	fmt.Println(n)
	// Output:
	// posted 1700000000.000001
	// posted 1700000000.000002
	// posted 1700000000.000003
	// in thread ["" "1700000000.000001" "1700000000.000001"]
	// slack channel C0123ABCD
}

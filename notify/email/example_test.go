package email_test

import (
	"fmt"
	"log"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/email"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// Every message of an incident is threaded under the message of the event
// that opened it, without the channel keeping any state.
func ExampleNotifier_Thread() {
	n, err := email.New(email.Config{
		Host: "smtp.example.org", Username: "ops@example.org", Password: notify.NewSecret("app-password"),
		From: "incidentkit@example.org", To: []string{"responders@example.org"}, Domain: "ir.example.org",
	})
	if err != nil {
		log.Fatal(err)
	}
	opened := notifytest.Message()
	opened.Key, opened.Event.Type = "INC-000042/1/1", "opened"
	for _, m := range []notify.Message{opened, notifytest.Message()} {
		id, parent := n.Thread(m)
		fmt.Printf("%-14s Message-ID <%s> in reply to %q\n", m.Event.Type, id, parent)
	}
	fmt.Println(n)
	// Output:
	// opened         Message-ID <incident.INC-000042@ir.example.org> in reply to ""
	// phase_changed  Message-ID <INC-000042/7/1@ir.example.org> in reply to "incident.INC-000042@ir.example.org"
	// email via smtp.example.org:587 to responders@example.org
}

package notifytest

import (
	"encoding/json"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// Message returns a message with every field set, as the incident
// package's Responder writes one for a phase change, for tests of
// notifiers and templates.
func Message() notify.Message {
	return notify.Message{
		Key: "INC-000042/7/1",
		Incident: notify.Incident{
			ID: "INC-000042", Title: "Credential phishing against the finance team",
			Severity: "high", Priority: "P2", Category: "phishing", TLP: "TLP:AMBER",
			Model: "sans", Phase: "eradication", Open: true,
			Labels: []string{"finance", "o365"}, Version: 7,
		},
		Event: notify.Event{
			IncidentID: "INC-000042", Seq: 31, Version: 7, Type: "phase_changed",
			At:      time.Date(2026, time.March, 2, 11, 40, 0, 0, time.UTC),
			Actor:   notify.Actor{ID: "alice", Name: "Alice Moreau", Kind: "human"},
			Reason:  "account secured, laptop isolated, indicators blocked",
			Summary: "moved the incident from Containment to Eradication",
			Data:    json.RawMessage(`{"action":"eradicate","from":"containment","to":"eradication"}`),
		},
		Audience: notify.AudienceResponders,
		Links: []notify.Link{
			{Rel: "incident", Title: "INC-000042", URL: "https://ir.example.org/incidents/INC-000042"},
			{Rel: "timeline", Title: "Timeline of INC-000042", URL: "https://ir.example.org/incidents/INC-000042/timeline"},
		},
	}
}

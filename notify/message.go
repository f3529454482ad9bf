package notify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Message is what a notification tells its receiver, enough to act on
// without reading the store: the event, the incident as the change that
// recorded the event left it, the key that identifies the message on
// every delivery, who it is for, and links to where the incident is
// worked on. The incident package's Responder writes one per timeline
// event as the payload of an [OutboxMessage], as JSON; read it back with
// [OutboxEntry.Message].
type Message struct {
	// Key identifies the message, the same on every delivery attempt:
	// the [OutboxMessage.Key]. Peers that can drop repeats use it as the
	// idempotency key.
	Key string `json:"key,omitempty"`
	// Incident is the incident as the change left it.
	Incident Incident `json:"incident"`
	// Event is the event the message reports.
	Event Event `json:"event"`
	// Audience is who the message is for, such as [AudienceExecutives];
	// empty for anyone the routes send it to.
	Audience Audience `json:"audience,omitempty"`
	// Links point at the incident; see [Message.WithLinks].
	Links []Link `json:"links,omitempty"`
	// Trace carries the trace context of the change that wrote the
	// message, as W3C Trace Context headers ("traceparent" and, if any,
	// "tracestate"), so that the spans of its delivery can link to the
	// span of the change. Empty when the change was not traced.
	Trace map[string]string `json:"trace,omitempty"`
}

// Audience names who a message is for. Routes match on it like on any
// other field.
type Audience string

// Audiences of an incident response.
const (
	AudienceResponders     Audience = "responders"
	AudienceExecutives     Audience = "executives"
	AudienceLegal          Audience = "legal"
	AudienceCustomers      Audience = "customers"
	AudienceRegulators     Audience = "regulators"
	AudienceLawEnforcement Audience = "law_enforcement"
)

// Link is a link a message carries.
type Link struct {
	// Rel says what the link points at: "incident" or "timeline".
	Rel string `json:"rel"`
	// Title is the link's text.
	Title string `json:"title"`
	// URL is the absolute URL.
	URL string `json:"url"`
}

// WithLinks returns m with links to its incident built from base, the
// absolute http or https URL of the service where incidents are worked on:
// the incident at base/incidents/{id} and its timeline at
// base/incidents/{id}/timeline, the ID escaped as one path segment (the
// base's query and fragment are dropped). A base that is not such a
// URL is refused with an error matching [ErrInvalid].
func (m Message) WithLinks(base string) (Message, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return m, invalid("link base", "", "must be an absolute http or https URL without credentials")
	}
	if m.Incident.ID == "" {
		return m, invalid("message", "", "links need the incident's ID")
	}
	u.RawQuery, u.Fragment = "", ""
	inc := strings.TrimSuffix(u.String(), "/") + "/incidents/" + url.PathEscape(m.Incident.ID)
	m.Links = []Link{
		{Rel: "incident", Title: m.Incident.ID, URL: inc},
		{Rel: "timeline", Title: "Timeline of " + m.Incident.ID, URL: inc + "/timeline"},
	}
	return m, nil
}

// Incident is the part of an incident a notification shows.
type Incident struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Severity is "low", "medium", "high" or "critical".
	Severity string `json:"severity"`
	Priority string `json:"priority"`
	Category string `json:"category"`
	// TLP is the incident's Traffic Light Protocol label, one of the
	// [TLP] constants: "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER",
	// "TLP:AMBER+STRICT" or "TLP:RED".
	TLP string `json:"tlp"`
	// Exercise is set when the incident is an exercise, such as a drill
	// of the response plan, not a real incident: channels mark their
	// messages about it, and only routes that accept exercises send them
	// ([Route].Exercises).
	Exercise bool `json:"exercise,omitempty"`
	// Model names the phase model the incident follows.
	Model string `json:"model"`
	// Phase is the incident's phase.
	Phase string `json:"phase"`
	// Open is false once the incident is closed.
	Open   bool     `json:"open"`
	Labels []string `json:"labels,omitempty"`
	// Version is the incident version the change produced.
	Version int64 `json:"version"`
}

// ExerciseMarker marks what channels show of an exercise: the headlines
// of the default templates, e-mail subjects, chat headers.
const ExerciseMarker = "[EXERCISE]"

// Marker returns [ExerciseMarker] and a space for an exercise, to put
// before a headline or a subject, and "" for a real incident.
func (i Incident) Marker() string {
	if i.Exercise {
		return ExerciseMarker + " "
	}
	return ""
}

// Event is a timeline event, as a [Message] reports it.
type Event struct {
	IncidentID string `json:"incident_id"`
	// Seq numbers the incident's events from 1, in the order they were
	// stored: the Seq the event has on the incident's timeline. The
	// store writes it into the message as it numbers the events, so
	// that a receiver can order the messages of one incident and point
	// at the event on its timeline.
	Seq int64 `json:"seq"`
	// Version is the incident version the change produced.
	Version int64 `json:"version"`
	// Type names the kind of change, such as "phase_changed".
	Type string `json:"type"`
	// At is when the change was made.
	At time.Time `json:"at"`
	// Actor is who made the change.
	Actor Actor `json:"actor"`
	// Reason is why the change was made, as the actor gave it.
	Reason string `json:"reason,omitempty"`
	// Summary says in words what the event records, as the predicate of
	// a sentence whose subject is the actor: "moved the incident from
	// Containment to Eradication". Messages written before summaries
	// were kept have none; see [Event.Sentence].
	Summary string `json:"summary,omitempty"`
	// Data holds the event's details as the incident package encodes
	// them for its Type.
	Data json.RawMessage `json:"data"`
}

// Actor is whoever made a change: a person or a program.
type Actor struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Kind is "human" or "service".
	Kind string `json:"kind,omitempty"`
}

// String returns the actor's display name, or the ID if there is none.
func (a Actor) String() string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// Sentence says in one sentence who did what and why: the actor, the
// summary and the reason, as in "Alice Moreau moved the incident from
// Containment to Eradication: account secured, laptop isolated". Without a
// summary, the event's type stands in for it.
func (e Event) Sentence() string {
	what := e.Summary
	if what == "" {
		what = "recorded " + strings.ReplaceAll(e.Type, "_", " ")
	}
	s := e.Actor.String() + " " + what
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Message decodes the entry's payload, the [Message] the incident
// package's Responder wrote, with its Key set to the entry's.
func (e OutboxEntry) Message() (Message, error) {
	m, err := DecodeMessage(e.Payload)
	if err != nil {
		return Message{}, fmt.Errorf("notify: outbox entry %d: %w", e.ID, err)
	}
	m.Key = e.Key
	return m, nil
}

// DecodeMessage decodes the payload of an outbox message the incident
// package's Responder wrote.
func DecodeMessage(payload []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(payload, &m); err != nil {
		return Message{}, fmt.Errorf("notify: decode message: %w", err)
	}
	return m, nil
}

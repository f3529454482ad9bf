// Package pagerduty pages through the PagerDuty Events API v2: an
// incident triggers an alert when it is opened (or reopened) and again
// when its severity rises to high or critical, the alert is acknowledged
// when containment starts and resolved when the incident is closed. The
// incident's ID is the alert's dedup key, so every event of one incident
// acts on one alert; the incident's severity maps to PagerDuty's four
// (critical, error, warning, info), and the alert carries the message's
// links and the incident's details.
package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// DefaultURL is the Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// maxSummary is the longest summary PagerDuty takes, in characters.
const maxSummary = 1024

// DefaultTemplates are the alert summary's templates: the incident's ID
// and title, then notify.DefaultLineTemplates, the headline and the
// event's sentence on one line, for each kind of message.
var DefaultTemplates = summaryTemplates()

func summaryTemplates() map[string]string {
	t := notify.DefaultLineTemplates()
	for name, text := range t {
		t[name] = "[{{.Incident.ID}}] {{.Incident.Title}}: " + text
	}
	return t
}

// Config configures a [Notifier].
type Config struct {
	// RoutingKey is the integration key of the PagerDuty service. Required.
	RoutingKey notify.Secret
	// URL is the Events API endpoint; zero means [DefaultURL].
	URL notify.SecretURL
	// Source names what the alerts come from; empty means "incidentkit".
	Source string
	// AcknowledgePhases are the phases whose start acknowledges the alert;
	// nil means containment (SANS and others) and
	// containment_eradication_recovery (NIST).
	AcknowledgePhases []string
	// Templates override [DefaultTemplates] by name ("default", an event
	// type, "closed" or "reopened"; see notify.Templates); they render the
	// alert's summary, cut to PagerDuty's 1,024 characters.
	Templates map[string]string
	// Logger receives template failures; nil means slog.Default().
	Logger *slog.Logger
	// Client sends the requests; nil means notify.NewHTTPClient with its
	// defaults.
	Client *http.Client
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Notifier is a notify.Notifier that sends events to PagerDuty. It is safe
// for concurrent use.
type Notifier struct {
	key       notify.Secret
	url       notify.SecretURL
	source    string
	ack       []string
	templates *notify.Templates
	client    *http.Client
	now       func() time.Time
}

// New checks cfg and returns its [Notifier]. It refuses a missing routing
// key and templates that do not parse with an error matching
// notify.ErrInvalid.
func New(cfg Config) (*Notifier, error) {
	if cfg.RoutingKey.IsZero() {
		return nil, &notify.InvalidError{Field: "PagerDuty routing key", Reason: "is required"}
	}
	tpl, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: DefaultTemplates, Overrides: cfg.Templates, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	n := &Notifier{key: cfg.RoutingKey, url: cfg.URL, source: cfg.Source, ack: cfg.AcknowledgePhases, templates: tpl,
		client: cfg.Client, now: cfg.Now}
	if n.url.IsZero() {
		n.url, _ = notify.ParseSecretURL(DefaultURL)
	}
	if n.source == "" {
		n.source = "incidentkit"
	}
	if n.ack == nil {
		n.ack = []string{"containment", "containment_eradication_recovery"}
	}
	if n.client == nil {
		n.client = notify.NewHTTPClient(notify.HTTPConfig{})
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n, nil
}

// Actions of the Events API.
const (
	Trigger     = "trigger"
	Acknowledge = "acknowledge"
	Resolve     = "resolve"
)

// Action returns what m does to the incident's alert: [Trigger],
// [Acknowledge], [Resolve], or "" for a message that does nothing to it
// (a note, a task, a phase change other than those).
func (n *Notifier) Action(m notify.Message) string {
	var change struct{ From, To string }
	switch m.Event.Type {
	case "opened":
		return Trigger
	case "severity_changed":
		if json.Unmarshal(m.Event.Data, &change) == nil && rank(change.To) >= rank("high") && rank(change.To) > rank(change.From) {
			return Trigger
		}
	case "phase_changed":
		_ = json.Unmarshal(m.Event.Data, &change)
		switch {
		case !m.Incident.Open:
			return Resolve
		case change.From == "closed":
			return Trigger
		case slices.Contains(n.ack, m.Incident.Phase):
			return Acknowledge
		}
	}
	return ""
}

func rank(severity string) int {
	return slices.Index([]string{notify.SeverityLow, notify.SeverityMedium, notify.SeverityHigh, notify.SeverityCritical}, severity)
}

// severity maps an incident severity to PagerDuty's.
func severity(s string) string {
	switch s {
	case notify.SeverityCritical:
		return "critical"
	case notify.SeverityHigh:
		return "error"
	case notify.SeverityMedium:
		return "warning"
	default:
		return "info"
	}
}

// Event is a PagerDuty Events API v2 event, as the [Notifier] sends it.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
}

// Payload is the alert of a trigger event.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     time.Time      `json:"timestamp"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link an event carries.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Notify sends the event m maps to (see [Notifier.Action]); a message that
// maps to none is not sent, and its receipt is empty. The receipt of a
// sent event is the dedup key PagerDuty acknowledged.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, notify.Retry(err, 0)
	}
	action := n.Action(m)
	if action == "" {
		return notify.Receipt{}, nil
	}
	ev := Event{RoutingKey: n.key.Reveal(), EventAction: action, DedupKey: m.Incident.ID, Client: n.source}
	if action == Trigger {
		inc := m.Incident
		ev.Payload = &Payload{
			Summary:   notify.TruncateRunes(n.templates.Render(ctx, m), maxSummary),
			Source:    n.source,
			Severity:  severity(inc.Severity),
			Timestamp: m.Event.At.UTC(),
			Group:     inc.Phase,
			Class:     inc.Category,
			CustomDetails: map[string]any{
				"incident": inc.ID, "title": inc.Title, "severity": inc.Severity, "priority": inc.Priority,
				"category": inc.Category, "phase": inc.Phase, "tlp": inc.TLP, "labels": inc.Labels,
				"event": m.Event.Type, "actor": m.Event.Actor.String(), "reason": m.Event.Reason, "key": m.Key,
			},
		}
		for _, l := range m.Links {
			ev.Links = append(ev.Links, Link{Href: l.URL, Text: l.Title})
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("pagerduty: encode event: %w", err))
	}
	var reply struct {
		DedupKey string `json:"dedup_key"`
	}
	rc, err := notify.HTTPPost{Client: n.client, URL: n.url, Body: body, Redact: n.redact,
		Header: http.Header{"Content-Type": {"application/json"}},
		Reply:  func(r io.Reader) { _ = json.NewDecoder(r).Decode(&reply) }}.Send(ctx, n.now)
	if err != nil {
		return rc, fmt.Errorf("pagerduty: %w", err)
	}
	if reply.DedupKey == "" || strings.Contains(reply.DedupKey, n.key.Reveal()) {
		// The receipt is kept and logged: a reply quoting the routing
		// key does not make it one.
		reply.DedupKey = ev.DedupKey
	}
	rc.ID = reply.DedupKey
	return rc, nil
}

// redact takes the routing key and the URL out of err.
func (n *Notifier) redact(err error) error { return n.key.Redact(n.url.Redact(err)) }

// Close releases the client's idle connections.
func (n *Notifier) Close() error {
	n.client.CloseIdleConnections()
	return nil
}

// String names the notifier without its routing key.
func (n *Notifier) String() string { return "pagerduty " + n.url.String() }

var (
	_ notify.Notifier = (*Notifier)(nil)
	_ io.Closer       = (*Notifier)(nil)
)

// Package slack posts notifications to Slack through an incoming webhook,
// as Block Kit messages: a header with the incident, the event's text, the
// incident's facts and a button per link, in an attachment whose colour
// bar shows the severity.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// Block Kit limits, in characters.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxButton  = 75
	maxText    = 3000
	maxButtons = 25
)

// DefaultTemplates are the message's text templates: the event's sentence.
// Slack's mrkdwn special characters in what they insert are escaped.
var DefaultTemplates = map[string]string{
	"default": `{{sentence .}}`,
}

// Config configures a [Notifier].
type Config struct {
	// URL is the incoming webhook's URL, which holds its token. Required.
	URL notify.SecretURL
	// Templates override [DefaultTemplates] by name ("default" or an
	// event type); they render the message's text, as mrkdwn.
	Templates map[string]string
	// Logger receives template failures; nil means slog.Default().
	Logger *slog.Logger
	// Client sends the requests; nil means notify.NewHTTPClient with its
	// defaults.
	Client *http.Client
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Notifier is a notify.Notifier that posts to a Slack incoming webhook. It
// is safe for concurrent use.
type Notifier struct {
	url       notify.SecretURL
	templates *notify.Templates
	client    *http.Client
	now       func() time.Time
}

// New checks cfg and returns its [Notifier], refusing a missing URL and
// templates that do not parse with an error matching notify.ErrInvalid.
func New(cfg Config) (*Notifier, error) {
	if cfg.URL.IsZero() {
		return nil, &notify.InvalidError{Field: "Slack webhook URL", Reason: "is required"}
	}
	tpl, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: DefaultTemplates, Overrides: cfg.Templates, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	n := &Notifier{url: cfg.URL, templates: tpl, client: cfg.Client, now: cfg.Now}
	if n.client == nil {
		n.client = notify.NewHTTPClient(notify.HTTPConfig{})
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n, nil
}

// escape escapes Slack's mrkdwn control characters.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// Colour returns the colour bar of a severity.
func Colour(severity string) string {
	switch severity {
	case notify.SeverityCritical:
		return "#A30200"
	case notify.SeverityHigh:
		return "#E01E5A"
	case notify.SeverityMedium:
		return "#ECB22E"
	default:
		return "#2EB67D"
	}
}

// text is a Block Kit text object.
type text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Payload returns the message the Notifier posts for m.
func (n *Notifier) Payload(ctx context.Context, m notify.Message) map[string]any {
	inc := m.Incident
	// The templates' output is mrkdwn; what they insert from the message
	// is escaped by rendering an escaped copy.
	esc := m
	esc.Incident.Title, esc.Event.Reason, esc.Event.Summary = escape(inc.Title), escape(m.Event.Reason), escape(m.Event.Summary)
	esc.Event.Actor.Name, esc.Event.Actor.ID = escape(m.Event.Actor.Name), escape(m.Event.Actor.ID)
	esc.Incident.ID = escape(inc.ID)
	esc.Incident.Labels = make([]string, len(inc.Labels))
	for i, l := range inc.Labels {
		esc.Incident.Labels[i] = escape(l)
	}
	body := notify.TruncateRunes(n.templates.Render(ctx, esc), maxSection)
	status := "open"
	if !inc.Open {
		status = "closed"
	}
	field := func(name, value string) text {
		return text{Type: "mrkdwn", Text: notify.TruncateRunes(fmt.Sprintf("*%s*\n%s", name, escape(value)), maxField)}
	}
	fields := []text{
		field("Severity", inc.Severity), field("Priority", inc.Priority),
		field("Phase", strings.ReplaceAll(inc.Phase, "_", " ")), field("Category", inc.Category),
		field("TLP", inc.TLP), field("Status", status),
	}
	if m.Audience != "" {
		fields = append(fields, field("For", strings.ReplaceAll(string(m.Audience), "_", " ")))
	}
	blocks := []map[string]any{
		{"type": "header", "text": text{Type: "plain_text", Text: notify.TruncateRunes(fmt.Sprintf("[%s] %s: %s", strings.ToUpper(inc.Severity), inc.ID, inc.Title), maxHeader), Emoji: true}},
		{"type": "section", "text": text{Type: "mrkdwn", Text: body}},
		{"type": "section", "fields": fields},
	}
	var buttons []map[string]any
	for _, l := range m.Links {
		if len(buttons) == maxButtons {
			break
		}
		buttons = append(buttons, map[string]any{"type": "button", "text": text{Type: "plain_text", Text: notify.TruncateRunes(l.Title, maxButton)}, "url": l.URL})
	}
	if len(buttons) > 0 {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": buttons})
	}
	return map[string]any{
		"text":        notify.TruncateRunes(fmt.Sprintf("[%s] %s %s: %s", strings.ToUpper(inc.Severity), escape(inc.ID), escape(inc.Title), body), maxText),
		"attachments": []map[string]any{{"color": Colour(inc.Severity), "blocks": blocks}},
	}
}

// Notify posts m. Errors are classified with notify.HTTPError (Slack
// answers 404 for a channel not found, 410 for one archived, 403 for a
// post refused) and never show the URL.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, notify.Retry(err, 0)
	}
	body, err := json.Marshal(n.Payload(ctx, m))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("slack: encode message: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url.Reveal(), bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(n.url.Redact(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("slack: %w", n.url.Redact(err))
	}
	defer resp.Body.Close()
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) }()
	if err := notify.HTTPError(resp, n.now()); err != nil {
		return notify.Receipt{Status: resp.StatusCode}, fmt.Errorf("slack: %w", n.url.Redact(err))
	}
	return notify.Receipt{Status: resp.StatusCode}, nil
}

// Close releases the client's idle connections.
func (n *Notifier) Close() error {
	n.client.CloseIdleConnections()
	return nil
}

// String names the notifier without its URL's token.
func (n *Notifier) String() string { return "slack " + n.url.String() }

var (
	_ notify.Notifier = (*Notifier)(nil)
	_ io.Closer       = (*Notifier)(nil)
)

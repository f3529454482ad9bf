// Package teams posts notifications to Microsoft Teams through a Workflows
// webhook ("When a Teams webhook request is received"), as an Adaptive
// Card: the incident's severity, ID and title as a heading coloured by
// severity, the event's text, the incident's facts, and a button per link.
package teams

import (
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

// MaxBody is the largest request a Workflows webhook takes, in bytes; the
// card's text is cut to fit.
const MaxBody = 28 * 1024

// maxText is the most characters of the event's text a card shows.
const maxText = 4000

// DefaultTemplates are the card's text templates:
// notify.DefaultTextTemplates, a headline and the event's sentence for
// each kind of message. Each line they render is a paragraph of the card.
var DefaultTemplates = notify.DefaultTextTemplates()

// Config configures a [Notifier].
type Config struct {
	// URL is the workflow's webhook URL, which holds its signature.
	// Required.
	URL notify.SecretURL
	// Templates override [DefaultTemplates] by name ("default", an event
	// type, "closed" or "reopened"; see notify.Templates); they render the
	// card's text.
	Templates map[string]string
	// Logger receives template failures; nil means slog.Default().
	Logger *slog.Logger
	// Client sends the requests; nil means notify.NewHTTPClient with its
	// defaults.
	Client *http.Client
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Notifier is a notify.Notifier that posts Adaptive Cards to a Teams
// workflow. It is safe for concurrent use.
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
		return nil, &notify.InvalidError{Field: "Teams workflow URL", Reason: "is required"}
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

// Card returns the Adaptive Card the Notifier posts for m, its text cut
// to at most limit characters.
func (n *Notifier) Card(ctx context.Context, m notify.Message, limit int) map[string]any {
	inc := m.Incident
	status := "open"
	if !inc.Open {
		status = "closed"
	}
	facts := []map[string]string{
		{"title": "Severity", "value": inc.Severity}, {"title": "Priority", "value": inc.Priority},
		{"title": "Phase", "value": strings.ReplaceAll(inc.Phase, "_", " ")}, {"title": "Category", "value": inc.Category},
		{"title": "TLP", "value": inc.TLP}, {"title": "Status", "value": status},
	}
	if m.Audience != "" {
		facts = append(facts, map[string]string{"title": "For", "value": strings.ReplaceAll(string(m.Audience), "_", " ")})
	}
	var actions []map[string]string
	for _, l := range m.Links {
		actions = append(actions, map[string]string{"type": "Action.OpenUrl", "title": l.Title, "url": l.URL})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body": []map[string]any{
			{"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "color": color(inc.Severity),
				"text": notify.TruncateRunes(inc.Marker()+fmt.Sprintf("[%s] %s: %s", strings.ToUpper(inc.Severity), inc.ID, inc.Title), 300)},
			{"type": "TextBlock", "wrap": true, "text": notify.TruncateRunes(paragraphs(n.templates.Render(ctx, m)), limit)},
			{"type": "FactSet", "facts": facts},
		},
	}
	if len(actions) > 0 {
		card["actions"] = actions
	}
	return map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content":     card,
		}},
	}
}

// paragraphs makes each line of a text a paragraph of a TextBlock, whose
// Markdown joins lines that a single newline separates.
func paragraphs(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\n\n")
}

// color is the Adaptive Card colour of a severity.
func color(severity string) string {
	switch severity {
	case notify.SeverityCritical, notify.SeverityHigh:
		return "Attention"
	case notify.SeverityMedium:
		return "Warning"
	default:
		return "Default"
	}
}

// Notify posts m's card. Its text is cut until the request fits in
// [MaxBody]; errors are classified with notify.HTTPError and never show
// the URL.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, notify.Retry(err, 0)
	}
	var body []byte
	for limit := maxText; ; limit /= 2 {
		b, err := json.Marshal(n.Card(ctx, m, limit))
		if err != nil {
			return notify.Receipt{}, notify.Permanent(fmt.Errorf("teams: encode card: %w", err))
		}
		if len(b) <= MaxBody || limit == 0 {
			body = b
			break
		}
	}
	if len(body) > MaxBody {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("teams: the card is %d bytes even without text; the limit is %d", len(body), MaxBody))
	}
	rc, err := notify.HTTPPost{Client: n.client, URL: n.url, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}}.Send(ctx, n.now)
	if err != nil {
		return rc, fmt.Errorf("teams: %w", err)
	}
	return rc, nil
}

// Close releases the client's idle connections.
func (n *Notifier) Close() error {
	n.client.CloseIdleConnections()
	return nil
}

// String names the notifier without its URL's signature.
func (n *Notifier) String() string { return "teams " + n.url.String() }

var (
	_ notify.Notifier = (*Notifier)(nil)
	_ io.Closer       = (*Notifier)(nil)
)

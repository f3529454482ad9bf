// Package slack posts notifications to Slack as Block Kit messages: a
// header with the incident, the event's text, the incident's facts and a
// button per link, in an attachment whose colour bar shows the severity.
//
// A Notifier posts through an incoming webhook ([Config.URL]), or, with a
// bot token and a channel ID ([Config.Token] and [Config.Channel]),
// through the Web API's chat.postMessage, so that each incident gets one
// thread: its first message starts the thread, and every later message
// replies in it. The receipt of every message is its timestamp (ts); the
// thread's is the receipt of the incident's first message.
//
// The thread of an incident is remembered in a [ThreadStore] (in memory
// by default) and, when the store does not know it (after a restart, or
// in another dispatcher process), found again in the channel's history:
// the first message of an incident carries message metadata of type
// [ThreadEventType] with the incident's ID, which conversations.history
// returns. The channel is thus the durable record of its threads and no
// store is needed, as long as the thread's first message is among the
// channel's latest [Config.HistoryLimit] messages; a durable ThreadStore
// lifts that limit. The bot needs the chat:write scope, and
// channels:history (groups:history for a private channel) to find threads
// in the history.
package slack

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

// Block Kit limits, in characters.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxButton  = 75
	maxText    = 3000
	maxButtons = 25
)

// DefaultTemplates are the message's text templates:
// notify.DefaultTextTemplates, a headline and the event's sentence for
// each kind of message. Slack's mrkdwn special characters in what they
// insert are escaped.
var DefaultTemplates = notify.DefaultTextTemplates()

// Config configures a [Notifier].
type Config struct {
	// URL is the incoming webhook's URL, which holds its token. Either
	// URL, or Token and Channel, are required.
	URL notify.SecretURL
	// Token is a bot token (xoxb-...), to post through the Web API
	// rather than an incoming webhook; it needs Channel.
	Token notify.Secret
	// Channel is the ID of the channel a bot token posts to, such as
	// C0123ABCD (shown at the bottom of the channel's details), not its
	// name.
	Channel string
	// APIURL is the Web API's base URL; empty means Slack's. Tests point
	// it at a fake of the API.
	APIURL string
	// Threads remembers the thread of each incident in bot-token mode;
	// nil means a [MemoryThreads].
	Threads ThreadStore
	// HistoryLimit is how many of the channel's latest messages are read,
	// at most, to find an incident's thread that Threads does not know; 0
	// means [DefaultHistoryLimit], and a negative limit turns the search
	// off (a new thread then starts whenever Threads does not know one).
	HistoryLimit int
	// Broadcast names the event types (such as "severity_changed") whose
	// replies in a thread are also shown in the channel, for those who
	// do not follow the thread; nil means none.
	Broadcast []string
	// Templates override [DefaultTemplates] by name ("default", an event
	// type, "closed" or "reopened"; see notify.Templates); they render the
	// message's text, as mrkdwn.
	Templates map[string]string
	// Logger receives template failures and threads that could not be
	// recorded; nil means slog.Default().
	Logger *slog.Logger
	// Client sends the requests; nil means notify.NewHTTPClient with its
	// defaults.
	Client *http.Client
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Notifier is a notify.Notifier that posts to Slack, through an incoming
// webhook or the Web API. It is safe for concurrent use.
type Notifier struct {
	url       notify.SecretURL
	api       *api // nil for an incoming webhook
	templates *notify.Templates
	client    *http.Client
	now       func() time.Time
	logger    *slog.Logger
}

// New checks cfg and returns its [Notifier]. It refuses, with an error
// matching notify.ErrInvalid, a configuration with neither a webhook URL
// nor a bot token, or with both, a bot token without a channel ID, a
// channel given by name, an API URL that is not an absolute http or https
// URL, and templates that do not parse.
func New(cfg Config) (*Notifier, error) {
	switch {
	case cfg.URL.IsZero() && cfg.Token.IsZero():
		return nil, &notify.InvalidError{Field: "Slack channel", Reason: "needs an incoming webhook URL, or a bot token and a channel ID"}
	case !cfg.URL.IsZero() && !cfg.Token.IsZero():
		return nil, &notify.InvalidError{Field: "Slack channel", Reason: "has both a webhook URL and a bot token: give one"}
	case !cfg.Token.IsZero() && cfg.Channel == "":
		return nil, &notify.InvalidError{Field: "Slack channel ID", Reason: "is required with a bot token"}
	case !cfg.Token.IsZero() && !channelID.MatchString(cfg.Channel):
		return nil, &notify.InvalidError{Field: "Slack channel ID", Value: cfg.Channel,
			Reason: "must be a channel's ID, such as C0123ABCD (shown at the bottom of the channel's details), not its name"}
	case cfg.APIURL != "":
		if _, err := notify.ParseSecretURL(cfg.APIURL); err != nil {
			return nil, &notify.InvalidError{Field: "Slack API URL", Value: cfg.APIURL, Reason: "must be an absolute http or https URL"}
		}
	}
	tpl, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: DefaultTemplates, Overrides: cfg.Templates, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	n := &Notifier{url: cfg.URL, templates: tpl, client: cfg.Client, now: cfg.Now, logger: cfg.Logger}
	if n.client == nil {
		n.client = notify.NewHTTPClient(notify.HTTPConfig{})
	}
	if n.now == nil {
		n.now = time.Now
	}
	if !cfg.Token.IsZero() {
		n.api = newAPI(cfg, n.client, n.now)
	}
	return n, nil
}

// log returns the notifier's logger.
func (n *Notifier) log() *slog.Logger {
	if n.logger != nil {
		return n.logger
	}
	return slog.Default()
}

// escape escapes Slack's mrkdwn control characters.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// escapeData returns an event's data with every string in it escaped, as
// the templates' data function hands them out; data that does not decode
// becomes null, which the templates cannot use.
func escapeData(data json.RawMessage) json.RawMessage {
	var v any
	if len(data) == 0 || json.Unmarshal(data, &v) != nil {
		return json.RawMessage("null")
	}
	out, err := json.Marshal(escapeValue(v))
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

// escapeValue escapes the strings of a decoded JSON value.
func escapeValue(v any) any {
	switch v := v.(type) {
	case string:
		return escape(v)
	case []any:
		for i := range v {
			v[i] = escapeValue(v[i])
		}
	case map[string]any:
		for k, x := range v {
			v[k] = escapeValue(x)
		}
	}
	return v
}

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
	esc.Event.Data = escapeData(m.Event.Data)
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
		{"type": "header", "text": text{Type: "plain_text", Text: notify.TruncateRunes(inc.Marker()+fmt.Sprintf("[%s] %s: %s", strings.ToUpper(inc.Severity), inc.ID, inc.Title), maxHeader), Emoji: true}},
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
		"text":        notify.TruncateRunes(inc.Marker()+fmt.Sprintf("[%s] %s %s: %s", strings.ToUpper(inc.Severity), escape(inc.ID), escape(inc.Title), body), maxText),
		"attachments": []map[string]any{{"color": Colour(inc.Severity), "blocks": blocks}},
	}
}

// Notify posts m. Through an incoming webhook, errors are classified with
// notify.HTTPError (Slack answers 404 for a channel not found, 410 for one
// archived, 403 for a post refused) and never show the URL; the receipt
// is the HTTP status.
//
// With a bot token, m is posted in its incident's thread, which the
// incident's first message starts; the receipt's ID is the message's ts.
// Web API errors are classified too: ratelimited is notify.ErrRateLimited
// (after the reply's Retry-After); invalid_auth, not_authed, a revoked
// token, a missing scope and not_in_channel are notify.ErrUnauthorized;
// channel_not_found and is_archived are notify.ErrGone; internal_error
// and service_unavailable are worth retrying; others are permanent. A
// reply refused because the thread's first message was deleted starts a
// new thread. Errors never show the token.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, notify.Retry(err, 0)
	}
	if n.api != nil {
		return n.api.notify(ctx, n, m)
	}
	body, err := json.Marshal(n.Payload(ctx, m))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("slack: encode message: %w", err))
	}
	rc, err := notify.HTTPPost{Client: n.client, URL: n.url, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}}.Send(ctx, n.now)
	if err != nil {
		return rc, fmt.Errorf("slack: %w", err)
	}
	return rc, nil
}

// Close releases the client's idle connections.
func (n *Notifier) Close() error {
	n.client.CloseIdleConnections()
	return nil
}

// Check asks Slack, with a bot token, whether it accepts the token
// (auth.test), so that a service refuses to start with a token that
// cannot post; errors are classified as Notify's are. Through an incoming
// webhook, which cannot be checked without posting, it does nothing.
func (n *Notifier) Check(ctx context.Context) error {
	if n.api == nil {
		return nil
	}
	return n.api.check(ctx)
}

// String names the notifier without its URL's or its bot's token.
func (n *Notifier) String() string {
	if n.api != nil {
		return "slack channel " + n.api.channel
	}
	return "slack " + n.url.String()
}

var (
	_ notify.Notifier = (*Notifier)(nil)
	_ notify.Checker  = (*Notifier)(nil)
	_ io.Closer       = (*Notifier)(nil)
)

// Package email sends notifications by SMTP, with github.com/wneessen/go-mail:
// STARTTLS is required unless allowed otherwise, each message has a plain
// text and an HTML body from the channel's templates, and every message of
// one incident is threaded in mail clients: the message of the event that
// opened the incident has the incident's own Message-ID, and each later
// one replies to it (In-Reply-To and References).
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"strings"

	"github.com/wneessen/go-mail"

	"github.com/incidentkit/incidentkit/notify"
)

// DefaultTextTemplates are the plain-text body's templates: the
// notify.DefaultTextTemplates of each kind of message, and below them the
// incident's details and links.
var DefaultTextTemplates = withDetails(notify.DefaultTextTemplates(), textDetails)

// DefaultHTMLTemplates are the HTML body's templates: the
// notify.DefaultHTMLTemplates of each kind of message, and below them the
// incident's details and links.
var DefaultHTMLTemplates = withDetails(notify.DefaultHTMLTemplates(), htmlDetails)

// textDetails follows the text of every default plain-text template.
const textDetails = `

Incident:  {{.Incident.ID}} {{.Incident.Title}}
Severity:  {{.Incident.Severity}}, priority {{.Incident.Priority}}
Phase:     {{words .Incident.Phase}}{{if not .Incident.Open}} (closed){{end}}
Category:  {{.Incident.Category}}
TLP:       {{.Incident.TLP}}
{{range .Links}}
{{.Title}}: {{.URL}}{{end}}
`

// htmlDetails follows the text of every default HTML template.
const htmlDetails = `
<table>
<tr><th align="left">Incident</th><td>{{.Incident.ID}} {{.Incident.Title}}</td></tr>
<tr><th align="left">Severity</th><td>{{.Incident.Severity}}, priority {{.Incident.Priority}}</td></tr>
<tr><th align="left">Phase</th><td>{{words .Incident.Phase}}{{if not .Incident.Open}} (closed){{end}}</td></tr>
<tr><th align="left">Category</th><td>{{.Incident.Category}}</td></tr>
<tr><th align="left">TLP</th><td>{{.Incident.TLP}}</td></tr>
</table>
{{range .Links}}<p><a href="{{.URL}}">{{.Title}}</a></p>{{end}}
`

// withDetails returns templates with details appended to each.
func withDetails(templates map[string]string, details string) map[string]string {
	for name, t := range templates {
		templates[name] = t + details
	}
	return templates
}

// Config configures a [Notifier].
type Config struct {
	// Host and Port are the SMTP server's; Port 0 means 587.
	Host string
	Port int
	// Username and Password authenticate with SMTP AUTH PLAIN (over TLS
	// only); no Username means no authentication.
	Username string
	Password notify.Secret
	// From is the sender's address, To the recipients'. Required.
	From string
	To   []string
	// AllowPlaintext, if set, sends without STARTTLS to a server that
	// does not offer it. Unset, STARTTLS is required.
	AllowPlaintext bool
	// RootCAs, if set, are the authorities the server's certificate is
	// verified against instead of the system's. It is always verified.
	RootCAs *x509.CertPool
	// Domain is the right-hand side of the Message-IDs; empty means
	// "incidentkit.invalid".
	Domain string
	// TextTemplates and HTMLTemplates override the default templates of
	// the bodies by name ("default", an event type, "closed" or
	// "reopened"; see notify.Templates).
	TextTemplates, HTMLTemplates map[string]string
	// Logger receives template failures; nil means slog.Default().
	Logger *slog.Logger
}

// Notifier is a notify.Notifier that sends e-mail. It is safe for
// concurrent use: each message is sent on a connection of its own.
type Notifier struct {
	cfg        Config
	text, html *notify.Templates
}

// New checks cfg and returns its [Notifier]. It refuses, with an error
// matching notify.ErrInvalid that lists every problem, a missing host,
// sender or recipient, addresses that do not parse, and templates that do
// not parse.
func New(cfg Config) (*Notifier, error) {
	var problems []error
	add := func(field, reason string) {
		problems = append(problems, &notify.InvalidError{Field: field, Reason: reason})
	}
	if cfg.Host == "" {
		add("SMTP host", "is required")
	}
	if cfg.From == "" {
		add("sender", "is required")
	} else if err := mail.NewMsg().From(cfg.From); err != nil {
		add("sender", "is not an e-mail address")
	}
	if len(cfg.To) == 0 {
		add("recipients", "at least one is required")
	} else if err := mail.NewMsg().To(cfg.To...); err != nil {
		add("recipients", "are not all e-mail addresses")
	}
	text, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: DefaultTextTemplates, Overrides: cfg.TextTemplates, Logger: cfg.Logger})
	if err != nil {
		problems = append(problems, err)
	}
	html, err := notify.NewHTMLTemplates(notify.TemplateConfig{Defaults: DefaultHTMLTemplates, Overrides: cfg.HTMLTemplates, Logger: cfg.Logger})
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, &notify.InputError{Problems: problems}
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Domain == "" {
		cfg.Domain = "incidentkit.invalid"
	}
	cfg.To = append([]string(nil), cfg.To...)
	return &Notifier{cfg: cfg, text: text, html: html}, nil
}

// messageID returns the Message-ID of s without angle brackets: s with
// the characters a Message-ID may not hold replaced, at the domain.
func (n *Notifier) messageID(s string) string {
	local := strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)) {
			return r
		}
		return '-'
	}, s)
	return strings.Trim(local, ".") + "@" + n.cfg.Domain
}

// Thread returns the Message-ID m is sent with and the one it replies to
// ("" for the message that opened the incident), without angle brackets.
func (n *Notifier) Thread(m notify.Message) (id, inReplyTo string) {
	root := n.messageID("incident." + m.Incident.ID)
	if m.Event.Type == "opened" {
		return root, ""
	}
	return n.messageID(m.Key), root
}

// Notify sends m to the recipients. The receipt is its Message-ID.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, notify.Retry(err, 0)
	}
	msg := mail.NewMsg()
	if err := msg.From(n.cfg.From); err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("email: sender: %w", err))
	}
	if err := msg.To(n.cfg.To...); err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("email: recipients: %w", err))
	}
	inc := m.Incident
	msg.Subject(inc.Marker() + fmt.Sprintf("[%s] %s: %s", strings.ToUpper(inc.Severity), inc.ID, inc.Title))
	id, parent := n.Thread(m)
	msg.SetMessageIDWithValue(id)
	if parent != "" {
		msg.SetGenHeader(mail.HeaderInReplyTo, "<"+parent+">")
		msg.SetGenHeader(mail.HeaderReferences, "<"+parent+">")
	}
	msg.SetDateWithValue(m.Event.At)
	msg.SetGenHeader("X-Incidentkit-Key", m.Key)
	msg.SetBodyString(mail.TypeTextPlain, n.text.Render(ctx, m))
	msg.AddAlternativeString(mail.TypeTextHTML, n.html.Render(ctx, m))

	policy := mail.TLSMandatory
	if n.cfg.AllowPlaintext {
		policy = mail.TLSOpportunistic
	}
	// The connection is closed when ctx ends: the client bounds each
	// exchange with the server by its own timeout, not by ctx.
	var stops []func() bool
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		stops = append(stops, context.AfterFunc(ctx, func() { _ = conn.Close() }))
		return conn, nil
	}
	opts := []mail.Option{
		mail.WithPort(n.cfg.Port), mail.WithTLSPolicy(policy), mail.WithDialContextFunc(dial),
		mail.WithTLSConfig(&tls.Config{ServerName: n.cfg.Host, RootCAs: n.cfg.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	if n.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(n.cfg.Username),
			mail.WithPassword(n.cfg.Password.Reveal()))
	}
	client, err := mail.NewClient(n.cfg.Host, opts...)
	if err != nil {
		return notify.Receipt{}, notify.Permanent(n.redact(fmt.Errorf("email: %w", err)))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			// Cut short: the error says so, and is worth retrying.
			return notify.Receipt{}, n.redact(notify.Retry(fmt.Errorf("email: %w: %w", ctx.Err(), err), 0))
		}
		return notify.Receipt{}, n.redact(classify(fmt.Errorf("email: %w", err)))
	}
	return notify.Receipt{ID: "<" + id + ">"}, nil
}

// redact takes the password out of err, also in base64 as SMTP AUTH
// sends it, which a server refusing it may quote back.
func (n *Notifier) redact(err error) error {
	pw := n.cfg.Password.Reveal()
	if pw == "" {
		return err
	}
	err = n.cfg.Password.Redact(err)
	for _, s := range []string{"\x00" + n.cfg.Username + "\x00" + pw, pw} {
		err = notify.NewSecret(base64.StdEncoding.EncodeToString([]byte(s))).Redact(err)
	}
	return err
}

// classify classifies an SMTP failure by the server's reply code: 4xx is
// worth retrying, 530, 534 and 535 refuse the credentials, other 5xx are
// permanent; a failure with no reply (a connection refused or cut) is
// worth retrying, and a server without STARTTLS when it is required is
// permanent.
func classify(err error) error {
	code := 0
	var se *mail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &te):
		code = te.Code
	case errors.As(err, &se):
		code = se.ErrorCode()
		if code == 0 && se.IsTemp() {
			return notify.Retry(err, 0)
		}
	}
	switch {
	case code == 530 || code == 534 || code == 535:
		return notify.Unauthorized(err)
	case code >= 400 && code < 500:
		return notify.Retry(err, 0)
	case code >= 500:
		return notify.Permanent(err)
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return notify.Permanent(err)
	}
	return err
}

// String names the notifier's server, without its password.
func (n *Notifier) String() string {
	return fmt.Sprintf("email via %s:%d to %s", n.cfg.Host, n.cfg.Port, strings.Join(n.cfg.To, ", "))
}

var (
	_ notify.Notifier = (*Notifier)(nil)
	_ fmt.Stringer    = (*Notifier)(nil)
)

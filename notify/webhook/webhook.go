// Package webhook delivers notifications as CloudEvents 1.0 JSON events
// (structured mode), signed per the Standard Webhooks specification, and
// verifies them on the receiving side.
//
// Each message becomes one event: its id is the message's idempotency key
// (the same on every retry), its subject the incident's ID, its type
// "<TypePrefix><event type>" (such as io.incidentkit.incident.phase_changed)
// and its data the notify.Message. The request carries the webhook-id,
// webhook-timestamp and webhook-signature headers, signed with every
// configured secret (so that receivers keep verifying while a secret is
// rotated), so any Standard Webhooks library verifies it; [Verifier] and
// [Verifier.Middleware] do it for receivers written in Go.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// Config configures a [Notifier].
type Config struct {
	// URL is the receiver's endpoint. Required.
	URL notify.SecretURL
	// Secrets sign each request, in the Standard Webhooks form
	// "whsec_<base64 key>" (keys of 24 to 64 bytes). Several sign with
	// each, so that a receiver moving to a new secret verifies requests
	// throughout. At least one is required.
	Secrets []notify.Secret
	// Source is the CloudEvents source, a URI reference naming the
	// service; empty means "/incidentkit".
	Source string
	// TypePrefix comes before the event type in the CloudEvents type;
	// empty means "io.incidentkit.incident.".
	TypePrefix string
	// Client sends the requests; nil means notify.NewHTTPClient with its
	// defaults, which refuse internal addresses.
	Client *http.Client
	// Now tells the time of the signatures; nil means time.Now.
	Now func() time.Time
}

// Notifier is a notify.Notifier that posts CloudEvents to a webhook. It is
// safe for concurrent use.
type Notifier struct {
	url    notify.SecretURL
	keys   []secretKey
	source string
	prefix string
	client *http.Client
	now    func() time.Time
	// secrets are the signing secrets, each also without its whsec_
	// prefix, taken out of errors: a receiver refusing a signature may
	// quote the secret it expected.
	secrets []notify.Secret
}

// secretKey is a decoded signing key, kept behind a pointer so that
// printing a Notifier shows no key.
type secretKey struct{ key *[]byte }

// New checks cfg and returns its [Notifier]. It refuses with an error
// matching notify.ErrInvalid, listing every problem, a missing URL, no
// secret, and secrets not of the form whsec_<base64 key of 24 to 64
// bytes>; the error never quotes a secret.
func New(cfg Config) (*Notifier, error) {
	var problems []error
	if cfg.URL.IsZero() {
		problems = append(problems, &notify.InvalidError{Field: "webhook URL", Reason: "is required"})
	}
	if len(cfg.Secrets) == 0 {
		problems = append(problems, &notify.InvalidError{Field: "webhook secrets", Reason: "at least one is required"})
	}
	n := &Notifier{url: cfg.URL, source: cfg.Source, prefix: cfg.TypePrefix, client: cfg.Client, now: cfg.Now}
	for i, s := range cfg.Secrets {
		key, err := decodeSecret(s)
		if err != nil {
			problems = append(problems, &notify.InvalidError{Field: fmt.Sprintf("webhook secret %d", i+1), Reason: err.Error()})
			continue
		}
		n.keys = append(n.keys, secretKey{key: &key})
		n.secrets = append(n.secrets, s, notify.NewSecret(strings.TrimPrefix(s.Reveal(), "whsec_")))
	}
	if len(problems) > 0 {
		return nil, &notify.InputError{Problems: problems}
	}
	if n.source == "" {
		n.source = "/incidentkit"
	}
	if n.prefix == "" {
		n.prefix = "io.incidentkit.incident."
	}
	if n.client == nil {
		n.client = notify.NewHTTPClient(notify.HTTPConfig{})
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n, nil
}

// decodeSecret decodes a whsec_ secret.
func decodeSecret(s notify.Secret) ([]byte, error) {
	v, ok := strings.CutPrefix(s.Reveal(), "whsec_")
	if !ok {
		return nil, fmt.Errorf(`must start with "whsec_"`)
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf(`must be "whsec_" followed by a key in standard base64`)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("the key must be 24 to 64 bytes, not %d", len(key))
	}
	return key, nil
}

// Event is a CloudEvents 1.0 event in structured mode, as the [Notifier]
// sends it.
type Event struct {
	SpecVersion     string         `json:"specversion"`
	ID              string         `json:"id"`
	Source          string         `json:"source"`
	Type            string         `json:"type"`
	Subject         string         `json:"subject"`
	Time            time.Time      `json:"time"`
	DataContentType string         `json:"datacontenttype"`
	Data            notify.Message `json:"data"`
}

// ContentType is the media type of a structured-mode CloudEvent in JSON.
const ContentType = "application/cloudevents+json"

// Event returns the CloudEvent the Notifier sends for m.
func (n *Notifier) Event(m notify.Message) Event {
	return Event{
		SpecVersion: "1.0", ID: m.Key, Source: n.source, Type: n.prefix + m.Event.Type,
		Subject: m.Incident.ID, Time: m.Event.At.UTC(), DataContentType: "application/json", Data: m,
	}
}

// Notify posts m as a signed CloudEvent. The receipt holds the reply's
// HTTP status; errors are classified with notify.HTTPError and never show
// the URL nor a signing secret.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, notify.Retry(err, 0)
	}
	if m.Key == "" {
		return notify.Receipt{}, notify.Permanent(&notify.InvalidError{Field: "message", Reason: "needs a key, the webhook-id"})
	}
	body, err := json.Marshal(n.Event(m))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(fmt.Errorf("webhook: encode event: %w", err))
	}
	ts := n.now().Unix()
	header := http.Header{}
	header.Set("Content-Type", ContentType)
	header.Set("webhook-id", m.Key)
	header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	header.Set("webhook-signature", n.sign(m.Key, ts, body))
	rc, err := notify.HTTPPost{Client: n.client, URL: n.url, Header: header, Body: body, Redact: n.redact}.Send(ctx, n.now)
	if err != nil {
		return rc, fmt.Errorf("webhook: %w", err)
	}
	return rc, nil
}

// redact takes the URL and the signing secrets out of err.
func (n *Notifier) redact(err error) error {
	err = n.url.Redact(err)
	for _, s := range n.secrets {
		err = s.Redact(err)
	}
	return err
}

// sign returns the webhook-signature header: one "v1,<signature>" per key,
// separated by spaces.
func (n *Notifier) sign(id string, ts int64, body []byte) string {
	sigs := make([]string, len(n.keys))
	for i, k := range n.keys {
		sigs[i] = "v1," + signature(*k.key, id, ts, body)
	}
	return strings.Join(sigs, " ")
}

// signature is the Standard Webhooks signature of a message.
func signature(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Check checks the configuration; New has checked it already, so it only
// reports a context that is done.
func (n *Notifier) Check(ctx context.Context) error { return ctx.Err() }

// Close releases the client's idle connections.
func (n *Notifier) Close() error {
	n.client.CloseIdleConnections()
	return nil
}

// String names the notifier without its URL's credential.
func (n *Notifier) String() string { return "webhook " + n.url.String() }

var (
	_ notify.Notifier = (*Notifier)(nil)
	_ notify.Checker  = (*Notifier)(nil)
	_ io.Closer       = (*Notifier)(nil)
)

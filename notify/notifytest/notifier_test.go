package notifytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// jsonPoster is the least a channel over HTTP does: it posts the message
// as JSON with its credential as a bearer token, classifies the reply with
// notify.HTTPError, and takes its URL and credential out of every error.
type jsonPoster struct {
	url    notify.SecretURL
	token  notify.Secret
	client *http.Client
}

func (p jsonPoster) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, notify.Retry(err, 0)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return notify.Receipt{}, notify.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url.Reveal(), bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(p.url.Redact(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token.Reveal())
	resp, err := p.client.Do(req)
	if err != nil {
		return notify.Receipt{}, p.token.Redact(p.url.Redact(err))
	}
	defer resp.Body.Close()
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) }()
	return notify.Receipt{Status: resp.StatusCode}, p.token.Redact(notify.HTTPError(resp, time.Now()))
}

func TestHTTPNotifierSuite(t *testing.T) {
	notifytest.TestHTTPNotifier(t, notifytest.HTTPNotifierSuite{
		New: func(t *testing.T, peer notifytest.HTTPPeer) notify.Notifier {
			u, err := notify.ParseSecretURL(peer.URL)
			if err != nil {
				t.Fatal(err)
			}
			client := notify.NewHTTPClient(notify.HTTPConfig{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
			t.Cleanup(client.CloseIdleConnections)
			return jsonPoster{url: u, token: notify.NewSecret(peer.Secret), client: client}
		},
		Accept: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) },
	})
}

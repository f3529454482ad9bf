package webhook_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/webhook"
)

// The example of the Standard Webhooks specification.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func secret(b byte) notify.Secret {
	return notify.NewSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune('a'+b)), 32))))
}

func verifier(t *testing.T, now time.Time, secrets ...notify.Secret) *webhook.Verifier {
	t.Helper()
	v, err := webhook.NewVerifier(webhook.VerifierConfig{Secrets: secrets, Now: func() time.Time { return now }})
	require.NoError(t, err)
	return v
}

func TestVerifierAcceptsTheSpecificationsExample(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("webhook-id", specID)
	h.Set("webhook-timestamp", strconv.Itoa(specTimestamp))
	h.Set("webhook-signature", specSignature)
	v := verifier(t, time.Unix(specTimestamp, 0), notify.NewSecret(specSecret))
	require.NoError(t, v.Verify(h, []byte(specBody)))

	assert.ErrorIs(t, v.Verify(h, []byte(`{"test": 2432232315}`)), webhook.ErrUnverified, "a changed body")
	late := verifier(t, time.Unix(specTimestamp, 0).Add(5*time.Minute+time.Second), notify.NewSecret(specSecret))
	assert.ErrorIs(t, late.Verify(h, []byte(specBody)), webhook.ErrUnverified, "replayed after the tolerance")
	early := verifier(t, time.Unix(specTimestamp, 0).Add(-5*time.Minute-time.Second), notify.NewSecret(specSecret))
	assert.ErrorIs(t, early.Verify(h, []byte(specBody)), webhook.ErrUnverified, "from the future")
	other := verifier(t, time.Unix(specTimestamp, 0), secret(1))
	assert.ErrorIs(t, other.Verify(h, []byte(specBody)), webhook.ErrUnverified, "another secret")
	for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		h2 := h.Clone()
		h2.Del(name)
		assert.ErrorIs(t, v.Verify(h2, []byte(specBody)), webhook.ErrUnverified, "without "+name)
	}
	h2 := h.Clone()
	h2.Set("webhook-signature", "v2,"+strings.TrimPrefix(specSignature, "v1,"))
	assert.ErrorIs(t, v.Verify(h2, []byte(specBody)), webhook.ErrUnverified, "an unknown version")
	h2.Set("webhook-signature", "v1,bm90IGl0 "+specSignature)
	assert.NoError(t, v.Verify(h2, []byte(specBody)), "one of several signatures matches")
}

// receiver is a loopback webhook receiver that keeps what it is sent.
type receiver struct {
	mu       sync.Mutex
	headers  []http.Header
	bodies   [][]byte
	srv      *httptest.Server
	verifier *webhook.Verifier
}

func newReceiver(t *testing.T, v *webhook.Verifier) *receiver {
	t.Helper()
	r := &receiver{verifier: v}
	handler := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.headers, r.bodies = append(r.headers, req.Header.Clone()), append(r.bodies, body)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	if v != nil {
		handler = v.Middleware(handler)
	}
	r.srv = httptest.NewServer(handler)
	t.Cleanup(r.srv.Close)
	return r
}

func notifier(t *testing.T, url string, now time.Time, secrets ...notify.Secret) *webhook.Notifier {
	t.Helper()
	u, err := notify.ParseSecretURL(url)
	require.NoError(t, err)
	n, err := webhook.New(webhook.Config{URL: u, Secrets: secrets,
		Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback}), Now: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func TestNotifierSendsASignedCloudEvent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 2, 11, 40, 5, 0, time.UTC)
	rcv := newReceiver(t, verifier(t, now, secret(1)))
	n := notifier(t, rcv.srv.URL+"/hooks/incidents", now, secret(1))
	m := notifytest.Message()
	r, err := n.Notify(context.Background(), m)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, r.Status)

	require.Len(t, rcv.bodies, 1, "the middleware verified the request and passed it on")
	h := rcv.headers[0]
	assert.Equal(t, webhook.ContentType, h.Get("Content-Type"))
	assert.Equal(t, m.Key, h.Get("webhook-id"), "the idempotency key")
	assert.Equal(t, strconv.FormatInt(now.Unix(), 10), h.Get("webhook-timestamp"))

	var ev map[string]any
	require.NoError(t, json.Unmarshal(rcv.bodies[0], &ev))
	assert.Equal(t, "1.0", ev["specversion"])
	assert.Equal(t, m.Key, ev["id"])
	assert.Equal(t, "/incidentkit", ev["source"])
	assert.Equal(t, "io.incidentkit.incident.phase_changed", ev["type"])
	assert.Equal(t, "INC-000042", ev["subject"])
	assert.Equal(t, "2026-03-02T11:40:00Z", ev["time"])
	assert.Equal(t, "application/json", ev["datacontenttype"])
	var back struct {
		Data notify.Message `json:"data"`
	}
	require.NoError(t, json.Unmarshal(rcv.bodies[0], &back))
	assert.Equal(t, m, back.Data, "the data is the message")

	// An independent check of the signature, by the specification's
	// recipe: HMAC-SHA256 of "id.timestamp.body" with the decoded key.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret(1).Reveal(), "whsec_"))
	require.NoError(t, err)
	assert.Equal(t, "v1,"+hmacBase64(key, fmt.Sprintf("%s.%d.%s", m.Key, now.Unix(), rcv.bodies[0])), h.Get("webhook-signature"))
}

func TestNotifierSignsWithEverySecretDuringRotation(t *testing.T) {
	t.Parallel()
	now := time.Now()
	oldOnly := newReceiver(t, verifier(t, now, secret(1)))
	newOnly := newReceiver(t, verifier(t, now, secret(2)))
	for _, rcv := range []*receiver{oldOnly, newOnly} {
		_, err := notifier(t, rcv.srv.URL, now, secret(1), secret(2)).Notify(context.Background(), notifytest.Message())
		require.NoError(t, err)
		assert.Len(t, rcv.bodies, 1)
		assert.Len(t, strings.Fields(rcv.headers[0].Get("webhook-signature")), 2)
	}
	rejecting := newReceiver(t, verifier(t, now, secret(3)))
	_, err := notifier(t, rejecting.srv.URL, now, secret(1)).Notify(context.Background(), notifytest.Message())
	assert.ErrorIs(t, err, notify.ErrUnauthorized, "the middleware refuses what does not verify with 401")
	assert.Empty(t, rejecting.bodies)
}

func TestMiddlewareRefusesReplays(t *testing.T) {
	t.Parallel()
	sent := time.Now().Add(-10 * time.Minute)
	rcv := newReceiver(t, verifier(t, time.Now(), secret(1)))
	_, err := notifier(t, rcv.srv.URL, sent, secret(1)).Notify(context.Background(), notifytest.Message())
	assert.ErrorIs(t, err, notify.ErrUnauthorized)
	assert.Empty(t, rcv.bodies, "a request signed ten minutes ago is refused")

	big := httptest.NewRecorder()
	v := verifier(t, time.Now(), secret(1))
	v.Middleware(http.NotFoundHandler()).ServeHTTP(big,
		httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", webhook.MaxBody+1))))
	assert.Equal(t, http.StatusRequestEntityTooLarge, big.Code)
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	_, err := webhook.New(webhook.Config{Secrets: []notify.Secret{
		notify.NewSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
		notify.NewSecret("whsec_not base64!"),
		notify.NewSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))),
	}})
	require.ErrorIs(t, err, notify.ErrInvalid)
	var ie *notify.InputError
	require.ErrorAs(t, err, &ie)
	assert.Len(t, ie.Problems, 4, "no URL, and three bad secrets: %v", err)
	assert.NotContains(t, err.Error(), "MfKQ9r8G", "the error quotes no secret")

	_, err = webhook.NewVerifier(webhook.VerifierConfig{})
	assert.ErrorIs(t, err, notify.ErrInvalid)

	n := notifier(t, "http://127.0.0.1:1/x", time.Now(), secret(1))
	m := notifytest.Message()
	m.Key = ""
	_, err = n.Notify(context.Background(), m)
	assert.ErrorIs(t, err, notify.ErrPermanent, "a message without a key cannot be sent idempotently")
}

func TestNotifierConformance(t *testing.T) {
	notifytest.TestHTTPNotifier(t, notifytest.HTTPNotifierSuite{
		New: func(t *testing.T, peer notifytest.HTTPPeer) notify.Notifier {
			return notifier(t, peer.URL, time.Now(), secret(1))
		},
	})
}

func TestNotifierRefusesInternalAddressesByDefault(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	u, err := notify.ParseSecretURL(rcv.srv.URL)
	require.NoError(t, err)
	n, err := webhook.New(webhook.Config{URL: u, Secrets: []notify.Secret{secret(1)}})
	require.NoError(t, err)
	_, err = n.Notify(context.Background(), notifytest.Message())
	assert.ErrorIs(t, err, notify.ErrBlockedAddress)
	assert.Empty(t, rcv.bodies)
}

func TestNotifierErrorsShowNoSigningSecret(t *testing.T) {
	t.Parallel()
	s := secret(7)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// A receiver refusing the signature, quoting the secret it
		// expected, whole and without its prefix.
		http.Error(w, "bad signature, expected "+s.Reveal()+" ("+strings.TrimPrefix(s.Reveal(), "whsec_")+")", http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	_, err := notifier(t, srv.URL+"/hooks/in", time.Now(), s).Notify(context.Background(), notifytest.Message())
	require.ErrorIs(t, err, notify.ErrUnauthorized)
	assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), strings.TrimPrefix(s.Reveal(), "whsec_"))
}

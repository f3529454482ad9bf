package notify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

const token = "xoxb-SECRET-token-4f9a"

// verbs are the fmt verbs and flags a secret is printed with.
var verbs = []string{
	"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%t", "%T", "%p", "%c", "%U", "%e", "%f",
	"%g", "%b", "%o", "%O", "%10s", "%-30v", "%.3s", "%#q", "%+q", "%w", "%z",
}

// holders returns the ways a value is printed: on its own, by pointer, as
// an exported and an unexported field, in a slice, in a map, and in an
// error.
func holders(v any) map[string]any {
	type exported struct{ Token any }
	type unexported struct{ token any }
	type typedUnexported struct {
		name  string
		token notify.Secret
		url   notify.SecretURL
	}
	out := map[string]any{
		"value":             v,
		"exported field":    exported{v},
		"unexported field":  unexported{v},
		"pointer to struct": &exported{v},
		"slice":             []any{v},
		"map":               map[string]any{"k": v},
		"error":             fmt.Errorf("send: %v", v),
	}
	switch s := v.(type) {
	case notify.Secret:
		out["pointer"] = &s
		out["typed unexported field"] = typedUnexported{name: "slack", token: s}
		out["pointer to typed unexported field"] = &typedUnexported{name: "slack", token: s}
	case notify.SecretURL:
		out["pointer"] = &s
		out["typed unexported field"] = typedUnexported{name: "slack", url: s}
		out["pointer to typed unexported field"] = &typedUnexported{name: "slack", url: s}
	}
	return out
}

func TestSecretPrintsRedacted(t *testing.T) {
	t.Parallel()
	s := notify.NewSecret(token)
	u, err := notify.ParseSecretURL("https://user:pw-" + token + "@hooks.example.org/services/" + token + "?key=" + token)
	require.NoError(t, err)
	for _, v := range []any{s, u} {
		for name, h := range holders(v) {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, h)
				assert.NotContains(t, out, "SECRET", "%T %s with %s: %s", v, name, verb, out)
			}
		}
	}
	assert.Equal(t, "[REDACTED]", fmt.Sprint(s))
	assert.Equal(t, `"[REDACTED]"`, fmt.Sprintf("%q", s))
	assert.Equal(t, "https://hooks.example.org/[REDACTED]", fmt.Sprint(u))
	assert.Equal(t, token, s.Reveal())
	assert.Contains(t, u.Reveal(), "/services/"+token)
	assert.Contains(t, u.URL().String(), token, "the URL to send to is whole")
}

func TestSecretJSON(t *testing.T) {
	t.Parallel()
	type config struct {
		Token notify.Secret    `json:"token"`
		URL   notify.SecretURL `json:"url"`
		Ptr   *notify.Secret   `json:"ptr"`
		Map   map[string]notify.Secret
	}
	s := notify.NewSecret(token)
	u, err := notify.ParseSecretURL("https://hooks.example.org/services/" + token)
	require.NoError(t, err)
	b, err := json.Marshal(config{Token: s, URL: u, Ptr: &s, Map: map[string]notify.Secret{"k": s}})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "SECRET")
	assert.JSONEq(t, `{"token":"[REDACTED]","url":"https://hooks.example.org/[REDACTED]","ptr":"[REDACTED]","Map":{"k":"[REDACTED]"}}`, string(b))

	var loaded config
	require.NoError(t, json.Unmarshal([]byte(`{"token":"`+token+`","url":"https://hooks.example.org/services/`+token+`"}`), &loaded))
	assert.Equal(t, token, loaded.Token.Reveal(), "configuration loads the value")
	assert.Equal(t, "https://hooks.example.org/services/"+token, loaded.URL.Reveal())

	err = json.Unmarshal([]byte(`{"url":"ftp://`+token+`"}`), &loaded)
	assert.ErrorIs(t, err, notify.ErrInvalid)
	assert.NotContains(t, err.Error(), "SECRET", "the error does not quote the URL")
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"token":1}`), &loaded), notify.ErrInvalid)

	text, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "[REDACTED]", string(text))
}

func TestSecretSlog(t *testing.T) {
	t.Parallel()
	s := notify.NewSecret(token)
	u, err := notify.ParseSecretURL("https://hooks.example.org/services/" + token)
	require.NoError(t, err)
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(h(&buf))
		log.Info("channel", "token", s, "url", u, "ptr", &s, slog.Any("any", s),
			slog.Group("g", "token", s), "struct", struct{ Token notify.Secret }{s})
		assert.NotContains(t, buf.String(), "SECRET", name)
		assert.Contains(t, buf.String(), "[REDACTED]", name)
	}
}

func TestSecretZero(t *testing.T) {
	t.Parallel()
	var s notify.Secret
	assert.True(t, s.IsZero())
	assert.Equal(t, "", s.Reveal())
	assert.False(t, notify.NewSecret("x").IsZero())
	var u notify.SecretURL
	assert.True(t, u.IsZero())
	assert.Nil(t, u.URL())
	assert.Equal(t, "", u.Reveal())
	for _, raw := range []string{"", "hooks.example.org/x", "mailto:a@b", "http://%zz", "/relative"} {
		_, err := notify.ParseSecretURL(raw)
		assert.ErrorIs(t, err, notify.ErrInvalid, raw)
	}
}

// TestSecretURLRedactsClientErrors drives an HTTP client into its failures
// and checks that the redacted error names no part of the URL's secrets,
// still says what went wrong, and still matches what the original did.
func TestSecretURLRedactsClientErrors(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) }) // runs first
	loops := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	}))
	t.Cleanup(loops.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	require.NoError(t, closed.Close())

	path := "/services/T000/B000/" + token
	for _, tc := range []struct {
		name    string
		base    string
		timeout time.Duration
		is      error
	}{
		{"deadline", slow.URL, 50 * time.Millisecond, context.DeadlineExceeded},
		{"redirect loop", loops.URL, 5 * time.Second, nil},
		{"connection refused", "http://" + closedAddr, 5 * time.Second, nil},
	} {
		u, err := notify.ParseSecretURL(tc.base + path + "?key=" + token)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.Reveal(), nil)
		require.NoError(t, err)
		_, err = http.DefaultClient.Do(req)
		cancel()
		require.Error(t, err, tc.name)
		require.Contains(t, err.Error(), token, "%s: the client's own error quotes the URL", tc.name)

		red := u.Redact(fmt.Errorf("webhook: %w", err))
		assert.NotContains(t, red.Error(), "SECRET", tc.name)
		var ue *url.Error
		assert.False(t, errors.As(red, &ue), "%s: the wrapped *url.Error is not reachable", tc.name)

		direct := u.Redact(err)
		assert.NotContains(t, direct.Error(), "SECRET", tc.name)
		require.ErrorAs(t, direct, &ue, tc.name)
		assert.Equal(t, u.String(), ue.URL, tc.name)
		assert.NotContains(t, fmt.Sprintf("%+v %#v", direct, direct), "SECRET", tc.name)
		if tc.is != nil {
			assert.ErrorIs(t, red, tc.is, tc.name)
			assert.ErrorIs(t, direct, tc.is, tc.name)
			assert.True(t, ue.Timeout(), tc.name)
		}
		classified := notify.Retry(direct, 0)
		assert.NotContains(t, classified.Error(), "SECRET", tc.name)
	}
}

func TestSecretRedactsErrors(t *testing.T) {
	t.Parallel()
	s := notify.NewSecret(token)
	err := fmt.Errorf("smtp: auth as ops with %s: %w", token, context.Canceled)
	red := s.Redact(err)
	assert.Equal(t, "smtp: auth as ops with [REDACTED]: context canceled", red.Error())
	assert.ErrorIs(t, red, context.Canceled)
	plain := errors.New("dial tcp: refused")
	assert.Same(t, plain, s.Redact(plain), "an error without the secret is kept")
	assert.NoError(t, s.Redact(nil))
	var u notify.SecretURL
	assert.Same(t, plain, u.Redact(plain))
	assert.True(t, strings.Contains(notify.Redacted, "REDACTED"))
}

// TestRedactKeepsClass checks that a redacted delivery error keeps its
// class, its wait and its status, whether the class is outermost or
// wrapped, and that no form of it shows the secret.
func TestRedactKeepsClass(t *testing.T) {
	t.Parallel()
	s := notify.NewSecret(token)
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"9"}},
		Body: io.NopCloser(strings.NewReader("bad key " + token))}
	classified := notify.HTTPError(resp, time.Now())
	for name, err := range map[string]error{
		"outermost": s.Redact(classified),
		"wrapped":   s.Redact(fmt.Errorf("pagerduty: %w", classified)),
	} {
		assert.ErrorIs(t, err, notify.ErrRateLimited, name)
		assert.ErrorIs(t, err, notify.ErrRetry, name)
		after, ok := notify.RetryAfter(err)
		assert.True(t, ok, name)
		assert.Equal(t, 9*time.Second, after, name)
		var se *notify.StatusError
		require.ErrorAs(t, err, &se, name)
		assert.Equal(t, 429, se.Status, name)
		assert.Equal(t, "bad key [REDACTED]", se.Body, name)
		var de *notify.DeliveryError
		require.ErrorAs(t, err, &de, name)
		for _, verb := range verbs {
			assert.NotContains(t, fmt.Sprintf(verb, err), "SECRET", "%s with %s", name, verb)
			assert.NotContains(t, fmt.Sprintf(verb, de), "SECRET", "%s's DeliveryError with %s", name, verb)
		}
	}
}

func TestSecretURLRedactsPartsQuotedAlone(t *testing.T) {
	t.Parallel()
	u, err := notify.ParseSecretURL("https://hooks.example.org/services/T01/B02/" + token + "?key=" + token + "-q&v=1")
	require.NoError(t, err)
	err = u.Redact(fmt.Errorf("slack said: invalid token %s, key %s-q, version 1 for T01", token, token))
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Contains(t, err.Error(), "version 1 for T01", "short parts are left alone")
}

func TestSecretURLRedactsFormsSent(t *testing.T) {
	t.Parallel()
	u, err := notify.ParseSecretURL("https://hook:pa55w0rd-K9@hooks.example.org/in?key=" + url.QueryEscape("k3y+Zq/9=") + "&v=1")
	require.NoError(t, err)
	basic := base64.StdEncoding.EncodeToString([]byte("hook:pa55w0rd-K9"))
	err = u.Redact(fmt.Errorf("refused key=%s with Authorization: Basic %s", url.QueryEscape("k3y+Zq/9="), basic))
	assert.NotContains(t, err.Error(), "k3y%2BZq", "the query value as sent, escaped")
	assert.NotContains(t, err.Error(), basic, "the password as sent, in HTTP Basic authentication")
}

func TestRedactsSecretCutShort(t *testing.T) {
	t.Parallel()
	key := notify.NewSecret("R0UT1NG-KEY-7f3a9c")
	// The start of a reply's body, cut in the middle of the key.
	body := strings.Repeat("x", 300) + key.Reveal()
	resp := &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body[60:]))}
	err := key.Redact(notify.HTTPError(resp, time.Now()))
	assert.NotContains(t, err.Error(), "R0UT1NG", "the start of the key")
	assert.True(t, strings.HasSuffix(err.Error(), notify.Redacted+"…"), err.Error())
	var se *notify.StatusError
	require.ErrorAs(t, err, &se)
	assert.NotContains(t, se.Body, "R0UT1NG")

	// A body that ends before its length says.
	cut := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(io.MultiReader(
		strings.NewReader("invalid key R0UT1NG-KE"), iotest.ErrReader(io.ErrUnexpectedEOF)))}
	err = key.Redact(notify.HTTPError(cut, time.Now()))
	assert.Equal(t, "notify: temporary delivery failure: HTTP 500 Internal Server Error: invalid key "+notify.Redacted+"…", err.Error())

	// Text that was not cut keeps what only looks like the start of a key.
	whole := &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("route R0UT"))}
	assert.Contains(t, key.Redact(notify.HTTPError(whole, time.Now())).Error(), "route R0UT")
}

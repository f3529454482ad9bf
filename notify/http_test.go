package notify_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

// TestHTTPPost posts through HTTPPost: the headers and body arrive, a
// successful reply is read by Reply, a refusal is classified and never
// quotes the URL's token, and a request to an unreachable peer fails
// without it either.
func TestHTTPPost(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Equal(t, "abc", r.Header.Get("X-Test"))
		assert.Equal(t, `{"a":1}`, string(body))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"id":"r-1"}`)
	}))
	t.Cleanup(srv.Close)
	u, err := notify.ParseSecretURL(srv.URL + "/hooks/s3cr3t-t0ken")
	require.NoError(t, err)
	var got string
	post := notify.HTTPPost{Client: srv.Client(), URL: u, Body: []byte(`{"a":1}`),
		Header: http.Header{"Content-Type": {"application/json"}, "X-Test": {"abc"}},
		Reply: func(r io.Reader) {
			b, _ := io.ReadAll(r)
			got = string(b)
		}}
	rc, err := post.Send(t.Context(), time.Now)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, rc.Status)
	assert.Equal(t, `{"id":"r-1"}`, got)

	status = http.StatusTooManyRequests
	rc, err = post.Send(t.Context(), time.Now)
	require.ErrorIs(t, err, notify.ErrRateLimited)
	assert.Equal(t, http.StatusTooManyRequests, rc.Status)
	assert.NotContains(t, err.Error(), "s3cr3t-t0ken")

	srv.Close()
	_, err = post.Send(t.Context(), time.Now)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t-t0ken")
}

package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// A notifier over HTTP classifies the peer's reply with HTTPError, so that
// a dispatcher knows whether to retry, when, or give up.
func ExampleHTTPError() {
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}))
	defer peer.Close()

	webhook := notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, peer.URL, nil)
		if err != nil {
			return notify.Receipt{}, notify.Permanent(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return notify.Receipt{}, err // no class: worth retrying
		}
		defer resp.Body.Close()
		return notify.Receipt{Status: resp.StatusCode}, notify.HTTPError(resp, time.Now())
	})

	_, err := webhook.Notify(context.Background(), notify.Message{Key: "INC-000001/1/1"})
	after, _ := notify.RetryAfter(err)
	fmt.Println(errors.Is(err, notify.ErrRateLimited), errors.Is(err, notify.ErrRetry), after)
	fmt.Println(err)
	// Output:
	// true true 30s
	// notify: rate limited (retry after 30s): HTTP 429 Too Many Requests: slow down
}

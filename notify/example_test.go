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

// Routes pick channels; each channel's TLP clearance holds back what it
// may not see, whatever the routes say.
func ExampleNewRouter() {
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{
			{Name: "responders-chat"}, // cleared for TLP:AMBER by default
			{Name: "on-call-pager", MaxTLP: notify.TLPRed},
			{Name: "exec-mail", MaxTLP: notify.TLPAmberStrict},
		},
		Routes: []notify.Route{
			{Audiences: []notify.Audience{notify.AudienceExecutives}, Channels: []string{"exec-mail"}},
			{Events: []string{"opened", "phase_changed"}, MinSeverity: notify.SeverityHigh,
				Channels: []string{"on-call-pager"}, Continue: true},
			{Channels: []string{"responders-chat"}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := notify.Message{
		Incident: notify.Incident{ID: "INC-000042", Severity: notify.SeverityCritical, TLP: string(notify.TLPRed)},
		Event:    notify.Event{Type: "phase_changed"},
	}
	d := router.Route(m)
	for _, t := range d.Deliver {
		fmt.Println("deliver to", t.Channel)
	}
	for _, h := range d.Held {
		fmt.Println("held back from", h.Channel, "cleared for", h.MaxTLP)
	}
	// Output:
	// deliver to on-call-pager
	// held back from responders-chat cleared for TLP:AMBER
}

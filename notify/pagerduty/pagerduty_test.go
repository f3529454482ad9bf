package pagerduty_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/pagerduty"
)

const routingKey = "R0UTINGKEY0123456789abcdefABCDEF"

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// fakePagerDuty is a loopback Events API v2 that keeps the events it is
// sent and replies as PagerDuty does.
type fakePagerDuty struct {
	mu     sync.Mutex
	events []map[string]any
	srv    *httptest.Server
}

func newFake(t *testing.T) *fakePagerDuty {
	t.Helper()
	f := &fakePagerDuty{}
	f.srv = httptest.NewServer(http.HandlerFunc(accept(f)))
	t.Cleanup(f.srv.Close)
	return f
}

// accept replies 202 with the event's dedup key, as the Events API does,
// keeping the event if f is set.
func accept(f *fakePagerDuty) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"status":"invalid event","message":"Event object is invalid"}`, http.StatusBadRequest)
			return
		}
		if f != nil {
			f.mu.Lock()
			f.events = append(f.events, ev)
			f.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev["dedup_key"].(string)})
	}
}

func newNotifier(t *testing.T, url string) *pagerduty.Notifier {
	t.Helper()
	u, err := notify.ParseSecretURL(url)
	require.NoError(t, err)
	n, err := pagerduty.New(pagerduty.Config{RoutingKey: notify.NewSecret(routingKey), URL: u,
		Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback})})
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// message returns the test message as event typ with data, the incident
// in phase and open or not.
func message(typ, data, phase string, open bool) notify.Message {
	m := notifytest.Message()
	m.Event.Type, m.Event.Data, m.Incident.Phase, m.Incident.Open = typ, json.RawMessage(data), phase, open
	return m
}

func TestActions(t *testing.T) {
	t.Parallel()
	n := newNotifier(t, "http://127.0.0.1:1/")
	for _, tc := range []struct {
		name string
		m    notify.Message
		want string
	}{
		{"opened", message("opened", `{}`, "preparation", true), pagerduty.Trigger},
		{"escalated to high", message("severity_changed", `{"from":"medium","to":"high"}`, "identification", true), pagerduty.Trigger},
		{"escalated to critical", message("severity_changed", `{"from":"high","to":"critical"}`, "identification", true), pagerduty.Trigger},
		{"raised to medium", message("severity_changed", `{"from":"low","to":"medium"}`, "identification", true), ""},
		{"lowered to high", message("severity_changed", `{"from":"critical","to":"high"}`, "identification", true), ""},
		{"containment starts", message("phase_changed", `{"from":"identification","to":"containment"}`, "containment", true), pagerduty.Acknowledge},
		{"NIST containment starts", message("phase_changed", `{"from":"detection_and_analysis","to":"containment_eradication_recovery"}`, "containment_eradication_recovery", true), pagerduty.Acknowledge},
		{"eradication starts", message("phase_changed", `{"from":"containment","to":"eradication"}`, "eradication", true), ""},
		{"closed", message("phase_changed", `{"from":"lessons_learned","to":"closed"}`, "closed", false), pagerduty.Resolve},
		{"reopened", message("phase_changed", `{"from":"closed","to":"identification"}`, "identification", true), pagerduty.Trigger},
		{"a note", message("note_added", `{"text":"x"}`, "containment", true), ""},
	} {
		assert.Equal(t, tc.want, n.Action(tc.m), tc.name)
	}
}

func TestNotifierDrivesOneAlertPerIncident(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	n := newNotifier(t, f.srv.URL+"/v2/enqueue")
	ctx := context.Background()

	opened := message("opened", `{}`, "preparation", true)
	opened.Incident.Severity = notify.SeverityCritical
	r, err := n.Notify(ctx, opened)
	require.NoError(t, err)
	assert.Equal(t, notify.Receipt{ID: "INC-000042", Status: http.StatusAccepted}, r, "the dedup key PagerDuty acknowledged")

	r, err = n.Notify(ctx, message("note_added", `{"text":"x"}`, "preparation", true))
	require.NoError(t, err)
	assert.Equal(t, notify.Receipt{}, r, "a note is not sent")

	_, err = n.Notify(ctx, message("phase_changed", `{"from":"identification","to":"containment"}`, "containment", true))
	require.NoError(t, err)
	_, err = n.Notify(ctx, message("phase_changed", `{"from":"lessons_learned","to":"closed"}`, "closed", false))
	require.NoError(t, err)

	require.Len(t, f.events, 3)
	for i, action := range []string{"trigger", "acknowledge", "resolve"} {
		assert.Equal(t, action, f.events[i]["event_action"])
		assert.Equal(t, "INC-000042", f.events[i]["dedup_key"], "one alert per incident")
		assert.Equal(t, routingKey, f.events[i]["routing_key"])
	}
	trigger := f.events[0]
	payload := trigger["payload"].(map[string]any)
	assert.Equal(t, "critical", payload["severity"])
	assert.Equal(t, "incidentkit", payload["source"])
	assert.Equal(t, "2026-03-02T11:40:00Z", payload["timestamp"])
	assert.Equal(t, "[INC-000042] Credential phishing against the finance team: New incident, critical severity — Alice Moreau "+
		"moved the incident from Containment to Eradication: account secured, laptop isolated, indicators blocked", payload["summary"],
		"the opened template, on one line")
	details := payload["custom_details"].(map[string]any)
	assert.Equal(t, "TLP:AMBER", details["tlp"])
	assert.Equal(t, "INC-000042/7/1", details["key"])
	assert.Equal(t, []any{
		map[string]any{"href": "https://ir.example.org/incidents/INC-000042", "text": "INC-000042"},
		map[string]any{"href": "https://ir.example.org/incidents/INC-000042/timeline", "text": "Timeline of INC-000042"},
	}, trigger["links"])
	assert.NotContains(t, f.events[1], "payload", "acknowledge carries no alert")
}

func TestSeverityMapping(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	n := newNotifier(t, f.srv.URL)
	for _, s := range []string{"critical", "high", "medium", "low", ""} {
		m := message("opened", `{}`, "preparation", true)
		m.Incident.Severity = s
		_, err := n.Notify(context.Background(), m)
		require.NoError(t, err)
	}
	var got []string
	for _, ev := range f.events {
		got = append(got, ev["payload"].(map[string]any)["severity"].(string))
	}
	assert.Equal(t, []string{"critical", "error", "warning", "info", "info"}, got)
}

func TestSummaryFitsPagerDutysLimit(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	n := newNotifier(t, f.srv.URL)
	m := message("opened", `{}`, "preparation", true)
	m.Event.Reason = strings.Repeat("é", 5000)
	_, err := n.Notify(context.Background(), m)
	require.NoError(t, err)
	summary := f.events[0]["payload"].(map[string]any)["summary"].(string)
	assert.LessOrEqual(t, len([]rune(summary)), 1024)
	assert.Contains(t, summary, notify.TruncationMarker)
}

func TestNewNeedsARoutingKey(t *testing.T) {
	t.Parallel()
	_, err := pagerduty.New(pagerduty.Config{})
	assert.ErrorIs(t, err, notify.ErrInvalid)
}

func TestNotifierConformance(t *testing.T) {
	notifytest.TestHTTPNotifier(t, notifytest.HTTPNotifierSuite{
		New: func(t *testing.T, peer notifytest.HTTPPeer) notify.Notifier {
			u, err := notify.ParseSecretURL(peer.URL)
			require.NoError(t, err)
			n, err := pagerduty.New(pagerduty.Config{RoutingKey: notify.NewSecret(peer.Secret), URL: u,
				Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback}), Now: time.Now})
			require.NoError(t, err)
			t.Cleanup(func() { _ = n.Close() })
			return n
		},
		Accept:  accept(nil),
		Message: func() notify.Message { return message("opened", `{}`, "preparation", true) },
	})
}

func TestReceiptNeverHoldsTheRoutingKey(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"success","dedup_key":"`+routingKey+`"}`)
	}))
	t.Cleanup(srv.Close)
	r, err := newNotifier(t, srv.URL+"/v2/enqueue").Notify(context.Background(), message("opened", "", "identification", true))
	require.NoError(t, err)
	assert.Equal(t, notify.Receipt{ID: "INC-000042", Status: http.StatusAccepted}, r, "the dedup key sent")
}

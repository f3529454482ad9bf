package teams_test

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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/teams"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// workflow is a loopback Teams workflow webhook that keeps what it is
// sent and accepts it with 202, as Teams does.
type workflow struct {
	mu     sync.Mutex
	bodies [][]byte
	srv    *httptest.Server
}

func newWorkflow(t *testing.T) *workflow {
	t.Helper()
	w := &workflow{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.bodies = append(w.bodies, body)
		w.mu.Unlock()
		rw.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func newNotifier(t *testing.T, url string, templates map[string]string) *teams.Notifier {
	t.Helper()
	u, err := notify.ParseSecretURL(url)
	require.NoError(t, err)
	n, err := teams.New(teams.Config{URL: u, Templates: templates, Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback})})
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// card is the part of a posted message the tests read.
type card struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string `json:"contentType"`
		Content     struct {
			Type    string `json:"type"`
			Version string `json:"version"`
			Body    []struct {
				Type  string              `json:"type"`
				Text  string              `json:"text"`
				Color string              `json:"color"`
				Facts []map[string]string `json:"facts"`
			} `json:"body"`
			Actions []map[string]string `json:"actions"`
		} `json:"content"`
	} `json:"attachments"`
}

func posted(t *testing.T, b []byte) card {
	t.Helper()
	var c card
	require.NoError(t, json.Unmarshal(b, &c))
	require.Len(t, c.Attachments, 1)
	return c
}

func TestNotifierPostsAnAdaptiveCard(t *testing.T) {
	t.Parallel()
	w := newWorkflow(t)
	n := newNotifier(t, w.srv.URL+"/workflows/abc/triggers/manual/paths/invoke?sig=SIGNATURE123", nil)
	r, err := n.Notify(context.Background(), notifytest.Message())
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, r.Status)
	require.Len(t, w.bodies, 1)
	c := posted(t, w.bodies[0])
	assert.Equal(t, "message", c.Type)
	a := c.Attachments[0]
	assert.Equal(t, "application/vnd.microsoft.card.adaptive", a.ContentType)
	assert.Equal(t, "AdaptiveCard", a.Content.Type)
	body := a.Content.Body
	require.Len(t, body, 3)
	assert.Equal(t, "[HIGH] INC-000042: Credential phishing against the finance team", body[0].Text)
	assert.Equal(t, "Attention", body[0].Color)
	assert.Equal(t, "Phase: eradication\n\nAlice Moreau moved the incident from Containment to Eradication: account secured, laptop isolated, indicators blocked",
		body[1].Text, "the phase change's template, a paragraph a line")
	assert.Contains(t, body[2].Facts, map[string]string{"title": "TLP", "value": "TLP:AMBER"})
	assert.Contains(t, body[2].Facts, map[string]string{"title": "For", "value": "responders"})
	assert.Equal(t, []map[string]string{
		{"type": "Action.OpenUrl", "title": "INC-000042", "url": "https://ir.example.org/incidents/INC-000042"},
		{"type": "Action.OpenUrl", "title": "Timeline of INC-000042", "url": "https://ir.example.org/incidents/INC-000042/timeline"},
	}, a.Content.Actions)
}

func TestNotifierTemplatesAndColours(t *testing.T) {
	t.Parallel()
	w := newWorkflow(t)
	n := newNotifier(t, w.srv.URL, map[string]string{"phase_changed": `{{.Incident.ID}} is in {{words .Incident.Phase}} now`})
	for _, sev := range []string{"critical", "high", "medium", "low"} {
		m := notifytest.Message()
		m.Incident.Severity = sev
		_, err := n.Notify(context.Background(), m)
		require.NoError(t, err)
	}
	var colours []string
	for _, b := range w.bodies {
		c := posted(t, b)
		colours = append(colours, c.Attachments[0].Content.Body[0].Color)
		assert.Equal(t, "INC-000042 is in eradication now", c.Attachments[0].Content.Body[1].Text, "the override renders the text")
	}
	assert.Equal(t, []string{"Attention", "Attention", "Warning", "Default"}, colours)

	_, err := teams.New(teams.Config{URL: notify.SecretURL{}})
	assert.ErrorIs(t, err, notify.ErrInvalid)
	u, _ := notify.ParseSecretURL(w.srv.URL)
	_, err = teams.New(teams.Config{URL: u, Templates: map[string]string{"default": "{{"}})
	assert.ErrorIs(t, err, notify.ErrInvalid)
}

func TestNotifierFitsTeamsLimit(t *testing.T) {
	t.Parallel()
	w := newWorkflow(t)
	n := newNotifier(t, w.srv.URL, nil)
	m := notifytest.Message()
	m.Event.Reason = strings.Repeat("ü", 100000)
	_, err := n.Notify(context.Background(), m)
	require.NoError(t, err)
	require.Len(t, w.bodies, 1)
	assert.LessOrEqual(t, len(w.bodies[0]), teams.MaxBody)
	assert.True(t, strings.HasSuffix(posted(t, w.bodies[0]).Attachments[0].Content.Body[1].Text, notify.TruncationMarker))
}

func TestNotifierConformance(t *testing.T) {
	notifytest.TestHTTPNotifier(t, notifytest.HTTPNotifierSuite{
		New:    func(t *testing.T, peer notifytest.HTTPPeer) notify.Notifier { return newNotifier(t, peer.URL, nil) },
		Accept: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) },
	})
}

package slack_test

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
	"github.com/incidentkit/incidentkit/notify/slack"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// hook is a loopback incoming webhook that answers as Slack does.
type hook struct {
	mu     sync.Mutex
	bodies [][]byte
	srv    *httptest.Server
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var v map[string]any
		if json.Unmarshal(body, &v) != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.bodies = append(h.bodies, body)
		h.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func newNotifier(t *testing.T, url string, templates map[string]string) *slack.Notifier {
	t.Helper()
	u, err := notify.ParseSecretURL(url)
	require.NoError(t, err)
	n, err := slack.New(slack.Config{URL: u, Templates: templates, Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback})})
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// message is the part of a posted message the tests read.
type message struct {
	Text        string `json:"text"`
	Attachments []struct {
		Color  string `json:"color"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Text string `json:"text"`
			} `json:"fields"`
			Elements []struct {
				Text struct {
					Text string `json:"text"`
				} `json:"text"`
				URL string `json:"url"`
			} `json:"elements"`
		} `json:"blocks"`
	} `json:"attachments"`
}

func posted(t *testing.T, b []byte) message {
	t.Helper()
	var m message
	require.NoError(t, json.Unmarshal(b, &m))
	require.Len(t, m.Attachments, 1)
	return m
}

func TestNotifierPostsBlockKit(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	n := newNotifier(t, h.srv.URL+"/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX", nil)
	r, err := n.Notify(context.Background(), notifytest.Message())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.Status)
	require.Len(t, h.bodies, 1)
	m := posted(t, h.bodies[0])
	a := m.Attachments[0]
	assert.Equal(t, "#E01E5A", a.Color, "high")
	require.Len(t, a.Blocks, 4)
	assert.Equal(t, "header", a.Blocks[0].Type)
	assert.Equal(t, "[HIGH] INC-000042: Credential phishing against the finance team", a.Blocks[0].Text.Text)
	assert.Equal(t, "Phase: eradication\nAlice Moreau moved the incident from Containment to Eradication: account secured, laptop isolated, indicators blocked",
		a.Blocks[1].Text.Text, "the phase change's template")
	assert.Equal(t, "mrkdwn", a.Blocks[1].Text.Type)
	var fields []string
	for _, f := range a.Blocks[2].Fields {
		fields = append(fields, f.Text)
	}
	assert.Contains(t, fields, "*TLP*\nTLP:AMBER")
	assert.Contains(t, fields, "*Phase*\neradication")
	assert.Equal(t, "actions", a.Blocks[3].Type)
	assert.Equal(t, "https://ir.example.org/incidents/INC-000042", a.Blocks[3].Elements[0].URL)
	assert.Contains(t, m.Text, "INC-000042", "a text for notifications and clients without blocks")
}

func TestNotifierEscapesWhatPeopleWrote(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	n := newNotifier(t, h.srv.URL, map[string]string{"note_added": `{{.Incident.Title}} {{join "," .Incident.Labels}}: {{sentence .}}`})
	m := notifytest.Message()
	m.Event.Type = "note_added"
	m.Incident.Title = "<!channel> urgent & <https://evil.example|click>"
	m.Incident.Labels = []string{"<!here>"}
	m.Event.Summary, m.Event.Reason = "noted: <@U0123> look", ""
	_, err := n.Notify(context.Background(), m)
	require.NoError(t, err)
	raw := string(h.bodies[0])
	for _, bad := range []string{"<!channel>", "<!here>", "<@U0123>", "<https://evil"} {
		assert.NotContains(t, raw, bad)
	}
	got := posted(t, h.bodies[0])
	assert.Equal(t, "&lt;!channel&gt; urgent &amp; &lt;https://evil.example|click&gt; &lt;!here&gt;: Alice Moreau noted: &lt;@U0123&gt; look",
		got.Attachments[0].Blocks[1].Text.Text)
}

func TestNotifierEscapesEventData(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	n := newNotifier(t, h.srv.URL, nil)
	m := notifytest.Message()
	m.Event.Type, m.Event.Summary = "status_update", "posted a status update for executives: &lt;!channel&gt; all clear"
	m.Event.Data = json.RawMessage(`{"audience":"executives","text":"<!channel> all clear & done"}`)
	_, err := n.Notify(context.Background(), m)
	require.NoError(t, err)
	assert.NotContains(t, string(h.bodies[0]), "<!channel>")
	got := posted(t, h.bodies[0])
	assert.Equal(t, "Status update for executives\n&lt;!channel&gt; all clear &amp; done\nPosted by Alice Moreau",
		got.Attachments[0].Blocks[1].Text.Text, "the status update's own text, escaped")
}

func TestNotifierColoursAndLimits(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	n := newNotifier(t, h.srv.URL, nil)
	for _, sev := range []string{"critical", "high", "medium", "low"} {
		m := notifytest.Message()
		m.Incident.Severity = sev
		m.Event.Reason = strings.Repeat("x", 10000)
		_, err := n.Notify(context.Background(), m)
		require.NoError(t, err)
	}
	var colours []string
	for _, b := range h.bodies {
		m := posted(t, b)
		colours = append(colours, m.Attachments[0].Color)
		section := m.Attachments[0].Blocks[1].Text.Text
		assert.LessOrEqual(t, len([]rune(section)), 3000)
		assert.True(t, strings.HasSuffix(section, notify.TruncationMarker))
		assert.LessOrEqual(t, len([]rune(m.Text)), 3000)
	}
	assert.Equal(t, []string{"#A30200", "#E01E5A", "#ECB22E", "#2EB67D"}, colours)

	_, err := slack.New(slack.Config{})
	assert.ErrorIs(t, err, notify.ErrInvalid)
}

func TestNotifierConformance(t *testing.T) {
	notifytest.TestHTTPNotifier(t, notifytest.HTTPNotifierSuite{
		New:    func(t *testing.T, peer notifytest.HTTPPeer) notify.Notifier { return newNotifier(t, peer.URL, nil) },
		Accept: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) },
	})
}

func TestNotifierMarksExercises(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	n := newNotifier(t, h.srv.URL+"/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX", nil)
	msg := notifytest.Message()
	msg.Incident.Exercise = true
	_, err := n.Notify(context.Background(), msg)
	require.NoError(t, err)
	require.Len(t, h.bodies, 1)
	m := posted(t, h.bodies[0])
	a := m.Attachments[0]
	assert.Equal(t, "[EXERCISE] [HIGH] INC-000042: Credential phishing against the finance team", a.Blocks[0].Text.Text)
	assert.True(t, strings.HasPrefix(a.Blocks[1].Text.Text, "[EXERCISE] Phase: eradication\n"), a.Blocks[1].Text.Text)
}

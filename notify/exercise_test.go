package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// drillRouting pages on serious incidents, tells the team's chat about
// everything, and sends exercises to a drills channel and to the chat.
const drillRouting = `{
  "channels": [{"name": "pager"}, {"name": "chat"}, {"name": "drills"}, {"name": "partners", "max_tlp": "TLP:GREEN"}],
  "routes": [
    {"name": "page", "min_severity": "high", "channels": ["pager"], "continue": true},
    {"name": "partners", "channels": ["partners"], "exercises": true, "continue": true},
    {"name": "chat", "channels": ["chat"]},
    {"name": "drills", "channels": ["drills", "chat"], "exercises": true}
  ]
}`

func drillRouter(t *testing.T) *notify.Router {
	t.Helper()
	cfg, err := notify.LoadRouting(strings.NewReader(drillRouting))
	require.NoError(t, err)
	r, err := notify.NewRouter(cfg)
	require.NoError(t, err)
	return r
}

func TestExercisesGoOnlyThroughRoutesThatAcceptThem(t *testing.T) {
	t.Parallel()
	r := drillRouter(t)
	m := notifytest.Message()
	m.Incident.Severity = "critical"

	real := r.Route(m)
	assert.Equal(t, []string{"pager", "chat"}, channels(real.Deliver), "a real incident stops at the chat route")
	require.Len(t, real.Held, 1)
	assert.Equal(t, "partners", real.Held[0].Channel)
	assert.False(t, real.Held[0].Exercise, "TLP held it")

	m.Incident.Exercise = true
	d := r.Route(m)
	assert.Equal(t, []string{"drills", "chat"}, channels(d.Deliver),
		"the routes that do not accept exercises are passed over, whatever they match")
	var held []string
	for _, h := range d.Held {
		held = append(held, h.Channel+" by "+h.Route)
	}
	assert.Equal(t, []string{"partners by partners", "pager by page"}, held,
		"the pager is held back and recorded; the chat, which the drills route takes, is not")
	assert.False(t, d.Held[0].Exercise, "an exercise route still keeps to the channel's TLP clearance")
	assert.Contains(t, d.Held[0].Reason(), "TLP:AMBER, above the channel's TLP:GREEN")
	assert.True(t, d.Held[1].Exercise)
	assert.Equal(t, `route "page" does not take exercises`, d.Held[1].Reason())
}

func TestExercisesWithoutAnExerciseRoute(t *testing.T) {
	t.Parallel()
	r, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "pager"}, {Name: "chat"}},
		Routes:   []notify.Route{{Name: "page", Channels: []string{"pager", "chat"}, Continue: true}, {Name: "again", Channels: []string{"chat"}}},
	})
	require.NoError(t, err)
	m := notifytest.Message()
	m.Incident.Exercise = true
	d := r.Route(m)
	assert.Empty(t, d.Deliver, "by default no route sends an exercise")
	require.Len(t, d.Held, 2, "each channel is held back once")
	assert.Equal(t, notify.Held{Target: notify.Target{Channel: "pager", Route: "page"}, TLP: notify.TLPAmber,
		MaxTLP: notify.TLPAmber, Exercise: true}, d.Held[0])
	assert.Equal(t, "chat", d.Held[1].Channel)
}

func TestRouterValidatesExerciseRoutes(t *testing.T) {
	t.Parallel()
	// A route for exercises after a catch-all that does not take them is
	// reached by exercises; after one that does, it is never reached.
	_, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "chat"}, {Name: "drills"}},
		Routes:   []notify.Route{{Name: "all", Channels: []string{"chat"}}, {Name: "drills", Channels: []string{"drills"}, Exercises: true}},
	})
	require.NoError(t, err)
	_, err = notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "chat"}, {Name: "drills"}},
		Routes: []notify.Route{{Name: "all", Channels: []string{"chat"}, Exercises: true},
			{Name: "drills", Channels: []string{"drills"}, Exercises: true}},
	})
	require.ErrorIs(t, err, notify.ErrInvalid)
	assert.Contains(t, err.Error(), `route "drills"`)

	_, err = notify.LoadRouting(strings.NewReader(`{"channels":[{"name":"c"}],"routes":[{"channels":["c"],"exercises":"yes"}]}`))
	require.ErrorIs(t, err, notify.ErrInvalid)
	assert.Contains(t, err.Error(), "exercises")
}

func TestDefaultTemplatesMarkExercises(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, defaults := range map[string]map[string]string{
		"text": notify.DefaultTextTemplates(), "html": notify.DefaultHTMLTemplates(), "line": notify.DefaultLineTemplates(),
	} {
		var tpl *notify.Templates
		var err error
		if name == "html" {
			tpl, err = notify.NewHTMLTemplates(notify.TemplateConfig{Defaults: defaults})
		} else {
			tpl, err = notify.NewTextTemplates(notify.TemplateConfig{Defaults: defaults})
		}
		require.NoError(t, err)
		for _, tc := range append(templateCases(), templateCase{"default", notifytest.Message()}) {
			m := tc.message
			if tc.template == "default" {
				m.Event.Type = "asset_added"
			}
			plain := tpl.Render(ctx, m)
			assert.NotContains(t, plain, notify.ExerciseMarker, "%s %s", name, tc.template)
			m.Incident.Exercise = true
			got := tpl.Render(ctx, m)
			if name == "html" {
				assert.True(t, strings.HasPrefix(got, "<p><strong>[EXERCISE] ") || strings.HasPrefix(got, "<p>[EXERCISE] "),
					"%s %s: %q", name, tc.template, got)
			} else {
				assert.True(t, strings.HasPrefix(got, "[EXERCISE] "), "%s %s: %q", name, tc.template, got)
			}
			assert.Equal(t, plain, strings.Replace(got, "[EXERCISE] ", "", 1), "%s %s: the mark is all that changes", name, tc.template)
		}
	}
}

func TestLogNotifierMarksExercises(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	n := &notify.LogNotifier{Logger: slog.New(slog.NewTextHandler(&out, nil))}
	m := notifytest.Message()
	m.Incident.Exercise = true
	_, err := n.Notify(context.Background(), m)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "exercise=true")
	assert.Equal(t, "[EXERCISE] ", m.Incident.Marker())
	m.Incident.Exercise = false
	assert.Empty(t, m.Incident.Marker())
}

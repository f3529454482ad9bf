package notify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// routing is a response team's routing, as JSON.
const routing = `{
	"channels": [
		{"name": "slack-ir", "max_tlp": "amber+strict"},
		{"name": "pager", "max_tlp": "TLP:RED"},
		{"name": "exec-mail"},
		{"name": "legal-mail", "max_tlp": "red"},
		{"name": "status-page", "max_tlp": "TLP:CLEAR"},
		{"name": "audit-log", "max_tlp": "RED"}
	],
	"routes": [
		{"name": "everything to the audit log", "channels": ["audit-log"], "continue": true},
		{"name": "executives", "audiences": ["executives"], "channels": ["exec-mail"]},
		{"name": "legal", "audiences": ["legal", "regulators"], "channels": ["legal-mail"]},
		{"name": "customers", "audiences": ["customers"], "channels": ["status-page"]},
		{"name": "page on serious phase changes", "events": ["opened", "phase_changed"], "min_severity": "high",
		 "channels": ["pager", "slack-ir"], "continue": true},
		{"name": "finance incidents", "labels": ["finance"], "categories": ["phishing", "malware"],
		 "phases": ["containment", "eradication"], "channels": ["slack-ir", "exec-mail"]},
		{"name": "the rest", "channels": ["slack-ir"]}
	]
}`

func router(t *testing.T) *notify.Router {
	t.Helper()
	cfg, err := notify.LoadRouting(strings.NewReader(routing))
	require.NoError(t, err)
	r, err := notify.NewRouter(cfg)
	require.NoError(t, err)
	return r
}

func channels(targets []notify.Target) []string {
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t.Channel
	}
	return out
}

func TestRoute(t *testing.T) {
	t.Parallel()
	r := router(t)
	base := notifytest.Message() // high, phishing, eradication, finance, AMBER, phase_changed
	for _, tc := range []struct {
		name    string
		change  func(m *notify.Message)
		deliver []string
		held    []string
	}{
		{"continue, then the first match that does not", nil,
			[]string{"audit-log", "pager", "slack-ir", "exec-mail"}, nil},
		{"below the least severity", func(m *notify.Message) { m.Incident.Severity = "medium" },
			[]string{"audit-log", "slack-ir", "exec-mail"}, nil},
		{"critical is at least high", func(m *notify.Message) { m.Incident.Severity = "critical"; m.Event.Type = "opened" },
			[]string{"audit-log", "pager", "slack-ir", "exec-mail"}, nil},
		{"another event type", func(m *notify.Message) { m.Event.Type = "note_added" },
			[]string{"audit-log", "slack-ir", "exec-mail"}, nil},
		{"a label missing", func(m *notify.Message) { m.Event.Type = "note_added"; m.Incident.Labels = []string{"o365"} },
			[]string{"audit-log", "slack-ir"}, nil},
		{"another phase", func(m *notify.Message) { m.Event.Type = "note_added"; m.Incident.Phase = "recovery" },
			[]string{"audit-log", "slack-ir"}, nil},
		{"another category", func(m *notify.Message) { m.Event.Type = "note_added"; m.Incident.Category = "dos" },
			[]string{"audit-log", "slack-ir"}, nil},
		{"an audience", func(m *notify.Message) { m.Audience = notify.AudienceExecutives },
			[]string{"audit-log", "exec-mail"}, nil},
		{"one of a route's audiences", func(m *notify.Message) { m.Audience = notify.AudienceRegulators },
			[]string{"audit-log", "legal-mail"}, nil},
		{"an audience no route names", func(m *notify.Message) { m.Audience = "board"; m.Event.Type = "note_added" },
			[]string{"audit-log", "slack-ir", "exec-mail"}, nil},
		{"RED is held back from channels not cleared for it", func(m *notify.Message) { m.Incident.TLP = "TLP:RED" },
			[]string{"audit-log", "pager"}, []string{"slack-ir", "exec-mail"}},
		{"AMBER+STRICT", func(m *notify.Message) { m.Incident.TLP = "TLP:AMBER+STRICT" },
			[]string{"audit-log", "pager", "slack-ir"}, []string{"exec-mail"}},
		{"customers see only CLEAR", func(m *notify.Message) { m.Audience = notify.AudienceCustomers },
			[]string{"audit-log"}, []string{"status-page"}},
		{"CLEAR reaches the status page", func(m *notify.Message) { m.Audience = notify.AudienceCustomers; m.Incident.TLP = "TLP:CLEAR" },
			[]string{"audit-log", "status-page"}, nil},
		{"an unreadable label counts as RED", func(m *notify.Message) { m.Incident.TLP = "purple" },
			[]string{"audit-log", "pager"}, []string{"slack-ir", "exec-mail"}},
		{"no label counts as RED", func(m *notify.Message) { m.Incident.TLP = "" },
			[]string{"audit-log", "pager"}, []string{"slack-ir", "exec-mail"}},
	} {
		m := base
		m.Incident.Labels = append([]string(nil), base.Incident.Labels...)
		if tc.change != nil {
			tc.change(&m)
		}
		d := r.Route(m)
		assert.Equal(t, tc.deliver, channels(d.Deliver), "%s: delivered", tc.name)
		var held []string
		for _, h := range d.Held {
			held = append(held, h.Channel)
			assert.NotContains(t, channels(d.Deliver), h.Channel, tc.name)
		}
		assert.Equal(t, tc.held, held, "%s: held back", tc.name)
	}
}

func TestRouteRecordsWhatIsHeld(t *testing.T) {
	t.Parallel()
	m := notifytest.Message()
	m.Incident.TLP = "tlp:red"
	d := router(t).Route(m)
	require.NotEmpty(t, d.Held)
	assert.Equal(t, notify.Held{Target: notify.Target{Channel: "slack-ir", Route: "page on serious phase changes"},
		TLP: notify.TLPRed, MaxTLP: notify.TLPAmberStrict}, d.Held[0])
	assert.Equal(t, notify.Target{Channel: "audit-log", Route: "everything to the audit log"}, d.Deliver[0])
}

func TestRouteDefaults(t *testing.T) {
	t.Parallel()
	r, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "chat"}},
		Routes:   []notify.Route{{Channels: []string{"chat"}}},
	})
	require.NoError(t, err)
	for tlp, delivered := range map[string]bool{
		"TLP:CLEAR": true, "TLP:GREEN": true, "TLP:AMBER": true, "TLP:AMBER+STRICT": false, "TLP:RED": false,
	} {
		m := notifytest.Message()
		m.Incident.TLP = tlp
		d := r.Route(m)
		assert.Equal(t, delivered, len(d.Deliver) == 1, "a channel is cleared for AMBER by default: %s", tlp)
		assert.Equal(t, !delivered, len(d.Held) == 1, tlp)
		if len(d.Deliver) == 1 {
			assert.Equal(t, "route 1", d.Deliver[0].Route, "unnamed routes are numbered")
		}
	}
	var none notify.Router
	assert.Empty(t, none.Route(notifytest.Message()).Deliver, "no routes, no deliveries")
}

func TestNewRouterReportsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := notify.Routing{
		Channels: []notify.ChannelRule{
			{Name: "chat"}, {Name: "chat"}, {Name: ""}, {Name: "mail", MaxTLP: "purple"},
		},
		Routes: []notify.Route{
			{Name: "no channel", Categories: []string{"a"}},
			{Name: "unknown channel", Categories: []string{"b"}, Channels: []string{"pager"}},
			{Name: "bad severity", Categories: []string{"c"}, MinSeverity: "urgent", Channels: []string{"chat"}},
			{Name: "bad matchers", Events: []string{"Phase Changed", ""}, Audiences: []notify.Audience{"exec", "exec"}, Channels: []string{"chat"}},
			{Name: "catch-all", Channels: []string{"chat"}},
			{Name: "after the catch-all", Events: []string{"opened"}, Channels: []string{"chat"}},
		},
	}
	_, err := notify.NewRouter(cfg)
	require.ErrorIs(t, err, notify.ErrInvalid)
	var ie *notify.InputError
	require.ErrorAs(t, err, &ie)
	var fields []string
	for _, p := range ie.Problems {
		var inv *notify.InvalidError
		require.True(t, errors.As(p, &inv), "%v", p)
		fields = append(fields, inv.Field+"="+inv.Value)
	}
	assert.Equal(t, []string{
		"channel 2=chat", "channel 3=", "channel mail max_tlp=purple",
		`route "no channel" channels=`,
		`route "unknown channel" channels=pager`,
		`route "bad severity" min_severity=urgent`,
		`route "bad matchers" events=`, `route "bad matchers" audiences=exec`, `route "bad matchers" matcher=Phase Changed`,
		`route "after the catch-all"=`,
	}, fields)
	assert.Contains(t, err.Error(), "10 problems")
	assert.Contains(t, err.Error(), `invalid route "after the catch-all": is never reached: route "catch-all" before it`)
}

func TestUnreachableRoutes(t *testing.T) {
	t.Parallel()
	ch := []notify.ChannelRule{{Name: "a"}, {Name: "b"}}
	for _, tc := range []struct {
		name        string
		before      notify.Route
		after       notify.Route
		unreachable bool
	}{
		{"a catch-all", notify.Route{}, notify.Route{Events: []string{"opened"}}, true},
		{"a catch-all that continues", notify.Route{Continue: true}, notify.Route{}, false},
		{"broader events", notify.Route{Events: []string{"opened", "phase_changed"}}, notify.Route{Events: []string{"opened"}}, true},
		{"narrower events", notify.Route{Events: []string{"opened"}}, notify.Route{Events: []string{"opened", "phase_changed"}}, false},
		{"events against any event", notify.Route{Events: []string{"opened"}}, notify.Route{}, false},
		{"lower severity", notify.Route{MinSeverity: "medium"}, notify.Route{MinSeverity: "high"}, true},
		{"higher severity", notify.Route{MinSeverity: "high"}, notify.Route{MinSeverity: "medium"}, false},
		{"fewer labels", notify.Route{Labels: []string{"x"}}, notify.Route{Labels: []string{"x", "y"}}, true},
		{"more labels", notify.Route{Labels: []string{"x", "y"}}, notify.Route{Labels: []string{"x"}}, false},
		{"an audience", notify.Route{Audiences: []notify.Audience{"legal"}}, notify.Route{Audiences: []notify.Audience{"legal"}, Phases: []string{"recovery"}}, true},
		{"another audience", notify.Route{Audiences: []notify.Audience{"legal"}}, notify.Route{Audiences: []notify.Audience{"customers"}}, false},
		{"another category", notify.Route{Categories: []string{"dos"}}, notify.Route{Categories: []string{"phishing"}}, false},
	} {
		tc.before.Channels, tc.after.Channels = []string{"a"}, []string{"b"}
		_, err := notify.NewRouter(notify.Routing{Channels: ch, Routes: []notify.Route{tc.before, tc.after}})
		if tc.unreachable {
			assert.ErrorContains(t, err, `route "route 2": is never reached`, tc.name)
		} else {
			assert.NoError(t, err, tc.name)
		}
	}
}

func TestLoadRoutingRefusesBadJSON(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"unknown field":       `{"channels":[],"routes":[],"reciever":"x"}`,
		"unknown route field": `{"routes":[{"channels":["a"],"severity":"high"}]}`,
		"two values":          `{"routes":[]} {}`,
		"not JSON":            `routes:`,
		"wrong type":          `{"routes":{}}`,
	} {
		_, err := notify.LoadRouting(strings.NewReader(in))
		assert.ErrorIs(t, err, notify.ErrInvalid, name)
	}
}

func TestParseTLP(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]notify.TLP{
		"TLP:RED": notify.TLPRed, "red": notify.TLPRed, " amber+strict ": notify.TLPAmberStrict,
		"tlp:clear": notify.TLPClear, "GREEN": notify.TLPGreen, "Amber": notify.TLPAmber,
	} {
		got, err := notify.ParseTLP(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "white", "TLP:", "TLP:REDD"} {
		_, err := notify.ParseTLP(in)
		assert.ErrorIs(t, err, notify.ErrInvalid, in)
	}
}

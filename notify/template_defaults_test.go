package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// templateCase is a message of one kind, as the incident package writes
// it, and the template that must render it.
type templateCase struct {
	template string
	message  notify.Message
}

// templateCases returns a message of every kind the default templates have
// a template for, and one of a kind they have none for.
func templateCases() []templateCase {
	msg := func(typ, summary, reason, data string, edit ...func(*notify.Message)) notify.Message {
		m := notifytest.Message()
		m.Event.Type, m.Event.Summary, m.Event.Reason, m.Event.Data = typ, summary, reason, json.RawMessage(data)
		for _, e := range edit {
			e(&m)
		}
		return m
	}
	closed := func(m *notify.Message) { m.Incident.Phase, m.Incident.Open = "closed", false }
	reopened := func(m *notify.Message) { m.Incident.Phase = "identification" }
	return []templateCase{
		{"opened", msg("opened", `opened "Credential phishing against the finance team", severity high, in Preparation`, "",
			`{"title":"Credential phishing against the finance team","severity":"high","priority":"P2","category":"phishing","tlp":"TLP:AMBER","model":"sans","phase":"preparation"}`,
			func(m *notify.Message) { m.Incident.Phase = "preparation" })},
		{"phase_changed", notifytest.Message()},
		{"closed", msg("phase_changed", "moved the incident from Lessons Learned to Closed", "review done",
			`{"action":"close","from":"lessons_learned","to":"closed"}`, closed)},
		{"reopened", msg("phase_changed", "moved the incident from Closed to Identification", "the loader came back",
			`{"action":"reopen","from":"closed","to":"identification"}`, reopened)},
		{"severity_changed", msg("severity_changed", "changed the severity from high to critical", "payroll data involved",
			`{"from":"high","to":"critical"}`, func(m *notify.Message) { m.Incident.Severity = "critical" })},
		{"priority_changed", msg("priority_changed", "changed the priority from P2 to P1", "", `{"from":"P2","to":"P1"}`,
			func(m *notify.Message) { m.Incident.Priority = "P1" })},
		{"role_assigned", msg("role_assigned", "made Ben Carter incident commander", "",
			`{"role":"incident_commander","assignee":{"id":"ben","name":"Ben Carter","kind":"human"}}`)},
		{"role_unassigned", msg("role_unassigned", "relieved Ben Carter as scribe", "",
			`{"role":"scribe","assignee":{"id":"ben","name":"Ben Carter","kind":"human"}}`)},
		{"note_added", msg("note_added", "noted: the provider calls back at 3", "", `{"text":"the provider calls back at 3"}`)},
		{"decision_recorded", msg("decision_recorded", "decided (2): Isolate the two laptops", "",
			`{"decision":{"id":2,"summary":"Isolate the two laptops"}}`)},
		{"verdict_set", msg("verdict_set", "set the verdict: true positive", "", `{"verdict":"true_positive"}`)},
		{"evidence_collected", msg("evidence_collected", "collected exhibit EX-001, mail.log (58 bytes, SHA-256 a4fb650da54de544…)", "",
			`{"evidence":{"item":"item-1","exhibit":"EX-001","name":"mail.log","kind":"file","size":58}}`)},
		{"task_completed", msg("task_completed", "completed task 3: password reset", "", `{"task_id":3,"title":"Reset the password","outcome":"password reset"}`)},
		{"status_update", msg("status_update", "posted a status update for executives: Contained to one laptop. Next update at 14:00.", "",
			`{"audience":"executives","text":"Contained to one laptop. Next update at 14:00."}`,
			func(m *notify.Message) { m.Audience = notify.AudienceExecutives })},
		{"notification_failed", msg("notification_failed", "could not notify channel mail of a phase change after 5 attempts: 554 refused", "",
			`{"channel":"mail","key":"INC-000042/7/1","event":"phase_changed","delivery":9,"attempts":5,"error":"554 refused"}`,
			func(m *notify.Message) { m.Event.Actor = notify.Actor{ID: "dispatcher", Kind: "service"} })},
		{"default", msg("observable_added", "recorded malicious ip 203.0.113.47", "", `{"observable":{"type":"ip","value":"203.0.113.47","malicious":true}}`)},
	}
}

// TestDefaultTemplatesGolden renders a message of every kind with the
// default templates, as plain text, HTML and one line, and compares them
// with testdata/default_templates.golden (go test -run
// TestDefaultTemplatesGolden -update ./notify/ rewrites it). No template
// may fail.
func TestDefaultTemplatesGolden(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	text, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: notify.DefaultTextTemplates(), Logger: logger})
	require.NoError(t, err)
	html, err := notify.NewHTMLTemplates(notify.TemplateConfig{Defaults: notify.DefaultHTMLTemplates(), Logger: logger})
	require.NoError(t, err)
	line, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: notify.DefaultLineTemplates(), Logger: logger})
	require.NoError(t, err)

	var got strings.Builder
	ctx := context.Background()
	for _, tc := range templateCases() {
		fmt.Fprintf(&got, "== %s (%s)\n-- text\n%s\n-- html\n%s\n-- line\n%s\n\n", tc.template, tc.message.Event.Type,
			text.Render(ctx, tc.message), html.Render(ctx, tc.message), line.Render(ctx, tc.message))
	}
	assert.Empty(t, log.String(), "no default template fails")

	path := filepath.Join("testdata", "default_templates.golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got.String())
}

// TestDefaultTemplatesPerKind checks that every kind of message is
// rendered by the template of its own name: overriding that name, and
// only that name, changes what it renders.
func TestDefaultTemplatesPerKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	defaults := notify.DefaultTextTemplates()
	for _, tc := range templateCases() {
		require.Contains(t, defaults, tc.template)
		tpl, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: defaults,
			Overrides: map[string]string{tc.template: `override {{.Event.Type}}`}})
		require.NoError(t, err)
		assert.Equal(t, "override "+tc.message.Event.Type, tpl.Render(ctx, tc.message), tc.template)
	}
	for _, name := range []string{"closed", "reopened"} {
		assert.Contains(t, defaults, name)
	}
	assert.Len(t, defaults, len(templateCases()), "a case for every default template")
}

// TestDefaultTemplatesFallBack checks the order of the fallbacks: a
// failing template gives way to the next more general one, and a message
// whose data a template cannot read is still sent.
func TestDefaultTemplatesFallBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var log bytes.Buffer
	tpl, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: notify.DefaultTextTemplates(),
		Overrides: map[string]string{"closed": `{{index .Incident.Labels 9}}`},
		Logger:    slog.New(slog.NewTextHandler(&log, nil))})
	require.NoError(t, err)
	cases := templateCases()
	closed := cases[2].message
	require.False(t, closed.Incident.Open)
	assert.Equal(t, "Closed\nAlice Moreau moved the incident from Lessons Learned to Closed: review done", tpl.Render(ctx, closed),
		"a failing override falls back to the channel's own template of that name")
	assert.Contains(t, log.String(), "template=closed")

	log.Reset()
	status := cases[13].message
	require.Equal(t, "status_update", status.Event.Type)
	status.Event.Data = json.RawMessage(`{"audience":"executives"}`) // no text
	assert.Equal(t, "Alice Moreau posted a status update for executives: Contained to one laptop. Next update at 14:00.",
		tpl.Render(ctx, status), "a template that cannot read the data gives way to the default, the event's sentence")
	assert.Contains(t, log.String(), "template=status_update")

	onlyDefault, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: map[string]string{"default": `{{sentence .}}`},
		Overrides: map[string]string{"phase_changed": `phase {{.Incident.Phase}}`}})
	require.NoError(t, err)
	assert.Equal(t, "phase closed", onlyDefault.Render(ctx, closed), `without a "closed" template, a closing phase change has its type's`)
}

package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// channelDefaults are a channel's own templates.
var channelDefaults = map[string]string{
	"default":       `[{{upper .Incident.Severity}}] {{.Incident.ID}} {{.Incident.Title}}: {{sentence .}}`,
	"phase_changed": `{{.Incident.ID}} is now in {{words .Incident.Phase}} ({{join ", " .Incident.Labels}})`,
}

func templates(t *testing.T, overrides map[string]string, log *bytes.Buffer) *notify.Templates {
	t.Helper()
	tpl, err := notify.NewTextTemplates(notify.TemplateConfig{
		Defaults: channelDefaults, Overrides: overrides,
		Logger: slog.New(slog.NewTextHandler(log, nil)),
	})
	require.NoError(t, err)
	return tpl
}

func TestTemplatesRender(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := notifytest.Message()
	note := m
	note.Event.Type, note.Event.Summary, note.Event.Reason = "note_added", "noted: call the provider at 3", ""

	var log bytes.Buffer
	own := templates(t, nil, &log)
	assert.Equal(t, "INC-000042 is now in eradication (finance, o365)", own.Render(ctx, m), "the event type's template")
	assert.Equal(t, "[HIGH] INC-000042 Credential phishing against the finance team: Alice Moreau noted: call the provider at 3",
		own.Render(ctx, note), "the default for other types")

	overridden := templates(t, map[string]string{
		"default":    `{{.Incident.ID}}: {{sentence .}}`,
		"note_added": `note on {{.Incident.ID}}: {{.Event.Summary | truncate 20}}`,
	}, &log)
	assert.Equal(t, "INC-000042 is now in eradication (finance, o365)", overridden.Render(ctx, m),
		"an override of the default does not replace a type's own template")
	assert.Equal(t, "note on INC-000042: noted: … [truncated]", overridden.Render(ctx, note))
	assert.Empty(t, log.String(), "nothing failed")
}

func TestTemplatesFallBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := notifytest.Message()
	var log bytes.Buffer
	broken := templates(t, map[string]string{"phase_changed": `{{index .Incident.Labels 7}}`}, &log)
	assert.Equal(t, "INC-000042 is now in eradication (finance, o365)", broken.Render(ctx, m),
		"a failing override falls back to the channel's own template")
	assert.Contains(t, log.String(), "level=ERROR")
	assert.Contains(t, log.String(), "template=phase_changed")
	assert.Contains(t, log.String(), "template.set=override")
	assert.Contains(t, log.String(), "message.key=INC-000042/7/1")

	log.Reset()
	m.Incident.Labels = nil
	allBroken, err := notify.NewTextTemplates(notify.TemplateConfig{
		Defaults: map[string]string{"default": `{{index .Incident.Labels 0}}`},
		Logger:   slog.New(slog.NewTextHandler(&log, nil)),
	})
	require.NoError(t, err)
	assert.Equal(t, "Alice Moreau moved the incident from Containment to Eradication: account secured, laptop isolated, indicators blocked",
		allBroken.Render(ctx, m), "when every template fails, the sentence is sent")
	assert.Equal(t, 1, strings.Count(log.String(), "level=ERROR"))
}

func TestHTMLTemplatesEscape(t *testing.T) {
	t.Parallel()
	m := notifytest.Message()
	m.Incident.Title = `<script>alert("x")</script>`
	tpl, err := notify.NewHTMLTemplates(notify.TemplateConfig{Defaults: map[string]string{
		"default": `<h1>{{.Incident.Title}}</h1>{{range .Links}}<a href="{{.URL}}">{{.Title}}</a>{{end}}`,
	}})
	require.NoError(t, err)
	out := tpl.Render(context.Background(), m)
	assert.NotContains(t, out, "<script>")
	assert.Contains(t, out, "&lt;script&gt;")
	assert.Contains(t, out, `<a href="https://ir.example.org/incidents/INC-000042">INC-000042</a>`)

	m.Event.Actor.Name = "<b>Mallory</b>"
	broken, err := notify.NewHTMLTemplates(notify.TemplateConfig{
		Defaults: map[string]string{"default": `{{index .Incident.Labels 9}}`},
		Logger:   slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
	})
	require.NoError(t, err)
	assert.Contains(t, broken.Render(context.Background(), m), "&lt;b&gt;Mallory&lt;/b&gt;", "the fallback sentence is escaped too")
}

func TestNewTemplatesReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := notify.NewTextTemplates(notify.TemplateConfig{
		Defaults:  map[string]string{"phase_changed": `{{.Incident.ID`},
		Overrides: map[string]string{"Phase Changed": `x`, "opened": `{{nosuchfunc .}}`},
	})
	require.ErrorIs(t, err, notify.ErrInvalid)
	var ie *notify.InputError
	require.ErrorAs(t, err, &ie)
	assert.Len(t, ie.Problems, 4, "%v", err)
	for _, want := range []string{`named "default"`, `"phase_changed": does not parse`, `"Phase Changed"`, `"opened": does not parse`} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestTemplatesConcurrent(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	var mu sync.Mutex
	tpl, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: channelDefaults,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &log, mu: &mu}, nil))})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m := notifytest.Message()
			m.Incident.ID = fmt.Sprintf("INC-%06d", i)
			assert.Equal(t, m.Incident.ID+" is now in eradication (finance, o365)", tpl.Render(context.Background(), m))
		})
	}
	wg.Wait()
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 100 characters, 200 bytes
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"runes fit", notify.TruncateRunes("short", 5), "short"},
		{"runes cut", notify.TruncateRunes("abcdefghijklmnopqrstuvwxyz", 20), "abcdefg" + notify.TruncationMarker},
		{"runes too few for the marker", notify.TruncateRunes("abcdefghijklmnopqrstuvwxyz", 5), "abcde"},
		{"runes zero", notify.TruncateRunes("abc", 0), ""},
		{"bytes fit", notify.TruncateBytes("short", 5), "short"},
		{"bytes cut", notify.TruncateBytes("abcdefghijklmnopqrstuvwxyz", 20), "abcde" + notify.TruncationMarker},
		{"bytes too few for the marker", notify.TruncateBytes(long, 5), "éé"},
		{"bytes negative", notify.TruncateBytes("abc", -1), ""},
	} {
		assert.Equal(t, tc.want, tc.got, tc.name)
	}
	for n := 0; n <= 210; n++ {
		b := notify.TruncateBytes(long, n)
		assert.LessOrEqual(t, len(b), n)
		assert.True(t, utf8.ValidString(b), "cut on a character boundary at %d", n)
		r := notify.TruncateRunes(long, n)
		assert.LessOrEqual(t, utf8.RuneCountInString(r), n)
		if n < 100 && n > utf8.RuneCountInString(notify.TruncationMarker) {
			assert.True(t, strings.HasSuffix(b, notify.TruncationMarker) || len(b) <= len(notify.TruncationMarker)+1, "%d: %q", n, b)
			assert.True(t, strings.HasSuffix(r, notify.TruncationMarker), "%d", n)
		}
	}
}

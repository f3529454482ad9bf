package ir_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// TestDefaultTemplatesReadMessages renders the messages a Responder
// leaves for the events people follow with notify's default templates: no
// template fails on the data the Responder writes, and each message is
// rendered by the template of its kind, a closing and a reopening phase
// change included.
func TestDefaultTemplatesReadMessages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOutbox)
	n := phishing()
	n.Observables = []ir.Observable{{Type: ir.ObservableIP, Value: "203.0.113.47"}}
	inc := h.open(n)
	h.assign(inc.ID, ir.RoleCommander, testAlice)
	_, err := h.r.AddNote(h.ctx, testAlice, inc.ID, "the provider calls back at 3")
	require.NoError(t, err)
	_, err = h.r.SetSeverity(h.ctx, testAlice, inc.ID, ir.SeverityCritical, "payroll data involved")
	require.NoError(t, err)
	_, err = h.r.SetPriority(h.ctx, testAlice, inc.ID, ir.PriorityP1, "")
	require.NoError(t, err)
	h.transition(inc.ID, phases.Identify)
	h.verdict(inc.ID, ir.VerdictBenign)
	_, err = h.r.Close(h.ctx, testAlice, inc.ID, "a phishing test")
	require.NoError(t, err)
	_, err = h.r.Reopen(h.ctx, testAlice, inc.ID, "not a test after all")
	require.NoError(t, err)
	_, err = h.r.PostStatus(h.ctx, testAlice, inc.ID, notify.AudienceExecutives, "Contained to one laptop.")
	require.NoError(t, err)
	_, err = h.r.RecordNotificationFailed(h.ctx, testAlice, notify.Delivery{ID: 9, Incident: string(inc.ID), Channel: "mail",
		Key: string(inc.ID) + "/1/1", Type: string(ir.EventOpened), Attempts: 5, LastError: "554 refused"})
	require.NoError(t, err)
	_, err = h.r.Unassign(h.ctx, testAlice, inc.ID, ir.RoleCommander, testAlice, "")
	require.NoError(t, err)

	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	text, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: notify.DefaultTextTemplates(), Logger: logger})
	require.NoError(t, err)
	html, err := notify.NewHTMLTemplates(notify.TemplateConfig{Defaults: notify.DefaultHTMLTemplates(), Logger: logger})
	require.NoError(t, err)
	line, err := notify.NewTextTemplates(notify.TemplateConfig{Defaults: notify.DefaultLineTemplates(), Logger: logger})
	require.NoError(t, err)

	var headlines []string
	for _, e := range h.claimAll() {
		m, err := e.Message()
		require.NoError(t, err)
		got := text.Render(h.ctx, m)
		html.Render(h.ctx, m)
		line.Render(h.ctx, m)
		headline, _, _ := strings.Cut(got, "\n")
		headlines = append(headlines, m.Event.Type+": "+headline)
	}
	assert.Empty(t, log.String(), "no default template fails on what the Responder writes")
	assert.Equal(t, []string{
		"opened: New incident, high severity",
		"observable_added: Alice Moreau recorded ip 203.0.113.47",
		"role_assigned: Role assigned: incident commander",
		"note_added: Note",
		"severity_changed: Severity: critical",
		"priority_changed: Priority: P1",
		"phase_changed: Phase: identification",
		"verdict_set: Verdict: benign",
		"phase_changed: Closed",
		"phase_changed: Reopened, in identification",
		"status_update: Status update for executives",
		"notification_failed: Notification failed on channel mail",
		"role_unassigned: Role unassigned: incident commander",
	}, headlines)
}

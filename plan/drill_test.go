package plan_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
	"github.com/incidentkit/incidentkit/plan"
)

var drillStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// drillPlan is a plan with the built-in phishing playbook, an incident
// commander and an analyst on duty, and no technical lead on duty.
func drillPlan() *plan.Plan {
	return &plan.Plan{
		Name:  "acme-security",
		Model: phases.SANS.Name(),
		Team: []plan.Member{
			{ID: "alice", Name: "Alice Moreau", Roles: []ir.Role{ir.RoleCommander}, OnDuty: []ir.Role{ir.RoleCommander}},
			{ID: "bob", Name: "Bob Okafor", Roles: []ir.Role{ir.RoleAnalyst}, OnDuty: []ir.Role{ir.RoleAnalyst}},
			{ID: "raj", Name: "Raj Patel", Roles: []ir.Role{ir.RoleTechnicalLead}},
		},
		Playbooks: []plan.Playbook{plan.Phishing()},
	}
}

// pagingRouting pages on every serious event, through a route that accepts
// exercises, and keeps a log of all.
const pagingRouting = `{
  "channels": [{"name": "pager"}, {"name": "chat"}, {"name": "drills"}],
  "routes": [
    {"name": "page everyone", "min_severity": "high", "channels": ["pager"], "exercises": true, "continue": true},
    {"name": "chat", "channels": ["chat"], "continue": true},
    {"name": "drills", "channels": ["drills"], "exercises": true}
  ]
}`

func pagingRouter(t *testing.T) *notify.Router {
	t.Helper()
	cfg, err := notify.LoadRouting(strings.NewReader(pagingRouting))
	require.NoError(t, err)
	r, err := notify.NewRouter(cfg)
	require.NoError(t, err)
	return r
}

var raj = ir.Actor{ID: "raj", Name: "Raj Patel"}

// phishingDrill identifies a phishing e-mail, tries to contain it before
// the identification tasks are done, does them, and contains it.
func phishingDrill(router *notify.Router) plan.Drill {
	return plan.Drill{
		Name:   "phishing tabletop",
		Start:  drillStart,
		Router: router,
		Steps: []plan.DrillStep{
			plan.DrillOpen("Payroll phishing wave", ir.SeverityHigh, ir.CategoryPhishing),
			plan.DrillTransition(phases.Identify, "reported by finance"),
			plan.DrillAdvance(20 * time.Minute),
			plan.DrillCompleteTask("collect-message", "headers saved"),
			plan.DrillTransition(phases.Contain, "spreading"),
			plan.DrillCompleteTask("find-recipients", "12 recipients, 2 clicked"),
			plan.DrillCompleteTask("Record the sender, links and attachment hashes as observables", ""),
			plan.DrillTransition(phases.Contain, "spreading"),
			plan.DrillAssign(ir.RoleTechnicalLead, raj),
			plan.DrillPostStatus(notify.AudienceExecutives, "Contained within the hour."),
			plan.DrillAdvance(3 * time.Hour),
			plan.DrillCompleteRequired().By(raj),
			plan.DrillTransition(phases.Eradicate, ""),
		},
	}
}

func TestDrillOfThePhishingPlaybook(t *testing.T) {
	t.Parallel()
	rep, err := plan.RunDrill(context.Background(), drillPlan(), phishingDrill(pagingRouter(t)))
	require.NoError(t, err)

	require.Len(t, rep.Steps, 13)
	for _, s := range rep.Steps {
		want := plan.StepDone
		if s.N == 5 {
			want = plan.StepBlocked
		}
		assert.Equal(t, want, s.Outcome, "step %d (%s): %v", s.N, s.Step, s.Err)
	}
	blocked := rep.Blocked()
	require.Len(t, blocked, 1)
	assert.True(t, errors.Is(blocked[0].Err, phases.ErrGuardFailed))
	require.Len(t, blocked[0].Reasons, 1)
	assert.Contains(t, blocked[0].Reasons[0], "Find every recipient", "the reason names the undone required task")
	assert.Contains(t, blocked[0].Reasons[0], "Record the sender")
	assert.NotContains(t, blocked[0].Reasons[0], "Collect the reported message", "done already")
	assert.Equal(t, drillStart.Add(20*time.Minute), blocked[0].At, "on the drill's clock")

	inc := rep.Incident
	require.NotNil(t, inc)
	assert.True(t, inc.Exercise)
	assert.Equal(t, phases.Eradication, inc.Phase)
	assert.Equal(t, drillStart.Add(3*time.Hour+20*time.Minute), rep.End)

	// The playbook's tasks of identification, containment and
	// eradication, each added once although containment was tried twice.
	var keys []string
	for _, tk := range rep.Tasks {
		keys = append(keys, tk.Task.Key)
	}
	assert.Equal(t, []string{"phishing/collect-message", "phishing/find-recipients", "phishing/record-indicators",
		"phishing/block-indicators", "phishing/purge-message", "phishing/reset-credentials",
		"phishing/check-mailbox-rules", "phishing/scan-endpoints"}, keys)
	assert.Equal(t, 2, rep.Tasks[0].Step, "identification's tasks come with the transition into it")
	assert.True(t, rep.Tasks[3].Unowned, "nobody was technical lead when containment began")
	assert.Equal(t, []ir.Role{ir.RoleTechnicalLead}, rep.MissingRoles())
	assert.Equal(t, "bob", rep.Tasks[0].Task.Assignee.ID, "the analyst on duty")

	// Every event would have paged through the exercise route, and the
	// chat route that does not take exercises held its channel back.
	require.NotEmpty(t, rep.Notifications)
	for _, n := range rep.Notifications {
		assert.True(t, n.Message.Incident.Exercise)
		assert.Equal(t, []notify.Target{{Channel: "pager", Route: "page everyone"}, {Channel: "drills", Route: "drills"}}, n.Deliver,
			"%s", n.Message.Event.Type)
		require.Len(t, n.Held, 1)
		assert.Equal(t, "chat", n.Held[0].Channel)
		assert.True(t, n.Held[0].Exercise)
	}
	first := rep.Notifications[0].Message
	assert.Equal(t, "opened", first.Event.Type)
	assert.Contains(t, first.Event.Summary, "opened exercise")
	assert.Equal(t, string(inc.ID)+"/1/1", first.Key)
	var status int
	for _, n := range rep.Notifications {
		if n.Message.Event.Type == string(ir.EventStatusUpdate) {
			status++
			assert.Equal(t, notify.AudienceExecutives, n.Message.Audience)
		}
	}
	assert.Equal(t, 1, status)
	assert.Empty(t, rep.Deadlines, "no deadlines without clocks or Drill.Deadlines")

	var md bytes.Buffer
	require.NoError(t, rep.Markdown(&md))
	out := md.String()
	assert.Contains(t, out, "# Drill report: phishing tabletop")
	assert.Contains(t, out, "**EXERCISE:**")
	assert.Contains(t, out, "1 of 13 steps blocked")
	assert.Contains(t, out, "| 5 | 2026-03-02 09:20:00 | take action contain | **blocked** |")
	assert.Contains(t, out, "**nobody holds the role**")
	assert.Contains(t, out, "Roles the playbook's tasks name that nobody held: technical lead.")
	assert.Contains(t, out, "chat: route \"chat\" does not take exercises")
	assert.Contains(t, out, "The incident carried no deadlines.")
}

// countingNotifier counts the messages it is given.
type countingNotifier struct{ calls atomic.Int64 }

func (n *countingNotifier) Notify(context.Context, notify.Message) (notify.Receipt, error) {
	n.calls.Add(1)
	return notify.Receipt{}, nil
}

func TestDrillPagesNoOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	router := pagingRouter(t)
	// A store with a dispatcher reading its outbox, with a pager that
	// would take every message about an exercise.
	store := ir.NewMemoryStore()
	pager, chat, drills := &countingNotifier{}, &countingNotifier{}, &countingNotifier{}
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: store, Deliveries: store, Router: router,
		Channels: map[string]notify.Notifier{"pager": pager, "chat": chat, "drills": drills}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })

	drill := phishingDrill(router)
	drill.Store = store
	var configured bool
	drill.Configure = func(cfg *ir.Config) {
		// Even a configuration asking for outbox messages gets none.
		cfg.Outbox, cfg.Store, configured = true, nil, true
	}
	rep, err := plan.RunDrill(ctx, drillPlan(), drill)
	require.NoError(t, err)
	var wouldPage int
	for _, n := range rep.Notifications {
		for _, t := range n.Deliver {
			if t.Channel == "pager" {
				wouldPage++
			}
		}
	}
	assert.Positive(t, wouldPage, "the report says what would have paged")
	assert.True(t, configured)

	n, err := d.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the drill left nothing in the outbox")
	assert.Zero(t, pager.calls.Load()+chat.calls.Load()+drills.calls.Load(), "no notifier was called")

	stored, err := store.Get(ctx, rep.Incident.ID)
	require.NoError(t, err)
	assert.True(t, stored.Exercise, "the drill's incident is kept as an exercise")
}

func TestDrillStepsWithoutAnIncident(t *testing.T) {
	t.Parallel()
	rep, err := plan.RunDrill(context.Background(), drillPlan(), plan.Drill{Start: drillStart, Steps: []plan.DrillStep{
		plan.DrillTransition(phases.Identify, ""),
		plan.DrillOpen("", ir.SeverityHigh, ir.CategoryPhishing),
		plan.DrillOpen("Phish", ir.SeverityHigh, ir.CategoryPhishing),
		plan.DrillOpen("Phish again", ir.SeverityHigh, ir.CategoryPhishing),
		plan.DrillCompleteTask("no-such-task", ""),
		plan.DrillAdvance(-time.Minute),
	}})
	require.NoError(t, err)
	var outcomes []plan.StepOutcome
	for _, s := range rep.Steps {
		outcomes = append(outcomes, s.Outcome)
	}
	assert.Equal(t, []plan.StepOutcome{plan.StepSkipped, plan.StepFailed, plan.StepDone, plan.StepFailed, plan.StepFailed, plan.StepFailed}, outcomes)
	assert.Nil(t, rep.Steps[0].Err)
	assert.ErrorIs(t, rep.Steps[1].Err, ir.ErrInvalid, "an open without a title")
	for _, n := range rep.Notifications {
		assert.Equal(t, 3, n.Step, "only the opening was notified: %s", n.Message.Event.Type)
	}
	assert.Equal(t, "Alice Moreau", rep.Incident.OpenedBy.Name, "the commander on duty takes the steps")
}

func TestDrillRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, err := plan.RunDrill(ctx, nil, plan.Drill{})
	assert.ErrorIs(t, err, plan.ErrInvalidPlan)
	_, err = plan.RunDrill(ctx, &plan.Plan{Name: "empty"}, plan.Drill{})
	var ve *plan.ValidationError
	assert.ErrorAs(t, err, &ve)
	_, err = plan.RunDrill(ctx, drillPlan(), plan.Drill{Steps: []plan.DrillStep{{Kind: "dance"}}})
	assert.ErrorIs(t, err, ir.ErrInvalid)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = plan.RunDrill(cancelled, drillPlan(), phishingDrill(nil))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestDrillReportsMissedDeadlines(t *testing.T) {
	t.Parallel()
	drill := phishingDrill(nil)
	// Contain within an hour of opening; tell the executives within four.
	drill.Deadlines = func(inc *ir.Incident, now time.Time) []plan.Deadline {
		return []plan.Deadline{
			{Name: "executives", Title: "Tell the executives", Due: inc.Times.Opened.Add(4 * time.Hour), StoppedAt: drillStart.Add(20 * time.Minute)},
			{Name: "contain", Title: "Contain", Due: inc.Times.Opened.Add(time.Hour), StoppedAt: inc.Times.Contained},
			{Name: "eradicate", Title: "Eradicate", Due: inc.Times.Opened.Add(48 * time.Hour)},
		}
	}
	rep, err := plan.RunDrill(context.Background(), drillPlan(), drill)
	require.NoError(t, err)
	require.Len(t, rep.Deadlines, 3)
	missed := rep.Missed()
	require.Len(t, missed, 1)
	assert.Equal(t, "contain", missed[0].Name, "contained at 12:20, due at 10:00")
	assert.Equal(t, "contain", rep.Deadlines[0].Name, "missed ones first")
	var md bytes.Buffer
	require.NoError(t, rep.Markdown(&md))
	assert.Contains(t, md.String(), "| Contain | 2026-03-02 10:00:00 | 2026-03-02 12:20:00 | **missed** |")
	assert.Contains(t, md.String(), "| Eradicate | 2026-03-04 09:00:00 | — | running |")
	assert.Contains(t, md.String(), "1 deadline missed")
}

// TestDrillReportsMissedClocks runs the phishing drill with the response
// deadlines its Responder would have: containment within an hour of a
// high-severity incident's detection is missed (it comes at 12:20), and the
// drill's report and timeline say so, as the clock runner would have.
func TestDrillReportsMissedClocks(t *testing.T) {
	t.Parallel()
	drill := phishingDrill(nil)
	drill.Configure = func(cfg *ir.Config) {
		cfg.ResponseDeadlines = ir.ResponseDeadlines{ir.SeverityHigh: {Contain: time.Hour, Resolve: 72 * time.Hour}}
	}
	rep, err := plan.RunDrill(context.Background(), drillPlan(), drill)
	require.NoError(t, err)
	missed := rep.Missed()
	require.Len(t, missed, 1)
	assert.Equal(t, ir.ClockContain, missed[0].Name)
	assert.Equal(t, drillStart.Add(time.Hour), missed[0].Due)
	names := make([]string, len(rep.Deadlines))
	for i, d := range rep.Deadlines {
		names[i] = d.Name
	}
	assert.Equal(t, []string{ir.ClockContain, ir.ClockResolve}, names, "missed ones first")
	inc := rep.Incident
	c, ok := inc.Clock(ir.ClockContain)
	require.True(t, ok)
	assert.True(t, c.Missed, "the advance past the deadline recorded it missed")
	var md bytes.Buffer
	require.NoError(t, rep.Markdown(&md))
	assert.Contains(t, md.String(), "1 deadline missed")
}

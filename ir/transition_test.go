package ir_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// lifeStep is one step of an incident's life. Exactly one of action,
// assign, review and verdict is set.
type lifeStep struct {
	action phases.Action
	// assign gives Alice the incident commander role.
	assign bool
	// review records a post-incident review with a root cause.
	review bool
	// verdict sets the verdict.
	verdict ir.Verdict
	// to is the phase the action enters.
	to phases.Phase
	// sets are the lifecycle times the step sets to its time; clears the
	// ones it clears.
	sets, clears []phases.Milestone
}

// setMilestone sets the lifecycle time of milestone m in lc.
func setMilestone(t *testing.T, lc *ir.Lifecycle, m phases.Milestone, at time.Time) {
	t.Helper()
	switch m {
	case phases.MilestoneAcknowledged:
		lc.Acknowledged = at
	case phases.MilestoneContained:
		lc.Contained = at
	case phases.MilestoneEradicated:
		lc.Eradicated = at
	case phases.MilestoneRecovered:
		lc.Recovered = at
	case phases.MilestoneResolved:
		lc.Resolved = at
	case phases.MilestoneClosed:
		lc.Closed = at
	default:
		t.Fatalf("unknown milestone %q", m)
	}
}

type ms = []phases.Milestone

var (
	ack        = phases.MilestoneAcknowledged
	contained  = phases.MilestoneContained
	eradicated = phases.MilestoneEradicated
	recovered  = phases.MilestoneRecovered
	resolved   = phases.MilestoneResolved
	closed     = phases.MilestoneClosed
)

// lifecycles walks every built-in model from opening to closing, through
// the loop back to containment, a reopening and a second closing. sets
// lists only the times a step newly sets: entering a phase never moves a
// time that is already set.
var lifecycles = []struct {
	model *phases.Model
	steps []lifeStep
}{
	{phases.SANS, []lifeStep{
		{action: phases.Identify, to: phases.Identification, sets: ms{ack}},
		{assign: true},
		{action: phases.Contain, to: phases.Containment},
		{action: phases.Eradicate, to: phases.Eradication, sets: ms{contained}},
		{action: phases.Recover, to: phases.Recovery, sets: ms{eradicated}},
		{action: phases.ReturnToContainment, to: phases.Containment},
		{action: phases.Eradicate, to: phases.Eradication},
		{action: phases.Recover, to: phases.Recovery},
		{action: phases.Review, to: phases.LessonsLearned, sets: ms{recovered, resolved}},
		{verdict: ir.VerdictTruePositive},
		{review: true},
		{action: phases.Close, to: phases.Closed, sets: ms{closed}},
		{action: phases.Reopen, to: phases.Identification, clears: ms{resolved, closed}},
		{action: phases.Contain, to: phases.Containment},
		{action: phases.Eradicate, to: phases.Eradication},
		{action: phases.Recover, to: phases.Recovery},
		{action: phases.Review, to: phases.LessonsLearned, sets: ms{resolved}},
		{action: phases.Close, to: phases.Closed, sets: ms{closed}},
	}},
	{phases.NIST, []lifeStep{
		{action: phases.Detect, to: phases.DetectionAndAnalysis, sets: ms{ack}},
		{assign: true},
		{action: phases.Contain, to: phases.ContainmentEradicationRecovery},
		{action: phases.ReturnToAnalysis, to: phases.DetectionAndAnalysis},
		{action: phases.Contain, to: phases.ContainmentEradicationRecovery},
		{action: phases.Review, to: phases.PostIncidentActivity, sets: ms{contained, eradicated, recovered, resolved}},
		// Going back to containment after the review began undoes the
		// resolution; the review resolves it again.
		{action: phases.ReturnToContainment, to: phases.ContainmentEradicationRecovery, clears: ms{resolved}},
		{action: phases.Review, to: phases.PostIncidentActivity, sets: ms{resolved}},
		{verdict: ir.VerdictTruePositive},
		{review: true},
		{action: phases.Close, to: phases.Closed, sets: ms{closed}},
		{action: phases.Reopen, to: phases.DetectionAndAnalysis, clears: ms{resolved, closed}},
		{action: phases.Contain, to: phases.ContainmentEradicationRecovery},
		{action: phases.Review, to: phases.PostIncidentActivity, sets: ms{resolved}},
		{action: phases.Close, to: phases.Closed, sets: ms{closed}},
	}},
	{phases.DACER, []lifeStep{
		{action: phases.Analyze, to: phases.Analysis, sets: ms{ack}},
		{assign: true},
		{action: phases.Contain, to: phases.Containment},
		{action: phases.Eradicate, to: phases.Eradication, sets: ms{contained}},
		{action: phases.Recover, to: phases.Recovery, sets: ms{eradicated}},
		{action: phases.ReturnToContainment, to: phases.Containment},
		{action: phases.Eradicate, to: phases.Eradication},
		{action: phases.Recover, to: phases.Recovery},
		{verdict: ir.VerdictTruePositive},
		{action: phases.Close, to: phases.Closed, sets: ms{recovered, resolved, closed}},
		{action: phases.Reopen, to: phases.Analysis, clears: ms{resolved, closed}},
		{action: phases.Contain, to: phases.Containment},
		{action: phases.Eradicate, to: phases.Eradication},
		{action: phases.Recover, to: phases.Recovery},
		{action: phases.Close, to: phases.Closed, sets: ms{resolved, closed}},
	}},
	{phases.ICARP, []lifeStep{
		{assign: true, sets: ms{ack}},
		{action: phases.Contain, to: phases.Containment},
		{action: phases.Assess, to: phases.Assessment, sets: ms{contained}},
		{action: phases.ReturnToContainment, to: phases.Containment},
		{action: phases.Assess, to: phases.Assessment},
		{action: phases.Remediate, to: phases.Remediation},
		{action: phases.Review, to: phases.PostIncidentReview, sets: ms{eradicated, recovered, resolved}},
		{verdict: ir.VerdictTruePositive},
		{review: true},
		{action: phases.Close, to: phases.Closed, sets: ms{closed}},
		{action: phases.Reopen, to: phases.Identification, clears: ms{resolved, closed}},
		{action: phases.Contain, to: phases.Containment},
		{action: phases.Assess, to: phases.Assessment},
		{action: phases.Remediate, to: phases.Remediation},
		{action: phases.Review, to: phases.PostIncidentReview, sets: ms{resolved}},
		{action: phases.Close, to: phases.Closed, sets: ms{closed}},
	}},
}

func TestLifecycleOfEveryBuiltinModel(t *testing.T) {
	t.Parallel()
	for _, lc := range lifecycles {
		t.Run(lc.model.Name(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withModel(lc.model))
			opened := h.clock.Now()
			detected := opened.Add(-20 * time.Minute)
			inc, err := h.r.Open(h.ctx, testBot, ir.NewIncident{
				Title: "Malware beaconing", Severity: ir.SeverityHigh, Category: ir.CategoryMalware,
				OccurredAt: opened.Add(-time.Hour), DetectedAt: detected,
			})
			require.NoError(t, err)

			wantTimes := ir.Lifecycle{Occurred: opened.Add(-time.Hour), Detected: detected, Reported: opened, Opened: opened}
			wantHistory := []ir.PhaseInterval{{Phase: lc.model.Initial(), Entered: opened}}
			var wantChanges []ir.PhaseChanged
			phase := lc.model.Initial()

			for i, step := range lc.steps {
				// A different time for every step, so that each time set
				// can be told apart.
				now := h.clock.Advance(time.Duration(i+1) * 11 * time.Minute)
				switch {
				case step.assign:
					inc = h.assign(inc.ID, ir.RoleCommander, testAlice)
				case step.verdict != "":
					inc = h.verdict(inc.ID, step.verdict)
				case step.review:
					inc = h.review(inc.ID)
				default:
					reason := "step " + string(step.action)
					var err error
					if step.action == phases.Close || step.action == phases.Reopen {
						// Close and Reopen find these actions themselves.
						if step.action == phases.Close {
							inc, err = h.r.Close(h.ctx, testAlice, inc.ID, reason)
						} else {
							inc, err = h.r.Reopen(h.ctx, testAlice, inc.ID, reason)
						}
					} else {
						inc, err = h.r.Transition(h.ctx, testAlice, inc.ID, step.action, reason)
					}
					require.NoErrorf(t, err, "step %d: %s from %s", i+1, step.action, phase)
					wantHistory[len(wantHistory)-1].Left = now
					wantHistory = append(wantHistory, ir.PhaseInterval{Phase: step.to, Action: step.action, Entered: now})
					wantChanges = append(wantChanges, ir.PhaseChanged{Action: step.action, From: phase, To: step.to})
					phase = step.to
				}
				for _, m := range step.sets {
					setMilestone(t, &wantTimes, m, now)
				}
				for _, m := range step.clears {
					setMilestone(t, &wantTimes, m, time.Time{})
				}

				assert.Equalf(t, phase, inc.Phase, "step %d", i+1)
				assert.Equalf(t, wantTimes, inc.Times, "step %d (%s): lifecycle times", i+1, step.action)
				assert.Equalf(t, phase != phases.Closed, inc.IsOpen(), "step %d: IsOpen in %s", i+1, phase)
				assert.Equalf(t, wantHistory, inc.PhaseHistory, "step %d: phase history", i+1)
				assert.Equalf(t, inc, h.stored(inc.ID), "step %d: the store agrees", i+1)
			}
			assert.Equal(t, phases.Closed, inc.Phase, "the walk ends closed")

			var gotChanges []ir.PhaseChanged
			for _, e := range eventsOfType(h.timeline(inc.ID), ir.EventPhaseChanged) {
				gotChanges = append(gotChanges, *dataOf[*ir.PhaseChanged](t, e))
				assert.Equal(t, testAlice, e.Actor)
				assert.Equal(t, "step "+string(dataOf[*ir.PhaseChanged](t, e).Action), e.Reason)
			}
			assert.Equal(t, wantChanges, gotChanges, "the timeline records every transition")

			// Every stay but the last has been left, and stays follow one
			// another without gaps.
			for i, stay := range inc.PhaseHistory {
				if i == len(inc.PhaseHistory)-1 {
					assert.True(t, stay.Left.IsZero(), "the current stay has not been left")
					continue
				}
				assert.Equal(t, inc.PhaseHistory[i+1].Entered, stay.Left)
				assert.True(t, stay.Left.After(stay.Entered))
			}
		})
	}
}

func TestRequiredTasksHoldTheIncidentInItsPhase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	h.transition(inc.ID, phases.Identify)
	h.assign(inc.ID, ir.RoleCommander, testAlice)
	h.transition(inc.ID, phases.Contain)
	for _, task := range []ir.NewTask{
		{Title: "Revoke sessions", Required: true},
		{Title: "Tell the CFO"},
		{Title: "Reimage laptops", Phase: phases.Eradication, Required: true},
	} {
		_, err := h.r.AddTask(h.ctx, testAlice, inc.ID, task)
		require.NoError(t, err)
	}

	_, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Eradicate, "")
	require.ErrorIs(t, err, phases.ErrGuardFailed)
	var ge *phases.GuardError
	require.ErrorAs(t, err, &ge)
	require.Len(t, ge.Refusals, 1)
	assert.Equal(t, "tasks_done", ge.Refusals[0].Guard)
	assert.Contains(t, ge.Refusals[0].Reason.Error(), "Revoke sessions")
	assert.NotContains(t, err.Error(), "Tell the CFO", "optional tasks do not hold the incident")
	assert.NotContains(t, err.Error(), "Reimage laptops", "tasks of other phases do not hold the incident")

	_, err = h.r.CompleteTask(h.ctx, testBob, inc.ID, 1, "all sessions revoked")
	require.NoError(t, err)
	got, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Eradicate, "")
	require.NoError(t, err)
	assert.Equal(t, phases.Eradication, got.Phase)

	_, err = h.r.Transition(h.ctx, testAlice, inc.ID, phases.Recover, "")
	assert.ErrorIs(t, err, phases.ErrGuardFailed, "the eradication task is not done")
	assert.Contains(t, err.Error(), "Reimage laptops")
}

func TestDismissFalsePositiveFromTriage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model  *phases.Model
		before []phases.Action // actions that reach a triage phase
		triage phases.Phase
	}{
		{phases.SANS, nil, phases.Preparation},
		{phases.SANS, []phases.Action{phases.Identify}, phases.Identification},
		{phases.NIST, []phases.Action{phases.Detect}, phases.DetectionAndAnalysis},
		{phases.DACER, nil, phases.Detection},
		{phases.DACER, []phases.Action{phases.Analyze}, phases.Analysis},
		{phases.ICARP, nil, phases.Identification},
	}
	for _, tt := range tests {
		t.Run(tt.model.Name()+"/"+string(tt.triage), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withModel(tt.model))
			inc := h.open(phishing())
			for _, a := range tt.before {
				h.transition(inc.ID, a)
			}
			require.Equal(t, tt.triage, h.stored(inc.ID).Phase)

			_, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Dismiss, "")
			assert.ErrorIs(t, err, phases.ErrGuardFailed, "no verdict yet")
			h.verdict(inc.ID, ir.VerdictTruePositive)
			_, err = h.r.Transition(h.ctx, testAlice, inc.ID, phases.Dismiss, "")
			assert.ErrorIs(t, err, phases.ErrGuardFailed, "a true positive is not dismissed")
			assert.Contains(t, err.Error(), "false_positive")

			h.verdict(inc.ID, ir.VerdictFalsePositive)
			now := h.clock.Advance(17 * time.Minute)
			got, err := h.r.Close(h.ctx, testAlice, inc.ID, "the scanner again")
			require.NoError(t, err)
			assert.Equal(t, phases.Closed, got.Phase)
			assert.False(t, got.IsOpen())
			assert.Equal(t, now, got.Times.Closed)
			assert.Equal(t, now, got.Times.Resolved)
			assert.True(t, got.Times.Contained.IsZero(), "a dismissed incident was never contained")
			last := got.PhaseHistory[len(got.PhaseHistory)-1]
			assert.Equal(t, ir.PhaseInterval{Phase: phases.Closed, Action: phases.Dismiss, Entered: now}, last)

			tl := h.timeline(inc.ID)
			changed := dataOf[*ir.PhaseChanged](t, tl[len(tl)-1])
			assert.Equal(t, ir.PhaseChanged{Action: phases.Dismiss, From: tt.triage, To: phases.Closed}, *changed)
		})
	}
}

func TestTransitionFromAStaleReadUsesTheFreshIncident(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	h.transition(inc.ID, phases.Identify)

	// inc is stale now: it is still in Preparation. The Responder works
	// from the stored incident, not from what the caller last saw.
	_, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Identify, "")
	assert.ErrorIs(t, err, phases.ErrInvalidTransition)
	got, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Dismiss, "")
	assert.ErrorIs(t, err, phases.ErrGuardFailed)
	assert.Nil(t, got)
}

func TestReopenRefusesAnOpenIncident(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		model *phases.Model
		steps func(h *harness, id ir.ID)
	}{
		{name: "sans/preparation", model: phases.SANS},
		{name: "sans/identification", model: phases.SANS, steps: func(h *harness, id ir.ID) {
			h.transition(id, phases.Identify)
		}},
		{name: "sans/identification with a commander", model: phases.SANS, steps: func(h *harness, id ir.ID) {
			h.transition(id, phases.Identify)
			h.assign(id, ir.RoleCommander, testAlice)
		}},
		{name: "sans/containment", model: phases.SANS, steps: func(h *harness, id ir.ID) {
			h.transition(id, phases.Identify)
			h.assign(id, ir.RoleCommander, testAlice)
			h.transition(id, phases.Contain)
		}},
		{name: "nist/preparation", model: phases.NIST},
		{name: "dacer/detection", model: phases.DACER},
		{name: "icarp/identification with a commander", model: phases.ICARP, steps: func(h *harness, id ir.ID) {
			h.assign(id, ir.RoleCommander, testAlice)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withModel(tt.model))
			inc := h.open(phishing())
			if tt.steps != nil {
				tt.steps(h, inc.ID)
			}
			before, events := h.snapshot(inc.ID)
			require.True(t, before.IsOpen())

			got, err := h.r.Reopen(h.ctx, testAlice, inc.ID, "reopen what is open")
			assert.ErrorIs(t, err, phases.ErrInvalidTransition, "an open incident cannot be reopened")
			if got != nil {
				assert.Equal(t, before.Phase, got.Phase, "Reopen moved an open incident on from %s", before.Phase)
			}
			h.assertUnchanged(t, before, events)
		})
	}
}

package phases_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

type step struct {
	action phases.Action
	want   phases.Phase
}

// builtinWalks lists, for each built-in model, walks that each start in the
// model's initial phase. Together they take every edge of the model: the
// forward path to Closed, every loop back, Dismiss from each triage phase and
// Reopen from Closed.
var builtinWalks = map[*phases.Model][][]step{
	phases.SANS: {
		{
			{phases.Identify, phases.Identification},
			{phases.Contain, phases.Containment},
			{phases.Eradicate, phases.Eradication},
			{phases.ReturnToContainment, phases.Containment},
			{phases.Eradicate, phases.Eradication},
			{phases.Recover, phases.Recovery},
			{phases.ReturnToContainment, phases.Containment},
			{phases.Eradicate, phases.Eradication},
			{phases.Recover, phases.Recovery},
			{phases.Review, phases.LessonsLearned},
			{phases.Close, phases.Closed},
			{phases.Reopen, phases.Identification},
			{phases.Dismiss, phases.Closed},
		},
		{{phases.Dismiss, phases.Closed}},
	},
	phases.NIST: {
		{
			{phases.Detect, phases.DetectionAndAnalysis},
			{phases.Contain, phases.ContainmentEradicationRecovery},
			{phases.ReturnToAnalysis, phases.DetectionAndAnalysis},
			{phases.Contain, phases.ContainmentEradicationRecovery},
			{phases.Review, phases.PostIncidentActivity},
			{phases.ReturnToContainment, phases.ContainmentEradicationRecovery},
			{phases.Review, phases.PostIncidentActivity},
			{phases.Close, phases.Closed},
			{phases.Reopen, phases.DetectionAndAnalysis},
			{phases.Dismiss, phases.Closed},
		},
		{{phases.Dismiss, phases.Closed}},
	},
	phases.DACER: {
		{
			{phases.Analyze, phases.Analysis},
			{phases.Contain, phases.Containment},
			{phases.Eradicate, phases.Eradication},
			{phases.ReturnToContainment, phases.Containment},
			{phases.Eradicate, phases.Eradication},
			{phases.Recover, phases.Recovery},
			{phases.ReturnToContainment, phases.Containment},
			{phases.Eradicate, phases.Eradication},
			{phases.Recover, phases.Recovery},
			{phases.Close, phases.Closed},
			{phases.Reopen, phases.Analysis},
			{phases.Dismiss, phases.Closed},
		},
		{{phases.Dismiss, phases.Closed}},
	},
	phases.ICARP: {
		{
			{phases.Contain, phases.Containment},
			{phases.Assess, phases.Assessment},
			{phases.ReturnToContainment, phases.Containment},
			{phases.Assess, phases.Assessment},
			{phases.Remediate, phases.Remediation},
			{phases.ReturnToContainment, phases.Containment},
			{phases.Assess, phases.Assessment},
			{phases.Remediate, phases.Remediation},
			{phases.Review, phases.PostIncidentReview},
			{phases.Close, phases.Closed},
			{phases.Reopen, phases.Identification},
			{phases.Dismiss, phases.Closed},
		},
	},
}

type edge struct {
	from   phases.Phase
	action phases.Action
}

func TestBuiltinModelsWalkEveryEdge(t *testing.T) {
	t.Parallel()
	require.Len(t, builtinWalks, len(phases.Builtin()))
	for _, m := range phases.Builtin() {
		t.Run(m.Name(), func(t *testing.T) {
			t.Parallel()
			walks, ok := builtinWalks[m]
			require.True(t, ok, "no walk for %s", m.Name())

			ctx := context.Background()
			subject := readySubject()
			visited := map[phases.Phase]bool{}
			taken := map[edge]bool{}
			for _, walk := range walks {
				phase := m.Initial()
				visited[phase] = true
				for _, s := range walk {
					require.Contains(t, m.Available(phase), s.action, "%s from %s", s.action, phase)
					got, err := m.Fire(ctx, subject, phase, s.action)
					require.NoError(t, err, "%s from %s", s.action, phase)
					require.Equal(t, s.want, got, "%s from %s", s.action, phase)
					taken[edge{phase, s.action}] = true
					phase = got
					visited[phase] = true
				}
				assert.Equal(t, phases.Closed, phase, "every walk ends closed")
				assert.True(t, m.IsTerminal(phase))
			}

			for _, p := range m.Phases() {
				assert.True(t, visited[p.Name], "phase %s never entered", p.Name)
			}
			for _, a := range m.Actions() {
				for _, from := range a.From {
					assert.True(t, taken[edge{from, a.Name}], "%s from %s never taken", a.Name, from)
				}
			}
		})
	}
}

func TestBuiltinModelsShareTheirShape(t *testing.T) {
	t.Parallel()
	for _, m := range phases.Builtin() {
		t.Run(m.Name(), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, []phases.Phase{phases.Closed}, m.Terminal())
			assert.Equal(t, []phases.Action{phases.Reopen}, m.Available(phases.Closed))

			contain, ok := m.Action(phases.Contain)
			require.True(t, ok)
			assert.Equal(t, []phases.GuardSpec{
				{Type: phases.GuardRoleAssigned, Role: phases.RoleCommander},
				{Type: phases.GuardTasksDone},
			}, contain.Guards)
			assert.Equal(t, []string{"role_assigned(incident_commander)", "tasks_done"}, m.GuardNames(phases.Contain))
			if m == phases.DACER {
				assert.Equal(t, []string{"verdict_set", "tasks_done"}, m.GuardNames(phases.Close), "DACER has no review phase")
			} else {
				assert.Equal(t, []string{"verdict_set", "tasks_done", "review_recorded"}, m.GuardNames(phases.Close))
			}
			assert.Equal(t, []string{"verdict_set(false_positive|benign)"}, m.GuardNames(phases.Dismiss))
			assert.Empty(t, m.GuardNames(phases.Reopen))
			assert.Empty(t, m.GuardNames(phases.ReturnToContainment), "going back must never be blocked")

			// Milestones only move forward, and every model marks the
			// incident closed on closing.
			closed, ok := m.Phase(phases.Closed)
			require.True(t, ok)
			assert.Contains(t, closed.Marks, phases.MilestoneClosed)
			assert.Contains(t, closed.Marks, phases.MilestoneResolved)
		})
	}
}

func TestBuiltinAndLookup(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []*phases.Model{phases.SANS, phases.NIST, phases.DACER, phases.ICARP}, phases.Builtin())

	names := map[string]*phases.Model{
		"sans-picerl":   phases.SANS,
		"nist-800-61r2": phases.NIST,
		"dacer":         phases.DACER,
		"icarp":         phases.ICARP,
	}
	for name, want := range names {
		got, ok := phases.Lookup(name)
		assert.True(t, ok, name)
		assert.Same(t, want, got, name)
	}
	got, ok := phases.Lookup("SANS")
	assert.False(t, ok, "names are exact")
	assert.Nil(t, got)

	list := phases.Builtin()
	list[0] = nil
	assert.Same(t, phases.SANS, phases.Builtin()[0], "Builtin returns a fresh slice")
}

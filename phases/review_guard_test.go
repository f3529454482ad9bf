package phases_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

// reviewPhases names the review phase of each built-in model that has
// one: closing from it needs a review with a root cause.
var reviewPhases = map[*phases.Model]phases.Phase{
	phases.SANS:  phases.LessonsLearned,
	phases.NIST:  phases.PostIncidentActivity,
	phases.ICARP: phases.PostIncidentReview,
}

// TestReviewRecordedHoldsTheClose checks that the built-in models with a
// review phase close from it only once a review with a root cause is
// recorded, and that DACER, which has none, does not wait for one.
func TestReviewRecordedHoldsTheClose(t *testing.T) {
	t.Parallel()
	ready := func(reviewed, rootCause bool) *fakeSubject {
		s := readySubject()
		s.reviewed, s.rootCause = reviewed, rootCause
		return s
	}
	for _, m := range phases.Builtin() {
		t.Run(m.Name(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			from, ok := reviewPhases[m]
			if !ok {
				require.Same(t, phases.DACER, m)
				to, err := m.Fire(ctx, ready(false, false), phases.Recovery, phases.Close)
				require.NoError(t, err, "DACER has no review phase to wait in")
				assert.Equal(t, phases.Closed, to)
				return
			}
			a, ok := m.ClosingAction(from)
			require.True(t, ok)
			require.Equal(t, phases.Close, a)

			for _, tc := range []struct {
				name    string
				subject phases.Subject
				want    string
			}{
				{"no review", ready(false, false), "review_recorded: no post-incident review is recorded"},
				{"a draft without a root cause", ready(true, false), "review_recorded: the post-incident review names no root cause"},
				{"a subject that keeps no review", permissiveWithoutReview{}, "review_recorded: the incident does not track a post-incident review"},
			} {
				got, err := m.Fire(ctx, tc.subject, from, phases.Close)
				require.ErrorIs(t, err, phases.ErrGuardFailed, tc.name)
				assert.Equal(t, from, got, tc.name)
				assert.Equal(t, []string{tc.want}, refusalStrings(t, err), tc.name)
				var gerr *phases.GuardError
				require.ErrorAs(t, err, &gerr)
				assert.Equal(t, phases.Closed, gerr.To)
			}

			to, err := m.Fire(ctx, ready(true, true), from, phases.Close)
			require.NoError(t, err)
			assert.Equal(t, phases.Closed, to)

			// A false positive dismissed from triage needs no review.
			for _, d := range m.Definition().Actions {
				if d.Name != phases.Dismiss {
					continue
				}
				to, err := m.Fire(ctx, ready(false, false), d.From[0], phases.Dismiss)
				require.NoError(t, err)
				assert.Equal(t, phases.Closed, to)
			}
		})
	}
}

// permissiveWithoutReview allows every other built-in guard but does not
// implement phases.ReviewHolder.
type permissiveWithoutReview struct{}

func (permissiveWithoutReview) HoldsRole(string) bool              { return true }
func (permissiveWithoutReview) PendingTasks(phases.Phase) []string { return nil }
func (permissiveWithoutReview) VerdictIn(...string) bool           { return true }

// TestReviewRecordedByName checks that a model of one's own opts in by
// naming the guard in JSON, and that DACER opts in with WithGuards.
func TestReviewRecordedByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := phases.Load(strings.NewReader(`{
		"name": "triage", "initial": "open",
		"phases": [{"name": "open"}, {"name": "review"}, {"name": "done", "terminal": true}],
		"actions": [
			{"name": "review", "from": ["open"], "to": "review"},
			{"name": "close", "from": ["review"], "to": "done", "guards": [{"type": "review_recorded"}]}
		]}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"review_recorded"}, m.GuardNames(phases.Close))
	_, err = m.Fire(ctx, &fakeSubject{}, "review", phases.Close)
	assert.Equal(t, []string{"review_recorded: no post-incident review is recorded"}, refusalStrings(t, err))
	to, err := m.Fire(ctx, &fakeSubject{reviewed: true, rootCause: true}, "review", phases.Close)
	require.NoError(t, err)
	assert.Equal(t, phases.Phase("done"), to)

	dacer, err := phases.DACER.WithGuards(phases.Close, phases.ReviewRecorded())
	require.NoError(t, err)
	_, err = dacer.Fire(ctx, ready(), phases.Recovery, phases.Close)
	assert.Equal(t, []string{"review_recorded: the post-incident review names no root cause"}, refusalStrings(t, err))
}

// ready is a subject that satisfies every built-in guard but the review's:
// its review is a draft.
func ready() *fakeSubject {
	s := readySubject()
	s.rootCause = false
	return s
}

package ir_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// phishingReview is the review most tests record.
func phishingReview() ir.NewReview {
	return ir.NewReview{
		Summary:             "  A look-alike login page took two finance passwords.  ",
		RootCause:           "Webmail accepted passwords alone",
		ContributingFactors: []string{"The look-alike domain was three days old", " No mail banner for outside senders "},
		WentWell:            []string{"Reported within minutes"},
		WentPoorly:          []string{"Paging took 40 minutes"},
		LessonsLearned:      []string{"Test paging monthly"},
	}
}

func TestRecordReview(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.open(phishing()).ID
	h.clock.Advance(time.Hour)

	n := phishingReview()
	n.FollowUps = []ir.NewFollowUp{
		{Title: "Require MFA on webmail", Owner: testBob, Due: time.Date(2026, 4, 1, 17, 0, 0, 0, time.UTC), Reference: " SEC-142 "},
		{Title: "Write the phishing playbook"},
	}
	inc, err := h.r.RecordReview(h.ctx, testAlice, id, n)
	require.NoError(t, err)
	require.NotNil(t, inc.Review)
	now := h.clock.Now()
	assert.Equal(t, &ir.Review{
		Summary: "A look-alike login page took two finance passwords.", RootCause: "Webmail accepted passwords alone",
		ContributingFactors: []string{"The look-alike domain was three days old", "No mail banner for outside senders"},
		WentWell:            []string{"Reported within minutes"}, WentPoorly: []string{"Paging took 40 minutes"},
		LessonsLearned: []string{"Test paging monthly"}, Revision: 1, RecordedAt: now, RecordedBy: testAlice,
	}, inc.Review)
	assert.Equal(t, []ir.FollowUp{
		{ID: 1, Title: "Require MFA on webmail", Owner: testBob, Due: time.Date(2026, 4, 1, 17, 0, 0, 0, time.UTC),
			Reference: "SEC-142", AddedAt: now, AddedBy: testAlice},
		{ID: 2, Title: "Write the phishing playbook", AddedAt: now, AddedBy: testAlice},
	}, inc.FollowUps)
	recorded, rootCause := inc.HasReview()
	assert.True(t, recorded && rootCause)
	assert.Equal(t, inc, h.stored(id), "what is returned is what is stored")

	// One change: the review, then each follow-up.
	events := h.timeline(id)
	last := events[len(events)-3:]
	for _, e := range last {
		assert.Equal(t, inc.Version, e.Version)
	}
	assert.Equal(t, *inc.Review, dataOf[*ir.ReviewRecorded](t, last[0]).Review)
	assert.Equal(t, inc.FollowUps[0], dataOf[*ir.FollowUpAdded](t, last[1]).FollowUp)
	assert.Equal(t, inc.FollowUps[1], dataOf[*ir.FollowUpAdded](t, last[2]).FollowUp)

	// Recording the same review again changes nothing.
	same := phishingReview()
	inc2, err := h.r.RecordReview(h.ctx, testBob, id, same)
	require.NoError(t, err)
	assert.Equal(t, inc.Version, inc2.Version)

	// The same review with a new follow-up adds the follow-up alone.
	same.FollowUps = []ir.NewFollowUp{{Title: "Banner outside mail"}}
	inc2, err = h.r.RecordReview(h.ctx, testBob, id, same)
	require.NoError(t, err)
	assert.Equal(t, 1, inc2.Review.Revision)
	assert.Len(t, inc2.FollowUps, 3)
	assert.Equal(t, ir.EventFollowUpAdded, h.timeline(id)[len(h.timeline(id))-1].Type)
	assert.Len(t, eventsOfType(h.timeline(id), ir.EventReviewRecorded), 1)
	same.FollowUps = nil

	// A revision replaces it, and the timeline keeps both.
	h.clock.Advance(time.Hour)
	same.RootCause = "Webmail accepted passwords alone, and the VPN too"
	inc3, err := h.r.RecordReview(h.ctx, testBob, id, same)
	require.NoError(t, err)
	assert.Equal(t, 2, inc3.Review.Revision)
	assert.Equal(t, testBob, inc3.Review.RecordedBy)
	assert.Len(t, inc3.FollowUps, 3, "the follow-ups stay")
	reviews := eventsOfType(h.timeline(id), ir.EventReviewRecorded)
	require.Len(t, reviews, 2)
	assert.Equal(t, "Webmail accepted passwords alone", dataOf[*ir.ReviewRecorded](t, reviews[0]).Review.RootCause)
	assert.Equal(t, "revised the post-incident review (revision 2); root cause: Webmail accepted passwords alone, and the VPN too",
		ir.Describe(phases.SANS, reviews[1]))
}

func TestRecordReviewDraftWithoutRootCause(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.open(phishing()).ID
	inc, err := h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "Still looking"})
	require.NoError(t, err)
	recorded, rootCause := inc.HasReview()
	assert.True(t, recorded)
	assert.False(t, rootCause)
	assert.False(t, inc.Review.HasRootCause())
}

func TestRecordReviewListsEveryProblem(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.open(phishing()).ID
	before, events := h.snapshot(id)

	n := ir.NewReview{
		Summary:             " ",
		RootCause:           strings.Repeat("x", ir.MaxBodyText+1),
		ContributingFactors: make([]string, ir.MaxReviewItems+1),
		WentWell:            []string{"fine", ""},
		WentPoorly:          []string{"bad \xff"},
		LessonsLearned:      []string{strings.Repeat("y", ir.MaxLongText+1)},
		FollowUps: []ir.NewFollowUp{
			{Title: ""},
			{Title: "ok", Owner: ir.Actor{Name: "no ID"}, Due: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
				Reference: "a\x00b"},
		},
	}
	_, err := h.r.RecordReview(h.ctx, testAlice, id, n)
	require.ErrorIs(t, err, ir.ErrInvalid)
	var in *ir.InputError
	require.ErrorAs(t, err, &in)
	var fields []string
	for _, p := range in.Problems {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"review summary", "root cause", "contributing factor", "what went well",
		"what went poorly", "lesson learned", "follow-up 1 title", "follow-up 2 owner", "follow-up 2 due date",
		"follow-up 2 reference"}, fields)
	h.assertUnchanged(t, before, events)

	_, err = h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "ok", FollowUps: make([]ir.NewFollowUp, ir.MaxReviewItems+1)})
	var inv *ir.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "follow-ups", inv.Field)
	h.assertUnchanged(t, before, events)
}

func TestFollowUpsAfterClosing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.open(phishing()).ID
	h.verdict(id, ir.VerdictFalsePositive)
	h.transition(id, phases.Dismiss)
	require.False(t, h.stored(id).IsOpen())

	h.clock.Advance(24 * time.Hour)
	due := time.Date(2026, 5, 1, 9, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	inc, err := h.r.AddFollowUp(h.ctx, testAlice, id, ir.NewFollowUp{Title: " Tune the mail filter ", Owner: ir.Actor{ID: "dana"}, Due: due})
	require.NoError(t, err)
	require.Len(t, inc.FollowUps, 1)
	f := inc.FollowUps[0]
	assert.Equal(t, "Tune the mail filter", f.Title)
	assert.Equal(t, ir.Actor{ID: "dana", Kind: ir.ActorHuman}, f.Owner, "the owner is normalised")
	assert.True(t, f.Due.Equal(due))
	assert.False(t, inc.IsOpen(), "adding a follow-up leaves the incident closed")
	assert.True(t, f.Overdue(due.Add(time.Second)))
	assert.False(t, f.Overdue(due))

	h.clock.Advance(24 * time.Hour)
	inc, err = h.r.CompleteFollowUp(h.ctx, testBob, id, 1, " Filter tuned ")
	require.NoError(t, err)
	f, ok := inc.FollowUp(1)
	require.True(t, ok)
	assert.True(t, f.Done)
	assert.Equal(t, h.clock.Now(), f.DoneAt)
	assert.Equal(t, testBob, f.DoneBy)
	assert.Equal(t, "Filter tuned", f.Outcome)
	assert.False(t, f.Overdue(due.Add(time.Hour)), "a follow-up done is never overdue")

	// Completing it again changes nothing; an unknown one is bad input.
	again, err := h.r.CompleteFollowUp(h.ctx, testBob, id, 1, "again")
	require.NoError(t, err)
	assert.Equal(t, inc.Version, again.Version)
	_, err = h.r.CompleteFollowUp(h.ctx, testBob, id, 7, "")
	assert.ErrorIs(t, err, ir.ErrInvalid)
	_, ok = inc.FollowUp(7)
	assert.False(t, ok)

	done := eventsOfType(h.timeline(id), ir.EventFollowUpDone)
	require.Len(t, done, 1)
	assert.Equal(t, &ir.FollowUpDone{FollowUpID: 1, Title: "Tune the mail filter", Outcome: "Filter tuned"}, done[0].Data)
	assert.Equal(t, "completed follow-up 1: Filter tuned", ir.Describe(phases.SANS, done[0]))
}

// TestFollowUpCompletionLeavesCopiesAlone checks that completing a
// follow-up does not change an incident returned before.
func TestFollowUpCompletionLeavesCopiesAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.open(phishing()).ID
	before, err := h.r.AddFollowUp(h.ctx, testAlice, id, ir.NewFollowUp{Title: "Rotate keys"})
	require.NoError(t, err)
	_, err = h.r.CompleteFollowUp(h.ctx, testAlice, id, 1, "rotated")
	require.NoError(t, err)
	assert.False(t, before.FollowUps[0].Done)
}

func TestReviewOperationsAskThePolicy(t *testing.T) {
	t.Parallel()
	errNo := errors.New("reviews are the commander's")
	h := newHarness(t, withPolicy(ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
		switch req.Operation {
		case ir.OpRecordReview, ir.OpAddFollowUp, ir.OpCompleteFollowUp:
			if req.Actor.ID != testAlice.ID {
				return errNo
			}
		}
		return nil
	})))
	id := h.open(phishing()).ID
	_, err := h.r.AddFollowUp(h.ctx, testAlice, id, ir.NewFollowUp{Title: "Rotate keys"})
	require.NoError(t, err)
	before, events := h.snapshot(id)
	for name, do := range map[string]func() error{
		"record": func() error { return errOf(h.r.RecordReview(h.ctx, testBob, id, phishingReview())) },
		"add":    func() error { return errOf(h.r.AddFollowUp(h.ctx, testBob, id, ir.NewFollowUp{Title: "x"})) },
		"done":   func() error { return errOf(h.r.CompleteFollowUp(h.ctx, testBob, id, 1, "")) },
	} {
		err := do()
		assert.ErrorIs(t, err, ir.ErrUnauthorized, name)
		assert.ErrorIs(t, err, errNo, name)
	}
	h.assertUnchanged(t, before, events)

	p, err := h.r.Allowed(h.ctx, testBob, id)
	require.NoError(t, err)
	for _, op := range []ir.Operation{ir.OpRecordReview, ir.OpAddFollowUp, ir.OpCompleteFollowUp} {
		assert.ErrorIs(t, p.Check(op, ""), ir.ErrUnauthorized, op)
	}
	p, err = h.r.Allowed(h.ctx, testAlice, id)
	require.NoError(t, err)
	for _, op := range []ir.Operation{ir.OpRecordReview, ir.OpAddFollowUp, ir.OpCompleteFollowUp} {
		assert.NoError(t, p.Check(op, ""), op)
	}
}

// TestCloseWaitsForTheReview walks an incident to Lessons Learned and
// checks that closing is refused, with the guard's words, until a review
// with a root cause is recorded, and that Allowed and Actions say so.
func TestCloseWaitsForTheReview(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.open(phishing()).ID
	h.transition(id, phases.Identify)
	h.assign(id, ir.RoleCommander, testAlice)
	for _, a := range []phases.Action{phases.Contain, phases.Eradicate, phases.Recover, phases.Review} {
		h.transition(id, a)
	}
	h.verdict(id, ir.VerdictTruePositive)

	before, events := h.snapshot(id)
	_, err := h.r.Close(h.ctx, testAlice, id, "done")
	require.ErrorIs(t, err, ir.ErrRefused)
	require.ErrorIs(t, err, phases.ErrGuardFailed)
	var refused *ir.RefusedError
	require.ErrorAs(t, err, &refused)
	var gerr *phases.GuardError
	require.ErrorAs(t, err, &gerr)
	require.Len(t, gerr.Refusals, 1)
	assert.Equal(t, "review_recorded", gerr.Refusals[0].Guard)
	assert.ErrorContains(t, err, "no post-incident review is recorded")
	h.assertUnchanged(t, before, events)

	p, err := h.r.Allowed(h.ctx, testAlice, id)
	require.NoError(t, err)
	assert.ErrorIs(t, p.Close, phases.ErrGuardFailed)
	opts, err := h.r.Actions(h.ctx, testAlice, id)
	require.NoError(t, err)
	for _, o := range opts {
		if o.Action == phases.Close {
			assert.ErrorContains(t, o.Err, "review_recorded: no post-incident review is recorded")
		}
	}

	_, err = h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "Still looking for the cause"})
	require.NoError(t, err)
	_, err = h.r.Close(h.ctx, testAlice, id, "done")
	require.ErrorIs(t, err, ir.ErrRefused)
	assert.ErrorContains(t, err, "the post-incident review names no root cause")

	_, err = h.r.RecordReview(h.ctx, testAlice, id, phishingReview())
	require.NoError(t, err)
	p, err = h.r.Allowed(h.ctx, testAlice, id)
	require.NoError(t, err)
	assert.NoError(t, p.Close)
	inc, err := h.r.Close(h.ctx, testAlice, id, "done")
	require.NoError(t, err)
	assert.False(t, inc.IsOpen())
}

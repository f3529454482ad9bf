package ir_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// errNotCarols is what permissionPolicy says when it refuses Carol.
var errNotCarols = errors.New("not Carol's to do")

// permissionPolicy refuses Carol notes, the legal role and dismissing.
var permissionPolicy = ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
	if req.Actor.ID != testCarol.ID {
		return nil
	}
	if req.Operation == ir.OpAddNote || req.Role == ir.RoleLegal || req.Action == phases.Dismiss {
		return errNotCarols
	}
	return nil
})

// permissionScene is an incident in some state, on a Responder configured
// some way, that Allowed is asked about.
type permissionScene struct {
	name      string
	configure []func(*testing.T) func(*ir.Config)
	// setup brings the incident to the state asked about.
	setup func(h *harness, id ir.ID)
}

func permissionScenes() []permissionScene {
	withPolicyT := func(*testing.T) func(*ir.Config) { return withPolicy(permissionPolicy) }
	addTask := func(h *harness, id ir.ID) {
		_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Pull logs"})
		require.NoError(h.t, err)
		_, err = h.r.AddFollowUp(h.ctx, testAlice, id, ir.NewFollowUp{Title: "Turn on MFA for finance"})
		require.NoError(h.t, err)
	}
	return []permissionScene{
		{name: "fresh, no locker", setup: addTask},
		{name: "identification, denying policy, locker",
			configure: []func(*testing.T) func(*ir.Config){withPolicyT, withLocker},
			setup: func(h *harness, id ir.ID) {
				addTask(h, id)
				h.assign(id, ir.RoleCommander, testAlice)
				h.transition(id, phases.Identify)
				h.verdict(id, ir.VerdictFalsePositive)
			}},
		{name: "identification, verdict missing", setup: func(h *harness, id ir.ID) {
			addTask(h, id)
			h.transition(id, phases.Identify)
		}},
		{name: "closed", configure: []func(*testing.T) func(*ir.Config){withPolicyT}, setup: func(h *harness, id ir.ID) {
			addTask(h, id)
			h.assign(id, ir.RoleAnalyst, testBob)
			h.verdict(id, ir.VerdictBenign)
			h.transition(id, phases.Dismiss)
		}},
	}
}

// newScene builds the scene's Responder and incident.
func newScene(t *testing.T, sc permissionScene) (*harness, ir.ID) {
	t.Helper()
	var cfg []func(*ir.Config)
	for _, c := range sc.configure {
		cfg = append(cfg, c(t))
	}
	h := newHarness(t, cfg...)
	inc := h.open(phishing())
	sc.setup(h, inc.ID)
	return h, inc.ID
}

// tryChange makes the change p answers for, as actor.
func tryChange(h *harness, actor ir.Actor, id ir.ID, p ir.Permission) error {
	ctx := h.ctx
	switch p.Operation {
	case ir.OpSetSeverity:
		return errOf(h.r.SetSeverity(ctx, actor, id, ir.SeverityCritical, ""))
	case ir.OpSetPriority:
		return errOf(h.r.SetPriority(ctx, actor, id, ir.PriorityP1, ""))
	case ir.OpSetImpact:
		return errOf(h.r.SetImpact(ctx, actor, id, ir.Impact{Functional: ir.FunctionalHigh}, ""))
	case ir.OpSetVerdict:
		return errOf(h.r.SetVerdict(ctx, actor, id, ir.VerdictTruePositive, ""))
	case ir.OpAssign:
		return errOf(h.r.Assign(ctx, actor, id, p.Role, testCarol))
	case ir.OpUnassign:
		who := testBob
		for _, part := range h.stored(id).Participants {
			if part.Role == p.Role {
				who = part.Actor
			}
		}
		return errOf(h.r.Unassign(ctx, actor, id, p.Role, who, ""))
	case ir.OpAddTask:
		return errOf(h.r.AddTask(ctx, actor, id, ir.NewTask{Title: "Image the laptop"}))
	case ir.OpCompleteTask:
		return errOf(h.r.CompleteTask(ctx, actor, id, 1, "done"))
	case ir.OpAddObservable:
		return errOf(h.r.AddObservable(ctx, actor, id, ir.Observable{Type: ir.ObservableIP, Value: "192.0.2.7"}))
	case ir.OpAddAsset:
		return errOf(h.r.AddAsset(ctx, actor, id, ir.Asset{Kind: ir.AssetHost, Name: "fs-01"}))
	case ir.OpAddNote:
		return errOf(h.r.AddNote(ctx, actor, id, "a note"))
	case ir.OpDecide:
		return errOf(h.r.Decide(ctx, actor, id, ir.Decision{Summary: "Isolate the laptop"}))
	case ir.OpRecordNotification:
		return errOf(h.r.RecordNotificationFailed(ctx, actor, notify.Delivery{ID: 1, Incident: string(id), Channel: "slack",
			Key: string(id) + "/1/1", Type: "opened", Attempts: 3, LastError: "notify: endpoint gone"}))
	case ir.OpPostStatus:
		return errOf(h.r.PostStatus(ctx, actor, id, notify.AudienceLegal, "No personal data involved so far"))
	case ir.OpRecordReview:
		return errOf(h.r.RecordReview(ctx, actor, id, ir.NewReview{Summary: "A phishing mail reached finance",
			RootCause: "No MFA on the mail gateway"}))
	case ir.OpAddFollowUp:
		return errOf(h.r.AddFollowUp(ctx, actor, id, ir.NewFollowUp{Title: "Train finance on phishing"}))
	case ir.OpCompleteFollowUp:
		return errOf(h.r.CompleteFollowUp(ctx, actor, id, 1, "done"))
	case ir.OpMark:
		return errOf(h.r.Mark(ctx, actor, id, ir.NewMark{Marker: ir.MarkerPersonalDataBreach}))
	case ir.OpCheckClocks:
		return errOf(h.r.CheckClocks(ctx, actor, id))
	case ir.OpCollectEvidence:
		_, err := h.r.CollectEvidence(ctx, actor, id, evidence.Collection{Name: "mail.log", Kind: evidence.KindLog,
			Content: strings.NewReader("log line")})
		return err
	}
	return fmt.Errorf("no way to try %s", p.Operation)
}

// assertSameAnswer checks that an operation's outcome is what Allowed
// said it would be.
func assertSameAnswer(t *testing.T, said, got error, what string) {
	t.Helper()
	if said == nil {
		assert.NoErrorf(t, got, "%s was said to be allowed", what)
		return
	}
	require.Errorf(t, got, "%s was said to be refused (%v)", what, said)
	for _, sentinel := range []error{ir.ErrUnauthorized, ir.ErrInvalid, phases.ErrGuardFailed, phases.ErrInvalidTransition} {
		assert.Equalf(t, errors.Is(said, sentinel), errors.Is(got, sentinel), "%s: %v against %v", what, said, got)
	}
}

// TestAllowedMatchesTheOperations asks Allowed about incidents in several
// states, then makes every change it answered for on a fresh copy of the
// incident: each one it allowed succeeds, and each one it refused fails
// for the same kind of reason.
func TestAllowedMatchesTheOperations(t *testing.T) {
	t.Parallel()
	for _, sc := range permissionScenes() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			h, id := newScene(t, sc)
			p, err := h.r.Allowed(h.ctx, testCarol, id)
			require.NoError(t, err)
			assert.Equal(t, id, p.Incident.ID)
			require.Len(t, p.Changes, 18+2*8, "every operation, assign and unassign once per role")
			for _, perm := range p.Changes {
				h, id := newScene(t, sc)
				assertSameAnswer(t, perm.Err, tryChange(h, testCarol, id, perm), fmt.Sprintf("%s %s", perm.Operation, perm.Role))
				assert.Equal(t, perm.Err, p.Check(perm.Operation, perm.Role))
			}
			for _, a := range p.Actions {
				h, id := newScene(t, sc)
				assertSameAnswer(t, a.Err, errOf(h.r.Transition(h.ctx, testCarol, id, a.Action, "")), string(a.Action))
			}
			h, id = newScene(t, sc)
			assertSameAnswer(t, p.Close, errOf(h.r.Close(h.ctx, testCarol, id, "")), "close")
			h, id = newScene(t, sc)
			assertSameAnswer(t, p.Reopen, errOf(h.r.Reopen(h.ctx, testCarol, id, "")), "reopen")
		})
	}
}

// TestAllowedAnswers checks some of Allowed's answers by name.
func TestAllowedAnswers(t *testing.T) {
	t.Parallel()
	scenes := permissionScenes()

	h, id := newScene(t, scenes[0])
	before, events := h.snapshot(id)
	p, err := h.r.Allowed(h.ctx, testCarol, id)
	require.NoError(t, err)
	h.assertUnchanged(t, before, events)
	assert.NoError(t, p.Check(ir.OpAddNote, ""))
	assert.NoError(t, p.Check(ir.OpAssign, ir.RoleLegal))
	assert.ErrorIs(t, p.Check(ir.OpCollectEvidence, ""), ir.ErrInvalid, "no locker is configured")
	assert.ErrorIs(t, p.Check(ir.OpUnassign, ir.RoleCommander), ir.ErrInvalid, "no one holds the role")
	assert.ErrorIs(t, p.Check(ir.OpOpen, ""), ir.ErrInvalid, "opening is not a change to an incident")
	assert.ErrorIs(t, p.Close, phases.ErrGuardFailed, "dismissing needs a verdict")
	assert.ErrorIs(t, p.Reopen, phases.ErrInvalidTransition)

	h, id = newScene(t, scenes[1])
	p, err = h.r.Allowed(h.ctx, testCarol, id)
	require.NoError(t, err)
	assert.ErrorIs(t, p.Check(ir.OpAddNote, ""), ir.ErrUnauthorized)
	assert.ErrorIs(t, p.Check(ir.OpAddNote, ""), errNotCarols)
	assert.ErrorIs(t, p.Check(ir.OpAssign, ir.RoleLegal), ir.ErrUnauthorized)
	assert.NoError(t, p.Check(ir.OpAssign, ir.RoleScribe))
	assert.NoError(t, p.Check(ir.OpCollectEvidence, ""))
	assert.NoError(t, p.Check(ir.OpUnassign, ir.RoleCommander))
	assert.ErrorIs(t, p.Close, ir.ErrUnauthorized, "the policy refuses the dismiss action")
	assert.Contains(t, p.Close.Error(), "cannot close")

	p, err = h.r.Allowed(h.ctx, testAlice, id)
	require.NoError(t, err)
	assert.NoError(t, p.Close, "Alice may close it")

	h, id = newScene(t, scenes[3])
	p, err = h.r.Allowed(h.ctx, testCarol, id)
	require.NoError(t, err)
	assert.ErrorIs(t, p.Close, phases.ErrInvalidTransition, "a closed incident does not close again")
	assert.NoError(t, p.Reopen)

	_, err = h.r.Allowed(h.ctx, testCarol, "INC-404")
	assert.ErrorIs(t, err, ir.ErrNotFound)
	_, err = h.r.Allowed(h.ctx, ir.Actor{}, id)
	assert.ErrorIs(t, err, ir.ErrInvalid)
}

// TestCloseAndReopenRefusalsSayWhatWasAsked checks that refusals of Close
// and Reopen speak of closing and reopening, not of the model's action,
// and still match the errors of package phases.
func TestCloseAndReopenRefusalsSayWhatWasAsked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	h.transition(inc.ID, phases.Identify)

	_, err := h.r.Close(h.ctx, testAlice, inc.ID, "noise")
	require.ErrorIs(t, err, phases.ErrGuardFailed)
	var guard *phases.GuardError
	require.ErrorAs(t, err, &guard)
	assert.Equal(t, phases.Dismiss, guard.Action, "the model's action is still there to inspect")
	var refused *ir.RefusedError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, ir.RequestClose, refused.Request)
	assert.Equal(t, phases.Identification, refused.Phase)
	assert.Equal(t, fmt.Sprintf("ir: cannot close incident %s from identification: verdict_set(false_positive|benign): the verdict must be one of false_positive, benign", inc.ID), err.Error())
	assert.NotContains(t, err.Error(), "dismiss")

	h.assign(inc.ID, ir.RoleCommander, testAlice)
	h.transition(inc.ID, phases.Contain)
	_, err = h.r.Close(h.ctx, testAlice, inc.ID, "")
	require.ErrorIs(t, err, phases.ErrInvalidTransition)
	assert.Equal(t, fmt.Sprintf("ir: cannot close incident %s from containment: no action closes the incident from this phase", inc.ID), err.Error())

	_, err = h.r.Reopen(h.ctx, testAlice, inc.ID, "")
	require.ErrorIs(t, err, phases.ErrInvalidTransition)
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, ir.RequestReopen, refused.Request)
	assert.Equal(t, fmt.Sprintf("ir: cannot reopen incident %s from containment: the incident is not closed", inc.ID), err.Error())
}

// errOf returns the error of a change, dropping the incident.
func errOf(_ *ir.Incident, err error) error { return err }

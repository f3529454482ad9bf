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
	"github.com/incidentkit/incidentkit/phases"
)

// call is one Responder method called on an incident, with input that is
// valid unless a test makes it otherwise.
type call struct {
	name string
	do   func(ctx context.Context, r *ir.Responder, actor ir.Actor, id ir.ID) error
}

// mutations calls every Responder method that changes an incident, with
// valid input.
var mutations = []call{
	{"Transition", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.Transition(ctx, a, id, phases.Identify, "alert triaged")
		return err
	}},
	{"Close", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.Close(ctx, a, id, "")
		return err
	}},
	{"Reopen", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.Reopen(ctx, a, id, "")
		return err
	}},
	{"SetSeverity", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.SetSeverity(ctx, a, id, ir.SeverityCritical, "")
		return err
	}},
	{"SetPriority", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.SetPriority(ctx, a, id, ir.PriorityP1, "")
		return err
	}},
	{"SetImpact", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.SetImpact(ctx, a, id, ir.Impact{Functional: ir.FunctionalLow}, "")
		return err
	}},
	{"SetVerdict", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.SetVerdict(ctx, a, id, ir.VerdictTruePositive, "")
		return err
	}},
	{"Assign", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.Assign(ctx, a, id, ir.RoleCommander, testBob)
		return err
	}},
	{"Unassign", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.Unassign(ctx, a, id, ir.RoleCommander, testBob, "")
		return err
	}},
	{"AddTask", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.AddTask(ctx, a, id, ir.NewTask{Title: "Revoke sessions"})
		return err
	}},
	{"CompleteTask", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.CompleteTask(ctx, a, id, 1, "done")
		return err
	}},
	{"AddObservable", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.AddObservable(ctx, a, id, ir.Observable{Type: ir.ObservableIP, Value: "192.0.2.7"})
		return err
	}},
	{"AddAsset", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.AddAsset(ctx, a, id, ir.Asset{Kind: ir.AssetHost, Name: "fin-lt-042"})
		return err
	}},
	{"AddNote", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.AddNote(ctx, a, id, "called the CFO")
		return err
	}},
	{"Decide", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.Decide(ctx, a, id, ir.Decision{Summary: "Isolate the laptops"})
		return err
	}},
	{"CollectEvidence", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.CollectEvidence(ctx, a, id, evidence.Collection{Name: "mail.eml", Content: strings.NewReader("From: x")})
		return err
	}},
	{"LinkEvidence", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.LinkEvidence(ctx, a, id, "ITEM-1")
		return err
	}},
}

// reads calls every Responder method that reads an incident.
var reads = []call{
	{"Get", func(ctx context.Context, r *ir.Responder, _ ir.Actor, id ir.ID) error {
		_, err := r.Get(ctx, id)
		return err
	}},
	{"Timeline", func(ctx context.Context, r *ir.Responder, _ ir.Actor, id ir.ID) error {
		_, err := r.Timeline(ctx, id, ir.TimelineQuery{})
		return err
	}},
	{"Actions", func(ctx context.Context, r *ir.Responder, a ir.Actor, id ir.ID) error {
		_, err := r.Actions(ctx, a, id)
		return err
	}},
}

// denyAll is a policy that refuses everything.
var denyAll = ir.PolicyFunc(func(context.Context, ir.Request) error { return errors.New("read-only shift") })

func TestEveryMethodSpeaksIRErrors(t *testing.T) {
	t.Parallel()
	all := append(append([]call{}, mutations...), reads...)
	for _, c := range all {
		t.Run("not found/"+c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withLocker(t))
			err := c.do(h.ctx, h.r, testAlice, "no-such-incident")
			assert.ErrorIs(t, err, ir.ErrNotFound)
		})
		t.Run("no incident ID/"+c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withLocker(t))
			err := c.do(h.ctx, h.r, testAlice, "")
			assert.ErrorIs(t, err, ir.ErrInvalid)
		})
	}
	for _, c := range mutations {
		t.Run("no actor/"+c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withLocker(t))
			inc := h.open(phishing())
			err := c.do(h.ctx, h.r, ir.Actor{}, inc.ID)
			assert.ErrorIs(t, err, ir.ErrInvalid)
		})
		t.Run("denied/"+c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withLocker(t))
			inc := h.open(phishing())
			if c.name == "Reopen" {
				h.verdict(inc.ID, ir.VerdictFalsePositive)
				_, err := h.r.Close(h.ctx, testAlice, inc.ID, "")
				require.NoError(t, err)
			}
			h2 := newHarness(t, withLocker(t), withPolicy(denyAll), func(cfg *ir.Config) { cfg.Store = h.store })
			before, events := h.snapshot(inc.ID)
			err := c.do(h2.ctx, h2.r, testAlice, inc.ID)
			assert.ErrorIs(t, err, ir.ErrUnauthorized)
			h.assertUnchanged(t, before, events)
		})
	}
}

// withEvidencePolicy gives the harness's evidence locker an access policy.
func withEvidencePolicy(t *testing.T, p evidence.AccessPolicy) func(*ir.Config) {
	return func(cfg *ir.Config) {
		key, _, err := evidence.GenerateKey("custody.test")
		require.NoError(t, err)
		ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
		require.NoError(t, err)
		locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs(), Policy: p})
		require.NoError(t, err)
		cfg.Evidence = locker
	}
}

func TestLeafErrorsMatchIRErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configure []func(*ir.Config)
		// do makes the failing call on a freshly opened incident.
		do         func(h *harness, id ir.ID) error
		want, leaf error
	}{
		{
			name:      "unknown evidence kind",
			configure: []func(*ir.Config){withLocker(t)},
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.CollectEvidence(h.ctx, testAlice, id, evidence.Collection{
					Name: "mail.eml", Kind: "hologram", Content: strings.NewReader("x")})
				return err
			},
			want: ir.ErrInvalid, leaf: evidence.ErrInvalid,
		},
		{
			name:      "evidence larger than allowed",
			configure: []func(*ir.Config){withLocker(t)},
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.CollectEvidence(h.ctx, testAlice, id, evidence.Collection{
					Name: "huge.bin", Content: strings.NewReader("0123456789"), MaxSize: 4})
				return err
			},
			want: ir.ErrInvalid, leaf: evidence.ErrInvalid,
		},
		{
			name:      "unknown evidence item",
			configure: []func(*ir.Config){withLocker(t)},
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.LinkEvidence(h.ctx, testAlice, id, "ITEM-404")
				return err
			},
			want: ir.ErrNotFound, leaf: evidence.ErrNotFound,
		},
		{
			name: "evidence access denied",
			configure: []func(*ir.Config){withEvidencePolicy(t, evidence.AccessPolicyFunc(
				func(context.Context, evidence.AccessRequest) error { return errors.New("no warrant") }))},
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.CollectEvidence(h.ctx, testAlice, id, evidence.Collection{
					Name: "mail.eml", Content: strings.NewReader("x")})
				return err
			},
			want: ir.ErrUnauthorized, leaf: evidence.ErrDenied,
		},
		{
			name: "unknown action",
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.Transition(h.ctx, testAlice, id, "teleport", "")
				return err
			},
			want: ir.ErrInvalid, leaf: phases.ErrUnknownAction,
		},
		{
			name: "action not from this phase",
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.Transition(h.ctx, testAlice, id, phases.Eradicate, "")
				return err
			},
			want: ir.ErrRefused, leaf: phases.ErrInvalidTransition,
		},
		{
			name: "guard refuses",
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.Transition(h.ctx, testAlice, id, phases.Dismiss, "")
				return err
			},
			want: ir.ErrRefused, leaf: phases.ErrGuardFailed,
		},
		{
			name: "close refused by a guard",
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.Close(h.ctx, testAlice, id, "")
				return err
			},
			want: ir.ErrRefused, leaf: phases.ErrGuardFailed,
		},
		{
			name: "reopen an open incident",
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.Reopen(h.ctx, testAlice, id, "")
				return err
			},
			want: ir.ErrRefused, leaf: phases.ErrInvalidTransition,
		},
		{
			name: "policy",
			configure: []func(*ir.Config){withPolicy(ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
				if req.Operation == ir.OpOpen {
					return nil
				}
				return errors.New("read-only shift")
			}))},
			do: func(h *harness, id ir.ID) error {
				_, err := h.r.AddNote(h.ctx, testAlice, id, "note")
				return err
			},
			want: ir.ErrUnauthorized, leaf: &ir.DeniedError{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.configure...)
			inc := h.open(phishing())
			before, events := h.snapshot(inc.ID)
			err := tt.do(h, inc.ID)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			if target, ok := tt.leaf.(*ir.DeniedError); ok {
				assert.ErrorAs(t, err, &target)
			} else {
				assert.ErrorIs(t, err, tt.leaf, "the leaf's own error still matches")
			}
			for _, other := range []error{ir.ErrInvalid, ir.ErrNotFound, ir.ErrConflict, ir.ErrUnauthorized, ir.ErrRefused} {
				if other != tt.want {
					assert.NotErrorIs(t, err, other)
				}
			}
			assert.NotContains(t, err.Error(), "ir: refused", "the message is the leaf's, unchanged")
			h.assertUnchanged(t, before, events)
		})
	}
}

func TestGuardErrorStaysReachable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	_, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Dismiss, "")
	var ge *phases.GuardError
	require.ErrorAs(t, err, &ge)
	assert.NotEmpty(t, ge.Refusals)
	assert.Equal(t, ge.Error(), err.Error(), "the Responder adds nothing to the guard's message")
}

func TestConflictsMatchIRErrors(t *testing.T) {
	t.Parallel()
	for _, c := range mutations {
		if c.name == "LinkEvidence" {
			continue // an item to link is collected, and linked, by CollectEvidence
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			store := &alwaysConflictStore{Store: ir.NewMemoryStore()}
			h := newHarness(t, withLocker(t), func(cfg *ir.Config) { cfg.Store = store; cfg.ConflictRetries = -1 })
			inc := h.open(phishing())
			// Give the changes something to change: a verdict to close
			// with, a task to complete, a commander to unassign.
			h.verdict(inc.ID, ir.VerdictFalsePositive)
			_, err := h.r.AddTask(h.ctx, testAlice, inc.ID, ir.NewTask{Title: "Look"})
			require.NoError(t, err)
			if c.name == "Unassign" {
				_, err = h.r.Assign(h.ctx, testAlice, inc.ID, ir.RoleCommander, testBob)
				require.NoError(t, err)
			}
			if c.name == "Reopen" {
				_, err = h.r.Close(h.ctx, testAlice, inc.ID, "")
				require.NoError(t, err)
			}
			store.conflicting.Store(true)
			err = c.do(h.ctx, h.r, testAlice, inc.ID)
			assert.ErrorIs(t, err, ir.ErrConflict, fmt.Sprint(err))
		})
	}
}

func TestOpenReportsEveryBadField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.r.Open(h.ctx, testAlice, ir.NewIncident{
		Title:       "  ",
		Severity:    "urgent",
		TLP:         "purple",
		Labels:      []string{"ok", ""},
		Observables: []ir.Observable{{Type: ir.ObservableIP, Value: "not an address"}},
	})
	require.ErrorIs(t, err, ir.ErrInvalid)
	var in *ir.InputError
	require.ErrorAs(t, err, &in)
	var fields []string
	for _, p := range in.Problems {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"title", "severity", "tlp", "label", "ip observable"}, fields)
	assert.Equal(t, `ir: invalid title: must not be empty; `+
		`invalid severity "urgent": unknown severity; want one of low, medium, high, critical; `+
		`invalid tlp "purple": unknown tlp; want one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED; `+
		`invalid label: must not be empty; `+
		`invalid ip observable "not an address": not an IP address or CIDR prefix`, err.Error())
	var first *ir.InvalidError
	require.ErrorAs(t, err, &first)
	assert.Equal(t, "title", first.Field, "errors.As finds the first problem")
	assert.Equal(t, 1, strings.Count(err.Error(), "ir: "), "the message names the package once: %s", err)

	page, err := h.r.List(h.ctx, ir.Query{})
	require.NoError(t, err)
	assert.Empty(t, page.Incidents, "nothing was opened")
}

func TestOpenWithOneBadFieldReturnsItsInvalidError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.r.Open(h.ctx, testAlice, ir.NewIncident{Title: "Phishing", Severity: "urgent"})
	var inv *ir.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "severity", inv.Field)
	var in *ir.InputError
	assert.False(t, errors.As(err, &in), "one problem is not a list")
}

func TestMessagesNameEachLayerOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		do   func(h *harness, id ir.ID) error
		want string
	}{
		{"evidence too large", func(h *harness, id ir.ID) error {
			_, err := h.r.CollectEvidence(h.ctx, testAlice, id, evidence.Collection{
				Name: "huge.bin", Content: strings.NewReader("0123456789"), MaxSize: 4})
			return err
		}, "evidence: collect huge.bin: ingest: invalid content: larger than the maximum of 4 bytes"},
		{"unknown evidence item", func(h *harness, id ir.ID) error {
			_, err := h.r.LinkEvidence(h.ctx, testAlice, id, "ITEM-404")
			return err
		}, "evidence: item ITEM-404: memory ledger: item ITEM-404: not found"},
		{"unknown incident", func(h *harness, _ ir.ID) error {
			_, err := h.r.AddNote(h.ctx, testAlice, "INC-404", "called the CFO")
			return err
		}, "ir: memory store: incident INC-404: not found"},
		{"denied", func(h *harness, id ir.ID) error {
			h2 := newHarness(t, withPolicy(denyAll), func(cfg *ir.Config) { cfg.Store = h.store })
			_, err := h2.r.AddNote(h.ctx, testAlice, id, "called the CFO")
			return err
		}, "ir: add_note denied to alice: read-only shift"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withLocker(t))
			inc := h.open(phishing())
			err := tt.do(h, inc.ID)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestActionsRefusalsMatchIRErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	opts, err := h.r.Actions(h.ctx, testAlice, inc.ID)
	require.NoError(t, err)
	refused := 0
	for _, o := range opts {
		if o.Err != nil {
			refused++
			assert.ErrorIs(t, o.Err, ir.ErrRefused, "%s", o.Action)
			assert.ErrorIs(t, o.Err, phases.ErrGuardFailed, "%s", o.Action)
		}
	}
	assert.Positive(t, refused, "dismissing needs a verdict")
}

package ir_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

func TestOpenRefusesInvalidInput(t *testing.T) {
	t.Parallel()
	now := irtest.Epoch // where every harness clock starts
	tests := []struct {
		name  string
		actor *ir.Actor // nil means Alice
		edit  func(n *ir.NewIncident)
		field string
		msg   string // a part of the message
	}{
		{name: "empty title", edit: func(n *ir.NewIncident) { n.Title = "" }, field: "title"},
		{name: "blank title", edit: func(n *ir.NewIncident) { n.Title = " \t\n" }, field: "title"},
		{name: "title over 200 bytes", edit: func(n *ir.NewIncident) { n.Title = strings.Repeat("é", 101) }, field: "title"},
		{name: "summary over 64 KiB", edit: func(n *ir.NewIncident) { n.Summary = strings.Repeat("s", 1<<16+1) }, field: "summary"},
		{name: "missing severity", edit: func(n *ir.NewIncident) { n.Severity = "" }, field: "severity"},
		{name: "unknown severity", edit: func(n *ir.NewIncident) { n.Severity = "severe" }, field: "severity", msg: "low, medium, high, critical"},
		{name: "unknown category", edit: func(n *ir.NewIncident) { n.Category = "alien_invasion" }, field: "category"},
		{name: "unknown TLP", edit: func(n *ir.NewIncident) { n.TLP = "TLP:WHITE" }, field: "tlp"},
		{name: "unknown priority", edit: func(n *ir.NewIncident) { n.Priority = "P0" }, field: "priority"},
		{name: "unknown functional impact", edit: func(n *ir.NewIncident) { n.Impact.Functional = "total" }, field: "functional impact"},
		{name: "zero actor", actor: &ir.Actor{}, field: "actor"},
		{name: "actor without ID", actor: &ir.Actor{Name: "Nobody", Kind: ir.ActorHuman}, field: "actor"},
		{name: "actor of unknown kind", actor: &ir.Actor{ID: "r2d2", Kind: "droid"}, field: "actor kind"},
		{name: "future detected time", edit: func(n *ir.NewIncident) { n.DetectedAt = now.Add(10 * time.Minute) }, field: "detected time", msg: "future"},
		{name: "future reported time", edit: func(n *ir.NewIncident) {
			n.DetectedAt, n.ReportedAt = now.Add(-time.Hour), now.Add(ir.MaxClockSkew+time.Second)
		}, field: "reported time", msg: "future"},
		{name: "future occurred time", edit: func(n *ir.NewIncident) { n.OccurredAt = now.Add(time.Hour) }, field: "occurred time", msg: "future"},
		{name: "occurred after detected", edit: func(n *ir.NewIncident) {
			n.OccurredAt, n.DetectedAt = now.Add(-time.Hour), now.Add(-2*time.Hour)
		}, field: "occurred time", msg: "after the detected time"},
		{name: "detected after reported", edit: func(n *ir.NewIncident) {
			n.DetectedAt, n.ReportedAt = now.Add(-time.Hour), now.Add(-2*time.Hour)
		}, field: "detected time", msg: "after the reported time"},
		{name: "detected within the skew but after the given reported time", edit: func(n *ir.NewIncident) {
			n.DetectedAt = now.Add(time.Minute)
			n.ReportedAt = now
		}, field: "detected time", msg: "after the reported time"},
		{name: "bad initial observable", edit: func(n *ir.NewIncident) {
			n.Observables = []ir.Observable{{Type: ir.ObservableIP, Value: "192.0.2.1"}, {Type: ir.ObservableIP, Value: "not-an-ip"}}
		}, field: "ip observable"},
		{name: "bad initial asset", edit: func(n *ir.NewIncident) {
			n.Assets = []ir.Asset{{Kind: "toaster", Name: "kitchen"}}
		}, field: "asset kind"},
		{name: "empty label", edit: func(n *ir.NewIncident) { n.Labels = []string{"ok", " "} }, field: "label"},
		{name: "too many labels", edit: func(n *ir.NewIncident) {
			for i := range 65 {
				n.Labels = append(n.Labels, "l"+strings.Repeat("x", i))
			}
		}, field: "labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			n := phishing()
			if tt.edit != nil {
				tt.edit(&n)
			}
			actor := testAlice
			if tt.actor != nil {
				actor = *tt.actor
			}
			inc, err := h.r.Open(h.ctx, actor, n)
			assert.Nil(t, inc)
			require.Error(t, err)
			assert.ErrorIs(t, err, ir.ErrInvalid)
			var inv *ir.InvalidError
			if assert.ErrorAs(t, err, &inv) {
				assert.Equal(t, tt.field, inv.Field)
			}
			assert.Contains(t, err.Error(), tt.msg)

			page, err := h.store.List(h.ctx, ir.Query{})
			require.NoError(t, err)
			assert.Empty(t, page.Incidents, "nothing was stored")
		})
	}
}

// invalidCase is a change that must fail and leave the incident alone.
type invalidCase struct {
	name string
	// model, if set, is the harness's phase model.
	model *phases.Model
	setup func(h *harness, id ir.ID)
	do    func(h *harness, id ir.ID) error
	// is lists the errors the error must match; not those it must not.
	is, not []error
	// field, if set, is the field the *ir.InvalidError names.
	field string
	// check makes further checks of the error.
	check func(t *testing.T, err error)
}

var errUnknownIncident = []error{ir.ErrNotFound}

func invalidCases() []invalidCase {
	const missing = ir.ID("INC-999999")
	invalidInput := []error{ir.ErrInvalid}
	note := func(actor ir.Actor, id ir.ID) func(h *harness, _ ir.ID) error {
		return func(h *harness, _ ir.ID) error {
			_, err := h.r.AddNote(h.ctx, actor, id, "a note")
			return err
		}
	}
	observable := func(typ ir.ObservableType, value string) func(h *harness, id ir.ID) error {
		return func(h *harness, id ir.ID) error {
			_, err := h.r.AddObservable(h.ctx, testAlice, id, ir.Observable{Type: typ, Value: value})
			return err
		}
	}
	transition := func(a phases.Action) func(h *harness, id ir.ID) error {
		return func(h *harness, id ir.ID) error {
			_, err := h.r.Transition(h.ctx, testAlice, id, a, "")
			return err
		}
	}
	identified := func(h *harness, id ir.ID) { h.transition(id, phases.Identify) }
	contained := func(h *harness, id ir.ID) {
		h.transition(id, phases.Identify)
		h.assign(id, ir.RoleCommander, testAlice)
		h.transition(id, phases.Contain)
	}
	return []invalidCase{
		{name: "zero actor", do: func(h *harness, id ir.ID) error { return note(ir.Actor{}, id)(h, id) }, is: invalidInput, field: "actor"},
		{name: "actor with blank ID", do: func(h *harness, id ir.ID) error { return note(ir.Actor{ID: "  ", Name: "x"}, id)(h, id) }, is: invalidInput, field: "actor"},
		{name: "actor with unknown kind", do: func(h *harness, id ir.ID) error {
			return note(ir.Actor{ID: "r2d2", Kind: "droid"}, id)(h, id)
		}, is: invalidInput, field: "actor kind"},
		{name: "zero actor on transition", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Transition(h.ctx, ir.Actor{}, id, phases.Identify, "")
			return err
		}, is: invalidInput, field: "actor"},
		{name: "zero actor on actions", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Actions(h.ctx, ir.Actor{}, id)
			return err
		}, is: invalidInput, field: "actor"},
		{name: "empty incident ID on note", do: note(testAlice, ""), is: invalidInput, field: "incident ID"},
		{name: "empty incident ID on get", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Get(h.ctx, "")
			return err
		}, is: invalidInput, field: "incident ID"},
		{name: "empty incident ID on timeline", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Timeline(h.ctx, "", ir.TimelineQuery{})
			return err
		}, is: invalidInput, field: "incident ID"},
		{name: "empty incident ID on transition", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Transition(h.ctx, testAlice, "", phases.Identify, "")
			return err
		}, is: invalidInput, field: "incident ID"},
		{name: "empty incident ID on close", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Close(h.ctx, testAlice, "", "")
			return err
		}, is: invalidInput, field: "incident ID"},
		{name: "unknown incident on note", do: note(testAlice, missing), is: errUnknownIncident, not: invalidInput},
		{name: "unknown incident on get", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Get(h.ctx, missing)
			return err
		}, is: errUnknownIncident},
		{name: "unknown incident on timeline", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Timeline(h.ctx, missing, ir.TimelineQuery{})
			return err
		}, is: errUnknownIncident},
		{name: "unknown incident on transition", do: func(h *harness, _ ir.ID) error { return transition(phases.Identify)(h, missing) }, is: errUnknownIncident},
		{name: "unknown incident on close", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Close(h.ctx, testAlice, missing, "")
			return err
		}, is: errUnknownIncident},
		{name: "unknown incident on reopen", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Reopen(h.ctx, testAlice, missing, "")
			return err
		}, is: errUnknownIncident},
		{name: "unknown incident on actions", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Actions(h.ctx, testAlice, missing)
			return err
		}, is: errUnknownIncident},
		{name: "unknown incident on assign", do: func(h *harness, _ ir.ID) error {
			_, err := h.r.Assign(h.ctx, testAlice, missing, ir.RoleAnalyst, testBob)
			return err
		}, is: errUnknownIncident},
		{name: "unknown action", do: transition("teleport"),
			is: []error{ir.ErrInvalid, phases.ErrUnknownAction, phases.ErrInvalidTransition}, not: []error{ir.ErrRefused, phases.ErrGuardFailed}},
		{name: "action not allowed from the phase", do: transition(phases.Contain),
			is: []error{ir.ErrRefused, phases.ErrInvalidTransition}, not: []error{ir.ErrInvalid, phases.ErrUnknownAction, phases.ErrGuardFailed},
			check: func(t *testing.T, err error) {
				var te *phases.TransitionError
				if assert.ErrorAs(t, err, &te) {
					assert.Equal(t, phases.Contain, te.Action)
					assert.Equal(t, phases.Preparation, te.From)
				}
			}},
		{name: "action of another model", do: transition(phases.Detect),
			is: []error{phases.ErrInvalidTransition, phases.ErrUnknownAction}},
		{name: "guard refuses: no commander", setup: identified, do: transition(phases.Contain),
			is: []error{ir.ErrRefused, phases.ErrGuardFailed}, not: []error{phases.ErrInvalidTransition, ir.ErrInvalid},
			check: func(t *testing.T, err error) {
				var ge *phases.GuardError
				require.ErrorAs(t, err, &ge)
				assert.Equal(t, phases.Contain, ge.Action)
				assert.Equal(t, phases.Identification, ge.From)
				assert.Equal(t, phases.Containment, ge.To)
				require.Len(t, ge.Refusals, 1)
				assert.Equal(t, "role_assigned(incident_commander)", ge.Refusals[0].Guard)
				assert.Contains(t, err.Error(), "no incident commander is assigned")
			}},
		{name: "guard refuses: required task not done", setup: func(h *harness, id ir.ID) {
			identified(h, id)
			h.assign(id, ir.RoleCommander, testAlice)
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Scope the mailboxes", Required: true})
			require.NoError(h.t, err)
		}, do: transition(phases.Contain), is: []error{phases.ErrGuardFailed},
			check: func(t *testing.T, err error) {
				var ge *phases.GuardError
				require.ErrorAs(t, err, &ge)
				require.Len(t, ge.Refusals, 1)
				assert.Equal(t, "tasks_done", ge.Refusals[0].Guard)
				assert.Contains(t, err.Error(), "Scope the mailboxes")
			}},
		{name: "guard refuses: every refusal listed", setup: func(h *harness, id ir.ID) {
			identified(h, id)
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Scope the mailboxes", Required: true})
			require.NoError(h.t, err)
		}, do: transition(phases.Contain), is: []error{phases.ErrGuardFailed},
			check: func(t *testing.T, err error) {
				var ge *phases.GuardError
				require.ErrorAs(t, err, &ge)
				assert.Len(t, ge.Refusals, 2)
			}},
		{name: "guard refuses: dismiss a true positive", setup: func(h *harness, id ir.ID) { h.verdict(id, ir.VerdictTruePositive) },
			do: transition(phases.Dismiss), is: []error{phases.ErrGuardFailed}},
		{name: "transition with a responder of another model", model: phases.NIST, do: transition(phases.Detect),
			is: invalidInput, field: "phase model"},
		{name: "reason over 4096 bytes", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Transition(h.ctx, testAlice, id, phases.Identify, strings.Repeat("r", 4097))
			return err
		}, is: invalidInput, field: "reason"},
		{name: "unknown task", setup: func(h *harness, id ir.ID) {
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Pull logs"})
			require.NoError(h.t, err)
		}, do: func(h *harness, id ir.ID) error {
			_, err := h.r.CompleteTask(h.ctx, testAlice, id, 2, "done")
			return err
		}, is: invalidInput, field: "task"},
		{name: "task phase not in the model", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Analyse", Phase: phases.DetectionAndAnalysis})
			return err
		}, is: invalidInput, field: "task phase"},
		{name: "empty task title", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "  "})
			return err
		}, is: invalidInput, field: "task title"},
		{name: "task assignee of unknown kind", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "x", Assignee: ir.Actor{ID: "x", Kind: "alien"}})
			return err
		}, is: invalidInput},
		{name: "empty decision summary", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Decide(h.ctx, testAlice, id, ir.Decision{Summary: " ", Rationale: "because"})
			return err
		}, is: invalidInput, field: "decision summary"},
		{name: "empty decision option", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Decide(h.ctx, testAlice, id, ir.Decision{Summary: "Isolate", Options: []string{"yes", ""}})
			return err
		}, is: invalidInput, field: "decision option"},
		{name: "not an IP", do: observable(ir.ObservableIP, "300.1.2.3"), is: invalidInput, field: "ip observable"},
		{name: "md5 of the wrong length", do: observable(ir.ObservableMD5, "d41d8cd98f00b204e9800998ecf842"), is: invalidInput, field: "md5 observable"},
		{name: "sha1 of sha256 length", do: observable(ir.ObservableSHA1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), is: invalidInput, field: "sha1 observable"},
		{name: "sha256 not hex", do: observable(ir.ObservableSHA256, strings.Repeat("zz", 32)), is: invalidInput, field: "sha256 observable"},
		{name: "relative URL", do: observable(ir.ObservableURL, "/owa/auth/logon.aspx"), is: invalidInput, field: "url observable"},
		{name: "URL without host", do: observable(ir.ObservableURL, "mailto:ceo@example.com"), is: invalidInput, field: "url observable"},
		{name: "bad e-mail", do: observable(ir.ObservableEmail, "ceo at example.com"), is: invalidInput, field: "email observable"},
		{name: "e-mail with display name", do: observable(ir.ObservableEmail, "CEO <ceo@example.com>"), is: invalidInput, field: "email observable"},
		{name: "single-label domain", do: observable(ir.ObservableDomain, "localhost"), is: invalidInput, field: "domain observable"},
		{name: "domain with a space", do: observable(ir.ObservableDomain, "evil corp.example"), is: invalidInput, field: "domain observable"},
		{name: "empty observable value", do: observable(ir.ObservableHost, "  "), is: invalidInput, field: "observable value"},
		{name: "unknown observable type", do: observable("fingerprint", "x"), is: invalidInput, field: "observable type"},
		{name: "unknown asset kind", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddAsset(h.ctx, testAlice, id, ir.Asset{Kind: "toaster", Name: "kitchen"})
			return err
		}, is: invalidInput, field: "asset kind"},
		{name: "empty asset name", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddAsset(h.ctx, testAlice, id, ir.Asset{Kind: ir.AssetHost, Name: " "})
			return err
		}, is: invalidInput, field: "asset name"},
		{name: "empty note", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddNote(h.ctx, testAlice, id, " \n ")
			return err
		}, is: invalidInput, field: "note"},
		{name: "oversized note", do: func(h *harness, id ir.ID) error {
			_, err := h.r.AddNote(h.ctx, testAlice, id, strings.Repeat("n", 1<<16+1))
			return err
		}, is: invalidInput, field: "note"},
		{name: "unknown severity", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetSeverity(h.ctx, testAlice, id, "severe", "")
			return err
		}, is: invalidInput, field: "severity"},
		{name: "empty severity", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetSeverity(h.ctx, testAlice, id, "", "")
			return err
		}, is: invalidInput, field: "severity"},
		{name: "unknown priority", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetPriority(h.ctx, testAlice, id, "P5", "")
			return err
		}, is: invalidInput, field: "priority"},
		{name: "unknown information impact", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetImpact(h.ctx, testAlice, id, ir.Impact{Information: []ir.InformationImpact{"leaky"}}, "")
			return err
		}, is: invalidInput, field: "information impact"},
		{name: "unknown recoverability", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetImpact(h.ctx, testAlice, id, ir.Impact{Recoverability: "maybe"}, "")
			return err
		}, is: invalidInput, field: "recoverability"},
		{name: "unknown verdict", do: func(h *harness, id ir.ID) error {
			_, err := h.r.SetVerdict(h.ctx, testAlice, id, "guilty", "")
			return err
		}, is: invalidInput, field: "verdict"},
		{name: "unknown role", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Assign(h.ctx, testAlice, id, "janitor", testBob)
			return err
		}, is: invalidInput, field: "role"},
		{name: "zero assignee", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Assign(h.ctx, testAlice, id, ir.RoleAnalyst, ir.Actor{})
			return err
		}, is: invalidInput, field: "assignee"},
		{name: "unassign someone without the role", setup: func(h *harness, id ir.ID) {
			h.assign(id, ir.RoleAnalyst, testCarol)
			h.assign(id, ir.RoleScribe, testBob)
		}, do: func(h *harness, id ir.ID) error {
			_, err := h.r.Unassign(h.ctx, testAlice, id, ir.RoleAnalyst, testBob, "")
			return err
		}, is: invalidInput, field: "assignee"},
		{name: "unassign an unknown role", do: func(h *harness, id ir.ID) error {
			_, err := h.r.Unassign(h.ctx, testAlice, id, "janitor", testBob, "")
			return err
		}, is: invalidInput, field: "role"},
		{name: "close from a phase with no closing action", setup: contained, do: func(h *harness, id ir.ID) error {
			_, err := h.r.Close(h.ctx, testAlice, id, "")
			return err
		}, is: []error{phases.ErrInvalidTransition}, not: []error{phases.ErrGuardFailed}},
		{name: "close refused by guards", setup: identified, do: func(h *harness, id ir.ID) error {
			_, err := h.r.Close(h.ctx, testAlice, id, "")
			return err
		}, is: []error{phases.ErrGuardFailed}},
	}
}

func TestInvalidChangesChangeNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range invalidCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			inc := h.open(phishing())
			if tc.setup != nil {
				tc.setup(h, inc.ID)
			}
			before, events := h.snapshot(inc.ID)
			if tc.model != nil {
				// Another responder on the same store, following another model.
				other := newHarness(t, withModel(tc.model), func(c *ir.Config) { c.Store = h.store; c.Clock = h.clock })
				h = &harness{t: t, ctx: h.ctx, r: other.r, store: h.store, clock: h.clock}
			}
			h.clock.Advance(time.Minute)

			err := tc.do(h, inc.ID)
			require.Error(t, err)
			for _, target := range tc.is {
				assert.ErrorIs(t, err, target)
			}
			for _, target := range tc.not {
				assert.NotErrorIs(t, err, target)
			}
			if tc.field != "" {
				var inv *ir.InvalidError
				if assert.ErrorAs(t, err, &inv) {
					assert.Equal(t, tc.field, inv.Field)
				}
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			h.assertUnchanged(t, before, events)
		})
	}
}

// policyOp is one operation a Policy is asked about, run as actor.
type policyOp struct {
	name   string
	op     ir.Operation
	action phases.Action
	role   ir.Role
	setup  func(h *harness, id ir.ID)
	do     func(h *harness, actor ir.Actor, id ir.ID) error
}

func policyOps() []policyOp {
	withErr := func(_ *ir.Incident, err error) error { return err }
	return []policyOp{
		{name: "note", op: ir.OpAddNote, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.AddNote(h.ctx, a, id, "note"))
		}},
		{name: "status update", op: ir.OpPostStatus, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.PostStatus(h.ctx, a, id, notify.AudienceExecutives, "Contained"))
		}},
		{name: "decide", op: ir.OpDecide, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.Decide(h.ctx, a, id, ir.Decision{Summary: "Isolate"}))
		}},
		{name: "add task", op: ir.OpAddTask, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.AddTask(h.ctx, a, id, ir.NewTask{Title: "Pull logs"}))
		}},
		{name: "complete task", op: ir.OpCompleteTask, setup: func(h *harness, id ir.ID) {
			_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Pull logs"})
			require.NoError(h.t, err)
		}, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.CompleteTask(h.ctx, a, id, 1, "done"))
		}},
		{name: "assign", op: ir.OpAssign, role: ir.RoleScribe, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.Assign(h.ctx, a, id, "SCRIBE", testBob))
		}},
		{name: "unassign", op: ir.OpUnassign, role: ir.RoleAnalyst, setup: func(h *harness, id ir.ID) {
			h.assign(id, ir.RoleAnalyst, testBob)
		}, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.Unassign(h.ctx, a, id, ir.RoleAnalyst, testBob, "off shift"))
		}},
		{name: "add observable", op: ir.OpAddObservable, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.AddObservable(h.ctx, a, id, ir.Observable{Type: ir.ObservableIP, Value: "192.0.2.7"}))
		}},
		{name: "add asset", op: ir.OpAddAsset, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.AddAsset(h.ctx, a, id, ir.Asset{Kind: ir.AssetHost, Name: "fs-01"}))
		}},
		{name: "set severity", op: ir.OpSetSeverity, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.SetSeverity(h.ctx, a, id, ir.SeverityCritical, ""))
		}},
		{name: "set priority", op: ir.OpSetPriority, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.SetPriority(h.ctx, a, id, ir.PriorityP1, ""))
		}},
		{name: "set impact", op: ir.OpSetImpact, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.SetImpact(h.ctx, a, id, ir.Impact{Functional: ir.FunctionalHigh}, ""))
		}},
		{name: "set verdict", op: ir.OpSetVerdict, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.SetVerdict(h.ctx, a, id, ir.VerdictBenign, ""))
		}},
		{name: "transition", op: ir.OpTransition, action: phases.Identify, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.Transition(h.ctx, a, id, phases.Identify, ""))
		}},
		{name: "close", op: ir.OpTransition, action: phases.Dismiss, setup: func(h *harness, id ir.ID) {
			h.verdict(id, ir.VerdictFalsePositive)
		}, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.Close(h.ctx, a, id, "noise"))
		}},
		{name: "reopen", op: ir.OpTransition, action: phases.Reopen, setup: func(h *harness, id ir.ID) {
			h.verdict(id, ir.VerdictFalsePositive)
			h.transition(id, phases.Dismiss)
		}, do: func(h *harness, a ir.Actor, id ir.ID) error {
			return withErr(h.r.Reopen(h.ctx, a, id, "back"))
		}},
	}
}

// errNotOnShift is what the test policies refuse with.
var errNotOnShift = errors.New("not on shift")

// recordingPolicy records every request and refuses them all while deny is
// set.
type recordingPolicy struct {
	deny     atomic.Bool
	mu       sync.Mutex
	requests []ir.Request
}

func (p *recordingPolicy) Authorize(_ context.Context, req ir.Request) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	req.Incident = req.Incident.Clone()
	p.requests = append(p.requests, req)
	if p.deny.Load() {
		return errNotOnShift
	}
	return nil
}

func (p *recordingPolicy) last(t *testing.T) ir.Request {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	require.NotEmpty(t, p.requests)
	return p.requests[len(p.requests)-1]
}

func TestPolicyDenialChangesNothing(t *testing.T) {
	t.Parallel()
	for _, op := range policyOps() {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			policy := &recordingPolicy{}
			h := newHarness(t, withPolicy(policy))
			inc := h.open(phishing())
			if op.setup != nil {
				op.setup(h, inc.ID)
			}
			before, events := h.snapshot(inc.ID)
			policy.deny.Store(true)

			err := op.do(h, testCarol, inc.ID)
			require.Error(t, err)
			assert.ErrorIs(t, err, ir.ErrUnauthorized)
			assert.ErrorIs(t, err, errNotOnShift, "the error unwraps to the policy's")
			var denied *ir.DeniedError
			require.ErrorAs(t, err, &denied)
			assert.Same(t, errNotOnShift, denied.Err)
			assert.Equal(t, op.op, denied.Request.Operation)
			assert.Equal(t, testCarol, denied.Request.Actor)
			assert.Equal(t, op.action, denied.Request.Action)
			assert.Contains(t, err.Error(), "carol")
			var refused *ir.RefusedError
			if errors.As(err, &refused) {
				assert.Contains(t, err.Error(), "cannot "+op.name, "closing and reopening speak of what was asked")
			} else {
				assert.Contains(t, err.Error(), string(op.op))
			}
			h.assertUnchanged(t, before, events)
		})
	}
}

func TestPolicyDeniesOpen(t *testing.T) {
	t.Parallel()
	policy := &recordingPolicy{}
	policy.deny.Store(true)
	h := newHarness(t, withPolicy(policy))

	inc, err := h.r.Open(h.ctx, ir.Actor{ID: "carol"}, phishing())
	assert.Nil(t, inc)
	require.Error(t, err)
	assert.ErrorIs(t, err, ir.ErrUnauthorized)
	assert.ErrorIs(t, err, errNotOnShift)
	var denied *ir.DeniedError
	require.ErrorAs(t, err, &denied)
	assert.Equal(t, ir.OpOpen, denied.Request.Operation)

	page, err := h.store.List(h.ctx, ir.Query{})
	require.NoError(t, err)
	assert.Empty(t, page.Incidents, "nothing was stored")

	req := policy.last(t)
	assert.Equal(t, ir.OpOpen, req.Operation)
	assert.Equal(t, ir.Actor{ID: "carol", Kind: ir.ActorHuman}, req.Actor, "the policy sees the actor with its kind filled in")
	require.NotNil(t, req.Incident, "the policy sees the incident about to be opened")
	assert.Equal(t, "Credential phishing against finance", req.Incident.Title)
	assert.Equal(t, ir.SeverityHigh, req.Incident.Severity)
	assert.Equal(t, ir.PriorityP2, req.Incident.Priority)
	assert.Equal(t, phases.Preparation, req.Incident.Phase)
	assert.Equal(t, int64(1), req.Incident.Version)
	assert.NotEmpty(t, req.Incident.ID)

	policy.deny.Store(false)
	inc, err = h.r.Open(h.ctx, testAlice, phishing())
	require.NoError(t, err)
	req = policy.last(t)
	assert.Equal(t, inc, req.Incident, "the incident the policy saw is the one opened")
}

func TestPolicySeesTheRequest(t *testing.T) {
	t.Parallel()
	for _, op := range policyOps() {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			policy := &recordingPolicy{}
			h := newHarness(t, withPolicy(policy))
			inc := h.open(phishing())
			if op.setup != nil {
				op.setup(h, inc.ID)
			}
			before := h.stored(inc.ID)
			h.clock.Advance(time.Minute)

			require.NoError(t, op.do(h, ir.Actor{ID: "bob", Name: "Bob Tran"}, inc.ID))
			req := policy.last(t)
			assert.Equal(t, ir.Request{
				Actor:     testBob,
				Operation: op.op,
				Action:    op.action,
				Role:      op.role,
				Incident:  before,
			}, req, "the policy sees the actor, the operation and the incident before the change")
			assert.Less(t, req.Incident.Version, h.stored(inc.ID).Version)
		})
	}
}

func TestPolicyCanAllowSomeOperations(t *testing.T) {
	t.Parallel()
	// Anyone may add notes; only the incident commander may move the
	// incident; only Alice may assign roles.
	policy := ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
		switch req.Operation {
		case ir.OpOpen, ir.OpAddNote:
			return nil
		case ir.OpAssign:
			if req.Actor.ID == "alice" {
				return nil
			}
			return errors.New("only alice assigns roles")
		case ir.OpTransition:
			for _, c := range req.Incident.Holders(ir.RoleCommander) {
				if c.ID == req.Actor.ID {
					return nil
				}
			}
			return errNotOnShift
		default:
			return errors.New("not allowed")
		}
	})
	h := newHarness(t, withPolicy(policy))
	inc := h.open(phishing())

	_, err := h.r.AddNote(h.ctx, testBob, inc.ID, "anyone may write notes")
	require.NoError(t, err)
	_, err = h.r.SetSeverity(h.ctx, testAlice, inc.ID, ir.SeverityLow, "")
	assert.ErrorIs(t, err, ir.ErrUnauthorized)

	_, err = h.r.Transition(h.ctx, testBob, inc.ID, phases.Identify, "")
	assert.ErrorIs(t, err, errNotOnShift, "bob is not the commander")
	_, err = h.r.Assign(h.ctx, testBob, inc.ID, ir.RoleCommander, testBob)
	assert.ErrorIs(t, err, ir.ErrUnauthorized, "bob may not assign roles")

	opts, err := h.r.Actions(h.ctx, testBob, inc.ID)
	require.NoError(t, err)
	require.NotEmpty(t, opts)
	for _, o := range opts {
		var denied *ir.DeniedError
		if assert.ErrorAs(t, o.Err, &denied, "Actions shows %s as denied to bob", o.Action) {
			assert.Equal(t, o.Action, denied.Request.Action)
			assert.Equal(t, ir.OpTransition, denied.Request.Operation)
		}
	}

	h.assign(inc.ID, ir.RoleCommander, testBob)
	opts, err = h.r.Actions(h.ctx, testBob, inc.ID)
	require.NoError(t, err)
	require.NotEmpty(t, opts)
	assert.NoError(t, opts[0].Err, "the commander may identify")

	got, err := h.r.Transition(h.ctx, testBob, inc.ID, phases.Identify, "")
	require.NoError(t, err, "bob is the commander now")
	assert.Equal(t, phases.Identification, got.Phase)

	tl := h.timeline(inc.ID)
	assert.Len(t, tl, 4, "opened, note, assignment, transition: nothing from the refused changes")
}

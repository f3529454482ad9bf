package plan_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/postgres"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
	"github.com/incidentkit/incidentkit/plan"
)

// storeKind opens a store for a test; opening it again (after closing the
// first) reaches the same incidents, as a restarted service would.
type storeKind struct {
	name string
	open func(t *testing.T) func() (ir.Store, func())
}

var storeKinds = []storeKind{
	{"memory", func(t *testing.T) func() (ir.Store, func()) {
		st := ir.NewMemoryStore()
		return func() (ir.Store, func()) { return st, func() {} }
	}},
	{"sqlite", func(t *testing.T) func() (ir.Store, func()) {
		path := filepath.Join(t.TempDir(), "store.db")
		return func() (ir.Store, func()) {
			st, err := sqlite.Open(context.Background(), path, sqlite.Config{})
			require.NoError(t, err)
			return st, func() { require.NoError(t, st.Close()) }
		}
	}},
	{"postgres", func(t *testing.T) func() (ir.Store, func()) {
		dsn := os.Getenv("INCIDENTKIT_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("INCIDENTKIT_TEST_POSTGRES_DSN is not set")
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		schema := "ik_plan_" + hex.EncodeToString(b[:])
		t.Cleanup(func() {
			ctx := context.Background()
			pool, err := pgxpool.New(ctx, dsn)
			if err != nil {
				t.Errorf("drop schema: %v", err)
				return
			}
			defer pool.Close()
			if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		})
		return func() (ir.Store, func()) {
			st, err := postgres.Open(context.Background(), dsn, postgres.Config{Schema: schema})
			require.NoError(t, err)
			return st, st.Close
		}
	}},
}

// builtinPlan is the test plan with the built-in playbooks.
func builtinPlan(t testing.TB) *plan.Plan {
	t.Helper()
	p, err := plan.LoadFile("testdata/plan.yaml", plan.Options{})
	require.NoError(t, err)
	p.Playbooks = plan.Builtin()
	return p
}

func newResponder(t *testing.T, p *plan.Plan, st ir.Store, clock ir.Clock) *ir.Responder {
	t.Helper()
	cfg, err := p.Configure(ir.Config{Store: st, Clock: clock})
	require.NoError(t, err)
	r, err := ir.NewResponder(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r
}

// completePhase completes the required tasks of the incident's phase.
func completePhase(t *testing.T, r *ir.Responder, who ir.Actor, inc *ir.Incident) *ir.Incident {
	t.Helper()
	for _, task := range inc.Tasks {
		if task.Phase == inc.Phase && task.Required && !task.Done {
			var err error
			inc, err = r.CompleteTask(context.Background(), who, inc.ID, task.ID, "done")
			require.NoError(t, err)
		}
	}
	return inc
}

func tasksIn(inc *ir.Incident, ph phases.Phase) []ir.Task {
	var out []ir.Task
	for _, task := range inc.Tasks {
		if task.Phase == ph {
			out = append(out, task)
		}
	}
	return out
}

// TestPlaybookTasksHoldTransitionsAndAreAddedOnce runs a phishing incident
// through the SANS model with the built-in phishing playbook, with a
// reinfection that sends it back to containment, across a restart of the
// Responder (and of the store, for the durable ones).
func TestPlaybookTasksHoldTransitionsAndAreAddedOnce(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p := builtinPlan(t)
			phishing := plan.Phishing()
			clock := irtest.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
			open := kind.open(t)
			st, closeStore := open()
			r := newResponder(t, p, st, clock)
			detector := ir.Actor{ID: "mail-gateway", Kind: ir.ActorService}
			alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}

			inc, err := r.Open(ctx, detector, ir.NewIncident{Title: "Credential phishing against finance",
				Severity: ir.SeverityHigh, Category: ir.CategoryPhishing})
			require.NoError(t, err)
			// The on-duty members fill their roles, in the opening change.
			roles := make(map[ir.Role]string)
			for _, part := range inc.Participants {
				roles[part.Role] = part.Actor.ID
			}
			assert.Equal(t, map[ir.Role]string{ir.RoleCommander: "alice", ir.RoleAnalyst: "bob", ir.RoleCommunications: "carol"}, roles)
			assert.True(t, inc.Times.Acknowledged.IsZero(), "the plan's assignments are not an acknowledgement")
			assert.Empty(t, inc.Tasks, "the phishing playbook has nothing for preparation")
			assert.Equal(t, int64(1), inc.Version)

			inc, err = r.Transition(ctx, alice, inc.ID, phases.Identify, "three reports")
			require.NoError(t, err)
			ident := tasksIn(inc, phases.Identification)
			require.Len(t, ident, 3)
			assert.Equal(t, "phishing/collect-message", ident[0].Key)
			assert.Equal(t, ir.RoleAnalyst, ident[0].Role)
			assert.Equal(t, "bob", ident[0].Assignee.ID, "the analyst on the incident owns it")
			assert.True(t, ident[0].Required)
			assert.Equal(t, int64(2), inc.Version, "the tasks came with the transition")

			// The required tasks hold the transition.
			_, err = r.Transition(ctx, alice, inc.ID, phases.Contain, "one account compromised")
			require.ErrorIs(t, err, phases.ErrGuardFailed)
			assert.ErrorContains(t, err, "required tasks of identification not done")
			inc = completePhase(t, r, alice, inc)
			inc, err = r.Transition(ctx, alice, inc.ID, phases.Contain, "one account compromised")
			require.NoError(t, err)
			require.Len(t, tasksIn(inc, phases.Containment), 3)

			_, err = r.Transition(ctx, alice, inc.ID, phases.Eradicate, "too soon")
			require.ErrorIs(t, err, phases.ErrGuardFailed)
			inc = completePhase(t, r, alice, inc)
			inc, err = r.Transition(ctx, alice, inc.ID, phases.Eradicate, "sender blocked")
			require.NoError(t, err)
			inc = completePhase(t, r, alice, inc)
			inc, err = r.Transition(ctx, alice, inc.ID, phases.Recover, "rules removed")
			require.NoError(t, err)
			require.Len(t, tasksIn(inc, phases.Recovery), 2)
			before := len(inc.Tasks)

			// Reinfection: back to containment, whose tasks are done and
			// are not added again.
			inc, err = r.Transition(ctx, alice, inc.ID, phases.ReturnToContainment, "the same lure again")
			require.NoError(t, err)
			assert.Len(t, inc.Tasks, before)

			// A restart: a new Responder, and the store opened again.
			closeStore()
			st, closeStore = open()
			defer closeStore()
			r = newResponder(t, p, st, clock)
			inc, err = r.Transition(ctx, alice, inc.ID, phases.Eradicate, "contained again")
			require.NoError(t, err, "containment's tasks were done before the reinfection")
			inc, err = r.Transition(ctx, alice, inc.ID, phases.Recover, "clean")
			require.NoError(t, err)
			assert.Len(t, inc.Tasks, before)

			// Recovery's required task, added on the first stay, still holds
			// the review.
			_, err = r.Transition(ctx, alice, inc.ID, phases.Review, "done?")
			require.ErrorIs(t, err, phases.ErrGuardFailed)
			assert.ErrorContains(t, err, "Watch the affected accounts")
			inc = completePhase(t, r, alice, inc)
			inc, err = r.Transition(ctx, alice, inc.ID, phases.Review, "recovered")
			require.NoError(t, err)

			// Every step reached is on the incident once, and the stored
			// incident says so too.
			stored, err := r.Get(ctx, inc.ID)
			require.NoError(t, err)
			keys := make(map[string]int)
			for _, task := range stored.Tasks {
				keys[task.Key]++
			}
			require.Len(t, keys, len(phishing.Steps))
			for _, s := range phishing.Steps {
				assert.Equal(t, 1, keys[phishing.TaskKey(s)], s.Key)
			}

			// Adding a task with a key the incident holds changes nothing.
			again, err := r.AddTask(ctx, alice, inc.ID, ir.NewTask{Title: "Block it again", Key: "phishing/block-indicators"})
			require.NoError(t, err)
			assert.Equal(t, stored.Version, again.Version)
			assert.Len(t, again.Tasks, len(stored.Tasks))

			// The timeline records each task once.
			page, err := r.Timeline(ctx, inc.ID, ir.TimelineQuery{Limit: ir.MaxPageSize})
			require.NoError(t, err)
			added := 0
			for _, e := range page.Events {
				if e.Type == ir.EventTaskAdded {
					added++
				}
			}
			assert.Equal(t, len(phishing.Steps), added)
		})
	}
}

// TestPlanWithoutPlaybookOrRoleHolders: an incident of a category without
// a playbook gets no tasks; roles someone already holds are left alone.
func TestPlanLeavesHeldRolesAndOtherCategories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := builtinPlan(t)
	r := newResponder(t, p, ir.NewMemoryStore(), nil)
	alice := ir.Actor{ID: "alice"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Lost laptop", Severity: ir.SeverityLow, Category: ir.CategoryLostDevice})
	require.NoError(t, err)
	inc, err = r.Assign(ctx, alice, inc.ID, ir.RoleCommander, ir.Actor{ID: "erin"})
	require.NoError(t, err)
	inc, err = r.Transition(ctx, alice, inc.ID, phases.Identify, "reported")
	require.NoError(t, err)
	assert.Empty(t, inc.Tasks)
	var commanders []string
	for _, part := range inc.Participants {
		if part.Role == ir.RoleCommander {
			commanders = append(commanders, part.Actor.ID)
		}
	}
	assert.Equal(t, []string{"erin"}, commanders)
}

func TestConfigureRefusesAnInvalidPlanOrAnotherModel(t *testing.T) {
	t.Parallel()
	p := builtinPlan(t)
	_, err := p.Configure(ir.Config{Store: ir.NewMemoryStore(), Model: phases.NIST})
	assert.ErrorIs(t, err, plan.ErrInvalidPlan)
	_, err = p.Configure(ir.Config{Store: ir.NewMemoryStore(), Prepare: p.Prepare})
	assert.ErrorIs(t, err, plan.ErrInvalidPlan)
	p.Team = nil
	_, err = p.Configure(ir.Config{Store: ir.NewMemoryStore()})
	var ve *plan.ValidationError
	assert.True(t, errors.As(err, &ve))
}

func TestMayDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := builtinPlan(t)
	r := newResponder(t, p, ir.NewMemoryStore(), nil)
	inc, err := r.Open(ctx, ir.Actor{ID: "alice"}, ir.NewIncident{Title: "x", Severity: ir.SeverityLow})
	require.NoError(t, err)
	alice, _ := p.Member("alice")
	bob, _ := p.Member("bob")
	assert.True(t, p.MayDecide(inc, alice.Actor(), "take_production_offline"), "alice is the commander")
	assert.False(t, p.MayDecide(inc, bob.Actor(), "take_production_offline"), "bob is the analyst")
	assert.False(t, p.MayDecide(inc, alice.Actor(), "no_such_decision"))
	carol, _ := p.Member("carol")
	assert.True(t, p.MayDecide(inc, carol.Actor(), "public_statement"))
	c, ok := p.Contact("Outside counsel")
	require.True(t, ok)
	assert.Equal(t, plan.ContactLegal, c.Kind)
}

// TestTwoInstancesAddPlaybookTasksOnce runs two Responders on one store,
// as two service instances would, racing to enter the same phase and to
// add the same keyed task: the playbook's tasks are on the incident once.
func TestTwoInstancesAddPlaybookTasksOnce(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p := builtinPlan(t)
			open := kind.open(t)
			st1, close1 := open()
			defer close1()
			st2, close2 := open()
			defer close2()
			r1, r2 := newResponder(t, p, st1, nil), newResponder(t, p, st2, nil)
			alice := ir.Actor{ID: "alice"}
			inc, err := r1.Open(ctx, alice, ir.NewIncident{Title: "Phish", Severity: ir.SeverityHigh, Category: ir.CategoryPhishing})
			require.NoError(t, err)

			errs := make(chan error, 4)
			for _, r := range []*ir.Responder{r1, r2} {
				go func() {
					_, err := r.Transition(ctx, alice, inc.ID, phases.Identify, "reported")
					errs <- err
				}()
				go func() {
					_, err := r.AddTask(ctx, alice, inc.ID, ir.NewTask{Title: "Call the user", Key: "extra/call-user"})
					errs <- err
				}()
			}
			var ok, refused int
			for range 4 {
				switch err := <-errs; {
				case err == nil:
					ok++
				case errors.Is(err, phases.ErrInvalidTransition):
					refused++ // the other instance identified it first
				default:
					t.Error(err)
				}
			}
			assert.Equal(t, 3, ok)
			assert.Equal(t, 1, refused)
			got, err := r1.Get(ctx, inc.ID)
			require.NoError(t, err)
			keys := make(map[string]int)
			for _, task := range got.Tasks {
				keys[task.Key]++
			}
			assert.Equal(t, map[string]int{"extra/call-user": 1, "phishing/collect-message": 1,
				"phishing/find-recipients": 1, "phishing/record-indicators": 1}, keys)
		})
	}
}

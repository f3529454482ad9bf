package ir_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// TestPrepareAddsToTheEnteringChange checks that what Config.Prepare
// returns is written in the change that opens the incident or enters the
// phase, with its events and outbox messages, and that keyed tasks and
// held roles are left alone.
func TestPrepareAddsToTheEnteringChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var entries []ir.PhaseEntry
	prepare := func(_ context.Context, e ir.PhaseEntry) (ir.Preparation, error) {
		entries = append(entries, e)
		p := ir.Preparation{Tasks: []ir.NewTask{
			{Title: "Scope it", Required: true, Role: ir.RoleAnalyst, Key: "pb/scope-" + string(e.Incident.Phase)},
			{Title: "Scope it twice", Key: "pb/scope-" + string(e.Incident.Phase)},
		}}
		if e.Opening() {
			p.Assign = []ir.Assignment{{Role: ir.RoleCommander, Actor: testCarol}, {Role: ir.RoleAnalyst, Actor: testBob}}
		}
		return p, nil
	}
	store := ir.NewMemoryStore()
	clock := irtest.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	r, err := ir.NewResponder(ir.Config{Store: store, Outbox: true, Clock: clock, Prepare: prepare})
	require.NoError(t, err)
	defer r.Shutdown(ctx)

	inc, err := r.Open(ctx, testBot, ir.NewIncident{Title: "Beaconing", Severity: ir.SeverityHigh})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.True(t, entries[0].Opening())
	assert.Equal(t, phases.Preparation, entries[0].Incident.Phase)
	require.Len(t, inc.Tasks, 1, "the second task repeats the first's key")
	task := inc.Tasks[0]
	assert.Equal(t, ir.Task{ID: 1, Title: "Scope it", Phase: phases.Preparation, Required: true, Role: ir.RoleAnalyst,
		Key: "pb/scope-preparation", AddedAt: clock.Now(), AddedBy: testBot}, task)
	require.Len(t, inc.Participants, 2)
	assert.True(t, inc.Times.Acknowledged.IsZero())
	assert.Equal(t, int64(1), inc.Version)

	// A role held by someone stays theirs.
	inc, err = r.Assign(ctx, testAlice, inc.ID, ir.RoleCommander, testAlice)
	require.NoError(t, err)
	inc, err = r.Transition(ctx, testAlice, inc.ID, phases.Identify, "confirmed")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, phases.Preparation, entries[1].From)
	assert.Equal(t, phases.Identify, entries[1].Action)
	require.Len(t, inc.Tasks, 2)
	assert.Equal(t, phases.Identification, inc.Tasks[1].Phase)

	// The events and the outbox messages came with the changes.
	page, err := r.Timeline(ctx, inc.ID, ir.TimelineQuery{})
	require.NoError(t, err)
	var types []ir.EventType
	for _, e := range page.Events {
		types = append(types, e.Type)
	}
	assert.Equal(t, []ir.EventType{ir.EventOpened, ir.EventTaskAdded, ir.EventRoleAssigned, ir.EventRoleAssigned,
		ir.EventRoleAssigned, ir.EventPhaseChanged, ir.EventTaskAdded}, types)
	assert.Equal(t, page.Events[5].Version, page.Events[6].Version, "the task came in the transition's change")
	msgs, err := store.Claim(ctx, "test", 100, time.Minute)
	require.NoError(t, err)
	assert.Len(t, msgs, len(types))

	// Required tasks added on entering hold the way out.
	_, err = r.Transition(ctx, testAlice, inc.ID, phases.Contain, "go")
	require.ErrorIs(t, err, phases.ErrGuardFailed)

	// Once done, the way is open, and the next phase gets its task.
	for _, tk := range inc.Tasks {
		inc, err = r.CompleteTask(ctx, testAlice, inc.ID, tk.ID, "done")
		require.NoError(t, err)
	}
	inc, err = r.Transition(ctx, testAlice, inc.ID, phases.Contain, "go")
	require.NoError(t, err)
	require.Len(t, inc.Tasks, 3)
	assert.Equal(t, "pb/scope-containment", inc.Tasks[2].Key)
}

// TestPrepareFailureWritesNothing checks that a Prepare error, or a task it
// returns that the Responder refuses, fails the change and writes nothing.
func TestPrepareFailureWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fail := false
	bad := false
	prepare := func(_ context.Context, e ir.PhaseEntry) (ir.Preparation, error) {
		if fail {
			return ir.Preparation{}, errors.New("playbook unavailable")
		}
		if bad {
			return ir.Preparation{Tasks: []ir.NewTask{{Title: "Nowhere", Phase: "nowhere"}}}, nil
		}
		return ir.Preparation{}, nil
	}
	store := ir.NewMemoryStore()
	r, err := ir.NewResponder(ir.Config{Store: store, Prepare: prepare})
	require.NoError(t, err)
	defer r.Shutdown(ctx)

	fail = true
	_, err = r.Open(ctx, testAlice, ir.NewIncident{Title: "x", Severity: ir.SeverityLow})
	require.ErrorContains(t, err, "playbook unavailable")
	n, err := store.CountOpen(ctx)
	require.NoError(t, err)
	assert.Empty(t, n)

	fail = false
	inc, err := r.Open(ctx, testAlice, ir.NewIncident{Title: "x", Severity: ir.SeverityLow})
	require.NoError(t, err)
	bad = true
	_, err = r.Transition(ctx, testAlice, inc.ID, phases.Identify, "go")
	require.ErrorIs(t, err, ir.ErrInvalid)
	got, err := r.Get(ctx, inc.ID)
	require.NoError(t, err)
	assert.Equal(t, phases.Preparation, got.Phase)
	assert.Equal(t, int64(1), got.Version)
}

func TestAddTaskWithKeyIsAddedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore()})
	require.NoError(t, err)
	defer r.Shutdown(ctx)
	inc, err := r.Open(ctx, testAlice, ir.NewIncident{Title: "x", Severity: ir.SeverityLow})
	require.NoError(t, err)
	inc, err = r.AddTask(ctx, testAlice, inc.ID, ir.NewTask{Title: "Image the host", Key: "k", Role: ir.RoleAnalyst})
	require.NoError(t, err)
	again, err := r.AddTask(ctx, testAlice, inc.ID, ir.NewTask{Title: "Image the host", Key: "k"})
	require.NoError(t, err)
	assert.Equal(t, inc.Version, again.Version)
	assert.Len(t, again.Tasks, 1)
	_, err = r.AddTask(ctx, testAlice, inc.ID, ir.NewTask{Title: "y", Role: "boss"})
	assert.ErrorIs(t, err, ir.ErrInvalid)
}

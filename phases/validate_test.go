package phases_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

// smallDef returns a fresh, valid three-phase definition that validation
// cases break one problem at a time.
func smallDef() phases.Definition {
	return phases.Definition{
		Name:    "small",
		Title:   "Small",
		Initial: "new",
		Phases: []phases.PhaseDef{
			{Name: "new", Title: "New"},
			{Name: "work", Title: "Work", Marks: []phases.Milestone{phases.MilestoneAcknowledged}},
			{Name: "done", Title: "Done", Terminal: true, Marks: []phases.Milestone{phases.MilestoneClosed}},
		},
		Actions: []phases.ActionDef{
			{Name: "start", From: []phases.Phase{"new"}, To: "work"},
			{Name: "finish", From: []phases.Phase{"work"}, To: "done", Guards: []phases.GuardSpec{{Type: phases.GuardVerdictSet}}},
			{Name: "reopen", From: []phases.Phase{"done"}, To: "work"},
		},
	}
}

func TestNewAcceptsValidDefinition(t *testing.T) {
	t.Parallel()
	m, err := phases.New(smallDef())
	require.NoError(t, err)
	assert.Equal(t, "small", m.Name())
	assert.Equal(t, phases.Phase("new"), m.Initial())
	assert.Equal(t, smallDef(), m.Definition())
}

func TestNewReportsEachProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		breaks func(d *phases.Definition)
		want   []string
	}{
		{
			name:   "no name",
			breaks: func(d *phases.Definition) { d.Name = "" },
			want:   []string{"the model has no name"},
		},
		{
			name:   "no phases",
			breaks: func(d *phases.Definition) { d.Phases, d.Actions, d.Initial = nil, nil, "" },
			want:   []string{"the model has no phases", "the model has no initial phase"},
		},
		{
			name: "empty phase name",
			breaks: func(d *phases.Definition) {
				d.Phases = append(d.Phases, phases.PhaseDef{Title: "Nameless", Terminal: true})
			},
			want: []string{"phase 4 has no name"},
		},
		{
			// A nameless phase is one problem; an action leaving from ""
			// is another, and the report must not hide it.
			name: "action leaving from a nameless phase",
			breaks: func(d *phases.Definition) {
				d.Phases = append(d.Phases, phases.PhaseDef{Title: "Nameless", Terminal: true})
				d.Actions = append(d.Actions, phases.ActionDef{Name: "skip", From: []phases.Phase{""}, To: "done"})
			},
			want: []string{"phase 4 has no name", `action "skip" leaves from unknown phase ""`},
		},
		{
			name:   "duplicate phase",
			breaks: func(d *phases.Definition) { d.Phases = append(d.Phases, phases.PhaseDef{Name: "work"}) },
			want:   []string{`phase "work" is defined twice`},
		},
		{
			name: "badly formed phase name",
			breaks: func(d *phases.Definition) {
				d.Phases[1].Name = "In Progress"
				d.Actions[0].To = "In Progress"
				d.Actions[1].From = []phases.Phase{"In Progress"}
				d.Actions[2].To = "In Progress"
			},
			want: []string{`phase name "In Progress" must be lower-case letters, digits and underscores, starting with a letter`},
		},
		{
			name: "phase name starting with a digit",
			breaks: func(d *phases.Definition) {
				d.Phases[2].Name = "2done"
				d.Actions[1].To = "2done"
				d.Actions[2].From = []phases.Phase{"2done"}
			},
			want: []string{`phase name "2done" must be lower-case letters, digits and underscores, starting with a letter`},
		},
		{
			name:   "unknown milestone",
			breaks: func(d *phases.Definition) { d.Phases[2].Marks = []phases.Milestone{"finished"} },
			want:   []string{`phase "done" marks unknown milestone "finished"`},
		},
		{
			name:   "no terminal phase",
			breaks: func(d *phases.Definition) { d.Phases[2].Terminal = false },
			want:   []string{"the model has no terminal phase"},
		},
		{
			name:   "missing initial phase",
			breaks: func(d *phases.Definition) { d.Initial = "" },
			want:   []string{"the model has no initial phase"},
		},
		{
			name:   "unknown initial phase",
			breaks: func(d *phases.Definition) { d.Initial = "nowhere" },
			want:   []string{`initial phase "nowhere" is not a phase of the model`},
		},
		{
			name:   "empty action name",
			breaks: func(d *phases.Definition) { d.Actions[0].Name = "" },
			want:   []string{"action 1 has no name"},
		},
		{
			name: "duplicate action",
			breaks: func(d *phases.Definition) {
				d.Actions = append(d.Actions, phases.ActionDef{Name: "finish", From: []phases.Phase{"new"}, To: "done"})
			},
			want: []string{`action "finish" is defined twice`},
		},
		{
			name:   "badly formed action name",
			breaks: func(d *phases.Definition) { d.Actions[0].Name = "Start!" },
			want:   []string{`action name "Start!" must be lower-case letters, digits and underscores, starting with a letter`},
		},
		{
			name:   "action with no from",
			breaks: func(d *phases.Definition) { d.Actions = append(d.Actions, phases.ActionDef{Name: "skip", To: "done"}) },
			want:   []string{`action "skip" leaves from no phase`},
		},
		{
			name: "unknown from phase",
			breaks: func(d *phases.Definition) {
				d.Actions = append(d.Actions, phases.ActionDef{Name: "skip", From: []phases.Phase{"limbo"}, To: "done"})
			},
			want: []string{`action "skip" leaves from unknown phase "limbo"`},
		},
		{
			name: "unknown to phase",
			breaks: func(d *phases.Definition) {
				d.Actions = append(d.Actions, phases.ActionDef{Name: "skip", From: []phases.Phase{"new"}, To: "limbo"})
			},
			want: []string{`action "skip" leads to unknown phase "limbo"`},
		},
		{
			name: "missing to phase",
			breaks: func(d *phases.Definition) {
				d.Actions = append(d.Actions, phases.ActionDef{Name: "skip", From: []phases.Phase{"new"}})
			},
			want: []string{`action "skip" leads to no phase`},
		},
		{
			// looplab/fsm answers a self-transition with NoTransitionError
			// after running the callbacks, so the model refuses it up front.
			name: "self-transition",
			breaks: func(d *phases.Definition) {
				d.Actions = append(d.Actions, phases.ActionDef{Name: "stay", From: []phases.Phase{"new", "work"}, To: "work"})
			},
			want: []string{`action "stay" leads from "work" to itself`},
		},
		{
			name:   "unknown guard type",
			breaks: func(d *phases.Definition) { d.Actions[1].Guards = []phases.GuardSpec{{Type: "magic"}} },
			want:   []string{`action "finish": unknown guard type "magic"`},
		},
		{
			name:   "role_assigned without role",
			breaks: func(d *phases.Definition) { d.Actions[1].Guards = []phases.GuardSpec{{Type: phases.GuardRoleAssigned}} },
			want:   []string{`action "finish": guard role_assigned needs a role`},
		},
		{
			name: "unreachable phase",
			breaks: func(d *phases.Definition) {
				d.Phases = append(d.Phases, phases.PhaseDef{Name: "orphan"})
				d.Actions = append(d.Actions, phases.ActionDef{Name: "adopt", From: []phases.Phase{"orphan"}, To: "done"})
			},
			want: []string{`phase "orphan" cannot be reached from the initial phase "new"`},
		},
		{
			name: "non-terminal dead end",
			breaks: func(d *phases.Definition) {
				d.Phases = append(d.Phases, phases.PhaseDef{Name: "stuck"})
				d.Actions = append(d.Actions, phases.ActionDef{Name: "wander", From: []phases.Phase{"new"}, To: "stuck"})
			},
			want: []string{`phase "stuck" is not terminal but no action leaves it`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def := smallDef()
			tt.breaks(&def)

			m, err := phases.New(def)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, phases.ErrInvalidModel)
			var verr *phases.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, tt.want, verr.Problems)
			assert.Equal(t, def.Name, verr.Model)
			for _, p := range tt.want {
				assert.Contains(t, err.Error(), p)
			}
		})
	}
}

func TestNewListsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	def := phases.Definition{
		Name:    "",
		Initial: "begin",
		Phases: []phases.PhaseDef{
			{Name: "begin"},
			{Name: "begin"},
			{Name: "Middle"},
			{Name: "end", Marks: []phases.Milestone{"done"}},
		},
		Actions: []phases.ActionDef{
			{Name: "go", From: []phases.Phase{"begin"}, To: "end"},
			{Name: "go", From: []phases.Phase{"end"}, To: "end"},
			{Name: "", To: "nowhere"},
			{Name: "check", From: []phases.Phase{"begin"}, To: "Middle", Guards: []phases.GuardSpec{{Type: "vibes"}, {Type: phases.GuardRoleAssigned}}},
		},
	}

	_, err := phases.New(def)
	require.Error(t, err)
	assert.True(t, errors.Is(err, phases.ErrInvalidModel))
	var verr *phases.ValidationError
	require.True(t, errors.As(err, &verr))
	assert.Equal(t, []string{
		"the model has no name",
		`phase "begin" is defined twice`,
		`phase name "Middle" must be lower-case letters, digits and underscores, starting with a letter`,
		`phase "end" marks unknown milestone "done"`,
		"the model has no terminal phase",
		`action "go" is defined twice`,
		`action "go" leads from "end" to itself`,
		"action 3 has no name",
		`action "#3" leaves from no phase`,
		`action "#3" leads to unknown phase "nowhere"`,
		`action "check": unknown guard type "vibes"`,
		`action "check": guard role_assigned needs a role`,
		`phase "Middle" is not terminal but no action leaves it`,
	}, verr.Problems)
	assert.Contains(t, err.Error(), "(unnamed)", "an unnamed model still gets a readable error")

	// The same definition must give the same list in the same order, so a
	// person fixing problems one by one sees a stable report.
	_, again := phases.New(def)
	var verr2 *phases.ValidationError
	require.ErrorAs(t, again, &verr2)
	assert.Equal(t, verr.Problems, verr2.Problems)
}

func TestNewCopiesItsInput(t *testing.T) {
	t.Parallel()
	def := smallDef()
	m, err := phases.New(def)
	require.NoError(t, err)

	// Models are immutable: later edits to the caller's definition must not
	// leak in through shared slices.
	def.Phases[0].Title = "changed"
	def.Phases[1].Marks[0] = phases.MilestoneClosed
	def.Actions[0].From[0] = "done"
	def.Actions[1].Guards[0].Type = phases.GuardTasksDone

	assert.Equal(t, smallDef(), m.Definition())
	assert.Equal(t, []string{"verdict_set"}, m.GuardNames("finish"))
	assert.Equal(t, []phases.Action{"start"}, m.Available("new"))
}

func TestMustNew(t *testing.T) {
	t.Parallel()
	assert.NotPanics(t, func() { phases.MustNew(smallDef()) })

	bad := smallDef()
	bad.Initial = "nowhere"
	assert.PanicsWithError(t,
		`phases: invalid model small: initial phase "nowhere" is not a phase of the model`,
		func() { phases.MustNew(bad) })
}

package phases_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

func TestAvailableKeepsDefinitionOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model *phases.Model
		from  phases.Phase
		want  []phases.Action
	}{
		{phases.SANS, phases.Preparation, []phases.Action{phases.Identify, phases.Dismiss}},
		{phases.SANS, phases.Identification, []phases.Action{phases.Contain, phases.Dismiss}},
		{phases.SANS, phases.Eradication, []phases.Action{phases.Recover, phases.ReturnToContainment}},
		{phases.SANS, phases.Recovery, []phases.Action{phases.ReturnToContainment, phases.Review}},
		{phases.SANS, phases.Closed, []phases.Action{phases.Reopen}},
		{phases.NIST, phases.ContainmentEradicationRecovery, []phases.Action{phases.ReturnToAnalysis, phases.Review}},
		{phases.NIST, phases.PostIncidentActivity, []phases.Action{phases.ReturnToContainment, phases.Close}},
		{phases.DACER, phases.Recovery, []phases.Action{phases.ReturnToContainment, phases.Close}},
		{phases.ICARP, phases.Identification, []phases.Action{phases.Contain, phases.Dismiss}},
		{phases.SANS, "limbo", nil},
	}
	for _, tt := range tests {
		t.Run(tt.model.Name()+"/"+string(tt.from), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.model.Available(tt.from))
		})
	}
}

func TestAvailableIsStableAcrossCalls(t *testing.T) {
	t.Parallel()
	// One phase with many ways out: looplab/fsm lists them in map order,
	// which changes from call to call; the model must not.
	def := phases.Definition{Name: "fan-out", Initial: "hub", Phases: []phases.PhaseDef{{Name: "hub"}}}
	var want []phases.Action
	for i := range 24 {
		spoke := phases.Phase(fmt.Sprintf("spoke_%02d", i))
		action := phases.Action(fmt.Sprintf("go_%02d", 23-i))
		def.Phases = append(def.Phases, phases.PhaseDef{Name: spoke, Terminal: true})
		def.Actions = append(def.Actions, phases.ActionDef{Name: action, From: []phases.Phase{"hub"}, To: spoke})
		want = append(want, action)
	}
	m, err := phases.New(def)
	require.NoError(t, err)
	for range 200 {
		require.Equal(t, want, m.Available("hub"))
	}

	for _, b := range phases.Builtin() {
		for _, p := range b.Phases() {
			first := b.Available(p.Name)
			for range 50 {
				require.Equal(t, first, b.Available(p.Name))
			}
			assert.Equal(t, actionsFrom(b.Definition(), p.Name), first, "%s/%s", b.Name(), p.Name)
		}
	}
}

// actionsFrom computes, from the definition alone, the actions that leave p.
func actionsFrom(def phases.Definition, p phases.Phase) []phases.Action {
	var out []phases.Action
	for _, a := range def.Actions {
		if slices.Contains(a.From, p) {
			out = append(out, a.Name)
		}
	}
	return out
}

func TestTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		from   phases.Phase
		action phases.Action
		want   phases.Phase
		ok     bool
	}{
		{"forward", phases.Identification, phases.Contain, phases.Containment, true},
		{"loop from eradication", phases.Eradication, phases.ReturnToContainment, phases.Containment, true},
		{"loop from recovery", phases.Recovery, phases.ReturnToContainment, phases.Containment, true},
		{"dismiss from preparation", phases.Preparation, phases.Dismiss, phases.Closed, true},
		{"reopen", phases.Closed, phases.Reopen, phases.Identification, true},
		{"wrong phase", phases.Preparation, phases.Contain, "", false},
		{"unknown action", phases.Preparation, "teleport", "", false},
		{"unknown phase", "limbo", phases.Contain, "", false},
		{"action of another model", phases.Preparation, phases.Detect, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := phases.SANS.Target(tt.from, tt.action)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestClosingAndReopeningAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model      *phases.Model
		from       phases.Phase
		closing    phases.Action
		hasClosing bool
		reopening  phases.Action
		hasReopen  bool
	}{
		// Only a terminal phase reopens: from an open phase there is
		// nothing to reopen, even where actions lead onwards.
		{phases.SANS, phases.Preparation, phases.Dismiss, true, "", false},
		{phases.SANS, phases.LessonsLearned, phases.Close, true, "", false},
		{phases.SANS, phases.Containment, "", false, "", false},
		{phases.SANS, phases.Closed, "", false, phases.Reopen, true},
		{phases.NIST, phases.PostIncidentActivity, phases.Close, true, "", false},
		{phases.NIST, phases.Closed, "", false, phases.Reopen, true},
		{phases.DACER, phases.Recovery, phases.Close, true, "", false},
		{phases.ICARP, phases.Closed, "", false, phases.Reopen, true},
		{phases.ICARP, "limbo", "", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.model.Name()+"/"+string(tt.from), func(t *testing.T) {
			t.Parallel()
			closing, ok := tt.model.ClosingAction(tt.from)
			assert.Equal(t, tt.hasClosing, ok)
			assert.Equal(t, tt.closing, closing)
			reopening, ok := tt.model.ReopeningAction(tt.from)
			assert.Equal(t, tt.hasReopen, ok)
			assert.Equal(t, tt.reopening, reopening)
		})
	}
}

func TestTerminal(t *testing.T) {
	t.Parallel()
	def := smallDef()
	def.Phases = append(def.Phases, phases.PhaseDef{Name: "rejected", Terminal: true})
	def.Actions = append(def.Actions, phases.ActionDef{Name: "reject", From: []phases.Phase{"new"}, To: "rejected"})
	m, err := phases.New(def)
	require.NoError(t, err)

	assert.Equal(t, []phases.Phase{"done", "rejected"}, m.Terminal())
	assert.True(t, m.IsTerminal("done"))
	assert.True(t, m.IsTerminal("rejected"))
	assert.False(t, m.IsTerminal("new"))
	assert.False(t, m.IsTerminal("limbo"))

	got := m.Terminal()
	got[0] = "new"
	assert.Equal(t, []phases.Phase{"done", "rejected"}, m.Terminal())
	assert.False(t, m.IsTerminal("new"))
}

func TestPhaseActionAndTitles(t *testing.T) {
	t.Parallel()
	p, ok := phases.SANS.Phase(phases.Recovery)
	require.True(t, ok)
	assert.Equal(t, phases.Recovery, p.Name)
	assert.Equal(t, "Recovery", p.Title)
	assert.Equal(t, []phases.Milestone{phases.MilestoneContained, phases.MilestoneEradicated}, p.Marks)
	assert.False(t, p.Terminal)

	_, ok = phases.SANS.Phase("limbo")
	assert.False(t, ok)

	a, ok := phases.SANS.Action(phases.ReturnToContainment)
	require.True(t, ok)
	assert.Equal(t, phases.ActionDef{
		Name:  phases.ReturnToContainment,
		Title: "Return to containment",
		From:  []phases.Phase{phases.Eradication, phases.Recovery},
		To:    phases.Containment,
	}, a)
	_, ok = phases.SANS.Action("teleport")
	assert.False(t, ok)

	assert.Equal(t, "Lessons Learned", phases.SANS.PhaseTitle(phases.LessonsLearned))
	assert.Equal(t, "Containment, Eradication and Recovery", phases.NIST.PhaseTitle(phases.ContainmentEradicationRecovery))
	assert.Equal(t, "limbo", phases.SANS.PhaseTitle("limbo"), "an unknown phase reads as its name")

	def := smallDef()
	def.Phases[1].Title = ""
	def.Title = ""
	m, err := phases.New(def)
	require.NoError(t, err)
	assert.Equal(t, "work", m.PhaseTitle("work"), "a phase without a title reads as its name")
	assert.Equal(t, "small", m.Title())
	assert.Equal(t, "SANS PICERL", phases.SANS.Title())
}

func TestAccessorsReturnCopies(t *testing.T) {
	t.Parallel()
	m, err := phases.New(smallDef())
	require.NoError(t, err)

	p, ok := m.Phase("work")
	require.True(t, ok)
	p.Marks[0] = phases.MilestoneClosed

	a, ok := m.Action("finish")
	require.True(t, ok)
	a.From[0] = "new"
	a.Guards[0].Type = phases.GuardTasksDone

	avail := m.Available("new")
	avail[0] = "finish"

	ps := m.Phases()
	ps[0].Name = "changed"
	ps[1].Marks[0] = phases.MilestoneClosed

	as := m.Actions()
	as[0].To = "done"
	as[1].Guards[0].Verdicts = []string{"x"}

	names := m.GuardNames("finish")
	names[0] = "changed"

	assert.Equal(t, smallDef(), m.Definition())
	assert.Equal(t, []phases.Action{"start"}, m.Available("new"))
	assert.Equal(t, []string{"verdict_set"}, m.GuardNames("finish"))
	to, ok := m.Target("new", "start")
	assert.True(t, ok)
	assert.Equal(t, phases.Phase("work"), to)
}

func TestDefinitionIsADeepCopy(t *testing.T) {
	t.Parallel()
	want := phases.SANS.Definition()

	def := phases.SANS.Definition()
	def.Name = "changed"
	def.Phases[0].Name = "changed"
	def.Phases[1].Marks[0] = phases.MilestoneClosed
	def.Actions[0].From[0] = phases.Closed
	def.Actions[1].Guards[0].Role = "nobody"
	dismiss := slices.IndexFunc(def.Actions, func(a phases.ActionDef) bool { return a.Name == phases.Dismiss })
	require.GreaterOrEqual(t, dismiss, 0)
	def.Actions[dismiss].Guards[0].Verdicts[0] = "true_positive"

	assert.Equal(t, want, phases.SANS.Definition())
	a, ok := phases.SANS.Action(phases.Dismiss)
	require.True(t, ok)
	assert.Equal(t, []string{phases.VerdictFalsePositive, phases.VerdictBenign}, a.Guards[0].Verdicts)

	// Behaviour is unchanged too: a true positive still cannot be dismissed.
	_, err := phases.SANS.Fire(context.Background(), &fakeSubject{verdict: "true_positive"}, phases.Preparation, phases.Dismiss)
	assert.ErrorIs(t, err, phases.ErrGuardFailed)
}

func TestWithGuards(t *testing.T) {
	t.Parallel()
	evidence := phases.NamedGuard("evidence_preserved", phases.GuardFunc(func(_ context.Context, tr phases.Transition) error {
		if tr.Subject.HoldsRole("forensic_analyst") {
			return nil
		}
		return fmt.Errorf("no forensic analyst has imaged the hosts")
	}))
	m, err := phases.SANS.WithGuards(phases.Eradicate, evidence)
	require.NoError(t, err)
	require.NotSame(t, phases.SANS, m)

	assert.Equal(t, []string{"tasks_done"}, phases.SANS.GuardNames(phases.Eradicate), "the original is unchanged")
	assert.Equal(t, []string{"tasks_done", "evidence_preserved"}, m.GuardNames(phases.Eradicate), "added guards run after the built-in ones")
	assert.Equal(t, phases.SANS.GuardNames(phases.Contain), m.GuardNames(phases.Contain), "other actions keep their guards")
	assert.Equal(t, phases.SANS.Definition(), m.Definition(), "guards written in Go are not part of the definition")
	assert.Equal(t, phases.SANS.Name(), m.Name())

	ctx := context.Background()
	s := &fakeSubject{pending: map[phases.Phase][]string{phases.Containment: {"Revoke sessions"}}}
	_, err = m.Fire(ctx, s, phases.Containment, phases.Eradicate)
	assert.Equal(t, []string{
		"tasks_done: required tasks of containment not done: Revoke sessions",
		"evidence_preserved: no forensic analyst has imaged the hosts",
	}, refusalStrings(t, err))
	assert.ErrorContains(t, err, "evidence_preserved: no forensic analyst has imaged the hosts")

	got, err := phases.SANS.Fire(ctx, &fakeSubject{}, phases.Containment, phases.Eradicate)
	require.NoError(t, err, "the original model does not run the added guard")
	assert.Equal(t, phases.Eradication, got)

	got, err = m.Fire(ctx, &fakeSubject{roles: []string{"forensic_analyst"}}, phases.Containment, phases.Eradicate)
	require.NoError(t, err)
	assert.Equal(t, phases.Eradication, got)
}

func TestWithGuardsChainsWithoutSharing(t *testing.T) {
	t.Parallel()
	refuse := func(name string) phases.Guard {
		return phases.NamedGuard(name, phases.GuardFunc(func(context.Context, phases.Transition) error {
			return fmt.Errorf("%s says no", name)
		}))
	}
	first, err := phases.DACER.WithGuards(phases.Analyze, refuse("first"))
	require.NoError(t, err)
	second, err := first.WithGuards(phases.Analyze, refuse("second"))
	require.NoError(t, err)
	third, err := first.WithGuards(phases.Analyze, refuse("third"))
	require.NoError(t, err)

	assert.Empty(t, phases.DACER.GuardNames(phases.Analyze))
	assert.Equal(t, []string{"first"}, first.GuardNames(phases.Analyze))
	assert.Equal(t, []string{"first", "second"}, second.GuardNames(phases.Analyze))
	assert.Equal(t, []string{"first", "third"}, third.GuardNames(phases.Analyze), "siblings do not see each other's guards")

	_, err = third.Fire(context.Background(), readySubject(), phases.Detection, phases.Analyze)
	assert.Equal(t, []string{"first: first says no", "third: third says no"}, refusalStrings(t, err))
}

func TestWithGuardsRefusesBadInput(t *testing.T) {
	t.Parallel()
	ok := phases.GuardFunc(func(context.Context, phases.Transition) error { return nil })
	tests := []struct {
		name    string
		action  phases.Action
		guards  []phases.Guard
		wantIs  error
		wantMsg string
	}{
		{"unknown action", "teleport", []phases.Guard{ok}, phases.ErrUnknownAction, `"teleport"`},
		{"nil guard", phases.Close, []phases.Guard{ok, nil}, nil, "guard 1 is nil"},
		// A nil function or a name around nothing is as broken as a nil
		// interface: it would refuse every transition at run time instead.
		{"nil GuardFunc", phases.Close, []phases.Guard{phases.GuardFunc(nil)}, nil, "nil"},
		{"NamedGuard around nil", phases.Close, []phases.Guard{phases.NamedGuard("audit", nil)}, nil, "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := phases.SANS.WithGuards(tt.action, tt.guards...)
			require.Error(t, err)
			assert.Nil(t, m)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.ErrorContains(t, err, tt.wantMsg)
			assert.ErrorContains(t, err, "phases: ")
		})
	}
	assert.Equal(t, []string{"verdict_set", "tasks_done", "review_recorded"}, phases.SANS.GuardNames(phases.Close))
}

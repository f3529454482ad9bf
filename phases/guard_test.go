package phases_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

// fromOf returns the first phase action a leaves from in m, so that one table
// can refuse the same action in every built-in model.
func fromOf(t *testing.T, m *phases.Model, a phases.Action) phases.Phase {
	t.Helper()
	d, ok := m.Action(a)
	require.True(t, ok, "%s has no action %s", m.Name(), a)
	require.NotEmpty(t, d.From)
	return d.From[0]
}

func TestBuiltinGuardsRefuse(t *testing.T) {
	t.Parallel()
	type refusalCase struct {
		name    string
		action  phases.Action
		subject func(from phases.Phase) *fakeSubject
		want    func(from phases.Phase) []string
	}
	const (
		noCommander = "role_assigned(incident_commander): no incident commander is assigned"
		noVerdict   = "verdict_set: no verdict is set"
		notDismiss  = "verdict_set(false_positive|benign): the verdict must be one of false_positive, benign"
	)
	pending := func(from phases.Phase) string {
		return "tasks_done: required tasks of " + string(from) + " not done: Scope the incident, Brief legal"
	}
	withTasks := func(from phases.Phase) map[phases.Phase][]string {
		return map[phases.Phase][]string{from: {"Scope the incident", "Brief legal"}}
	}
	cases := []refusalCase{
		{
			name:    "contain without a commander",
			action:  phases.Contain,
			subject: func(phases.Phase) *fakeSubject { return &fakeSubject{roles: []string{"scribe"}} },
			want:    func(phases.Phase) []string { return []string{noCommander} },
		},
		{
			name:   "leave a phase with pending required tasks",
			action: phases.Contain,
			subject: func(from phases.Phase) *fakeSubject {
				return &fakeSubject{roles: []string{phases.RoleCommander}, pending: withTasks(from)}
			},
			want: func(from phases.Phase) []string { return []string{pending(from)} },
		},
		{
			name:    "every refusal is listed, not only the first",
			action:  phases.Contain,
			subject: func(from phases.Phase) *fakeSubject { return &fakeSubject{pending: withTasks(from)} },
			want:    func(from phases.Phase) []string { return []string{noCommander, pending(from)} },
		},
		{
			name:   "close without a verdict",
			action: phases.Close,
			subject: func(phases.Phase) *fakeSubject {
				return &fakeSubject{roles: []string{phases.RoleCommander}, reviewed: true, rootCause: true}
			},
			want: func(phases.Phase) []string { return []string{noVerdict} },
		},
		{
			name:   "close without a verdict and with pending tasks",
			action: phases.Close,
			subject: func(from phases.Phase) *fakeSubject {
				return &fakeSubject{pending: withTasks(from), reviewed: true, rootCause: true}
			},
			want: func(from phases.Phase) []string { return []string{noVerdict, pending(from)} },
		},
		{
			name:    "dismiss a true positive",
			action:  phases.Dismiss,
			subject: func(phases.Phase) *fakeSubject { return &fakeSubject{verdict: "true_positive"} },
			want:    func(phases.Phase) []string { return []string{notDismiss} },
		},
		{
			name:    "dismiss without a verdict",
			action:  phases.Dismiss,
			subject: func(phases.Phase) *fakeSubject { return &fakeSubject{} },
			want:    func(phases.Phase) []string { return []string{notDismiss} },
		},
	}
	for _, m := range phases.Builtin() {
		for _, tc := range cases {
			t.Run(m.Name()+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				from := fromOf(t, m, tc.action)
				to, ok := m.Target(from, tc.action)
				require.True(t, ok)

				got, err := m.Fire(context.Background(), tc.subject(from), from, tc.action)
				assert.Equal(t, from, got, "a refused transition stays where it was")
				assert.Equal(t, tc.want(from), refusalStrings(t, err))
				assert.NotErrorIs(t, err, phases.ErrInvalidTransition)

				var gerr *phases.GuardError
				require.ErrorAs(t, err, &gerr)
				assert.Equal(t, m.Name(), gerr.Model)
				assert.Equal(t, tc.action, gerr.Action)
				assert.Equal(t, from, gerr.From)
				assert.Equal(t, to, gerr.To)
			})
		}
	}
}

func TestTasksDoneAsksAboutThePhaseBeingLeft(t *testing.T) {
	t.Parallel()
	// Tasks of other phases, including the one being entered, must not block.
	s := &fakeSubject{
		roles: []string{phases.RoleCommander},
		pending: map[phases.Phase][]string{
			phases.Containment: {"Isolate the laptops"},
			phases.Closed:      {"File the report"},
		},
	}
	got, err := phases.SANS.Fire(context.Background(), s, phases.Identification, phases.Contain)
	require.NoError(t, err)
	assert.Equal(t, phases.Containment, got)

	_, err = phases.SANS.Fire(context.Background(), s, phases.Containment, phases.Eradicate)
	assert.Equal(t, []string{"tasks_done: required tasks of containment not done: Isolate the laptops"}, refusalStrings(t, err))
}

func TestGuardErrorMessage(t *testing.T) {
	t.Parallel()
	s := &fakeSubject{pending: map[phases.Phase][]string{phases.Identification: {"Scope the incident"}}}
	_, err := phases.SANS.Fire(context.Background(), s, phases.Identification, phases.Contain)
	require.Error(t, err)
	assert.EqualError(t, err, "phases: sans-picerl: cannot contain from identification to containment: "+
		"role_assigned(incident_commander): no incident commander is assigned; "+
		"tasks_done: required tasks of identification not done: Scope the incident")
}

// missingEvidenceError is a guard's own error type, which callers must be
// able to reach through the *GuardError.
type missingEvidenceError struct{ Host string }

func (e *missingEvidenceError) Error() string { return "no disk image of " + e.Host }

var errLegalHold = errors.New("legal hold not confirmed")

func TestGuardErrorExposesEachGuardsError(t *testing.T) {
	t.Parallel()
	m, err := phases.SANS.WithGuards(phases.Eradicate,
		phases.NamedGuard("evidence_preserved", phases.GuardFunc(func(context.Context, phases.Transition) error {
			return &missingEvidenceError{Host: "laptop-17"}
		})),
		phases.NamedGuard("legal_hold", phases.GuardFunc(func(context.Context, phases.Transition) error {
			return fmt.Errorf("ask counsel: %w", errLegalHold)
		})),
	)
	require.NoError(t, err)

	s := &fakeSubject{pending: map[phases.Phase][]string{phases.Containment: {"Revoke sessions"}}}
	_, err = m.Fire(context.Background(), s, phases.Containment, phases.Eradicate)
	require.Error(t, err)

	assert.ErrorIs(t, err, phases.ErrGuardFailed)
	assert.ErrorIs(t, err, errLegalHold)
	var missing *missingEvidenceError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, "laptop-17", missing.Host)

	var gerr *phases.GuardError
	require.ErrorAs(t, err, &gerr)
	require.Len(t, gerr.Refusals, 3)
	assert.Equal(t, []string{
		"tasks_done: required tasks of containment not done: Revoke sessions",
		"evidence_preserved: no disk image of laptop-17",
		"legal_hold: ask counsel: legal hold not confirmed",
	}, refusalStrings(t, err))
	assert.Len(t, gerr.Unwrap(), 3)
}

func TestGuardsSeeTheTransition(t *testing.T) {
	t.Parallel()
	var seen phases.Transition
	m, err := phases.NIST.WithGuards(phases.Review, phases.GuardFunc(func(_ context.Context, tr phases.Transition) error {
		seen = tr
		return nil
	}))
	require.NoError(t, err)

	s := readySubject()
	_, err = m.Fire(context.Background(), s, phases.ContainmentEradicationRecovery, phases.Review)
	require.NoError(t, err)
	assert.Equal(t, phases.Transition{
		Model:   "nist-800-61r2",
		Action:  phases.Review,
		From:    phases.ContainmentEradicationRecovery,
		To:      phases.PostIncidentActivity,
		Subject: s,
	}, seen)
}

func TestEveryGuardRunsEvenAfterARefusal(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	count := phases.GuardFunc(func(context.Context, phases.Transition) error {
		calls.Add(1)
		return errors.New("no")
	})
	m, err := phases.DACER.WithGuards(phases.Analyze, count, count, count)
	require.NoError(t, err)

	_, err = m.Fire(context.Background(), readySubject(), phases.Detection, phases.Analyze)
	assert.Equal(t, []string{"guard: no", "guard: no", "guard: no"}, refusalStrings(t, err),
		"an unnamed guard is called \"guard\"")
	assert.Equal(t, int32(3), calls.Load())
}

// stringerGuard names itself with a String method, as the Guard docs allow.
type stringerGuard struct{}

func (stringerGuard) Check(context.Context, phases.Transition) error {
	return errors.New("change freeze")
}
func (stringerGuard) String() string { return "change_freeze" }

func TestGuardNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		guard phases.Guard
		want  string
	}{
		{phases.RoleAssigned("scribe"), "role_assigned(scribe)"},
		{phases.TasksDone(), "tasks_done"},
		{phases.VerdictSet(), "verdict_set"},
		{phases.VerdictSet("benign", "duplicate"), "verdict_set(benign|duplicate)"},
		{phases.NamedGuard("four_eyes", phases.TasksDone()), "four_eyes"},
		{stringerGuard{}, "change_freeze"},
		{phases.GuardFunc(func(context.Context, phases.Transition) error { return nil }), "guard"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			m, err := phases.SANS.WithGuards(phases.Identify, tt.guard)
			require.NoError(t, err)
			assert.Equal(t, []string{tt.want}, m.GuardNames(phases.Identify))
		})
	}
}

func TestBuiltinGuardsDirectly(t *testing.T) {
	t.Parallel()
	tr := func(s phases.Subject) phases.Transition {
		return phases.Transition{Model: "m", Action: "go", From: "triage", To: "done", Subject: s}
	}
	tests := []struct {
		name    string
		guard   phases.Guard
		subject phases.Subject
		wantErr string
	}{
		{"role held", phases.RoleAssigned("communications_lead"), &fakeSubject{roles: []string{"communications_lead"}}, ""},
		{"role missing, underscores read as spaces", phases.RoleAssigned("communications_lead"), &fakeSubject{}, "no communications lead is assigned"},
		{"no tasks pending", phases.TasksDone(), &fakeSubject{}, ""},
		{"tasks pending", phases.TasksDone(), &fakeSubject{pending: map[phases.Phase][]string{"triage": {"a", "b"}}}, "required tasks of triage not done: a, b"},
		{"any verdict", phases.VerdictSet(), &fakeSubject{verdict: "true_positive"}, ""},
		{"no verdict", phases.VerdictSet(), &fakeSubject{}, "no verdict is set"},
		{"listed verdict", phases.VerdictSet("benign"), &fakeSubject{verdict: "benign"}, ""},
		{"unlisted verdict", phases.VerdictSet("benign", "duplicate"), &fakeSubject{verdict: "true_positive"}, "the verdict must be one of benign, duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.guard.Check(context.Background(), tr(tt.subject))
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestVerdictSetCopiesItsArguments(t *testing.T) {
	t.Parallel()
	verdicts := []string{"benign"}
	g := phases.VerdictSet(verdicts...)
	verdicts[0] = "true_positive"

	tr := phases.Transition{Subject: &fakeSubject{verdict: "benign"}}
	assert.NoError(t, g.Check(context.Background(), tr))
}

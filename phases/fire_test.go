package phases_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/looplab/fsm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

// assertNoFSMError checks that no looplab/fsm error type can be reached
// from err: callers must only ever branch on this package's errors.
func assertNoFSMError(t *testing.T, err error) {
	t.Helper()
	var (
		unknown    fsm.UnknownEventError
		invalid    fsm.InvalidEventError
		same       fsm.NoTransitionError
		canceled   fsm.CanceledError
		inProgress fsm.InTransitionError
		internal   fsm.InternalError
		async      fsm.AsyncError
		notIn      fsm.NotInTransitionError
	)
	assert.False(t, errors.As(err, &unknown), "fsm.UnknownEventError escaped: %v", err)
	assert.False(t, errors.As(err, &invalid), "fsm.InvalidEventError escaped: %v", err)
	assert.False(t, errors.As(err, &same), "fsm.NoTransitionError escaped: %v", err)
	assert.False(t, errors.As(err, &canceled), "fsm.CanceledError escaped: %v", err)
	assert.False(t, errors.As(err, &inProgress), "fsm.InTransitionError escaped: %v", err)
	assert.False(t, errors.As(err, &internal), "fsm.InternalError escaped: %v", err)
	assert.False(t, errors.As(err, &async), "fsm.AsyncError escaped: %v", err)
	assert.False(t, errors.As(err, &notIn), "fsm.NotInTransitionError escaped: %v", err)
}

func TestFireRefusesInvalidRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		from    phases.Phase
		action  phases.Action
		is      []error
		isNot   []error
		wantMsg string
	}{
		{
			name:    "unknown action",
			from:    phases.Preparation,
			action:  "teleport",
			is:      []error{phases.ErrUnknownAction, phases.ErrInvalidTransition},
			isNot:   []error{phases.ErrUnknownPhase, phases.ErrGuardFailed},
			wantMsg: "phases: sans-picerl: cannot teleport from preparation: the model has no such action",
		},
		{
			name:    "action of another model",
			from:    phases.Preparation,
			action:  phases.Detect,
			is:      []error{phases.ErrUnknownAction, phases.ErrInvalidTransition},
			isNot:   []error{phases.ErrUnknownPhase},
			wantMsg: "phases: sans-picerl: cannot detect from preparation: the model has no such action",
		},
		{
			name:    "action not leaving the current phase",
			from:    phases.Preparation,
			action:  phases.Close,
			is:      []error{phases.ErrInvalidTransition},
			isNot:   []error{phases.ErrUnknownAction, phases.ErrUnknownPhase, phases.ErrGuardFailed},
			wantMsg: "phases: sans-picerl: cannot close from preparation: the action does not leave from this phase",
		},
		{
			name:    "closing a closed incident",
			from:    phases.Closed,
			action:  phases.Close,
			is:      []error{phases.ErrInvalidTransition},
			isNot:   []error{phases.ErrUnknownAction, phases.ErrUnknownPhase},
			wantMsg: "phases: sans-picerl: cannot close from closed: the action does not leave from this phase",
		},
		{
			name:    "unknown current phase",
			from:    "limbo",
			action:  phases.Contain,
			is:      []error{phases.ErrUnknownPhase, phases.ErrInvalidTransition},
			isNot:   []error{phases.ErrUnknownAction},
			wantMsg: "phases: sans-picerl: cannot contain from limbo: the model has no such phase",
		},
		{
			name:    "phase of another model",
			from:    phases.DetectionAndAnalysis,
			action:  phases.Contain,
			is:      []error{phases.ErrUnknownPhase, phases.ErrInvalidTransition},
			wantMsg: "phases: sans-picerl: cannot contain from detection_and_analysis: the model has no such phase",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := phases.SANS.Fire(context.Background(), readySubject(), tt.from, tt.action)
			require.Error(t, err)
			assert.Equal(t, tt.from, got)
			assert.EqualError(t, err, tt.wantMsg)
			for _, target := range tt.is {
				assert.ErrorIs(t, err, target)
			}
			for _, target := range tt.isNot {
				assert.NotErrorIs(t, err, target)
			}
			var terr *phases.TransitionError
			require.ErrorAs(t, err, &terr)
			assert.Equal(t, "sans-picerl", terr.Model)
			assert.Equal(t, tt.action, terr.Action)
			assert.Equal(t, tt.from, terr.From)
			assertNoFSMError(t, err)
		})
	}
}

func TestFireRefusesNilSubject(t *testing.T) {
	t.Parallel()
	var got phases.Phase
	var err error
	require.NotPanics(t, func() {
		got, err = phases.SANS.Fire(context.Background(), nil, phases.Preparation, phases.Identify)
	})
	require.Error(t, err)
	assert.Equal(t, phases.Preparation, got)
	assert.Contains(t, err.Error(), "nil subject")
}

func TestFireHonoursAContextEndedBeforehand(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancelExpired()

	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"canceled", canceled, context.Canceled},
		{"deadline exceeded", expired, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := phases.SANS.Fire(tt.ctx, readySubject(), phases.Preparation, phases.Identify)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.NotErrorIs(t, err, phases.ErrGuardFailed)
			assert.Equal(t, phases.Preparation, got)
			assertNoFSMError(t, err)

			// Nothing is left stuck: the same transition with a live
			// context goes through.
			got, err = phases.SANS.Fire(context.Background(), readySubject(), phases.Preparation, phases.Identify)
			require.NoError(t, err)
			assert.Equal(t, phases.Identification, got)
		})
	}
}

type cancelKey struct{}

// cancelCallerGuard cancels the caller's context from inside the transition,
// when the caller put a cancel function in it, and then allows the move.
// looplab/fsm checks the context after the before_ callbacks and abandons
// the transition, which a long-lived machine would never recover from.
var cancelCallerGuard = phases.NamedGuard("cancel_caller", phases.GuardFunc(func(ctx context.Context, _ phases.Transition) error {
	if cancel, ok := ctx.Value(cancelKey{}).(context.CancelFunc); ok {
		cancel()
	}
	return nil
}))

func TestFireWhenAGuardCancelsTheContext(t *testing.T) {
	t.Parallel()
	m, err := phases.SANS.WithGuards(phases.Identify, cancelCallerGuard)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = context.WithValue(ctx, cancelKey{}, cancel)

	got, err := m.Fire(ctx, readySubject(), phases.Preparation, phases.Identify)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, phases.ErrGuardFailed, "every guard allowed the move")
	assert.Equal(t, phases.Preparation, got)
	assertNoFSMError(t, err)

	got, err = m.Fire(context.Background(), readySubject(), phases.Preparation, phases.Identify)
	require.NoError(t, err, "the same model works for the next transition")
	assert.Equal(t, phases.Identification, got)
}

func TestFireWhenAGuardPanics(t *testing.T) {
	t.Parallel()
	boom := phases.NamedGuard("boom", phases.GuardFunc(func(context.Context, phases.Transition) error {
		panic("kaboom")
	}))
	m, err := phases.SANS.WithGuards(phases.Identify, boom)
	require.NoError(t, err)

	ctx := context.Background()
	for range 3 {
		var got phases.Phase
		require.NotPanics(t, func() { got, err = m.Fire(ctx, readySubject(), phases.Preparation, phases.Identify) })
		assert.Equal(t, phases.Preparation, got)
		assert.Equal(t, []string{"boom: guard panicked: kaboom"}, refusalStrings(t, err),
			"a panic refuses, every time, and never leaves the model stuck")
		assertNoFSMError(t, err)
	}

	got, err := m.Fire(ctx, readySubject(), phases.Preparation, phases.Dismiss)
	require.NoError(t, err, "other actions of the same model still work")
	assert.Equal(t, phases.Closed, got)
	got, err = phases.SANS.Fire(ctx, readySubject(), phases.Preparation, phases.Identify)
	require.NoError(t, err)
	assert.Equal(t, phases.Identification, got)
}

func TestFireWhenTheSubjectPanics(t *testing.T) {
	t.Parallel()
	var got phases.Phase
	var err error
	require.NotPanics(t, func() {
		got, err = phases.SANS.Fire(context.Background(), panickySubject{}, phases.Identification, phases.Contain)
	})
	assert.Equal(t, phases.Identification, got)
	refusals := refusalStrings(t, err)
	require.Len(t, refusals, 2, "each guard's panic is its own refusal")
	assert.Contains(t, refusals[0], "panicked")
	assert.Contains(t, refusals[0], "HoldsRole exploded")
	assert.Contains(t, refusals[1], "PendingTasks exploded")
}

func TestSelfTransitionIsRefusedByValidation(t *testing.T) {
	t.Parallel()
	// looplab/fsm would run the callbacks and then return
	// NoTransitionError; the model never gets that far.
	def := smallDef()
	def.Actions = append(def.Actions, phases.ActionDef{Name: "refresh", From: []phases.Phase{"work"}, To: "work"})
	_, err := phases.New(def)
	require.ErrorIs(t, err, phases.ErrInvalidModel)
	assert.ErrorContains(t, err, `action "refresh" leads from "work" to itself`)
}

func TestFireIsADryRun(t *testing.T) {
	t.Parallel()
	// Fire returns the next phase and keeps no state, so asking twice from
	// the same phase gives the same answer.
	for range 3 {
		got, err := phases.NIST.Fire(context.Background(), readySubject(), phases.Preparation, phases.Detect)
		require.NoError(t, err)
		assert.Equal(t, phases.DetectionAndAnalysis, got)
	}
}

func TestFireConcurrently(t *testing.T) {
	t.Parallel()
	blocked := &fakeSubject{roles: []string{"scribe"}}
	counting, err := phases.SANS.WithGuards(phases.Review, phases.TasksDone())
	require.NoError(t, err)

	const workers = 32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			errs <- concurrentWork(i, counting, blocked)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// concurrentWork walks every built-in model, sees a refusal, and reads the
// model, all on models other goroutines use at the same time.
func concurrentWork(i int, extra *phases.Model, blocked phases.Subject) error {
	ctx := context.Background()
	for _, m := range append(phases.Builtin(), extra) {
		walks := builtinWalks[m]
		if m == extra {
			walks = builtinWalks[phases.SANS]
		}
		for _, walk := range walks {
			phase := m.Initial()
			for _, s := range walk {
				got, err := m.Fire(ctx, readySubject(), phase, s.action)
				if err != nil || got != s.want {
					return fmt.Errorf("worker %d: %s: %s from %s = %s, %v; want %s", i, m.Name(), s.action, phase, got, err, s.want)
				}
				phase = got
			}
		}
		if _, err := m.Fire(ctx, blocked, phases.Closed, phases.Reopen); err != nil {
			return fmt.Errorf("worker %d: %s: reopen: %w", i, m.Name(), err)
		}
		from := m.Definition().Actions[0].From[0]
		if c, ok := m.Action(phases.Contain); ok {
			from = c.From[0]
		}
		if _, err := m.Fire(ctx, blocked, from, phases.Contain); !errors.Is(err, phases.ErrGuardFailed) {
			return fmt.Errorf("worker %d: %s: contain without commander: %v", i, m.Name(), err)
		}
		_ = m.Available(from)
		_ = m.Mermaid()
		if _, err := m.WithGuards(phases.Close, phases.TasksDone()); err != nil {
			return err
		}
	}
	return nil
}

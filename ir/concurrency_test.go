package ir_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// startTogether runs f in n goroutines released at the same moment, and
// returns their errors once all have finished.
func startTogether(n int, f func(i int) error) []error {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

func TestConcurrentTransitionsOneWins(t *testing.T) {
	t.Parallel()
	for _, retries := range []int{0, -1, 20} {
		t.Run(fmt.Sprintf("retries=%d", retries), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *ir.Config) { c.ConflictRetries = retries })
			inc := h.open(phishing())
			before, events := h.snapshot(inc.ID)

			const n = 16
			errs := startTogether(n, func(i int) error {
				actor := ir.Actor{ID: fmt.Sprintf("responder-%02d", i)}
				_, err := h.r.Transition(h.ctx, actor, inc.ID, phases.Identify, "confirmed")
				return err
			})

			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case errors.Is(err, ir.ErrConflict), errors.Is(err, phases.ErrInvalidTransition):
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			assert.Equal(t, 1, won, "exactly one transition succeeds")

			after := h.stored(inc.ID)
			assert.Equal(t, before.Version+1, after.Version, "the version rose by exactly one")
			assert.Equal(t, phases.Identification, after.Phase)
			assert.Len(t, after.PhaseHistory, 2)
			tl := h.timeline(inc.ID)
			assert.Len(t, tl, events+1)
			assert.Len(t, eventsOfType(tl, ir.EventPhaseChanged), 1, "one phase_changed event")
		})
	}
}

func TestConcurrentNotesAreAllKept(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *ir.Config) { c.ConflictRetries = 100 })
	inc := h.open(phishing())

	const n = 32
	errs := startTogether(n, func(i int) error {
		_, err := h.r.AddNote(h.ctx, testBob, inc.ID, fmt.Sprintf("note %02d", i))
		return err
	})
	for i, err := range errs {
		assert.NoErrorf(t, err, "note %d", i)
	}

	after := h.stored(inc.ID)
	assert.Equal(t, int64(1+n), after.Version)
	tl := h.timeline(inc.ID)
	notes := eventsOfType(tl, ir.EventNoteAdded)
	require.Len(t, notes, n)
	seen := make(map[string]bool)
	versions := make(map[int64]bool)
	for _, e := range notes {
		seen[dataOf[*ir.NoteAdded](t, e).Text] = true
		versions[e.Version] = true
	}
	for i := range n {
		assert.Truef(t, seen[fmt.Sprintf("note %02d", i)], "note %02d is in the timeline", i)
	}
	assert.Len(t, versions, n, "every note has its own version")
	for i, e := range tl {
		assert.Equal(t, int64(i+1), e.Seq, "sequence numbers have no gaps")
	}
}

func TestConflictsAreRetriedThenReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		retries  int
		attempts int64
	}{
		{retries: 0, attempts: 21}, // zero means the default of 20 retries
		{retries: -1, attempts: 1},
		{retries: -7, attempts: 1},
		{retries: 1, attempts: 2},
		{retries: 5, attempts: 6},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("retries=%d", tt.retries), func(t *testing.T) {
			t.Parallel()
			store := &alwaysConflictStore{}
			h := newHarness(t, func(c *ir.Config) {
				store.Store = c.Store
				c.Store = store
				c.ConflictRetries = tt.retries
			})
			inc := h.open(phishing())
			before, events := h.snapshot(inc.ID)
			store.conflicting.Store(true)

			got, err := h.r.AddNote(h.ctx, testAlice, inc.ID, "lost in the race")
			assert.Nil(t, got)
			assert.ErrorIs(t, err, ir.ErrConflict)
			assert.Equal(t, tt.attempts, store.refused.Load(), "attempts")
			h.assertUnchanged(t, before, events)

			store.refused.Store(0)
			_, err = h.r.Transition(h.ctx, testAlice, inc.ID, phases.Identify, "")
			assert.ErrorIs(t, err, ir.ErrConflict)
			assert.Equal(t, tt.attempts, store.refused.Load(), "attempts of a transition")
			h.assertUnchanged(t, before, events)
		})
	}
}

func TestRetryChecksTheChangeAgain(t *testing.T) {
	t.Parallel()
	// A store that lets one other writer in before the first write: the
	// retried transition sees the fresh incident and fails as such. The
	// other writer is another Responder on the same store, as another
	// process would be: one Responder queues its own writers.
	store := &interleavingStore{}
	h := newHarness(t, func(c *ir.Config) {
		store.Store = c.Store
		c.Store = store
	})
	other := newHarness(t, func(c *ir.Config) { c.Store = h.store })
	inc := h.open(phishing())
	store.before = func() {
		_, err := other.r.Transition(h.ctx, testBob, inc.ID, phases.Identify, "bob was faster")
		require.NoError(t, err)
	}
	_, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Identify, "alice")
	assert.ErrorIs(t, err, phases.ErrInvalidTransition, "the retry sees the incident already identified")

	after := h.stored(inc.ID)
	assert.Equal(t, int64(2), after.Version)
	tl := h.timeline(inc.ID)
	require.Len(t, tl, 2)
	assert.Equal(t, testBob, tl[1].Actor)
}

// interleavingStore runs before, once, just ahead of the first Apply that
// follows its being set.
type interleavingStore struct {
	ir.Store
	mu     sync.Mutex
	before func()
}

func (s *interleavingStore) Apply(ctx context.Context, ch ir.Change) error {
	s.mu.Lock()
	f := s.before
	s.before = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return s.Store.Apply(ctx, ch)
}

// TestOneResponderQueuesItsWriters changes one incident from many
// goroutines through one Responder that never retries: the Responder
// queues them, so none conflicts and every change lands.
func TestOneResponderQueuesItsWriters(t *testing.T) {
	t.Parallel()
	for _, n := range []int{8, 16} {
		t.Run(fmt.Sprintf("writers=%d", n), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *ir.Config) { c.ConflictRetries = -1 })
			inc := h.open(phishing())
			const each = 8
			errs := startTogether(n, func(i int) error {
				for j := range each {
					var err error
					if j%2 == 0 {
						_, err = h.r.AddNote(h.ctx, testBob, inc.ID, fmt.Sprintf("writer %02d note %d", i, j))
					} else {
						_, err = h.r.AddTask(h.ctx, testBob, inc.ID, ir.NewTask{Title: fmt.Sprintf("writer %02d task %d", i, j)})
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
			for i, err := range errs {
				assert.NotErrorIs(t, err, ir.ErrConflict)
				assert.NoErrorf(t, err, "writer %d", i)
			}
			after := h.stored(inc.ID)
			assert.Equal(t, int64(1+n*each), after.Version)
			assert.Len(t, after.Tasks, n*each/2)
			notes := eventsOfType(h.timeline(inc.ID), ir.EventNoteAdded)
			assert.Len(t, notes, n*each/2)
		})
	}
}

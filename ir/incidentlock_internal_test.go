package ir

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// blockingStore holds every Apply until release is closed, telling entered
// when one has started.
type blockingStore struct {
	Store
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) Apply(ctx context.Context, ch Change) error {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.Apply(ctx, ch)
}

// users returns how many callers hold or wait for id's lock.
func (l *incidentLocks) users(id ID) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[id]; e != nil {
		return e.users
	}
	return 0
}

func newLockTestResponder(t *testing.T, store Store) *Responder {
	t.Helper()
	r, err := NewResponder(Config{Store: store, TracerProvider: tracenoop.NewTracerProvider(),
		MeterProvider: metricnoop.NewMeterProvider()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Shutdown(context.Background())) })
	return r
}

// TestCancelWhileQueued cancels the context of a change waiting for another
// change to the same incident: it returns the context's error, writes
// nothing, and leaves no lock behind once the other change is done.
func TestCancelWhileQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := NewMemoryStore()
	store := &blockingStore{Store: mem, entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := newLockTestResponder(t, store)
	alice := Actor{ID: "alice"}
	close(store.release)
	inc, err := r.Open(ctx, alice, NewIncident{Title: "Queued", Severity: SeverityLow})
	require.NoError(t, err)
	<-store.entered
	store.release = make(chan struct{})

	first := make(chan error, 1)
	go func() {
		_, err := r.AddNote(ctx, alice, inc.ID, "first")
		first <- err
	}()
	<-store.entered // the first change holds the lock, inside Apply

	waitCtx, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() {
		_, err := r.AddNote(waitCtx, alice, inc.ID, "second")
		second <- err
	}()
	require.Eventually(t, func() bool { return r.locks.users(inc.ID) == 2 }, 10*time.Second, time.Millisecond,
		"the second change queues behind the first")
	cancel()
	err = <-second
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, r.locks.users(inc.ID), "the cancelled change left the queue")

	close(store.release)
	require.NoError(t, <-first)
	assert.Zero(t, r.locks.len(), "no lock is left once no one holds or waits")

	got, err := mem.Get(ctx, inc.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Version, "only the first note was written")
	events, err := timelineOf(ctx, mem, inc.ID)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, "first", events[1].Data.(*NoteAdded).Text)
}

// TestLocksAreDropped changes many incidents from many goroutines, with
// changes that succeed and changes that fail: afterwards no lock is left,
// so the locks never grow with the number of incidents touched.
func TestLocksAreDropped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newLockTestResponder(t, NewMemoryStore())
	alice := Actor{ID: "alice"}
	var ids []ID
	for i := range 20 {
		inc, err := r.Open(ctx, alice, NewIncident{Title: fmt.Sprintf("Incident %d", i), Severity: SeverityLow})
		require.NoError(t, err)
		ids = append(ids, inc.ID)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i, id := range ids {
				_, err := r.AddNote(ctx, alice, id, fmt.Sprintf("writer %d", w))
				assert.NoError(t, err)
				_, err = r.CompleteTask(ctx, alice, id, 1000+i, "") // no such task: refused
				assert.ErrorIs(t, err, ErrInvalid)
				_, err = r.AddNote(ctx, alice, "no-such-incident", "lost")
				assert.ErrorIs(t, err, ErrNotFound)
			}
		})
	}
	wg.Wait()
	assert.Zero(t, r.locks.len())
	for _, id := range ids {
		events, err := timelineOf(ctx, r.store, id)
		require.NoError(t, err)
		assert.Len(t, events, 1+8)
	}
}

// handOffStore counts reads, holds each Apply until release is closed
// (telling entered, which must have room, when one has started), and runs
// after, once, after the first Apply that follows its being set.
type handOffStore struct {
	Store
	gets    atomic.Int64
	entered chan struct{}
	release chan struct{}
	after   func()
}

func (s *handOffStore) Get(ctx context.Context, id ID) (*Incident, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, id)
}

func (s *handOffStore) Apply(ctx context.Context, ch Change) error {
	s.entered <- struct{}{}
	<-s.release
	err := s.Store.Apply(ctx, ch)
	if f := s.after; f != nil {
		s.after = nil
		f()
	}
	return err
}

// TestQueuedChangeUsesTheIncidentWritten checks that changes start from the
// incident the Responder wrote last (on opening it, or by the change before
// in the queue), without reading it back; and that when another writer changed the
// incident in between, the stale copy is refused by the store and the
// change is made again on the incident read afresh.
func TestQueuedChangeUsesTheIncidentWritten(t *testing.T) {
	t.Parallel()
	for _, interloper := range []bool{false, true} {
		t.Run(fmt.Sprintf("interloper=%v", interloper), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mem := NewMemoryStore()
			store := &handOffStore{Store: mem, entered: make(chan struct{}, 8), release: make(chan struct{})}
			r := newLockTestResponder(t, store)
			other := newLockTestResponder(t, mem)
			alice := Actor{ID: "alice"}
			close(store.release)
			inc, err := r.Open(ctx, alice, NewIncident{Title: "Handed on", Severity: SeverityLow})
			require.NoError(t, err)
			<-store.entered
			store.release = make(chan struct{})
			if interloper {
				store.after = func() {
					_, err := other.AddNote(ctx, alice, inc.ID, "from another process")
					assert.NoError(t, err)
				}
			}
			store.gets.Store(0)

			first := make(chan error, 1)
			go func() {
				_, err := r.AddNote(ctx, alice, inc.ID, "first")
				first <- err
			}()
			<-store.entered
			second := make(chan error, 1)
			go func() {
				_, err := r.AddNote(ctx, alice, inc.ID, "second")
				second <- err
			}()
			require.Eventually(t, func() bool { return r.locks.users(inc.ID) == 2 }, 10*time.Second, time.Millisecond)
			close(store.release)
			require.NoError(t, <-first)
			require.NoError(t, <-second)

			events, err := timelineOf(ctx, mem, inc.ID)
			require.NoError(t, err)
			var notes []string
			for _, e := range events[1:] {
				notes = append(notes, e.Data.(*NoteAdded).Text)
			}
			if interloper {
				assert.Equal(t, []string{"first", "from another process", "second"}, notes)
				assert.Equal(t, int64(1), store.gets.Load(), "the second change read the incident again after its conflict")
			} else {
				assert.Equal(t, []string{"first", "second"}, notes)
				assert.Zero(t, store.gets.Load(), "no change read the incident back")
			}
			assert.Zero(t, r.locks.len())
		})
	}
}

// timelineOf reads the whole timeline of incident id from st.
func timelineOf(ctx context.Context, st Store, id ID) ([]Event, error) {
	page, err := st.Timeline(ctx, id, TimelineQuery{Limit: MaxPageSize})
	if err != nil {
		return nil, err
	}
	if page.Next != 0 {
		return nil, fmt.Errorf("timeline of %s is longer than one page", id)
	}
	return page.Events, nil
}

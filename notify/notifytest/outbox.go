package notifytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

// OutboxStore is a store under test: its [notify.Outbox], and a way to
// leave messages in it as the store's changes do.
type OutboxStore struct {
	notify.Outbox
	// Write leaves msgs, all about the same incident, in the outbox in one
	// transaction, as a change to that incident that carries them does
	// (opening the incident first if the store needs it).
	Write func(ctx context.Context, msgs []notify.OutboxMessage) error
}

// TestOutbox checks that the stores newStore makes keep the contract of
// [notify.Outbox]: messages are kept byte for byte, handed out oldest
// first, held by one claimer at a time until its lease lapses, given back
// by Retry with a due time, and removed only by the acknowledgement of the
// claimer holding them, so none is ever lost. Every implementation runs it
// from its own tests; the incident stores do through irtest.OutboxStore:
//
//	func TestOutbox(t *testing.T) {
//		notifytest.TestOutbox(t, func(t *testing.T, clock *notifytest.Clock) notifytest.OutboxStore {
//			return irtest.OutboxStore(ir.NewMemoryStore(ir.MemoryClock(clock)))
//		})
//	}
//
// newStore must return a new, empty store that reads the time from clock
// (the suite moves it to make leases lapse), and release it with
// t.Cleanup. Subtests run in parallel.
func TestOutbox(t *testing.T, newStore func(t *testing.T, clock *Clock) OutboxStore) {
	s := outboxSuite{newStore: newStore}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Written", s.testWritten},
		{"OldestFirst", s.testOldestFirst},
		{"ClaimHolds", s.testClaimHolds},
		{"LapsedClaimStillAcks", s.testLapsedClaimStillAcks},
		{"Retry", s.testRetry},
		{"RetryKeepsShortError", s.testRetryKeepsShortError},
		{"DueAtOnce", s.testDueAtOnce},
		{"InvalidClaim", s.testInvalidClaim},
		{"CanceledContext", s.testCanceledContext},
		{"ConcurrentClaimers", s.testConcurrentClaimers},
		{"OldestOutbox", s.testOldest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type outboxSuite struct {
	newStore func(t *testing.T, clock *Clock) OutboxStore
}

// lease is the suite's claim lease; the clock moves past it on purpose only.
const lease = time.Minute

func (s outboxSuite) store(t *testing.T) (OutboxStore, *Clock) {
	t.Helper()
	clock := NewClock(Epoch)
	st := s.newStore(t, clock)
	require.NotNil(t, st.Outbox, "newStore returned no outbox")
	require.NotNil(t, st.Write, "newStore returned no Write")
	return st, clock
}

// messages returns n messages about incident, keyed from first on, with
// payloads that are not text.
func messages(incident string, first, n int) []notify.OutboxMessage {
	msgs := make([]notify.OutboxMessage, n)
	for i := range msgs {
		key := fmt.Sprintf("%s/%d", incident, first+i)
		msgs[i] = notify.OutboxMessage{Key: key, Incident: incident, Type: "note_added",
			Payload: append([]byte{0, 0xff, '\n'}, key...)}
	}
	return msgs
}

// write leaves messages about incident in st, in writes of one message
// each after one of two, and returns them in the order they were written.
func write(t *testing.T, st OutboxStore, incident string, n int) []notify.OutboxMessage {
	t.Helper()
	var all []notify.OutboxMessage
	for i := 0; i < n; {
		size := min(1+len(all)%2, n-i)
		msgs := messages(incident, i+1, size)
		require.NoError(t, st.Write(context.Background(), msgs))
		all = append(all, msgs...)
		i += size
	}
	return all
}

// claim claims up to limit messages for owner and fails the test on error.
func claim(t *testing.T, o notify.Outbox, owner string, limit int) []notify.OutboxEntry {
	t.Helper()
	got, err := o.Claim(context.Background(), owner, limit, lease)
	require.NoError(t, err)
	return got
}

// keys returns the keys of entries.
func keys(entries []notify.OutboxEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Key
	}
	return out
}

// messageKeys returns the keys of msgs.
func messageKeys(msgs []notify.OutboxMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Key
	}
	return out
}

func (s outboxSuite) testWritten(t *testing.T) {
	st, clock := s.store(t)
	assert.Empty(t, claim(t, st, "worker-1", 10), "a new outbox is empty")
	msgs := messages("INC-000001", 1, 2)
	clock.Advance(time.Second)
	require.NoError(t, st.Write(context.Background(), msgs))

	got := claim(t, st, "worker-1", 10)
	require.Len(t, got, 2)
	for i, e := range got {
		want := msgs[i]
		assert.Equal(t, want.Key, e.Key)
		assert.Equal(t, want.Incident, e.Incident)
		assert.Equal(t, want.Type, e.Type)
		assert.Equal(t, want.Payload, e.Payload, "payloads are kept byte for byte")
		assert.Equal(t, 1, e.Attempts)
		assert.Empty(t, e.LastError)
		assert.True(t, e.CreatedAt.Equal(Epoch.Add(time.Second)), "created at %v, want the store clock's %v", e.CreatedAt, Epoch.Add(time.Second))
	}
	assert.Less(t, got[0].ID, got[1].ID, "entries of one write keep their order")
}

func (s outboxSuite) testOldestFirst(t *testing.T) {
	st, _ := s.store(t)
	a := write(t, st, "INC-000002", 3)
	b := write(t, st, "INC-000001", 3)
	want := messageKeys(append(a, b...))

	var got []string
	for range 3 {
		page := claim(t, st, "worker-1", 2)
		require.Len(t, page, 2)
		got = append(got, keys(page)...)
	}
	assert.Equal(t, want, got, "messages are handed out in the order they were written")
	assert.Empty(t, claim(t, st, "worker-1", 2), "every message is claimed")
}

func (s outboxSuite) testClaimHolds(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	write(t, st, "INC-000001", 1)

	got := claim(t, st, "worker-1", 10)
	require.Len(t, got, 1)
	id := got[0].ID
	clock.Advance(lease - time.Second)
	assert.Empty(t, claim(t, st, "worker-2", 10), "a held claim keeps the message from other claimers")

	clock.Advance(time.Second)
	again := claim(t, st, "worker-2", 10)
	require.Len(t, again, 1, "a lapsed claim hands the message out again")
	assert.Equal(t, id, again[0].ID)
	assert.Equal(t, 2, again[0].Attempts)

	err := st.Ack(ctx, "worker-1", id)
	require.ErrorIs(t, err, notify.ErrConflict, "the first claimer lost the message to the second")
	err = st.Retry(ctx, "worker-1", id, clock.Now(), "late")
	require.ErrorIs(t, err, notify.ErrConflict)
	require.NoError(t, st.Ack(ctx, "worker-2", id))
	require.ErrorIs(t, st.Ack(ctx, "worker-2", id), notify.ErrNotFound, "acknowledged once")
	require.ErrorIs(t, st.Retry(ctx, "worker-2", id, clock.Now(), ""), notify.ErrNotFound)
	clock.Advance(2 * lease)
	assert.Empty(t, claim(t, st, "worker-1", 10), "an acknowledged message is gone")
}

func (s outboxSuite) testLapsedClaimStillAcks(t *testing.T) {
	st, clock := s.store(t)
	write(t, st, "INC-000001", 1)
	got := claim(t, st, "worker-1", 10)
	require.Len(t, got, 1)
	clock.Advance(2 * lease)
	require.NoError(t, st.Ack(context.Background(), "worker-1", got[0].ID),
		"a lapsed claim nobody else took is still the claimer's")
	assert.Empty(t, claim(t, st, "worker-2", 10))
}

// testOldest checks the oldest message's creation time of an outbox that
// is a notify.OutboxAger: claimed and held back ones count until they are
// acknowledged.
func (s outboxSuite) testOldest(t *testing.T) {
	st, clock := s.store(t)
	ager, ok := st.Outbox.(notify.OutboxAger)
	if !ok {
		t.Skip("the outbox is no notify.OutboxAger")
	}
	ctx := context.Background()
	oldest := func() (time.Time, bool) {
		t.Helper()
		at, ok, err := ager.OldestOutbox(ctx)
		require.NoError(t, err)
		return at, ok
	}
	_, found := oldest()
	assert.False(t, found, "an empty outbox has an oldest message")
	first := clock.Now()
	write(t, st, "INC-000900", 1)
	clock.Advance(time.Minute)
	second := clock.Now()
	write(t, st, "INC-000901", 1)
	at, found := oldest()
	require.True(t, found)
	assert.True(t, at.Equal(first), "oldest written at %v, want %v", at, first)
	got := claim(t, st, "w", 1)
	require.Len(t, got, 1)
	at, _ = oldest()
	assert.True(t, at.Equal(first), "a claimed message does not count")
	require.NoError(t, st.Ack(ctx, "w", got[0].ID))
	at, found = oldest()
	require.True(t, found)
	assert.True(t, at.Equal(second), "oldest written at %v, want %v", at, second)
	got = claim(t, st, "w", 1)
	require.Len(t, got, 1)
	require.NoError(t, st.Retry(ctx, "w", got[0].ID, clock.Now().Add(time.Hour), "503"))
	at, _ = oldest()
	assert.True(t, at.Equal(second), "a message held back for a retry does not count")
	clock.Advance(time.Hour)
	got = claim(t, st, "w", 1)
	require.Len(t, got, 1)
	require.NoError(t, st.Ack(ctx, "w", got[0].ID))
	_, found = oldest()
	assert.False(t, found, "an emptied outbox has an oldest message")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err := ager.OldestOutbox(canceled)
	assert.ErrorIs(t, err, context.Canceled)
}

func (s outboxSuite) testRetry(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	write(t, st, "INC-000001", 2)
	got := claim(t, st, "worker-1", 1)
	require.Len(t, got, 1)
	first := got[0]

	due := clock.Now().Add(5 * time.Minute)
	require.NoError(t, st.Retry(ctx, "worker-1", first.ID, due, "smtp: 451 try later"))
	next := claim(t, st, "worker-2", 10)
	require.Len(t, next, 1, "a message given back is not due before its time; the others are")
	assert.NotEqual(t, first.ID, next[0].ID)
	require.NoError(t, st.Ack(ctx, "worker-2", next[0].ID))

	clock.Advance(5*time.Minute - time.Second)
	assert.Empty(t, claim(t, st, "worker-2", 10))
	clock.Advance(time.Second)
	again := claim(t, st, "worker-2", 10)
	require.Len(t, again, 1)
	assert.Equal(t, first.ID, again[0].ID)
	assert.Equal(t, 2, again[0].Attempts)
	assert.Equal(t, "smtp: 451 try later", again[0].LastError)
	assert.Equal(t, first.Payload, again[0].Payload)
	require.ErrorIs(t, st.Retry(ctx, "worker-1", first.ID, due, ""), notify.ErrConflict,
		"only the claimer holding a message gives it back")
}

func (s outboxSuite) testRetryKeepsShortError(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	write(t, st, "INC-000001", 1)
	got := claim(t, st, "worker-1", 1)
	require.Len(t, got, 1)
	long := strings.Repeat("é", notify.MaxOutboxError) // two bytes each
	require.NoError(t, st.Retry(ctx, "worker-1", got[0].ID, Epoch, long))
	again := claim(t, st, "worker-1", 1)
	require.Len(t, again, 1)
	assert.LessOrEqual(t, len(again[0].LastError), notify.MaxOutboxError)
	assert.True(t, strings.HasPrefix(long, again[0].LastError), "the error is cut, on a character boundary")
	assert.NotEmpty(t, again[0].LastError)
}

// testDueAtOnce checks that a message is due the moment it is written, and
// again the moment Retry says, even on a clock finer than a database keeps.
func (s outboxSuite) testDueAtOnce(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	clock.Set(Epoch.Add(500 * time.Nanosecond))
	write(t, st, "INC-000001", 1)
	got := claim(t, st, "worker-1", 10)
	require.Len(t, got, 1, "a message is due when it is written")
	require.NoError(t, st.Retry(ctx, "worker-1", got[0].ID, clock.Now(), "try again now"))
	require.Len(t, claim(t, st, "worker-1", 10), 1, "a message given back for now is due now")
}

func (s outboxSuite) testInvalidClaim(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	write(t, st, "INC-000001", 1)
	for name, call := range map[string]func() error{
		"no owner":   func() error { _, err := st.Claim(ctx, "", 1, lease); return err },
		"zero limit": func() error { _, err := st.Claim(ctx, "w", 0, lease); return err },
		"huge limit": func() error { _, err := st.Claim(ctx, "w", notify.MaxClaim+1, lease); return err },
		"no lease":   func() error { _, err := st.Claim(ctx, "w", 1, 0); return err },
		"long owner": func() error {
			_, err := st.Claim(ctx, strings.Repeat("w", notify.MaxOutboxOwner+1), 1, lease)
			return err
		},
		"tiny lease":     func() error { _, err := st.Claim(ctx, "w", 1, time.Millisecond); return err },
		"negative limit": func() error { _, err := st.Claim(ctx, "w", -1, lease); return err },
	} {
		assert.ErrorIs(t, call(), notify.ErrInvalid, name)
	}
	got := claim(t, st, "worker-1", 10)
	require.Len(t, got, 1, "refused claims took nothing")
	assert.Equal(t, 1, got[0].Attempts)
}

func (s outboxSuite) testCanceledContext(t *testing.T) {
	st, _ := s.store(t)
	write(t, st, "INC-000001", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := st.Claim(ctx, "worker-1", 10, lease)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	got := claim(t, st, "worker-1", 10)
	require.Len(t, got, 1, "a canceled claim took nothing")
	assert.Equal(t, 1, got[0].Attempts)
	require.ErrorIs(t, st.Ack(ctx, "worker-1", got[0].ID), context.Canceled)
	require.ErrorIs(t, st.Retry(ctx, "worker-1", got[0].ID, Epoch, ""), context.Canceled)
	require.NoError(t, st.Ack(context.Background(), "worker-1", got[0].ID), "a canceled ack removed nothing")
}

// testConcurrentClaimers runs claimers side by side over many messages:
// while claims hold, no message reaches two of them, and every message is
// delivered.
func (s outboxSuite) testConcurrentClaimers(t *testing.T) {
	st, _ := s.store(t)
	const incidents, each, workers = 8, 6, 4
	var want []string
	for i := range incidents {
		want = append(want, messageKeys(write(t, st, fmt.Sprintf("INC-%06d", i+1), each))...)
	}
	var (
		mu   sync.Mutex
		seen = make(map[string]string)
		dups []string
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for w := range workers {
		owner := fmt.Sprintf("worker-%d", w+1)
		wg.Go(func() {
			ctx := context.Background()
			for {
				got, err := st.Claim(ctx, owner, 3, lease)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				for _, e := range got {
					mu.Lock()
					if prev, ok := seen[e.Key]; ok {
						dups = append(dups, fmt.Sprintf("%s to %s and %s", e.Key, prev, owner))
					}
					seen[e.Key] = owner
					mu.Unlock()
					if err := st.Ack(ctx, owner, e.ID); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Empty(t, dups, "no message reaches two claimers")
	got := make([]string, 0, len(seen))
	for k := range seen {
		got = append(got, k)
	}
	assert.ElementsMatch(t, want, got, "every message is delivered")
	assert.Empty(t, claim(t, st, "worker-1", 10))
}

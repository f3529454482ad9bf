package evidence_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

// movingStore is a memory ledger store whose appends conflict, as if other
// writers kept taking the head of the log first: the next conflicts of
// them, or every one while forever is set.
type movingStore struct {
	*evidence.MemoryLedgerStore
	conflicts atomic.Int64
	forever   atomic.Bool
	met       atomic.Int64
}

func (s *movingStore) Append(ctx context.Context, a evidence.Append) error {
	if s.forever.Load() || s.conflicts.Add(-1) >= 0 {
		s.met.Add(1)
		return fmt.Errorf("test: the log moved on: %w", evidence.ErrConflict)
	}
	return s.MemoryLedgerStore.Append(ctx, a)
}

// newMovingLocker returns a locker on a moving store, whose ledger gives
// an append timeout, and counts the questions its policy is asked.
func newMovingLocker(t *testing.T, timeout time.Duration) (*evidence.Locker, *movingStore, *atomic.Int64) {
	t.Helper()
	st := &movingStore{MemoryLedgerStore: evidence.NewMemoryLedgerStore()}
	key, _ := custodyKey(t, "custody.example.org", 1)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key, WriteTimeout: timeout})
	require.NoError(t, err)
	asked := new(atomic.Int64)
	policy := evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
		asked.Add(1)
		if req.Actor.ID == "mallory" {
			return errors.New("not a custodian")
		}
		return nil
	})
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: l, Blobs: evidence.NewMemoryBlobs(), Policy: policy})
	require.NoError(t, err)
	return locker, st, asked
}

// TestAppendRetriesUntilTheWriteTimeout appends while other writers take
// the head of the log first more times than any fixed count of attempts
// an append once had: the append waits and tries again until it is
// written. A log that keeps moving past the write timeout fails the
// append with an error matching ErrConflict, and writes nothing.
func TestAppendRetriesUntilTheWriteTimeout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const c = evidence.CaseID("CASE-MOVING")
	locker, st, _ := newMovingLocker(t, time.Minute)
	l := locker.Ledger()
	const conflicts = 70
	st.conflicts.Store(conflicts)
	rec, err := l.Append(ctx, collectRecord(c, "A", custodyAt(0)))
	require.NoError(t, err)
	assert.Equal(t, int64(0), rec.Index)
	assert.Equal(t, int64(conflicts), st.met.Load())

	short, st2, _ := newMovingLocker(t, 10*time.Millisecond)
	st2.forever.Store(true)
	_, err = short.Ledger().Append(ctx, collectRecord(c, "A", custodyAt(0)))
	require.ErrorIs(t, err, evidence.ErrConflict)
	// How many times it tried in 10ms depends on the machine's load; that
	// it tries again is shown above, with more conflicts than a fixed
	// count once allowed.
	assert.Positive(t, st2.met.Load())
	n, err := st2.Size(ctx, c)
	require.NoError(t, err)
	assert.Zero(t, n)

	key, _ := custodyKey(t, "custody.example.org", 1)
	_, err = evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key, WriteTimeout: -time.Second})
	require.ErrorIs(t, err, evidence.ErrInvalid)
	assert.ErrorContains(t, err, "WriteTimeout")
}

// TestCollectUnrecordedCompletes collects an item while the log keeps
// moving past the write timeout: the content is stored, the error carries
// the staged record, and CompleteCollection records it later, once,
// asking the policy again, without the source. Records that are not a
// staged collection of stored content, or whose actor the policy refuses,
// are refused and change nothing.
func TestCollectUnrecordedCompletes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const c = evidence.CaseID("CASE-UNRECORDED")
	locker, st, asked := newMovingLocker(t, 10*time.Millisecond)
	st.forever.Store(true)
	_, err := locker.Collect(ctx, evidence.Collection{Case: c, Name: "mail.log", Content: strings.NewReader("log"), CollectedBy: custodian})
	require.ErrorIs(t, err, evidence.ErrConflict)
	var ue *evidence.UnrecordedError
	require.ErrorAs(t, err, &ue)
	require.NotNil(t, ue.Record.Snapshot)
	assert.Equal(t, c, ue.Record.Case)
	assert.Equal(t, int64(1), asked.Load())

	// Refused records first, while the log still moves: none of them
	// is a record to complete later.
	other := ue.Record
	other.Actor = evidence.Party{ID: "mallory"}
	notStored := ue.Record
	snap := ue.Record.Snapshot.Clone()
	snap.Size++
	notStored.Snapshot = &snap
	accessed := ue.Record
	accessed.Action, accessed.Snapshot = evidence.ActionAccessed, nil
	for _, tc := range []struct {
		name   string
		staged evidence.Record
		want   error
	}{
		{"refused actor", other, evidence.ErrDenied},
		{"another size", notStored, evidence.ErrInvalid},
		{"not a collection", accessed, evidence.ErrInvalid},
	} {
		_, err := locker.CompleteCollection(ctx, tc.staged)
		require.ErrorIs(t, err, tc.want, tc.name)
		var again *evidence.UnrecordedError
		assert.False(t, errors.As(err, &again), tc.name)
	}

	st.forever.Store(false)
	before := asked.Load()
	item, err := locker.CompleteCollection(ctx, ue.Record)
	require.NoError(t, err)
	assert.Equal(t, before+1, asked.Load(), "the policy is asked again")
	assert.Equal(t, ue.Record.Item, item.ID)
	assert.Equal(t, "EX-001", item.Exhibit)
	again, err := locker.CompleteCollection(ctx, ue.Record)
	require.NoError(t, err, "completing it again changes nothing")
	assert.Equal(t, item, again)
	rep, err := locker.Verify(ctx, c)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Equal(t, int64(1), rep.Size)
}

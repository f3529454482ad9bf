package evidence_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
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
// the staged collection, and CompleteCollection records it later, once,
// asking the policy again, without the source. Collections that are not
// staged collections of stored content, that were altered, or whose actor
// the policy refuses, are refused and change nothing.
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
	require.NotNil(t, ue.Staged.Record.Snapshot)
	assert.Equal(t, c, ue.Staged.Record.Case)
	assert.NotEmpty(t, ue.Staged.Seal)
	assert.Equal(t, int64(1), asked.Load())

	// A collection sealed by a locker on the same ledger key whose blob
	// store does not hold the content.
	key, _ := custodyKey(t, "custody.example.org", 1)
	twinLedger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	twin, err := evidence.NewLocker(evidence.LockerConfig{Ledger: twinLedger, Blobs: evidence.NewMemoryBlobs()})
	require.NoError(t, err)
	notStored, err := twin.Stage(ctx, evidence.Collection{Case: c, Name: "other.log", Content: strings.NewReader("elsewhere"), CollectedBy: custodian})
	require.NoError(t, err)

	// Refused collections first, while the log still moves: none of
	// them is a collection to complete later.
	other := ue.Staged
	other.Record.Actor = evidence.Party{ID: "mallory"}
	resized := ue.Staged
	snap := ue.Staged.Record.Snapshot.Clone()
	snap.Size++
	resized.Record.Snapshot = &snap
	accessed := ue.Staged
	accessed.Record.Action, accessed.Record.Snapshot = evidence.ActionAccessed, nil
	for _, tc := range []struct {
		name   string
		staged evidence.Staged
		want   error
	}{
		{"refused actor", other, evidence.ErrDenied},
		{"altered size", resized, evidence.ErrDenied},
		{"not a collection", accessed, evidence.ErrInvalid},
		{"content not stored", notStored, evidence.ErrNotFound},
	} {
		_, err := locker.CompleteCollection(ctx, tc.staged)
		require.ErrorIs(t, err, tc.want, tc.name)
		var again *evidence.UnrecordedError
		assert.False(t, errors.As(err, &again), tc.name)
	}

	st.forever.Store(false)
	before := asked.Load()
	item, err := locker.CompleteCollection(ctx, ue.Staged)
	require.NoError(t, err)
	assert.Equal(t, before+1, asked.Load(), "the policy is asked again")
	assert.Equal(t, ue.Staged.Record.Item, item.ID)
	assert.Equal(t, "EX-001", item.Exhibit)
	again, err := locker.CompleteCollection(ctx, ue.Staged)
	require.NoError(t, err, "completing it again changes nothing")
	assert.Equal(t, item, again)
	rep, err := locker.Verify(ctx, c)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Equal(t, int64(1), rep.Size)
}

// sealLocker is a locker on which Mallory may act on cases INC-B and
// INC-C only, and whose refusals are kept.
type sealLocker struct {
	*evidence.Locker
	blobs    *evidence.MemoryBlobs
	mu       sync.Mutex
	refusals []evidence.Refusal
}

func newSealLocker(t *testing.T, seed byte, blobs *evidence.MemoryBlobs) *sealLocker {
	t.Helper()
	key, _ := custodyKey(t, "custody.example.org", seed)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	sl := &sealLocker{blobs: blobs}
	sl.Locker, err = evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs,
		Policy: evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
			if req.Actor.ID == "mallory" && req.Case != "INC-B" && req.Case != "INC-C" {
				return errors.New("mallory works on INC-B and INC-C only")
			}
			return nil
		}),
		Refused: func(_ context.Context, r evidence.Refusal) {
			sl.mu.Lock()
			defer sl.mu.Unlock()
			sl.refusals = append(sl.refusals, r)
		},
	})
	require.NoError(t, err)
	return sl
}

func (sl *sealLocker) refused() []evidence.Refusal {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return append([]evidence.Refusal(nil), sl.refusals...)
}

// TestCompleteOnlyWhatTheLockerStaged has Mallory, who may collect into
// case INC-B but not read INC-A, complete "staged" collections for INC-B
// naming the content of an item of INC-A (its digest is in every record):
// hand-made, sealed by another key, carrying another collection's seal,
// and genuine collections of her own altered in any one field. Each is
// refused with an error matching ErrDenied or ErrInvalid, the seal
// refusals are recorded, nothing is appended, and Mallory cannot open
// INC-A's content. Her genuine collection, unaltered (also after a trip
// through JSON), completes, once.
func TestCompleteOnlyWhatTheLockerStaged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	blobs := evidence.NewMemoryBlobs()
	l := newSealLocker(t, 1, blobs)
	mallory := evidence.Party{ID: "mallory", Name: "Mallory"}
	secret, err := l.Collect(ctx, evidence.Collection{Case: "INC-A", Name: "secret.eml", Content: strings.NewReader("case A's secret"), CollectedBy: custodian})
	require.NoError(t, err)
	_, err = l.Open(ctx, "INC-A", secret.ID, mallory, "curious")
	require.ErrorIs(t, err, evidence.ErrDenied, "Mallory may not read INC-A")

	own := evidence.Collection{Case: "INC-B", Name: "own.log", Content: strings.NewReader("Mallory's own"), CollectedBy: mallory,
		Labels: []string{"mine"}, Source: evidence.Source{Host: "ws-1", Network: []string{"10.0.0.1"}}}
	genuine, err := l.Stage(ctx, own)
	require.NoError(t, err)

	// Hand-made: a record for INC-B naming INC-A's content.
	forge := func(seal []byte) evidence.Staged {
		at := genuine.Record.At
		it := evidence.Item{ID: "0190f1c2-0000-7000-8000-00000000000f", CaseID: "INC-B", Name: "copy.eml", Kind: evidence.KindOther,
			Size: secret.Size, Digests: evidence.Digests{SHA256: secret.Digests.SHA256}, CollectedBy: mallory, CollectedAt: at}
		return evidence.Staged{Record: evidence.Record{Case: "INC-B", Item: it.ID, Action: evidence.ActionCollected, Actor: mallory,
			At: at, Digest: it.Digests.SHA256, Snapshot: &it}, Seal: seal}
	}
	// Sealed by another key with the same name, over the same blob store:
	// a genuine collection of INC-A's content, by another locker.
	otherKey := newSealLocker(t, 2, blobs)
	foreign, err := otherKey.Stage(ctx, evidence.Collection{Case: "INC-B", Name: "copy.eml", Content: strings.NewReader("case A's secret"), CollectedBy: mallory})
	require.NoError(t, err)
	require.Equal(t, secret.Digests.SHA256, foreign.Record.Digest)

	altered := func(f func(r *evidence.Record, it *evidence.Item)) evidence.Staged {
		s := genuine
		it := genuine.Record.Snapshot.Clone()
		s.Record.Snapshot = &it
		s.Seal = append([]byte(nil), genuine.Seal...)
		f(&s.Record, &it)
		return s
	}
	later := genuine.Record.At.Add(time.Second)
	cases := map[string]evidence.Staged{
		"hand-made, no seal":      forge(nil),
		"hand-made, another seal": forge(genuine.Seal),
		"sealed by another key":   foreign,
		"seal flipped": func() evidence.Staged {
			s := altered(func(*evidence.Record, *evidence.Item) {})
			s.Seal[0] ^= 1
			return s
		}(),
		"seal cut": func() evidence.Staged {
			s := altered(func(*evidence.Record, *evidence.Item) {})
			s.Seal = s.Seal[:10]
			return s
		}(),
		"seal long": func() evidence.Staged {
			s := altered(func(*evidence.Record, *evidence.Item) {})
			s.Seal = append(s.Seal, 0)
			return s
		}(),
		"digest of INC-A's content": altered(func(r *evidence.Record, it *evidence.Item) {
			r.Digest, it.Digests.SHA256, it.Size = secret.Digests.SHA256, secret.Digests.SHA256, secret.Size
		}),
		"case":              altered(func(r *evidence.Record, it *evidence.Item) { r.Case, it.CaseID = "INC-C", "INC-C" }),
		"record case only":  altered(func(r *evidence.Record, _ *evidence.Item) { r.Case = "INC-C" }),
		"item ID":           altered(func(r *evidence.Record, it *evidence.Item) { r.Item, it.ID = "ITEM-OTHER", "ITEM-OTHER" }),
		"index":             altered(func(r *evidence.Record, _ *evidence.Item) { r.Index = 3 }),
		"prev":              altered(func(r *evidence.Record, _ *evidence.Item) { r.Prev = 2 }),
		"prev hash":         altered(func(r *evidence.Record, _ *evidence.Item) { r.PrevHash = strings.Repeat("ab", 32) }),
		"actor name":        altered(func(r *evidence.Record, _ *evidence.Item) { r.Actor.Name = "Alice" }),
		"actor org":         altered(func(r *evidence.Record, _ *evidence.Item) { r.Actor.Organization = "CSIRT" }),
		"authority":         altered(func(r *evidence.Record, _ *evidence.Item) { r.Authority = "warrant 7" }),
		"location":          altered(func(r *evidence.Record, _ *evidence.Item) { r.Location = "lab" }),
		"at":                altered(func(r *evidence.Record, _ *evidence.Item) { r.At = later }),
		"reason":            altered(func(r *evidence.Record, _ *evidence.Item) { r.Reason = "because" }),
		"tool":              altered(func(r *evidence.Record, _ *evidence.Item) { r.Tool = "dd" }),
		"notes":             altered(func(r *evidence.Record, _ *evidence.Item) { r.Notes = "n" }),
		"exhibit":           altered(func(_ *evidence.Record, it *evidence.Item) { it.Exhibit = "EX-009" }),
		"name":              altered(func(_ *evidence.Record, it *evidence.Item) { it.Name = "other.log" }),
		"kind":              altered(func(_ *evidence.Record, it *evidence.Item) { it.Kind = evidence.KindLog }),
		"media type":        altered(func(_ *evidence.Record, it *evidence.Item) { it.MediaType = "text/plain" }),
		"size":              altered(func(_ *evidence.Record, it *evidence.Item) { it.Size++ }),
		"sha1":              altered(func(_ *evidence.Record, it *evidence.Item) { it.Digests.SHA1 = strings.Repeat("a", 40) }),
		"md5":               altered(func(_ *evidence.Record, it *evidence.Item) { it.Digests.MD5 = strings.Repeat("a", 32) }),
		"source host":       altered(func(_ *evidence.Record, it *evidence.Item) { it.Source.Host = "ws-2" }),
		"source network":    altered(func(_ *evidence.Record, it *evidence.Item) { it.Source.Network = []string{"10.0.0.2"} }),
		"source path":       altered(func(_ *evidence.Record, it *evidence.Item) { it.Source.Path = "/tmp" }),
		"collected by":      altered(func(_ *evidence.Record, it *evidence.Item) { it.CollectedBy.Name = "Bob" }),
		"collected by ID":   altered(func(_ *evidence.Record, it *evidence.Item) { it.CollectedBy.ID = "bob" }),
		"collected at":      altered(func(_ *evidence.Record, it *evidence.Item) { it.CollectedAt = later }),
		"item location":     altered(func(_ *evidence.Record, it *evidence.Item) { it.Location = "lab" }),
		"labels":            altered(func(_ *evidence.Record, it *evidence.Item) { it.Labels = []string{"yours"} }),
		"labels added":      altered(func(_ *evidence.Record, it *evidence.Item) { it.Labels = append(it.Labels, "more") }),
		"another item kept": altered(func(r *evidence.Record, it *evidence.Item) { it.ID = "ITEM-OTHER" }),
	}
	for name, s := range cases {
		for call, complete := range map[string]func(evidence.Staged) error{
			"CompleteCollection": func(s evidence.Staged) error { _, err := l.CompleteCollection(ctx, s); return err },
			"CheckStaged":        func(s evidence.Staged) error { return l.CheckStaged(ctx, s) },
		} {
			before := len(l.refused())
			err := complete(s)
			require.Error(t, err, "%s: %s", call, name)
			assert.True(t, errors.Is(err, evidence.ErrDenied) || errors.Is(err, evidence.ErrInvalid), "%s: %s: %v", call, name, err)
			var ue *evidence.UnrecordedError
			assert.False(t, errors.As(err, &ue), "%s: %s: not a collection to complete later", call, name)
			if errors.Is(err, evidence.ErrDenied) {
				refusals := l.refused()
				require.Len(t, refusals, before+1, "%s: %s: the refusal is recorded", call, name)
				assert.Equal(t, "mallory", refusals[before].Request.Actor.ID)
				assert.ErrorContains(t, refusals[before].Err, "not a collection this locker staged", "%s: %s", call, name)
			}
		}
	}
	for _, c := range []evidence.CaseID{"INC-B", "INC-C"} {
		items, err := l.Items(ctx, c)
		require.NoError(t, err)
		assert.Empty(t, items, "nothing recorded in %s", c)
	}
	for _, id := range []evidence.ItemID{"0190f1c2-0000-7000-8000-00000000000f", foreign.Record.Item} {
		_, err = l.Open(ctx, "INC-B", id, mallory, "read the copy")
		require.ErrorIs(t, err, evidence.ErrNotFound, "no copy of INC-A's content in INC-B")
	}

	// The genuine collection, kept as JSON and read back, completes.
	data, err := json.Marshal(genuine)
	require.NoError(t, err)
	var kept evidence.Staged
	require.NoError(t, json.Unmarshal(data, &kept))
	item, err := l.CompleteCollection(ctx, kept)
	require.NoError(t, err)
	assert.Equal(t, genuine.Record.Item, item.ID)
	again, err := l.CompleteCollection(ctx, genuine)
	require.NoError(t, err, "completing it again changes nothing")
	assert.Equal(t, item, again)
	require.NoError(t, l.CheckStaged(ctx, genuine))
	rc, err := l.Open(ctx, "INC-B", item.ID, mallory, "read my own")
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, "Mallory's own", string(got))
	rep, err := l.Verify(ctx, "INC-B")
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Equal(t, int64(2), rep.Size, "the collection and Mallory's access")
}

package evidence_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

var (
	accessAlice   = evidence.Party{ID: "alice", Name: "Alice Moreau"}
	accessBob     = evidence.Party{ID: "bob", Name: "Bob Tran"}
	accessMallory = evidence.Party{ID: "mallory", Name: "Mallory"}
)

// accessLocker is a locker whose policy refuses Mallory everything and
// lets only Bob collect on someone else's behalf; it keeps every request
// the policy saw and every refusal it was told of.
type accessLocker struct {
	*evidence.Locker
	ledger *evidence.Ledger
	mu     sync.Mutex
	asked  []evidence.AccessRequest
	refuse []evidence.Refusal
	// policyErr, if set, is the error the policy refuses with.
	policyErr error
}

func newAccessLocker(t *testing.T) *accessLocker {
	t.Helper()
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	a := &accessLocker{ledger: ledger}
	a.Locker, err = evidence.NewLocker(evidence.LockerConfig{
		Ledger: ledger, Blobs: evidence.NewMemoryBlobs(),
		Policy: evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.asked = append(a.asked, req)
			switch {
			case req.Actor.ID == accessMallory.ID && a.policyErr != nil:
				return a.policyErr
			case req.Actor.ID == accessMallory.ID:
				return errors.New("mallory is not on the case")
			case !req.OnBehalfOf.IsZero() && req.Actor.ID != accessBob.ID:
				return errors.New("only bob takes evidence in for others")
			}
			return nil
		}),
		Refused: func(_ context.Context, r evidence.Refusal) {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.refuse = append(a.refuse, r)
		},
	})
	require.NoError(t, err)
	return a
}

func (a *accessLocker) refusals() []evidence.Refusal {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]evidence.Refusal(nil), a.refuse...)
}

func (a *accessLocker) lastAsked() evidence.AccessRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.asked[len(a.asked)-1]
}

// unread is content that fails the test if it is read.
func unread(t *testing.T) io.Reader {
	return readerFunc(func([]byte) (int, error) {
		t.Error("content read")
		return 0, io.EOF
	})
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestCollectionActorIsTheOneChecked has Mallory, whom the policy refuses,
// collect evidence naming Alice as its collector, through Collect and
// Stage: the policy is asked about Mallory, on Alice's behalf, and refuses;
// nothing is read or written, and the refusal is recorded. Bob, whom it
// allows to, takes evidence in for Alice: both are recorded.
func TestCollectionActorIsTheOneChecked(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := newAccessLocker(t)
	for name, call := range map[string]func(c evidence.Collection) error{
		"Collect": func(c evidence.Collection) error { _, err := a.Collect(ctx, c); return err },
		"Stage":   func(c evidence.Collection) error { _, err := a.Stage(ctx, c); return err },
	} {
		before := len(a.refusals())
		err := call(evidence.Collection{Case: "INC-1", Name: "a.log", Content: unread(t), Actor: accessMallory, CollectedBy: accessAlice})
		require.ErrorIs(t, err, evidence.ErrDenied, name)
		asked := a.lastAsked()
		assert.Equal(t, accessMallory, asked.Actor, name)
		assert.Equal(t, accessAlice, asked.OnBehalfOf, name)
		refusals := a.refusals()
		require.Len(t, refusals, before+1, "%s: the refusal is recorded", name)
		assert.Equal(t, accessMallory, refusals[before].Request.Actor)
		assert.Equal(t, evidence.ActionCollected, refusals[before].Request.Action)
		assert.Nil(t, refusals[before].Record, "no item's log to record it in")
		assert.EqualError(t, refusals[before].Err, "mallory is not on the case")

		// Alice may collect her own, but not have Mallory's name on it.
		err = call(evidence.Collection{Case: "INC-1", Name: "a.log", Content: unread(t), Actor: accessAlice, CollectedBy: accessMallory})
		require.ErrorIs(t, err, evidence.ErrDenied, "%s: alice collecting for another", name)
	}
	n, err := a.ledger.Store().Size(ctx, "INC-1")
	require.NoError(t, err)
	assert.Zero(t, n, "nothing appended")

	// Bob takes in what Alice collected: the policy sees both, and both
	// are recorded.
	it, err := a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "a.log", Content: strings.NewReader("a"),
		Actor: accessBob, CollectedBy: accessAlice})
	require.NoError(t, err)
	assert.Equal(t, evidence.AccessRequest{Case: "INC-1", Item: it.ID, Action: evidence.ActionCollected,
		Actor: accessBob, OnBehalfOf: accessAlice}, a.lastAsked())
	assert.Equal(t, accessAlice, it.CollectedBy)
	recs, err := a.ledger.Records(ctx, "INC-1", 0, 1)
	require.NoError(t, err)
	assert.Equal(t, accessBob, recs[0].Actor, "the record's actor is who took it in")
	assert.Equal(t, accessAlice, recs[0].Snapshot.CollectedBy)

	// Without an actor, the collector takes in their own.
	_, err = a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "b.log", Content: strings.NewReader("b"), CollectedBy: accessAlice})
	require.NoError(t, err)
	assert.Equal(t, accessAlice, a.lastAsked().Actor)
	assert.True(t, a.lastAsked().OnBehalfOf.IsZero())
	// Without a collector, the actor collected it.
	it, err = a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "c.log", Content: strings.NewReader("c"), Actor: accessAlice})
	require.NoError(t, err)
	assert.Equal(t, accessAlice, it.CollectedBy)
	// A collector with the actor's ID is the actor, described more fully.
	withOrg := accessAlice
	withOrg.Organization = "CSIRT"
	it, err = a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "d.log", Content: strings.NewReader("d"),
		Actor: accessAlice, CollectedBy: withOrg})
	require.NoError(t, err)
	assert.True(t, a.lastAsked().OnBehalfOf.IsZero(), "not on anyone's behalf")
	assert.Equal(t, withOrg, it.CollectedBy)
	_, err = a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "e.log", Content: unread(t)})
	require.ErrorIs(t, err, evidence.ErrInvalid, "no actor and no collector")
}

// TestRefusedProbeLearnsNothing has Mallory open, and record an action on,
// an item the case holds and one it does not: both get the same refusal,
// neither matches ErrNotFound, and both refusals are recorded, the first
// in the item's custody log too.
func TestRefusedProbeLearnsNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := newAccessLocker(t)
	it, err := a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "a.log", Content: strings.NewReader("a"), CollectedBy: accessAlice})
	require.NoError(t, err)
	const missing evidence.ItemID = "0190f1c2-0000-7000-8000-000000000000"

	probes := map[string]func(id evidence.ItemID) error{
		"Open": func(id evidence.ItemID) error {
			rc, err := a.Open(ctx, "INC-1", id, accessMallory, "curious")
			if rc != nil {
				rc.Close()
			}
			return err
		},
		"Record": func(id evidence.ItemID) error {
			_, err := a.Record(ctx, evidence.Record{Case: "INC-1", Item: id, Action: evidence.ActionCheckedOut, Actor: accessMallory, Reason: "curious"})
			return err
		},
	}
	for name, probe := range probes {
		before := len(a.refusals())
		errHeld, errMissing := probe(it.ID), probe(missing)
		require.ErrorIs(t, errHeld, evidence.ErrDenied, name)
		require.ErrorIs(t, errMissing, evidence.ErrDenied, name)
		assert.NotErrorIs(t, errHeld, evidence.ErrNotFound, name)
		assert.NotErrorIs(t, errMissing, evidence.ErrNotFound, name)
		assert.Equal(t, errHeld.Error(), strings.ReplaceAll(errMissing.Error(), string(missing), string(it.ID)),
			"%s: the same refusal for an item held and one missing", name)

		refusals := a.refusals()[before:]
		require.Len(t, refusals, 2, "%s: both refusals recorded", name)
		assert.Equal(t, it.ID, refusals[0].Request.Item)
		require.NotNil(t, refusals[0].Record, "%s: the refusal on the item held is in its custody log", name)
		assert.Equal(t, evidence.ActionAccessDenied, refusals[0].Record.Action)
		assert.Equal(t, accessMallory, refusals[0].Record.Actor)
		assert.NoError(t, refusals[0].RecordErr)
		assert.Equal(t, missing, refusals[1].Request.Item)
		assert.Nil(t, refusals[1].Record, "%s: no log holds the missing item", name)
		assert.NoError(t, refusals[1].RecordErr)
	}
	hist, err := a.ledger.History(ctx, "INC-1", it.ID)
	require.NoError(t, err)
	require.Len(t, hist, 1+len(probes))
	for _, r := range hist[1:] {
		assert.Equal(t, evidence.ActionAccessDenied, r.Action)
		assert.Equal(t, accessMallory, r.Actor)
	}

	// Alice, who is allowed, learns that an item is missing.
	_, err = a.Open(ctx, "INC-1", missing, accessAlice, "review")
	require.ErrorIs(t, err, evidence.ErrNotFound)
	rc, err := a.Open(ctx, "INC-1", it.ID, accessAlice, "review")
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, "a", string(got))
	rep, err := a.Verify(ctx, "INC-1")
	require.NoError(t, err)
	require.NoError(t, rep.Err())
}

// TestRefusalWithAnyReasonIsRecorded has the policy refuse with a reason
// longer than a record's notes may be and holding invalid UTF-8 and a NUL
// byte: the refusal is still recorded in the item's custody log.
func TestRefusalWithAnyReasonIsRecorded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := newAccessLocker(t)
	a.policyErr = errors.New(strings.Repeat("é", evidence.MaxNotesLen) + "\xff\x00")
	it, err := a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "a.log", Content: strings.NewReader("a"), CollectedBy: accessAlice})
	require.NoError(t, err)
	_, err = a.Open(ctx, "INC-1", it.ID, accessMallory, "")
	require.ErrorIs(t, err, evidence.ErrDenied)
	refusals := a.refusals()
	require.Len(t, refusals, 1)
	require.NoError(t, refusals[0].RecordErr)
	require.NotNil(t, refusals[0].Record)
	notes := refusals[0].Record.Notes
	assert.LessOrEqual(t, len(notes), evidence.MaxNotesLen)
	assert.True(t, utf8.ValidString(notes))
	assert.True(t, strings.HasPrefix(notes, "refused accessed: éé"), notes[:40])
}

// TestRefusalsLogByDefault checks a locker with no Refused function logs
// every refusal with slog's default logger. It changes the default
// logger, so it does not run in parallel.
func TestRefusalsLogByDefault(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	ctx := t.Context()
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs(),
		NewID: func() evidence.ItemID { return "ITEM-NEW" },
		Policy: evidence.AccessPolicyFunc(func(context.Context, evidence.AccessRequest) error {
			return errors.New("no warrant")
		})})
	require.NoError(t, err)
	_, err = locker.Collect(ctx, evidence.Collection{Case: "INC-7", Name: "a.log", Content: unread(t),
		Actor: accessMallory, CollectedBy: accessAlice})
	require.ErrorIs(t, err, evidence.ErrDenied)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	assert.Contains(t, out, `level=WARN msg="evidence: access refused" refusal.case=INC-7 refusal.item=ITEM-NEW refusal.action=collected refusal.actor=mallory refusal.on_behalf_of=alice refusal.reason="no warrant"`)
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestLedgerIsPrivileged checks what Locker.Ledger documents: the locker
// refuses Mallory's custody action, while its ledger, the privileged
// layer under it, appends the same record without asking the policy.
func TestLedgerIsPrivileged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := newAccessLocker(t)
	it, err := a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "a.log", Content: strings.NewReader("a"), CollectedBy: accessAlice})
	require.NoError(t, err)
	r := evidence.Record{Case: "INC-1", Item: it.ID, Action: evidence.ActionDisposed, Actor: accessMallory, Reason: "cleanup"}
	_, err = a.Record(ctx, r)
	require.ErrorIs(t, err, evidence.ErrDenied, "through the locker")
	asked := len(a.requests())
	r.At = it.CollectedAt
	_, err = a.Ledger().Append(ctx, r)
	require.NoError(t, err, "through the privileged ledger")
	assert.Len(t, a.requests(), asked, "the ledger does not ask the policy")
}

func (a *accessLocker) requests() []evidence.AccessRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]evidence.AccessRequest(nil), a.asked...)
}

// failingAppends is a ledger store whose appends fail once fail is set.
type failingAppends struct {
	evidence.LedgerStore
	fail atomic.Bool
}

func (s *failingAppends) Append(ctx context.Context, a evidence.Append) error {
	if s.fail.Load() {
		return errors.New("disk full")
	}
	return s.LedgerStore.Append(ctx, a)
}

// TestRefusalNotAppendedIsStillReported has the store fail to append the
// refusal of an action on an item held: the refused caller gets the same
// error as for an item missing, and LockerConfig.Refused is told why the
// refusal is not in the item's log.
func TestRefusalNotAppendedIsStillReported(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	store := &failingAppends{LedgerStore: evidence.NewMemoryLedgerStore()}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: key})
	require.NoError(t, err)
	var refusals []evidence.Refusal
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs(),
		Policy: evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
			if req.Actor.ID == accessMallory.ID {
				return errors.New("mallory is not on the case")
			}
			return nil
		}),
		Refused: func(_ context.Context, r evidence.Refusal) { refusals = append(refusals, r) },
	})
	require.NoError(t, err)
	it, err := locker.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "a.log", Content: strings.NewReader("a"), CollectedBy: accessAlice})
	require.NoError(t, err)
	store.fail.Store(true)
	_, errHeld := locker.Open(ctx, "INC-1", it.ID, accessMallory, "")
	_, errMissing := locker.Open(ctx, "INC-1", "ITEM-404", accessMallory, "")
	require.ErrorIs(t, errHeld, evidence.ErrDenied)
	assert.Equal(t, errHeld.Error(), strings.ReplaceAll(errMissing.Error(), "ITEM-404", string(it.ID)))
	require.Len(t, refusals, 2)
	assert.Nil(t, refusals[0].Record)
	assert.ErrorContains(t, refusals[0].RecordErr, "disk full")
	assert.NoError(t, refusals[1].RecordErr)
}

// TestRefusedCompletionLearnsNothing has Mallory complete a collection of
// content the blob store holds and of content it does not: both get the
// same refusal, neither matches ErrNotFound, and both are recorded.
func TestRefusedCompletionLearnsNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := newAccessLocker(t)
	it, err := a.Collect(ctx, evidence.Collection{Case: "INC-1", Name: "a.log", Content: strings.NewReader("held"), CollectedBy: accessAlice})
	require.NoError(t, err)
	staged := func(digest string) evidence.Staged {
		at := it.CollectedAt
		item := evidence.Item{ID: "0190f1c2-0000-7000-8000-000000000001", CaseID: "INC-2", Name: "probe", Kind: evidence.KindOther,
			Size: it.Size, Digests: evidence.Digests{SHA256: digest}, CollectedBy: accessMallory, CollectedAt: at}
		return evidence.Staged{Record: evidence.Record{Case: "INC-2", Item: item.ID, Action: evidence.ActionCollected, Actor: accessMallory,
			At: at, Digest: digest, Snapshot: &item}}
	}
	missing := strings.Repeat("ab", 32)
	before := len(a.refusals())
	for name, call := range map[string]func(s evidence.Staged) error{
		"CompleteCollection": func(s evidence.Staged) error { _, err := a.CompleteCollection(ctx, s); return err },
		"CheckStaged":        func(s evidence.Staged) error { return a.CheckStaged(ctx, s) },
	} {
		errHeld, errMissing := call(staged(it.Digests.SHA256)), call(staged(missing))
		require.ErrorIs(t, errHeld, evidence.ErrDenied, name)
		require.ErrorIs(t, errMissing, evidence.ErrDenied, name)
		assert.NotErrorIs(t, errMissing, evidence.ErrNotFound, name)
		assert.Equal(t, errHeld.Error(), errMissing.Error(), name)
	}
	assert.Len(t, a.refusals(), before+4, "every refusal recorded")
}

package ir_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/incidentkit/incidentkit/ir"
)

// stagedCopy returns a collected record shaped as staged, but hand-made
// and so without the locker's seal, of item item of incident id's case
// whose content is content.
func stagedCopy(id ir.ID, item evidence.ItemID, content string, at time.Time) evidence.Staged {
	sum := sha256.Sum256([]byte(content))
	by := evidence.Party{ID: testAlice.ID, Name: testAlice.Name}
	at = at.Round(0)
	it := evidence.Item{ID: item, CaseID: id.Case(), Name: string(item) + ".log", Kind: evidence.KindLog,
		Size: int64(len(content)), Digests: evidence.Digests{SHA256: hex.EncodeToString(sum[:])}, CollectedBy: by, CollectedAt: at}
	return evidence.Staged{Record: evidence.Record{Case: id.Case(), Item: item, Action: evidence.ActionCollected, Actor: by, At: at,
		Digest: it.Digests.SHA256, Snapshot: &it}}
}

// contention makes writes that carry custody records conflict, as if
// other writers kept taking the head of the custody log first: the next
// conflicts of them, or every one while forever is set.
type contention struct {
	conflicts atomic.Int64
	forever   atomic.Bool
	// met counts the conflicts made.
	met atomic.Int64
}

// conflict reports whether the next write conflicts.
func (c *contention) conflict() bool {
	if c.forever.Load() || c.conflicts.Add(-1) >= 0 {
		c.met.Add(1)
		return true
	}
	return false
}

// contendedStore is a memory store whose changes carrying custody records
// conflict as its contention says: the store of a Responder with
// Config.AtomicCustody.
type contendedStore struct {
	*ir.MemoryStore
	contention
}

func (s *contendedStore) Apply(ctx context.Context, ch ir.Change) error {
	if len(ch.Custody) > 0 && s.conflict() {
		return fmt.Errorf("test: the custody log moved on: %w", ir.ErrConflict)
	}
	return s.MemoryStore.Apply(ctx, ch)
}

// contendedLedgerStore is a memory ledger store whose appends conflict as
// its contention says: the ledger store of a Responder collecting in two
// steps.
type contendedLedgerStore struct {
	*evidence.MemoryLedgerStore
	contention
}

func (s *contendedLedgerStore) Append(ctx context.Context, a evidence.Append) error {
	if s.conflict() {
		return fmt.Errorf("test: the custody log moved on: %w", evidence.ErrConflict)
	}
	return s.MemoryLedgerStore.Append(ctx, a)
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// contendedResponder is a Responder collecting evidence, atomically or in
// two steps, into a custody log whose writes conflict as the contention
// it returns says.
type contendedResponder struct {
	r       *ir.Responder
	locker  *evidence.Locker
	store   ir.Store
	ledger  *evidence.Ledger
	blobs   *evidence.MemoryBlobs
	contend *contention
}

func newContendedResponder(t *testing.T, atomicCustody bool, cfg ir.Config) *contendedResponder {
	t.Helper()
	key, _, err := evidence.GenerateKey("custody.test")
	require.NoError(t, err)
	cr := &contendedResponder{blobs: evidence.NewMemoryBlobs()}
	var ledgerStore evidence.LedgerStore
	if atomicCustody {
		st := &contendedStore{MemoryStore: ir.NewMemoryStore()}
		cfg.Store, ledgerStore, cr.contend = st, st, &st.contention
	} else {
		st := &contendedLedgerStore{MemoryLedgerStore: evidence.NewMemoryLedgerStore()}
		cfg.Store, ledgerStore, cr.contend = ir.NewMemoryStore(), st, &st.contention
	}
	cr.store = cfg.Store
	cr.ledger, err = evidence.NewLedger(evidence.LedgerConfig{Store: ledgerStore, Key: key, WriteTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	cr.locker, err = evidence.NewLocker(evidence.LockerConfig{Ledger: cr.ledger, Blobs: cr.blobs})
	require.NoError(t, err)
	cfg.Evidence = cr.locker
	cfg.AtomicCustody = atomicCustody
	cr.r, err = ir.NewResponder(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, cr.r.Shutdown(context.Background())) })
	return cr
}

// TestCollectEvidenceRetriesConflicts collects evidence while the custody
// log keeps moving for many more attempts than the Responder retries other
// changes, and than any fixed count of attempts a collection once had: the
// collection is retried until it is recorded.
func TestCollectEvidenceRetriesConflicts(t *testing.T) {
	t.Parallel()
	for _, atomicCustody := range []bool{true, false} {
		t.Run(fmt.Sprintf("atomic custody %v", atomicCustody), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cr := newContendedResponder(t, atomicCustody, ir.Config{ConflictRetries: 2})
			inc, err := cr.r.Open(ctx, testAlice, ir.NewIncident{Title: "Phish", Severity: ir.SeverityHigh})
			require.NoError(t, err)
			const conflicts = 70
			cr.contend.conflicts.Store(conflicts)
			item, err := cr.r.CollectEvidence(ctx, testAlice, inc.ID, evidence.Collection{Name: "mail.log", Content: strings.NewReader("log")})
			require.NoError(t, err)
			assert.Equal(t, int64(conflicts), cr.contend.met.Load(), "every conflict was met and retried")
			got, err := cr.r.Get(ctx, inc.ID)
			require.NoError(t, err)
			require.Len(t, got.Evidence, 1)
			assert.Equal(t, item.ID, got.Evidence[0].Item)
			rep, err := cr.ledger.Verify(ctx, inc.ID.Case())
			require.NoError(t, err)
			require.NoError(t, rep.Err())
			assert.Equal(t, int64(1), rep.Size)
		})
	}
}

// TestCollectEvidenceUnrecorded collects evidence while the custody log
// keeps moving past the custody timeout: the error says the content is
// stored and carries the staged record, and CompleteEvidence records it
// later without reading the source again, once, however often it is
// called.
func TestCollectEvidenceUnrecorded(t *testing.T) {
	t.Parallel()
	for _, atomicCustody := range []bool{true, false} {
		t.Run(fmt.Sprintf("atomic custody %v", atomicCustody), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cr := newContendedResponder(t, atomicCustody, ir.Config{CustodyTimeout: 20 * time.Millisecond})
			inc, err := cr.r.Open(ctx, testAlice, ir.NewIncident{Title: "Phish", Severity: ir.SeverityHigh})
			require.NoError(t, err)

			cr.contend.forever.Store(true)
			var read atomic.Int64
			_, err = cr.r.CollectEvidence(ctx, testAlice, inc.ID, evidence.Collection{Name: "disk.img", Content: countingReader{strings.NewReader("a source read once"), &read}})
			require.ErrorIs(t, err, ir.ErrConflict)
			var ue *evidence.UnrecordedError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, err.Error(), "stored but its collection not recorded")
			assert.Equal(t, inc.ID.Case(), ue.Staged.Record.Case)
			assert.Equal(t, evidence.ActionCollected, ue.Staged.Record.Action)
			require.NotNil(t, ue.Staged.Record.Snapshot)
			assert.Equal(t, int64(len("a source read once")), read.Load())
			size, err := cr.blobs.Stat(ctx, ue.Staged.Record.Digest)
			require.NoError(t, err, "the content is stored")
			assert.Equal(t, ue.Staged.Record.Snapshot.Size, size)
			n, err := cr.ledger.Store().Size(ctx, inc.ID.Case())
			require.NoError(t, err)
			assert.Zero(t, n, "nothing recorded yet")

			// Still contended: the completion fails the same way,
			// carrying the same record.
			_, err = cr.r.CompleteEvidence(ctx, testAlice, inc.ID, ue.Staged)
			var again *evidence.UnrecordedError
			require.ErrorAs(t, err, &again)
			assert.Equal(t, ue.Staged.Record.Item, again.Staged.Record.Item)

			// Completed later, by a Responder on the same store and
			// locker that gives the record time enough to be written
			// however loaded the machine is: the 20ms above are only
			// for the contended attempts to run out.
			cr.contend.forever.Store(false)
			later, err := ir.NewResponder(ir.Config{Store: cr.store, Evidence: cr.locker, AtomicCustody: atomicCustody, CustodyTimeout: time.Minute})
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, later.Shutdown(context.Background())) })
			item, err := later.CompleteEvidence(ctx, testAlice, inc.ID, ue.Staged)
			require.NoError(t, err)
			assert.Equal(t, ue.Staged.Record.Item, item.ID)
			assert.Equal(t, "EX-001", item.Exhibit)
			again2, err := later.CompleteEvidence(ctx, testAlice, inc.ID, ue.Staged)
			require.NoError(t, err, "completing it again changes nothing")
			assert.Equal(t, item, again2)

			assert.Equal(t, int64(len("a source read once")), read.Load(), "the source was read once")
			got, err := cr.r.Get(ctx, inc.ID)
			require.NoError(t, err)
			require.Len(t, got.Evidence, 1)
			assert.Equal(t, item.ID, got.Evidence[0].Item)
			rep, err := cr.ledger.Verify(ctx, inc.ID.Case())
			require.NoError(t, err)
			require.NoError(t, rep.Err())
			assert.Equal(t, int64(1), rep.Size)
		})
	}
}

// TestCompleteEvidenceRefuses gives CompleteEvidence records it must not
// record: of another incident's case, naming another collector than the
// actor, not a collection, not staged by the locker, altered since, or of
// content the locker does not hold. Each is refused with a typed error,
// and nothing is recorded.
func TestCompleteEvidenceRefuses(t *testing.T) {
	t.Parallel()
	for _, atomicCustody := range []bool{true, false} {
		t.Run(fmt.Sprintf("atomic custody %v", atomicCustody), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cr := newContendedResponder(t, atomicCustody, ir.Config{})
			inc, err := cr.r.Open(ctx, testAlice, ir.NewIncident{Title: "Phish", Severity: ir.SeverityHigh})
			require.NoError(t, err)
			other, err := cr.r.Open(ctx, testAlice, ir.NewIncident{Title: "Other", Severity: ir.SeverityLow})
			require.NoError(t, err)
			_, err = cr.r.CollectEvidence(ctx, testAlice, inc.ID, evidence.Collection{Name: "mail.log", Content: strings.NewReader("log")})
			require.NoError(t, err)
			now := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

			notCollected := stagedCopy(inc.ID, "ITEM-X", "log", now)
			notCollected.Record.Action, notCollected.Record.Snapshot = evidence.ActionAccessed, nil
			byBob := stagedCopy(inc.ID, "ITEM-X", "log", now)
			byBob.Record.Actor = evidence.Party{ID: "bob", Name: "Bob"}
			// Sealed by a locker on the same ledger whose blob store
			// does not hold the content.
			twin, err := evidence.NewLocker(evidence.LockerConfig{Ledger: cr.ledger, Blobs: evidence.NewMemoryBlobs()})
			require.NoError(t, err)
			notStored, err := twin.Stage(ctx, evidence.Collection{Case: inc.ID.Case(), Name: "other.log", Content: strings.NewReader("never stored here"),
				Actor: evidence.Party{ID: testAlice.ID, Name: testAlice.Name}})
			require.NoError(t, err)
			genuine, err := cr.locker.Stage(ctx, evidence.Collection{Case: inc.ID.Case(), Name: "staged.log", Content: strings.NewReader("staged"),
				Actor: evidence.Party{ID: testAlice.ID, Name: testAlice.Name}})
			require.NoError(t, err)
			renamed := genuine
			snap := genuine.Record.Snapshot.Clone()
			snap.Name = "renamed.log"
			renamed.Record.Snapshot = &snap
			tests := []struct {
				name   string
				staged evidence.Staged
				want   error
			}{
				{"another case", stagedCopy(other.ID, "ITEM-X", "log", now), ir.ErrInvalid},
				{"another collector", byBob, ir.ErrInvalid},
				{"not a collection", notCollected, evidence.ErrInvalid},
				{"not staged by the locker", stagedCopy(inc.ID, "ITEM-X", "log", now), ir.ErrUnauthorized},
				{"altered since", renamed, evidence.ErrDenied},
				{"content not stored", notStored, evidence.ErrNotFound},
			}
			for _, tc := range tests {
				_, err := cr.r.CompleteEvidence(ctx, testAlice, inc.ID, tc.staged)
				require.ErrorIs(t, err, tc.want, tc.name)
				var ue *evidence.UnrecordedError
				assert.False(t, errors.As(err, &ue), "%s: not a record to complete later", tc.name)
			}
			n, err := cr.ledger.Store().Size(ctx, inc.ID.Case())
			require.NoError(t, err)
			assert.Equal(t, int64(1), n, "nothing recorded")
			got, err := cr.r.Get(ctx, inc.ID)
			require.NoError(t, err)
			assert.Len(t, got.Evidence, 1)
		})
	}
}

// TestCompleteEvidenceOnlyWhatWasStaged has Bob, whom the locker allows on
// incident B's case but not on incident A's, complete a collection for
// incident B naming the content collected into incident A (its digest is
// in A's timeline): hand-made, or a collection the locker staged for him
// with its digest or case changed. Each is refused as unauthorized,
// nothing is recorded or linked, and Bob cannot open A's content. His
// collection as staged completes, once.
func TestCompleteEvidenceOnlyWhatWasStaged(t *testing.T) {
	t.Parallel()
	for _, atomicCustody := range []bool{true, false} {
		t.Run(fmt.Sprintf("atomic custody %v", atomicCustody), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			key, _, err := evidence.GenerateKey("custody.test")
			require.NoError(t, err)
			store := ir.NewMemoryStore()
			var ledgerStore evidence.LedgerStore = evidence.NewMemoryLedgerStore()
			if atomicCustody {
				ledgerStore = store
			}
			ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: ledgerStore, Key: key})
			require.NoError(t, err)
			var bobCases sync.Map
			locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs(),
				Policy: evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
					if _, ok := bobCases.Load(req.Case); req.Actor.ID == testBob.ID && !ok {
						return errors.New("bob is not on this case")
					}
					return nil
				}),
				Refused: func(context.Context, evidence.Refusal) {},
			})
			require.NoError(t, err)
			r, err := ir.NewResponder(ir.Config{Store: store, Evidence: locker, AtomicCustody: atomicCustody})
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, r.Shutdown(context.Background())) })
			incA, err := r.Open(ctx, testAlice, ir.NewIncident{Title: "A", Severity: ir.SeverityHigh})
			require.NoError(t, err)
			incB, err := r.Open(ctx, testAlice, ir.NewIncident{Title: "B", Severity: ir.SeverityLow})
			require.NoError(t, err)
			incC, err := r.Open(ctx, testAlice, ir.NewIncident{Title: "C", Severity: ir.SeverityLow})
			require.NoError(t, err)
			bobCases.Store(incB.ID.Case(), true)
			bobCases.Store(incC.ID.Case(), true)
			secret, err := r.CollectEvidence(ctx, testAlice, incA.ID, evidence.Collection{Name: "secret.eml", Content: strings.NewReader("case A's secret")})
			require.NoError(t, err)
			bob := evidence.Party{ID: testBob.ID, Name: testBob.Name}

			it := evidence.Item{ID: "ITEM-COPY", CaseID: incB.ID.Case(), Name: "copy.eml", Kind: evidence.KindOther, Size: secret.Size,
				Digests: evidence.Digests{SHA256: secret.Digests.SHA256}, CollectedBy: bob, CollectedAt: secret.CollectedAt}
			handMade := evidence.Staged{Record: evidence.Record{Case: incB.ID.Case(), Item: it.ID, Action: evidence.ActionCollected,
				Actor: bob, At: it.CollectedAt, Digest: it.Digests.SHA256, Snapshot: &it}}
			genuine, err := locker.Stage(ctx, evidence.Collection{Case: incB.ID.Case(), Name: "own.log", Content: strings.NewReader("Bob's own"), Actor: bob})
			require.NoError(t, err)
			swapped := genuine
			snap := genuine.Record.Snapshot.Clone()
			snap.Digests.SHA256, snap.Size = secret.Digests.SHA256, secret.Size
			swapped.Record.Digest, swapped.Record.Snapshot = secret.Digests.SHA256, &snap
			moved := genuine
			snapC := genuine.Record.Snapshot.Clone()
			snapC.CaseID = incC.ID.Case()
			moved.Record.Case, moved.Record.Snapshot = incC.ID.Case(), &snapC

			for _, tc := range []struct {
				name   string
				id     ir.ID
				staged evidence.Staged
			}{
				{"hand-made", incB.ID, handMade},
				{"digest changed", incB.ID, swapped},
				{"case changed", incC.ID, moved},
			} {
				_, err := r.CompleteEvidence(ctx, testBob, tc.id, tc.staged)
				require.ErrorIs(t, err, ir.ErrUnauthorized, tc.name)
				require.ErrorIs(t, err, evidence.ErrDenied, tc.name)
			}
			for _, inc := range []*ir.Incident{incB, incC} {
				got, err := r.Get(ctx, inc.ID)
				require.NoError(t, err)
				assert.Empty(t, got.Evidence, "nothing linked to %s", inc.ID)
				n, err := ledger.Store().Size(ctx, inc.ID.Case())
				require.NoError(t, err)
				assert.Zero(t, n, "nothing recorded for %s", inc.ID)
			}
			_, err = locker.Open(ctx, incB.ID.Case(), it.ID, bob, "read the copy")
			require.ErrorIs(t, err, evidence.ErrNotFound)
			_, err = locker.Open(ctx, incA.ID.Case(), secret.ID, bob, "read the original")
			require.ErrorIs(t, err, evidence.ErrDenied)

			item, err := r.CompleteEvidence(ctx, testBob, incB.ID, genuine)
			require.NoError(t, err)
			assert.Equal(t, genuine.Record.Item, item.ID)
			again, err := r.CompleteEvidence(ctx, testBob, incB.ID, genuine)
			require.NoError(t, err, "completing it again changes nothing")
			assert.Equal(t, item, again)
			got, err := r.Get(ctx, incB.ID)
			require.NoError(t, err)
			require.Len(t, got.Evidence, 1)
			assert.Equal(t, item.ID, got.Evidence[0].Item)
		})
	}
}

package irtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
)

// CustodyStore is a store that keeps incidents and custody logs in one
// database, so that an [ir.Change] and the custody records it carries are
// written together.
type CustodyStore interface {
	ir.Store
	evidence.LedgerStore
}

// TestChangeCustody checks that the stores newStore makes write a change's
// custody records ([ir.Change].Custody) in the same transaction as the
// change: both or neither, a custody append another writer overtook fails
// the whole change with an error matching both [ir.ErrConflict] and
// evidence.ErrConflict, and concurrent writers retrying never fork the log.
// Run the evidence package's evidencetest.TestLedgerStore as well, for the
// custody log on its own.
//
// newStore must return a new, empty store each time it is called, and
// release it with t.Cleanup. Subtests run in parallel.
func TestChangeCustody(t *testing.T, newStore func(t *testing.T) CustodyStore) {
	s := custodySuite{newStore: newStore}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"WrittenTogether", s.testWrittenTogether},
		{"Overtaken", s.testOvertaken},
		{"VersionConflict", s.testVersionConflict},
		{"OtherCase", s.testOtherCase},
		{"WithOutbox", s.testWithOutbox},
		{"ConcurrentWriters", s.testConcurrentWriters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type custodySuite struct {
	newStore func(t *testing.T) CustodyStore
}

// ledger returns a fresh store, a ledger on it, and an open incident.
func (s custodySuite) ledger(t *testing.T) (CustodyStore, *evidence.Ledger, *ir.Incident) {
	t.Helper()
	st := s.newStore(t)
	require.NotNil(t, st, "newStore returned nil")
	skey, _, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 32)), "custody.test")
	require.NoError(t, err)
	key, err := evidence.ParseSigningKey(skey)
	require.NoError(t, err)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	open := OpenChange(Incident("INC-000001").Opened(t0).Build())
	require.NoError(t, st.Apply(context.Background(), open))
	return st, l, open.Incident
}

// custodyParty is who the suite's custody records name.
var custodyParty = evidence.Party{ID: "alice", Name: "Alice Moreau"}

// collected returns the record of collecting item id for inc's case.
func collected(inc *ir.Incident, id evidence.ItemID) evidence.Record {
	sum := sha256.Sum256([]byte(id))
	digest := hex.EncodeToString(sum[:])
	item := evidence.Item{
		ID: id, CaseID: inc.ID.Case(), Name: string(id) + ".img", Kind: evidence.KindDiskImage, Size: 4096,
		Digests: evidence.Digests{SHA256: digest}, CollectedBy: custodyParty, CollectedAt: inc.UpdatedAt,
	}
	return evidence.Record{Case: item.CaseID, Item: id, Action: evidence.ActionCollected, Actor: custodyParty,
		At: inc.UpdatedAt, Digest: digest, Snapshot: &item}
}

// withCustody returns the next change of inc carrying r, prepared on l.
func withCustody(t *testing.T, l *evidence.Ledger, inc *ir.Incident, r evidence.Record) ir.Change {
	t.Helper()
	_, a, err := l.Prepare(context.Background(), r)
	require.NoError(t, err)
	ch := NextChange(inc, &ir.NoteAdded{Text: "collected " + string(r.Item)})
	ch.Custody = []evidence.Append{a}
	return ch
}

// verifies checks the case's log signs and verifies.
func verifies(t *testing.T, l *evidence.Ledger, c evidence.CaseID) {
	t.Helper()
	ctx := context.Background()
	_, err := l.Checkpoint(ctx, c)
	require.NoError(t, err)
	rep, err := l.Verify(ctx, c)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
}

func (s custodySuite) testWrittenTogether(t *testing.T) {
	st, l, inc := s.ledger(t)
	ctx := context.Background()
	ch := withCustody(t, l, inc, collected(inc, "item-1"))
	require.NoError(t, st.Apply(ctx, ch))

	n, err := st.Size(ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	it, err := st.Item(ctx, inc.ID.Case(), "item-1")
	require.NoError(t, err)
	assert.Equal(t, "EX-001", it.Exhibit)
	got, err := st.Get(ctx, inc.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Version)

	after := withCustody(t, l, got, evidence.Record{Case: inc.ID.Case(), Item: "item-1",
		Action: evidence.ActionAnalyzed, Actor: custodyParty, At: got.UpdatedAt})
	require.NoError(t, st.Apply(ctx, after))
	verifies(t, l, inc.ID.Case())
	hist, err := l.History(ctx, inc.ID.Case(), "item-1")
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, int64(0), hist[1].Prev, "the second record links to the first")
}

func (s custodySuite) testOvertaken(t *testing.T) {
	st, l, inc := s.ledger(t)
	ctx := context.Background()
	c := inc.ID.Case()
	stale := withCustody(t, l, inc, collected(inc, "item-1"))
	_, err := l.Append(ctx, collected(inc, "item-2"))
	require.NoError(t, err)

	err = st.Apply(ctx, stale)
	require.ErrorIs(t, err, ir.ErrConflict)
	require.ErrorIs(t, err, evidence.ErrConflict)

	got, err := st.Get(ctx, inc.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Version, "the incident change was not written")
	tl, err := ReadTimeline(ctx, st, inc.ID)
	require.NoError(t, err)
	assert.Len(t, tl, 1)
	n, err := st.Size(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the overtaken record was not written")
	_, err = st.Item(ctx, c, "item-1")
	require.ErrorIs(t, err, evidence.ErrNotFound)

	require.NoError(t, st.Apply(ctx, withCustody(t, l, inc, collected(inc, "item-1"))), "prepared again, it goes in")
	verifies(t, l, c)
}

func (s custodySuite) testVersionConflict(t *testing.T) {
	st, l, inc := s.ledger(t)
	ctx := context.Background()
	require.NoError(t, st.Apply(ctx, NextChange(inc)))
	stale := withCustody(t, l, inc, collected(inc, "item-1"))
	require.ErrorIs(t, st.Apply(ctx, stale), ir.ErrConflict)
	n, err := st.Size(ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "a stale incident change writes no custody record")
	_, err = st.Item(ctx, inc.ID.Case(), "item-1")
	require.ErrorIs(t, err, evidence.ErrNotFound)
}

func (s custodySuite) testOtherCase(t *testing.T) {
	st, l, inc := s.ledger(t)
	ctx := context.Background()
	other := Incident("INC-000002").Opened(t0).Build()
	require.NoError(t, st.Apply(ctx, OpenChange(other)))
	ch := withCustody(t, l, other, collected(other, "item-1"))
	ch.Incident, ch.Events = NextChange(inc).Incident, NextChange(inc).Events
	require.ErrorIs(t, st.Apply(ctx, ch), ir.ErrInvalid, "custody records go to the incident's own case")
	n, err := st.Size(ctx, other.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(0), n)
}

func (s custodySuite) testWithOutbox(t *testing.T) {
	st, l, inc := s.ledger(t)
	o, ok := st.(notify.Outbox)
	if !ok {
		t.Skip("the store has no outbox")
	}
	ctx := context.Background()
	ch := withMessages(withCustody(t, l, inc, collected(inc, "item-1")))
	require.NoError(t, st.Apply(ctx, ch))
	got, err := o.Claim(ctx, "worker-1", 10, lease)
	require.NoError(t, err)
	assert.Equal(t, messageKeys(ch.Outbox), keys(got))
	n, err := st.Size(ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

// testConcurrentWriters has writers race to change one incident, each
// change carrying a custody record, retrying on conflict as the Responder
// does: every change goes in once and the log never forks.
func (s custodySuite) testConcurrentWriters(t *testing.T) {
	st, l, inc := s.ledger(t)
	ctx := context.Background()
	c := inc.ID.Case()
	_, err := l.Append(ctx, collected(inc, "item-1"))
	require.NoError(t, err)
	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := writeWithRetry(ctx, st, l, inc.ID, fmt.Sprintf("writer %d change %d", w, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := st.Get(ctx, inc.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(1+writers*each), got.Version)
	n, err := st.Size(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, int64(1+writers*each), n)
	verifies(t, l, c)
	hist, err := l.History(ctx, c, "item-1")
	require.NoError(t, err)
	assert.Len(t, hist, 1+writers*each, "every record links into the item's history")
}

// writeWithRetry reads the incident, prepares an accessed record and
// applies both, again while it conflicts.
func writeWithRetry(ctx context.Context, st CustodyStore, l *evidence.Ledger, id ir.ID, note string) error {
	for range 1000 {
		cur, err := st.Get(ctx, id)
		if err != nil {
			return err
		}
		_, a, err := l.Prepare(ctx, evidence.Record{Case: id.Case(), Item: "item-1",
			Action: evidence.ActionAccessed, Actor: custodyParty, At: cur.UpdatedAt, Notes: note})
		if err != nil {
			return err
		}
		ch := NextChange(cur, &ir.NoteAdded{Text: note})
		ch.Custody = []evidence.Append{a}
		err = st.Apply(ctx, ch)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ir.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("%s: still conflicting", note)
}

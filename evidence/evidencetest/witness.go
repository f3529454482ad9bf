package evidencetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

// TestWitness checks that the witnesses newWitness makes keep the contract
// of [evidence.Witness]: nothing held for a new case; checkpoints accepted
// only moving forward with a sound consistency proof; the checkpoint held
// accepted again; a stale size refused as a conflict; a smaller checkpoint,
// one of a diverging log, one signed by another key and one of another
// case refused as tampering, each changing nothing; cases kept apart; and
// a ledger appending concurrently through the witness, which ends holding
// the log's last checkpoint. Every implementation runs it from its tests:
//
//	func TestDirWitness(t *testing.T) {
//		evidencetest.TestWitness(t, func(t *testing.T, vkey string) evidence.Witness {
//			w, err := evidence.NewDirWitness(t.TempDir(), vkey)
//			require.NoError(t, err)
//			return w
//		})
//	}
//
// newWitness must return a new, empty witness accepting checkpoints signed
// by the key vkey verifies, and release it with t.Cleanup.
func TestWitness(t *testing.T, newWitness func(t *testing.T, vkey string) evidence.Witness) {
	s := witnessSuite{newWitness: newWitness}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Empty", s.testEmpty},
		{"Forward", s.testForward},
		{"Refusals", s.testRefusals},
		{"CasesIndependent", s.testCasesIndependent},
		{"LedgerConcurrent", s.testLedgerConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type witnessSuite struct {
	newWitness func(t *testing.T, vkey string) evidence.Witness
}

// witnessLog is a case's log on a memory store, with checkpoints of it
// taken along the way.
type witnessLog struct {
	t      *testing.T
	ledger *evidence.Ledger
	c      evidence.CaseID
	// cps holds a checkpoint for every size reached, by size.
	cps map[int64]evidence.Checkpoint
}

// newWitnessLog makes a log of case c signed by key, with a ledger that
// uses no witness, so that the suite hands checkpoints over itself.
func newWitnessLog(t *testing.T, key evidence.SigningKey, c evidence.CaseID) *witnessLog {
	t.Helper()
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	return &witnessLog{t: t, ledger: l, c: c, cps: make(map[int64]evidence.Checkpoint)}
}

// grow appends records whose text is note until the log holds size
// records, taking a checkpoint at each size.
func (w *witnessLog) grow(ctx context.Context, size int64, note string) {
	w.t.Helper()
	for {
		n, _, err := w.ledger.Root(ctx, w.c)
		require.NoError(w.t, err)
		if n >= size {
			return
		}
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
		r := evidence.Record{Case: w.c, Item: "ITEM-1", Action: evidence.ActionAccessed,
			Actor: evidence.Party{ID: "alice"}, At: at, Notes: note}
		if n == 0 {
			r.Action = evidence.ActionCollected
			r.Snapshot = &evidence.Item{ID: "ITEM-1", CaseID: w.c, Name: "mail-gw.log", Kind: evidence.KindLog,
				Size: 1, Digests: evidence.Digests{SHA256: strings.Repeat("0", 64)},
				CollectedBy: evidence.Party{ID: "alice"}, CollectedAt: at}
		}
		_, err = w.ledger.Append(ctx, r)
		require.NoError(w.t, err)
		cp, err := w.ledger.Checkpoint(ctx, w.c)
		require.NoError(w.t, err)
		w.cps[cp.Size] = cp
	}
}

// proof returns the consistency proof from size old to size new.
func (w *witnessLog) proof(ctx context.Context, old, new int64) []evidence.Hash {
	w.t.Helper()
	if old == 0 {
		return nil
	}
	p, err := w.ledger.ProveConsistency(ctx, w.c, old, new)
	require.NoError(w.t, err)
	return p
}

// witnessKey returns a fresh signing key and its verifier key.
func witnessKey(t *testing.T) (evidence.SigningKey, string) {
	t.Helper()
	key, vkey, err := evidence.GenerateKey("custody.witness.test")
	require.NoError(t, err)
	return key, vkey
}

// requireHolds checks the witness holds cp for case c.
func requireHolds(t *testing.T, w evidence.Witness, c evidence.CaseID, cp evidence.Checkpoint) {
	t.Helper()
	got, err := w.Latest(context.Background(), c)
	require.NoError(t, err)
	require.Equal(t, cp.Size, got.Size, "the witness holds size %d", cp.Size)
	require.Equal(t, cp.Root, got.Root)
	require.Equal(t, cp.Origin, got.Origin)
	require.Equal(t, string(cp.Note), string(got.Note), "the witness keeps the note as signed")
}

func (s witnessSuite) testEmpty(t *testing.T) {
	_, vkey := witnessKey(t)
	w := s.newWitness(t, vkey)
	_, err := w.Latest(t.Context(), "CASE-NONE")
	require.ErrorIs(t, err, evidence.ErrNotFound)
}

func (s witnessSuite) testForward(t *testing.T) {
	ctx := t.Context()
	key, vkey := witnessKey(t)
	w := s.newWitness(t, vkey)
	log := newWitnessLog(t, key, "CASE-1")
	log.grow(ctx, 7, "")
	require.NoError(t, w.Witness(ctx, "CASE-1", 0, nil, log.cps[2]), "the first checkpoint")
	requireHolds(t, w, "CASE-1", log.cps[2])
	require.NoError(t, w.Witness(ctx, "CASE-1", 2, nil, log.cps[2]), "the checkpoint held, again")
	require.NoError(t, w.Witness(ctx, "CASE-1", 2, log.proof(ctx, 2, 5), log.cps[5]))
	requireHolds(t, w, "CASE-1", log.cps[5])
	require.NoError(t, w.Witness(ctx, "CASE-1", 5, log.proof(ctx, 5, 7), log.cps[7]))
	requireHolds(t, w, "CASE-1", log.cps[7])
}

func (s witnessSuite) testRefusals(t *testing.T) {
	ctx := t.Context()
	key, vkey := witnessKey(t)
	otherKey, _ := witnessKey(t)
	log := newWitnessLog(t, key, "CASE-1")
	log.grow(ctx, 6, "")
	// A log of the same case and key that diverges from record 2 on.
	fork := newWitnessLog(t, key, "CASE-1")
	fork.grow(ctx, 2, "")
	fork.grow(ctx, 6, "another story")
	// The same log signed by another key.
	foreign := newWitnessLog(t, otherKey, "CASE-1")
	foreign.grow(ctx, 6, "")
	// Another case's log.
	other := newWitnessLog(t, key, "CASE-2")
	other.grow(ctx, 6, "")

	tests := []struct {
		name  string
		old   int64
		proof []evidence.Hash
		cp    evidence.Checkpoint
		want  error
	}{
		{"a stale size", 3, log.proof(ctx, 3, 5), log.cps[5], evidence.ErrConflict},
		{"no size, while one is held", 0, nil, log.cps[5], evidence.ErrConflict},
		{"a smaller checkpoint", 4, nil, log.cps[3], evidence.ErrTampered},
		{"a diverging log, same size", 4, nil, fork.cps[4], evidence.ErrTampered},
		{"a diverging log, larger", 4, fork.proof(ctx, 4, 6), fork.cps[6], evidence.ErrTampered},
		{"a proof of another log", 4, fork.proof(ctx, 4, 6), log.cps[6], evidence.ErrTampered},
		{"no proof", 4, nil, log.cps[6], evidence.ErrTampered},
		{"signed by another key", 4, foreign.proof(ctx, 4, 6), foreign.cps[6], evidence.ErrTampered},
		{"another case's checkpoint", 4, other.proof(ctx, 4, 6), other.cps[6], evidence.ErrTampered},
		{"a note changed", 4, log.proof(ctx, 4, 6), changedNote(log.cps[6]), evidence.ErrTampered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := s.newWitness(t, vkey)
			require.NoError(t, w.Witness(ctx, "CASE-1", 0, nil, log.cps[4]))
			err := w.Witness(ctx, "CASE-1", tc.old, tc.proof, tc.cp)
			require.ErrorIs(t, err, tc.want)
			if errors.Is(tc.want, evidence.ErrConflict) {
				var ce *evidence.WitnessConflictError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, int64(4), ce.Size, "the conflict says the size held")
			}
			requireHolds(t, w, "CASE-1", log.cps[4])
		})
	}
}

// changedNote returns cp with one digit of its size changed in the note.
func changedNote(cp evidence.Checkpoint) evidence.Checkpoint {
	text := string(cp.Note)
	i := strings.Index(text, "\n") + 1
	cp.Note = []byte(text[:i] + "9" + text[i+1:])
	return cp
}

func (s witnessSuite) testCasesIndependent(t *testing.T) {
	ctx := t.Context()
	key, vkey := witnessKey(t)
	w := s.newWitness(t, vkey)
	a, b := newWitnessLog(t, key, "CASE-A"), newWitnessLog(t, key, "CASE-B")
	a.grow(ctx, 5, "")
	b.grow(ctx, 2, "")
	require.NoError(t, w.Witness(ctx, "CASE-A", 0, nil, a.cps[5]))
	require.NoError(t, w.Witness(ctx, "CASE-B", 0, nil, b.cps[2]))
	requireHolds(t, w, "CASE-A", a.cps[5])
	requireHolds(t, w, "CASE-B", b.cps[2])
	require.ErrorIs(t, w.Witness(ctx, "CASE-B", 2, nil, a.cps[5]), evidence.ErrTampered, "a checkpoint under another case")
	requireHolds(t, w, "CASE-B", b.cps[2])
}

func (s witnessSuite) testLedgerConcurrent(t *testing.T) {
	ctx := t.Context()
	key, vkey := witnessKey(t)
	w := s.newWitness(t, vkey)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key, Witness: w})
	require.NoError(t, err)
	const c = evidence.CaseID("CASE-1")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	_, err = l.Append(ctx, evidence.Record{Case: c, Item: "ITEM-1", Action: evidence.ActionCollected,
		Actor: evidence.Party{ID: "alice"}, At: at,
		Snapshot: &evidence.Item{ID: "ITEM-1", CaseID: c, Name: "mail-gw.log", Kind: evidence.KindLog, Size: 1,
			Digests: evidence.Digests{SHA256: strings.Repeat("0", 64)}, CollectedBy: evidence.Party{ID: "alice"}, CollectedAt: at}})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range errs {
		wg.Go(func() {
			for i := range 5 {
				if _, err := l.Append(ctx, evidence.Record{Case: c, Item: "ITEM-1", Action: evidence.ActionAccessed,
					Actor: evidence.Party{ID: fmt.Sprintf("reader-%d-%d", g, i)}, At: at}); err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	rep, err := l.Verify(ctx, c)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	require.Equal(t, int64(41), rep.Size)
	// Verify witnesses a sound log the witness is behind on, should an
	// append's witnessing have lost every race.
	held, err := w.Latest(ctx, c)
	require.NoError(t, err)
	require.Equal(t, rep.Size, held.Size, "the witness holds the log's last size")
	require.Equal(t, rep.Root, held.Root)
}

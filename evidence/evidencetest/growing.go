package evidencetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// testExportGrowing exports a case, as a [evidence.CaseLog] and as a
// bundle, again and again while other writers collect items, record
// actions and sign checkpoints in it: every export is of one size of the
// log, with the items and checkpoints of that size, and verifies clean. A
// log that is only growing must never look tampered with.
func (s ledgerSuite) testExportGrowing(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	const (
		c       = "CASE-GROWING"
		writers = 3
		exports = 8
	)
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	witness, err := evidence.NewDirWitness(t.TempDir(), vkey)
	require.NoError(t, err)
	newLedger := func() *evidence.Ledger {
		l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key, Witness: witness})
		require.NoError(t, err)
		return l
	}
	l := newLedger()
	ledgerAppendMix(t, l, c, 0, 5)
	_, err = l.Checkpoint(ctx, c)
	require.NoError(t, err)

	stop := make(chan struct{})
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wl := newLedger()
		wg.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if errs[w] = growCase(t, wl, c, w, k); errs[w] != nil {
					return
				}
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
		for w, err := range errs {
			require.NoError(t, err, "writer %d", w)
		}
	}()
	for e := range exports {
		log, err := l.Export(ctx, c)
		require.NoError(t, err)
		rep := evidence.VerifyLog(log, vkey)
		require.NoError(t, rep.Err(), "export %d of %d records, %d items, %d checkpoints", e, len(log.Records), len(log.Items), len(log.Checkpoints))

		rep, err = l.Verify(ctx, c)
		require.NoError(t, err)
		require.NoError(t, rep.Err(), "verification %d", e)

		var buf bytes.Buffer
		require.NoError(t, bundle.Export(ctx, &buf, l, nil, c, bundle.Options{Checkpoint: e%2 == 0}))
		b, err := bundle.Read(ctx, &buf, nil, bundle.Limits{})
		require.NoError(t, err)
		brep, err := b.Verify(bundle.Trust{VerifierKey: vkey})
		require.NoError(t, err)
		if e%2 == 0 {
			require.NoError(t, brep.Err(), "bundle %d", e)
		} else {
			// Without a checkpoint of its own, a bundle may hold
			// records no checkpoint covers yet: that is all it may
			// find.
			for _, p := range brep.Problems {
				require.ErrorContains(t, p, "checkpoint", "bundle %d", e)
			}
		}
	}
}

// growCase is step k of writer w growing case c: it collects an item,
// records an action on it, and now and then signs a checkpoint.
func growCase(t *testing.T, l *evidence.Ledger, c evidence.CaseID, w, k int) error {
	ctx := t.Context()
	id := evidence.ItemID(fmt.Sprintf("W%d-%d", w, k))
	it := ledgerItem(c, id, int64(k))
	it.Exhibit = ""
	at := ledgerT0.Add(time.Duration(k) * time.Minute)
	if _, err := l.Append(ctx, evidence.Record{Case: c, Item: id, Action: evidence.ActionCollected, Actor: ledgerAlice, At: at, Digest: it.Digests.SHA256, Snapshot: &it}); err != nil {
		return fmt.Errorf("collect %s: %w", id, err)
	}
	if _, err := l.Append(ctx, evidence.Record{Case: c, Item: id, Action: evidence.ActionAnalyzed, Actor: ledgerBob, At: at, Reason: "triage"}); err != nil {
		return fmt.Errorf("analyse %s: %w", id, err)
	}
	if k%3 == w%3 {
		if _, err := l.Checkpoint(ctx, c); err != nil {
			return fmt.Errorf("checkpoint after %s: %w", id, err)
		}
	}
	return nil
}

package evidence_test

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// growingStore is a ledger store that another writer appends to every time
// a case's records are read: a case that grows between any two reads of an
// export, as fast as it can.
type growingStore struct {
	evidence.LedgerStore
	grow func()
}

func (s *growingStore) Records(ctx context.Context, c evidence.CaseID, start, end int64) ([][]byte, error) {
	out, err := s.LedgerStore.Records(ctx, c, start, end)
	if s.grow != nil {
		s.grow()
	}
	return out, err
}

// TestExportGrowingCase exports a case that grows between every two reads
// of the export, collecting an item and signing a checkpoint each time:
// the export and the bundle are of one size of the log, and verify clean
// however often that happens.
func TestExportGrowingCase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const c = evidence.CaseID("CASE-GROWING")
	key, vkey := custodyKey(t, "custody.example.org", 1)
	mem := evidence.NewMemoryLedgerStore()
	writer, err := evidence.NewLedger(evidence.LedgerConfig{Store: mem, Key: key})
	require.NoError(t, err)
	appendRecords(t, writer, collectRecord(c, "A", custodyAt(0)))
	_, err = writer.Checkpoint(ctx, c)
	require.NoError(t, err)

	st := &growingStore{LedgerStore: mem}
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	grown := 0
	st.grow = func() {
		grown++
		id := evidence.ItemID(fmt.Sprintf("G%d", grown))
		appendRecords(t, writer, collectRecord(c, id, custodyAt(grown)), actRecord(c, id, evidence.ActionAnalyzed, custodyAt(grown)))
		_, err := writer.Checkpoint(ctx, c)
		require.NoError(t, err)
	}

	for range 3 {
		log, err := l.Export(ctx, c)
		require.NoError(t, err)
		require.NoError(t, evidence.VerifyLog(log, vkey).Err(), "export of %d records", len(log.Records))
		require.NotEmpty(t, log.Checkpoints)

		rep, err := l.Verify(ctx, c)
		require.NoError(t, err)
		require.NoError(t, rep.Err())

		for _, opts := range []bundle.Options{{Checkpoint: true}, {}} {
			var buf bytes.Buffer
			require.NoError(t, bundle.Export(ctx, &buf, l, nil, c, opts))
			b, err := bundle.Read(ctx, &buf, nil, bundle.Limits{})
			require.NoError(t, err)
			brep, err := b.Verify(bundle.Trust{VerifierKey: vkey})
			require.NoError(t, err)
			if opts.Checkpoint {
				require.NoError(t, brep.Err())
			}
			require.NoError(t, evidence.VerifyLog(b.CaseLog(), vkey).Err())
		}
	}
	require.Greater(t, grown, 20, "the case grew during every export")
}

// tamperedStore is a ledger store that adds an item no record collected,
// or a checkpoint of more records than the log holds, to what it returns.
type tamperedStore struct {
	evidence.LedgerStore
	item       *evidence.Item
	checkpoint *evidence.Checkpoint
}

func (s *tamperedStore) Items(ctx context.Context, c evidence.CaseID) ([]evidence.Item, error) {
	out, err := s.LedgerStore.Items(ctx, c)
	if err == nil && s.item != nil {
		out = append(out, *s.item)
	}
	return out, err
}

func (s *tamperedStore) Checkpoints(ctx context.Context, c evidence.CaseID) ([]evidence.Checkpoint, error) {
	out, err := s.LedgerStore.Checkpoints(ctx, c)
	if err == nil && s.checkpoint != nil {
		out = append(out, *s.checkpoint)
	}
	return out, err
}

// TestExportKeepsProblems checks that exporting one size of the log hides
// nothing wrong with the store: an item no record collected, and a
// checkpoint of more records than the log holds (the log cut short after
// it was signed), are exported and reported.
func TestExportKeepsProblems(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const c = evidence.CaseID("CASE-TAMPERED")
	key, vkey := custodyKey(t, "custody.example.org", 1)
	mem := evidence.NewMemoryLedgerStore()
	full, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	appendRecords(t, full, collectRecord(c, "A", custodyAt(0)), collectRecord(c, "B", custodyAt(1)))
	longer, err := full.Checkpoint(ctx, c)
	require.NoError(t, err)
	w, err := evidence.NewLedger(evidence.LedgerConfig{Store: mem, Key: key})
	require.NoError(t, err)
	appendRecords(t, w, collectRecord(c, "A", custodyAt(0)))
	_, err = w.Checkpoint(ctx, c)
	require.NoError(t, err)

	orphan := custodyItem(c, "ORPHAN")
	tests := []struct {
		name  string
		store *tamperedStore
		what  string
	}{
		{"item without record", &tamperedStore{LedgerStore: mem, item: &orphan}, "item"},
		{"checkpoint beyond the log", &tamperedStore{LedgerStore: mem, checkpoint: &longer}, "checkpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := evidence.NewLedger(evidence.LedgerConfig{Store: tc.store, Key: key})
			require.NoError(t, err)
			log, err := l.Export(ctx, c)
			require.NoError(t, err)
			rep := evidence.VerifyLog(log, vkey)
			require.ErrorIs(t, rep.Err(), evidence.ErrTampered)
			var te *evidence.TamperError
			require.ErrorAs(t, rep.Err(), &te)
			require.Equal(t, tc.what, te.What)

			var buf bytes.Buffer
			err = bundle.Export(ctx, &buf, l, nil, c, bundle.Options{})
			if err == nil {
				b, rerr := bundle.Read(ctx, &buf, nil, bundle.Limits{})
				require.NoError(t, rerr)
				brep, verr := b.Verify(bundle.Trust{VerifierKey: vkey})
				require.NoError(t, verr)
				err = brep.Err()
			}
			require.ErrorIs(t, err, evidence.ErrTampered, "the bundle export or its verification reports it")
		})
	}
}

// shortStore is a ledger store whose first Size answers short, as if the
// log had grown just after an export read its size.
type shortStore struct {
	evidence.LedgerStore
	short int64
	asked atomic.Bool
}

func (s *shortStore) Size(ctx context.Context, c evidence.CaseID) (int64, error) {
	if !s.asked.Swap(true) {
		return s.short, nil
	}
	return s.LedgerStore.Size(ctx, c)
}

// TestVerifyWitnessAheadOfTheExport verifies a log exported at a size
// below the witnessed checkpoint's, while the store holds more records
// than that: the log verified must be a prefix of the log witnessed, so a
// store rewritten and grown past the witnessed size is still reported as
// rolled back.
func TestVerifyWitnessAheadOfTheExport(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, vkey := custodyKey(t, "custody.example.org", 3)
	w, err := evidence.NewDirWitness(t.TempDir(), vkey)
	require.NoError(t, err)
	full, _ := witnessedLocker(t, key, w)
	collectAndRead(t, full, "CASE-1", 3)
	held, err := w.Latest(ctx, "CASE-1")
	require.NoError(t, err)
	require.Equal(t, int64(4), held.Size)

	oldW, err := evidence.NewDirWitness(t.TempDir(), vkey)
	require.NoError(t, err)
	rewritten, _ := witnessedLocker(t, key, oldW)
	collectAndRead(t, rewritten, "CASE-1", 5)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: &shortStore{LedgerStore: rewritten.Ledger().Store(), short: 2}, Key: key, Witness: w})
	require.NoError(t, err)
	rep, err := l.Verify(ctx, "CASE-1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), rep.Size, "the log as exported")
	var te *evidence.TamperError
	require.ErrorAs(t, rep.Err(), &te)
	assert.Equal(t, "rollback", te.What)
	assert.Contains(t, te.Found, "not a prefix of the log witnessed")

	// The same store, unchanged, exported short of its witnessed size:
	// it is the witnessed log growing, not a problem.
	l, err = evidence.NewLedger(evidence.LedgerConfig{Store: &shortStore{LedgerStore: full.Ledger().Store(), short: 2}, Key: key, Witness: w})
	require.NoError(t, err)
	rep, err = l.Verify(ctx, "CASE-1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), rep.Size)
	require.NoError(t, rep.Err())
}

package evidence_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

func TestLedgerPrepareWritesNothing(t *testing.T) {
	ctx := context.Background()
	l := newCustodyLedger(t)
	appendRecords(t, l, collectRecord("case-1", "item-1", custodyAt(0)))

	rec, a, err := l.Prepare(ctx, actRecord("case-1", "item-1", evidence.ActionAnalyzed, custodyAt(1)))
	require.NoError(t, err)
	requireSize(t, l, "case-1", 1)
	assert.Equal(t, int64(1), rec.Index)
	assert.Equal(t, int64(0), rec.Prev)
	assert.NotEmpty(t, rec.PrevHash)
	assert.Equal(t, int64(1), a.Index)
	assert.Equal(t, evidence.CaseID("case-1"), a.Case)
	data, err := rec.Encode()
	require.NoError(t, err)
	assert.Equal(t, data, a.Data, "the append carries the record's canonical encoding")

	// Written by the store, the prepared record is the one Append would
	// have written: the log verifies.
	require.NoError(t, l.Store().Append(ctx, a))
	requireSize(t, l, "case-1", 2)
	_, err = l.Checkpoint(ctx, "case-1")
	require.NoError(t, err)
	rep, err := l.Verify(ctx, "case-1")
	require.NoError(t, err)
	assert.NoError(t, rep.Err())
}

func TestLedgerPrepareOvertaken(t *testing.T) {
	ctx := context.Background()
	l := newCustodyLedger(t)
	appendRecords(t, l, collectRecord("case-1", "item-1", custodyAt(0)))
	_, a, err := l.Prepare(ctx, actRecord("case-1", "item-1", evidence.ActionAnalyzed, custodyAt(1)))
	require.NoError(t, err)
	appendRecords(t, l, actRecord("case-1", "item-1", evidence.ActionVerified, custodyAt(2)))

	err = l.Store().Append(ctx, a)
	require.ErrorIs(t, err, evidence.ErrConflict, "a prepared append another writer overtook is refused")
	requireSize(t, l, "case-1", 2)
}

func TestLedgerPrepareNumbersExhibits(t *testing.T) {
	ctx := context.Background()
	l := newCustodyLedger(t)
	appendRecords(t, l, collectRecord("case-1", "item-1", custodyAt(0)))
	r := collectRecord("case-1", "item-2", custodyAt(1))
	r.Snapshot.Exhibit = ""
	rec, a, err := l.Prepare(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, "EX-002", rec.Snapshot.Exhibit)
	require.NotNil(t, a.NewItem)
	assert.Equal(t, "EX-002", a.NewItem.Exhibit)

	_, _, err = l.Prepare(ctx, collectRecord("case-1", "item-1", custodyAt(2)))
	require.ErrorIs(t, err, evidence.ErrConflict, "an item is collected once")
	_, _, err = l.Prepare(ctx, evidence.Record{Case: "case-1"})
	require.ErrorIs(t, err, evidence.ErrInvalid)
}

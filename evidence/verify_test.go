package evidence_test

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

// verifiedLedger returns a ledger with case CASE-VERIFY of nine records
// of three items and checkpoints at sizes 1, 4 and 9.
func verifiedLedger(t *testing.T) *evidence.Ledger {
	t.Helper()
	const c = "CASE-VERIFY"
	l := newCustodyLedger(t)
	checkpoint := func() {
		_, err := l.Checkpoint(t.Context(), c)
		require.NoError(t, err)
	}
	appendRecords(t, l, collectRecord(c, "A", custodyAt(0)))
	checkpoint()
	appendRecords(t, l,
		collectRecord(c, "B", custodyAt(1)),
		actRecord(c, "A", evidence.ActionTransferred, custodyAt(2)),
		actRecord(c, "B", evidence.ActionAccessDenied, custodyAt(3)),
	)
	checkpoint()
	appendRecords(t, l,
		collectRecord(c, "C", custodyAt(4)),
		actRecord(c, "A", evidence.ActionCopied, custodyAt(5)),
		actRecord(c, "C", evidence.ActionReleased, custodyAt(6)),
		actRecord(c, "B", evidence.ActionDisposed, custodyAt(7)),
		actRecord(c, "A", evidence.ActionAnalyzed, custodyAt(8)),
	)
	checkpoint()
	return l
}

func TestVerifyLogClean(t *testing.T) {
	t.Parallel()
	l := verifiedLedger(t)
	ctx := t.Context()
	size, root, err := l.Root(ctx, "CASE-VERIFY")
	require.NoError(t, err)
	log, err := l.Export(ctx, "CASE-VERIFY")
	require.NoError(t, err)
	assert.Equal(t, l.Origin("CASE-VERIFY"), log.Origin)

	fromStore, err := l.Verify(ctx, "CASE-VERIFY")
	require.NoError(t, err)
	for name, rep := range map[string]*evidence.Report{
		"VerifyLog":     verifyBoth(t, log, l.VerifierKey(), evidence.VerifyOptions{}),
		"Ledger.Verify": fromStore,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Empty(t, rep.Problems)
			assert.True(t, rep.OK())
			require.NoError(t, rep.Err())
			assert.Equal(t, evidence.CaseID("CASE-VERIFY"), rep.Case)
			assert.Equal(t, size, rep.Size)
			assert.Equal(t, int64(9), rep.Size)
			assert.Equal(t, root, rep.Root)
			assert.Equal(t, 3, rep.Items)
			assert.Equal(t, 3, rep.Checkpoints)
		})
	}
}

func TestVerifyLogEmpty(t *testing.T) {
	t.Parallel()
	_, vkey := custodyKey(t, "custody.example.org", 1)
	rep := verifyBoth(t, evidence.CaseLog{Case: "CASE-EMPTY", Origin: "incidentkit/custody/CASE-EMPTY"}, vkey, evidence.VerifyOptions{})
	require.True(t, rep.OK(), "%v", rep.Err())
	assert.Zero(t, rep.Size)
	assert.Equal(t, evidence.Hash(sha256.Sum256(nil)), rep.Root, "the root of an empty log is SHA-256 of nothing (RFC 6962, 2.1)")
}

func TestVerifyLogWrongVerifierKey(t *testing.T) {
	t.Parallel()
	l := verifiedLedger(t)
	log, err := l.Export(t.Context(), "CASE-VERIFY")
	require.NoError(t, err)

	_, otherKey := custodyKey(t, "custody.example.org", 9)
	rep := verifyBoth(t, log, otherKey, evidence.VerifyOptions{})
	requireProblems(t, rep, []tamperProblem{{"checkpoint signature", "", -1}}, true)
	assert.Len(t, rep.Problems, 3, "one problem per checkpoint")

	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		rep := verifyBoth(t, log, "not a key", evidence.VerifyOptions{})
		require.False(t, rep.OK())
		require.ErrorIs(t, rep.Err(), evidence.ErrInvalid, "a check that could not be made")
		require.NotErrorIs(t, rep.Err(), evidence.ErrTampered, "is no sign of tampering")
	})
}

// TestVerifyLogReportsEveryProblem checks VerifyLog goes on after the first
// problem and reports all of them.
func TestVerifyLogReportsEveryProblem(t *testing.T) {
	t.Parallel()
	l := verifiedLedger(t)
	log, err := l.Export(t.Context(), "CASE-VERIFY")
	require.NoError(t, err)
	log.Records[1][0] = ' '
	log.Items[itemIndex(t, &log, "C")].Location = "somewhere else"
	log.Checkpoints[0].Size = 2
	editRecord(t, &log, 8, func(r *evidence.Record) { r.Prev = 2 })
	rep := verifyBoth(t, log, l.VerifierKey(), evidence.VerifyOptions{})
	requireProblems(t, rep, []tamperProblem{
		{"record", "", 1},
		{"item", "C", anyRecord},
		{"checkpoint", "", -1},
		{"item link", "A", 8},
	}, false)
}

func TestReport(t *testing.T) {
	t.Parallel()
	var rep evidence.Report
	assert.True(t, rep.OK())
	require.NoError(t, rep.Err())

	first := &evidence.TamperError{Case: "C", Item: "A", Record: 3, What: "record"}
	second := &evidence.TamperError{Case: "C", Record: -1, What: "checkpoint"}
	rep.Problems = []error{first, second}
	assert.False(t, rep.OK())
	err := rep.Err()
	require.ErrorIs(t, err, evidence.ErrTampered)
	var te *evidence.TamperError
	require.ErrorAs(t, err, &te)
	assert.Same(t, first, te)
	assert.Contains(t, err.Error(), first.Error())
	assert.Contains(t, err.Error(), second.Error())
}

func TestTamperError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  evidence.TamperError
		want string
	}{
		{
			evidence.TamperError{Case: "C-1", Item: "A", Record: 3, What: "record", Expected: "index 3", Found: "index 4"},
			"evidence: tampered record in case C-1, item A, record 3: expected index 3, found index 4",
		},
		{
			evidence.TamperError{Case: "C-1", Record: -1, What: "checkpoint", Expected: "root x", Found: "root y"},
			"evidence: tampered checkpoint in case C-1: expected root x, found root y",
		},
		{
			evidence.TamperError{Record: 0, What: "inclusion proof"},
			"evidence: tampered inclusion proof, record 0",
		},
		{
			evidence.TamperError{Item: "B", Record: -1, What: "blob", Found: "another digest"},
			"evidence: tampered blob, item B: expected , found another digest",
		},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			err := &tc.err
			assert.Equal(t, tc.want, err.Error())
			require.ErrorIs(t, err, evidence.ErrTampered)
			require.NotErrorIs(t, err, evidence.ErrInvalid)
			require.NotErrorIs(t, err, evidence.ErrNotFound)
			wrapped := errors.Join(errors.New("audit failed"), err)
			require.ErrorIs(t, wrapped, evidence.ErrTampered)
		})
	}

	inv := &evidence.InvalidError{Field: "case ID", Reason: "must not be empty"}
	assert.Equal(t, "evidence: invalid case ID: must not be empty", inv.Error())
	require.ErrorIs(t, inv, evidence.ErrInvalid)
	require.NotErrorIs(t, inv, evidence.ErrTampered)
}

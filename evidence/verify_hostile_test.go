package evidence_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

// garbageLog returns a log of n records of one byte each: a problem in
// every record, as a hostile bundle holds.
func garbageLog(n int) evidence.CaseLog {
	log := evidence.CaseLog{Case: "CASE-HOSTILE", Origin: "incidentkit/custody/CASE-HOSTILE"}
	for range n {
		log.Records = append(log.Records, []byte("x"))
	}
	return log
}

// A log with a problem in every record gets a report of bounded size: the
// first problems, and a count of the rest.
func TestVerifyLogCapsProblems(t *testing.T) {
	t.Parallel()
	_, vkey := custodyKey(t, "custody.example.org", 1)
	const n = 3 * evidence.DefaultMaxProblems
	log := garbageLog(n)
	for _, tc := range []struct {
		name string
		rep  *evidence.Report
		max  int
	}{
		{"default", verifyBoth(t, log, vkey, evidence.VerifyOptions{}), evidence.DefaultMaxProblems},
		{"raised", verifyBoth(t, log, vkey, evidence.VerifyOptions{MaxProblems: 2 * evidence.DefaultMaxProblems}), 2 * evidence.DefaultMaxProblems},
		{"lowered", verifyBoth(t, log, vkey, evidence.VerifyOptions{MaxProblems: 5}), 5},
		{"unlimited", verifyBoth(t, log, vkey, evidence.VerifyOptions{MaxProblems: n}), n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := tc.rep
			require.False(t, rep.OK())
			require.Len(t, rep.Problems, tc.max)
			assert.Equal(t, n-tc.max, rep.Omitted)
			assert.Equal(t, n, rep.ProblemCount())
			var te *evidence.TamperError
			require.ErrorAs(t, rep.Problems[0], &te)
			assert.Equal(t, int64(0), te.Record, "the first problems are kept")
			require.ErrorAs(t, rep.Problems[tc.max-1], &te)
			assert.Equal(t, int64(tc.max-1), te.Record)
			require.ErrorIs(t, rep.Err(), evidence.ErrTampered)
			if rep.Omitted > 0 {
				assert.ErrorContains(t, rep.Err(), fmt.Sprintf("%d more problems not listed", n-tc.max))
			}
		})
	}
}

// A problem added to a full report is counted, not listed.
func TestReportAdd(t *testing.T) {
	t.Parallel()
	var rep evidence.Report
	for i := range evidence.DefaultMaxProblems + 2 {
		rep.Add(fmt.Errorf("problem %d", i))
	}
	assert.Len(t, rep.Problems, evidence.DefaultMaxProblems)
	assert.Equal(t, 2, rep.Omitted)
	assert.False(t, rep.OK())
	assert.Equal(t, evidence.DefaultMaxProblems+2, rep.ProblemCount())
}

// A malformed key is one problem, however many checkpoints there are:
// it is parsed once, not once a checkpoint.
func TestVerifyLogParsesTheKeyOnce(t *testing.T) {
	t.Parallel()
	l := verifiedLedger(t)
	log, err := l.Export(t.Context(), "CASE-VERIFY")
	require.NoError(t, err)
	for range 100 {
		log.Checkpoints = append(log.Checkpoints, log.Checkpoints[0])
	}
	rep := verifyBoth(t, log, "not a key", evidence.VerifyOptions{})
	require.Len(t, rep.Problems, 1, "%v", rep.Err())
	assert.ErrorIs(t, rep.Problems[0], evidence.ErrInvalid)
	assert.ErrorContains(t, rep.Problems[0], "verifier key")
}

// A CheckpointVerifier opens what OpenCheckpoint opens, and refuses what
// it refuses.
func TestCheckpointVerifier(t *testing.T) {
	t.Parallel()
	l := verifiedLedger(t)
	log, err := l.Export(t.Context(), "CASE-VERIFY")
	require.NoError(t, err)
	cv, err := evidence.NewCheckpointVerifier(l.VerifierKey())
	require.NoError(t, err)
	for _, cp := range log.Checkpoints {
		want, err := evidence.OpenCheckpoint(cp.Note, l.VerifierKey())
		require.NoError(t, err)
		got, err := cv.Open(cp.Note)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err = cv.Open([]byte("not a note"))
	assert.ErrorIs(t, err, evidence.ErrTampered)
	_, err = evidence.NewCheckpointVerifier("not a key")
	assert.ErrorIs(t, err, evidence.ErrInvalid)
}

// A report says what each checkpoint's signature shows, so that a caller
// checking more of them need not check their signatures again.
func TestReportSignedCheckpoint(t *testing.T) {
	t.Parallel()
	l := verifiedLedger(t)
	log, err := l.Export(t.Context(), "CASE-VERIFY")
	require.NoError(t, err)
	forged := log.Checkpoints[1]
	forged.Note = []byte("not a note")
	log.Checkpoints = append(log.Checkpoints, forged)
	rep := verifyBoth(t, log, l.VerifierKey(), evidence.VerifyOptions{})
	for i, cp := range log.Checkpoints[:3] {
		got, ok := rep.SignedCheckpoint(i)
		require.True(t, ok, "checkpoint %d", i)
		assert.Equal(t, evidence.Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: cp.Root}, got)
	}
	for _, i := range []int{3, -1, 4} {
		_, ok := rep.SignedCheckpoint(i)
		assert.False(t, ok, "checkpoint %d", i)
	}
	_, ok := verifyBoth(t, log, "not a key", evidence.VerifyOptions{}).SignedCheckpoint(0)
	assert.False(t, ok, "no key, no signature sound")
}

package evidence_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

// streamLog checks log with a LogVerifier, one record at a time, each
// from a buffer reused for the next, as a reader of a stream does.
func streamLog(log evidence.CaseLog, vkey string, opts evidence.VerifyOptions) *evidence.Report {
	v := evidence.NewLogVerifier(log.Case, log.Origin, vkey, log.Items, log.Checkpoints, opts)
	var buf []byte
	for _, r := range log.Records {
		buf = append(buf[:0], r...)
		v.Add(buf)
		clear(buf) // nothing of a record is kept
	}
	return v.Finish()
}

// verifyBoth checks log with VerifyLogWith and with a LogVerifier, requires
// the same report of both, and returns it.
func verifyBoth(t testing.TB, log evidence.CaseLog, vkey string, opts evidence.VerifyOptions) *evidence.Report {
	t.Helper()
	want := evidence.VerifyLogWith(log, vkey, opts)
	got := streamLog(log, vkey, opts)
	requireSameReport(t, want, got)
	return want
}

// requireSameReport requires got to be want: the same counts, root and
// problems in the same order, and the same checkpoints found signed.
func requireSameReport(t testing.TB, want, got *evidence.Report) {
	t.Helper()
	require.Len(t, got.Problems, len(want.Problems), "problems:\n%v\nwant:\n%v", got.Err(), want.Err())
	for i := range want.Problems {
		require.Equal(t, want.Problems[i].Error(), got.Problems[i].Error(), "problem %d", i)
	}
	for i := range want.Checkpoints + 1 {
		wcp, wok := want.SignedCheckpoint(i)
		gcp, gok := got.SignedCheckpoint(i)
		require.Equal(t, wok, gok, "checkpoint %d signed", i)
		require.Equal(t, wcp, gcp, "checkpoint %d", i)
	}
	require.Equal(t, want, got)
}

func TestLogVerifierFinishTwiceAndAddAfter(t *testing.T) {
	t.Parallel()
	f := newTamperFixture(t)
	v := evidence.NewLogVerifier(f.log.Case, f.log.Origin, f.vkey, f.log.Items, f.log.Checkpoints, evidence.VerifyOptions{})
	for _, r := range f.log.Records {
		v.Add(r)
	}
	require.Equal(t, int64(len(f.log.Records)), v.Size())
	rep := v.Finish()
	require.True(t, rep.OK(), "%v", rep.Err())
	v.Add(f.log.Records[0])
	require.Same(t, rep, v.Finish(), "Finish returns the same report")
	require.Equal(t, int64(len(f.log.Records)), rep.Size, "a record added after Finish is ignored")
	require.True(t, rep.OK())
}

// A log missing its last record is caught by the streamed check as by
// VerifyLog: the checkpoint signs more records than were added.
func TestLogVerifierMissingRecord(t *testing.T) {
	t.Parallel()
	f := newTamperFixture(t)
	log := f.log
	log.Records = log.Records[:len(log.Records)-1]
	rep := verifyBoth(t, log, f.vkey, evidence.VerifyOptions{})
	requireProblems(t, rep, []tamperProblem{{"checkpoint", "", -1}}, false)
}

package evidence

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
)

// streamed checks log with a LogVerifier, one record at a time.
func streamed(log CaseLog, vkey string, maxProblems int) *Report {
	v := NewLogVerifier(log.Case, log.Origin, vkey, log.Items, log.Checkpoints, VerifyOptions{MaxProblems: maxProblems})
	var buf []byte
	for _, r := range log.Records {
		buf = append(buf[:0], r...)
		v.Add(buf)
		clear(buf)
	}
	return v.Finish()
}

// requireSameStreamed requires a LogVerifier given log's records one at a
// time to report exactly want, VerifyLog's report of log.
func requireSameStreamed(t testing.TB, log CaseLog, vkey string, want *Report) {
	t.Helper()
	got := streamed(log, vkey, want.maxProblems)
	if len(got.Problems) != len(want.Problems) {
		t.Fatalf("streamed problems:\n%v\nwant:\n%v", got.Err(), want.Err())
	}
	for i := range got.Problems {
		if got.Problems[i].Error() != want.Problems[i].Error() {
			t.Fatalf("streamed problem %d: %v, want %v", i, got.Problems[i], want.Problems[i])
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("streamed report %+v, want %+v", got, want)
	}
}

// FuzzLogVerifier checks that a LogVerifier reports exactly what
// VerifyLogWith does, for any records in place of those of a signed log
// with items, and any limit on the problems listed.
func FuzzLogVerifier(f *testing.F) {
	base, vkey := chunkedLog(f, 40)
	clean := bytes.Join(base.Records, []byte("\n"))
	f.Add(clean, uint8(0))
	f.Add(clean[:len(clean)/2], uint8(3))
	f.Add(bytes.Replace(clean, []byte(`"look 5`), []byte(`"LOOK 5`), 1), uint8(0))
	f.Add(bytes.Replace(clean, []byte(`"prev":1`), []byte(`"prev":2`), 1), uint8(1))
	f.Add(bytes.Replace(clean, []byte(`"accessed"`), []byte(`"collected"`), 3), uint8(0))
	f.Add([]byte("x\ny\n\n{}"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, maxProblems uint8) {
		log := base
		log.Records = bytes.Split(data, []byte("\n"))
		if len(data) == 0 {
			log.Records = nil
		}
		want := VerifyLogWith(log, vkey, VerifyOptions{MaxProblems: int(maxProblems)})
		requireSameStreamed(t, log, vkey, want)
	})
}

// A LogVerifier reports what VerifyLogWith does on thousands of logs
// changed at random, from a fixed seed: the fuzz target's check, run on
// every test run.
func TestLogVerifierMutatedLogs(t *testing.T) {
	t.Parallel()
	base, vkey := chunkedLog(t, 40)
	clean := bytes.Join(base.Records, []byte("\n"))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 1000 {
		data := bytes.Clone(clean)
		for range 1 + rng.IntN(3) {
			at := rng.IntN(len(data))
			switch rng.IntN(3) {
			case 0:
				data[at] = byte(rng.IntN(256))
			case 1:
				data[at] = "\n0{}\"x1"[rng.IntN(7)]
			default:
				data = append(data[:at], data[at+1:]...)
			}
		}
		log := base
		log.Records = bytes.Split(data, []byte("\n"))
		want := VerifyLogWith(log, vkey, VerifyOptions{MaxProblems: i % 7})
		requireSameStreamed(t, log, vkey, want)
	}
}

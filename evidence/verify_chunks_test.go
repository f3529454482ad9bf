package evidence

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// chunkedLog returns a clean log of n records of a few items, signed at
// two sizes, long enough to span several decode chunks.
func chunkedLog(t testing.TB, n int) (CaseLog, string) {
	t.Helper()
	const c = "CASE-CHUNKS"
	key, _, err := GenerateKey("custody.example.org")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLedger(LedgerConfig{Store: NewMemoryLedgerStore(), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, time.March, 2, 9, 15, 30, 123456789, time.FixedZone("", 5*3600+30*60))
	var items []ItemID
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		var r Record
		if i%97 == 0 {
			id := ItemID(fmt.Sprintf("ITEM-%d", len(items)))
			items = append(items, id)
			r = Record{Case: c, Item: id, Action: ActionCollected, Actor: Party{ID: "alice"}, At: at,
				Snapshot: &Item{ID: id, CaseID: c, Name: "disk", Kind: KindDiskImage, Size: int64(i),
					Digests: Digests{SHA256: strings.Repeat("ab", 32)}, CollectedBy: Party{ID: "alice"}, CollectedAt: at}}
		} else {
			r = Record{Case: c, Item: items[(i*7)%len(items)], Action: ActionAccessed, Actor: Party{ID: "bob", Name: "Bob"},
				At: at, Reason: fmt.Sprintf("look %d", i)}
		}
		if _, err := l.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if i == n/3 {
			if _, err := l.Checkpoint(t.Context(), c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := l.Checkpoint(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	log, err := l.Export(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return log, l.VerifierKey()
}

// requireSameReport checks verifyLog reports exactly what
// verifyLogReference does.
func requireSameReport(t *testing.T, log CaseLog, vkey string) *Report {
	t.Helper()
	got, gotHashes := verifyLog(log, vkey, 0)
	want, wantHashes := verifyLogReference(log, vkey)
	if got.Size != want.Size || got.Root != want.Root || got.Items != want.Items || got.Checkpoints != want.Checkpoints {
		t.Fatalf("report %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(gotHashes, wantHashes) {
		t.Fatalf("rebuilt hashes differ: %d and %d", len(gotHashes), len(wantHashes))
	}
	if len(got.Problems) != len(want.Problems) {
		t.Fatalf("problems:\n%v\nwant:\n%v", got.Err(), want.Err())
	}
	for i := range got.Problems {
		if got.Problems[i].Error() != want.Problems[i].Error() || !reflect.DeepEqual(got.Problems[i], want.Problems[i]) {
			t.Fatalf("problem %d: %v, want %v", i, got.Problems[i], want.Problems[i])
		}
	}
	requireSameStreamed(t, log, vkey, got)
	return got
}

func TestVerifyLogChunksMatchReference(t *testing.T) {
	t.Parallel()
	n := 3*decodeChunk + 11
	log, vkey := chunkedLog(t, n)
	if rep := requireSameReport(t, log, vkey); !rep.OK() {
		t.Fatalf("clean log: %v", rep.Err())
	}
	for _, size := range []int{0, 1, decodeChunk - 1, decodeChunk, decodeChunk + 1, 2 * decodeChunk} {
		short := log
		short.Records = log.Records[:size]
		short.Checkpoints = nil
		requireSameReport(t, short, vkey)
	}
	at := []int{0, 1, 97, decodeChunk - 1, decodeChunk, decodeChunk + 1, 2*decodeChunk - 1, 2 * decodeChunk, n - 1}
	edits := map[string]func(b []byte) []byte{
		"reason": func(b []byte) []byte { return bytes.Replace(b, []byte(`"look `), []byte(`"LOOK `), 1) },
		"index":  func(b []byte) []byte { return bytes.Replace(b, []byte(`"index":`), []byte(`"index":1`), 1) },
		"prev":   func(b []byte) []byte { return bytes.Replace(b, []byte(`"prev":`), []byte(`"prev":1`), 1) },
		"hash":   func(b []byte) []byte { return bytes.Replace(b, []byte(`"prev_hash":"`), []byte(`"prev_hash":"A`), 1) },
		"space":  func(b []byte) []byte { return append(b, ' ') },
		"escape": func(b []byte) []byte { return bytes.Replace(b, []byte(`"bob"`), []byte(`"\u0062ob"`), 1) },
		"actor":  func(b []byte) []byte { return bytes.Replace(b, []byte(`{"id":"bob"`), []byte(`{"id":""`), 1) },
		"action": func(b []byte) []byte { return bytes.Replace(b, []byte(`"accessed"`), []byte(`"collected"`), 1) },
		"digest": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`,"reason":`), []byte(`,"reason":"x","digest":"AB"`+`,"notes":`), 1)
		},
		"case":  func(b []byte) []byte { return bytes.Replace(b, []byte(`"CASE-CHUNKS"`), []byte(`"CASE-OTHER"`), 1) },
		"time":  func(b []byte) []byte { return bytes.Replace(b, []byte(`+05:30"`), []byte(`+00:00"`), 1) },
		"trunc": func(b []byte) []byte { return b[:len(b)/2] },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			// The edit at each position at once: every problem is
			// reported, so the reports still compare record by record.
			tampered := log
			tampered.Records = append([][]byte(nil), log.Records...)
			changed := 0
			for _, i := range at {
				tampered.Records[i] = edit(bytes.Clone(log.Records[i]))
				if !bytes.Equal(tampered.Records[i], log.Records[i]) {
					changed++
				}
			}
			if changed == 0 {
				t.Fatal("the edit applies to no record")
			}
			if requireSameReport(t, tampered, vkey).OK() {
				t.Fatal("no problem found")
			}
		})
	}
}

// BenchmarkVerifyWalk measures what the chunked, parallel walk of verifyLog
// gains over walking the same log one record at a time with the same
// checks (verifyLogReference), on a log of 200,000 records.
func BenchmarkVerifyWalk(b *testing.B) {
	log, vkey := chunkedLog(b, 200_000)
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			if rep, _ := verifyLogReference(log, vkey); !rep.OK() {
				b.Fatal(rep.Err())
			}
		}
	})
	b.Run("pipelined", func(b *testing.B) {
		for b.Loop() {
			if rep, _ := verifyLog(log, vkey, 0); !rep.OK() {
				b.Fatal(rep.Err())
			}
		}
	})
}

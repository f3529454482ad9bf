package bundle_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// worstBundle describes a hostile bundle within limits.
type worstBundle struct {
	// records holds the records, each of recordSize bytes and its
	// newline: two-byte lines ("x") when recordSize is 1, and otherwise
	// well-formed collected records of items the manifest does not
	// list, padded to that size.
	records, recordSize int
	// items are well-formed items with no record; checkpoints are
	// checkpoints signed by the bundle's key, of distinct sizes, each
	// with a consistency proof of proofHashes hashes.
	items, checkpoints, proofHashes int
}

// build returns the bundle w describes, signed by the attacker's key.
func (w worstBundle) build(tb testing.TB) []byte {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{66}, 32)), "attacker.example")
	require.NoError(tb, err)
	signer, err := note.NewSigner(skey)
	require.NoError(tb, err)
	origin := "attacker.example/" + string(hostileCase)
	var m bytes.Buffer
	fmt.Fprintf(&m, `{"format":%q,"version":%d,"case":%q,"origin":%q,"verifier_key":%q,"key_fingerprint":%q,"records":%d,"items":[`,
		bundle.Format, bundle.Version, hostileCase, origin, vkey, evidence.KeyFingerprint(vkey), w.records)
	digest := strings.Repeat("ab", 32)
	for i := range w.items {
		if i > 0 {
			m.WriteByte(',')
		}
		it, err := json.Marshal(evidence.Item{ID: evidence.ItemID(fmt.Sprintf("L%07d", i)), CaseID: hostileCase, Kind: evidence.KindFile,
			Digests: evidence.Digests{SHA256: digest}, CollectedBy: evidence.Party{ID: "a"}, CollectedAt: bundleT0})
		require.NoError(tb, err)
		m.Write(it)
	}
	m.WriteString(`],"checkpoints":[`)
	for i := range w.checkpoints {
		if i > 0 {
			m.WriteByte(',')
		}
		size := int64(i + 1)
		root := tlog.Hash{byte(i), byte(i >> 8)}
		signed, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", origin, size, root)}, signer)
		require.NoError(tb, err)
		cp, err := json.Marshal(evidence.Checkpoint{Origin: origin, Size: size, Root: root, Note: signed})
		require.NoError(tb, err)
		m.Write(cp)
	}
	m.WriteString(`],"consistency_proofs":[`)
	proof, err := json.Marshal(make([]tlog.Hash, w.proofHashes))
	require.NoError(tb, err)
	for i := range w.checkpoints {
		if i > 0 {
			m.WriteByte(',')
		}
		m.Write(proof)
	}
	m.WriteString(`],"blobs_included":false,"blobs":[]}`)

	records := make([]byte, 0, w.records*(w.recordSize+1))
	for i := range w.records {
		if w.recordSize == 1 {
			records = append(records, "x\n"...)
			continue
		}
		records = append(records, collectedRecord(tb, i, w.recordSize)...)
		records = append(records, '\n')
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name string
		body []byte
	}{{"manifest.json", m.Bytes()}, {"records.jsonl", records}} {
		require.NoError(tb, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: 0o644, Size: int64(len(e.body))}))
		_, err := tw.Write(e.body)
		require.NoError(tb, err)
	}
	require.NoError(tb, tw.Close())
	return buf.Bytes()
}

// collectedRecord returns record i, the canonical collected record of an
// item of its own, padded with notes to size bytes.
func collectedRecord(tb testing.TB, i, size int) []byte {
	tb.Helper()
	id := evidence.ItemID(fmt.Sprintf("I%07d", i))
	at := bundleT0.UTC()
	r := evidence.Record{Case: hostileCase, Index: int64(i), Item: id, Prev: -1, Action: evidence.ActionCollected,
		Actor: evidence.Party{ID: "a"}, At: at, Snapshot: &evidence.Item{ID: id, CaseID: hostileCase, Kind: evidence.KindFile,
			Digests: evidence.Digests{SHA256: strings.Repeat("ab", 32)}, CollectedBy: evidence.Party{ID: "a"}, CollectedAt: at}}
	data, err := r.Encode()
	require.NoError(tb, err)
	if pad := size - len(data) - len(`,"notes":""`); pad > 0 {
		r.Notes = strings.Repeat("n", pad)
		data, err = r.Encode()
		require.NoError(tb, err)
	}
	return data
}

// worstBundles are the worst bundles the default limits admit, each worst
// in its own way.
var worstBundles = []struct {
	name string
	w    worstBundle
}{
	// The most records, each a problem.
	{"tiny-records", worstBundle{records: bundle.DefaultMaxRecords, recordSize: 1}},
	// The most records, with the fullest manifest: the most items, the
	// most checkpoints, each with a signature to check, and proofs
	// filling the manifest to its limit.
	{"tiny-records-full-manifest", worstBundle{records: bundle.DefaultMaxRecords, recordSize: 1,
		items: bundle.DefaultMaxItems, checkpoints: bundle.DefaultMaxCheckpoints, proofHashes: 59}},
	// The most records of the largest size on average that the limit
	// on all records allows, each well formed, to decode, check and keep.
	{"collected-records", worstBundle{records: bundle.DefaultMaxRecords, recordSize: bundle.DefaultMaxRecordsSize/bundle.DefaultMaxRecords - 1}},
	// All of it at once: the worst the defaults admit.
	{"collected-records-full-manifest", worstBundle{records: bundle.DefaultMaxRecords, recordSize: bundle.DefaultMaxRecordsSize/bundle.DefaultMaxRecords - 1,
		items: bundle.DefaultMaxItems, checkpoints: bundle.DefaultMaxCheckpoints, proofHashes: 59}},
}

// peakHeap runs f and returns the most heap its objects took at once
// while it ran, above what they took before, sampled every millisecond.
func peakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	base := read()
	peak := base
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				peak = max(peak, read())
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	peak = max(peak, read())
	return peak - base
}

// BenchmarkVerifyWorstBundle verifies the worst bundles the default
// limits admit, as custody-verify does: read whole and then verified
// (read-verify: Read and Bundle.Verify), and verified as read, holding one
// record at a time (stream: VerifyStream). It reports the time, the CPU
// time of the process (every core, the collector's included), the bytes
// allocated and the peak heap.
//
//	go test -run '^$' -bench BenchmarkVerifyWorstBundle -benchtime 1x ./evidence/bundle/
func BenchmarkVerifyWorstBundle(b *testing.B) {
	ways := []struct {
		name   string
		verify func(data []byte) (*bundle.Report, error)
	}{
		{"read-verify", func(data []byte) (*bundle.Report, error) {
			bd, err := bundle.Read(context.Background(), bytes.NewReader(data), nil, bundle.Limits{})
			if err != nil {
				return nil, err
			}
			return bd.Verify(bundle.Trust{})
		}},
		{"stream", func(data []byte) (*bundle.Report, error) {
			_, rep, err := bundle.VerifyStream(context.Background(), bytes.NewReader(data), nil, bundle.Trust{}, bundle.Limits{})
			return rep, err
		}},
	}
	for _, wb := range worstBundles {
		b.Run(wb.name, func(b *testing.B) {
			data := wb.w.build(b)
			_, err := bundle.Read(context.Background(), bytes.NewReader(data), nil, bundle.Limits{})
			require.NoError(b, err, "within the default limits")
			for _, way := range ways {
				b.Run(way.name, func(b *testing.B) {
					b.SetBytes(int64(len(data)))
					b.ReportAllocs()
					var peak uint64
					cpu0, cpuKnown := cpuTime()
					for b.Loop() {
						peak = max(peak, peakHeap(func() {
							rep, err := way.verify(data)
							require.NoError(b, err)
							require.False(b, rep.OK())
							require.LessOrEqual(b, len(rep.Problems), evidence.DefaultMaxProblems)
						}))
					}
					if cpu1, ok := cpuTime(); ok && cpuKnown {
						// The machine may be shared: the CPU time taken
						// tells more than the time elapsed.
						b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/op")
					}
					b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
					b.ReportMetric(float64(len(data))/(1<<20), "bundle-MiB")
				})
			}
		})
	}
}

// The worst bundles are well formed, within the default limits, and as
// large as they allow, so that the benchmark measures what they admit.
func TestWorstBundlesWithinDefaults(t *testing.T) {
	t.Parallel()
	for _, wb := range worstBundles {
		t.Run(wb.name, func(t *testing.T) {
			t.Parallel()
			w := wb.w
			require.LessOrEqual(t, w.records, bundle.DefaultMaxRecords)
			require.LessOrEqual(t, w.records*(w.recordSize+1), bundle.DefaultMaxRecordsSize)
			if w.recordSize > 1 {
				require.Greater(t, w.records*(w.recordSize+1), bundle.DefaultMaxRecordsSize-w.records, "records.jsonl is as large as it may be")
			}
			require.LessOrEqual(t, w.items, bundle.DefaultMaxItems)
			require.LessOrEqual(t, w.checkpoints, bundle.DefaultMaxCheckpoints)
			// Scaled down, it reads and verifies with no problem in any
			// record of its own but those of two-byte records.
			small := w
			small.records, small.items, small.checkpoints = 64, min(w.items, 8), min(w.checkpoints, 8)
			b, err := bundle.Read(t.Context(), bytes.NewReader(small.build(t)), nil, bundle.Limits{})
			require.NoError(t, err)
			rep, err := b.Verify(bundle.Trust{})
			require.NoError(t, err)
			require.False(t, rep.OK())
			requireSameAsStream(t, small.build(t), bundle.Trust{}, bundle.Limits{})
			for _, p := range rep.Problems {
				var te *evidence.TamperError
				require.ErrorAs(t, p, &te)
				if small.recordSize > 1 {
					require.NotEqual(t, "record", te.What, "a collected record is well formed: %v", p)
				}
			}
		})
	}
	t.Run("full manifest", func(t *testing.T) {
		t.Parallel()
		w := worstBundles[1].w
		w.records, w.recordSize = w.checkpoints+w.items, 1
		entries := readBundleEntries(t, w.build(t))
		size := len(entries[0].body)
		require.LessOrEqual(t, size, bundle.DefaultMaxManifestSize)
		require.Greater(t, size, bundle.DefaultMaxManifestSize-1<<19, "the manifest is within 512 KiB of its limit")
	})
}

package evidence_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

// custodyStream makes a realistic stream of custody records, as callers
// give them to Ledger.Append: about one item collected per collectEvery
// records, and a mix of actions on the items collected so far, by a
// handful of people in several time zones. The same seed makes the same
// records.
type custodyStream struct {
	c            evidence.CaseID
	rng          *rand.Rand
	collectEvery int
	n            int // records made
	items        []evidence.ItemID
}

func newCustodyStream(c evidence.CaseID, seed uint64, collectEvery int) *custodyStream {
	return &custodyStream{c: c, rng: rand.New(rand.NewPCG(seed, 0x1dc0)), collectEvery: collectEvery}
}

var (
	streamParties = []evidence.Party{
		custodian, examiner, courier,
		{ID: "dmitri", Name: "Dmitri Sokolov", Organization: "Forensics Lab"},
		{ID: "edr-pipeline", Name: "EDR pipeline"},
		{ID: "emma", Name: "Emma Okafor", Organization: "Legal"},
	}
	streamZones = []*time.Location{
		custodyZone, time.UTC, time.FixedZone("UTC-05:00", -5*60*60), time.FixedZone("UTC+05:30", 5*60*60+30*60),
	}
	streamLocations = []string{"evidence locker 3", "Forensics Lab, bench 2", "Secure Transport Ltd van 7", "off-site vault"}
	// streamActions are weighted by how often they happen.
	streamActions = []evidence.Action{
		evidence.ActionAccessed, evidence.ActionAccessed, evidence.ActionAccessed, evidence.ActionAccessed,
		evidence.ActionAnalyzed, evidence.ActionAnalyzed, evidence.ActionAnalyzed,
		evidence.ActionCheckedOut, evidence.ActionCheckedOut, evidence.ActionCheckedIn, evidence.ActionCheckedIn,
		evidence.ActionTransferred, evidence.ActionCopied, evidence.ActionVerified, evidence.ActionVerified,
		evidence.ActionSealed, evidence.ActionUnsealed, evidence.ActionAccessDenied,
	}
)

// next returns the next record.
func (s *custodyStream) next() evidence.Record {
	i := s.n
	s.n++
	actor := streamParties[s.rng.IntN(len(streamParties))]
	at := custodyT0.Add(time.Duration(i) * 7 * time.Second).In(streamZones[s.rng.IntN(len(streamZones))])
	if len(s.items) == 0 || s.rng.IntN(s.collectEvery) == 0 {
		id := evidence.ItemID(fmt.Sprintf("ITEM-%05d", len(s.items)))
		s.items = append(s.items, id)
		r := collectRecord(s.c, id, at)
		r.Snapshot.Exhibit = fmt.Sprintf("EX-%05d", len(s.items))
		r.Snapshot.Size = s.rng.Int64N(1 << 40)
		return r
	}
	id := s.items[s.rng.IntN(len(s.items))]
	r := evidence.Record{
		Case:     s.c,
		Item:     id,
		Action:   streamActions[s.rng.IntN(len(streamActions))],
		Actor:    actor,
		Location: streamLocations[s.rng.IntN(len(streamLocations))],
		At:       at,
		Reason:   fmt.Sprintf("ticket IR-%d: %s", 1000+s.rng.IntN(9000), "scoping the intrusion"),
	}
	switch r.Action {
	case evidence.ActionTransferred:
		r.From, r.To = actor, streamParties[s.rng.IntN(len(streamParties))]
		r.Authority = "chain-of-custody form CC-" + fmt.Sprint(s.rng.IntN(1e6))
	case evidence.ActionAnalyzed, evidence.ActionCopied:
		r.Tool = "Volatility 3.2.0"
	case evidence.ActionVerified:
		r.Tool = "sha256sum (GNU coreutils) 9.4"
		r.Digest = custodyItem(s.c, id).Digests.SHA256
	case evidence.ActionAccessDenied:
		r.Notes = "no open task for this item"
	}
	return r
}

// benchLog is a custody log built without a Ledger, exactly as Ledger.Append
// would have stored it (TestBenchLogMatchesLedger checks this).
type benchLog struct {
	c       evidence.CaseID
	records [][]byte
	hashes  []tlog.Hash // the stored tree hashes
	items   []evidence.Item
	root    tlog.Hash
	// owner is the item of each record; collects[i] is the position in
	// items of the item record i collects, or -1.
	owner    []evidence.ItemID
	collects []int32
}

func (l *benchLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = l.hashes[x]
	}
	return out, nil
}

// buildBenchLog builds a log of n records of the stream s: it fills in
// each record's Index, Prev and PrevHash, encodes it and stores its tree
// hashes.
func buildBenchLog(s *custodyStream, n int) (*benchLog, error) {
	l := &benchLog{
		c:       s.c,
		records: make([][]byte, 0, n),
		hashes:  make([]tlog.Hash, 0, tlog.StoredHashCount(int64(n))),
	}
	last := make(map[evidence.ItemID]int64)
	for i := range int64(n) {
		r := s.next()
		r.Index, r.Prev, r.PrevHash = i, -1, ""
		if prev, ok := last[r.Item]; ok {
			r.Prev, r.PrevHash = prev, l.hashes[tlog.StoredHashIndex(0, prev)].String()
		}
		last[r.Item] = i
		data, err := r.Encode()
		if err != nil {
			return nil, err
		}
		hs, err := tlog.StoredHashes(i, data, l)
		if err != nil {
			return nil, err
		}
		l.records = append(l.records, data)
		l.hashes = append(l.hashes, hs...)
		l.owner = append(l.owner, r.Item)
		l.collects = append(l.collects, -1)
		if r.Snapshot != nil {
			l.collects[i] = int32(len(l.items))
			l.items = append(l.items, r.Snapshot.Clone())
		}
	}
	var err error
	l.root, err = tlog.TreeHash(int64(n), l)
	return l, err
}

// checkpoint signs a checkpoint of the whole log as a Ledger with key and
// origin would.
func (l *benchLog) checkpoint(key evidence.SigningKey, origin string) (evidence.Checkpoint, error) {
	signer, err := note.NewSigner(key.Reveal())
	if err != nil {
		return evidence.Checkpoint{}, err
	}
	size := int64(len(l.records))
	msg, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", origin, size, l.root)}, signer)
	return evidence.Checkpoint{Origin: origin, Size: size, Root: l.root, Note: msg}, err
}

// caseLog returns the log as Ledger.Export would, with one checkpoint.
func (l *benchLog) caseLog(cp evidence.Checkpoint) evidence.CaseLog {
	return evidence.CaseLog{Case: l.c, Origin: cp.Origin, Records: l.records, Items: l.items, Checkpoints: []evidence.Checkpoint{cp}}
}

// load writes the log into a store, hashes included, without a Ledger.
func (l *benchLog) load(ctx context.Context, st evidence.LedgerStore) error {
	for i, data := range l.records {
		n := int64(i)
		a := evidence.Append{Case: l.c, Index: n, Item: l.owner[i], Data: data, Hashes: l.hashes[tlog.StoredHashIndex(0, n):tlog.StoredHashIndex(0, n+1)]}
		if k := l.collects[i]; k >= 0 {
			a.NewItem = &l.items[k]
		}
		if err := st.Append(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func TestBenchLogMatchesLedger(t *testing.T) {
	t.Parallel()
	const c, n = "CASE-BENCH", 400
	key, _ := custodyKey(t, "custody.example.org", 1)
	want, err := buildBenchLog(newCustodyStream(c, 1, 40), n)
	require.NoError(t, err)

	l := newCustodyLedger(t)
	s := newCustodyStream(c, 1, 40)
	for range n {
		_, err := l.Append(t.Context(), s.next())
		require.NoError(t, err)
	}
	cp, err := l.Checkpoint(t.Context(), c)
	require.NoError(t, err)
	got, err := l.Export(t.Context(), c)
	require.NoError(t, err)

	require.Len(t, got.Records, n)
	for i := range got.Records {
		require.Equal(t, string(want.records[i]), string(got.Records[i]), "record %d", i)
	}
	require.Greater(t, len(want.items), 3, "the stream collects several items")
	require.Len(t, got.Items, len(want.items))
	for i := range want.items {
		a, err := json.Marshal(want.items[i])
		require.NoError(t, err)
		b, err := json.Marshal(got.Items[i])
		require.NoError(t, err)
		require.Equal(t, string(a), string(b), "item %d", i)
	}
	require.Equal(t, cp.Root, want.root)
	wantCP, err := want.checkpoint(key, l.Origin(c))
	require.NoError(t, err)
	require.Equal(t, cp, wantCP, "the same checkpoint, signed")
	require.Empty(t, evidence.VerifyLog(want.caseLog(wantCP), l.VerifierKey()).Problems)

	loaded := evidence.NewMemoryLedgerStore()
	require.NoError(t, want.load(t.Context(), loaded))
	fromLoaded, err := evidence.NewLedger(evidence.LedgerConfig{Store: loaded, Key: key})
	require.NoError(t, err)
	_, err = fromLoaded.Checkpoint(t.Context(), c)
	require.NoError(t, err)
	rep, err := fromLoaded.Verify(t.Context(), c)
	require.NoError(t, err)
	require.Empty(t, rep.Problems, "a log loaded into a store without a Ledger verifies")
}

// BenchmarkCustodyAppend measures appending one custody record in memory.
// Goal: at most 2 µs per record. The baseline does the least any Merkle log
// must: compute the record's tree hashes and keep the record and hashes.
func BenchmarkCustodyAppend(b *testing.B) {
	const c = "CASE-BENCH"
	b.Run("baseline", func(b *testing.B) {
		log, err := buildBenchLog(newCustodyStream(c, 1, 1000), b.N)
		require.NoError(b, err)
		records := make([][]byte, 0, b.N)
		hashes := make([]tlog.Hash, 0, tlog.StoredHashCount(int64(b.N)))
		reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(indexes))
			for i, x := range indexes {
				out[i] = hashes[x]
			}
			return out, nil
		})
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			data := log.records[i]
			hs, err := tlog.StoredHashes(int64(i), data, reader)
			if err != nil {
				b.Fatal(err)
			}
			hashes = append(hashes, hs...)
			records = append(records, bytes.Clone(data))
		}
		b.StopTimer()
		if len(records) != b.N || int64(len(hashes)) != tlog.StoredHashCount(int64(b.N)) {
			b.Fatalf("kept %d records and %d hashes", len(records), len(hashes))
		}
	})
	b.Run("incidentkit", func(b *testing.B) {
		s := newCustodyStream(c, 1, 1000)
		recs := make([]evidence.Record, b.N)
		for i := range recs {
			recs[i] = s.next()
		}
		l := newCustodyLedger(b)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := l.Append(ctx, recs[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// million is a custody log of 1,000,000 records of about 1000 items, with a
// signed checkpoint of all of it, built once for the benchmarks.
var million = sync.OnceValues(func() (*millionLog, error) {
	const c, n = "CASE-1M", 1_000_000
	log, err := buildBenchLog(newCustodyStream(c, 1, 1000), n)
	if err != nil {
		return nil, err
	}
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{1}, 32)), "custody.example.org")
	if err != nil {
		return nil, err
	}
	key, err := evidence.ParseSigningKey(skey)
	if err != nil {
		return nil, err
	}
	cp, err := log.checkpoint(key, evidence.DefaultOrigin+"/"+c)
	if err != nil {
		return nil, err
	}
	return &millionLog{benchLog: log, key: key, vkey: vkey, cp: cp}, nil
})

type millionLog struct {
	*benchLog
	key  evidence.SigningKey
	vkey string
	cp   evidence.Checkpoint
}

// BenchmarkVerify1M measures a full offline audit of 1,000,000 custody
// records with one checkpoint. Goal: at most 2x the baseline, which builds
// the same Merkle tree with raw tlog and nothing else.
func BenchmarkVerify1M(b *testing.B) {
	m, err := million()
	require.NoError(b, err)
	n := int64(len(m.records))
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			hashes := make([]tlog.Hash, 0, tlog.StoredHashCount(n))
			reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
				out := make([]tlog.Hash, len(indexes))
				for i, x := range indexes {
					out[i] = hashes[x]
				}
				return out, nil
			})
			for i, data := range m.records {
				hs, err := tlog.StoredHashesForRecordHash(int64(i), tlog.RecordHash(data), reader)
				if err != nil {
					b.Fatal(err)
				}
				hashes = append(hashes, hs...)
			}
			root, err := tlog.TreeHash(n, reader)
			if err != nil || root != m.root {
				b.Fatalf("root %v, %v", root, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
	})
	b.Run("incidentkit", func(b *testing.B) {
		log := m.caseLog(m.cp)
		for b.Loop() {
			rep := evidence.VerifyLog(log, m.vkey)
			if !rep.OK() || rep.Root != m.root {
				b.Fatalf("report: %v", rep.Err())
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
	})
}

// BenchmarkProof1M measures the proofs of a log of 1,000,000 records: their
// size in bytes (goals: at most 640 for inclusion, 672 for consistency) and
// the time to check one (goal: at most 150 µs). The baseline checks the
// same proof with raw tlog.
func BenchmarkProof1M(b *testing.B) {
	m, err := million()
	require.NoError(b, err)
	ctx := context.Background()
	n := int64(len(m.records))
	st := evidence.NewMemoryLedgerStore()
	require.NoError(b, m.load(ctx, st))
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: m.key})
	require.NoError(b, err)
	size, root, err := l.Root(ctx, m.c)
	require.NoError(b, err)
	require.Equal(b, n, size)
	require.Equal(b, m.root, root)

	index, old := longestProofs(b, n)
	data := m.records[index]
	inclusion, err := l.ProveInclusion(ctx, m.c, index, n)
	require.NoError(b, err)
	rawInclusion, err := tlog.ProveRecord(n, index, m.benchLog)
	require.NoError(b, err)
	require.Equal(b, []tlog.Hash(rawInclusion), inclusion)
	consistency, err := l.ProveConsistency(ctx, m.c, old, n)
	require.NoError(b, err)
	rawConsistency, err := tlog.ProveTree(n, old, m.benchLog)
	require.NoError(b, err)
	require.Equal(b, []tlog.Hash(rawConsistency), consistency)
	oldRoot, err := tlog.TreeHash(old, m.benchLog)
	require.NoError(b, err)

	report := func(b *testing.B, proof []tlog.Hash) {
		b.ReportMetric(float64(len(proof)*tlog.HashSize), "bytes")
	}
	b.Run("inclusion/baseline", func(b *testing.B) {
		for b.Loop() {
			if err := tlog.CheckRecord(rawInclusion, n, root, index, tlog.RecordHash(data)); err != nil {
				b.Fatal(err)
			}
		}
		report(b, rawInclusion)
	})
	b.Run("inclusion/incidentkit", func(b *testing.B) {
		for b.Loop() {
			if err := evidence.CheckInclusion(inclusion, n, root, index, data); err != nil {
				b.Fatal(err)
			}
		}
		report(b, inclusion)
	})
	b.Run("consistency/baseline", func(b *testing.B) {
		for b.Loop() {
			if err := tlog.CheckTree(rawConsistency, n, root, old, oldRoot); err != nil {
				b.Fatal(err)
			}
		}
		report(b, rawConsistency)
	})
	b.Run("consistency/incidentkit", func(b *testing.B) {
		for b.Loop() {
			if err := evidence.CheckConsistency(consistency, n, root, old, oldRoot); err != nil {
				b.Fatal(err)
			}
		}
		report(b, consistency)
	})
}

// longestProofs returns the record index with the longest inclusion proof
// in a log of n records, and the older size with the longest consistency
// proof to n, trying every index and every size. Proof lengths depend on
// the sizes only, so it uses a tree of zero hashes.
func longestProofs(b *testing.B, n int64) (index, old int64) {
	b.Helper()
	zeros := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) { return make([]tlog.Hash, len(indexes)), nil })
	longest := -1
	for i := range n {
		p, err := tlog.ProveRecord(n, i, zeros)
		require.NoError(b, err)
		if len(p) > longest {
			index, longest = i, len(p)
		}
	}
	longest = -1
	for m := int64(1); m < n; m++ {
		p, err := tlog.ProveTree(n, m, zeros)
		require.NoError(b, err)
		if len(p) > longest {
			old, longest = m, len(p)
		}
	}
	return index, old
}

package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // zones by name, whatever the machine has installed

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

// Times and parties of the custody records the tests write. The times are
// in a zone other than UTC, because a record keeps the actor's zone.
var (
	custodyZone = time.FixedZone("UTC+01:00", 60*60)
	custodyT0   = time.Date(2026, time.March, 2, 9, 15, 30, 123456789, custodyZone)

	custodian = evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	examiner  = evidence.Party{ID: "bob", Name: "Bob Ndiaye", Organization: "Forensics Lab"}
	courier   = evidence.Party{ID: "carol", Name: "Carol Lindqvist", Organization: "Secure Transport Ltd"}
)

// custodyAt returns the time n minutes after custodyT0.
func custodyAt(n int) time.Time { return custodyT0.Add(time.Duration(n) * time.Minute) }

// custodyKey returns a signing key named name made from a fixed seed, and
// its verifier key, so that signed checkpoints are the same on every run.
func custodyKey(t testing.TB, name string, seed byte) (evidence.SigningKey, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)), name)
	require.NoError(t, err)
	key, err := evidence.ParseSigningKey(skey)
	require.NoError(t, err)
	return key, vkey
}

// newCustodyLedger returns a ledger on a new memory store, signing with
// the key custodyKey makes from seed 1.
func newCustodyLedger(t testing.TB) *evidence.Ledger {
	t.Helper()
	key, _ := custodyKey(t, "custody.example.org", 1)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	return l
}

// custodyItem returns item id of case c as it was collected.
func custodyItem(c evidence.CaseID, id evidence.ItemID) evidence.Item {
	sum := sha256.Sum256([]byte(string(c) + "/" + string(id)))
	return evidence.Item{
		ID:        id,
		CaseID:    c,
		Exhibit:   "EX-" + string(id),
		Name:      string(id) + ".img",
		Kind:      evidence.KindDiskImage,
		MediaType: "application/octet-stream",
		Size:      512 << 30,
		Digests:   evidence.Digests{SHA256: hex.EncodeToString(sum[:])},
		Source: evidence.Source{
			Host:         "fin-laptop-07",
			Path:         "/dev/nvme0n1",
			SerialNumber: "S4EWNX0R812345",
			Network:      []string{"10.20.4.17", "3c:22:fb:01:02:03"},
		},
		CollectedBy: custodian,
		CollectedAt: custodyT0,
		Location:    "evidence locker 3, shelf B",
		Labels:      []string{"phishing", "finance"},
	}
}

// collectRecord returns the record of collecting item id of case c at at.
func collectRecord(c evidence.CaseID, id evidence.ItemID, at time.Time) evidence.Record {
	it := custodyItem(c, id)
	it.CollectedAt = at
	return evidence.Record{
		Case:      c,
		Item:      id,
		Action:    evidence.ActionCollected,
		Actor:     custodian,
		Authority: "search warrant 2026-117",
		Location:  "Finance, 4th floor",
		At:        at,
		Reason:    "laptop reported the phishing mail",
		Tool:      "FTK Imager 4.7.1",
		Digest:    it.Digests.SHA256,
		Snapshot:  &it,
	}
}

// actRecord returns a record of action a on item id of case c at at.
func actRecord(c evidence.CaseID, id evidence.ItemID, a evidence.Action, at time.Time) evidence.Record {
	r := evidence.Record{
		Case:     c,
		Item:     id,
		Action:   a,
		Actor:    examiner,
		Location: "Forensics Lab, bench 2",
		At:       at,
		Reason:   string(a) + " for the investigation",
	}
	if a == evidence.ActionTransferred {
		r.Actor, r.From, r.To = custodian, custodian, courier
	}
	return r
}

// appendRecords appends records in order and returns them as stored.
func appendRecords(t testing.TB, l *evidence.Ledger, recs ...evidence.Record) []evidence.Record {
	t.Helper()
	out := make([]evidence.Record, len(recs))
	for i, r := range recs {
		got, err := l.Append(context.Background(), r)
		require.NoError(t, err, "append %s of %s", r.Action, r.Item)
		out[i] = got
	}
	return out
}

// leafHash returns the Merkle leaf hash of a record as stored, in the form
// of Record.PrevHash.
func leafHash(t testing.TB, r evidence.Record) string {
	t.Helper()
	data, err := r.Encode()
	require.NoError(t, err)
	return tlog.RecordHash(data).String()
}

// requireSize checks how many records case c's log holds.
func requireSize(t testing.TB, l *evidence.Ledger, c evidence.CaseID, want int64) {
	t.Helper()
	n, err := l.Store().Size(context.Background(), c)
	require.NoError(t, err)
	require.Equal(t, want, n, "size of case %s", c)
}

func TestLedgerAppendFillsLinks(t *testing.T) {
	t.Parallel()
	l := newCustodyLedger(t)
	const c = "CASE-LINKS"
	got := appendRecords(t, l,
		collectRecord(c, "A", custodyAt(0)),
		collectRecord(c, "B", custodyAt(1)),
		actRecord(c, "A", evidence.ActionTransferred, custodyAt(2)),
		actRecord(c, "B", evidence.ActionAnalyzed, custodyAt(3)),
		actRecord(c, "A", evidence.ActionCheckedIn, custodyAt(4)),
	)
	tests := []struct {
		index    int64
		item     evidence.ItemID
		prev     int64
		prevFrom int // index in got of the previous record, or -1
	}{
		{0, "A", -1, -1},
		{1, "B", -1, -1},
		{2, "A", 0, 0},
		{3, "B", 1, 1},
		{4, "A", 2, 2},
	}
	stored, err := l.Records(t.Context(), c, 0, 5)
	require.NoError(t, err)
	for i, tc := range tests {
		r := got[i]
		assert.Equal(t, tc.index, r.Index, "Index of record %d", i)
		assert.Equal(t, tc.item, r.Item, "Item of record %d", i)
		assert.Equal(t, tc.prev, r.Prev, "Prev of record %d", i)
		if tc.prevFrom < 0 {
			assert.Empty(t, r.PrevHash, "PrevHash of first record %d of %s", i, r.Item)
		} else {
			assert.Equal(t, leafHash(t, got[tc.prevFrom]), r.PrevHash, "PrevHash of record %d", i)
		}
		want, err := r.Encode()
		require.NoError(t, err)
		have, err := stored[i].Encode()
		require.NoError(t, err)
		assert.Equal(t, string(want), string(have), "record %d as stored is the record Append returned", i)
	}
}

func TestLedgerAppendIgnoresCallerLinks(t *testing.T) {
	t.Parallel()
	l := newCustodyLedger(t)
	const c = "CASE-CALLER-LINKS"
	r := collectRecord(c, "A", custodyAt(0))
	r.Index, r.Prev, r.PrevHash = 41, 7, "forged"
	got := appendRecords(t, l, r)[0]
	assert.Equal(t, int64(0), got.Index)
	assert.Equal(t, int64(-1), got.Prev)
	assert.Empty(t, got.PrevHash)
}

func TestLedgerAppendFirstRecordOfItem(t *testing.T) {
	t.Parallel()
	const c = "CASE-FIRST"
	tests := []struct {
		name string
		rec  evidence.Record
		want error
	}{
		{"action on an item never collected", actRecord(c, "GHOST", evidence.ActionAccessed, custodyAt(5)), evidence.ErrNotFound},
		{"transfer of an item never collected", actRecord(c, "GHOST", evidence.ActionTransferred, custodyAt(5)), evidence.ErrNotFound},
		{"item collected twice", collectRecord(c, "A", custodyAt(5)), evidence.ErrConflict},
		{"item of another case", actRecord(c, "ELSEWHERE", evidence.ActionAccessed, custodyAt(5)), evidence.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newCustodyLedger(t)
			appendRecords(t, l, collectRecord(c, "A", custodyAt(0)), collectRecord("CASE-OTHER", "ELSEWHERE", custodyAt(0)))
			before, err := l.Export(t.Context(), c)
			require.NoError(t, err)

			_, err = l.Append(t.Context(), tc.rec)
			require.ErrorIs(t, err, tc.want)

			after, err := l.Export(t.Context(), c)
			require.NoError(t, err)
			require.Equal(t, before, after, "a refused append writes nothing")
		})
	}
}

func TestLedgerAppendRefusesInvalidRecords(t *testing.T) {
	t.Parallel()
	const c = "CASE-INVALID"
	tests := []struct {
		name  string
		edit  func(r *evidence.Record)
		field string
	}{
		{"no case", func(r *evidence.Record) { r.Case = "" }, "case ID"},
		{"case with a space", func(r *evidence.Record) { r.Case = "CASE 1" }, "case ID"},
		{"case with a newline", func(r *evidence.Record) { r.Case = "CASE-1\n— forged" }, "case ID"},
		{"case too long", func(r *evidence.Record) { r.Case = evidence.CaseID(strings.Repeat("C", 201)) }, "case ID"},
		{"no item", func(r *evidence.Record) { r.Item = "" }, "record item"},
		{"no action", func(r *evidence.Record) { r.Action = "" }, "custody action"},
		{"unknown action", func(r *evidence.Record) { r.Action = "shredded" }, "custody action"},
		{"no actor", func(r *evidence.Record) { r.Actor = evidence.Party{Name: "Somebody"} }, "record actor"},
		{"no time", func(r *evidence.Record) { r.At = time.Time{} }, "record time"},
		{"transfer without From", func(r *evidence.Record) { r.Action, r.From = evidence.ActionTransferred, evidence.Party{} }, "transfer"},
		{"transfer without To", func(r *evidence.Record) { r.Action, r.To = evidence.ActionTransferred, evidence.Party{} }, "transfer"},
		{"digest too short", func(r *evidence.Record) { r.Digest = "abc123" }, "record digest"},
		{"digest in upper case", func(r *evidence.Record) { r.Digest = strings.ToUpper(r.Digest) }, "record digest"},
		{"digest not hex", func(r *evidence.Record) { r.Digest = strings.Repeat("zz", 32) }, "record digest"},
		{"snapshot on an access", func(r *evidence.Record) {
			it := custodyItem(c, "A")
			r.Snapshot = &it
		}, "record"},
	}
	collectTests := []struct {
		name  string
		edit  func(r *evidence.Record)
		field string
	}{
		{"collected without snapshot", func(r *evidence.Record) { r.Snapshot = nil }, "record"},
		{"snapshot of another item", func(r *evidence.Record) { r.Snapshot.ID = "OTHER" }, "record"},
		{"snapshot of another case", func(r *evidence.Record) { r.Snapshot.CaseID = "CASE-OTHER" }, "record"},
		{"snapshot of an unknown kind", func(r *evidence.Record) { r.Snapshot.Kind = "hologram" }, ""},
	}
	run := func(t *testing.T, base evidence.Record, edit func(*evidence.Record), field string) {
		t.Parallel()
		l := newCustodyLedger(t)
		appendRecords(t, l, collectRecord(c, "A", custodyAt(0)))
		before, err := l.Export(t.Context(), c)
		require.NoError(t, err)

		edit(&base)
		_, err = l.Append(t.Context(), base)
		require.ErrorIs(t, err, evidence.ErrInvalid)
		var inv *evidence.InvalidError
		require.ErrorAs(t, err, &inv)
		if field != "" {
			assert.Equal(t, field, inv.Field)
		}

		after, err := l.Export(t.Context(), c)
		require.NoError(t, err)
		require.Equal(t, before, after, "a refused append writes nothing")
		n, err := l.Store().Size(t.Context(), base.Case)
		require.NoError(t, err)
		if base.Case != c {
			require.Zero(t, n, "a refused append writes nothing in case %q", base.Case)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := actRecord(c, "A", evidence.ActionAccessed, custodyAt(1))
			base.From, base.To = custodian, courier
			base.Digest = custodyItem(c, "A").Digests.SHA256
			run(t, base, tc.edit, tc.field)
		})
	}
	for _, tc := range collectTests {
		t.Run(tc.name, func(t *testing.T) { run(t, collectRecord(c, "B", custodyAt(1)), tc.edit, tc.field) })
	}
}

func TestLedgerAppendKeepsTimeZones(t *testing.T) {
	t.Parallel()
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	kolkata := time.FixedZone("IST", 5*60*60+30*60)
	tests := []struct {
		name string
		at   time.Time
	}{
		{"UTC", time.Date(2026, 3, 2, 8, 15, 30, 0, time.UTC)},
		{"half-hour offset", time.Date(2026, 3, 2, 13, 45, 30, 5, kolkata)},
		{"named zone in winter", time.Date(2026, 1, 15, 3, 15, 0, 0, newYork)},
		{"named zone in summer", time.Date(2026, 7, 15, 3, 15, 0, 0, newYork)},
		{"negative offset", time.Date(2026, 3, 2, 8, 15, 30, 0, time.FixedZone("", -9*60*60-30*60))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newCustodyLedger(t)
			const c = "CASE-ZONES"
			appendRecords(t, l, collectRecord(c, "A", tc.at), actRecord(c, "A", evidence.ActionAnalyzed, tc.at.Add(time.Hour)))
			recs, err := l.Records(t.Context(), c, 0, 2)
			require.NoError(t, err)
			for i, want := range []time.Time{tc.at, tc.at.Add(time.Hour)} {
				got := recs[i].At
				assert.True(t, want.Equal(got), "record %d at %s, want %s", i, got, want)
				_, wantOff := want.Zone()
				_, gotOff := got.Zone()
				assert.Equal(t, wantOff, gotOff, "zone offset of record %d", i)
			}
			require.NotNil(t, recs[0].Snapshot)
			_, wantOff := tc.at.Zone()
			_, gotOff := recs[0].Snapshot.CollectedAt.Zone()
			assert.Equal(t, wantOff, gotOff, "zone offset of the snapshot's collection time")
		})
	}
}

// TestLedgerAppendWritesOnlyVerifiableRecords checks that whatever Append
// accepts, the ledger's own Verify finds untampered: a record Append writes
// must survive its own canonical-encoding check. Append may refuse an
// input as invalid instead, but then must write nothing.
func TestLedgerAppendWritesOnlyVerifiableRecords(t *testing.T) {
	t.Parallel()
	const c = "CASE-EDGE"
	inCase := func(cs evidence.CaseID) func(r *evidence.Record) {
		return func(r *evidence.Record) { r.Case, r.Snapshot.CaseID = cs, cs }
	}
	tests := []struct {
		name   string
		edit   func(r *evidence.Record) // edits the collected record
		action evidence.Action          // the action of the record that follows it
	}{
		{name: "non-ASCII text", edit: func(r *evidence.Record) { r.Reason = "saisie à l'arrivée — 証拠 №3" }},
		{name: "HTML characters", edit: func(r *evidence.Record) { r.Notes = `<script>alert("x")</script> & more` }},
		{name: "line and paragraph separators", edit: func(r *evidence.Record) { r.Notes = "a\u2028b\u2029c" }},
		{name: "control characters in text", edit: func(r *evidence.Record) { r.Notes = "bell\a tab\t nul\x00" }},
		{name: "case ID of 200 bytes", edit: inCase(evidence.CaseID(strings.Repeat("C", 200)))},
		{name: "case ID with a slash", edit: inCase("org/CASE-9")},
		{name: "no labels and no network", edit: func(r *evidence.Record) { r.Snapshot.Labels, r.Snapshot.Source.Network = nil, nil }},
		{name: "empty labels", edit: func(r *evidence.Record) { r.Snapshot.Labels = []string{} }},
		{name: "empty source network", edit: func(r *evidence.Record) { r.Snapshot.Source = evidence.Source{Network: []string{}} }},
		{name: "kind in upper case", edit: func(r *evidence.Record) { r.Snapshot.Kind = "DISK_IMAGE" }},
		{name: "action in mixed case", action: "Analyzed"},
		{name: "action with spaces", action: " accessed "},
		{name: "invalid UTF-8 in reason", edit: func(r *evidence.Record) { r.Reason = "bad \xff byte" }},
		{name: "invalid UTF-8 in item ID", edit: func(r *evidence.Record) { r.Item, r.Snapshot.ID = "EX-\xff", "EX-\xff" }},
		{name: "invalid UTF-8 in case ID", edit: inCase("CASE-\xff")},
		{name: "control character in case ID", edit: inCase("CASE-\x01")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newCustodyLedger(t)
			first := collectRecord(c, "A", custodyAt(0))
			if tc.edit != nil {
				tc.edit(&first)
			}
			recs := []evidence.Record{first}
			if tc.action != "" {
				recs = append(recs, actRecord(first.Case, first.Item, tc.action, custodyAt(1)))
			}
			var written []evidence.Record
			for _, r := range recs {
				got, err := l.Append(t.Context(), r)
				if err != nil {
					require.ErrorIs(t, err, evidence.ErrInvalid, "Append may refuse %s only as invalid", r.Action)
					requireSize(t, l, first.Case, int64(len(written)))
					break
				}
				written = append(written, got)
			}
			if len(written) == 0 {
				return
			}
			_, err := l.Checkpoint(t.Context(), first.Case)
			require.NoError(t, err)
			rep, err := l.Verify(t.Context(), first.Case)
			require.NoError(t, err)
			assert.Empty(t, rep.Problems, "Verify of what Append wrote")

			stored, err := l.Store().Records(t.Context(), first.Case, 0, int64(len(written)))
			require.NoError(t, err)
			for i, r := range written {
				want, err := r.Encode()
				require.NoError(t, err)
				assert.Equal(t, string(want), string(stored[i]), "record %d as stored is the record Append returned", i)
			}
		})
	}
}

func TestLedgerNumbersExhibits(t *testing.T) {
	t.Parallel()
	l := newCustodyLedger(t)
	const c = "CASE-EXHIBITS"
	unnumbered := func(id evidence.ItemID, at int) evidence.Record {
		r := collectRecord(c, id, custodyAt(at))
		r.Snapshot.Exhibit = ""
		return r
	}
	first, second, named, fourth := unnumbered("A", 0), unnumbered("B", 1), collectRecord(c, "C", custodyAt(2)), unnumbered("D", 4)
	named.Snapshot.Exhibit = "LAB-7"
	got := appendRecords(t, l, first, second, actRecord(c, "A", evidence.ActionSealed, custodyAt(2)), named, fourth)
	assert.Empty(t, first.Snapshot.Exhibit, "the caller's item is left as it was")

	want := map[evidence.ItemID]string{"A": "EX-001", "B": "EX-002", "C": "LAB-7", "D": "EX-004"}
	for _, r := range got {
		if r.Snapshot != nil {
			assert.Equal(t, want[r.Item], r.Snapshot.Exhibit, "exhibit of %s in the record Append returned", r.Item)
		}
	}
	items, err := l.Store().Items(t.Context(), c)
	require.NoError(t, err)
	require.Len(t, items, 4)
	for _, it := range items {
		assert.Equal(t, want[it.ID], it.Exhibit, "exhibit of %s as stored", it.ID)
	}
	rep, err := l.Verify(t.Context(), c)
	require.NoError(t, err)
	assert.Empty(t, rep.Problems)
}

func TestLedgerHistory(t *testing.T) {
	t.Parallel()
	l := newCustodyLedger(t)
	const c = "CASE-HISTORY"
	got := appendRecords(t, l,
		collectRecord(c, "A", custodyAt(0)),
		collectRecord(c, "B", custodyAt(1)),
		actRecord(c, "A", evidence.ActionTransferred, custodyAt(2)),
		actRecord(c, "B", evidence.ActionSealed, custodyAt(3)),
		actRecord(c, "A", evidence.ActionCheckedIn, custodyAt(4)),
		collectRecord(c, "C", custodyAt(5)),
		actRecord(c, "A", evidence.ActionAnalyzed, custodyAt(6)),
		actRecord(c, "B", evidence.ActionUnsealed, custodyAt(7)),
	)
	tests := []struct {
		item evidence.ItemID
		want []int64
	}{
		{"A", []int64{0, 2, 4, 6}},
		{"B", []int64{1, 3, 7}},
		{"C", []int64{5}},
	}
	for _, tc := range tests {
		t.Run(string(tc.item), func(t *testing.T) {
			t.Parallel()
			hist, err := l.History(t.Context(), c, tc.item)
			require.NoError(t, err)
			var idx []int64
			for i, r := range hist {
				idx = append(idx, r.Index)
				assert.Equal(t, tc.item, r.Item)
				if i == 0 {
					assert.Equal(t, evidence.ActionCollected, r.Action, "history starts with the collection")
					assert.Equal(t, int64(-1), r.Prev)
					continue
				}
				assert.Equal(t, hist[i-1].Index, r.Prev, "record %d links to the item's previous record", r.Index)
				assert.Equal(t, leafHash(t, hist[i-1]), r.PrevHash, "record %d links to the previous record's hash", r.Index)
			}
			require.Equal(t, tc.want, idx)
			for _, r := range hist {
				assert.Equal(t, got[r.Index].Reason, r.Reason)
			}
		})
	}
	t.Run("unknown item", func(t *testing.T) {
		t.Parallel()
		_, err := l.History(t.Context(), c, "NOPE")
		require.ErrorIs(t, err, evidence.ErrNotFound)
	})
	t.Run("unknown case", func(t *testing.T) {
		t.Parallel()
		_, err := l.History(t.Context(), "CASE-NOPE", "A")
		require.ErrorIs(t, err, evidence.ErrNotFound)
	})
}

func TestLedgerAppendWithCancelledContext(t *testing.T) {
	t.Parallel()
	expired, cancel := context.WithTimeout(t.Context(), -time.Second)
	defer cancel()
	cancelled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	tests := []struct {
		name string
		ctx  context.Context
	}{{"cancelled", cancelled}, {"deadline passed", expired}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newCustodyLedger(t)
			const c = "CASE-CANCEL"
			first, err := l.Append(tc.ctx, collectRecord(c, "A", custodyAt(0)))
			require.NoError(t, err, "a collection that already happened is recorded")
			second, err := l.Append(tc.ctx, actRecord(c, "A", evidence.ActionTransferred, custodyAt(1)))
			require.NoError(t, err, "a transfer that already happened is recorded")
			assert.Equal(t, int64(1), second.Index)
			assert.Equal(t, first.Index, second.Prev)
			requireSize(t, l, c, 2)
			it, err := l.Store().Item(t.Context(), c, "A")
			require.NoError(t, err)
			assert.Equal(t, evidence.ItemID("A"), it.ID)
		})
	}
}

func TestLedgerConcurrentAppend(t *testing.T) {
	t.Parallel()
	l := newCustodyLedger(t)
	ctx := t.Context()
	const (
		c       = "CASE-CONCURRENT"
		writers = 16
		each    = 24 // records per writer: its own item's and the shared item's
	)
	appendRecords(t, l, collectRecord(c, "SHARED", custodyT0))

	written := make([][]evidence.Record, writers)
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			written[w], errs[w] = concurrentCustodyWriter(ctx, l, c, w, each)
		})
	}
	close(start)
	wg.Wait()
	for w, err := range errs {
		require.NoError(t, err, "writer %d", w)
	}

	const size = 1 + writers*each
	requireSize(t, l, c, size)
	seen := make(map[int64]int)
	for w, recs := range written {
		for _, r := range recs {
			prev, dup := seen[r.Index]
			require.False(t, dup, "writers %d and %d both got index %d: the log forked", prev, w, r.Index)
			seen[r.Index] = w
		}
	}
	require.Len(t, seen, size-1, "every record but the first has its own index")

	_, err := l.Checkpoint(ctx, c)
	require.NoError(t, err)
	log, err := l.Export(ctx, c)
	require.NoError(t, err)
	rep := evidence.VerifyLog(log, l.VerifierKey())
	require.Empty(t, rep.Problems, "VerifyLog after concurrent appends")
	require.Equal(t, int64(size), rep.Size)
	require.Equal(t, 1+writers, rep.Items)
	rep, err = l.Verify(ctx, c)
	require.NoError(t, err)
	require.Empty(t, rep.Problems, "Verify after concurrent appends")

	for w := range writers {
		item := evidence.ItemID(fmt.Sprintf("W-%02d", w))
		hist, err := l.History(ctx, c, item)
		require.NoError(t, err)
		want := slices.DeleteFunc(slices.Clone(written[w]), func(r evidence.Record) bool { return r.Item != item })
		require.Equal(t, recordIndexes(want), recordIndexes(hist), "history of %s is what its writer wrote, in order", item)
	}
	exhibits := make(map[string]evidence.ItemID)
	for _, it := range log.Items {
		prev, dup := exhibits[it.Exhibit]
		require.False(t, dup, "items %s and %s are both exhibit %s", prev, it.ID, it.Exhibit)
		exhibits[it.Exhibit] = it.ID
	}
	for k := 2; k <= 1+writers; k++ {
		assert.Contains(t, exhibits, fmt.Sprintf("EX-%03d", k), "exhibits are numbered in order of collection")
	}

	shared, err := l.History(ctx, c, "SHARED")
	require.NoError(t, err)
	require.Len(t, shared, 1+writers*(each/2))
	for i := 1; i < len(shared); i++ {
		require.Equal(t, shared[i-1].Index, shared[i].Prev, "shared record %d links to the one before", shared[i].Index)
		require.Equal(t, leafHash(t, shared[i-1]), shared[i].PrevHash)
	}
}

// concurrentCustodyWriter collects writer w's own item, then alternates
// between acting on the shared item and on its own.
func concurrentCustodyWriter(ctx context.Context, l *evidence.Ledger, c evidence.CaseID, w, each int) ([]evidence.Record, error) {
	item := evidence.ItemID(fmt.Sprintf("W-%02d", w))
	var out []evidence.Record
	for i := range each {
		var r evidence.Record
		switch {
		case i == 0:
			r = collectRecord(c, item, custodyAt(i))
			r.Snapshot.Exhibit = "" // the ledger numbers it
		case i%2 == 1:
			r = actRecord(c, "SHARED", evidence.ActionAccessed, custodyAt(i))
		default:
			r = actRecord(c, item, evidence.ActionAnalyzed, custodyAt(i))
		}
		r.Reason = fmt.Sprintf("writer %d, step %d", w, i)
		got, err := l.Append(ctx, r)
		if err != nil {
			return out, fmt.Errorf("step %d: %w", i, err)
		}
		out = append(out, got)
	}
	return out, nil
}

func recordIndexes(recs []evidence.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Index
	}
	return out
}

func TestLedgerUnknownCase(t *testing.T) {
	t.Parallel()
	l := newCustodyLedger(t)
	ctx := t.Context()
	appendRecords(t, l, collectRecord("CASE-KNOWN", "A", custodyT0))
	const c = "CASE-NEVER-WRITTEN"

	n, root, err := l.Root(ctx, c)
	require.NoError(t, err)
	assert.Zero(t, n)
	empty := sha256.Sum256(nil)
	assert.Equal(t, evidence.Hash(empty), root, "the root of an empty log is SHA-256 of nothing (RFC 6962, 2.1)")

	_, err = l.Checkpoint(ctx, c)
	require.ErrorIs(t, err, evidence.ErrNotFound, "no checkpoint of an empty log")

	assert.NotPanics(t, func() {
		log, err := l.Export(ctx, c)
		require.NoError(t, err)
		assert.Empty(t, log.Records)
		assert.Empty(t, log.Items)
		assert.Empty(t, log.Checkpoints)
	}, "Export of a case with no records")
	assert.NotPanics(t, func() {
		rep, err := l.Verify(ctx, c)
		require.NoError(t, err)
		assert.True(t, rep.OK(), "an empty log has nothing wrong with it: %v", rep.Err())
	}, "Verify of a case with no records")
}

// hookedStore is a LedgerStore that calls a hook after a read, to make
// something happen at an exact point of a reader's work.
type hookedStore struct {
	evidence.LedgerStore
	after func(method string)
}

func (s *hookedStore) Records(ctx context.Context, c evidence.CaseID, start, end int64) ([][]byte, error) {
	out, err := s.LedgerStore.Records(ctx, c, start, end)
	s.after("Records")
	return out, err
}

func (s *hookedStore) Checkpoints(ctx context.Context, c evidence.CaseID) ([]evidence.Checkpoint, error) {
	out, err := s.LedgerStore.Checkpoints(ctx, c)
	s.after("Checkpoints")
	return out, err
}

// TestLedgerVerifyWhileAppending checks that Verify reports no tampering
// when another writer appends to the log while Verify reads it: the log
// only grew.
func TestLedgerVerifyWhileAppending(t *testing.T) {
	t.Parallel()
	const c = "CASE-BUSY"
	tests := []struct {
		name   string
		method string // the read after which the other writer appends
		rec    evidence.Record
	}{
		{"record appended after the records were read", "Records", actRecord(c, "A", evidence.ActionAccessed, custodyAt(9))},
		{"item collected after the records were read", "Records", collectRecord(c, "LATE", custodyAt(9))},
		{"record appended after the checkpoints were read", "Checkpoints", actRecord(c, "A", evidence.ActionAccessed, custodyAt(9))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, _ := custodyKey(t, "custody.example.org", 1)
			mem := evidence.NewMemoryLedgerStore()
			other, err := evidence.NewLedger(evidence.LedgerConfig{Store: mem, Key: key})
			require.NoError(t, err)
			appendRecords(t, other, collectRecord(c, "A", custodyAt(0)), actRecord(c, "A", evidence.ActionSealed, custodyAt(1)))
			_, err = other.Checkpoint(t.Context(), c)
			require.NoError(t, err)

			var once sync.Once
			hooked := &hookedStore{LedgerStore: mem}
			hooked.after = func(method string) {
				if method == tc.method {
					once.Do(func() { appendRecords(t, other, tc.rec) })
				}
			}
			l, err := evidence.NewLedger(evidence.LedgerConfig{Store: hooked, Key: key})
			require.NoError(t, err)

			rep, err := l.Verify(t.Context(), c)
			require.NoError(t, err)
			assert.Empty(t, rep.Problems, "an append during Verify is no tampering")
		})
	}
}

func TestNewLedgerConfig(t *testing.T) {
	t.Parallel()
	key, vkey := custodyKey(t, "custody.example.org", 1)
	store := evidence.NewMemoryLedgerStore()
	tests := []struct {
		name    string
		cfg     evidence.LedgerConfig
		origin  string // of case CASE-1, if valid
		invalid string // the field refused, if not
	}{
		{name: "defaults", cfg: evidence.LedgerConfig{Store: store, Key: key}, origin: "incidentkit/custody/CASE-1"},
		{name: "own origin", cfg: evidence.LedgerConfig{Store: store, Key: key, Origin: "custody.example.org/locker"}, origin: "custody.example.org/locker/CASE-1"},
		{name: "no store", cfg: evidence.LedgerConfig{Key: key}, invalid: "config"},
		{name: "no key", cfg: evidence.LedgerConfig{Store: store}, invalid: "config"},
		{name: "origin with a space", cfg: evidence.LedgerConfig{Store: store, Key: key, Origin: "my log"}, invalid: "origin"},
		{name: "origin with a newline", cfg: evidence.LedgerConfig{Store: store, Key: key, Origin: "log\n1"}, invalid: "origin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := evidence.NewLedger(tc.cfg)
			if tc.invalid != "" {
				require.ErrorIs(t, err, evidence.ErrInvalid)
				var inv *evidence.InvalidError
				require.ErrorAs(t, err, &inv)
				assert.Equal(t, tc.invalid, inv.Field)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.origin, l.Origin("CASE-1"))
			assert.Equal(t, vkey, l.VerifierKey())
			assert.Same(t, store, l.Store())
		})
	}
}

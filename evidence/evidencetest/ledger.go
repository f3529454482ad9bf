package evidencetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

// TestLedgerStore checks that the stores newStore makes keep the contract
// of [evidence.LedgerStore]: appends that write a record, its tree hashes
// and any new item atomically, at exactly the next index; conflicts that
// write nothing; items kept exactly as given; idempotent checkpoints kept
// in order; cases kept apart; copies handed out; concurrent appends of
// which exactly one wins; invalid appends refused as
// [evidence.Append.Validate] refuses them; and cancellation. It ends with a
// [evidence.Ledger] on the store, appending concurrently, proving and
// verifying, and exporting a case again and again while other writers
// grow it: every export must verify clean. Every implementation runs it from its own tests:
//
//	func TestLedgerStore(t *testing.T) {
//		evidencetest.TestLedgerStore(t, func(t *testing.T) evidence.LedgerStore {
//			return evidence.NewMemoryLedgerStore()
//		})
//	}
//
// newStore must return a new, empty store each time it is called, and
// release it with t.Cleanup. The suite calls it once per subtest and runs
// subtests in parallel, so the stores it returns must not share cases.
//
// Records are opaque bytes to a store, but the suite writes real canonical
// records, so that a store may decode them. Items are compared by their
// JSON encoding, as [evidence.VerifyLog] compares an item with the copy in
// its collected record: a store must return an item's times to the
// nanosecond and in the zone offset they were stored with, or every item
// it returns looks changed since its collection.
func TestLedgerStore(t *testing.T, newStore func(t *testing.T) evidence.LedgerStore) {
	s := ledgerSuite{newStore: newStore}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"AppendThenRead", s.testAppendThenRead},
		{"EmptyCase", s.testEmptyCase},
		{"WrongIndex", s.testWrongIndex},
		{"ItemExists", s.testItemExists},
		{"InvalidAppend", s.testInvalidAppend},
		{"LastRecord", s.testLastRecord},
		{"LogHead", s.testLogHead},
		{"Items", s.testItems},
		{"Checkpoints", s.testCheckpoints},
		{"CasesIndependent", s.testCasesIndependent},
		{"Copies", s.testCopies},
		{"ConcurrentAppend", s.testConcurrentAppend},
		{"CanceledContext", s.testCanceledContext},
		{"Ledger", s.testLedger},
		{"LedgerConcurrent", s.testLedgerConcurrent},
		{"ExportGrowing", s.testExportGrowing},
		{"ImportForeignKey", s.testImportForeignKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type ledgerSuite struct {
	newStore func(t *testing.T) evidence.LedgerStore
}

// store returns a fresh store for one test.
func (s ledgerSuite) store(t *testing.T) evidence.LedgerStore {
	t.Helper()
	st := s.newStore(t)
	require.NotNil(t, st, "newStore returned nil")
	return st
}

// Times and parties of the suite's records. The times have nanoseconds and
// a zone offset that is not whole hours, which a store must keep.
var (
	ledgerZone  = time.FixedZone("UTC-03:30", -(3*60*60 + 30*60))
	ledgerT0    = time.Date(2026, time.March, 2, 9, 15, 30, 123456789, ledgerZone)
	ledgerAlice = evidence.Party{ID: "alice", Name: "Alice Moreau", Organization: "CSIRT"}
	ledgerBob   = evidence.Party{ID: "bob", Name: "Bob Ndiaye", Organization: "Forensics Lab"}
)

// ledgerItem returns a description of item id of case c with every field
// set, collected at the time of record n.
func ledgerItem(c evidence.CaseID, id evidence.ItemID, n int64) evidence.Item {
	sum := sha256.Sum256([]byte(string(c) + "/" + string(id)))
	return evidence.Item{
		ID:        id,
		CaseID:    c,
		Exhibit:   fmt.Sprintf("EX-%03d", n),
		Name:      string(id) + ".pcap",
		Kind:      evidence.KindPacketCapture,
		MediaType: "application/vnd.tcpdump.pcap",
		Size:      1<<32 + n,
		Digests: evidence.Digests{
			SHA256: hex.EncodeToString(sum[:]),
			SHA1:   hex.EncodeToString(sum[:20]),
			MD5:    hex.EncodeToString(sum[:16]),
		},
		Source: evidence.Source{
			Host:         "edge-fw-02",
			Path:         "/var/capture/" + string(id),
			SerialNumber: "FGT60F-000123",
			Network:      []string{"192.0.2.10", "2001:db8::10"},
			Description:  "mirror port of the finance VLAN",
		},
		CollectedBy: ledgerAlice,
		CollectedAt: ledgerT0.Add(time.Duration(n) * time.Minute),
		Location:    "evidence locker 3",
		Labels:      []string{"phishing", "finance", "café"},
	}
}

// ledgerWriter makes the appends of one case's log, as a Ledger would, and
// remembers what was written.
type ledgerWriter struct {
	c       evidence.CaseID
	records [][]byte
	leaves  []tlog.Hash
	hashes  []tlog.Hash
	last    map[evidence.ItemID]int64
	items   []evidence.Item
}

func newLedgerWriter(c evidence.CaseID) *ledgerWriter {
	return &ledgerWriter{c: c, last: make(map[evidence.ItemID]int64)}
}

// size returns how many records the writer has committed.
func (w *ledgerWriter) size() int64 { return int64(len(w.records)) }

// next returns the append of the next record: the collection of item if it
// has no record yet, else action on it. It changes nothing.
func (w *ledgerWriter) next(t *testing.T, item evidence.ItemID, action evidence.Action) evidence.Append {
	t.Helper()
	return w.nextWithReason(t, item, action, fmt.Sprintf("record %d of case %s", w.size(), w.c))
}

// nextWithReason is next with the record's reason given.
func (w *ledgerWriter) nextWithReason(t *testing.T, item evidence.ItemID, action evidence.Action, reason string) evidence.Append {
	t.Helper()
	_, collected := w.last[item]
	return w.build(t, item, action, reason, w.size(), !collected)
}

// build returns the append of a record about item at index, collecting
// the item if collect is set, else taking action on it. At an index other
// than the next, the tree hashes are made up, but as many as at that
// index.
func (w *ledgerWriter) build(t *testing.T, item evidence.ItemID, action evidence.Action, reason string, n int64, collect bool) evidence.Append {
	t.Helper()
	r := evidence.Record{
		Case:     w.c,
		Index:    n,
		Item:     item,
		Prev:     -1,
		Action:   action,
		Actor:    ledgerBob,
		Location: "Forensics Lab",
		At:       ledgerT0.Add(time.Duration(n) * time.Minute),
		Reason:   reason,
	}
	a := evidence.Append{Case: w.c, Index: n, Item: item}
	if !collect {
		prev := w.last[item]
		r.Prev, r.PrevHash = prev, w.leaves[prev].String()
	} else {
		it := ledgerItem(w.c, item, n)
		r.Action, r.Actor, r.Snapshot = evidence.ActionCollected, ledgerAlice, &it
		snap := it.Clone()
		a.NewItem = &snap
	}
	if r.Action == evidence.ActionTransferred {
		r.From, r.To = ledgerAlice, ledgerBob
	}
	var err error
	a.Data, err = r.Encode()
	require.NoError(t, err)
	a.Hashes, err = tlog.StoredHashes(n, a.Data, tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < int64(len(w.hashes)) {
				out[i] = w.hashes[x]
			}
		}
		return out, nil
	}))
	require.NoError(t, err)
	return a
}

// commit records that a was written.
func (w *ledgerWriter) commit(a evidence.Append) {
	w.records = append(w.records, bytes.Clone(a.Data))
	w.leaves = append(w.leaves, tlog.RecordHash(a.Data))
	w.hashes = append(w.hashes, a.Hashes...)
	w.last[a.Item] = a.Index
	if a.NewItem != nil {
		w.items = append(w.items, a.NewItem.Clone())
	}
}

// write appends the next record to st, requiring success.
func (w *ledgerWriter) write(t *testing.T, st evidence.LedgerStore, item evidence.ItemID, action evidence.Action) evidence.Append {
	t.Helper()
	a := w.next(t, item, action)
	require.NoError(t, st.Append(t.Context(), a), "append record %d (%s of %s) to case %s", a.Index, action, item, w.c)
	w.commit(a)
	return a
}

// writeMix appends a mix of records of items A to E to st.
func (w *ledgerWriter) writeMix(t *testing.T, st evidence.LedgerStore, n int) {
	t.Helper()
	items := []evidence.ItemID{"A", "B", "C", "D", "E"}
	actions := []evidence.Action{
		evidence.ActionTransferred, evidence.ActionCheckedOut, evidence.ActionCheckedIn,
		evidence.ActionAnalyzed, evidence.ActionSealed, evidence.ActionAccessed,
	}
	for i := range n {
		w.write(t, st, items[(i*3)%len(items)], actions[i%len(actions)])
	}
}

// checkpointElsewhere returns a checkpoint of the log w wrote, signed by a
// new key on another store: a checkpoint the store under test does not hold.
func (w *ledgerWriter) checkpointElsewhere(t *testing.T) evidence.Checkpoint {
	t.Helper()
	scratch := evidence.NewMemoryLedgerStore()
	for i := range w.size() {
		lo, hi := tlog.StoredHashIndex(0, i), tlog.StoredHashIndex(0, i+1)
		r, err := evidence.DecodeRecord(w.records[i])
		require.NoError(t, err)
		a := evidence.Append{Case: w.c, Index: i, Item: r.Item, Data: w.records[i], Hashes: w.hashes[lo:hi], NewItem: r.Snapshot}
		require.NoError(t, scratch.Append(t.Context(), a))
	}
	cp, err := ledgerOn(t, scratch, "custody-2026.example.org").Checkpoint(t.Context(), w.c)
	require.NoError(t, err)
	return cp
}

// requireState checks that case w.c in st holds exactly what w wrote.
func (w *ledgerWriter) requireState(t *testing.T, st evidence.LedgerStore) {
	t.Helper()
	ctx := t.Context()
	n, err := st.Size(ctx, w.c)
	require.NoError(t, err)
	require.Equal(t, w.size(), n, "Size of case %s", w.c)
	if n > 0 { // testEmptyCase checks the records of an empty log
		recs, err := st.Records(ctx, w.c, 0, n)
		require.NoError(t, err)
		requireLedgerRecords(t, w.records, recs)
	}
	all := make([]int64, len(w.hashes))
	for i := range all {
		all[i] = int64(i)
	}
	hashes, err := st.ReadHashes(ctx, w.c, all)
	require.NoError(t, err)
	require.Len(t, hashes, len(all), "stored hashes of case %s", w.c)
	for i := range all {
		require.Equal(t, w.hashes[i], hashes[i], "stored hash %d of case %s", i, w.c)
	}
	_, err = st.ReadHashes(ctx, w.c, []int64{int64(len(w.hashes))})
	require.Error(t, err, "ReadHashes past the stored hashes of case %s", w.c)
	items, err := st.Items(ctx, w.c)
	require.NoError(t, err)
	requireLedgerItems(t, w.items, items)
	for id, want := range w.last {
		got, err := st.LastRecord(ctx, w.c, id)
		require.NoError(t, err)
		require.Equal(t, want, got, "LastRecord of item %s of case %s", id, w.c)
	}
}

// requireLedgerRecords checks that got are the records want.
func requireLedgerRecords(t *testing.T, want, got [][]byte) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, string(want[i]), string(got[i]), "record %d", i)
	}
}

// requireLedgerItems checks that got are the items want, in the same order,
// by their encoding.
func requireLedgerItems(t *testing.T, want, got []evidence.Item) {
	t.Helper()
	require.Equal(t, ledgerItemsJSON(t, want), ledgerItemsJSON(t, got),
		"items, in the order stored, with every field as given (times to the nanosecond, in their zone)")
}

func ledgerItemsJSON(t *testing.T, items []evidence.Item) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		b, err := json.Marshal(it)
		require.NoError(t, err)
		out[i] = string(b)
	}
	return out
}

// ledgerNoPanic runs f, turning a panic into a test failure so that the
// rest of the suite still runs.
func ledgerNoPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v", what, p)
		}
	}()
	f()
}

func (s ledgerSuite) testAppendThenRead(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	w := newLedgerWriter("CASE-1")
	w.writeMix(t, st, 13)
	w.requireState(t, st)

	for i := range w.size() + 1 {
		for j := i; j <= w.size(); j++ {
			recs, err := st.Records(ctx, w.c, i, j)
			require.NoError(t, err, "Records [%d, %d)", i, j)
			requireLedgerRecords(t, w.records[i:j], recs)
		}
	}
	for _, r := range []struct{ start, end int64 }{{0, w.size() + 1}, {w.size(), w.size() + 1}, {-1, 2}, {5, 4}} {
		_, err := st.Records(ctx, w.c, r.start, r.end)
		require.Error(t, err, "Records [%d, %d) of a log of %d", r.start, r.end, w.size())
	}

	indexes := []int64{20, 3, 3, 0, 11, 7}
	hashes, err := st.ReadHashes(ctx, w.c, indexes)
	require.NoError(t, err)
	require.Len(t, hashes, len(indexes))
	for i, x := range indexes {
		require.Equal(t, w.hashes[x], hashes[i], "ReadHashes returns hash %d at position %d", x, i)
	}

	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) { return st.ReadHashes(ctx, w.c, indexes) })
	for n := int64(1); n <= w.size(); n++ {
		got, err := tlog.TreeHash(n, reader)
		require.NoError(t, err)
		want, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(indexes))
			for i, x := range indexes {
				out[i] = w.hashes[x]
			}
			return out, nil
		}))
		require.NoError(t, err)
		require.Equal(t, want, got, "tree root at size %d from the stored hashes", n)
	}
}

func (s ledgerSuite) testEmptyCase(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	for i, stage := range []string{"an empty store", "a store with another case"} {
		if i > 0 {
			newLedgerWriter("CASE-OTHER").writeMix(t, st, 3)
		}
		const c = "CASE-EMPTY"
		n, err := st.Size(ctx, c)
		require.NoError(t, err, "Size in %s", stage)
		require.Zero(t, n, "Size in %s", stage)
		ledgerNoPanic(t, "Records [0, 0) in "+stage, func() {
			recs, err := st.Records(ctx, c, 0, 0)
			require.NoError(t, err, "Records [0, 0) in %s", stage)
			require.Empty(t, recs)
		})
		_, err = st.Records(ctx, c, 0, 1)
		require.Error(t, err, "Records [0, 1) in %s", stage)
		hashes, err := st.ReadHashes(ctx, c, nil)
		require.NoError(t, err, "ReadHashes of no hashes in %s", stage)
		require.Empty(t, hashes)
		_, err = st.ReadHashes(ctx, c, []int64{0})
		require.Error(t, err, "ReadHashes of hash 0 in %s", stage)
		_, err = st.LastRecord(ctx, c, "A")
		require.ErrorIs(t, err, evidence.ErrNotFound, "LastRecord in %s", stage)
		_, err = st.Item(ctx, c, "A")
		require.ErrorIs(t, err, evidence.ErrNotFound, "Item in %s", stage)
		items, err := st.Items(ctx, c)
		require.NoError(t, err, "Items in %s", stage)
		require.Empty(t, items)
		cps, err := st.Checkpoints(ctx, c)
		require.NoError(t, err, "Checkpoints in %s", stage)
		require.Empty(t, cps)
	}
}

func (s ledgerSuite) testWrongIndex(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	w := newLedgerWriter("CASE-1")

	for _, index := range []int64{1, 2} {
		wrong := w.build(t, "A", evidence.ActionCollected, "wrong index", index, true)
		require.ErrorIs(t, st.Append(ctx, wrong), evidence.ErrConflict, "Append at index %d of an empty log", index)
	}
	w.requireState(t, st)

	w.writeMix(t, st, 4)
	for _, index := range []int64{0, 3, 5, 100} {
		wrong := w.build(t, "NEW", evidence.ActionCollected, "wrong index", index, true)
		require.ErrorIs(t, st.Append(ctx, wrong), evidence.ErrConflict, "Append at index %d of a log of 4", index)
		wrong = w.build(t, "A", evidence.ActionAccessed, "wrong index", index, false)
		require.ErrorIs(t, st.Append(ctx, wrong), evidence.ErrConflict, "Append at index %d of a log of 4", index)
		w.requireState(t, st)
		_, err := st.Item(ctx, w.c, "NEW")
		require.ErrorIs(t, err, evidence.ErrNotFound, "the item of a refused append is not stored")
		_, err = st.LastRecord(ctx, w.c, "NEW")
		require.ErrorIs(t, err, evidence.ErrNotFound, "the record of a refused append is not stored")
	}
	w.write(t, st, "A", evidence.ActionAccessed)
	w.requireState(t, st)
}

func (s ledgerSuite) testItemExists(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	w := newLedgerWriter("CASE-1")
	w.write(t, st, "A", evidence.ActionCollected)
	w.write(t, st, "B", evidence.ActionCollected)

	again := w.build(t, "A", evidence.ActionCollected, "collected again", w.size(), true)
	again.NewItem.Name = "replacement.pcap"
	require.ErrorIs(t, st.Append(ctx, again), evidence.ErrConflict, "Append of a new item whose ID is taken")
	w.requireState(t, st)
	_, err := st.Records(ctx, w.c, 2, 3)
	require.Error(t, err, "no record was written")

	w.write(t, st, "A", evidence.ActionSealed)
	w.requireState(t, st)
}

// testInvalidAppend checks every store refuses the appends
// evidence.Append.Validate refuses, as invalid, writing nothing.
func (s ledgerSuite) testInvalidAppend(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	w := newLedgerWriter("CASE-1")
	w.writeMix(t, st, 3)
	long := func(n int) string { return strings.Repeat("x", n+1) }
	cases := []struct {
		name    string
		collect bool
		edit    func(a *evidence.Append)
	}{
		{"no case", false, func(a *evidence.Append) { a.Case = "" }},
		{"a case ID with a space", false, func(a *evidence.Append) { a.Case = "CASE 1" }},
		{"a case ID too long", false, func(a *evidence.Append) { a.Case = evidence.CaseID(long(evidence.MaxIDLen)) }},
		{"a negative index", false, func(a *evidence.Append) { a.Index = -1 }},
		{"no item", false, func(a *evidence.Append) { a.Item = "" }},
		{"an item ID too long", false, func(a *evidence.Append) { a.Item = evidence.ItemID(long(evidence.MaxIDLen)) }},
		{"an item ID with a NUL byte", false, func(a *evidence.Append) { a.Item = "A\x00" }},
		{"an item ID of invalid UTF-8", false, func(a *evidence.Append) { a.Item = "A\xff" }},
		{"no record data", false, func(a *evidence.Append) { a.Data = nil }},
		{"record data too long", false, func(a *evidence.Append) {
			a.Data = append(a.Data, make([]byte, evidence.MaxRecordSize)...)
		}},
		{"record data that is no record", false, func(a *evidence.Append) { a.Data = []byte("{}") }},
		{"the record of another item", false, func(a *evidence.Append) { a.Item = "B" }},
		{"the record of another case", false, func(a *evidence.Append) { a.Case = "CASE-2" }},
		{"no tree hashes", false, func(a *evidence.Append) { a.Hashes = nil }},
		{"too many tree hashes", false, func(a *evidence.Append) { a.Hashes = append(a.Hashes, a.Hashes...) }},
		{"a new item with a record that is not its collection", false, func(a *evidence.Append) {
			it := ledgerItem(a.Case, a.Item, 0)
			a.NewItem = &it
		}},
		{"a collection without its new item", true, func(a *evidence.Append) { a.NewItem = nil }},
		{"a new item of another item", true, func(a *evidence.Append) { a.NewItem.ID = "Z" }},
		{"a new item of another case", true, func(a *evidence.Append) { a.NewItem.CaseID = "CASE-2" }},
		{"a new item's name too long", true, func(a *evidence.Append) { a.NewItem.Name = long(evidence.MaxNameLen) }},
		{"a new item's name with a NUL byte", true, func(a *evidence.Append) { a.NewItem.Name = "a\x00b" }},
		{"a new item's name of invalid UTF-8", true, func(a *evidence.Append) { a.NewItem.Name = "a\xffb" }},
		{"a new item's path too long", true, func(a *evidence.Append) { a.NewItem.Source.Path = long(evidence.MaxTextLen) }},
		{"a new item with too many labels", true, func(a *evidence.Append) {
			a.NewItem.Labels = make([]string, evidence.MaxLabels+1)
		}},
		{"a new item's label too long", true, func(a *evidence.Append) { a.NewItem.Labels[0] = long(evidence.MaxNameLen) }},
		{"a new item's collector's ID too long", true, func(a *evidence.Append) {
			a.NewItem.CollectedBy.ID = long(evidence.MaxIDLen)
		}},
	}
	for _, tc := range cases {
		a := w.next(t, "A", evidence.ActionAccessed)
		if tc.collect {
			a = w.next(t, "NEW", evidence.ActionCollected)
		}
		tc.edit(&a)
		ledgerNoPanic(t, "Append of "+tc.name, func() {
			require.ErrorIs(t, st.Append(ctx, a), evidence.ErrInvalid, "Append of %s", tc.name)
		})
		w.requireState(t, st)
		_, err := st.Item(ctx, w.c, "NEW")
		require.ErrorIs(t, err, evidence.ErrNotFound, "the item of a refused append of %s", tc.name)
		n, err := st.Size(ctx, "CASE-2")
		require.NoError(t, err)
		require.Zero(t, n, "records of case CASE-2 after an append of %s", tc.name)
	}
	w.write(t, st, "NEW", evidence.ActionCollected)
	w.write(t, st, "A", evidence.ActionAccessed)
	w.requireState(t, st)
}

func (s ledgerSuite) testLastRecord(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	w := newLedgerWriter("CASE-1")
	steps := []struct {
		item   evidence.ItemID
		action evidence.Action
	}{
		{"A", evidence.ActionCollected}, {"B", evidence.ActionCollected}, {"A", evidence.ActionTransferred},
		{"C", evidence.ActionCollected}, {"A", evidence.ActionCheckedIn}, {"B", evidence.ActionAnalyzed},
		{"B", evidence.ActionSealed}, {"C", evidence.ActionCopied},
	}
	want := map[evidence.ItemID]int64{}
	for i, step := range steps {
		w.write(t, st, step.item, step.action)
		want[step.item] = int64(i)
		for id, idx := range want {
			got, err := st.LastRecord(ctx, w.c, id)
			require.NoError(t, err)
			require.Equal(t, idx, got, "LastRecord of %s after record %d", id, i)
		}
	}
	_, err := st.LastRecord(ctx, w.c, "Z")
	require.ErrorIs(t, err, evidence.ErrNotFound, "LastRecord of an unknown item")
	_, err = st.LastRecord(ctx, "CASE-2", "A")
	require.ErrorIs(t, err, evidence.ErrNotFound, "LastRecord of an item of another case")
}

// testLogHead checks, for a store that is an [evidence.HeadReader], that
// the head it reads in one call is what the other methods say.
func (s ledgerSuite) testLogHead(t *testing.T) {
	st := s.store(t)
	hr, ok := st.(evidence.HeadReader)
	if !ok {
		t.Skip("the store is not an evidence.HeadReader")
	}
	ctx := t.Context()
	check := func(c evidence.CaseID, item evidence.ItemID) {
		t.Helper()
		got, err := hr.LogHead(ctx, c, item)
		require.NoError(t, err)
		want := evidence.LogHead{Prev: -1}
		want.Size, err = st.Size(ctx, c)
		require.NoError(t, err)
		items, err := st.Items(ctx, c)
		require.NoError(t, err)
		want.Items = len(items)
		if prev, err := st.LastRecord(ctx, c, item); err == nil {
			hashes, err := st.ReadHashes(ctx, c, []int64{tlog.StoredHashIndex(0, prev)})
			require.NoError(t, err)
			want.Prev, want.PrevHash = prev, hashes[0]
		}
		require.Equal(t, want, got, "head of case %s for item %s", c, item)
	}
	w := newLedgerWriter("CASE-1")
	check(w.c, "A")
	for _, step := range []struct {
		item   evidence.ItemID
		action evidence.Action
	}{
		{"A", evidence.ActionCollected}, {"B", evidence.ActionCollected}, {"A", evidence.ActionTransferred},
		{"C", evidence.ActionCollected}, {"B", evidence.ActionAnalyzed},
	} {
		w.write(t, st, step.item, step.action)
		for _, id := range []evidence.ItemID{"A", "B", "C", "Z"} {
			check(w.c, id)
		}
	}
	check("CASE-2", "A")
}

func (s ledgerSuite) testItems(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	w := newLedgerWriter("CASE-1")
	for _, id := range []evidence.ItemID{"E", "B", "D"} {
		w.write(t, st, id, evidence.ActionCollected)
		w.write(t, st, "E", evidence.ActionAccessed)
	}
	w.write(t, st, "A", evidence.ActionCollected)
	w.write(t, st, "C", evidence.ActionCollected)
	w.requireState(t, st)

	for _, want := range w.items {
		got, err := st.Item(ctx, w.c, want.ID)
		require.NoError(t, err)
		requireLedgerItems(t, []evidence.Item{want}, []evidence.Item{got})
		_, wantOff := want.CollectedAt.Zone()
		_, gotOff := got.CollectedAt.Zone()
		require.Equal(t, wantOff, gotOff, "zone offset of item %s's collection time", want.ID)
	}
	_, err := st.Item(ctx, w.c, "Z")
	require.ErrorIs(t, err, evidence.ErrNotFound, "Item of an unknown ID")
	_, err = st.Item(ctx, "CASE-2", "A")
	require.ErrorIs(t, err, evidence.ErrNotFound, "Item of another case")

	bare := w.next(t, "BARE", evidence.ActionCollected)
	bare.NewItem = &evidence.Item{ID: "BARE", CaseID: w.c, Name: "bare", CollectedAt: ledgerT0}
	require.NoError(t, st.Append(ctx, bare))
	w.commit(bare)
	w.requireState(t, st)
}

func (s ledgerSuite) testCheckpoints(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	const c = "CASE-1"
	l1 := ledgerOn(t, st, "custody.example.org")
	l2 := ledgerOn(t, st, "custody-2026.example.org")
	ledgerAppendMix(t, l1, c, 0, 3)

	cp1, err := l1.Checkpoint(ctx, c)
	require.NoError(t, err)
	requireCheckpoints(t, st, c, cp1)
	require.NoError(t, st.AddCheckpoint(ctx, c, cp1), "storing a checkpoint again")
	requireCheckpoints(t, st, c, cp1)

	ledgerAppendMix(t, l1, c, 3, 2)
	cp2, err := l1.Checkpoint(ctx, c)
	require.NoError(t, err)
	cp3, err := l2.Checkpoint(ctx, c)
	require.NoError(t, err)
	require.Equal(t, cp2.Size, cp3.Size)
	requireCheckpoints(t, st, c, cp1, cp2, cp3)
	for _, cp := range []evidence.Checkpoint{cp1, cp3, cp2} {
		require.NoError(t, st.AddCheckpoint(ctx, c, cp), "storing checkpoint of size %d again", cp.Size)
	}
	requireCheckpoints(t, st, c, cp1, cp2, cp3)

	cps, err := st.Checkpoints(ctx, "CASE-2")
	require.NoError(t, err)
	require.Empty(t, cps, "checkpoints of another case")
}

// requireCheckpoints checks that case c in st has exactly the checkpoints
// want, oldest first.
func requireCheckpoints(t *testing.T, st evidence.LedgerStore, c evidence.CaseID, want ...evidence.Checkpoint) {
	t.Helper()
	got, err := st.Checkpoints(t.Context(), c)
	require.NoError(t, err)
	require.Len(t, got, len(want), "checkpoints of case %s", c)
	for i := range want {
		require.Equal(t, want[i].Origin, got[i].Origin, "Origin of checkpoint %d", i)
		require.Equal(t, want[i].Size, got[i].Size, "Size of checkpoint %d", i)
		require.Equal(t, want[i].Root, got[i].Root, "Root of checkpoint %d", i)
		require.Equal(t, string(want[i].Note), string(got[i].Note), "Note of checkpoint %d", i)
	}
}

// ledgerOn returns a ledger on st with a new key named name.
func ledgerOn(t *testing.T, st evidence.LedgerStore, name string) *evidence.Ledger {
	t.Helper()
	key, _, err := evidence.GenerateKey(name)
	require.NoError(t, err)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	return l
}

// ledgerRecord returns record number i of a mix of custody actions on
// items I0 to I4 of case c: the first record of each item collects it.
func ledgerRecord(c evidence.CaseID, i int) evidence.Record {
	id := evidence.ItemID(fmt.Sprintf("I%d", i%5))
	at := ledgerT0.Add(time.Duration(i) * time.Minute)
	if i < 5 {
		it := ledgerItem(c, id, int64(i))
		return evidence.Record{Case: c, Item: id, Action: evidence.ActionCollected, Actor: ledgerAlice, At: at, Digest: it.Digests.SHA256, Snapshot: &it}
	}
	actions := []evidence.Action{evidence.ActionTransferred, evidence.ActionAnalyzed, evidence.ActionCheckedOut, evidence.ActionCheckedIn, evidence.ActionVerified}
	r := evidence.Record{Case: c, Item: id, Action: actions[(i/5)%len(actions)], Actor: ledgerBob, At: at, Reason: fmt.Sprintf("step %d", i)}
	if r.Action == evidence.ActionTransferred {
		r.From, r.To = ledgerAlice, ledgerBob
	}
	return r
}

// ledgerAppendMix appends records from..from+n-1 of ledgerRecord's mix.
func ledgerAppendMix(t *testing.T, l *evidence.Ledger, c evidence.CaseID, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		_, err := l.Append(t.Context(), ledgerRecord(c, i))
		require.NoError(t, err, "append record %d", i)
	}
}

func (s ledgerSuite) testCasesIndependent(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	x, y := newLedgerWriter("CASE-X"), newLedgerWriter("CASE-Y")
	x.write(t, st, "A", evidence.ActionCollected)
	y.write(t, st, "A", evidence.ActionCollected)
	y.write(t, st, "B", evidence.ActionCollected)
	x.write(t, st, "A", evidence.ActionTransferred)
	x.write(t, st, "C", evidence.ActionCollected)
	y.write(t, st, "A", evidence.ActionAnalyzed)
	y.write(t, st, "A", evidence.ActionSealed)
	x.requireState(t, st)
	y.requireState(t, st)

	_, err := st.LastRecord(ctx, "CASE-Y", "C")
	require.ErrorIs(t, err, evidence.ErrNotFound, "an item of case X is not in case Y")
	_, err = st.Item(ctx, "CASE-Y", "C")
	require.ErrorIs(t, err, evidence.ErrNotFound, "an item of case X is not in case Y")

	l := ledgerOn(t, st, "custody.example.org")
	_, err = l.Checkpoint(ctx, "CASE-X")
	require.NoError(t, err)
	cps, err := st.Checkpoints(ctx, "CASE-Y")
	require.NoError(t, err)
	require.Empty(t, cps, "a checkpoint of case X is not one of case Y")
}

func (s ledgerSuite) testCopies(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	w := newLedgerWriter("CASE-1")
	w.writeMix(t, st, 6)

	a := w.next(t, "F", evidence.ActionCollected)
	require.NoError(t, st.Append(ctx, a))
	w.commit(a)
	a.Data[0] = 'X'
	a.Hashes[0] = tlog.Hash{}
	a.NewItem.Labels[0] = "scribbled"
	a.NewItem.Source.Network[0] = "scribbled"
	w.requireState(t, st)

	l := ledgerOn(t, st, "custody.example.org")
	_, err := l.Checkpoint(ctx, w.c)
	require.NoError(t, err)
	cps, err := st.Checkpoints(ctx, w.c)
	require.NoError(t, err)
	want := cps[0]
	want.Note = bytes.Clone(want.Note)

	recs, err := st.Records(ctx, w.c, 0, w.size())
	require.NoError(t, err)
	for _, r := range recs {
		r[0] = 'X'
	}
	hashes, err := st.ReadHashes(ctx, w.c, []int64{0, 1})
	require.NoError(t, err)
	hashes[0][0] ^= 0xff
	items, err := st.Items(ctx, w.c)
	require.NoError(t, err)
	for i := range items {
		items[i].Labels[0] = "scribbled"
		items[i].Source.Network[0] = "scribbled"
	}
	it, err := st.Item(ctx, w.c, "A")
	require.NoError(t, err)
	it.Labels[0] = "scribbled"
	it.Source.Network[0] = "scribbled"
	cps[0].Note[0] = 'X'

	w.requireState(t, st)
	requireCheckpoints(t, st, w.c, want)
}

func (s ledgerSuite) testConcurrentAppend(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	w := newLedgerWriter("CASE-1")
	w.write(t, st, "A", evidence.ActionCollected)
	const writers = 16
	for round := range 4 {
		appends := make([]evidence.Append, writers)
		for i := range appends {
			if i%2 == 0 {
				appends[i] = w.next(t, evidence.ItemID(fmt.Sprintf("R%d-W%02d", round, i)), evidence.ActionCollected)
			} else {
				appends[i] = w.nextWithReason(t, "A", evidence.ActionAccessed, fmt.Sprintf("writer %d, round %d", i, round))
			}
		}
		errs := make([]error, writers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range appends {
			wg.Go(func() {
				<-start
				errs[i] = st.Append(ctx, appends[i])
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			if err != nil {
				require.ErrorIs(t, err, evidence.ErrConflict, "round %d: writer %d lost the race", round, i)
				continue
			}
			require.Equal(t, -1, winner, "round %d: writers %d and %d both appended record %d", round, winner, i, w.size())
			winner = i
		}
		require.NotEqual(t, -1, winner, "round %d: no writer appended", round)
		w.commit(appends[winner])
		w.requireState(t, st)
		for i, a := range appends {
			if i != winner && a.NewItem != nil {
				_, err := st.Item(ctx, w.c, a.NewItem.ID)
				require.ErrorIs(t, err, evidence.ErrNotFound, "round %d: the item of losing writer %d", round, i)
			}
		}
	}
}

func (s ledgerSuite) testCanceledContext(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel := context.WithTimeout(ctx, -time.Second)
	defer cancel()

	w := newLedgerWriter("CASE-1")
	w.writeMix(t, st, 3)
	l := ledgerOn(t, st, "custody.example.org")
	cp, err := l.Checkpoint(ctx, w.c)
	require.NoError(t, err)
	w.write(t, st, "B", evidence.ActionSealed)
	later := w.checkpointElsewhere(t)
	w2 := newLedgerWriter("CASE-2")

	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{canceled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		a := w.next(t, "NEW", evidence.ActionCollected)
		require.ErrorIs(t, st.Append(c.ctx, a), c.want, "Append of a collection")
		a = w.next(t, "A", evidence.ActionAccessed)
		require.ErrorIs(t, st.Append(c.ctx, a), c.want, "Append of an access")
		a = w2.next(t, "A", evidence.ActionCollected)
		require.ErrorIs(t, st.Append(c.ctx, a), c.want, "Append of the first record of a case")
		require.ErrorIs(t, st.AddCheckpoint(c.ctx, w.c, later), c.want, "AddCheckpoint")

		w.requireState(t, st)
		w2.requireState(t, st)
		_, err := st.Item(ctx, w.c, "NEW")
		require.ErrorIs(t, err, evidence.ErrNotFound, "the item of a cancelled append")
		requireCheckpoints(t, st, w.c, cp)
	}
	w.write(t, st, "NEW", evidence.ActionCollected)
	w.requireState(t, st)
}

// testLedger runs a Ledger on the store: appends, a checkpoint, a proof of
// every record, the history of every item and a verification.
func (s ledgerSuite) testLedger(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	const c = "CASE-1"
	l := ledgerOn(t, st, "custody.example.org")
	ledgerAppendMix(t, l, c, 0, 12)
	first, err := l.Checkpoint(ctx, c)
	require.NoError(t, err)
	ledgerAppendMix(t, l, c, 12, 9)
	cp, err := l.Checkpoint(ctx, c)
	require.NoError(t, err)
	require.Equal(t, int64(21), cp.Size)

	rep, err := l.Verify(ctx, c)
	require.NoError(t, err)
	require.Empty(t, rep.Problems, "Verify of a ledger on the store")
	require.Equal(t, 5, rep.Items)
	require.Equal(t, 2, rep.Checkpoints)

	recs, err := st.Records(ctx, c, 0, cp.Size)
	require.NoError(t, err)
	for i, data := range recs {
		p, err := l.ProveInclusion(ctx, c, int64(i), cp.Size)
		require.NoError(t, err)
		require.NoError(t, evidence.CheckInclusion(p, cp.Size, cp.Root, int64(i), data), "record %d", i)
	}
	p, err := l.ProveConsistency(ctx, c, first.Size, cp.Size)
	require.NoError(t, err)
	require.NoError(t, evidence.CheckConsistency(p, cp.Size, cp.Root, first.Size, first.Root))

	for k := range 5 {
		id := evidence.ItemID(fmt.Sprintf("I%d", k))
		hist, err := l.History(ctx, c, id)
		require.NoError(t, err)
		var idx []int64
		for _, r := range hist {
			idx = append(idx, r.Index)
		}
		var want []int64
		for i := int64(k); i < cp.Size; i += 5 {
			want = append(want, i)
		}
		require.Equal(t, want, idx, "history of %s", id)
	}
}

// testLedgerConcurrent runs Ledgers appending to one case at once through
// the store, as several processes sharing it would.
func (s ledgerSuite) testLedgerConcurrent(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	const (
		c       = "CASE-1"
		writers = 8
		each    = 10
	)
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	ledgerAppendMix(t, ledgerOn(t, st, "custody.example.org"), c, 0, 5)

	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
			if err != nil {
				errs[w] = err
				return
			}
			for i := range each {
				r := ledgerRecord(c, 5+i)
				r.Item = evidence.ItemID(fmt.Sprintf("I%d", (w+i)%5))
				r.Reason = fmt.Sprintf("writer %d, step %d", w, i)
				if _, err := l.Append(ctx, r); err != nil {
					errs[w] = fmt.Errorf("step %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		require.NoError(t, err, "writer %d", w)
	}
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	_, err = l.Checkpoint(ctx, c)
	require.NoError(t, err)
	rep, err := l.Verify(ctx, c)
	require.NoError(t, err)
	require.Empty(t, rep.Problems, "Verify after concurrent appends")
	require.Equal(t, int64(5+writers*each), rep.Size)
	for k := range 5 {
		hist, err := l.History(ctx, c, evidence.ItemID(fmt.Sprintf("I%d", k)))
		require.NoError(t, err)
		require.Len(t, hist, 1+writers*each/5, "history of I%d", k)
		require.True(t, slices.IsSortedFunc(hist, func(a, b evidence.Record) int { return int(a.Index - b.Index) }))
	}
}

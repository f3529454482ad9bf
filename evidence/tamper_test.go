package evidence_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/custodyreport"
)

const tamperCase evidence.CaseID = "CASE-TAMPER"

// tamperFixture is a clean custody log to tamper with, and the pieces a
// forger would bring.
//
// The log holds ten records of three items, with checkpoints at sizes 6
// and 10:
//
//	0 A collected     5 A checked_out (prev 2)
//	1 B collected     6 A checked_in  (prev 5)
//	2 A transferred   7 B sealed      (prev 3)
//	3 B analyzed      8 C accessed    (prev 4)
//	4 C collected     9 A verified    (prev 6)
type tamperFixture struct {
	log  evidence.CaseLog
	vkey string
	// Checkpoints of the same log at size 10 signed by another key with
	// the ledger's key name, and by a key of another name.
	sameNameKey, otherKey evidence.Checkpoint
	// otherCase is a checkpoint by the ledger's key of another case.
	otherCase evidence.Checkpoint
	// forged is a well-formed record collecting item D as record 4.
	forged []byte
}

func newTamperFixture(t *testing.T) *tamperFixture {
	t.Helper()
	ctx := t.Context()
	const c = tamperCase
	l := newCustodyLedger(t)
	appendRecords(t, l,
		collectRecord(c, "A", custodyAt(0)),
		collectRecord(c, "B", custodyAt(1)),
		actRecord(c, "A", evidence.ActionTransferred, custodyAt(2)),
		actRecord(c, "B", evidence.ActionAnalyzed, custodyAt(3)),
		collectRecord(c, "C", custodyAt(4)),
		actRecord(c, "A", evidence.ActionCheckedOut, custodyAt(5)),
	)
	_, err := l.Checkpoint(ctx, c)
	require.NoError(t, err)
	appendRecords(t, l,
		actRecord(c, "A", evidence.ActionCheckedIn, custodyAt(6)),
		actRecord(c, "B", evidence.ActionSealed, custodyAt(7)),
		actRecord(c, "C", evidence.ActionAccessed, custodyAt(8)),
		actRecord(c, "A", evidence.ActionVerified, custodyAt(9)),
	)
	_, err = l.Checkpoint(ctx, c)
	require.NoError(t, err)
	f := &tamperFixture{vkey: l.VerifierKey()}
	f.log, err = l.Export(ctx, c)
	require.NoError(t, err)
	require.Len(t, f.log.Records, 10)
	require.Len(t, f.log.Checkpoints, 2)
	require.Empty(t, verifyBoth(t, f.log, f.vkey, evidence.VerifyOptions{}).Problems, "the fixture is clean")

	signWith := func(seed byte, name string) evidence.Checkpoint {
		key, _ := custodyKey(t, name, seed)
		other, err := evidence.NewLedger(evidence.LedgerConfig{Store: l.Store(), Key: key})
		require.NoError(t, err)
		cp, err := other.Checkpoint(ctx, c)
		require.NoError(t, err)
		return cp
	}
	f.sameNameKey = signWith(2, "custody.example.org")
	f.otherKey = signWith(3, "rogue.example.net")

	appendRecords(t, l, collectRecord("CASE-ELSEWHERE", "A", custodyAt(0)))
	f.otherCase, err = l.Checkpoint(ctx, "CASE-ELSEWHERE")
	require.NoError(t, err)

	forged := collectRecord(c, "D", custodyAt(4))
	forged.Index, forged.Prev = 4, -1
	f.forged, err = forged.Encode()
	require.NoError(t, err)
	return f
}

// cloneCaseLog returns a deep copy of a case log, to tamper with.
func cloneCaseLog(log evidence.CaseLog) evidence.CaseLog {
	out := log
	out.Records = make([][]byte, len(log.Records))
	for i, r := range log.Records {
		out.Records[i] = bytes.Clone(r)
	}
	out.Items = make([]evidence.Item, len(log.Items))
	for i, it := range log.Items {
		out.Items[i] = it.Clone()
	}
	out.Checkpoints = slices.Clone(log.Checkpoints)
	for i := range out.Checkpoints {
		out.Checkpoints[i].Note = bytes.Clone(log.Checkpoints[i].Note)
	}
	return out
}

// editRecord changes record i of log and stores it re-encoded in canonical
// form, as a careful forger would.
func editRecord(t *testing.T, log *evidence.CaseLog, i int, edit func(r *evidence.Record)) {
	t.Helper()
	r, err := evidence.DecodeRecord(log.Records[i])
	require.NoError(t, err)
	edit(&r)
	log.Records[i], err = r.Encode()
	require.NoError(t, err)
}

// editBytes replaces the first old in b with new, failing if there is none.
func editBytes(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	require.Contains(t, string(b), old)
	return []byte(strings.Replace(string(b), old, new, 1))
}

// itemIndex returns the position of item id in log.Items.
func itemIndex(t *testing.T, log *evidence.CaseLog, id evidence.ItemID) int {
	t.Helper()
	i := slices.IndexFunc(log.Items, func(it evidence.Item) bool { return it.ID == id })
	require.GreaterOrEqual(t, i, 0, "item %s", id)
	return i
}

// anyRecord in a wanted problem accepts a problem naming any record.
const anyRecord = -2

// tamperProblem is a problem a check must report: what was found altered,
// in which item and which record (-1 for none).
type tamperProblem struct {
	what   string
	item   evidence.ItemID
	record int64
}

func (p tamperProblem) String() string {
	return fmt.Sprintf("%s of item %q at record %d", p.what, p.item, p.record)
}

// matches reports whether te is the problem p; p.what may list several
// names separated by "|", any of which will do.
func (p tamperProblem) matches(te *evidence.TamperError) bool {
	return slices.Contains(strings.Split(p.what, "|"), te.What) && te.Item == p.item &&
		(p.record == anyRecord || te.Record == p.record)
}

// requireProblems checks that rep reports every problem in want, each
// matching ErrTampered and naming the case; with only, it reports nothing
// else.
func requireProblems(t *testing.T, rep *evidence.Report, want []tamperProblem, only bool) {
	t.Helper()
	require.NotEmpty(t, rep.Problems, "no problem reported")
	require.ErrorIs(t, rep.Err(), evidence.ErrTampered)
	assert.False(t, rep.OK())
	var found []*evidence.TamperError
	for _, p := range rep.Problems {
		require.ErrorIs(t, p, evidence.ErrTampered)
		var te *evidence.TamperError
		require.True(t, errors.As(p, &te), "problem %v is a *TamperError", p)
		assert.Equal(t, rep.Case, te.Case, "problem %v names the case", p)
		found = append(found, te)
	}
	for _, w := range want {
		assert.True(t, slices.ContainsFunc(found, w.matches), "no problem %s among:\n%v", w, rep.Err())
	}
	if only {
		for _, te := range found {
			assert.True(t, slices.ContainsFunc(want, func(w tamperProblem) bool { return w.matches(te) }), "unexpected problem %v", te)
		}
	}
}

func TestVerifyLogDetectsTampering(t *testing.T) {
	t.Parallel()
	f := newTamperFixture(t)
	checkpoint := tamperProblem{"checkpoint", "", -1}
	signature := tamperProblem{"checkpoint signature", "", -1}
	tests := []struct {
		name   string
		tamper func(t *testing.T, log *evidence.CaseLog)
		want   []tamperProblem
		only   bool // the wanted problems are the only ones
	}{
		{
			name: "field changed in an item's last record, canonically",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 9, func(r *evidence.Record) { r.Reason = "never verified" })
			},
			want: []tamperProblem{checkpoint},
			only: true,
		},
		{
			name: "field changed in a record a later one links to, canonically",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 2, func(r *evidence.Record) { r.To = evidence.Party{ID: "mallory"} })
			},
			want: []tamperProblem{{"item link", "A", 5}, checkpoint},
		},
		{
			name: "time changed, canonically",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 3, func(r *evidence.Record) { r.At = r.At.Add(-time.Hour) })
			},
			want: []tamperProblem{{"item link", "B", 7}, checkpoint},
		},
		{
			name: "record moved to another case",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 8, func(r *evidence.Record) { r.Case = "CASE-ELSEWHERE" })
			},
			want: []tamperProblem{{"record", "C", 8}, checkpoint},
		},
		{
			name: "record index changed",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 8, func(r *evidence.Record) { r.Index = 7 })
			},
			want: []tamperProblem{{"record", "C", 8}, checkpoint},
		},
		{
			name: "byte changed, leaving a record not in canonical form",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Records[3] = editBytes(t, log.Records[3], `"reason"`, `"Reason"`)
			},
			want: []tamperProblem{{"record", "", 3}},
		},
		{
			name:   "byte changed, leaving a record that is not JSON",
			tamper: func(t *testing.T, log *evidence.CaseLog) { log.Records[3][0] = '[' },
			want:   []tamperProblem{{"record", "", 3}, checkpoint},
		},
		{
			name:   "record deleted",
			tamper: func(t *testing.T, log *evidence.CaseLog) { log.Records = slices.Delete(log.Records, 4, 5) },
			want:   []tamperProblem{{"record", "A", 4}, checkpoint},
		},
		{
			name: "record inserted",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Records = slices.Insert(log.Records, 4, f.forged)
			},
			want: []tamperProblem{{"record", "C", 5}, checkpoint},
		},
		{
			name: "records swapped",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Records[7], log.Records[8] = log.Records[8], log.Records[7]
			},
			want: []tamperProblem{{"record", "C", 7}, {"record", "B", 8}, checkpoint},
		},
		{
			name: "records of one item swapped",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Records[5], log.Records[6] = log.Records[6], log.Records[5]
			},
			want: []tamperProblem{{"record", "A", 5}, {"record", "A", 6}, checkpoint},
		},
		{
			name: "record duplicated",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Records = slices.Insert(log.Records, 4, bytes.Clone(log.Records[3]))
			},
			want: []tamperProblem{{"record", "B", 4}, checkpoint},
		},
		{
			name:   "log truncated below a checkpoint",
			tamper: func(t *testing.T, log *evidence.CaseLog) { log.Records = log.Records[:7] },
			want:   []tamperProblem{checkpoint},
			only:   true,
		},
		{
			name:   "last record deleted",
			tamper: func(t *testing.T, log *evidence.CaseLog) { log.Records = log.Records[:9] },
			want:   []tamperProblem{checkpoint},
			only:   true,
		},
		{
			name: "checkpoint size edited, signature kept",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Checkpoints[1].Note = editBytes(t, log.Checkpoints[1].Note, "\n10\n", "\n9\n")
			},
			want: []tamperProblem{signature},
		},
		{
			name: "checkpoint root edited, signature kept",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				cp := log.Checkpoints[1]
				log.Checkpoints[1].Note = editBytes(t, cp.Note, cp.Root.String(), log.Checkpoints[0].Root.String())
			},
			want: []tamperProblem{signature},
		},
		{
			name: "checkpoint origin edited, signature kept",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Checkpoints[0].Note = editBytes(t, log.Checkpoints[0].Note, "/CASE-TAMPER\n", "/CASE-TAMPEX\n")
			},
			want: []tamperProblem{signature},
		},
		{
			name: "checkpoint signature edited",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				note := log.Checkpoints[0].Note
				i := len(note) - 10 // inside the base64 signature
				if note[i] == 'A' {
					note[i] = 'B'
				} else {
					note[i] = 'A'
				}
			},
			want: []tamperProblem{signature},
		},
		{
			name: "checkpoint replaced by one of another key with the same name",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Checkpoints[1] = f.sameNameKey
			},
			want: []tamperProblem{signature},
			only: true,
		},
		{
			name: "checkpoint replaced by one of another key",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Checkpoints[1] = f.otherKey
			},
			want: []tamperProblem{signature},
			only: true,
		},
		{
			name: "checkpoint of another case added",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Checkpoints = append(log.Checkpoints, f.otherCase)
			},
			want: []tamperProblem{checkpoint},
			only: true,
		},
		{
			name:   "checkpoint's stored size differs from its note",
			tamper: func(t *testing.T, log *evidence.CaseLog) { log.Checkpoints[0].Size = 5 },
			want:   []tamperProblem{checkpoint},
			only:   true,
		},
		{
			name: "checkpoint's stored root differs from its note",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Checkpoints[0].Root = log.Checkpoints[1].Root
			},
			want: []tamperProblem{checkpoint},
			only: true,
		},
		{
			name: "item renamed after collection",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Items[itemIndex(t, log, "A")].Name = "A-clean.img"
			},
			want: []tamperProblem{{"item", "A", anyRecord}},
			only: true,
		},
		{
			name: "item digest changed after collection",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Items[itemIndex(t, log, "B")].Digests.SHA256 = custodyItem(tamperCase, "C").Digests.SHA256
			},
			want: []tamperProblem{{"item", "B", anyRecord}},
			only: true,
		},
		{
			name: "item collection time moved",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				it := &log.Items[itemIndex(t, log, "C")]
				it.CollectedAt = it.CollectedAt.Add(time.Hour)
			},
			want: []tamperProblem{{"item", "C", anyRecord}},
			only: true,
		},
		{
			name: "item label added",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				it := &log.Items[itemIndex(t, log, "C")]
				it.Labels = append(it.Labels, "cleared")
			},
			want: []tamperProblem{{"item", "C", anyRecord}},
			only: true,
		},
		{
			name: "item never collected added",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Items = append(log.Items, custodyItem(tamperCase, "Z"))
			},
			want: []tamperProblem{{"item", "Z", -1}},
			only: true,
		},
		{
			name: "collected item removed",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				log.Items = slices.Delete(log.Items, itemIndex(t, log, "B"), itemIndex(t, log, "B")+1)
			},
			want: []tamperProblem{{"item", "B", anyRecord}},
			only: true,
		},
		{
			name: "link to the previous record changed",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 5, func(r *evidence.Record) { r.Prev = 0 })
			},
			want: []tamperProblem{{"item link", "A", 5}, checkpoint},
		},
		{
			name: "link to another item's record",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 5, func(r *evidence.Record) { r.Prev = 3 })
			},
			want: []tamperProblem{{"item link", "A", 5}, checkpoint},
		},
		{
			name: "hash of the previous record changed",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 5, func(r *evidence.Record) { r.PrevHash = tlog.RecordHash(log.Records[0]).String() })
			},
			want: []tamperProblem{{"item link", "A", 5}, checkpoint},
		},
		{
			name: "item collected again after the last checkpoint, its description changed to match",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				last, err := evidence.DecodeRecord(log.Records[9])
				require.NoError(t, err)
				again := collectRecord(tamperCase, "A", custodyAt(10))
				again.Snapshot.Name = "A-clean.img"
				again.Index, again.Prev, again.PrevHash = 10, last.Index, tlog.RecordHash(log.Records[9]).String()
				data, err := again.Encode()
				require.NoError(t, err)
				log.Records = append(log.Records, data)
				log.Items[itemIndex(t, log, "A")].Name = "A-clean.img"
			},
			want: []tamperProblem{{"record|item link", "A", 10}},
		},
		{
			name: "collection turned into an access",
			tamper: func(t *testing.T, log *evidence.CaseLog) {
				editRecord(t, log, 4, func(r *evidence.Record) { r.Action, r.Snapshot = evidence.ActionAccessed, nil })
			},
			want: []tamperProblem{{"item link", "C", 4}, checkpoint},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log := cloneCaseLog(f.log)
			tc.tamper(t, &log)
			rep := verifyBoth(t, log, f.vkey, evidence.VerifyOptions{})
			assert.Equal(t, int64(len(log.Records)), rep.Size)
			requireProblems(t, rep, tc.want, tc.only)
		})
	}
}

// hashTamperedStore serves one stored tree hash altered.
type hashTamperedStore struct {
	evidence.LedgerStore
	index int64
}

func (s *hashTamperedStore) ReadHashes(ctx context.Context, c evidence.CaseID, indexes []int64) ([]evidence.Hash, error) {
	out, err := s.LedgerStore.ReadHashes(ctx, c, indexes)
	for i, x := range indexes {
		if err == nil && x == s.index {
			out[i][0] ^= 0x80
		}
	}
	return out, err
}

// TestLedgerVerifyDetectsStoreTampering checks that Ledger.Verify finds a
// tree hash altered in the store, whichever it is: the store serves proofs
// from those hashes.
func TestLedgerVerifyDetectsStoreTampering(t *testing.T) {
	t.Parallel()
	f := newTamperFixture(t)
	tests := []struct {
		name  string
		level int
		node  int64
	}{
		{"hash of records 0 to 7", 3, 0},
		{"hash of records 8 and 9", 1, 4},
		{"hash of record 0", 0, 0},
		{"hash of record 9", 0, 9},
		{"hash of records 4 to 7", 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mem := evidence.NewMemoryLedgerStore()
			key, _ := custodyKey(t, "custody.example.org", 1)
			clean, err := evidence.NewLedger(evidence.LedgerConfig{Store: mem, Key: key})
			require.NoError(t, err)
			for _, data := range f.log.Records {
				r, err := evidence.DecodeRecord(data)
				require.NoError(t, err)
				appendRecords(t, clean, r)
			}
			_, err = clean.Checkpoint(t.Context(), tamperCase)
			require.NoError(t, err)

			index := tlog.StoredHashIndex(tc.level, tc.node)
			l, err := evidence.NewLedger(evidence.LedgerConfig{Store: &hashTamperedStore{LedgerStore: mem, index: index}, Key: key})
			require.NoError(t, err)
			rep, err := l.Verify(t.Context(), tamperCase)
			require.NoError(t, err)
			// A leaf hash names its record; a hash above the leaves none.
			record := int64(-1)
			if tc.level == 0 {
				record = tc.node
			}
			requireProblems(t, rep, []tamperProblem{{"tree", "", record}}, true)
		})
	}
}

// TestRewrittenHistory rebuilds a case's log from scratch with the same
// key. The new log's own checkpoints verify, so only a checkpoint kept
// from before (by an auditor, a court, another system) shows the rewrite:
// the new log cannot prove it extends it.
func TestRewrittenHistory(t *testing.T) {
	t.Parallel()
	const c = "CASE-REWRITE"
	ctx := t.Context()
	key, vkey := custodyKey(t, "custody.example.org", 1)
	records := func(reason string, n int) []evidence.Record {
		recs := []evidence.Record{
			collectRecord(c, "A", custodyAt(0)),
			collectRecord(c, "B", custodyAt(1)),
			actRecord(c, "A", evidence.ActionTransferred, custodyAt(2)),
			actRecord(c, "B", evidence.ActionAnalyzed, custodyAt(3)),
			actRecord(c, "A", evidence.ActionCheckedIn, custodyAt(4)),
			actRecord(c, "A", evidence.ActionSealed, custodyAt(5)),
			actRecord(c, "B", evidence.ActionCopied, custodyAt(6)),
			actRecord(c, "A", evidence.ActionUnsealed, custodyAt(7)),
		}
		recs[2].Reason = reason
		return recs[:n]
	}
	newLedger := func() *evidence.Ledger {
		l, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
		require.NoError(t, err)
		return l
	}

	honest := newLedger()
	appendRecords(t, honest, records("handed to the courier", 5)...)
	kept, err := honest.Checkpoint(ctx, c)
	require.NoError(t, err)

	tests := []struct {
		name string
		size int // of the rewritten log
	}{
		{"same size", 5},
		{"grown", 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forger := newLedger()
			appendRecords(t, forger, records("kept by the analyst", tc.size)...)
			cp, err := forger.Checkpoint(ctx, c)
			require.NoError(t, err)

			log, err := forger.Export(ctx, c)
			require.NoError(t, err)
			require.Empty(t, verifyBoth(t, log, vkey, evidence.VerifyOptions{}).Problems, "the rewritten log verifies on its own")
			opened, err := evidence.OpenCheckpoint(cp.Note, vkey)
			require.NoError(t, err, "its checkpoint carries a good signature")
			require.Equal(t, kept.Origin, opened.Origin)

			proof, err := forger.ProveConsistency(ctx, c, kept.Size, cp.Size)
			require.NoError(t, err)
			err = evidence.CheckConsistency(proof, cp.Size, cp.Root, kept.Size, kept.Root)
			require.ErrorIs(t, err, evidence.ErrTampered, "the rewritten log does not extend the kept checkpoint")
			var te *evidence.TamperError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "consistency proof", te.What)

			log.Checkpoints = append(log.Checkpoints, kept)
			requireProblems(t, verifyBoth(t, log, vkey, evidence.VerifyOptions{}), []tamperProblem{{"checkpoint", "", -1}}, true)
		})
	}

	t.Run("honest growth", func(t *testing.T) {
		t.Parallel()
		grown := newLedger()
		appendRecords(t, grown, records("handed to the courier", 8)...)
		cp, err := grown.Checkpoint(ctx, c)
		require.NoError(t, err)
		proof, err := grown.ProveConsistency(ctx, c, kept.Size, cp.Size)
		require.NoError(t, err)
		require.NoError(t, evidence.CheckConsistency(proof, cp.Size, cp.Root, kept.Size, kept.Root))
	})
}

// forgedRecordStore hands out record 4 with a forged actor, re-encoded in
// canonical form as a careful forger would store it.
type forgedRecordStore struct {
	evidence.LedgerStore
	t *testing.T
}

func (s forgedRecordStore) Records(ctx context.Context, c evidence.CaseID, start, end int64) ([][]byte, error) {
	recs, err := s.LedgerStore.Records(ctx, c, start, end)
	if err != nil || start > 4 || end <= 4 {
		return recs, err
	}
	r, err := evidence.DecodeRecord(recs[4-start])
	require.NoError(s.t, err)
	r.Actor = evidence.Party{ID: "mallory", Name: "Mallory Quinn"}
	recs[4-start], err = r.Encode()
	require.NoError(s.t, err)
	return recs, nil
}

// TestCustodyReportMarksTheChangedRecord forges the actor of record 4 in
// the store: the verification names record 4 itself, not only record 5's
// link to it, and the report marks record 4 wherever it shows it.
func TestCustodyReportMarksTheChangedRecord(t *testing.T) {
	t.Parallel()
	const c = tamperCase
	l := newCustodyLedger(t)
	appendRecords(t, l,
		collectRecord(c, "A", custodyAt(0)),
		collectRecord(c, "B", custodyAt(1)),
		actRecord(c, "A", evidence.ActionTransferred, custodyAt(2)),
		actRecord(c, "B", evidence.ActionAnalyzed, custodyAt(3)),
		actRecord(c, "A", evidence.ActionCheckedOut, custodyAt(4)),
		actRecord(c, "A", evidence.ActionCheckedIn, custodyAt(5)),
		actRecord(c, "B", evidence.ActionSealed, custodyAt(6)),
	)
	_, err := l.Checkpoint(t.Context(), c)
	require.NoError(t, err)
	key, _ := custodyKey(t, "custody.example.org", 1)
	forged, err := evidence.NewLedger(evidence.LedgerConfig{Store: forgedRecordStore{l.Store(), t}, Key: key})
	require.NoError(t, err)
	log, err := forged.Export(t.Context(), c)
	require.NoError(t, err)

	check := func(t *testing.T, rep *evidence.Report, report string) {
		t.Helper()
		requireProblems(t, rep, []tamperProblem{{"item link", "A", 5}, {"record", "A", 4}}, false)
		require.Contains(t, report, "Problems found:")
		lines := strings.Split(report, "\n")
		var marked4, marked5 int
		for _, line := range lines {
			if strings.HasPrefix(line, "| **4 ⚠ problem") {
				marked4++
			}
			if strings.HasPrefix(line, "| **5 ⚠ problem") {
				marked5++
			}
		}
		assert.Equal(t, 2, marked4, "record 4 is marked in its exhibit's timeline and among the leaf hashes")
		assert.Equal(t, 2, marked5, "record 5, whose link is broken, is marked too")
		assert.NotContains(t, report, "| **3 ⚠", "record 3 is not marked")
	}
	t.Run("offline", func(t *testing.T) {
		t.Parallel()
		rep := verifyBoth(t, log, l.VerifierKey(), evidence.VerifyOptions{})
		var out bytes.Buffer
		require.NoError(t, custodyreport.Render(&out, log, l.VerifierKey(), rep, custodyreport.Options{}))
		check(t, rep, out.String())
	})
	t.Run("ledger", func(t *testing.T) {
		t.Parallel()
		rep, err := forged.Verify(t.Context(), c)
		require.NoError(t, err)
		requireProblems(t, rep, []tamperProblem{{"tree", "", 4}}, false)
		var out bytes.Buffer
		require.NoError(t, custodyreport.WriteLedger(t.Context(), &out, forged, c, custodyreport.Options{}))
		check(t, rep, out.String())
	})
}

package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// plainStore hides the optional interfaces of the store it wraps, so a
// ledger over it takes the general path.
type plainStore struct{ LedgerStore }

func TestStoredHashesMatchTlog(t *testing.T) {
	t.Parallel()
	var hashes []Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		out := make([]Hash, len(indexes))
		for i, x := range indexes {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for n := range int64(3000) {
		data := fmt.Appendf(nil, "record %d", n)
		want, err := tlog.StoredHashes(n, data, reader)
		if err != nil {
			t.Fatal(err)
		}
		var siblings []Hash
		for _, x := range siblingIndexes(nil, n) {
			siblings = append(siblings, hashes[x])
		}
		if got := storedHashes(nil, data, siblings); !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d: stored hashes %v, want %v", n, got, want)
		}
		hashes = append(hashes, want...)
	}
}

// appendRecords returns records to append: valid ones of several items,
// and invalid ones of every kind checkRecord refuses.
func appendRecords(rng *rand.Rand, c CaseID, n int) []Record {
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+30*60), time.FixedZone("", 61), time.FixedZone("", -8*3600)}
	var items []ItemID
	out := make([]Record, 0, n)
	for i := range n {
		at := time.Unix(1.7e9+int64(i), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
		if len(items) == 0 || rng.IntN(20) == 0 {
			id := ItemID(fmt.Sprintf("ITEM-%d", len(items)))
			items = append(items, id)
			out = append(out, Record{Case: c, Item: id, Action: ActionCollected, Actor: Party{ID: "alice"}, At: at,
				Snapshot: &Item{ID: id, CaseID: c, Name: strings.ReplaceAll(codecString(rng), "\x00", "0"), Kind: KindLog, Digests: Digests{SHA256: strings.Repeat("ab", 32)},
					CollectedBy: Party{ID: "alice"}, CollectedAt: at, Labels: slices.DeleteFunc(codecStrings(rng), func(s string) bool { return strings.Contains(s, "\x00") })}})
			continue
		}
		r := Record{Case: c, Item: items[rng.IntN(len(items))], Action: actions[1+rng.IntN(len(actions)-1)],
			Actor: codecParty(rng), Authority: codecString(rng), Location: codecString(rng), At: at,
			Reason: codecString(rng), Tool: codecString(rng), Notes: codecString(rng)}
		if r.Actor.ID == "" && rng.IntN(4) > 0 {
			r.Actor.ID = "bob"
		}
		if r.Action == ActionTransferred || rng.IntN(10) == 0 {
			r.From, r.To = codecParty(rng), Party{ID: "carol"}
		}
		switch rng.IntN(40) {
		case 0:
			r.Digest = strings.Repeat("0f", 32)
		case 1:
			r.Digest = strings.Repeat("0F", 32)
		case 2:
			r.Action = "Accessed "
		case 3:
			r.Action = "bogus"
		case 4:
			r.Item = "NEVER-COLLECTED"
		case 5:
			r.Item = ""
		case 6:
			r.At = time.Time{}
		case 7:
			r.PrevHash = "\xff"
		case 8:
			r.Case = "CASE WITH SPACE"
		case 9:
			r.Snapshot = &Item{ID: r.Item, CaseID: c}
		case 10:
			r.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		case 11:
			r.Item += "\xc3"
		}
		if rng.IntN(20) > 0 {
			// Most records hold no NUL byte, which a ledger refuses.
			dropNUL(&r)
		}
		out = append(out, r)
	}
	return out
}

// dropNUL replaces the NUL bytes of a record's text.
func dropNUL(r *Record) {
	for _, s := range []*string{&r.Authority, &r.Location, &r.Reason, &r.Tool, &r.Notes,
		&r.Actor.ID, &r.Actor.Name, &r.Actor.Organization, &r.From.ID, &r.From.Name, &r.From.Organization} {
		*s = strings.ReplaceAll(*s, "\x00", "0")
	}
}

func TestCheckRecordTail(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	check := func(r Record) {
		t.Helper()
		tail, err := checkRecordTail(nil, r)
		want := checkRecord(r)
		if (err == nil) != (want == nil) || err != nil && err.Error() != want.Error() {
			t.Fatalf("checkRecordTail(%#v): %v, checkRecord gives %v", r, err, want)
		}
		if tail == nil {
			return
		}
		if err != nil || r.Action == ActionCollected || r.Snapshot != nil {
			t.Fatalf("checkRecordTail(%#v) encoded a tail with error %v", r, err)
		}
		full, ferr := appendRecord(nil, r)
		head := appendRecordHead(nil, r)
		if ferr != nil || !bytes.Equal(full, append(head, tail...)) {
			t.Fatalf("checkRecordTail(%#v) = %s; appendRecord gives %s, %v", r, tail, full, ferr)
		}
	}
	for range 20000 {
		check(codecRecord(rng))
	}
	for _, r := range appendRecords(rng, "CASE-TAIL", 5000) {
		check(r)
	}
}

func TestAppendMatchesPrepare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const c = "CASE-APPEND"
	key, _, err := GenerateKey("custody.example.org")
	if err != nil {
		t.Fatal(err)
	}
	fast, err := NewLedger(LedgerConfig{Store: NewMemoryLedgerStore(), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	plain := plainStore{NewMemoryLedgerStore()}
	general, err := NewLedger(LedgerConfig{Store: plain, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	appended := 0
	for i, r := range appendRecords(rng, c, 3000) {
		got, gotErr := fast.Append(ctx, r)
		want, a, wantErr := general.Prepare(ctx, r)
		if wantErr == nil {
			if err := plain.Append(ctx, a); err != nil {
				t.Fatal(err)
			}
			appended++
		}
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("record %d: Append error %v, Prepare error %v", i, gotErr, wantErr)
		}
		if gotErr != nil && !errors.Is(gotErr, ErrInvalid) && !errors.Is(gotErr, ErrNotFound) {
			t.Fatalf("record %d: unexpected error %v", i, gotErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d: Append gives %#v, Prepare %#v", i, got, want)
		}
	}
	if appended < 1000 {
		t.Fatalf("only %d records appended", appended)
	}
	a, err := fast.Export(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := general.Export(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Records) != appended || !reflect.DeepEqual(a.Records, b.Records) {
		t.Fatalf("the logs differ: %d and %d records", len(a.Records), len(b.Records))
	}
	ha, err := fast.Store().ReadHashes(ctx, c, seq(tlog.StoredHashCount(int64(appended))))
	if err != nil {
		t.Fatal(err)
	}
	hb, err := plain.ReadHashes(ctx, c, seq(tlog.StoredHashCount(int64(appended))))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ha, hb) {
		t.Fatal("the stored tree hashes differ")
	}
	for _, l := range []*Ledger{fast, general} {
		if _, err := l.Checkpoint(ctx, c); err != nil {
			t.Fatal(err)
		}
		rep, err := l.Verify(ctx, c)
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %v, %v", err, rep.Err())
		}
	}
}

func seq(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

package evidence

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

var codecPieces = []string{
	"", "a", "abc", "EX-001", "disk image", `"`, `\`, "/", "<", ">", "&", "\u2028", "\u2029",
	"\b", "\f", "\n", "\r", "\t", "\x00", "\x01", "\x1f", "\x7f", "é", "日本", "😀", "\ufffd",
	"'", " ", "<script>", "a&b", "\u00a0",
}

// codecBadPieces are invalid UTF-8: such strings encode, but not canonically.
var codecBadPieces = []string{"\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80"}

func codecString(rng *rand.Rand) string {
	if rng.IntN(4) == 0 {
		return ""
	}
	var b strings.Builder
	for n := rng.IntN(5); n >= 0; n-- {
		if rng.IntN(400) == 0 {
			b.WriteString(codecBadPieces[rng.IntN(len(codecBadPieces))])
			continue
		}
		b.WriteString(codecPieces[rng.IntN(len(codecPieces))])
	}
	return b.String()
}

func codecStrings(rng *rand.Rand) []string {
	switch rng.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	v := make([]string, 1+rng.IntN(3))
	for i := range v {
		v[i] = codecString(rng)
	}
	return v
}

func codecTime(rng *rand.Rand) time.Time {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 0), time.FixedZone("X", 5*3600+30*60),
		time.FixedZone("", -8*3600), time.FixedZone("", 23*3600+59*60), time.FixedZone("", 24*3600),
		time.FixedZone("", 61), time.FixedZone("", -(13*3600 + 45*60))}
	if rng.IntN(10) == 0 {
		return time.Time{}
	}
	sec := rng.Int64N(400*365*86400) + time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	if rng.IntN(30) == 0 {
		sec = time.Date(9999+rng.IntN(3)-1, 12, 31, 23, 0, 0, 0, time.UTC).Unix()
	}
	if rng.IntN(30) == 0 {
		sec = time.Date(rng.IntN(3)-1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	}
	var nsec int64
	switch rng.IntN(4) {
	case 1:
		nsec = rng.Int64N(1000) * 1e6
	case 2:
		nsec = rng.Int64N(1e9)
	case 3:
		nsec = rng.Int64N(10) * 1e8
	}
	return time.Unix(sec, nsec).In(zones[rng.IntN(len(zones))])
}

func codecParty(rng *rand.Rand) Party {
	if rng.IntN(3) == 0 {
		return Party{}
	}
	return Party{ID: codecString(rng), Name: codecString(rng), Organization: codecString(rng)}
}

func codecKind(rng *rand.Rand) Kind {
	switch rng.IntN(10) {
	case 0:
		return ""
	case 1:
		return "bogus"
	case 2:
		return " Disk_Image"
	}
	return kinds[rng.IntN(len(kinds))]
}

func codecAction(rng *rand.Rand) Action {
	switch rng.IntN(12) {
	case 0:
		return ""
	case 1:
		return "bogus"
	case 2:
		return "COLLECTED "
	}
	return actions[rng.IntN(len(actions))]
}

func codecRecord(rng *rand.Rand) Record {
	r := Record{
		Case: CaseID(codecString(rng)), Index: rng.Int64N(1 << 40), Item: ItemID(codecString(rng)),
		Prev: rng.Int64N(1<<20) - 1, PrevHash: codecString(rng), Action: codecAction(rng),
		Actor: codecParty(rng), Authority: codecString(rng), From: codecParty(rng), To: codecParty(rng),
		Location: codecString(rng), At: codecTime(rng), Reason: codecString(rng), Tool: codecString(rng),
		Digest: codecString(rng), Notes: codecString(rng),
	}
	if rng.IntN(3) == 0 {
		r.Index = -rng.Int64N(1 << 62)
	}
	if rng.IntN(2) == 0 {
		it := &Item{
			ID: ItemID(codecString(rng)), CaseID: CaseID(codecString(rng)), Exhibit: codecString(rng),
			Name: codecString(rng), Kind: codecKind(rng), MediaType: codecString(rng), Size: rng.Int64N(1 << 50),
			Digests:     Digests{SHA256: codecString(rng), SHA1: codecString(rng), MD5: codecString(rng)},
			CollectedBy: codecParty(rng), CollectedAt: codecTime(rng), Location: codecString(rng),
			Labels: codecStrings(rng),
		}
		if rng.IntN(2) == 0 {
			it.Source = Source{Host: codecString(rng), Path: codecString(rng), SerialNumber: codecString(rng),
				Network: codecStrings(rng), Description: codecString(rng)}
		}
		r.Snapshot = it
	}
	return r
}

// prepared returns the record as Encode hands it to encoding/json.
func prepared(r Record) Record {
	if r.Snapshot != nil {
		snap := r.Snapshot.Clone()
		r.Snapshot = &snap
	}
	return r
}

// checkDecode checks DecodeRecord agrees with the encoding/json path on
// data, in result and acceptance.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := DecodeRecord(data)
	want, wantErr := decodeRecordJSON(data)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("DecodeRecord(%q): error %v, want %v", data, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeRecord(%q) = %#v, want %#v", data, got, want)
	}
	if r, ok := decodeRecordFast(data); ok {
		if wantErr != nil || !reflect.DeepEqual(r, want) {
			t.Fatalf("decodeRecordFast(%q) accepted %#v; encoding/json gives %#v, %v", data, r, want, wantErr)
		}
	}
	checkStrictDecode(t, data)
}

// checkStrictDecode checks the strict decoder accepts exactly what the
// re-encoding decoder accepts, with the same record, and that its
// validation agrees with checkRecord.
func checkStrictDecode(t *testing.T, data []byte) {
	t.Helper()
	want, wantOK := decodeRecordReencode(data)
	// A decoder that decoded other records before, as in use.
	d := recordDecoders.Get().(*recordDecoder)
	defer recordDecoders.Put(d)
	var got Record
	gotOK := d.decode(data, &got)
	if gotOK != wantOK {
		t.Fatalf("strict decode of %q: ok %v, re-encoding decoder: ok %v", data, gotOK, wantOK)
	}
	if !gotOK {
		return
	}
	if !reflect.DeepEqual(got, want) || !got.At.Equal(want.At) || got.At.Location().String() != want.At.Location().String() {
		t.Fatalf("strict decode of %q = %#v, want %#v", data, got, want)
	}
	if err := checkEncodable(got); err != nil {
		t.Fatalf("strict decode of %q gave a record that is not encodable: %v", data, err)
	}
	// Twice: the second time with the case ID cached.
	for range 2 {
		gotErr, wantErr := d.validate(&got, data), checkRecord(got)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("validate(%q) = %v, checkRecord gives %v", data, gotErr, wantErr)
		}
	}
	// Decoding again with the same decoder (interned strings, cached
	// zones) gives the same record.
	var again Record
	if !d.decode(data, &again) || !reflect.DeepEqual(again, want) {
		t.Fatalf("second strict decode of %q = %#v, want %#v", data, again, want)
	}
	if h, err := tlog.ParseHash(got.PrevHash); true {
		if g, ok := parseHash(got.PrevHash); ok != (err == nil) || g != h {
			t.Fatalf("parseHash(%q) = %v, %v; tlog.ParseHash gives %v, %v", got.PrevHash, g, ok, h, err)
		}
	}
}

func TestRecordCodecDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	accepted := 0
	for range n {
		r := prepared(codecRecord(rng))
		want, wantErr := json.Marshal(r)
		got, gotErr := appendRecord(nil, r)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("appendRecord(%#v): error %v, json.Marshal error %v", r, gotErr, wantErr)
		}
		enc, encErr := r.Encode()
		if (encErr == nil) != (wantErr == nil) || encErr != nil && encErr.Error() != wantErr.Error() {
			t.Fatalf("Encode error %v, want %v", encErr, wantErr)
		}
		if wantErr != nil {
			continue
		}
		if !bytes.Equal(got, want) || !bytes.Equal(enc, want) {
			t.Fatalf("appendRecord(%#v):\n got %s\nwant %s", r, got, want)
		}
		checkDecode(t, want)
		if _, err := DecodeRecord(want); err == nil {
			accepted++
			if _, ok := decodeRecordFast(want); !ok {
				t.Errorf("decodeRecordFast refused canonical %s", want)
			}
		}
		// Mutations: mostly non-canonical, some still canonical.
		for range 3 {
			m := bytes.Clone(want)
			switch rng.IntN(4) {
			case 0:
				m[rng.IntN(len(m))] ^= byte(1 << rng.IntN(8))
			case 1:
				i := rng.IntN(len(m))
				m = append(m[:i], m[i+1:]...)
			case 2:
				i := rng.IntN(len(m) + 1)
				m = append(m[:i], append([]byte{`" \,:{}[]0u`[rng.IntN(11)]}, m[i:]...)...)
			case 3:
				m = bytes.ReplaceAll(m, []byte(`"`), []byte(`"\u00`))
			}
			checkDecode(t, m)
		}
	}
	if accepted < n/4 {
		t.Errorf("only %d of %d generated records decoded", accepted, n)
	}
}

func TestRecordCodecEmptySource(t *testing.T) {
	// Not prepared by Encode: a non-nil empty Network makes Source non-zero.
	r := Record{Action: ActionCollected, Snapshot: &Item{Kind: KindFile, Source: Source{Network: []string{}}, Labels: []string{}}}
	want, _ := json.Marshal(r)
	got, err := appendRecord(nil, r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("appendRecord = %s, %v; want %s", got, err, want)
	}
}

func FuzzRecordCodec(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		if b, err := prepared(codecRecord(rng)).Encode(); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"case":"c","index":0,"item":"i","prev":-1,"action":"collected","actor":{"id":"a"},"at":"2024-01-02T03:04:05Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		var r Record
		if json.Unmarshal(data, &r) != nil {
			return
		}
		r = prepared(r)
		want, wantErr := json.Marshal(r)
		got, gotErr := appendRecord(nil, r)
		if (gotErr == nil) != (wantErr == nil) || wantErr == nil && !bytes.Equal(got, want) {
			t.Fatalf("appendRecord(%#v) = %s, %v; json.Marshal gives %s, %v", r, got, gotErr, want, wantErr)
		}
	})
}

// validRecord returns a record of rng that checkRecord accepts, encoded.
func validRecord(rng *rand.Rand) []byte {
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+30*60), time.FixedZone("", -8*3600)}
	r := Record{
		Case: "CASE-1", Index: rng.Int64N(1 << 20), Item: ItemID("ITEM-" + codecString(rng)), Prev: -1,
		Action: actions[rng.IntN(len(actions))], Actor: Party{ID: "alice", Name: codecString(rng)},
		At:     time.Unix(rng.Int64N(1<<31), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))]),
		Reason: codecString(rng), Location: codecString(rng),
	}
	if rng.IntN(2) == 0 {
		r.Prev, r.PrevHash = rng.Int64N(r.Index+1), tlog.RecordHash([]byte(r.Reason)).String()
	}
	switch r.Action {
	case ActionCollected:
		r.Snapshot = &Item{ID: r.Item, CaseID: r.Case, Kind: KindFile, Digests: Digests{SHA256: strings.Repeat("ab", 32)},
			CollectedBy: r.Actor, CollectedAt: r.At, Labels: codecStrings(rng)}
	case ActionTransferred:
		r.From, r.To = r.Actor, Party{ID: "bob"}
	case ActionVerified:
		r.Digest = strings.Repeat("0f", 32)
	}
	b, err := r.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzStrictDecode checks the strict decoder against the decoder that
// re-encodes: the same records accepted, the same records decoded, and
// validation that agrees with checkRecord.
func FuzzStrictDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		if b, err := prepared(codecRecord(rng)).Encode(); err == nil {
			f.Add(b)
		}
		f.Add(validRecord(rng))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStrictDecode(t, data)
	})
}

// FuzzStrictTime checks the strict decoder's times against
// time.Time.UnmarshalJSON and the encoder: a time is accepted exactly when
// it decodes and encodes back to the same text, and decodes to the same
// value.
func FuzzStrictTime(f *testing.F) {
	for _, s := range []string{
		"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.123456789+05:30",
		"2024-02-29T23:59:59-08:00", "2023-02-29T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999-23:59",
		"2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05.10Z", "2024-01-02T03:04:05.1234567891Z", "2024-01-02T24:00:00Z",
		"2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05+01:60", "2024-13-02T03:04:05Z", "2024-01-02t03:04:05z",
		"2024-01-02T03:04:05.Z", "2024-01-02T03:04:60Z", "-001-01-01T00:00:00Z", "2024-01-02T03:04:05+1:00",
		"1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-02T03:04:05.000000001+14:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := []byte(`"` + s + `"`)
		var want time.Time
		wantOK := want.UnmarshalJSON(raw) == nil
		if wantOK {
			again, err := codecAppendTime(nil, want)
			wantOK = err == nil && bytes.Equal(again, raw)
		}
		d := newRecordDecoder()
		d.data, d.ok = raw, true
		got := d.time()
		gotOK := d.ok && d.pos == len(raw)
		if gotOK != wantOK {
			t.Fatalf("strict time %q: ok %v, want %v (%v)", s, gotOK, wantOK, want)
		}
		if gotOK && (!reflect.DeepEqual(got, want) || !got.Equal(want) || got.Location().String() != want.Location().String()) {
			t.Fatalf("strict time %q = %#v, want %#v", s, got, want)
		}
	})
}

func TestStrictDecodeValidRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		data := validRecord(rng)
		checkDecode(t, data)
		if _, err := decodeRecordJSON(data); err == nil {
			if _, ok := decodeRecordFast(data); !ok {
				t.Fatalf("strict decoder refused canonical %s", data)
			}
		}
		for range 3 {
			m := bytes.Clone(data)
			m[rng.IntN(len(m))] ^= byte(1 << rng.IntN(8))
			checkDecode(t, m)
		}
	}
}

func TestDaysSinceEpoch(t *testing.T) {
	for y := 0; y <= 9999; y++ {
		for _, m := range []int{1, 2, 3, 12} {
			for _, d := range []int{1, daysInMonth(y, m)} {
				want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
				if want.Day() != d {
					t.Fatalf("daysInMonth(%d, %d) = %d", y, m, d)
				}
				if got := daysSinceEpoch(y, m, d); got*86400 != want.Unix() {
					t.Fatalf("daysSinceEpoch(%d, %d, %d) = %d, want %d", y, m, d, got, want.Unix()/86400)
				}
			}
		}
	}
}

package evidence_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

var allActions = []evidence.Action{
	evidence.ActionCollected, evidence.ActionTransferred, evidence.ActionCheckedOut,
	evidence.ActionCheckedIn, evidence.ActionAccessed, evidence.ActionAnalyzed,
	evidence.ActionCopied, evidence.ActionVerified, evidence.ActionSealed,
	evidence.ActionUnsealed, evidence.ActionReleased, evidence.ActionDisposed,
	evidence.ActionAccessDenied,
}

func TestParseAction(t *testing.T) {
	t.Parallel()
	for _, a := range allActions {
		t.Run(string(a), func(t *testing.T) {
			t.Parallel()
			for _, s := range []string{string(a), strings.ToUpper(string(a)), " " + string(a) + "\t"} {
				got, err := evidence.ParseAction(s)
				require.NoError(t, err, "ParseAction(%q)", s)
				assert.Equal(t, a, got, "ParseAction(%q)", s)
			}
			text, err := a.MarshalText()
			require.NoError(t, err)
			assert.Equal(t, string(a), string(text))
			var back evidence.Action
			require.NoError(t, back.UnmarshalText(text))
			assert.Equal(t, a, back)
			assert.Equal(t, string(a), a.String())
		})
	}
	for _, s := range []string{"", "shredded", "collected!", "check out"} {
		_, err := evidence.ParseAction(s)
		require.ErrorIs(t, err, evidence.ErrInvalid, "ParseAction(%q)", s)
		_, err = evidence.Action(s).MarshalText()
		require.ErrorIs(t, err, evidence.ErrInvalid, "MarshalText of %q", s)
		var a evidence.Action
		require.ErrorIs(t, a.UnmarshalText([]byte(s)), evidence.ErrInvalid, "UnmarshalText of %q", s)
	}
}

// custodyRecords returns records of every shape: a collection with a full
// snapshot, a transfer, a minimal record and one with every field set.
func custodyRecords() map[string]evidence.Record {
	const c = "CASE-ENC"
	full := actRecord(c, "A", evidence.ActionVerified, time.Date(2026, 3, 2, 23, 59, 59, 999999999, time.FixedZone("", 13*60*60+45*60)))
	full.Index, full.Prev, full.PrevHash = 12, 7, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	full.Authority = "court order 55/2026"
	full.From, full.To = custodian, courier
	full.Tool = "sha256sum (GNU coreutils) 9.4"
	full.Digest = custodyItem(c, "A").Digests.SHA256
	full.Notes = "seal intact; bag 4471 <ok> & signed"

	collected := collectRecord(c, "A", custodyT0)
	collected.Snapshot.Digests.SHA1 = strings.Repeat("ab", 20)
	collected.Snapshot.Digests.MD5 = strings.Repeat("cd", 16)

	minimal := evidence.Record{Case: c, Item: "B", Action: evidence.ActionAccessDenied, Actor: evidence.Party{ID: "mallory"}, At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}

	emptyNetwork := collectRecord(c, "C", custodyT0)
	emptyNetwork.Snapshot.Source = evidence.Source{Network: []string{}}

	return map[string]evidence.Record{
		"collected":            collected,
		"transferred":          actRecord(c, "A", evidence.ActionTransferred, custodyAt(3)),
		"minimal":              minimal,
		"every field":          full,
		"empty source network": emptyNetwork,
	}
}

func TestRecordEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	for name, r := range custodyRecords() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := r.Encode()
			require.NoError(t, err)
			again, err := r.Encode()
			require.NoError(t, err)
			require.Equal(t, string(data), string(again), "the same record encodes to the same bytes")

			got, err := evidence.DecodeRecord(data)
			require.NoError(t, err, "DecodeRecord of what Encode made: %s", data)
			back, err := got.Encode()
			require.NoError(t, err)
			assert.Equal(t, string(data), string(back))

			assert.True(t, r.At.Equal(got.At), "At %s, want %s", got.At, r.At)
			_, wantOff := r.At.Zone()
			_, gotOff := got.At.Zone()
			assert.Equal(t, wantOff, gotOff, "At keeps its zone offset")
			got.At = r.At
			if r.Snapshot != nil {
				require.NotNil(t, got.Snapshot)
				assert.True(t, r.Snapshot.CollectedAt.Equal(got.Snapshot.CollectedAt))
				got.Snapshot.CollectedAt = r.Snapshot.CollectedAt
				want := r.Snapshot.Clone()
				r.Snapshot = &want
			}
			assert.Equal(t, r, got)
		})
	}
}

func TestDecodeRecordRefusesNonCanonical(t *testing.T) {
	t.Parallel()
	r := actRecord("CASE-ENC", "A", evidence.ActionTransferred, custodyT0)
	r.Index, r.Prev, r.PrevHash = 3, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	r.Notes = "bag <4471> & seal"
	data, err := r.Encode()
	require.NoError(t, err)
	canonical := string(data)
	_, err = evidence.DecodeRecord(data)
	require.NoError(t, err)

	reordered := func() string {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(data, &m))
		out, err := json.Marshal(m) // keys in sorted order, not field order
		require.NoError(t, err)
		require.NotEqual(t, canonical, string(out))
		return string(out)
	}
	tests := []struct {
		name string
		data string
	}{
		{"keys reordered", reordered()},
		{"space after a colon", strings.Replace(canonical, `"index":3`, `"index": 3`, 1)},
		{"space between fields", strings.Replace(canonical, `,"item"`, `, "item"`, 1)},
		{"indented", func() string {
			out, err := json.MarshalIndent(r, "", "  ")
			require.NoError(t, err)
			return string(out)
		}()},
		{"trailing newline", canonical + "\n"},
		{"leading space", " " + canonical},
		{"unknown action", strings.Replace(canonical, `"action":"transferred"`, `"action":"shredded"`, 1)},
		{"action in upper case", strings.Replace(canonical, `"action":"transferred"`, `"action":"TRANSFERRED"`, 1)},
		{"key in another case", strings.Replace(canonical, `"reason"`, `"Reason"`, 1)},
		{"unknown field", strings.Replace(canonical, `{"case"`, `{"extra":1,"case"`, 1)},
		{"duplicate field", strings.Replace(canonical, `{"case":"CASE-ENC"`, `{"case":"CASE-OTHER","case":"CASE-ENC"`, 1)},
		{"HTML not escaped", strings.Replace(canonical, `\u003c4471\u003e`, `<4471>`, 1)},
		{"character escaped needlessly", strings.Replace(canonical, `"CASE-ENC"`, `"\u0043ASE-ENC"`, 1)},
		{"index as a float", strings.Replace(canonical, `"index":3`, `"index":3.0`, 1)},
		{"empty optional field", strings.Replace(canonical, `,"from"`, `,"authority":"","from"`, 1)},
		{"not JSON", "collected A by alice"},
		{"empty", ""},
		{"JSON null", "null"},
		{"JSON array", "[" + canonical + "]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.NotEqual(t, canonical, tc.data, "the test case changes the encoding")
			_, err := evidence.DecodeRecord([]byte(tc.data))
			require.ErrorIs(t, err, evidence.ErrInvalid, "DecodeRecord(%s)", tc.data)
		})
	}
}

// TestPrevHashIsBase64LeafHash checks a record's PrevHash is its item's
// previous record's RFC 6962 leaf hash in standard base64, through both
// paths of Append (a collected record's successor and later ones).
func TestPrevHashIsBase64LeafHash(t *testing.T) {
	t.Parallel()
	const c = "CASE-PREV"
	l := newCustodyLedger(t)
	recs := appendRecords(t, l,
		collectRecord(c, "A", custodyAt(0)),
		actRecord(c, "A", evidence.ActionTransferred, custodyAt(1)),
		actRecord(c, "A", evidence.ActionAnalyzed, custodyAt(2)),
	)
	raw, err := l.Store().Records(t.Context(), c, 0, 3)
	require.NoError(t, err)
	assert.Empty(t, recs[0].PrevHash, "an item's first record")
	for i := 1; i < 3; i++ {
		leaf := tlog.RecordHash(raw[i-1])
		assert.Equal(t, base64.StdEncoding.EncodeToString(leaf[:]), recs[i].PrevHash, "record %d", i)
		stored, err := evidence.DecodeRecord(raw[i])
		require.NoError(t, err)
		assert.Equal(t, recs[i].PrevHash, stored.PrevHash, "record %d as stored", i)
		assert.Contains(t, string(raw[i]), `"prev_hash":"`+leaf.String()+`"`)
	}
}

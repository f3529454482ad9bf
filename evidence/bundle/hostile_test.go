package bundle_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// hostileCase is the case of the bundles an attacker makes.
const hostileCase evidence.CaseID = "C1"

// exhaustingBundle returns the bundle an attacker makes to exhaust a
// verifier: records two-byte records ("x" and a newline), and checkpoints
// empty checkpoints ({}) each with an empty consistency proof ([]), the
// smallest encodings, under a manifest otherwise well formed, carrying
// the attacker's own key, as whoever makes a bundle can.
func exhaustingBundle(t testing.TB, records, checkpoints int) []byte {
	t.Helper()
	_, vkey := bundleKey(t, "attacker.example", 66)
	var m strings.Builder
	fmt.Fprintf(&m, `{"format":%q,"version":%d,"case":%q,"origin":"attacker.example/%s",`,
		bundle.Format, bundle.Version, hostileCase, hostileCase)
	fmt.Fprintf(&m, `"verifier_key":%q,"key_fingerprint":%q,"records":%d,"items":[],"checkpoints":[`,
		vkey, evidence.KeyFingerprint(vkey), records)
	m.WriteString(strings.TrimSuffix(strings.Repeat("{},", checkpoints), ","))
	m.WriteString(`],"consistency_proofs":[`)
	m.WriteString(strings.TrimSuffix(strings.Repeat("[],", checkpoints), ","))
	m.WriteString(`],"blobs_included":false,"blobs":[]}`)
	return writeBundleEntries(t, []bundleEntry{
		{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "manifest.json", Mode: 0o644}, body: []byte(m.String())},
		{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "records.jsonl", Mode: 0o644}, body: bytes.Repeat([]byte("x\n"), records)},
	})
}

// heapInUse returns the bytes of live heap objects, after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.HeapAlloc
}

// A bundle of many tiny records, each a problem, is verified with a report
// of bounded size: the first problems, and a count of the rest. What stays
// in memory is the records, a few dozen bytes each, not hundreds of bytes
// a problem.
// It does not run in parallel, so that it measures only its own heap.
func TestVerifyHostileRecords(t *testing.T) {
	const n = 1 << 16 // millions in an attack: the same, scaled down
	data := exhaustingBundle(t, n, 0)
	limits := bundle.Limits{MaxRecords: n}
	before := heapInUse()
	b, err := bundle.Read(t.Context(), bytes.NewReader(data), nil, limits)
	require.NoError(t, err)
	rep, err := b.Verify(bundle.Trust{})
	require.NoError(t, err)
	retained := int64(heapInUse()) - int64(before)
	runtime.KeepAlive(b)

	require.False(t, rep.OK())
	assert.Len(t, rep.Problems, evidence.DefaultMaxProblems, "the problems listed are capped")
	assert.Equal(t, n+1, rep.ProblemCount(), "every record, and no checkpoint signing them")
	assert.Equal(t, n+1-evidence.DefaultMaxProblems, rep.Omitted)
	assert.Equal(t, fmt.Sprintf("FAILED: %d problems, the first %d listed", n+1, evidence.DefaultMaxProblems), rep.Verdict())
	assert.Less(t, retained, int64(48*n+1<<20), "retained for %d records of %d bytes", n, len(data))

	t.Run("lower cap", func(t *testing.T) {
		limits := limits
		limits.MaxProblems = 3
		b, err := bundle.Read(t.Context(), bytes.NewReader(data), nil, limits)
		require.NoError(t, err)
		rep, err := b.Verify(bundle.Trust{})
		require.NoError(t, err)
		assert.Len(t, rep.Problems, 3)
		assert.Equal(t, n+1-3, rep.Omitted)
	})
	t.Run("more records than the limit", func(t *testing.T) {
		_, err := bundle.Read(t.Context(), bytes.NewReader(data), nil, bundle.Limits{MaxRecords: n - 1})
		require.ErrorIs(t, err, evidence.ErrInvalid)
		assert.ErrorContains(t, err, fmt.Sprintf("%d records, more than the limit of %d", n, n-1))
		assert.ErrorContains(t, err, "Limits.MaxRecords: custody-verify -max-records")
	})
}

// A manifest of millions of empty checkpoints and proofs is refused as soon
// as it passes the limit, without decoding the rest; within the limit, it
// is refused if it has more checkpoints than records.
// It does not run in parallel, so that it counts only its own allocations.
func TestReadHostileCheckpoints(t *testing.T) {
	const n = 1 << 20 // ten times more in an attack: the same, scaled down
	data := exhaustingBundle(t, 1, n)
	before := bundleAllocated()
	_, err := bundle.Read(t.Context(), bytes.NewReader(data), nil, bundle.Limits{})
	allocated := bundleAllocated() - before
	require.ErrorIs(t, err, evidence.ErrInvalid)
	assert.ErrorContains(t, err, fmt.Sprintf("%d checkpoints or more, more than the limit of %d", bundle.DefaultMaxCheckpoints+1, bundle.DefaultMaxCheckpoints))
	assert.ErrorContains(t, err, "Limits.MaxCheckpoints: custody-verify -max-checkpoints")
	assert.Less(t, allocated, uint64(4*len(data)+8<<20), "allocated refusing a manifest of %d bytes", len(data))

	for _, tc := range []struct {
		name              string
		records, cps      int
		limits            bundle.Limits
		says              string
		proofsBeforeLimit bool
	}{
		{name: "more checkpoints than records", records: 10, cps: 11,
			says: "11 checkpoints for 10 records: each checkpoint signs a distinct size of the log"},
		{name: "more checkpoints than the limit raised", records: 100, cps: 100, limits: bundle.Limits{MaxCheckpoints: 99},
			says: "100 checkpoints or more, more than the limit of 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bundle.Read(t.Context(), bytes.NewReader(exhaustingBundle(t, tc.records, tc.cps)), nil, tc.limits)
			require.ErrorIs(t, err, evidence.ErrInvalid)
			assert.ErrorContains(t, err, tc.says)
		})
	}
	t.Run("more proofs than the limit", func(t *testing.T) {
		data := bytes.Replace(exhaustingBundle(t, 10, 1), []byte(`"consistency_proofs":[[]]`), []byte(`"consistency_proofs":[[],[],[]]`), 1)
		_, err := bundle.Read(t.Context(), bytes.NewReader(data), nil, bundle.Limits{MaxCheckpoints: 2})
		require.ErrorIs(t, err, evidence.ErrInvalid)
		assert.ErrorContains(t, err, "3 consistency proofs or more, one for each checkpoint, more than the limit of 2")
	})
}

// Records and checkpoints together, as many checkpoints as records and all
// within the limits: verified, with every problem counted and the first
// listed.
func TestVerifyHostileRecordsAndCheckpoints(t *testing.T) {
	t.Parallel()
	const n = 1 << 12
	b, err := bundle.Read(t.Context(), bytes.NewReader(exhaustingBundle(t, n, n)), nil, bundle.Limits{MaxRecords: n, MaxCheckpoints: n})
	require.NoError(t, err)
	rep, err := b.Verify(bundle.Trust{})
	require.NoError(t, err)
	assert.Len(t, rep.Problems, evidence.DefaultMaxProblems)
	// Each record, each checkpoint's signature, and no checkpoint signing
	// the records.
	assert.Equal(t, 2*n+1, rep.ProblemCount())
	assert.Equal(t, n, rep.Checkpoints)
	require.ErrorIs(t, rep.Err(), evidence.ErrTampered)
	assert.ErrorContains(t, rep.Err(), fmt.Sprintf("%d more problems not listed", 2*n+1-evidence.DefaultMaxProblems))
}

// Each limit refuses what is beyond it with an error naming the limit, the
// value and the flag of custody-verify that raises it.
func TestLimitErrorsNameTheFlag(t *testing.T) {
	t.Parallel()
	for field, flag := range map[string]string{
		"MaxEntries": "max-entries", "MaxManifestSize": "max-manifest-size", "MaxRecordSize": "max-record-size",
		"MaxRecords": "max-records", "MaxRecordsSize": "max-records-size", "MaxItems": "max-items",
		"MaxCheckpoints": "max-checkpoints", "MaxBlobSize": "max-blob-size", "MaxTotalSize": "max-total-size",
		"MaxProblems": "max-problems",
	} {
		assert.Equal(t, flag, bundle.LimitFlag(field))
	}
	data := exhaustingBundle(t, 100, 1)
	lists := worstBundle{records: 100, recordSize: 1, items: 2, checkpoints: 2, proofHashes: 1}.build(t)
	long := worstBundle{records: 1, recordSize: 400}.build(t)
	for _, tc := range []struct {
		limits bundle.Limits
		says   string
		data   []byte
	}{
		{bundle.Limits{MaxManifestSize: 100}, "bytes, more than the limit of 100 (a genuinely larger case is read with a higher Limits.MaxManifestSize: custody-verify -max-manifest-size)", nil},
		{bundle.Limits{MaxRecordsSize: 100}, "200 bytes, more than the limit of 100 (a genuinely larger case is read with a higher Limits.MaxRecordsSize: custody-verify -max-records-size)", nil},
		{bundle.Limits{MaxRecords: 99}, "100 records, more than the limit of 99 (a genuinely larger case is read with a higher Limits.MaxRecords: custody-verify -max-records)", nil},
		{bundle.Limits{MaxEntries: 1}, "2 entries (the manifest, the records and 0 blobs), more than the limit of 1 (a genuinely larger case is read with a higher Limits.MaxEntries: custody-verify -max-entries)", nil},
		{bundle.Limits{MaxTotalSize: 1000}, "larger than the limit of 1000 bytes (a genuinely larger case is read with a higher Limits.MaxTotalSize: custody-verify -max-total-size)", nil},
		{bundle.Limits{MaxItems: 1}, "2 items or more, more than the limit of 1 (a genuinely larger case is read with a higher Limits.MaxItems: custody-verify -max-items)", lists},
		{bundle.Limits{MaxCheckpoints: 1}, "2 checkpoints or more, more than the limit of 1 (a genuinely larger case is read with a higher Limits.MaxCheckpoints: custody-verify -max-checkpoints)", lists},
		{bundle.Limits{MaxRecordSize: 100}, "record 0 of 400 bytes, more than the limit of 100 (a genuinely larger case is read with a higher Limits.MaxRecordSize: custody-verify -max-record-size)", long},
	} {
		if tc.data == nil {
			tc.data = data
		}
		_, err := bundle.Read(t.Context(), bytes.NewReader(tc.data), nil, tc.limits)
		require.ErrorIs(t, err, evidence.ErrInvalid, "%+v", tc.limits)
		assert.ErrorContains(t, err, tc.says)
	}
	_, err := bundle.Read(t.Context(), bytes.NewReader(data), nil, bundle.Limits{MaxItems: -1})
	assert.ErrorIs(t, err, evidence.ErrInvalid, "a negative limit")
}

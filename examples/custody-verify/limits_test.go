package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// tinyRecordsBundle returns a bundle of n two-byte records, each a
// problem, signed by no one: what an attacker sends to exhaust a verifier.
func tinyRecordsBundle(t *testing.T, n int) []byte {
	t.Helper()
	_, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{66}, 32)), "attacker.example")
	require.NoError(t, err)
	manifest := fmt.Sprintf(`{"format":%q,"version":%d,"case":"C1","origin":"attacker.example/C1","verifier_key":%q,"key_fingerprint":%q,"records":%d}`,
		bundle.Format, bundle.Version, vkey, evidence.KeyFingerprint(vkey), n)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name string
		body []byte
	}{{"manifest.json", []byte(manifest)}, {"records.jsonl", bytes.Repeat([]byte("x\n"), n)}} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: 0o644, Size: int64(len(e.body))}))
		_, err := tw.Write(e.body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// problemLines counts the problems the output lists.
func problemLines(out string) int {
	return strings.Count(out, "\n  - ")
}

// A bundle with a problem in every record gets the first problems listed
// and the rest counted, with the flag that lists more.
func TestRunCapsProblems(t *testing.T) {
	t.Parallel()
	const n = 5000
	path := write(t, "hostile.tar", tinyRecordsBundle(t, n))

	code, out, errOut := runArgs(path)
	require.Equal(t, exitFailed, code, "%s%s", out, errOut)
	assert.Contains(t, out, fmt.Sprintf("FAILED: %d problems, the first 1000 listed\n", n+1))
	assert.Equal(t, 1000, problemLines(out))
	assert.Contains(t, out, fmt.Sprintf("  ... and %d more problems not listed (-max-problems %d lists more)\n", n+1-1000, n+1))

	code, out, _ = runArgs("-max-problems", "10", path)
	require.Equal(t, exitFailed, code)
	assert.Equal(t, 10, problemLines(out))
	assert.Contains(t, out, fmt.Sprintf("  ... and %d more problems not listed", n+1-10))

	code, out, _ = runArgs("-max-problems", fmt.Sprint(n+1), path)
	require.Equal(t, exitFailed, code)
	assert.Equal(t, n+1, problemLines(out))
	assert.Contains(t, out, fmt.Sprintf("FAILED: %d problems\n", n+1))
	assert.NotContains(t, out, "more problems not listed")
}

// A bundle beyond a limit is refused with the flag that raises it, and
// read once the flag raises it.
func TestRunLimitFlags(t *testing.T) {
	t.Parallel()
	const n = 300
	path := write(t, "hostile.tar", tinyRecordsBundle(t, n))
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"-max-records", "299"}, "300 records, more than the limit of 299 (a genuinely larger case is read with a higher Limits.MaxRecords: custody-verify -max-records)"},
		{[]string{"-max-records-size", "599"}, "600 bytes, more than the limit of 599 (a genuinely larger case is read with a higher Limits.MaxRecordsSize: custody-verify -max-records-size)"},
		{[]string{"-max-manifest-size", "100"}, "custody-verify -max-manifest-size"},
		{[]string{"-max-total-size", "2KiB"}, "larger than the limit of 2048 bytes"},
		{[]string{"-max-entries", "1"}, "custody-verify -max-entries"},
	} {
		code, out, errOut := runArgs(append(tc.args, path)...)
		assert.Equal(t, exitFailed, code, "%v: %s%s", tc.args, out, errOut)
		assert.Contains(t, out, "FAILED: 1 problem\n", tc.args)
		assert.Contains(t, out, tc.says, tc.args)
	}
	// Raised, the bundle is read and verified (and fails, as it should).
	code, out, _ := runArgs("-max-records", "300", "-max-records-size", "1KiB", "-max-checkpoints", "1", "-max-items", "1", path)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, fmt.Sprintf("FAILED: %d problems\n", n+1))
}

func TestRunLimitFlagValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want bundle.Limits
	}{
		{[]string{"-max-records-size", "2GiB", "-max-records", "8000000"}, bundle.Limits{MaxRecordsSize: 2 << 30, MaxRecords: 8000000}},
		{[]string{"-max-manifest-size", "1048577", "-max-checkpoints", "100000", "-max-items", "7"}, bundle.Limits{MaxManifestSize: 1<<20 + 1, MaxCheckpoints: 100000, MaxItems: 7}},
		{[]string{"-max-blob-size", "4TiB", "-max-total-size", "64TiB", "-max-entries", "9", "-max-problems", "5", "-max-record-size", "3KiB"},
			bundle.Limits{MaxBlobSize: 4 << 40, MaxTotalSize: 64 << 40, MaxEntries: 9, MaxProblems: 5, MaxRecordSize: 3 << 10}},
	} {
		_, got, _, _, err := parseArgs(append(tc.args, "bundle.tar"), &bytes.Buffer{})
		require.NoError(t, err, tc.args)
		for _, f := range []struct {
			set  bool
			got  int64
			want int64
			def  int64
		}{
			{tc.want.MaxRecordsSize != 0, got.MaxRecordsSize, tc.want.MaxRecordsSize, bundle.DefaultMaxRecordsSize},
			{tc.want.MaxRecords != 0, got.MaxRecords, tc.want.MaxRecords, bundle.DefaultMaxRecords},
			{tc.want.MaxManifestSize != 0, got.MaxManifestSize, tc.want.MaxManifestSize, bundle.DefaultMaxManifestSize},
			{tc.want.MaxCheckpoints != 0, int64(got.MaxCheckpoints), int64(tc.want.MaxCheckpoints), bundle.DefaultMaxCheckpoints},
			{tc.want.MaxItems != 0, int64(got.MaxItems), int64(tc.want.MaxItems), bundle.DefaultMaxItems},
			{tc.want.MaxBlobSize != 0, got.MaxBlobSize, tc.want.MaxBlobSize, bundle.DefaultMaxBlobSize},
			{tc.want.MaxTotalSize != 0, got.MaxTotalSize, tc.want.MaxTotalSize, bundle.DefaultMaxTotalSize},
			{tc.want.MaxEntries != 0, int64(got.MaxEntries), int64(tc.want.MaxEntries), bundle.DefaultMaxEntries},
			{tc.want.MaxProblems != 0, int64(got.MaxProblems), int64(tc.want.MaxProblems), evidence.DefaultMaxProblems},
			{tc.want.MaxRecordSize != 0, got.MaxRecordSize, tc.want.MaxRecordSize, bundle.DefaultMaxRecordSize},
		} {
			if f.set {
				assert.Equal(t, f.want, f.got, tc.args)
			} else {
				assert.Equal(t, f.def, f.got, "%v: a limit not given is the default", tc.args)
			}
		}
	}
	for _, bad := range [][]string{
		{"-max-records", "0"}, {"-max-records", "-5"}, {"-max-records-size", "1XB"}, {"-max-records-size", "1KiBKiB"},
		{"-max-total-size", "9000000TiB"}, {"-max-problems", "0"}, {"-max-items", "many"},
	} {
		code, out, errOut := runArgs(append(bad, "bundle.tar")...)
		assert.Equal(t, exitUsage, code, bad)
		assert.Empty(t, out, bad)
		assert.Contains(t, errOut, bad[0], bad)
	}
}

// The usage text documents every limit flag.
func TestUsageDocumentsLimits(t *testing.T) {
	t.Parallel()
	_, _, errOut := runArgs("-h")
	for _, flag := range []string{"-max-records", "-max-records-size", "-max-record-size", "-max-items", "-max-checkpoints",
		"-max-manifest-size", "-max-entries", "-max-blob-size", "-max-total-size", "-max-problems"} {
		assert.Contains(t, errOut, "  "+flag+" ", flag)
	}
	assert.Contains(t, errOut, "(default 512MiB)")
	assert.Contains(t, errOut, "raise it only for a genuinely")
}

// An item's content is said to match only when it does, even when the
// problem saying it does not is beyond those listed.
func TestRunContentStatusBeyondTheProblemsListed(t *testing.T) {
	t.Parallel()
	tb := newTestBundle(t)
	_, otherKey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{8}, 32)), "custody.example.org")
	require.NoError(t, err)
	data := bytes.Replace(tb.data, []byte("examp1e.com"), []byte("example.com"), 1)
	require.NotEqual(t, tb.data, data)
	// The other key's problems come first, and fill the list.
	code, out, _ := runArgs("-key", otherKey, "-max-problems", "1", write(t, "bundle.tar", data))
	require.Equal(t, exitFailed, code)
	require.Equal(t, 1, problemLines(out))
	assert.Contains(t, out, "more problems not listed")
	assert.NotContains(t, out, "tampered blob", "the blob's problem is not listed")
	assert.Contains(t, squeeze(out), "content: FAILED: does not match the item")
	assert.Equal(t, 1, strings.Count(squeeze(out), "content: included, matches its size and digests"), "the other item matches")
}

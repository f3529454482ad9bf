package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/incidentkit/incidentkit/evidence/bundle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
)

// withoutHistories returns out without the custody histories default
// output shows: the lines of each item's "custody:" block, and the line
// -no-history shows instead.
func withoutHistories(out string) string {
	var kept []string
	inHistory := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case l == "  custody:":
			inHistory = true
			continue
		case strings.HasPrefix(l, "  custody:"):
			continue // the line -no-history shows
		case inHistory && strings.HasPrefix(l, "    "):
			continue
		}
		inHistory = false
		kept = append(kept, l)
	}
	return strings.Join(kept, "\n")
}

// With -no-history, the items, checkpoints, verdict, problems and exit
// status are those of the default output, on a sound bundle, a tampered
// one and one that is refused; only the histories are left out.
func TestRunNoHistory(t *testing.T) {
	t.Parallel()
	tb := newTestBundle(t)
	_, otherKey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{8}, 32)), "custody.example.org")
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		data []byte
		args []string
		code int
	}{
		{name: "sound", data: tb.data, args: []string{"-key", tb.vkey}, code: exitVerified},
		{name: "own key", data: tb.data, code: exitVerified},
		{name: "earlier checkpoint", data: tb.data, code: exitVerified},
		{name: "another key", data: tb.data, args: []string{"-key", otherKey}, code: exitFailed},
		{name: "record byte", data: bytes.Replace(tb.data, []byte(`"to the forensics lab"`), []byte(`"to the forensics lad"`), 1),
			args: []string{"-key", tb.vkey}, code: exitFailed},
		{name: "blob byte", data: bytes.Replace(tb.data, []byte("examp1e.com"), []byte("example.com"), 1),
			args: []string{"-key", tb.vkey}, code: exitFailed},
		{name: "not a bundle", data: []byte("PK\x03\x04 this is a zip file"), code: exitFailed},
		{name: "over a limit", data: tb.data, args: []string{"-max-records", "4"}, code: exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if tc.name == "earlier checkpoint" {
				args = []string{"-key", tb.vkey, "-checkpoint", write(t, "kept.note", tb.checkpoint)}
			}
			path := write(t, "bundle.tar", tc.data)
			code, out, errOut := runArgs(append(args, path)...)
			require.Equal(t, tc.code, code, out+errOut)
			streamedCode, streamed, streamedErrOut := runArgs(append(append([]string{"-no-history"}, args...), path)...)
			t.Log("\n" + streamed)
			require.Equal(t, code, streamedCode)
			assert.Equal(t, errOut, streamedErrOut)
			assert.Equal(t, withoutHistories(out), withoutHistories(streamed))
			assert.Equal(t, verdictLines(out), verdictLines(streamed))
			if strings.Contains(out, "Items (") {
				assert.Contains(t, out, "    #0 ", "the default output shows the histories")
				assert.NotContains(t, streamed, "    #0 ")
				assert.Contains(t, squeeze(streamed), "custody: not shown (-no-history)")
			}
		})
	}
	_, _, _, history, err := parseArgs([]string{"-no-history", "b.tar"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.False(t, history)
	_, _, _, history, err = parseArgs([]string{"b.tar"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.True(t, history)
}

// Without history, the bundle is verified as it is read and no record is
// kept; with it, the records are kept to show the histories.
func TestVerifyKeepsRecordsOnlyForHistories(t *testing.T) {
	t.Parallel()
	tb := newTestBundle(t)
	b, rep, err := verify(bytes.NewReader(tb.data), bundle.Trust{VerifierKey: tb.vkey}, bundle.Limits{}, false)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Err())
	assert.Nil(t, b.Records)
	assert.Equal(t, int64(5), rep.Size)
	b, rep, err = verify(bytes.NewReader(tb.data), bundle.Trust{VerifierKey: tb.vkey}, bundle.Limits{}, true)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Err())
	assert.Len(t, b.Records, 5)
}

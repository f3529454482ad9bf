package evidence

import (
	"encoding/base64"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"
)

// oracleLog works out, independently of recordChecker and the chunked
// walk, the root of a log's records and the records whose link to their
// item's previous record is wrong: the tree built with tlog alone from
// every record's bytes, and each record's Prev and PrevHash compared with
// the bytes of the item's record before it.
func oracleLog(t *testing.T, log CaseLog) (tlog.Hash, []int64) {
	t.Helper()
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	type prev struct {
		index int64
		data  []byte
	}
	last := make(map[ItemID]prev)
	var broken []int64
	for i, data := range log.Records {
		hs, err := tlog.StoredHashes(int64(i), data, reader)
		require.NoError(t, err)
		stored = append(stored, hs...)
		r, err := DecodeRecord(data)
		require.NoError(t, err, "the oracle's logs decode")
		p, seen := last[r.Item]
		switch {
		case !seen && (r.Prev != -1 || r.PrevHash != ""):
			broken = append(broken, int64(i))
		case seen:
			h := tlog.RecordHash(p.data)
			if r.Prev != p.index || r.PrevHash != base64.StdEncoding.EncodeToString(h[:]) {
				broken = append(broken, int64(i))
			}
		}
		last[r.Item] = prev{int64(i), data}
	}
	root, err := tlog.TreeHash(int64(len(log.Records)), reader)
	require.NoError(t, err)
	return root, broken
}

// TestVerifyLogAgainstOracle checks what verifyLog finds against
// oracleLog: the same root, and an item-link problem at exactly the
// records whose link the oracle finds wrong, for a clean log and for logs
// with one record rewritten.
func TestVerifyLogAgainstOracle(t *testing.T) {
	t.Parallel()
	clean, vkey := chunkedLog(t, 3*decodeChunk+17)
	rewrite := func(at int64) CaseLog {
		log := clean
		log.Records = slices.Clone(clean.Records)
		r, err := DecodeRecord(log.Records[at])
		require.NoError(t, err)
		r.Reason = "rewritten afterwards"
		data, err := r.Encode()
		require.NoError(t, err)
		log.Records[at] = data
		return log
	}
	tests := []struct {
		name string
		log  CaseLog
	}{
		{"clean", clean},
		{"first record rewritten", rewrite(0)},
		{"a record in the first chunk rewritten", rewrite(5)},
		{"a record on a chunk boundary rewritten", rewrite(decodeChunk)},
		{"the last record rewritten", rewrite(int64(len(clean.Records) - 1))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, broken := oracleLog(t, tc.log)
			if tc.name != "clean" && tc.name != "the last record rewritten" {
				require.NotEmpty(t, broken, "the oracle finds the broken link")
			}
			rep := VerifyLog(tc.log, vkey)
			assert.Equal(t, root, rep.Root, "the root of the records as given")
			var links []int64
			for _, p := range rep.Problems {
				if te, ok := p.(*TamperError); ok && te.What == "item link" {
					links = append(links, te.Record)
				}
			}
			assert.Equal(t, broken, links, "item-link problems at exactly the oracle's records")
			if tc.name == "clean" {
				assert.Empty(t, rep.Problems)
			} else {
				assert.NotEmpty(t, rep.Problems, "a rewritten record is caught (by its checkpoint or a link)")
			}
		})
	}
}

package evidence_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
)

// checkpointLedger returns a ledger with n records in case CASE-CP and a
// checkpoint of them.
func checkpointLedger(t *testing.T, cfg evidence.LedgerConfig, n int) (*evidence.Ledger, evidence.Checkpoint) {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = evidence.NewMemoryLedgerStore()
	}
	if cfg.Key.IsZero() {
		cfg.Key, _ = custodyKey(t, "custody.example.org", 1)
	}
	l, err := evidence.NewLedger(cfg)
	require.NoError(t, err)
	appendRecords(t, l, collectRecord("CASE-CP", "A", custodyAt(0)))
	for i := 1; i < n; i++ {
		appendRecords(t, l, actRecord("CASE-CP", "A", evidence.ActionAccessed, custodyAt(i)))
	}
	cp, err := l.Checkpoint(t.Context(), "CASE-CP")
	require.NoError(t, err)
	return l, cp
}

func TestCheckpointFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		origin string // LedgerConfig.Origin
		want   string // origin line
	}{
		{"default origin", "", "incidentkit/custody/CASE-CP"},
		{"own origin", "custody.example.org/locker-3", "custody.example.org/locker-3/CASE-CP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, cp := checkpointLedger(t, evidence.LedgerConfig{Origin: tc.origin}, 3)
			size, root, err := l.Root(t.Context(), "CASE-CP")
			require.NoError(t, err)
			assert.Equal(t, tc.want, cp.Origin)
			assert.Equal(t, int64(3), cp.Size)
			assert.Equal(t, int64(3), size)
			assert.Equal(t, root, cp.Root)

			// C2SP tlog-checkpoint in a C2SP signed note: origin, size,
			// base64 root, a blank line, then "— <key name> <base64
			// signature>".
			format := regexp.MustCompile(`^` + regexp.QuoteMeta(tc.want) + `\n3\n([A-Za-z0-9+/]{43}=)\n\n— custody\.example\.org ([A-Za-z0-9+/]+=*)\n$`)
			m := format.FindStringSubmatch(string(cp.Note))
			require.NotNil(t, m, "checkpoint note:\n%s", cp.Note)
			assert.Equal(t, root.String(), m[1])

			// Check the signature with crypto/ed25519 alone: 4 bytes of key
			// hash, then the Ed25519 signature of the body.
			sig, err := base64.StdEncoding.DecodeString(m[2])
			require.NoError(t, err)
			require.Len(t, sig, 4+ed25519.SignatureSize)
			name, hash, pub := splitVerifierKey(t, l.VerifierKey())
			assert.Equal(t, "custody.example.org", name)
			assert.Equal(t, hash, binary.BigEndian.Uint32(sig[:4]), "key hash in the signature")
			body := strings.TrimSuffix(string(cp.Note), "\n— custody.example.org "+m[2]+"\n")
			assert.True(t, ed25519.Verify(pub, []byte(body), sig[4:]), "Ed25519 signature of %q", body)

			stored, err := l.Store().Checkpoints(t.Context(), "CASE-CP")
			require.NoError(t, err)
			require.Equal(t, []evidence.Checkpoint{cp}, stored, "Checkpoint stores what it returns")
		})
	}
}

// splitVerifierKey parses a signed-note verifier key "name+hash+base64(alg
// || key)" without the note package.
func splitVerifierKey(t *testing.T, vkey string) (string, uint32, ed25519.PublicKey) {
	t.Helper()
	parts := strings.Split(vkey, "+")
	require.Len(t, parts, 3, "verifier key %q", vkey)
	hash, err := strconv.ParseUint(parts[1], 16, 32)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	require.Len(t, raw, 1+ed25519.PublicKeySize)
	require.Equal(t, byte(1), raw[0], "Ed25519 algorithm byte")
	return parts[0], uint32(hash), ed25519.PublicKey(raw[1:])
}

func TestOpenCheckpoint(t *testing.T) {
	t.Parallel()
	l, cp := checkpointLedger(t, evidence.LedgerConfig{}, 5)
	vkey := l.VerifierKey()
	_, other := checkpointLedger(t, evidence.LedgerConfig{}, 6)
	sameName, _ := custodyKey(t, "custody.example.org", 2)
	_, bySameName := checkpointLedger(t, evidence.LedgerConfig{Key: sameName}, 5)
	otherName, _ := custodyKey(t, "rogue.example.net", 3)
	_, byOtherName := checkpointLedger(t, evidence.LedgerConfig{Key: otherName}, 5)

	signed := string(cp.Note)
	body, sigLine, ok := strings.Cut(signed, "\n\n")
	require.True(t, ok)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name string
		note string
	}{
		{"signed by another key of the same name", string(bySameName.Note)},
		{"signed by a key of another name", string(byOtherName.Note)},
		{"size changed", strings.Replace(signed, "\n5\n", "\n6\n", 1)},
		{"root changed", strings.Replace(signed, cp.Root.String(), other.Root.String(), 1)},
		{"origin changed", strings.Replace(signed, "/CASE-CP\n", "/CASE-CQ\n", 1)},
		{"line added to the body", body + "\nextension\n\n" + sigLine},
		{"line endings changed", strings.ReplaceAll(signed, "\n", "\r\n")},
		{"signature changed", flip(signed, len(signed)-20)},
		{"key hash changed", flip(signed, len(body)+2+len("— custody.example.org ")+1)},
		{"signature truncated", signed[:len(signed)-9] + "\n"},
		{"signature removed", body + "\n\n"},
		{"no signature block", body + "\n"},
		{"signature of another note", body + "\n\n" + strings.SplitN(string(other.Note), "\n\n", 2)[1]},
		{"empty", ""},
		{"text", "hello, auditor"},
		{"binary", "\x00\x01\x02\xff\xfe"},
		{"invalid UTF-8 in the body", strings.Replace(signed, "CASE-CP", "CASE-\xff", 1)},
	}
	t.Run("as signed", func(t *testing.T) {
		t.Parallel()
		got, err := evidence.OpenCheckpoint(cp.Note, vkey)
		require.NoError(t, err)
		assert.Equal(t, cp, got)
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.NotEqual(t, signed, tc.note, "the test case changes the note")
			_, err := evidence.OpenCheckpoint([]byte(tc.note), vkey)
			require.ErrorIs(t, err, evidence.ErrTampered)
			var te *evidence.TamperError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, int64(-1), te.Record)
			assert.True(t, strings.HasPrefix(te.What, "checkpoint"), "What = %q", te.What)
		})
	}
	t.Run("invalid verifier key", func(t *testing.T) {
		t.Parallel()
		for _, vk := range []string{"", "custody.example.org", "custody.example.org+00000000+AQ==", sameName.Reveal()} {
			_, err := evidence.OpenCheckpoint(cp.Note, vk)
			require.ErrorIs(t, err, evidence.ErrInvalid, "verifier key %q", vk)
			require.NotErrorIs(t, err, evidence.ErrTampered)
		}
	})
}

// TestOpenCheckpointBody checks OpenCheckpoint parses what a good
// signature covers, refusing bodies that are not checkpoints.
func TestOpenCheckpointBody(t *testing.T) {
	t.Parallel()
	key, _ := custodyKey(t, "custody.example.org", 1)
	signer, err := note.NewSigner(key.Reveal())
	require.NoError(t, err)
	l, cp := checkpointLedger(t, evidence.LedgerConfig{Key: key}, 3)
	root := cp.Root.String()
	short := base64.StdEncoding.EncodeToString(cp.Root[:31])
	tests := []struct {
		name string
		body string
		ok   bool
		size int64 // if accepted
	}{
		{name: "checkpoint", body: cp.Origin + "\n3\n" + root + "\n", ok: true, size: 3},
		{name: "with extension lines", body: cp.Origin + "\n3\n" + root + "\nextension one\nextension two\n", ok: true, size: 3},
		{name: "size 0", body: cp.Origin + "\n0\n" + root + "\n", ok: true, size: 0},
		{name: "largest size", body: cp.Origin + "\n9223372036854775807\n" + root + "\n", ok: true, size: 1<<63 - 1},
		{name: "no root line", body: cp.Origin + "\n3\n"},
		{name: "origin only", body: cp.Origin + "\n"},
		{name: "empty origin", body: "\n3\n" + root + "\n"},
		{name: "size not a number", body: cp.Origin + "\nthree\n" + root + "\n"},
		{name: "negative size", body: cp.Origin + "\n-3\n" + root + "\n"},
		{name: "size with a plus sign", body: cp.Origin + "\n+3\n" + root + "\n"},
		{name: "size with a leading zero", body: cp.Origin + "\n03\n" + root + "\n"},
		{name: "size with a space", body: cp.Origin + "\n 3\n" + root + "\n"},
		{name: "size too large", body: cp.Origin + "\n9223372036854775808\n" + root + "\n"},
		{name: "root not base64", body: cp.Origin + "\n3\nnot a hash\n"},
		{name: "root too short", body: cp.Origin + "\n3\n" + short + "\n"},
		{name: "root in hex", body: cp.Origin + "\n3\n" + fmt.Sprintf("%x", cp.Root[:]) + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg, err := note.Sign(&note.Note{Text: tc.body}, signer)
			require.NoError(t, err)
			got, err := evidence.OpenCheckpoint(msg, l.VerifierKey())
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, cp.Origin, got.Origin)
				assert.Equal(t, tc.size, got.Size)
				assert.Equal(t, cp.Root, got.Root)
				assert.Equal(t, msg, got.Note)
				return
			}
			require.ErrorIs(t, err, evidence.ErrTampered)
			var te *evidence.TamperError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "checkpoint", te.What)
		})
	}
}

// proofLog is a ledger of 40 records of case CASE-PROOF with the root of
// every size it had, and the records' encodings.
type proofLog struct {
	ledger *evidence.Ledger
	roots  []evidence.Hash // roots[n] is the root at size n
	data   [][]byte
}

const proofCase = "CASE-PROOF"

func newProofLog(t *testing.T, size int) *proofLog {
	t.Helper()
	l := newCustodyLedger(t)
	p := &proofLog{ledger: l}
	items := []evidence.ItemID{"A", "B", "C", "D"}
	for i := 0; i <= size; i++ {
		n, root, err := l.Root(t.Context(), proofCase)
		require.NoError(t, err)
		require.Equal(t, int64(i), n)
		p.roots = append(p.roots, root)
		if i == size {
			break
		}
		item := items[i%len(items)]
		if i < len(items) {
			appendRecords(t, l, collectRecord(proofCase, item, custodyAt(i)))
		} else {
			appendRecords(t, l, actRecord(proofCase, item, allActions[1+i%(len(allActions)-1)], custodyAt(i)))
		}
	}
	log, err := l.Export(t.Context(), proofCase)
	require.NoError(t, err)
	p.data = log.Records
	return p
}

// flipped returns h with one bit changed.
func flipped(h evidence.Hash) evidence.Hash {
	h[31] ^= 1
	return h
}

func TestInclusionProofs(t *testing.T) {
	t.Parallel()
	p := newProofLog(t, 40)
	ctx := t.Context()
	for n := int64(1); n <= 40; n++ {
		t.Run(fmt.Sprintf("size %d", n), func(t *testing.T) {
			t.Parallel()
			for i := range n {
				proof, err := p.ledger.ProveInclusion(ctx, proofCase, i, n)
				require.NoError(t, err)
				assert.LessOrEqual(t, len(proof), bits.Len64(uint64(n-1)), "proof of record %d in size %d has at most ceil(log2 n) hashes", i, n)
				require.NoError(t, evidence.CheckInclusion(proof, n, p.roots[n], i, p.data[i]), "record %d", i)

				altered := append([]byte(nil), p.data[i]...)
				altered[len(altered)/2] ^= 1
				bad := []struct {
					what  string
					index int64
					root  evidence.Hash
					data  []byte
				}{
					{"altered record", i, p.roots[n], altered},
					{"another record", i, p.roots[n], p.data[(i+1)%40]},
					{"another index", (i + 1) % n, p.roots[n], p.data[i]},
					{"index past the end", n, p.roots[n], p.data[i]},
					{"negative index", -1, p.roots[n], p.data[i]},
					{"altered root", i, flipped(p.roots[n]), p.data[i]},
					{"root of the previous size", i, p.roots[n-1], p.data[i]},
				}
				for _, b := range bad {
					if b.what == "another index" && n == 1 {
						continue
					}
					err := evidence.CheckInclusion(proof, n, b.root, b.index, b.data)
					require.ErrorIs(t, err, evidence.ErrTampered, "%s: record %d of size %d", b.what, i, n)
					var te *evidence.TamperError
					require.ErrorAs(t, err, &te)
					assert.Equal(t, b.index, te.Record)
				}
				if len(proof) > 0 {
					for j := range proof {
						alt := append([]evidence.Hash(nil), proof...)
						alt[j] = flipped(alt[j])
						require.ErrorIs(t, evidence.CheckInclusion(alt, n, p.roots[n], i, p.data[i]), evidence.ErrTampered, "proof hash %d altered", j)
					}
					require.ErrorIs(t, evidence.CheckInclusion(proof[:len(proof)-1], n, p.roots[n], i, p.data[i]), evidence.ErrTampered, "proof cut short")
				}
				require.ErrorIs(t, evidence.CheckInclusion(append(proof, p.roots[n]), n, p.roots[n], i, p.data[i]), evidence.ErrTampered, "proof too long")
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct{ index, size int64 }{{5, 5}, {-1, 3}, {0, 0}, {0, 41}, {39, 41}} {
			_, err := p.ledger.ProveInclusion(ctx, proofCase, c.index, c.size)
			require.Error(t, err, "ProveInclusion(%d, %d) of a log of 40", c.index, c.size)
		}
	})
}

func TestConsistencyProofs(t *testing.T) {
	t.Parallel()
	p := newProofLog(t, 40)
	ctx := t.Context()
	for n := int64(1); n <= 40; n++ {
		t.Run(fmt.Sprintf("size %d", n), func(t *testing.T) {
			t.Parallel()
			for m := int64(1); m <= n; m++ {
				proof, err := p.ledger.ProveConsistency(ctx, proofCase, m, n)
				require.NoError(t, err)
				assert.LessOrEqual(t, len(proof), bits.Len64(uint64(n-1))+1, "proof from %d to %d", m, n)
				require.NoError(t, evidence.CheckConsistency(proof, n, p.roots[n], m, p.roots[m]), "from size %d to %d", m, n)

				bad := []struct {
					what     string
					oldSize  int64
					oldRoot  evidence.Hash
					newRoot  evidence.Hash
					skipWhen bool
				}{
					{"altered old root", m, flipped(p.roots[m]), p.roots[n], false},
					{"old root of another size", m, p.roots[m-1], p.roots[n], m == 1},
					{"altered new root", m, p.roots[m], flipped(p.roots[n]), false},
					{"another old size", m - 1, p.roots[m], p.roots[n], m == 1},
				}
				for _, b := range bad {
					if b.skipWhen {
						continue
					}
					err := evidence.CheckConsistency(proof, n, b.newRoot, b.oldSize, b.oldRoot)
					require.ErrorIs(t, err, evidence.ErrTampered, "%s: from size %d to %d", b.what, m, n)
					var te *evidence.TamperError
					require.ErrorAs(t, err, &te)
					assert.Equal(t, "consistency proof", te.What)
				}
				for j := range proof {
					alt := append([]evidence.Hash(nil), proof...)
					alt[j] = flipped(alt[j])
					require.ErrorIs(t, evidence.CheckConsistency(alt, n, p.roots[n], m, p.roots[m]), evidence.ErrTampered, "proof hash %d altered", j)
				}
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct{ oldSize, newSize int64 }{{6, 5}, {0, 5}, {-1, 5}, {5, 41}} {
			_, err := p.ledger.ProveConsistency(ctx, proofCase, c.oldSize, c.newSize)
			require.Error(t, err, "ProveConsistency(%d, %d) of a log of 40", c.oldSize, c.newSize)
		}
	})
}

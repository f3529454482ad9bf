package evidence_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

// These tests check the ledger's Merkle tree and proofs against an
// independent RFC 6962 implementation, github.com/transparency-dev/merkle,
// and its published test vectors.

func hashBytes(hs []evidence.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func bytesHashes(t *testing.T, bs [][]byte) []evidence.Hash {
	t.Helper()
	out := make([]evidence.Hash, len(bs))
	for i, b := range bs {
		require.Len(t, b, len(out[i]))
		copy(out[i][:], b)
	}
	return out
}

func TestRootsMatchReferenceTree(t *testing.T) {
	t.Parallel()
	p := newProofLog(t, 64)
	ref := testonly.New(rfc6962.DefaultHasher)
	assert.Equal(t, testonly.EmptyRootHash(), p.roots[0][:], "root of the empty log")
	for n := range 65 {
		if n > 0 {
			ref.AppendData(p.data[n-1])
		}
		assert.Equal(t, ref.Hash(), p.roots[n][:], "root at size %d", n)
	}
	for i, d := range p.data {
		h := tlog.RecordHash(d)
		assert.Equal(t, ref.LeafHash(uint64(i)), h[:], "leaf hash of record %d", i)
		assert.Equal(t, rfc6962.DefaultHasher.HashLeaf(d), h[:], "leaf hash of record %d", i)
	}
}

func TestProofsMatchReferenceVerifier(t *testing.T) {
	t.Parallel()
	p := newProofLog(t, 64)
	ref := testonly.New(rfc6962.DefaultHasher)
	ref.AppendData(p.data...)
	hasher := rfc6962.DefaultHasher
	ctx := t.Context()
	for n := uint64(1); n <= 64; n++ {
		t.Run(fmt.Sprintf("size %d", n), func(t *testing.T) {
			t.Parallel()
			root := p.roots[n][:]
			for i := range n {
				ours, err := p.ledger.ProveInclusion(ctx, proofCase, int64(i), int64(n))
				require.NoError(t, err)
				leaf := hasher.HashLeaf(p.data[i])
				require.NoError(t, proof.VerifyInclusion(hasher, i, n, leaf, hashBytes(ours), root), "our proof of record %d, checked by the reference", i)
				theirs, err := ref.InclusionProof(i, n)
				require.NoError(t, err)
				assert.Equal(t, theirs, hashBytes(ours), "RFC 6962 audit path of record %d", i)
				require.NoError(t, evidence.CheckInclusion(bytesHashes(t, theirs), int64(n), p.roots[n], int64(i), p.data[i]), "reference proof of record %d, checked by us", i)
			}
			for m := uint64(1); m <= n; m++ {
				ours, err := p.ledger.ProveConsistency(ctx, proofCase, int64(m), int64(n))
				require.NoError(t, err)
				require.NoError(t, proof.VerifyConsistency(hasher, m, n, hashBytes(ours), p.roots[m][:], root), "our proof from %d, checked by the reference", m)
				theirs, err := ref.ConsistencyProof(m, n)
				require.NoError(t, err)
				assert.Equal(t, theirs, hashBytes(ours), "RFC 6962 consistency proof from %d", m)
				require.NoError(t, evidence.CheckConsistency(bytesHashes(t, theirs), int64(n), p.roots[n], int64(m), p.roots[m]), "reference proof from %d, checked by us", m)
			}
		})
	}
}

// TestReferenceVectors runs the reference implementation's known answers
// through tlog, which the ledger builds its tree with, and through
// CheckInclusion and CheckConsistency.
func TestReferenceVectors(t *testing.T) {
	t.Parallel()
	leaves := testonly.LeafInputs()
	nodes := testonly.NodeHashes()
	roots := testonly.RootHashes()
	require.Len(t, roots, len(leaves)+1)

	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, leaf := range leaves {
		h := tlog.RecordHash(leaf)
		assert.Equal(t, nodes[0][i], h[:], "leaf hash %d", i)
		hs, err := tlog.StoredHashes(int64(i), leaf, reader)
		require.NoError(t, err)
		stored = append(stored, hs...)
	}
	for level, row := range nodes {
		for k, want := range row {
			got := stored[tlog.StoredHashIndex(level, int64(k))]
			assert.Equal(t, want, got[:], "node hash at level %d, index %d", level, k)
		}
	}
	rootOf := func(n int) evidence.Hash { return bytesHashes(t, roots[n:n+1])[0] }
	for n := range roots {
		got, err := tlog.TreeHash(int64(n), reader)
		require.NoError(t, err)
		assert.Equal(t, rootOf(n), got, "root at size %d", n)
	}

	hasher := rfc6962.DefaultHasher
	for n := int64(1); n <= int64(len(leaves)); n++ {
		for i := range n {
			p, err := tlog.ProveRecord(n, i, reader)
			require.NoError(t, err)
			require.NoError(t, evidence.CheckInclusion(p, n, rootOf(int(n)), i, leaves[i]), "record %d in size %d", i, n)
			require.NoError(t, proof.VerifyInclusion(hasher, uint64(i), uint64(n), nodes[0][i], hashBytes(p), roots[n]))
			if n > 1 {
				other := (i + 1) % n
				require.ErrorIs(t, evidence.CheckInclusion(p, n, rootOf(int(n)), i, leaves[other]), evidence.ErrTampered, "record %d's proof for record %d", i, other)
			}
		}
		for m := int64(1); m <= n; m++ {
			p, err := tlog.ProveTree(n, m, reader)
			require.NoError(t, err)
			require.NoError(t, evidence.CheckConsistency(p, n, rootOf(int(n)), m, rootOf(int(m))), "from size %d to %d", m, n)
			require.NoError(t, proof.VerifyConsistency(hasher, uint64(m), uint64(n), hashBytes(p), roots[m], roots[n]))
			if m > 1 {
				require.ErrorIs(t, evidence.CheckConsistency(p, n, rootOf(int(n)), m, rootOf(int(m-1))), evidence.ErrTampered, "from size %d to %d with the root of %d", m, n, m-1)
			}
		}
	}
}

// TestTamperedProofsRefusedByBoth alters proofs in every way and checks
// the reference verifier and ours agree that every altered proof fails.
func TestTamperedProofsRefusedByBoth(t *testing.T) {
	t.Parallel()
	p := newProofLog(t, 24)
	hasher := rfc6962.DefaultHasher
	ctx := t.Context()
	alterations := func(pr []evidence.Hash) map[string][]evidence.Hash {
		out := make(map[string][]evidence.Hash)
		for j := range pr {
			alt := append([]evidence.Hash(nil), pr...)
			alt[j] = flipped(alt[j])
			out[fmt.Sprintf("hash %d altered", j)] = alt
		}
		if len(pr) > 0 {
			out["last hash dropped"] = pr[:len(pr)-1]
			out["first hash dropped"] = pr[1:]
		}
		if len(pr) > 1 {
			rev := append([]evidence.Hash(nil), pr...)
			rev[0], rev[1] = rev[1], rev[0]
			if rev[0] != rev[1] {
				out["hashes swapped"] = rev
			}
		}
		out["hash appended"] = append(append([]evidence.Hash(nil), pr...), evidence.Hash{})
		return out
	}
	for n := int64(1); n <= 24; n++ {
		for i := range n {
			pr, err := p.ledger.ProveInclusion(ctx, proofCase, i, n)
			require.NoError(t, err)
			leaf := hasher.HashLeaf(p.data[i])
			for what, alt := range alterations(pr) {
				ours := evidence.CheckInclusion(alt, n, p.roots[n], i, p.data[i])
				theirs := proof.VerifyInclusion(hasher, uint64(i), uint64(n), leaf, hashBytes(alt), p.roots[n][:])
				assert.ErrorIs(t, ours, evidence.ErrTampered, "inclusion of %d in %d, %s", i, n, what)
				assert.Error(t, theirs, "reference: inclusion of %d in %d, %s", i, n, what)
			}
		}
		for m := int64(1); m < n; m++ {
			pr, err := p.ledger.ProveConsistency(ctx, proofCase, m, n)
			require.NoError(t, err)
			for what, alt := range alterations(pr) {
				ours := evidence.CheckConsistency(alt, n, p.roots[n], m, p.roots[m])
				theirs := proof.VerifyConsistency(hasher, uint64(m), uint64(n), hashBytes(alt), p.roots[m][:], p.roots[n][:])
				assert.ErrorIs(t, ours, evidence.ErrTampered, "consistency from %d to %d, %s", m, n, what)
				assert.Error(t, theirs, "reference: consistency from %d to %d, %s", m, n, what)
			}
		}
	}
}

package evidence_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
)

// BenchmarkWitnessedAppend measures what a witness adds to a custody
// append: the baseline appends to a memory ledger without a witness, and
// incidentkit the same records with a DirWitness in a temporary directory,
// which signs a checkpoint and writes and syncs its file on every append.
func BenchmarkWitnessedAppend(b *testing.B) {
	const c = "CASE-BENCH"
	key, vkey := custodyKey(b, "custody.example.org", 1)
	run := func(b *testing.B, w evidence.Witness) {
		s := newCustodyStream(c, 1, 1000)
		recs := make([]evidence.Record, b.N)
		for i := range recs {
			recs[i] = s.next()
		}
		cfg := evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key}
		if w != nil {
			cfg.Witness = w
		}
		l, err := evidence.NewLedger(cfg)
		require.NoError(b, err)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := l.Append(ctx, recs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("baseline", func(b *testing.B) { run(b, nil) })
	b.Run("incidentkit", func(b *testing.B) {
		w, err := evidence.NewDirWitness(b.TempDir(), vkey)
		require.NoError(b, err)
		run(b, w)
	})
}

package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// responders is how many Responders collect, each on a Store of its own
// on one file, as processes sharing it would: the writers of one Responder
// queue, those of different Responders race for the incident and its
// custody log.
const responders = 16

// TestCollectEvidenceUnderLoad collects evidence into one incident from 80
// goroutines at once, spread over several Responders on one SQLite file:
// however often the incident and its custody log move under a
// collection, every collection records its custody, the incident
// references every item, and the case verifies.
func TestCollectEvidenceUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key, _ := testKey(t)
	path := filepath.Join(t.TempDir(), "load.db")
	blobs := evidence.NewMemoryBlobs()
	var rs []*ir.Responder
	var st *sqlite.Store
	var locker *evidence.Locker
	for range responders {
		st = openStore(t, path, sqlite.Config{})
		ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
		require.NoError(t, err)
		locker, err = evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
		require.NoError(t, err)
		r, err := ir.NewResponder(ir.Config{Store: st, Evidence: locker, AtomicCustody: true})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, r.Shutdown(context.Background())) })
		rs = append(rs, r)
	}
	r := rs[0]
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Incident under load", Severity: ir.SeverityHigh})
	require.NoError(t, err)

	const collectors = 80
	var wg sync.WaitGroup
	errs := make([]error, collectors)
	for i := range collectors {
		wg.Go(func() {
			name := fmt.Sprintf("host-%02d.log", i)
			_, errs[i] = rs[i%len(rs)].CollectEvidence(ctx, alice, inc.ID, evidence.Collection{
				Name: name, Kind: evidence.KindLog, Content: strings.NewReader("log of " + name)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoErrorf(t, err, "collection %d", i)
	}
	got, err := r.Get(ctx, inc.ID)
	require.NoError(t, err)
	assert.Len(t, got.Evidence, collectors)
	n, err := st.Size(ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(collectors), n)
	rep, err := locker.Verify(ctx, inc.ID.Case())
	require.NoError(t, err)
	require.NoError(t, rep.Err())
}

package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
)

// CustodyStore is a store that also keeps the custody logs of its
// incidents' evidence, as the SQLite and PostgreSQL stores do.
type CustodyStore interface {
	ir.Store
	evidence.LedgerStore
}

// CollectUnderLoad collects evidence into one incident from 80 goroutines
// at once, spread over responders Responders, each on a store newStore
// opens on the same database, as processes sharing it would: however
// often the incident and its custody log move under a collection, every
// collection records its custody, the incident references every item, and
// the case verifies.
func CollectUnderLoad(t *testing.T, responders int, key evidence.SigningKey, newStore func(t *testing.T) CustodyStore) {
	ctx := context.Background()
	blobs := evidence.NewMemoryBlobs()
	var rs []*ir.Responder
	var st CustodyStore
	var locker *evidence.Locker
	for range responders {
		st = newStore(t)
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

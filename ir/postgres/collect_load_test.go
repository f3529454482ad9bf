package postgres_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/internal/storetest"
)

// TestCollectEvidenceUnderLoad collects evidence into one incident from 80
// goroutines at once, each through a Responder on a Store of its own on
// one schema, as processes sharing it would: every writer races the
// others for the incident and its custody log, and every collection
// records its custody.
func TestCollectEvidenceUnderLoad(t *testing.T) {
	testDSN(t)
	t.Parallel()
	schema := testSchema(t)
	storetest.CollectUnderLoad(t, 80, mpKey(t), func(t *testing.T) storetest.CustodyStore {
		return newStoreInSchema(t, schema)
	})
}

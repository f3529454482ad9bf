package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// TestCollectEvidenceUnderLoad collects evidence into one incident from 80
// goroutines at once, over 16 Responders each on a Store of its own on one
// file, as processes sharing it would: the writers of one Responder queue,
// those of different Responders race for the incident and its custody
// log. Every collection records its custody.
func TestCollectEvidenceUnderLoad(t *testing.T) {
	t.Parallel()
	key, _ := testKey(t)
	path := filepath.Join(t.TempDir(), "load.db")
	storetest.CollectUnderLoad(t, 16, key, func(t *testing.T) storetest.CustodyStore {
		return openStore(t, path, sqlite.Config{})
	})
}

package evidence_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/evidencetest"
)

func TestMemoryLedgerStore(t *testing.T) {
	t.Parallel()
	evidencetest.TestLedgerStore(t, func(*testing.T) evidence.LedgerStore { return evidence.NewMemoryLedgerStore() })
}

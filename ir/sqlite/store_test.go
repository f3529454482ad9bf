package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/evidencetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// newStore opens a store in a new file of its own, closed when the test
// ends.
func newStore(t testing.TB, clock ir.Clock) *sqlite.Store {
	t.Helper()
	return openStore(t, filepath.Join(t.TempDir(), "incidentkit.db"), sqlite.Config{Clock: clock})
}

// openStore opens the store at path, closed when the test ends.
func openStore(t testing.TB, path string, cfg sqlite.Config) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

func TestStore(t *testing.T) {
	t.Parallel()
	irtest.TestStore(t, func(t *testing.T) ir.Store { return newStore(t, nil) })
}

func TestLedgerStore(t *testing.T) {
	t.Parallel()
	evidencetest.TestLedgerStore(t, func(t *testing.T) evidence.LedgerStore { return newStore(t, nil) })
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	notifytest.TestOutbox(t, func(t *testing.T, clock *notifytest.Clock) notifytest.OutboxStore {
		return irtest.OutboxStore(newStore(t, clock))
	})
	irtest.TestOutboxChanges(t, func(t *testing.T) ir.OutboxStore { return newStore(t, nil) })
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	notifytest.TestDeliveries(t, func(t *testing.T, clock *notifytest.Clock) notifytest.DeliveryStore {
		st := newStore(t, clock)
		return notifytest.DeliveryStore{OutboxStore: irtest.OutboxStore(st), Deliveries: st}
	})
}

func TestChangeCustody(t *testing.T) {
	t.Parallel()
	irtest.TestChangeCustody(t, func(t *testing.T) irtest.CustodyStore { return newStore(t, nil) })
}

func TestDispatcher(t *testing.T) {
	t.Parallel()
	notifytest.TestDispatcher(t, func(t *testing.T, clock *notifytest.Clock) notifytest.DeliveryStore {
		st := newStore(t, clock)
		return notifytest.DeliveryStore{OutboxStore: irtest.OutboxStore(st), Deliveries: st}
	})
}

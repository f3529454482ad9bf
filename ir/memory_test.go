package ir_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/evidencetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

func TestMemoryStore(t *testing.T) {
	irtest.TestStore(t, func(*testing.T) ir.Store { return ir.NewMemoryStore() })
}

func TestMemoryOutbox(t *testing.T) {
	notifytest.TestOutbox(t, func(_ *testing.T, clock *notifytest.Clock) notifytest.OutboxStore {
		return irtest.OutboxStore(ir.NewMemoryStore(ir.MemoryClock(clock)))
	})
	irtest.TestOutboxChanges(t, func(*testing.T) ir.OutboxStore { return ir.NewMemoryStore() })
}

func TestMemoryChangeCustody(t *testing.T) {
	irtest.TestChangeCustody(t, func(*testing.T) irtest.CustodyStore { return ir.NewMemoryStore() })
}

func TestMemoryLedgerStore(t *testing.T) {
	evidencetest.TestLedgerStore(t, func(*testing.T) evidence.LedgerStore { return ir.NewMemoryStore() })
}

func TestMemoryDeliveries(t *testing.T) {
	notifytest.TestDeliveries(t, func(_ *testing.T, clock *notifytest.Clock) notifytest.DeliveryStore {
		st := ir.NewMemoryStore(ir.MemoryClock(clock))
		return notifytest.DeliveryStore{OutboxStore: irtest.OutboxStore(st), Deliveries: st}
	})
}

func TestDispatcher(t *testing.T) {
	notifytest.TestDispatcher(t, func(_ *testing.T, clock *notifytest.Clock) notifytest.DeliveryStore {
		st := ir.NewMemoryStore(ir.MemoryClock(clock))
		return notifytest.DeliveryStore{OutboxStore: irtest.OutboxStore(st), Deliveries: st}
	})
}

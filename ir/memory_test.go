package ir_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
)

func TestMemoryStore(t *testing.T) {
	irtest.TestStore(t, func(*testing.T) ir.Store { return ir.NewMemoryStore() })
}

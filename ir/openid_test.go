package ir_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
)

func TestMemoryOpenWithID(t *testing.T) {
	irtest.TestOpenWithID(t, func(*testing.T) ir.Store { return ir.NewMemoryStore() })
}

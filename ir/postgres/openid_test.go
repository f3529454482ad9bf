package postgres_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
)

func TestOpenWithID(t *testing.T) {
	testDSN(t)
	irtest.TestOpenWithID(t, func(t *testing.T) ir.Store { return newStore(t, nil) })
}

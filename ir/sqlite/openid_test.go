package sqlite_test

import (
	"testing"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
)

func TestOpenWithID(t *testing.T) {
	t.Parallel()
	irtest.TestOpenWithID(t, func(t *testing.T) ir.Store { return newStore(t, nil) })
}

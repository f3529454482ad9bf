package irtest

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// Epoch is the time a [Clock] starts at by default: 2026-03-02 09:00 UTC.
var Epoch = notifytest.Epoch

// Clock is a fake [ir.Clock] that moves only when told to. It is safe for
// concurrent use. It is the clock of [notifytest], so that one clock drives
// a Responder and the notifiers under test.
type Clock = notifytest.Clock

// NewClock returns a clock set to start, or to [Epoch] if start is zero.
func NewClock(start time.Time) *Clock { return notifytest.NewClock(start) }

var _ ir.Clock = (*Clock)(nil)

// IDs is an [ir.IDGenerator] that makes predictable IDs that sort in the
// order they were made: INC-000001, INC-000002, … It is safe for concurrent
// use.
type IDs struct {
	// Prefix comes before the number; empty means "INC-".
	Prefix string
	n      atomic.Int64
}

// NewID returns the next ID.
func (g *IDs) NewID() ir.ID {
	prefix := g.Prefix
	if prefix == "" {
		prefix = "INC-"
	}
	return ir.ID(fmt.Sprintf("%s%06d", prefix, g.n.Add(1)))
}

var _ ir.IDGenerator = (*IDs)(nil)

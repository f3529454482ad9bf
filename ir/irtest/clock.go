package irtest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/incidentkit/incidentkit/ir"
)

// Epoch is the time a [Clock] starts at by default: 2026-03-02 09:00 UTC.
var Epoch = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// Clock is a fake [ir.Clock] that moves only when told to. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to start, or to [Epoch] if start is zero.
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = Epoch
	}
	return &Clock{now: start}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

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

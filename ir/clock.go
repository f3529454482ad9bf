package ir

import (
	"time"

	"github.com/google/uuid"
)

// Clock tells the time. Inject one (irtest.Clock is a fake) to make tests
// deterministic. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to a [Clock].
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the real clock, in UTC. It is the default.
var SystemClock Clock = ClockFunc(func() time.Time { return time.Now().UTC() })

// IDGenerator makes incident IDs. IDs must be unique; if they sort by
// creation time, listings come out newest first. Implementations must be
// safe for concurrent use.
type IDGenerator interface {
	NewID() ID
}

// IDGeneratorFunc adapts a function to an [IDGenerator].
type IDGeneratorFunc func() ID

// NewID calls f.
func (f IDGeneratorFunc) NewID() ID { return f() }

// UUIDv7 makes RFC 9562 version 7 UUIDs, which sort by creation time. It is
// the default.
var UUIDv7 IDGenerator = IDGeneratorFunc(func() ID { return ID(uuid.Must(uuid.NewV7()).String()) })

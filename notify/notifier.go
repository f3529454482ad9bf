package notify

import (
	"context"
	"strconv"
)

// Notifier delivers messages to one channel: a chat, a mailbox, a pager, a
// webhook. Notify sends one message and returns the peer's receipt, or an
// error classified by wrapping (see [ErrPermanent], [ErrRetry],
// [ErrRateLimited], [ErrUnauthorized] and [ErrGone], and [Classify]); an
// error of no class is taken as one worth retrying. Notify must honour
// ctx's cancellation and deadline, and be safe for concurrent use. The
// same message may be delivered more than once (delivery is at least
// once): peers that can should use [Message.Key] to drop repeats.
//
// A Notifier may also implement [Checker], to have its configuration
// checked when a service starts, and io.Closer, to release what it holds
// when the service stops.
type Notifier interface {
	Notify(ctx context.Context, m Message) (Receipt, error)
}

// NotifierFunc adapts a function to a [Notifier].
type NotifierFunc func(ctx context.Context, m Message) (Receipt, error)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, m Message) (Receipt, error) { return f(ctx, m) }

// Checker is a [Notifier] that can check its configuration (addresses,
// credentials, templates) before any message is sent, so that a service
// refuses to start with a channel that cannot work rather than finding
// out at the first incident. Check should not send a message.
type Checker interface {
	Check(ctx context.Context) error
}

// Receipt is what the peer gave back for a delivered message: its own
// identifier for what it made, so that the record of communication can
// point at it.
type Receipt struct {
	// ID is the peer's identifier: a Slack message timestamp, an e-mail
	// Message-ID, a PagerDuty dedup key. Empty when the peer gives none.
	ID string `json:"id,omitempty"`
	// Status is the HTTP status of the peer's reply, for channels over
	// HTTP; 0 otherwise.
	Status int `json:"status,omitempty"`
}

// String returns the receipt's ID, or its HTTP status when it has no ID.
func (r Receipt) String() string {
	switch {
	case r.ID != "":
		return r.ID
	case r.Status != 0:
		return "HTTP " + strconv.Itoa(r.Status)
	}
	return ""
}

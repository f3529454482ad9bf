package notify

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// OutboxMessage is a message an incident change leaves for delivery to
// people and systems. It is written in the same transaction as the change,
// so a change is never committed without its messages, and a message never
// exists for a change that was not.
type OutboxMessage struct {
	// Key identifies the message for idempotent delivery: unique, and the
	// same on every delivery attempt; at most [MaxOutboxKey] bytes. The
	// incident package's Responder uses "<incident ID>/<version>/<n>".
	Key string
	// Incident is the ID of the incident the message is about.
	Incident string
	// Type is the type of the event the message reports.
	Type string
	// Payload is the message body. The incident package's Responder writes
	// a [Message] as JSON; read it with [DecodeMessage].
	Payload []byte
}

// OutboxEntry is a message in an outbox, as [Outbox.Claim] hands it out.
type OutboxEntry struct {
	OutboxMessage
	// ID identifies the entry in its outbox. Entries of one incident have
	// increasing IDs in the order their changes were written.
	ID int64
	// Attempts counts the claims of the entry, this one included.
	Attempts int
	// CreatedAt is when the entry was written.
	CreatedAt time.Time
	// LastError is the error a previous attempt gave back with
	// [Outbox.Retry], if any.
	LastError string
}

// Outbox is the store of messages waiting to be delivered. Stores that
// implement it take outbox messages with their changes; a dispatcher
// claims them, delivers them, and acknowledges them. Delivery is at least
// once: a message stays until it is acknowledged, and a claim that is
// neither acknowledged nor given back lapses when its lease runs out, so
// the message is handed out again. While a claim holds, no other claimer
// gets the message.
//
// Implementations must be safe for concurrent use, by several goroutines
// and, for shared databases, by several processes.
// notifytest.TestOutbox checks an implementation keeps this contract.
type Outbox interface {
	// Claim claims up to limit messages that are due (not claimed, or
	// whose claim lapsed, and not held back by Retry) for owner, until
	// lease has passed, and returns them oldest first. It returns no
	// messages and no error when none is due. owner names the claimer:
	// one dispatcher process or worker. The arguments must pass
	// [CheckClaim].
	Claim(ctx context.Context, owner string, limit int, lease time.Duration) ([]OutboxEntry, error)
	// Ack removes a delivered message. It returns an error matching
	// [ErrConflict] if owner's claim lapsed and another claimer holds
	// the message now, and one matching [ErrNotFound] if no message has
	// the ID (it was acknowledged already).
	Ack(ctx context.Context, owner string, id int64) error
	// Retry gives back a message owner could not deliver: it is due
	// again at at, and lastErr (made fit with [TruncateError]) is kept
	// with it. The errors are those of Ack.
	Retry(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error
}

// Limits of an [Outbox].
const (
	// MinOutboxLease is the shortest claim an outbox grants: claims
	// expire by the clock, so shorter leases would lapse before the work
	// they cover could finish.
	MinOutboxLease = 10 * time.Millisecond
	// MaxOutboxError is the longest last error an outbox keeps.
	MaxOutboxError = 1024
	// MaxOutboxKey is the longest message key.
	MaxOutboxKey = 512
	// MaxOutboxOwner is the longest claimer name.
	MaxOutboxOwner = 200
	// MaxClaim is the most messages one claim hands out.
	MaxClaim = 1000
)

// CheckClaim checks the arguments of [Outbox.Claim], with an error matching
// [ErrInvalid]: owner must be valid UTF-8 without NUL bytes, not empty and
// at most [MaxOutboxOwner] bytes, limit between 1 and [MaxClaim], and lease
// at least [MinOutboxLease]. Outbox implementations call it first.
func CheckClaim(owner string, limit int, lease time.Duration) error {
	if err := checkText("outbox owner", owner, MaxOutboxOwner); err != nil {
		return err
	}
	switch {
	case owner == "":
		return invalid("outbox owner", "", "must not be empty")
	case limit < 1 || limit > MaxClaim:
		return invalid("outbox limit", "", "must be between 1 and 1000")
	case lease < MinOutboxLease:
		return invalid("outbox lease", lease.String(), "must be at least 10ms")
	}
	return nil
}

// checkText refuses text that is too long, not valid UTF-8 or holds a NUL
// byte.
func checkText(field, s string, maxLen int) error {
	switch {
	case len(s) > maxLen:
		return invalid(field, "", fmt.Sprintf("must be at most %d bytes", maxLen))
	case !utf8.ValidString(s):
		return invalid(field, "", "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return invalid(field, "", "must not contain a NUL byte")
	}
	return nil
}

// TruncateError makes an error text fit for keeping: invalid UTF-8 and NUL
// bytes (an error often quotes a remote server's reply) become U+FFFD, and
// the text is cut to [MaxOutboxError] bytes on a character boundary. Outbox
// implementations keep last errors this way.
func TruncateError(s string) string {
	return fitText(s, MaxOutboxError)
}

// fitText makes s fit for keeping in at most n bytes: invalid UTF-8 and
// NUL bytes become U+FFFD, and the text is cut on a character boundary.
func fitText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1] // a character cut in two
	}
	return s
}

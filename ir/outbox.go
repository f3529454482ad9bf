package ir

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/incidentkit/incidentkit/phases"
)

// OutboxMessage is a message an incident change leaves for delivery to
// people and systems. It is written in the same transaction as the change
// (see [Change.Outbox]), so a change is never committed without its
// messages, and a message never exists for a change that was not.
type OutboxMessage struct {
	// Key identifies the message for idempotent delivery: unique, and the
	// same on every delivery attempt. The [Responder] uses
	// "<incident ID>/<version>/<n>".
	Key string
	// Incident is the incident the message is about.
	Incident ID
	// Type is the type of the event the message reports.
	Type EventType
	// Payload is the message body. The Responder writes a [Notice] as
	// JSON; read it with [DecodeNotice].
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
// implement it take [Change.Outbox] messages; a dispatcher claims them,
// delivers them, and acknowledges them. Delivery is at least once: a
// message stays until it is acknowledged, and a claim that is neither
// acknowledged nor given back lapses when its lease runs out, so the
// message is handed out again. While a claim holds, no other claimer gets
// the message.
//
// Implementations must be safe for concurrent use, by several goroutines
// and, for shared databases, by several processes. irtest.TestOutbox checks
// an implementation keeps this contract.
type Outbox interface {
	// Claim claims up to limit messages that are due (not claimed, or
	// whose claim lapsed, and not held back by Retry) for owner, until
	// lease has passed, and returns them oldest first. It returns no
	// messages and no error when none is due. owner names the claimer:
	// one dispatcher process or worker. limit must be positive and lease
	// at least [MinOutboxLease].
	Claim(ctx context.Context, owner string, limit int, lease time.Duration) ([]OutboxEntry, error)
	// Ack removes a delivered message. It returns an error matching
	// [ErrConflict] if owner's claim lapsed and another claimer holds
	// the message now, and one matching [ErrNotFound] if no message has
	// the ID (it was acknowledged already).
	Ack(ctx context.Context, owner string, id int64) error
	// Retry gives back a message owner could not deliver: it is due
	// again at at, and lastErr (cut to [MaxOutboxError] bytes) is kept
	// with it. The errors are those of Ack.
	Retry(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error
}

// OutboxStore is a [Store] with an [Outbox] in the same database, so that
// an incident change and its messages commit together.
type OutboxStore interface {
	Store
	Outbox
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
)

// CheckClaim checks the arguments of [Outbox.Claim], with an error matching
// [ErrInvalid]. Outbox implementations call it first.
func CheckClaim(owner string, limit int, lease time.Duration) error {
	if err := checkText("outbox owner", owner, MaxShortText); err != nil {
		return err
	}
	switch {
	case owner == "":
		return invalid("outbox owner", "", "must not be empty")
	case limit < 1 || limit > MaxPageSize:
		return invalid("outbox limit", "", "must be between 1 and 1000")
	case lease < MinOutboxLease:
		return invalid("outbox lease", lease.String(), "must be at least 10ms")
	}
	return nil
}

// TruncateError makes an error text fit for keeping: invalid UTF-8 and NUL
// bytes (an error often quotes a remote server's reply) become U+FFFD, and
// the text is cut to [MaxOutboxError] bytes on a character boundary. Outbox
// implementations keep last errors this way.
func TruncateError(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= MaxOutboxError {
		return s
	}
	s = s[:MaxOutboxError]
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1] // a character cut in two
	}
	return s
}

// Notice is the payload of the outbox messages the [Responder] writes: the
// event, and the incident as the change left it, enough to tell people
// what happened without reading the store.
type Notice struct {
	Incident Brief `json:"incident"`
	Event    Event `json:"event"`
}

// Brief is the part of an incident a notification shows.
type Brief struct {
	ID       ID           `json:"id"`
	Title    string       `json:"title"`
	Severity Severity     `json:"severity"`
	Priority Priority     `json:"priority"`
	Category Category     `json:"category"`
	TLP      TLP          `json:"tlp"`
	Model    string       `json:"model"`
	Phase    phases.Phase `json:"phase"`
	Open     bool         `json:"open"`
	Labels   []string     `json:"labels,omitempty"`
	Version  int64        `json:"version"`
}

// Brief returns the incident's [Brief].
func (inc *Incident) Brief() Brief {
	return Brief{
		ID: inc.ID, Title: inc.Title, Severity: inc.Severity, Priority: inc.Priority,
		Category: inc.Category, TLP: inc.TLP, Model: inc.Model, Phase: inc.Phase,
		Open: inc.IsOpen(), Labels: append([]string(nil), inc.Labels...), Version: inc.Version,
	}
}

// DecodeNotice decodes the payload of a message the [Responder] wrote.
func DecodeNotice(payload []byte) (Notice, error) {
	var n Notice
	if err := json.Unmarshal(payload, &n); err != nil {
		return Notice{}, fmt.Errorf("ir: decode notice: %w", err)
	}
	return n, nil
}

// outboxMessages makes the outbox messages of a change: one [Notice] per
// event.
func outboxMessages(inc *Incident, events []Event) ([]OutboxMessage, error) {
	sum := inc.Brief()
	msgs := make([]OutboxMessage, len(events))
	for i, e := range events {
		payload, err := json.Marshal(Notice{Incident: sum, Event: e})
		if err != nil {
			return nil, fmt.Errorf("ir: encode notice: %w", err)
		}
		msgs[i] = OutboxMessage{
			Key:      fmt.Sprintf("%s/%d/%d", inc.ID, inc.Version, i+1),
			Incident: inc.ID,
			Type:     e.Type,
			Payload:  payload,
		}
	}
	return msgs, nil
}

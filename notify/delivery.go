package notify

import (
	"context"
	"fmt"
	"time"
)

// DeliveryStatus is where a [Delivery] stands.
type DeliveryStatus string

// The statuses of a delivery.
const (
	// StatusPending is a delivery still to be made, or being made.
	StatusPending DeliveryStatus = "pending"
	// StatusDelivered is a delivery the channel took; its receipt says
	// what the peer made of it.
	StatusDelivered DeliveryStatus = "delivered"
	// StatusDead is a delivery given up on: its error was permanent, or
	// it ran out of attempts or time. [Deliveries.Replay] makes it
	// pending again.
	StatusDead DeliveryStatus = "dead"
	// StatusHeld is a delivery the routes asked for and the channel's TLP
	// clearance refused. It is recorded, never made.
	StatusHeld DeliveryStatus = "held"
)

// DeliveryTarget is one delivery an outbox message fans out to: a channel
// the [Router] chose, or held back by TLP.
type DeliveryTarget struct {
	// Channel names the channel.
	Channel string
	// Route names the route that chose the channel.
	Route string
	// Held is set when the channel's TLP clearance refused the message:
	// the delivery is recorded with [StatusHeld] and never made.
	Held bool
	// Reason says why a held delivery is held back; it is kept as the
	// delivery's LastError, made fit with [TruncateError].
	Reason string
}

// Delivery is the delivery of one outbox message to one channel, with its
// own state: a failing channel never holds up, nor repeats, the
// deliveries of the same message to other channels.
type Delivery struct {
	// ID identifies the delivery in its store. It is 0 for a delivery
	// [Deliveries.FanOutAndClaim] claimed together with its message,
	// which the store records only when [Deliveries.Settle] records how
	// its attempt went.
	ID int64
	// OutboxID is the ID the message had in the outbox. The deliveries of
	// one incident to one channel are made in its order.
	OutboxID int64
	// Key is the message's key, the same on every attempt.
	Key string
	// Incident is the ID of the incident the message is about.
	Incident string
	// Type is the type of the event the message reports.
	Type string
	// Channel and Route are the channel delivered to and the route that
	// chose it.
	Channel, Route string
	// Audience is who the message is for, as the message says.
	Audience Audience
	// Payload is the message, as the outbox held it.
	Payload []byte
	// Status is where the delivery stands.
	Status DeliveryStatus
	// Attempts counts the claims of the delivery, the current one
	// included; a replay starts it from 0 again.
	Attempts int
	// CreatedAt is when the outbox message was written (not when it was
	// fanned out), so that a delivery's age counts from the change.
	CreatedAt time.Time
	// NextAt is when a pending delivery is due.
	NextAt time.Time
	// UpdatedAt is when the delivery last changed status: when it was
	// delivered, for a delivered one.
	UpdatedAt time.Time
	// LastError is the error of the last failed attempt, redacted by the
	// channel and made fit with [TruncateError]; for a held delivery, why
	// it is held back.
	LastError string
	// Receipt is what the peer gave back, for a delivered one.
	Receipt Receipt
}

// Message decodes the delivery's payload, with its Key set to the
// delivery's.
func (d Delivery) Message() (Message, error) {
	m, err := DecodeMessage(d.Payload)
	if err != nil {
		return Message{}, err
	}
	m.Key = d.Key
	return m, nil
}

// Settled returns st completed with what names d for [Deliveries.Settle]:
// d's ID or, for a delivery claimed with its message (ID 0), the message,
// channel, route and audience the store records it with.
func (d Delivery) Settled(st Settlement) Settlement {
	st.ID = d.ID
	if d.ID == 0 {
		st.OutboxID, st.Channel, st.Route, st.Audience = d.OutboxID, d.Channel, d.Route, d.Audience
	}
	return st
}

// Deliveries is the durable state of deliveries, kept in the same store
// as the [Outbox]: a dispatcher fans each outbox message out to one
// delivery per channel, then claims the deliveries that are due, makes
// them, and records how each went. Claims are leased as the outbox's are,
// so several dispatchers share the work and a crashed one's claims lapse.
//
// Order: a delivery is due only when no delivery of the same incident to
// the same channel from an earlier outbox message is still pending, and
// no earlier message of the same incident is still in the outbox, waiting
// to be fanned out or claimed with its deliveries; so each channel
// receives an incident's messages in the order of its events, one at a
// time. Dead and held deliveries do not hold up later
// ones.
//
// Implementations must be safe for concurrent use, by several goroutines
// and, for shared databases, by several processes.
// notifytest.TestDeliveries checks an implementation keeps this contract.
type Deliveries interface {
	// FanOut records the deliveries of the outbox entry id that owner
	// holds the claim of, one per target, and acknowledges the entry, in
	// one transaction: a crash leaves either the entry in the outbox and
	// no delivery, or the deliveries and no entry. The deliveries are
	// due at once. The errors are those of [Outbox.Ack]; targets must
	// name each channel once, with a channel name of at most
	// [MaxOutboxOwner] bytes, or FanOut fails with [ErrInvalid]. No
	// targets acknowledges the entry alone.
	FanOut(ctx context.Context, owner string, id int64, targets []DeliveryTarget) error
	// FanOutAndClaim is a dispatcher's pass over the store, in one
	// transaction. It first claims for owner, as ClaimDeliveries does,
	// up to limit due pending deliveries; say it claimed k. Then it
	// takes up to limit-k due outbox messages (not claimed, or whose
	// claim lapsed, and not held back by [Outbox.Retry]), oldest first,
	// and calls route for each, in order.
	//
	// A message with at least one target, none held back, each of whose
	// deliveries is due under the order rule, and that fits in limit
	// with the deliveries claimed before it, is claimed in the outbox
	// for owner until lease has passed, counting an attempt as
	// [Outbox.Claim] does, and nothing else is written for it: its
	// deliveries are returned with ID 0 and Attempts the message's
	// claims, and [Deliveries.Settle] records them, each with its
	// outcome, and removes the message, in one transaction. Until then
	// the message holds up the later deliveries of its incident as any
	// message in the outbox does.
	//
	// Every other message is fanned out: its deliveries are recorded,
	// one per target, while the message is removed from the outbox, and
	// each new pending delivery that is due under the order rule is
	// claimed for owner at once, as long as fewer than limit deliveries
	// are claimed in all; the others wait for a later claim.
	//
	// So a pass claims at most limit deliveries, and a backlog of due
	// deliveries slows the taking of messages rather than growing. It
	// returns every delivery it claimed, in outbox order. A crash or an
	// error leaves each message either in the outbox with no delivery,
	// or fanned out and gone from the outbox; a message claimed with its
	// deliveries stays in the outbox, and is taken again once its claim
	// lapses.
	//
	// route runs inside the transaction: it must be quick and must not
	// call the store. A [Fan] whose targets fail [CheckTargets] makes
	// FanOutAndClaim fail with [ErrInvalid] and change nothing. The
	// arguments must pass [CheckClaim]; route must not be nil.
	FanOutAndClaim(ctx context.Context, owner string, limit int, lease time.Duration, route RouteFunc) ([]Delivery, error)
	// ClaimDeliveries claims up to limit due pending deliveries for owner
	// until lease has passed and returns them in outbox order. The
	// arguments must pass [CheckClaim].
	ClaimDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]Delivery, error)
	// Delivered records that delivery id, claimed by owner, was made,
	// with the peer's receipt. A delivery claimed with its message (ID
	// 0) is recorded by Settle only. It fails with [ErrConflict] if another
	// claimer holds it or it is no longer pending, and with
	// [ErrNotFound] if there is no such delivery.
	Delivered(ctx context.Context, owner string, id int64, r Receipt) error
	// Failed gives back delivery id, claimed by owner, for another
	// attempt at at, keeping lastErr. The errors are those of Delivered.
	Failed(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error
	// Release gives back delivery id, claimed by owner, without an
	// attempt having been made (its channel's rate limit or circuit
	// breaker held it back): it is due again at at, and the claim does
	// not count as an attempt. The errors are those of Delivered.
	Release(ctx context.Context, owner string, id int64, at time.Time) error
	// Dead gives up on delivery id, claimed by owner, keeping lastErr.
	// The errors are those of Delivered.
	Dead(ctx context.Context, owner string, id int64, lastErr string) error
	// Settle records the outcomes of deliveries claimed by owner, in one
	// transaction, each as Delivered, Failed, Release or Dead would, and
	// returns one error per settlement, in order: nil for one recorded,
	// or the error Delivered would give for a delivery owner no longer
	// holds, which is left as it is while the others are recorded. Its
	// own error means nothing changed; the settlements must pass
	// [CheckSettlements] or it fails with [ErrInvalid].
	//
	// A settlement with ID 0 records a delivery FanOutAndClaim claimed
	// together with its message, named by OutboxID and Channel, with its
	// Route and Audience. The settlements of one such message come in
	// one call and name every delivery the pass returned for it: Settle
	// records them with the message's key, incident, type, payload,
	// creation time and claims, and removes the message from the
	// outbox. A Delivered one is recorded delivered, a Failed one
	// pending and due at At, a Release one pending and due at At
	// without its claim counted, a Dead one dead, each claimed by
	// nobody; a Claimed one pending and still claimed by owner until the
	// message's claim lapses, to be settled later by its ID. If owner no longer holds the message (another
	// claimer took it once the claim lapsed, or it is gone), none of
	// its deliveries is recorded, and each settlement gets the error
	// [Outbox.Ack] would give. Settle sets the ID of each settlement
	// with ID 0 it recorded to the new delivery's ID.
	Settle(ctx context.Context, owner string, settlements []Settlement) ([]error, error)
	// IncidentDeliveries lists every delivery of the incident's messages,
	// held back ones included, in outbox order and then by channel: the
	// record of who was told what, and when.
	IncidentDeliveries(ctx context.Context, incident string) ([]Delivery, error)
	// DeadDeliveries lists up to limit dead deliveries, oldest first, to
	// channel, or to any channel if channel is empty; limit must be
	// between 1 and [MaxClaim].
	DeadDeliveries(ctx context.Context, channel string, limit int) ([]Delivery, error)
	// CountDeliveries counts the pending and the dead deliveries, by
	// channel and status, in no particular order: what a dispatcher's
	// metrics report, and what an SRE alerts on.
	CountDeliveries(ctx context.Context) ([]DeliveryCount, error)
	// Replay makes dead delivery id pending again, due at once, with its
	// attempts counted from 0. It fails with [ErrNotFound] if there is no
	// such delivery and with [ErrConflict] if it is not dead.
	Replay(ctx context.Context, id int64) error
}

// Fan is what a [RouteFunc] decides for one outbox message: who the
// message is for, as the message says (kept with each delivery), and the
// deliveries it fans out to.
type Fan struct {
	// Audience is the message's audience; "" when it says none. A
	// [Dispatcher] makes it fit with [FitAudience].
	Audience Audience
	// Targets are its deliveries, as for [Deliveries.FanOut].
	Targets []DeliveryTarget
}

// FitAudience makes a message's audience fit for keeping with its
// deliveries, as [CheckSettlements] asks: invalid UTF-8 and NUL bytes
// become U+FFFD, and it is cut to [MaxOutboxOwner] bytes on a character
// boundary. A message is any JSON its writer made, and a store must not
// refuse the record of a delivery already made.
func FitAudience(a Audience) Audience {
	return Audience(fitText(string(a), MaxOutboxOwner))
}

// RouteFunc routes one outbox message for [Deliveries.FanOutAndClaim].
// It runs inside the store's transaction.
type RouteFunc func(ctx context.Context, e OutboxEntry) Fan

// SettleKind says how a delivery attempt went, for [Deliveries.Settle].
type SettleKind string

// The kinds of settlement, each recorded as the [Deliveries] method of the
// same name records it.
const (
	// SettleDelivered records the delivery made, with its Receipt.
	SettleDelivered SettleKind = "delivered"
	// SettleFailed gives the delivery back for another attempt at At,
	// keeping LastError.
	SettleFailed SettleKind = "failed"
	// SettleRelease gives the delivery back, due at At, without counting
	// the claim as an attempt.
	SettleRelease SettleKind = "release"
	// SettleDead gives up on the delivery, keeping LastError.
	SettleDead SettleKind = "dead"
	// SettleClaimed records a delivery claimed with its message (ID 0)
	// whose attempt is still going on: pending, and still claimed by
	// owner until the message's claim lapses. So the message leaves the
	// outbox, and holds up nothing more, while one of its channels is
	// slow; the attempt's outcome is recorded later, by the new ID.
	// Only for a delivery with ID 0.
	SettleClaimed SettleKind = "claimed"
)

// Settlement is the outcome of one claimed delivery, for
// [Deliveries.Settle].
type Settlement struct {
	// ID is the delivery's; 0 for a delivery claimed together with its
	// message, which OutboxID, Channel, Route and Audience describe.
	ID int64
	// OutboxID and Channel name a delivery with ID 0: the message and
	// the channel it goes to. Route and Audience are recorded with it.
	OutboxID int64
	Channel  string
	Route    string
	Audience Audience
	// Kind says how the attempt went.
	Kind SettleKind
	// Receipt is the peer's, for SettleDelivered.
	Receipt Receipt
	// At is when the delivery is due again, for SettleFailed and
	// SettleRelease.
	At time.Time
	// LastError is the attempt's error, for SettleFailed and SettleDead;
	// stores keep it made fit with [TruncateError].
	LastError string
}

// CheckSettlements checks the settlements of [Deliveries.Settle], with an
// error matching [ErrInvalid]: at most [MaxClaim] of them, each delivery
// named once, each of a known kind, and each with ID 0 naming its message
// and channel. Implementations call it first.
func CheckSettlements(settlements []Settlement) error {
	if len(settlements) > MaxClaim {
		return invalid("settlement batch", "", "must hold at most 1000 settlements")
	}
	type fanned struct {
		outbox  int64
		channel string
	}
	seen := make(map[int64]bool, len(settlements))
	var seenFanned map[fanned]bool
	for _, st := range settlements {
		switch st.Kind {
		case SettleDelivered, SettleFailed, SettleRelease, SettleDead:
		case SettleClaimed:
			if st.ID != 0 {
				return invalid("settlement kind", string(st.Kind), "is only for a delivery claimed with its message (ID 0)")
			}
		default:
			return invalid("settlement kind", string(st.Kind), "must be delivered, failed, release, dead or claimed")
		}
		if st.ID != 0 {
			if seen[st.ID] {
				return invalid("settlement batch", fmt.Sprint(st.ID), "names the delivery twice")
			}
			seen[st.ID] = true
			continue
		}
		if st.OutboxID <= 0 {
			return invalid("settlement outbox ID", fmt.Sprint(st.OutboxID), "must name the message of a delivery with ID 0")
		}
		if err := checkFanned(st); err != nil {
			return err
		}
		k := fanned{st.OutboxID, st.Channel}
		if seenFanned == nil {
			seenFanned = make(map[fanned]bool)
		}
		if seenFanned[k] {
			return invalid("settlement batch", fmt.Sprintf("%d/%s", st.OutboxID, st.Channel), "names the delivery twice")
		}
		seenFanned[k] = true
	}
	return nil
}

// MessageSettlements are the settlements of one message claimed with its
// deliveries, for [Deliveries.Settle]: its outbox ID, and the indexes of
// its settlements in the batch.
type MessageSettlements struct {
	OutboxID int64
	Index    []int
}

// ByMessage groups the settlements with ID 0 by message, in the order the
// messages first appear: what a store records together, with the
// message's removal from the outbox.
func ByMessage(settlements []Settlement) []MessageSettlements {
	var out []MessageSettlements
	at := make(map[int64]int)
	for i, st := range settlements {
		if st.ID != 0 {
			continue
		}
		j, ok := at[st.OutboxID]
		if !ok {
			j = len(out)
			at[st.OutboxID] = j
			out = append(out, MessageSettlements{OutboxID: st.OutboxID})
		}
		out[j].Index = append(out[j].Index, i)
	}
	return out
}

// checkFanned checks the channel, route and audience of a settlement
// with ID 0, as [CheckTargets] checks a target's and a [Fan] fits its
// audience.
func checkFanned(st Settlement) error {
	if st.Channel == "" {
		return invalid("settlement channel", "", "must name the channel of a delivery with ID 0")
	}
	if err := checkText("delivery channel", st.Channel, MaxOutboxOwner); err != nil {
		return err
	}
	if err := checkText("delivery route", st.Route, MaxOutboxOwner); err != nil {
		return err
	}
	return checkText("delivery audience", string(st.Audience), MaxOutboxOwner)
}

// DeliveryCount is how many deliveries to one channel have one status.
type DeliveryCount struct {
	Channel string
	Status  DeliveryStatus
	N       int64
}

// CheckTargets checks the targets of [Deliveries.FanOut], with an error
// matching [ErrInvalid]. Implementations call it first.
func CheckTargets(targets []DeliveryTarget) error {
	seen := make(map[string]bool, len(targets))
	for _, t := range targets {
		if err := checkText("delivery channel", t.Channel, MaxOutboxOwner); err != nil {
			return err
		}
		if err := checkText("delivery route", t.Route, MaxOutboxOwner); err != nil {
			return err
		}
		switch {
		case t.Channel == "":
			return invalid("delivery channel", "", "must not be empty")
		case seen[t.Channel]:
			return invalid("delivery channel", t.Channel, "is named twice")
		}
		seen[t.Channel] = true
	}
	return nil
}

// CheckDeadList checks the arguments of [Deliveries.DeadDeliveries].
func CheckDeadList(channel string, limit int) error {
	if err := checkText("delivery channel", channel, MaxOutboxOwner); err != nil {
		return err
	}
	if limit < 1 || limit > MaxClaim {
		return invalid("dead delivery limit", "", "must be between 1 and 1000")
	}
	return nil
}

// DeliveryAudience reads the audience of an outbox payload, for stores
// that record it with each delivery; "" when the payload says none or is
// not a [Message].
func DeliveryAudience(payload []byte) Audience {
	m, err := DecodeMessage(payload)
	if err != nil {
		return ""
	}
	return m.Audience
}

// EventNotificationFailed is the type of the event an incident's timeline
// gets when one of its notifications is dead. Its data names the channel
// that failed ({"channel": …}); a [Dispatcher] never delivers such an
// event to that channel, and does not report the failure of its own
// delivery, so that a failing channel causes no loop.
const EventNotificationFailed = "notification_failed"

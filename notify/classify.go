package notify

import (
	"errors"
	"fmt"
	"time"
)

// The classes of delivery errors a [Notifier] returns, read with
// [errors.Is]. Wrap an error in its class with [Permanent], [Retry],
// [RateLimited], [Unauthorized] or [Gone]; [HTTPError] does it for HTTP
// replies.
var (
	// ErrPermanent means the message cannot be delivered as it is:
	// retrying would fail the same way. [ErrUnauthorized] and [ErrGone]
	// match it too.
	ErrPermanent = errors.New("notify: permanent delivery failure")
	// ErrRetry means the delivery failed for now and is worth trying
	// again, after the time [RetryAfter] gives if the peer said.
	// [ErrRateLimited] matches it too.
	ErrRetry = errors.New("notify: temporary delivery failure")
	// ErrRateLimited means the peer refused the message because too many
	// were sent; retry after the time [RetryAfter] gives.
	ErrRateLimited = errors.New("notify: rate limited")
	// ErrUnauthorized means the peer refused the channel's credentials:
	// nothing will get through until they are fixed.
	ErrUnauthorized = errors.New("notify: unauthorized")
	// ErrGone means the endpoint no longer exists (a deleted webhook):
	// the channel should be disabled until it is configured again.
	ErrGone = errors.New("notify: endpoint gone")
)

// DeliveryError is a classified delivery error. It matches its Class,
// and the classes that class belongs to, with [errors.Is], and unwraps to
// the error it classifies.
type DeliveryError struct {
	// Class is one of [ErrPermanent], [ErrRetry], [ErrRateLimited],
	// [ErrUnauthorized] and [ErrGone].
	Class error
	// After is how long the peer asked to wait before trying again; 0
	// when it did not say.
	After time.Duration
	// Err is the error classified; it may be nil.
	Err error
}

func (e *DeliveryError) Error() string {
	msg := e.Class.Error()
	if e.After > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.After)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the error classified.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Is reports whether target is e's class or a class it belongs to.
func (e *DeliveryError) Is(target error) bool {
	switch target {
	case e.Class:
		return true
	case ErrPermanent:
		return e.Class == ErrUnauthorized || e.Class == ErrGone
	case ErrRetry:
		return e.Class == ErrRateLimited
	}
	return false
}

// Permanent classifies err as not worth retrying ([ErrPermanent]).
func Permanent(err error) error { return &DeliveryError{Class: ErrPermanent, Err: err} }

// Retry classifies err as worth retrying ([ErrRetry]), no earlier than
// after has passed if after is positive.
func Retry(err error, after time.Duration) error {
	return &DeliveryError{Class: ErrRetry, After: max(after, 0), Err: err}
}

// RateLimited classifies err as a refusal for sending too much
// ([ErrRateLimited]), to retry no earlier than after has passed if after
// is positive.
func RateLimited(err error, after time.Duration) error {
	return &DeliveryError{Class: ErrRateLimited, After: max(after, 0), Err: err}
}

// Unauthorized classifies err as a refusal of the channel's credentials
// ([ErrUnauthorized]).
func Unauthorized(err error) error { return &DeliveryError{Class: ErrUnauthorized, Err: err} }

// Gone classifies err as the endpoint no longer existing ([ErrGone]).
func Gone(err error) error { return &DeliveryError{Class: ErrGone, Err: err} }

// Classify returns the class of a delivery error: the most specific of
// [ErrRateLimited], [ErrUnauthorized], [ErrGone], [ErrPermanent] and
// [ErrRetry] that err matches. An error of no class (a network failure,
// a deadline passed) is worth retrying: Classify returns [ErrRetry]; so
// it does for a canceled context, whose delivery was cut short rather
// than refused. A nil error has no class: Classify returns nil.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	for _, class := range []error{ErrRateLimited, ErrUnauthorized, ErrGone, ErrPermanent, ErrRetry} {
		if errors.Is(err, class) {
			return class
		}
	}
	return ErrRetry
}

// RetryAfter returns how long the peer asked to wait before the next
// attempt, if err says ([Retry] or [RateLimited] with a positive after,
// or [HTTPError] with a Retry-After header).
func RetryAfter(err error) (time.Duration, bool) {
	var de *DeliveryError
	if errors.As(err, &de) && de.After > 0 {
		return de.After, true
	}
	return 0, false
}

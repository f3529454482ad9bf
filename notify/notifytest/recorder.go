package notifytest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/incidentkit/incidentkit/notify"
)

// Recorder is a notify.Notifier for tests: it keeps every message it is
// given, in the order given, and can be made to fail. It is safe for
// concurrent use. The zero Recorder records everything.
type Recorder struct {
	// Fail, if set, is called with each message and the number of
	// messages given so far, this one included; an error it returns is
	// returned by Notify and the message is not recorded. Set it before
	// the first Notify.
	Fail func(m notify.Message, n int) error

	mu    sync.Mutex
	given int
	msgs  []notify.Message
}

// Notify records m and returns a receipt whose ID numbers it: "rec-1",
// "rec-2", … It fails, recording nothing, when ctx is done or Fail says so.
func (r *Recorder) Notify(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, notify.Retry(err, 0)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.given++
	if r.Fail != nil {
		if err := r.Fail(m, r.given); err != nil {
			return notify.Receipt{}, err
		}
	}
	r.msgs = append(r.msgs, clone(m))
	return notify.Receipt{ID: fmt.Sprintf("rec-%d", len(r.msgs))}, nil
}

// Messages returns the messages recorded, in the order they were given.
func (r *Recorder) Messages() []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]notify.Message, len(r.msgs))
	for i, m := range r.msgs {
		out[i] = clone(m)
	}
	return out
}

// clone returns a copy of m that shares no slice with it.
func clone(m notify.Message) notify.Message {
	m.Incident.Labels = slices.Clone(m.Incident.Labels)
	m.Event.Data = slices.Clone(m.Event.Data)
	m.Links = slices.Clone(m.Links)
	return m
}

// Keys returns the keys of the messages recorded, in order.
func (r *Recorder) Keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, len(r.msgs))
	for i, m := range r.msgs {
		keys[i] = m.Key
	}
	return keys
}

// Given returns how many messages Notify was given, failed ones included.
func (r *Recorder) Given() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.given
}

// Reset forgets every message.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs, r.given = nil, 0
}

var _ notify.Notifier = (*Recorder)(nil)

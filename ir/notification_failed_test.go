package ir_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/phases"
)

// TestNotificationFailed lets a channel fail for good and checks that the
// incident's timeline records it, that a route sends the failure to a
// fallback channel and never back to the failing one, and that the
// fallback's own failure is not reported in turn.
func TestNotificationFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := irtest.NewClock(irtest.Epoch)
	store := ir.NewMemoryStore(ir.MemoryClock(clock))
	r, err := ir.NewResponder(ir.Config{Store: store, Outbox: true, Clock: clock, IDs: &irtest.IDs{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Shutdown(ctx) })
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "chat"}, {Name: "pager"}},
		Routes: []notify.Route{
			{Name: "failures", Events: []string{notify.EventNotificationFailed}, Channels: []string{"pager", "chat"}},
			{Name: "everything", Channels: []string{"chat"}},
		},
	})
	require.NoError(t, err)
	gone := func(notify.Message, int) error { return notify.Gone(errors.New("410 Gone")) }
	chat := &notifytest.Recorder{Fail: gone}
	pager := &notifytest.Recorder{}
	dispatcherActor := ir.Actor{ID: "notify-dispatcher", Name: "Notification dispatcher", Kind: ir.ActorService}
	newDispatcher := func(pager notify.Notifier) *notify.Dispatcher {
		d, err := notify.NewDispatcher(notify.DispatcherConfig{
			Outbox: store, Deliveries: store, Router: router, Clock: clock, Owner: "d",
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Channels: map[string]notify.Notifier{"chat": chat, "pager": pager},
			OnDead: func(ctx context.Context, d notify.Delivery, _ error) error {
				_, err := r.RecordNotificationFailed(ctx, dispatcherActor, d)
				return err
			},
		})
		require.NoError(t, err)
		return d
	}
	d := newDispatcher(pager)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Ransomware on a file server", Severity: ir.SeverityCritical})
	require.NoError(t, err)
	for range 4 {
		_, err := d.RunOnce(ctx)
		require.NoError(t, err)
		clock.Advance(time.Minute)
	}
	events, err := r.Timeline(ctx, inc.ID, ir.TimelineQuery{})
	require.NoError(t, err)
	var failed []*ir.NotificationFailed
	for _, e := range events.Events {
		if nf, ok := e.Data.(*ir.NotificationFailed); ok {
			failed = append(failed, nf)
			assert.Equal(t, dispatcherActor.ID, e.Actor.ID)
		}
	}
	require.Len(t, failed, 1, "one failure, recorded once")
	assert.Equal(t, "chat", failed[0].Channel)
	assert.Equal(t, ir.EventOpened, failed[0].Event)
	assert.Contains(t, failed[0].Error, "410 Gone")
	require.Len(t, pager.Messages(), 1, "the failure reached the fallback")
	assert.Equal(t, notify.EventNotificationFailed, pager.Messages()[0].Event.Type)
	assert.Equal(t, 1, chat.Given(), "the failure was sent to the channel that failed")

	// A fallback that fails too is not reported in turn.
	_, err = r.Transition(ctx, alice, inc.ID, phases.Identify, "encrypted shares")
	require.NoError(t, err)
	d = newDispatcher(&notifytest.Recorder{Fail: gone})
	for range 6 {
		_, err := d.RunOnce(ctx)
		require.NoError(t, err)
		clock.Advance(time.Minute)
	}
	events, err = r.Timeline(ctx, inc.ID, ir.TimelineQuery{})
	require.NoError(t, err)
	n := 0
	for _, e := range events.Events {
		if e.Type == ir.EventNotificationFailed {
			n++
		}
	}
	assert.Equal(t, 2, n, "the phase change's failure is recorded; the failed report of it is not")
}

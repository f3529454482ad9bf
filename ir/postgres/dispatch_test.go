package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// TestDispatcherWakes runs a dispatcher that polls once an hour and checks
// that a change committed through another Store wakes it: the store is a
// notify.Waiter.
func TestDispatcherWakes(t *testing.T) {
	testDSN(t)
	st := newStore(t, nil)
	var _ notify.Waiter = st
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "a"}},
		Routes: []notify.Route{{Channels: []string{"a"}}}})
	require.NoError(t, err)
	rec := &notifytest.Recorder{}
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: st, Deliveries: st, Router: router,
		Channels: map[string]notify.Notifier{"a": rec}, PollInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		assert.NoError(t, <-done)
	}()

	// A notification sent before the dispatcher listens is missed, so
	// the writer keeps writing until one is delivered.
	writer := irtest.OutboxStore(st)
	n := 0
	require.Eventually(t, func() bool {
		if len(rec.Keys()) > 0 {
			return true
		}
		n++
		msg := notify.OutboxMessage{Key: fmt.Sprintf("INC-%06d/1/1", n), Incident: fmt.Sprintf("INC-%06d", n),
			Type: "opened", Payload: []byte(`{"incident":{"tlp":"TLP:GREEN"},"event":{"type":"opened"}}`)}
		require.NoError(t, writer.Write(context.Background(), []notify.OutboxMessage{msg}))
		return false
	}, 20*time.Second, 50*time.Millisecond, "the dispatcher was not woken by a change")
}

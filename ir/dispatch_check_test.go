package ir_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// checked is a notifier whose configuration check fails with err.
type checked struct {
	notifytest.Recorder
	err error
}

func (c *checked) Check(context.Context) error { return c.err }

// TestDispatcherCheck checks that the dispatcher checks every channel that
// can be checked and names each that fails.
func TestDispatcherCheck(t *testing.T) {
	t.Parallel()
	store := ir.NewMemoryStore()
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "good"}, {Name: "bad"}, {Name: "plain"}, {Name: "worse"}},
		Routes:   []notify.Route{{Channels: []string{"good", "bad", "plain", "worse"}}},
	})
	require.NoError(t, err)
	bad, worse := errors.New("no such host"), errors.New("bad token")
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: store, Deliveries: store, Router: router,
		Channels: map[string]notify.Notifier{"good": &checked{}, "bad": &checked{err: bad}, "plain": &notifytest.Recorder{},
			"worse": &checked{err: worse}}})
	require.NoError(t, err)
	err = d.Check(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, bad)
	assert.ErrorIs(t, err, worse)
	assert.Contains(t, err.Error(), "channel bad")
	assert.Contains(t, err.Error(), "channel worse")
	assert.NotContains(t, err.Error(), "channel good")

	// A channel the routes name without a notifier is refused up front.
	_, err = notify.NewDispatcher(notify.DispatcherConfig{Outbox: store, Deliveries: store, Router: router,
		Channels: map[string]notify.Notifier{"good": &checked{}}})
	assert.ErrorIs(t, err, notify.ErrInvalid)
	assert.Contains(t, err.Error(), `"bad"`)
}

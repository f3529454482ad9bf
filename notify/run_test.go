package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

// pacedOutbox is an outbox and its deliveries: each pass takes per
// messages, or only at each of the first passes if passes is set, and
// routes them; no delivery is ever due. It notes when each pass was made.
type pacedOutbox struct {
	notify.Deliveries
	mu     sync.Mutex
	per    int
	passes int
	next   int64
	claims []time.Time
}

func (o *pacedOutbox) Claim(context.Context, string, int, time.Duration) ([]notify.OutboxEntry, error) {
	return nil, nil
}

func (o *pacedOutbox) FanOutAndClaim(ctx context.Context, _ string, limit int, _ time.Duration, route notify.RouteFunc) ([]notify.Delivery, error) {
	o.mu.Lock()
	o.claims = append(o.claims, time.Now())
	n := min(o.per, limit)
	if o.passes > 0 && len(o.claims) > o.passes {
		n = 0
	}
	entries := make([]notify.OutboxEntry, n)
	for i := range entries {
		o.next++
		inc := fmt.Sprintf("INC-%06d", o.next)
		entries[i] = notify.OutboxEntry{ID: o.next, OutboxMessage: notify.OutboxMessage{Key: inc + "/1/1", Incident: inc,
			Type: "opened", Payload: []byte(`{"incident":{"tlp":"TLP:GREEN"},"event":{"type":"opened"}}`)}}
	}
	o.mu.Unlock()
	for _, e := range entries {
		route(ctx, e)
	}
	return nil, nil
}

func (o *pacedOutbox) Ack(context.Context, string, int64) error { return nil }

func (o *pacedOutbox) Retry(context.Context, string, int64, time.Time, string) error { return nil }

// gaps returns the time between each claim and the one before it.
func (o *pacedOutbox) gaps() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(o.claims); i++ {
		out = append(out, o.claims[i].Sub(o.claims[i-1]))
	}
	return out
}

// quietOutbox is a pacedOutbox that is a notify.Quieter: Quiet returns
// when the test says the store is quiet, and notes each call.
type quietOutbox struct {
	pacedOutbox
	quiet chan struct{} // closed when the store is quiet
	asked []time.Duration
}

func (o *quietOutbox) Quiet(ctx context.Context, d time.Duration) error {
	o.mu.Lock()
	o.asked = append(o.asked, d)
	o.mu.Unlock()
	select {
	case <-o.quiet:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pacer is a pacedOutbox, or a store built on one.
type pacer interface {
	notify.Outbox
	notify.Deliveries
}

// runDispatcher runs a dispatcher on outbox with cfg's pacing until the
// bubble's time has moved by span, and stops it.
func runDispatcher(t *testing.T, outbox pacer, span time.Duration, tweak func(*notify.DispatcherConfig)) {
	t.Helper()
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "a"}},
		Routes: []notify.Route{{Channels: []string{"a"}}}})
	require.NoError(t, err)
	cfg := notify.DispatcherConfig{Outbox: outbox, Deliveries: outbox, Router: router,
		Channels: map[string]notify.Notifier{"a": notify.NotifierFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
			return notify.Receipt{}, nil
		})},
		Batch: 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tweak != nil {
		tweak(&cfg)
	}
	d, err := notify.NewDispatcher(cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, d.Close()) }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(span) // the bubble's clock: it moves when every goroutine waits
	cancel()
	require.NoError(t, <-done)
}

// repeat returns n copies of d.
func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestRunPacing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		per   int // messages at each claim, of a batch of 10
		tweak func(*notify.DispatcherConfig)
		span  time.Duration
		want  []time.Duration
	}{
		{name: "a small pass lingers 100ms by default", per: 3, span: 450 * time.Millisecond,
			want: repeat(100*time.Millisecond, 4)},
		{name: "linger as configured", per: 3, span: 130 * time.Millisecond,
			tweak: func(c *notify.DispatcherConfig) { c.Linger = 25 * time.Millisecond },
			want:  repeat(25*time.Millisecond, 5)},
		{name: "a shorter poll interval bounds the default linger", per: 3, span: 45 * time.Millisecond,
			tweak: func(c *notify.DispatcherConfig) { c.PollInterval = 10 * time.Millisecond },
			want:  repeat(10*time.Millisecond, 4)},
		{name: "nothing to do waits the poll interval", per: 0, span: 2500 * time.Millisecond,
			want: repeat(time.Second, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				o := &pacedOutbox{per: tc.per}
				runDispatcher(t, o, tc.span, tc.tweak)
				assert.Equal(t, tc.want, o.gaps())
			})
		})
	}
}

func TestRunFullPassesGoOnAtOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		per    int
		linger time.Duration
	}{
		{name: "full passes", per: 10},
		{name: "small passes without linger", per: 3, linger: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				// Five passes with work follow one another at once; the
				// sixth finds nothing, and the seventh comes a poll
				// interval later.
				o := &pacedOutbox{per: tc.per, passes: 5}
				runDispatcher(t, o, 1500*time.Millisecond, func(c *notify.DispatcherConfig) { c.Linger = tc.linger })
				assert.Equal(t, append(repeat(0, 5), time.Second), o.gaps())
			})
		})
	}
}

func TestRunWaitsForQuiet(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o := &quietOutbox{pacedOutbox: pacedOutbox{per: 3}, quiet: make(chan struct{})}
		router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "a"}},
			Routes: []notify.Route{{Channels: []string{"a"}}}})
		require.NoError(t, err)
		d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: o, Deliveries: o, Router: router,
			Channels: map[string]notify.Notifier{"a": notify.NotifierFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
				return notify.Receipt{}, nil
			})},
			Batch: 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		defer func() { require.NoError(t, d.Close()) }()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- d.Run(ctx) }()

		// A store that is never quiet: each pass waits the poll interval
		// for it, then goes ahead, lingering after each small one.
		time.Sleep(2500 * time.Millisecond)
		o.mu.Lock()
		assert.Equal(t, []time.Time{start.Add(time.Second), start.Add(2100 * time.Millisecond)}, o.claims)
		assert.Equal(t, repeat(50*time.Millisecond, 3), o.asked, "the default quiet is asked for before each pass")
		o.mu.Unlock()

		// Once it is quiet, passes follow the linger alone.
		close(o.quiet)
		synctest.Wait()
		o.mu.Lock()
		o.claims = o.claims[:0]
		o.mu.Unlock()
		time.Sleep(350 * time.Millisecond)
		cancel()
		require.NoError(t, <-done)
		assert.Equal(t, repeat(100*time.Millisecond, 2), o.gaps())
	})
}

func TestRunNegativeQuietDoesNotWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o := &quietOutbox{pacedOutbox: pacedOutbox{per: 3}, quiet: make(chan struct{})}
		runDispatcher(t, o, 250*time.Millisecond, func(c *notify.DispatcherConfig) { c.Quiet = -1 })
		assert.Empty(t, o.asked)
		assert.Equal(t, repeat(100*time.Millisecond, 2), o.gaps())
	})
}

// leasedDeliveries hands out n claimed deliveries at the first pass and
// keeps the settlements it is given.
type leasedDeliveries struct {
	notify.Deliveries
	mu      sync.Mutex
	n       int
	settled []notify.Settlement
}

func (l *leasedDeliveries) FanOutAndClaim(context.Context, string, int, time.Duration, notify.RouteFunc) ([]notify.Delivery, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]notify.Delivery, l.n)
	for i := range out {
		inc := fmt.Sprintf("INC-%06d", i+1)
		out[i] = notify.Delivery{ID: int64(i + 1), OutboxID: int64(i + 1), Key: inc + "/1/1", Incident: inc, Type: "opened",
			Channel: "slow", Status: notify.StatusPending, Attempts: 1, CreatedAt: time.Now(),
			Payload: []byte(`{"incident":{"id":"` + inc + `","tlp":"TLP:GREEN"},"event":{"type":"opened"}}`)}
	}
	l.n = 0
	return out, nil
}

func (l *leasedDeliveries) Settle(_ context.Context, _ string, sts []notify.Settlement) ([]error, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.settled = append(l.settled, sts...)
	return make([]error, len(sts)), nil
}

// TestPassBeginsNoAttemptItsLeaseCannotCover checks that a pass whose
// attempts hang gives back, unattempted, the deliveries it could only
// begin too late for its claim to cover them.
func TestPassBeginsNoAttemptItsLeaseCannotCover(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &leasedDeliveries{n: 3}
		router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "slow"}},
			Routes: []notify.Route{{Channels: []string{"slow"}}}})
		require.NoError(t, err)
		var calls sync.Map
		d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: &pacedOutbox{}, Deliveries: store, Router: router,
			Channels: map[string]notify.Notifier{"slow": notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
				calls.Store(m.Key, true)
				<-ctx.Done() // a peer that never answers
				return notify.Receipt{}, ctx.Err()
			})},
			Limits:  map[string]notify.ChannelLimits{"slow": {BreakAfter: -1}},
			Workers: 1, Lease: 300 * time.Millisecond, AttemptTimeout: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		defer func() { require.NoError(t, d.Close()) }()
		_, err = d.RunOnce(context.Background())
		require.NoError(t, err)

		n := 0
		calls.Range(func(any, any) bool { n++; return true })
		assert.Equal(t, 1, n, "only the first attempt could end within the claim")
		require.Len(t, store.settled, 3)
		kinds := map[int64]notify.SettleKind{}
		for _, st := range store.settled {
			kinds[st.ID] = st.Kind
		}
		assert.Equal(t, map[int64]notify.SettleKind{1: notify.SettleFailed, 2: notify.SettleRelease, 3: notify.SettleRelease}, kinds)
	})
}

package notifytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

// TestDispatcher runs a [notify.Dispatcher] against the stores newStore
// makes, with a fake clock and [Recorder] channels, and checks what
// reaches each channel: one delivery per routed channel with its own
// state, nothing sent past a channel's TLP clearance, an incident's
// messages in order, retries with backoff honouring Retry-After, dead
// deliveries after a permanent error or past the attempt and age limits,
// replay, a graceful stop that leaves the rest for the next dispatcher,
// and several dispatchers sharing one store. newStore is as for
// [TestDeliveries]. Subtests run in parallel.
func TestDispatcher(t *testing.T, newStore func(t *testing.T, clock *Clock) DeliveryStore) {
	s := dispatcherSuite{deliverySuite{newStore: newStore}}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"FanOut", s.testFanOut},
		{"Order", s.testOrder},
		{"RetryAfter", s.testRetryAfter},
		{"Permanent", s.testPermanent},
		{"AttemptLimit", s.testAttemptLimit},
		{"AgeLimit", s.testAgeLimit},
		{"Backoff", s.testBackoff},
		{"Shutdown", s.testShutdown},
		{"SharedStore", s.testShared},
		{"RateLimit", s.testRateLimit},
		{"Breaker", s.testBreaker},
		{"Unreadable", s.testUnreadable},
		{"Batches", s.testBatches},
		{"RecordedTogether", s.testRecordedTogether},
		{"UnfitAudience", s.testUnfitAudience},
		{"SlowChannelHoldsUpNothing", s.testSlowChannel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type dispatcherSuite struct{ deliverySuite }

// routing sends every message to each of channels; channel "green" is
// cleared for TLP:GREEN only.
func routing(t *testing.T, channels ...string) *notify.Router {
	t.Helper()
	var r notify.Routing
	for _, c := range channels {
		rule := notify.ChannelRule{Name: c}
		if c == "green" {
			rule.MaxTLP = notify.TLPGreen
		}
		r.Channels = append(r.Channels, rule)
	}
	r.Routes = []notify.Route{{Name: "all", Channels: channels}}
	rt, err := notify.NewRouter(r)
	require.NoError(t, err)
	return rt
}

// dispatcher returns a dispatcher on st with a channel per recorder and
// backoff without jitter: the n-th retry waits one second times 2ⁿ⁻¹.
func dispatcher(t *testing.T, st DeliveryStore, clock *Clock, owner string, channels map[string]*Recorder, tweak func(*notify.DispatcherConfig)) *notify.Dispatcher {
	t.Helper()
	names := make([]string, 0, len(channels))
	notifiers := make(map[string]notify.Notifier, len(channels))
	for name, r := range channels {
		names = append(names, name)
		notifiers[name] = r
	}
	cfg := notify.DispatcherConfig{
		Outbox: st.Outbox, Deliveries: st.Deliveries, Router: routing(t, sorted(names)...), Channels: notifiers,
		Owner: owner, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lease: time.Minute, AttemptTimeout: 10 * time.Second, PollInterval: time.Millisecond,
		MinBackoff: time.Second, MaxBackoff: time.Minute, MaxAttempts: 5, MaxAge: time.Hour,
		Jitter: func(n time.Duration) time.Duration { return n },
	}
	if tweak != nil {
		tweak(&cfg)
	}
	d, err := notify.NewDispatcher(cfg)
	require.NoError(t, err)
	return d
}

func sorted(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// notice writes n messages about incident, marked tlp, and returns their
// keys.
func notice(t *testing.T, st DeliveryStore, incident, tlp string, n int) []string {
	t.Helper()
	var keys []string
	for range n {
		key := fmt.Sprintf("%s/%d", incident, len(keys)+1)
		m := Message()
		m.Key, m.Incident.ID, m.Event.IncidentID, m.Incident.TLP = key, incident, incident, tlp
		p, err := json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, st.Write(context.Background(), []notify.OutboxMessage{{Key: key, Incident: incident, Type: m.Event.Type, Payload: p}}))
		keys = append(keys, key)
	}
	return keys
}

// pass runs one dispatcher pass and fails the test on error.
func pass(t *testing.T, d *notify.Dispatcher) {
	t.Helper()
	_, err := d.RunOnce(context.Background())
	require.NoError(t, err)
}

func byChannel(t *testing.T, st DeliveryStore, incident string) map[string]notify.Delivery {
	t.Helper()
	all, err := st.IncidentDeliveries(context.Background(), incident)
	require.NoError(t, err)
	out := make(map[string]notify.Delivery)
	for _, d := range all {
		out[d.Channel] = d
	}
	return out
}

func (s dispatcherSuite) testFanOut(t *testing.T) {
	st, clock := s.store(t)
	a, b, green := &Recorder{}, &Recorder{Fail: func(_ notify.Message, n int) error {
		if n <= 2 {
			return notify.Retry(errors.New("b is down"), 0)
		}
		return nil
	}}, &Recorder{}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a, "b": b, "green": green}, nil)
	const inc = "INC-000001"
	keys := notice(t, st, inc, string(notify.TLPAmber), 1)
	pass(t, d)
	assert.Equal(t, keys, a.Keys())
	assert.Equal(t, 1, b.Given())
	assert.Zero(t, green.Given(), "a TLP:AMBER message reached a channel cleared for GREEN")
	got := byChannel(t, st, inc)
	assert.Equal(t, notify.StatusDelivered, got["a"].Status)
	assert.Equal(t, "rec-1", got["a"].Receipt.ID)
	assert.Equal(t, notify.StatusPending, got["b"].Status)
	assert.Contains(t, got["b"].LastError, "b is down")
	assert.True(t, got["b"].NextAt.Equal(clock.Now().Add(time.Second)), "next attempt at %v", got["b"].NextAt)
	assert.Equal(t, notify.StatusHeld, got["green"].Status)
	assert.Contains(t, got["green"].LastError, "TLP:GREEN", "a held delivery does not say why")

	pass(t, d)
	assert.Equal(t, 1, b.Given(), "a retry came before its time")
	clock.Advance(time.Second)
	pass(t, d)
	assert.Equal(t, 2, b.Given())
	clock.Advance(2 * time.Second)
	pass(t, d)
	assert.Equal(t, keys, b.Keys())
	assert.Equal(t, keys, a.Keys(), "a failing channel made another deliver twice")
	assert.Equal(t, notify.StatusDelivered, byChannel(t, st, inc)["b"].Status)
	assert.Equal(t, 3, byChannel(t, st, inc)["b"].Attempts)
}

func (s dispatcherSuite) testOrder(t *testing.T) {
	st, clock := s.store(t)
	a := &Recorder{Fail: func(m notify.Message, n int) error {
		if m.Key == "INC-000002/2" && n == 2 {
			return errors.New("hiccup")
		}
		return nil
	}}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a}, nil)
	keys := notice(t, st, "INC-000002", string(notify.TLPGreen), 5)
	other := notice(t, st, "INC-000003", string(notify.TLPGreen), 1)
	for range 10 {
		pass(t, d)
		clock.Advance(time.Second)
	}
	var mine []string
	for _, k := range a.Keys() {
		if k != other[0] {
			mine = append(mine, k)
		}
	}
	assert.Equal(t, keys, mine, "an incident's messages reached the channel out of order")
	assert.Contains(t, a.Keys(), other[0])
}

func (s dispatcherSuite) testRetryAfter(t *testing.T) {
	st, clock := s.store(t)
	a := &Recorder{Fail: func(_ notify.Message, n int) error {
		if n == 1 {
			return notify.RateLimited(errors.New("429"), 10*time.Minute)
		}
		return nil
	}}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a}, nil)
	notice(t, st, "INC-000004", string(notify.TLPGreen), 1)
	pass(t, d)
	clock.Advance(10*time.Minute - time.Second)
	pass(t, d)
	assert.Equal(t, 1, a.Given(), "Retry-After not honoured")
	clock.Advance(time.Second)
	pass(t, d)
	assert.Len(t, a.Keys(), 1)
}

func (s dispatcherSuite) testPermanent(t *testing.T) {
	st, clock := s.store(t)
	var (
		fixed bool
		mu    sync.Mutex
		dead  []notify.Delivery
	)
	a := &Recorder{Fail: func(notify.Message, int) error {
		if !fixed {
			return notify.Gone(errors.New("410"))
		}
		return nil
	}}
	b := &Recorder{}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a, "b": b}, func(c *notify.DispatcherConfig) {
		c.OnDead = func(_ context.Context, dl notify.Delivery, err error) error {
			mu.Lock()
			defer mu.Unlock()
			assert.ErrorIs(t, err, notify.ErrGone)
			dead = append(dead, dl)
			return nil
		}
	})
	keys := notice(t, st, "INC-000005", string(notify.TLPGreen), 2)
	for range 3 {
		pass(t, d)
		clock.Advance(time.Hour)
	}
	assert.Equal(t, 2, a.Given(), "a permanent error was retried")
	assert.Equal(t, keys, b.Keys())
	mu.Lock()
	require.Len(t, dead, 2)
	assert.Equal(t, "a", dead[0].Channel)
	assert.Equal(t, notify.StatusDead, dead[0].Status)
	mu.Unlock()
	list, err := st.DeadDeliveries(context.Background(), "a", 10)
	require.NoError(t, err)
	assert.Len(t, list, 2)

	fixed = true
	n, err := d.ReplayChannel(context.Background(), "a")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	pass(t, d)
	pass(t, d)
	assert.Equal(t, keys, a.Keys(), "replayed deliveries out of order or missing")
	list, err = st.DeadDeliveries(context.Background(), "", 10)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func (s dispatcherSuite) testAttemptLimit(t *testing.T) {
	st, clock := s.store(t)
	a := &Recorder{Fail: func(notify.Message, int) error { return errors.New("connection refused") }}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a}, nil)
	notice(t, st, "INC-000006", string(notify.TLPGreen), 1)
	for range 10 {
		pass(t, d)
		clock.Advance(time.Minute)
	}
	assert.Equal(t, 5, a.Given(), "attempts past the limit")
	got := byChannel(t, st, "INC-000006")["a"]
	assert.Equal(t, notify.StatusDead, got.Status)
	assert.Contains(t, got.LastError, "gave up after 5 attempts")
}

func (s dispatcherSuite) testAgeLimit(t *testing.T) {
	st, clock := s.store(t)
	a := &Recorder{Fail: func(notify.Message, int) error { return errors.New("connection refused") }}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a}, func(c *notify.DispatcherConfig) { c.MaxAttempts = 100 })
	notice(t, st, "INC-000007", string(notify.TLPGreen), 1)
	pass(t, d)
	clock.Advance(time.Hour)
	pass(t, d)
	assert.Equal(t, 2, a.Given())
	assert.Equal(t, notify.StatusDead, byChannel(t, st, "INC-000007")["a"].Status)
}

func (s dispatcherSuite) testBackoff(t *testing.T) {
	st, clock := s.store(t)
	var (
		mu       sync.Mutex
		ceilings []time.Duration
	)
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": {}}, func(c *notify.DispatcherConfig) {
		c.MinBackoff, c.MaxBackoff = time.Second, 5*time.Second
		c.Jitter = func(n time.Duration) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			ceilings = append(ceilings, n)
			return n / 2
		}
	})
	for attempt := 1; attempt <= 5; attempt++ {
		d.Backoff(attempt)
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}, ceilings)
	assert.Equal(t, 2500*time.Millisecond, d.Backoff(10), "the jitter's draw is the wait")
}

func (s dispatcherSuite) testShutdown(t *testing.T) {
	st, clock := s.store(t)
	entered := make(chan struct{})
	var once sync.Once
	hang := notify.NotifierFunc(func(ctx context.Context, _ notify.Message) (notify.Receipt, error) {
		once.Do(func() { close(entered) })
		<-ctx.Done()
		return notify.Receipt{}, notify.Retry(ctx.Err(), 0)
	})
	cfg := notify.DispatcherConfig{Outbox: st.Outbox, Deliveries: st.Deliveries, Router: routing(t, "a"),
		Channels: map[string]notify.Notifier{"a": hang}, Owner: "first", Clock: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: time.Millisecond}
	first, err := notify.NewDispatcher(cfg)
	require.NoError(t, err)
	keys := notice(t, st, "INC-000008", string(notify.TLPGreen), 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	<-entered
	cancel()
	require.NoError(t, <-done)

	// The next dispatcher delivers everything at once, in order, without
	// waiting for a lease or a backoff.
	rec := &Recorder{}
	next := dispatcher(t, st, clock, "second", map[string]*Recorder{"a": rec}, nil)
	pass(t, next)
	pass(t, next)
	assert.Equal(t, keys, rec.Keys())
}

func (s dispatcherSuite) testShared(t *testing.T) {
	st, clock := s.store(t)
	recs := map[string]*Recorder{"a": {}, "b": {}}
	var want []string
	for i := range 4 {
		want = append(want, notice(t, st, fmt.Sprintf("INC-%06d", 200+i), string(notify.TLPGreen), 4)...)
	}
	var wg sync.WaitGroup
	for w := range 3 {
		d := dispatcher(t, st, clock, fmt.Sprintf("w%d", w), recs, func(c *notify.DispatcherConfig) { c.Batch = 3 })
		wg.Go(func() {
			for range 40 {
				if _, err := d.RunOnce(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for name, r := range recs {
		got := r.Keys()
		assert.ElementsMatch(t, want, got, "channel %s: each message exactly once", name)
		// Each incident's messages in order.
		last := make(map[string]string)
		for _, k := range got {
			inc := k[:len("INC-000200")]
			assert.Less(t, last[inc], k, "channel %s: %s after %s", name, k, last[inc])
			last[inc] = k
		}
	}
}

// attempts returns the attempts of the deliveries of incidents to
// channel, in order.
func attempts(t *testing.T, st DeliveryStore, channel string, incidents ...string) []int {
	t.Helper()
	var out []int
	for _, inc := range incidents {
		out = append(out, byChannel(t, st, inc)[channel].Attempts)
	}
	return out
}

func (s dispatcherSuite) testRateLimit(t *testing.T) {
	st, clock := s.store(t)
	a := &Recorder{}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a}, func(c *notify.DispatcherConfig) {
		c.Workers = 1
		c.Limits = map[string]notify.ChannelLimits{"a": {Rate: 1, Burst: 1}}
	})
	incs := []string{"INC-000301", "INC-000302", "INC-000303"}
	for _, inc := range incs {
		notice(t, st, inc, string(notify.TLPGreen), 1)
	}
	pass(t, d)
	assert.Equal(t, 1, a.Given(), "the rate limit let more through")
	assert.Equal(t, []int{1, 0, 0}, attempts(t, st, "a", incs...), "deliveries held back by the rate limit used up attempts")
	pass(t, d)
	assert.Equal(t, 1, a.Given(), "the rate limit let more through")
	clock.Advance(time.Second)
	pass(t, d)
	assert.Equal(t, 2, a.Given())
	clock.Advance(time.Second)
	pass(t, d)
	assert.Len(t, a.Keys(), 3)
}

func (s dispatcherSuite) testBreaker(t *testing.T) {
	st, clock := s.store(t)
	var (
		mu    sync.Mutex
		fixed bool
	)
	a := &Recorder{Fail: func(notify.Message, int) error {
		mu.Lock()
		defer mu.Unlock()
		if !fixed {
			return notify.Retry(errors.New("503"), 0)
		}
		return nil
	}}
	breakFor := time.Hour
	mk := func() *notify.Dispatcher {
		return dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a}, func(c *notify.DispatcherConfig) {
			c.Workers = 1
			c.Limits = map[string]notify.ChannelLimits{"a": {BreakAfter: 2, BreakFor: breakFor}}
		})
	}
	d := mk()
	incs := []string{"INC-000401", "INC-000402", "INC-000403"}
	for _, inc := range incs {
		notice(t, st, inc, string(notify.TLPGreen), 1)
	}
	pass(t, d)
	assert.Equal(t, 2, a.Given())
	assert.Equal(t, "open", d.BreakerState("a"))
	for range 5 {
		clock.Advance(time.Minute)
		pass(t, d)
	}
	assert.Equal(t, 2, a.Given(), "deliveries went to a channel whose breaker is open")
	assert.Equal(t, []int{1, 1, 0}, attempts(t, st, "a", incs...), "deliveries held back by the breaker used up attempts")

	// A breaker that closes again lets the deliveries through.
	breakFor = 20 * time.Millisecond
	d = mk()
	clock.Advance(time.Minute)
	pass(t, d)
	assert.Equal(t, 4, a.Given(), "two more fail and open the breaker")
	mu.Lock()
	fixed = true
	mu.Unlock()
	require.Eventually(t, func() bool {
		clock.Advance(time.Minute)
		pass(t, d)
		return len(a.Keys()) == 3
	}, 10*time.Second, 5*time.Millisecond, "the half-open breaker never let the deliveries through")
}

func (s dispatcherSuite) testUnreadable(t *testing.T) {
	st, clock := s.store(t)
	a := &Recorder{}
	var dead []notify.Delivery
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a}, func(c *notify.DispatcherConfig) {
		c.Router = func() *notify.Router {
			rt, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "a", MaxTLP: notify.TLPRed}},
				Routes: []notify.Route{{Channels: []string{"a"}}}})
			require.NoError(t, err)
			return rt
		}()
		c.OnDead = func(_ context.Context, dl notify.Delivery, _ error) error {
			dead = append(dead, dl)
			return nil
		}
	})
	const inc = "INC-000501"
	require.NoError(t, st.Write(context.Background(), []notify.OutboxMessage{{Key: inc + "/1", Incident: inc, Type: "opened",
		Payload: []byte("not a message")}}))
	keys := notice(t, st, inc, string(notify.TLPGreen), 1)
	for range 3 {
		pass(t, d)
	}
	assert.Equal(t, keys, a.Keys(), "an unreadable message held up the incident's next one")
	require.Len(t, dead, 1, "the unreadable message was not reported")
	assert.Equal(t, inc+"/1", dead[0].Key)
	all, err := st.IncidentDeliveries(context.Background(), inc)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, notify.StatusDead, all[0].Status, "the unreadable message's delivery")
	assert.Equal(t, notify.StatusDelivered, all[1].Status)
}

// countingDeliveries counts the calls a dispatcher makes to its store's
// deliveries.
type countingDeliveries struct {
	notify.Deliveries
	mu                           sync.Mutex
	fanOuts, passes, singles     int
	settles, settled, passClaims int
	claims, routed               int
	calls                        [][]notify.Settlement // what each Settle was given
}

func (c *countingDeliveries) FanOut(ctx context.Context, owner string, id int64, targets []notify.DeliveryTarget) error {
	c.mu.Lock()
	c.fanOuts++
	c.mu.Unlock()
	return c.Deliveries.FanOut(ctx, owner, id, targets)
}

func (c *countingDeliveries) FanOutAndClaim(ctx context.Context, owner string, limit int, lease time.Duration, route notify.RouteFunc) ([]notify.Delivery, error) {
	got, err := c.Deliveries.FanOutAndClaim(ctx, owner, limit, lease, func(ctx context.Context, e notify.OutboxEntry) notify.Fan {
		c.mu.Lock()
		c.routed++
		c.mu.Unlock()
		return route(ctx, e)
	})
	c.mu.Lock()
	c.passes++
	c.passClaims += len(got)
	c.mu.Unlock()
	return got, err
}

func (c *countingDeliveries) ClaimDeliveries(ctx context.Context, owner string, limit int, lease time.Duration) ([]notify.Delivery, error) {
	c.mu.Lock()
	c.claims++
	c.mu.Unlock()
	return c.Deliveries.ClaimDeliveries(ctx, owner, limit, lease)
}

func (c *countingDeliveries) single() {
	c.mu.Lock()
	c.singles++
	c.mu.Unlock()
}

func (c *countingDeliveries) Delivered(ctx context.Context, owner string, id int64, r notify.Receipt) error {
	c.single()
	return c.Deliveries.Delivered(ctx, owner, id, r)
}

func (c *countingDeliveries) Failed(ctx context.Context, owner string, id int64, at time.Time, lastErr string) error {
	c.single()
	return c.Deliveries.Failed(ctx, owner, id, at, lastErr)
}

func (c *countingDeliveries) Release(ctx context.Context, owner string, id int64, at time.Time) error {
	c.single()
	return c.Deliveries.Release(ctx, owner, id, at)
}

func (c *countingDeliveries) Dead(ctx context.Context, owner string, id int64, lastErr string) error {
	c.single()
	return c.Deliveries.Dead(ctx, owner, id, lastErr)
}

func (c *countingDeliveries) Settle(ctx context.Context, owner string, sts []notify.Settlement) ([]error, error) {
	c.mu.Lock()
	c.settles++
	c.settled += len(sts)
	c.calls = append(c.calls, append([]notify.Settlement(nil), sts...))
	c.mu.Unlock()
	return c.Deliveries.Settle(ctx, owner, sts)
}

// testBatches checks that a pass fans out what it takes from the outbox
// and claims the deliveries due in one store call, and records the
// outcomes of its attempts in batches, never one by one.
func (s dispatcherSuite) testBatches(t *testing.T) {
	st, clock := s.store(t)
	counting := &countingDeliveries{Deliveries: st.Deliveries}
	st.Deliveries = counting
	a, b := &Recorder{}, &Recorder{Fail: func(notify.Message, int) error { return errors.New("b is down") }}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a, "b": b}, func(c *notify.DispatcherConfig) {
		c.Limits = map[string]notify.ChannelLimits{"b": {BreakAfter: -1}}
	})
	var keys []string
	for i := range 20 {
		keys = append(keys, notice(t, st, fmt.Sprintf("INC-%06d", 500+i), string(notify.TLPAmber), 1)...)
	}
	pass(t, d)
	assert.ElementsMatch(t, keys, a.Keys())
	assert.Equal(t, 20, b.Given())
	counting.mu.Lock()
	defer counting.mu.Unlock()
	assert.Zero(t, counting.fanOuts, "a message fanned out on its own")
	assert.Equal(t, 1, counting.passes, "fan-outs and claims of one pass")
	assert.Zero(t, counting.claims, "deliveries claimed on their own")
	assert.Equal(t, 20, counting.routed, "messages routed")
	assert.Equal(t, 40, counting.passClaims, "deliveries claimed")
	assert.Zero(t, counting.singles, "an outcome recorded on its own")
	assert.GreaterOrEqual(t, counting.settles, 1)
	assert.Equal(t, 40, counting.settled, "outcomes recorded")
	for i := range 20 {
		got := byChannel(t, st, fmt.Sprintf("INC-%06d", 500+i))
		assert.Equal(t, notify.StatusDelivered, got["a"].Status)
		assert.Equal(t, notify.StatusPending, got["b"].Status)
		assert.Contains(t, got["b"].LastError, "b is down")
	}
}

// testRecordedTogether checks that the deliveries of a message claimed
// with it are recorded together, in one Settle, even when one channel is
// slower than the others (its delivery recorded as still being made), so
// that the message leaves the outbox with every delivery it fans out to.
func (s dispatcherSuite) testRecordedTogether(t *testing.T) {
	st, clock := s.store(t)
	counting := &countingDeliveries{Deliveries: st.Deliveries}
	st.Deliveries = counting
	gate := make(chan struct{})
	a := &Recorder{}
	b := &Recorder{Fail: func(notify.Message, int) error { <-gate; return nil }}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a, "b": b}, nil)
	var keys []string
	for i := range 5 {
		keys = append(keys, notice(t, st, fmt.Sprintf("INC-%06d", 520+i), string(notify.TLPAmber), 1)...)
	}
	go func() {
		// Long enough for the dispatcher to record what came in more
		// than once while b waits.
		time.Sleep(200 * time.Millisecond)
		close(gate)
	}()
	pass(t, d)
	assert.ElementsMatch(t, keys, a.Keys())
	assert.ElementsMatch(t, keys, b.Keys())
	counting.mu.Lock()
	defer counting.mu.Unlock()
	require.Equal(t, 10, counting.passClaims, "deliveries claimed")
	for _, call := range counting.calls {
		per := make(map[int64][]string)
		for _, st := range call {
			if st.ID == 0 {
				per[st.OutboxID] = append(per[st.OutboxID], st.Channel)
			}
		}
		for id, channels := range per {
			assert.ElementsMatch(t, []string{"a", "b"}, channels, "message %d recorded with only some of its deliveries", id)
		}
	}
	for i := range 5 {
		got := byChannel(t, st, fmt.Sprintf("INC-%06d", 520+i))
		assert.Equal(t, notify.StatusDelivered, got["a"].Status)
		assert.Equal(t, notify.StatusDelivered, got["b"].Status)
	}
}

// testUnfitAudience checks that a message whose audience no store could
// keep as it is (a NUL byte, invalid UTF-8) is delivered and recorded,
// its audience made fit, rather than refused after it was sent.
func (s dispatcherSuite) testUnfitAudience(t *testing.T) {
	st, clock := s.store(t)
	a := &Recorder{}
	d := dispatcher(t, st, clock, "d1", map[string]*Recorder{"a": a}, nil)
	const inc = "INC-000530"
	m := Message()
	m.Key, m.Incident.ID, m.Event.IncidentID, m.Audience = inc+"/1", inc, inc, "x\x00y\xff"
	p, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, st.Write(context.Background(), []notify.OutboxMessage{{Key: m.Key, Incident: inc, Type: m.Event.Type, Payload: p}}))
	pass(t, d)
	assert.Equal(t, []string{m.Key}, a.Keys())
	got := byChannel(t, st, inc)
	assert.Equal(t, notify.StatusDelivered, got["a"].Status)
	assert.Equal(t, notify.Audience("x\uFFFDy\uFFFD"), got["a"].Audience)
}

// testSlowChannel checks that a channel slow to answer holds up no other
// channel: while its attempt at an incident's message goes on, another
// dispatcher delivers the incident's next message to the other channel.
func (s dispatcherSuite) testSlowChannel(t *testing.T) {
	st, clock := s.store(t)
	gate := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	fast := &Recorder{}
	slow := &Recorder{Fail: func(notify.Message, int) error { <-gate; return nil }}
	channels := map[string]*Recorder{"fast": fast, "slow": slow}
	d1 := dispatcher(t, st, clock, "d1", channels, nil)
	d2 := dispatcher(t, st, clock, "d2", channels, nil)
	const inc = "INC-000540"
	keys := notice(t, st, inc, string(notify.TLPAmber), 1)
	first := make(chan error, 1)
	go func() {
		_, err := d1.RunOnce(context.Background())
		first <- err
	}()
	// d1 records the message once its first outcomes are in, the slow
	// channel's delivery as still being made.
	require.Eventually(t, func() bool {
		all, err := st.IncidentDeliveries(context.Background(), inc)
		return err == nil && len(all) == 2
	}, 10*time.Second, 5*time.Millisecond, "the message was not recorded while a channel was slow")
	keys = append(keys, notice(t, st, inc, string(notify.TLPAmber), 1)...)
	pass(t, d2)
	assert.Equal(t, keys, fast.Keys(), "a slow channel held up the incident's next message to another channel")
	open()
	require.NoError(t, <-first)
	all, err := st.IncidentDeliveries(context.Background(), inc)
	require.NoError(t, err)
	require.Len(t, all, 4)
	first1 := all[1] // the first message's to the slow channel, by outbox order and channel
	assert.Equal(t, "slow", first1.Channel)
	assert.Equal(t, notify.StatusDelivered, first1.Status, "the slow delivery's outcome was not recorded")
	assert.Equal(t, 1, first1.Attempts)
	pass(t, d2)
	assert.Equal(t, keys, slow.Keys())
}

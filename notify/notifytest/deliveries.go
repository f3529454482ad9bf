package notifytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

// DeliveryStore is a store under test by [TestDeliveries]: its outbox, as
// [TestOutbox] takes it, and its [notify.Deliveries].
type DeliveryStore struct {
	OutboxStore
	notify.Deliveries
}

// TestDeliveries checks that the stores newStore makes keep the contract
// of [notify.Deliveries]: a fan-out records one delivery per target and
// acknowledges the outbox message at once, or does neither; deliveries
// to different channels have independent state; an incident's deliveries
// to one channel are handed out one at a time, in outbox order, and not
// before every earlier message of the incident is fanned out; claims are
// leased; the batch calls do what the single ones do, skipping what the
// caller does not hold, or nothing at all on bad input; dead deliveries are listed and replayed; and the record of an
// incident's deliveries keeps receipts and errors. newStore must return a
// new, empty store that reads the time from clock and release it with
// t.Cleanup. Subtests run in parallel.
func TestDeliveries(t *testing.T, newStore func(t *testing.T, clock *Clock) DeliveryStore) {
	s := deliverySuite{newStore: newStore}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"FanOut", s.testFanOut},
		{"FanOutNeedsClaim", s.testFanOutNeedsClaim},
		{"Independent", s.testIndependent},
		{"OrderPerChannel", s.testOrderPerChannel},
		{"WaitsForEarlierMessages", s.testWaitsForEarlier},
		{"BlockedStreams", s.testBlockedStreams},
		{"Lease", s.testLease},
		{"Release", s.testRelease},
		{"DeadAndReplay", s.testDeadAndReplay},
		{"InvalidArguments", s.testInvalid},
		{"ConcurrentClaimers", s.testConcurrent},
		{"FanOutAndClaim", s.testFanOutAndClaim},
		{"FanOutAndClaimOrder", s.testFanOutAndClaimOrder},
		{"FanOutAndClaimLimit", s.testFanOutAndClaimLimit},
		{"FanOutAndClaimInvalid", s.testFanOutAndClaimInvalid},
		{"ClaimedWithMessage", s.testClaimedWithMessage},
		{"ClaimedWithMessageLapse", s.testClaimedWithMessageLapse},
		{"ClaimedWithMessageOrder", s.testClaimedWithMessageOrder},
		{"ClaimedWithMessageHoldsUpPass", s.testClaimedWithMessageHoldsUpPass},
		{"ClaimedWithMessageRerouted", s.testClaimedWithMessageRerouted},
		{"ClaimedStillBeingMade", s.testClaimedStillBeingMade},
		{"Settle", s.testSettle},
		{"SettleInvalid", s.testSettleInvalid},
		{"ConcurrentBatches", s.testConcurrentBatches},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type deliverySuite struct {
	newStore func(t *testing.T, clock *Clock) DeliveryStore
}

func (s deliverySuite) store(t *testing.T) (DeliveryStore, *Clock) {
	t.Helper()
	clock := NewClock(Epoch)
	st := s.newStore(t, clock)
	require.NotNil(t, st.Outbox, "newStore returned no outbox")
	require.NotNil(t, st.Deliveries, "newStore returned no deliveries")
	return st, clock
}

// payload returns a message payload for key, for audience.
func payload(t *testing.T, key string, audience notify.Audience) []byte {
	t.Helper()
	b, err := json.Marshal(notify.Message{Audience: audience, Event: notify.Event{Type: "note_added", Reason: key}})
	require.NoError(t, err)
	return b
}

// fanOut writes n messages about incident, claims them and fans each out
// to targets, in order, and returns their keys.
func fanOut(t *testing.T, st DeliveryStore, incident string, n int, targets ...notify.DeliveryTarget) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	for i := range n {
		key := fmt.Sprintf("%s/fan/%d", incident, i+1)
		require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: key, Incident: incident, Type: "note_added",
			Payload: payload(t, key, notify.AudienceResponders)}}))
		keys = append(keys, key)
	}
	got, err := st.Claim(ctx, "fan", n, lease)
	require.NoError(t, err)
	require.Len(t, got, n)
	for _, e := range got {
		require.NoError(t, st.FanOut(ctx, "fan", e.ID, targets))
	}
	return keys
}

func claimDeliveries(t *testing.T, st DeliveryStore, owner string, limit int) []notify.Delivery {
	t.Helper()
	got, err := st.ClaimDeliveries(context.Background(), owner, limit, lease)
	require.NoError(t, err)
	return got
}

func deliveryKeys(ds []notify.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Key + "→" + d.Channel
	}
	return out
}

func (s deliverySuite) testFanOut(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	const inc = "INC-000001"
	p := payload(t, "x", notify.AudienceExecutives)
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: inc + "/1", Incident: inc, Type: "note_added", Payload: p}}))
	entries, err := st.Claim(ctx, "fan", 10, lease)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.NoError(t, st.FanOut(ctx, "fan", entries[0].ID, []notify.DeliveryTarget{
		{Channel: "slack", Route: "r1"}, {Channel: "email", Route: "r1"},
		{Channel: "public", Route: "r2", Held: true, Reason: "the message is TLP:RED, above the channel's TLP:CLEAR"},
	}))
	// The outbox message is gone: acknowledged with the fan-out.
	assert.ErrorIs(t, st.Ack(ctx, "fan", entries[0].ID), notify.ErrNotFound)
	clock.Advance(2 * lease)
	again, err := st.Claim(ctx, "fan", 10, lease)
	require.NoError(t, err)
	assert.Empty(t, again, "a fanned-out message is handed out again")

	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	require.Len(t, all, 3)
	byChannel := make(map[string]notify.Delivery)
	for _, d := range all {
		byChannel[d.Channel] = d
		assert.Equal(t, inc+"/1", d.Key)
		assert.Equal(t, inc, d.Incident)
		assert.Equal(t, "note_added", d.Type)
		assert.Equal(t, entries[0].ID, d.OutboxID)
		assert.Equal(t, p, d.Payload, "payload of %s", d.Channel)
		assert.Equal(t, notify.AudienceExecutives, d.Audience)
		assert.True(t, d.CreatedAt.Equal(entries[0].CreatedAt), "created at %v, want %v", d.CreatedAt, entries[0].CreatedAt)
	}
	assert.Equal(t, notify.StatusPending, byChannel["slack"].Status)
	assert.Equal(t, notify.StatusPending, byChannel["email"].Status)
	assert.Equal(t, notify.StatusHeld, byChannel["public"].Status)
	assert.Equal(t, "the message is TLP:RED, above the channel's TLP:CLEAR", byChannel["public"].LastError, "why it is held back")
	assert.Equal(t, "r2", byChannel["public"].Route)

	// Held deliveries are never handed out.
	got := claimDeliveries(t, st, "d", 10)
	assert.ElementsMatch(t, []string{inc + "/1→slack", inc + "/1→email"}, deliveryKeys(got))
	for _, d := range got {
		assert.Equal(t, 1, d.Attempts)
		m, err := d.Message()
		require.NoError(t, err)
		assert.Equal(t, d.Key, m.Key)
	}
}

func (s deliverySuite) testFanOutNeedsClaim(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	const inc = "INC-000002"
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: inc + "/1", Incident: inc, Type: "note_added", Payload: []byte("{}")}}))
	entries, err := st.Claim(ctx, "fan", 10, lease)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	id := entries[0].ID
	assert.ErrorIs(t, st.FanOut(ctx, "other", id, []notify.DeliveryTarget{{Channel: "a"}}), notify.ErrConflict)
	assert.ErrorIs(t, st.FanOut(ctx, "fan", id, []notify.DeliveryTarget{{Channel: "a"}, {Channel: "a"}}), notify.ErrInvalid)
	assert.ErrorIs(t, st.FanOut(ctx, "fan", id+1000, []notify.DeliveryTarget{{Channel: "a"}}), notify.ErrNotFound)
	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	assert.Empty(t, all, "a refused fan-out recorded deliveries")
	// The entry is still there, and its claimer can fan it out.
	require.NoError(t, st.FanOut(ctx, "fan", id, nil))
	clock.Advance(2 * lease)
	again, err := st.Claim(ctx, "fan", 10, lease)
	require.NoError(t, err)
	assert.Empty(t, again)
}

func (s deliverySuite) testIndependent(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	const inc = "INC-000003"
	fanOut(t, st, inc, 1, notify.DeliveryTarget{Channel: "a"}, notify.DeliveryTarget{Channel: "b"})
	got := claimDeliveries(t, st, "d", 10)
	require.Len(t, got, 2)
	for _, d := range got {
		if d.Channel == "a" {
			require.NoError(t, st.Failed(ctx, "d", d.ID, clock.Now().Add(time.Hour), "a: 503 Service Unavailable"))
		} else {
			require.NoError(t, st.Delivered(ctx, "d", d.ID, notify.Receipt{ID: "b-1", Status: 200}))
		}
	}
	assert.Empty(t, claimDeliveries(t, st, "d", 10), "a failed delivery is due before its time, or a delivered one again")
	clock.Advance(time.Hour)
	again := claimDeliveries(t, st, "d", 10)
	require.Len(t, again, 1, "only the failed delivery is due again")
	assert.Equal(t, "a", again[0].Channel)
	assert.Equal(t, 2, again[0].Attempts)
	assert.Equal(t, "a: 503 Service Unavailable", again[0].LastError)

	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, "a", all[0].Channel, "deliveries of one message are listed by channel")
	b := all[1]
	assert.Equal(t, notify.StatusDelivered, b.Status)
	assert.Equal(t, notify.Receipt{ID: "b-1", Status: 200}, b.Receipt)
	assert.True(t, b.UpdatedAt.Equal(notifytestTime(clock, -time.Hour)), "delivered at %v", b.UpdatedAt)
	// A delivered delivery cannot be settled again.
	assert.ErrorIs(t, st.Delivered(ctx, "d", b.ID, notify.Receipt{}), notify.ErrConflict)
	assert.ErrorIs(t, st.Failed(ctx, "d", b.ID+1000, clock.Now(), ""), notify.ErrNotFound)
}

// notifytestTime returns the clock's time moved by d.
func notifytestTime(c *Clock, d time.Duration) time.Time { return c.Now().Add(d) }

func (s deliverySuite) testOrderPerChannel(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	keys := fanOut(t, st, "INC-000004", 3, notify.DeliveryTarget{Channel: "a"})
	other := fanOut(t, st, "INC-000005", 1, notify.DeliveryTarget{Channel: "a"})
	got := claimDeliveries(t, st, "d", 10)
	require.Equal(t, []string{keys[0] + "→a", other[0] + "→a"}, deliveryKeys(got),
		"an incident's deliveries to a channel are handed out one at a time; other incidents are not held up")
	require.NoError(t, st.Failed(ctx, "d", got[0].ID, clock.Now().Add(time.Minute), "later"))
	require.NoError(t, st.Delivered(ctx, "d", got[1].ID, notify.Receipt{}))
	assert.Empty(t, claimDeliveries(t, st, "d", 10), "a later message overtook one waiting for a retry")
	clock.Advance(time.Minute)
	for _, want := range keys {
		got := claimDeliveries(t, st, "d", 10)
		require.Len(t, got, 1)
		assert.Equal(t, want, got[0].Key)
		require.NoError(t, st.Delivered(ctx, "d", got[0].ID, notify.Receipt{}))
	}
	assert.Empty(t, claimDeliveries(t, st, "d", 10))
}

// testBlockedStreams checks that while a channel is down, the deliveries
// queued behind each incident's first one to it wait, the other channel's
// go on, and each stream resumes in order when its first delivery is
// delivered, made dead or replayed.
func (s deliverySuite) testBlockedStreams(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	targets := []notify.DeliveryTarget{{Channel: "down"}, {Channel: "up"}}
	var keys [][]string
	for _, inc := range []string{"INC-000030", "INC-000031", "INC-000032"} {
		keys = append(keys, fanOut(t, st, inc, 3, targets...))
	}
	// want lists delivery i of each incident to each of channels.
	want := func(i int, channels ...string) []string {
		var out []string
		for _, k := range keys {
			for _, c := range channels {
				out = append(out, k[i]+"→"+c)
			}
		}
		return out
	}
	settle := func(ds []notify.Delivery, f func(d notify.Delivery) error) {
		t.Helper()
		for _, d := range ds {
			require.NoError(t, f(d))
		}
	}
	delivered := func(d notify.Delivery) error { return st.Delivered(ctx, "d", d.ID, notify.Receipt{}) }
	got := claimDeliveries(t, st, "d", 100)
	require.Equal(t, want(0, "down", "up"), deliveryKeys(got), "the first delivery of each stream")
	for _, d := range got {
		if d.Channel == "down" {
			require.NoError(t, st.Failed(ctx, "d", d.ID, clock.Now().Add(time.Minute), "down"))
		} else {
			require.NoError(t, delivered(d))
		}
	}
	for i := 1; i < 3; i++ {
		got = claimDeliveries(t, st, "d", 100)
		require.Equal(t, want(i, "up"), deliveryKeys(got), "the channel that is up goes on; the one down waits")
		settle(got, delivered)
	}
	assert.Empty(t, claimDeliveries(t, st, "d", 100), "a delivery overtook one waiting for a retry")
	clock.Advance(time.Minute)
	got = claimDeliveries(t, st, "d", 100)
	require.Equal(t, want(0, "down"), deliveryKeys(got), "the retries come due")
	require.NoError(t, st.Dead(ctx, "d", got[0].ID, "gave up"))
	dead := got[0]
	settle(got[1:], delivered)
	got = claimDeliveries(t, st, "d", 100)
	require.Equal(t, want(1, "down"), deliveryKeys(got), "a dead or delivered first delivery lets the next go")
	settle(got, delivered)
	require.NoError(t, st.Replay(ctx, dead.ID))
	got = claimDeliveries(t, st, "d", 100)
	require.Equal(t, []string{keys[0][0] + "→down", keys[1][2] + "→down", keys[2][2] + "→down"}, deliveryKeys(got),
		"a replayed delivery goes before the later ones of its stream")
	settle(got, delivered)
	got = claimDeliveries(t, st, "d", 100)
	require.Equal(t, []string{keys[0][2] + "→down"}, deliveryKeys(got))
	settle(got, delivered)
	assert.Empty(t, claimDeliveries(t, st, "d", 100))
}

func (s deliverySuite) testWaitsForEarlier(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	const inc = "INC-000006"
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{
		{Key: inc + "/1", Incident: inc, Type: "note_added", Payload: []byte("{}")},
		{Key: inc + "/2", Incident: inc, Type: "note_added", Payload: []byte("{}")},
	}))
	entries, err := st.Claim(ctx, "fan", 10, lease)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	// The second message is fanned out first, as a second dispatcher
	// might.
	require.NoError(t, st.FanOut(ctx, "fan", entries[1].ID, []notify.DeliveryTarget{{Channel: "a"}}))
	assert.Empty(t, claimDeliveries(t, st, "d", 10), "a delivery overtook an earlier message not yet fanned out")
	require.NoError(t, st.FanOut(ctx, "fan", entries[0].ID, []notify.DeliveryTarget{{Channel: "a"}}))
	got := claimDeliveries(t, st, "d", 10)
	require.Len(t, got, 1)
	assert.Equal(t, inc+"/1", got[0].Key)
}

func (s deliverySuite) testLease(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	fanOut(t, st, "INC-000007", 1, notify.DeliveryTarget{Channel: "a"})
	got := claimDeliveries(t, st, "first", 10)
	require.Len(t, got, 1)
	assert.Empty(t, claimDeliveries(t, st, "second", 10), "a claimed delivery handed out again")
	clock.Advance(lease)
	again := claimDeliveries(t, st, "second", 10)
	require.Len(t, again, 1, "a lapsed claim is not handed out again")
	assert.Equal(t, 2, again[0].Attempts)
	assert.ErrorIs(t, st.Delivered(ctx, "first", got[0].ID, notify.Receipt{}), notify.ErrConflict)
	require.NoError(t, st.Delivered(ctx, "second", got[0].ID, notify.Receipt{ID: "r"}))
}

func (s deliverySuite) testDeadAndReplay(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	keys := fanOut(t, st, "INC-000008", 2, notify.DeliveryTarget{Channel: "a"}, notify.DeliveryTarget{Channel: "b"})
	got := claimDeliveries(t, st, "d", 10)
	require.Len(t, got, 2)
	var deadID int64
	for _, d := range got {
		if d.Channel == "a" {
			deadID = d.ID
			require.NoError(t, st.Dead(ctx, "d", d.ID, "410 Gone"))
		} else {
			require.NoError(t, st.Delivered(ctx, "d", d.ID, notify.Receipt{}))
		}
	}
	next := claimDeliveries(t, st, "d", 10)
	assert.ElementsMatch(t, []string{keys[1] + "→a", keys[1] + "→b"}, deliveryKeys(next), "a dead delivery holds up later ones")
	counts, err := st.CountDeliveries(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []notify.DeliveryCount{
		{Channel: "a", Status: notify.StatusDead, N: 1},
		{Channel: "a", Status: notify.StatusPending, N: 1},
		{Channel: "b", Status: notify.StatusPending, N: 1},
	}, counts, "pending and dead deliveries by channel")
	dead, err := st.DeadDeliveries(ctx, "a", 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, deadID, dead[0].ID)
	assert.Equal(t, notify.StatusDead, dead[0].Status)
	assert.Equal(t, "410 Gone", dead[0].LastError)
	none, err := st.DeadDeliveries(ctx, "b", 10)
	require.NoError(t, err)
	assert.Empty(t, none)
	any, err := st.DeadDeliveries(ctx, "", 10)
	require.NoError(t, err)
	assert.Len(t, any, 1)

	assert.ErrorIs(t, st.Replay(ctx, next[0].ID), notify.ErrConflict, "replay of a pending delivery")
	assert.ErrorIs(t, st.Replay(ctx, deadID+1000), notify.ErrNotFound)
	for _, d := range next {
		require.NoError(t, st.Delivered(ctx, "d", d.ID, notify.Receipt{}))
	}
	require.NoError(t, st.Replay(ctx, deadID))
	replayed := claimDeliveries(t, st, "d", 10)
	require.Len(t, replayed, 1)
	assert.Equal(t, deadID, replayed[0].ID)
	assert.Equal(t, 1, replayed[0].Attempts, "a replay counts attempts from 0 again")
	require.NoError(t, st.Delivered(ctx, "d", deadID, notify.Receipt{ID: "late"}))
	dead, err = st.DeadDeliveries(ctx, "", 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

func (s deliverySuite) testInvalid(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	_, err := st.ClaimDeliveries(ctx, "", 1, lease)
	assert.ErrorIs(t, err, notify.ErrInvalid)
	_, err = st.ClaimDeliveries(ctx, "d", 0, lease)
	assert.ErrorIs(t, err, notify.ErrInvalid)
	_, err = st.DeadDeliveries(ctx, "", 0)
	assert.ErrorIs(t, err, notify.ErrInvalid)
	_, err = st.DeadDeliveries(ctx, "a\x00", 1)
	assert.ErrorIs(t, err, notify.ErrInvalid)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = st.ClaimDeliveries(canceled, "d", 1, lease)
	assert.ErrorIs(t, err, context.Canceled)
}

func (s deliverySuite) testConcurrent(t *testing.T) {
	st, _ := s.store(t)
	const incidents, each, workers = 4, 4, 4
	var want []string
	for i := range incidents {
		for _, k := range fanOut(t, st, fmt.Sprintf("INC-%06d", 100+i), each, notify.DeliveryTarget{Channel: "a"}, notify.DeliveryTarget{Channel: "b"}) {
			want = append(want, k+"→a", k+"→b")
		}
	}
	var (
		mu   sync.Mutex
		seen []string
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for w := range workers {
		owner := fmt.Sprintf("worker-%d", w+1)
		wg.Go(func() {
			ctx := context.Background()
			for idle := 0; idle < 50; {
				got, err := st.ClaimDeliveries(ctx, owner, 3, lease)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				for _, d := range got {
					mu.Lock()
					seen = append(seen, d.Key+"→"+d.Channel)
					mu.Unlock()
					if err := st.Delivered(ctx, owner, d.ID, notify.Receipt{}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.ElementsMatch(t, want, seen, "each delivery made exactly once")
	// Each incident's deliveries to each channel were made in order.
	var inOrder []string
	for _, k := range want {
		for _, got := range seen {
			if got == k {
				inOrder = append(inOrder, k)
			}
		}
	}
	perStream := func(keys []string) map[string][]string {
		out := make(map[string][]string)
		for _, k := range keys {
			// INC-000100/fan/1→a: the stream is the incident and channel.
			stream := k[:len("INC-000100")] + k[strings.LastIndex(k, "→"):]
			out[stream] = append(out[stream], k)
		}
		return out
	}
	assert.Equal(t, perStream(inOrder), perStream(seen), "an incident's deliveries to a channel out of order")
}

func (s deliverySuite) testRelease(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	fanOut(t, st, "INC-000009", 1, notify.DeliveryTarget{Channel: "a"})
	got := claimDeliveries(t, st, "d", 10)
	require.Len(t, got, 1)
	require.NoError(t, st.Failed(ctx, "d", got[0].ID, clock.Now(), "503"))
	got = claimDeliveries(t, st, "d", 10)
	require.Len(t, got, 1)
	require.Equal(t, 2, got[0].Attempts)
	assert.ErrorIs(t, st.Release(ctx, "other", got[0].ID, clock.Now()), notify.ErrConflict)
	require.NoError(t, st.Release(ctx, "d", got[0].ID, clock.Now().Add(time.Minute)))
	assert.Empty(t, claimDeliveries(t, st, "d", 10), "a released delivery is due before its time")
	clock.Advance(time.Minute)
	got = claimDeliveries(t, st, "d", 10)
	require.Len(t, got, 1)
	assert.Equal(t, 2, got[0].Attempts, "a release counted as an attempt")
	assert.Equal(t, "503", got[0].LastError, "a release changed the last error")
}

// routeTo returns a RouteFunc that fans every message out to targets with
// the audience its payload names, and records the entries it routed.
func routeTo(routed *[]notify.OutboxEntry, targets ...notify.DeliveryTarget) notify.RouteFunc {
	return func(_ context.Context, e notify.OutboxEntry) notify.Fan {
		if routed != nil {
			*routed = append(*routed, e)
		}
		return notify.Fan{Audience: notify.DeliveryAudience(e.Payload), Targets: targets}
	}
}

// settleAll records every delivery of got delivered, for owner.
func settleAll(t *testing.T, st DeliveryStore, owner string, got []notify.Delivery) {
	t.Helper()
	sts := make([]notify.Settlement, len(got))
	for i, d := range got {
		sts[i] = d.Settled(notify.Settlement{Kind: notify.SettleDelivered, Receipt: notify.Receipt{ID: "r-" + d.Key}})
	}
	errs, err := st.Settle(context.Background(), owner, sts)
	require.NoError(t, err)
	require.Equal(t, make([]error, len(got)), errs)
}

func fanOutAndClaim(t *testing.T, st DeliveryStore, owner string, limit int, route notify.RouteFunc) []notify.Delivery {
	t.Helper()
	got, err := st.FanOutAndClaim(context.Background(), owner, limit, lease, route)
	require.NoError(t, err)
	return got
}

func (s deliverySuite) testFanOutAndClaim(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	msg := func(inc string) notify.OutboxMessage {
		return notify.OutboxMessage{Key: inc + "/1", Incident: inc, Type: "note_added", Payload: payload(t, inc, notify.AudienceLegal)}
	}
	// A delivery fanned out before, due now.
	old := fanOut(t, st, "INC-000200", 1, notify.DeliveryTarget{Channel: "a"})
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{msg("INC-000201")}))
	theirs, err := st.Claim(ctx, "other", 10, lease)
	require.NoError(t, err)
	require.Len(t, theirs, 1)
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{msg("INC-000202")}))
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{msg("INC-000203")}))
	start := clock.Now()

	var routed []notify.OutboxEntry
	got := fanOutAndClaim(t, st, "fan", 10, routeTo(&routed,
		notify.DeliveryTarget{Channel: "a", Route: "r"}, notify.DeliveryTarget{Channel: "b", Route: "r", Held: true, Reason: "held\x00 back"}))
	require.Len(t, routed, 2, "routed an entry another claimer holds, or missed one")
	assert.Equal(t, "INC-000202/1", routed[0].Key, "entries are routed oldest first")
	assert.Equal(t, "INC-000203/1", routed[1].Key)
	for _, e := range routed {
		assert.Equal(t, 1, e.Attempts)
		assert.Equal(t, payload(t, e.Incident, notify.AudienceLegal), e.Payload)
		assert.True(t, e.CreatedAt.Equal(start), "created at %v, want %v", e.CreatedAt, start)
	}
	assert.Equal(t, []string{old[0] + "→a", "INC-000202/1→a", "INC-000203/1→a"}, deliveryKeys(got),
		"the due deliveries, old and new, in outbox order")
	for _, d := range got[1:] {
		assert.Equal(t, notify.StatusPending, d.Status)
		assert.Equal(t, 1, d.Attempts)
		assert.Equal(t, "r", d.Route)
		assert.Equal(t, notify.AudienceLegal, d.Audience)
		assert.True(t, d.CreatedAt.Equal(start), "created at %v, want %v", d.CreatedAt, start)
		m, err := d.Message()
		require.NoError(t, err)
		assert.Equal(t, d.Key, m.Key)
	}
	for _, e := range routed {
		assert.ErrorIs(t, st.Ack(ctx, "fan", e.ID), notify.ErrNotFound, "a fanned-out entry is still in the outbox")
	}
	two, err := st.IncidentDeliveries(ctx, "INC-000203")
	require.NoError(t, err)
	require.Len(t, two, 2)
	assert.Equal(t, notify.StatusPending, two[0].Status)
	assert.Equal(t, notify.StatusHeld, two[1].Status, "a held delivery is recorded")
	assert.Equal(t, notify.TruncateError("held\x00 back"), two[1].LastError, "why it is held back, made fit")
	assert.Equal(t, got[2].ID, two[0].ID)
	none, err := st.IncidentDeliveries(ctx, "INC-000201")
	require.NoError(t, err)
	assert.Empty(t, none, "an entry another claimer holds was fanned out")

	// What was claimed is leased: nobody else gets it.
	assert.Empty(t, fanOutAndClaim(t, st, "second", 10, routeTo(nil, notify.DeliveryTarget{Channel: "a"})))
	assert.Empty(t, claimDeliveries(t, st, "second", 10))
	settleAll(t, st, "fan", got)
	// Once the other claim lapses, its entry is taken: with its
	// delivery, all of whose targets are due.
	clock.Advance(lease)
	routed = nil
	got = fanOutAndClaim(t, st, "second", 10, routeTo(&routed, notify.DeliveryTarget{Channel: "a"}))
	assert.Equal(t, []string{"INC-000201/1→a"}, deliveryKeys(got))
	require.Len(t, routed, 1)
	assert.Equal(t, 2, routed[0].Attempts, "the lapsed claim counts as an attempt")
	assert.Equal(t, 2, got[0].Attempts, "the lapsed claim counts as an attempt")
	assert.ErrorIs(t, st.Ack(ctx, "other", theirs[0].ID), notify.ErrConflict, "the message was taken from a claim that lapsed")
	settleAll(t, st, "second", got)
	assert.ErrorIs(t, st.Ack(ctx, "other", theirs[0].ID), notify.ErrNotFound)
	assert.Empty(t, fanOutAndClaim(t, st, "fan", 10, routeTo(nil)), "nothing left")
}

// testFanOutAndClaimOrder checks that the deliveries a pass claims keep
// each incident's order per channel.
func (s deliverySuite) testFanOutAndClaimOrder(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	write := func(inc string, n int) {
		t.Helper()
		require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: fmt.Sprintf("%s/%d", inc, n), Incident: inc,
			Type: "note_added", Payload: []byte("{}")}}))
	}
	a := notify.DeliveryTarget{Channel: "a"}
	// INC-3: an earlier message another claimer holds holds up a later one.
	write("INC-000213", 1)
	theirs, err := st.Claim(ctx, "other", 10, lease)
	require.NoError(t, err)
	require.Len(t, theirs, 1)
	// INC-1: a delivery waiting for a retry holds up the next message's.
	fanOut(t, st, "INC-000211", 1, a)
	first := claimDeliveries(t, st, "d", 10)
	require.Len(t, first, 1)
	require.NoError(t, st.Failed(ctx, "d", first[0].ID, clock.Now().Add(time.Minute), "503"))
	write("INC-000213", 2)
	write("INC-000211", 2)
	// INC-2: two messages in one pass: only the first is claimed.
	write("INC-000212", 1)
	write("INC-000212", 2)
	got := fanOutAndClaim(t, st, "fan", 10, routeTo(nil, a))
	assert.Equal(t, []string{"INC-000212/1→a"}, deliveryKeys(got))
	errs, err := st.Settle(ctx, "fan", []notify.Settlement{got[0].Settled(notify.Settlement{Kind: notify.SettleDelivered})})
	require.NoError(t, err)
	require.Equal(t, []error{nil}, errs)

	// INC-4: a message fanned out after a later one, as a second
	// dispatcher might, is delivered first.
	write("INC-000214", 1)
	write("INC-000214", 2)
	entries, err := st.Claim(ctx, "other", 10, lease)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	require.NoError(t, st.FanOut(ctx, "other", entries[1].ID, []notify.DeliveryTarget{a}))
	clock.Advance(lease) // the claims of INC-3 and INC-4 lapse; INC-1 is due again
	got = fanOutAndClaim(t, st, "fan", 10, routeTo(nil, a))
	assert.ElementsMatch(t, []string{"INC-000211/fan/1→a", "INC-000212/2→a", "INC-000213/1→a", "INC-000214/1→a"}, deliveryKeys(got),
		"a delivery was handed out before an earlier one of its incident and channel")
	settleAll(t, st, "fan", got)
	got = fanOutAndClaim(t, st, "fan", 10, routeTo(nil, a))
	assert.ElementsMatch(t, []string{"INC-000211/2→a", "INC-000213/2→a", "INC-000214/2→a"}, deliveryKeys(got))
}

// testFanOutAndClaimLimit checks that a pass claims at most limit
// deliveries, the ones due before the new ones, and takes no more outbox
// messages than the limit leaves.
func (s deliverySuite) testFanOutAndClaimLimit(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	old := fanOut(t, st, "INC-000220", 1, notify.DeliveryTarget{Channel: "a"})
	for i := range 3 {
		inc := fmt.Sprintf("INC-%06d", 221+i)
		require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: inc + "/1", Incident: inc, Type: "note_added", Payload: []byte("{}")}}))
	}
	ab := routeTo(nil, notify.DeliveryTarget{Channel: "a"}, notify.DeliveryTarget{Channel: "b"})
	got := fanOutAndClaim(t, st, "fan", 2, ab)
	assert.Equal(t, []string{old[0] + "→a", "INC-000221/1→a"}, deliveryKeys(got))
	all, err := st.IncidentDeliveries(ctx, "INC-000222")
	require.NoError(t, err)
	assert.Empty(t, all, "a pass that claimed a delivery already due took two messages with a limit of 2")
	got = fanOutAndClaim(t, st, "fan", 2, ab)
	assert.Equal(t, []string{"INC-000221/1→b", "INC-000222/1→a"}, deliveryKeys(got))
	got = fanOutAndClaim(t, st, "fan", 10, ab)
	assert.Equal(t, []string{"INC-000222/1→b", "INC-000223/1→a", "INC-000223/1→b"}, deliveryKeys(got))
}

func (s deliverySuite) testFanOutAndClaimInvalid(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	const inc = "INC-000204"
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{
		{Key: inc + "/1", Incident: inc, Type: "note_added", Payload: []byte("{}")},
		{Key: inc + "/2", Incident: inc, Type: "note_added", Payload: []byte("{}")},
	}))
	good := notify.DeliveryTarget{Channel: "a"}
	for name, targets := range map[string][]notify.DeliveryTarget{
		"a channel named twice": {good, good},
		"an empty channel":      {{}},
		"a NUL in a route":      {{Channel: "b", Route: "r\x00"}},
	} {
		n := 0
		_, err := st.FanOutAndClaim(ctx, "fan", 10, lease, func(context.Context, notify.OutboxEntry) notify.Fan {
			n++
			if n == 2 {
				return notify.Fan{Targets: targets}
			}
			return notify.Fan{Targets: []notify.DeliveryTarget{good}}
		})
		assert.ErrorIs(t, err, notify.ErrInvalid, name)
	}
	for name, call := range map[string]func() error{
		"no route":   func() error { _, err := st.FanOutAndClaim(ctx, "fan", 10, lease, nil); return err },
		"no owner":   func() error { _, err := st.FanOutAndClaim(ctx, "", 10, lease, routeTo(nil, good)); return err },
		"zero limit": func() error { _, err := st.FanOutAndClaim(ctx, "fan", 0, lease, routeTo(nil, good)); return err },
		"short lease": func() error {
			_, err := st.FanOutAndClaim(ctx, "fan", 10, time.Millisecond, routeTo(nil, good))
			return err
		},
	} {
		assert.ErrorIs(t, call(), notify.ErrInvalid, name)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := st.FanOutAndClaim(canceled, "fan", 10, lease, routeTo(nil, good))
	assert.ErrorIs(t, err, context.Canceled)
	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	assert.Empty(t, all, "a refused pass recorded deliveries")
	// Both entries are still there, for a good pass.
	got := fanOutAndClaim(t, st, "fan", 10, routeTo(nil, good))
	assert.Equal(t, []string{inc + "/1→a"}, deliveryKeys(got))
	settleAll(t, st, "fan", got)
	all, err = st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	assert.Len(t, all, 2)
}

// testClaimedWithMessage checks that a pass claims a message all of whose
// deliveries are due together with them, writing nothing else, and that
// Settle records those deliveries with their outcomes and removes the
// message.
func (s deliverySuite) testClaimedWithMessage(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	start := clock.Now()
	for _, inc := range []string{"INC-000400", "INC-000401", "INC-000402"} {
		require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: inc + "/1", Incident: inc, Type: "note_added",
			Payload: payload(t, inc, notify.AudienceLegal)}}))
	}
	route := func(_ context.Context, e notify.OutboxEntry) notify.Fan {
		fan := notify.Fan{Audience: notify.DeliveryAudience(e.Payload), Targets: []notify.DeliveryTarget{{Channel: "a", Route: "ra"}}}
		if e.Incident == "INC-000400" {
			fan.Targets = append(fan.Targets, notify.DeliveryTarget{Channel: "b", Route: "rb"})
		}
		return fan
	}
	got := fanOutAndClaim(t, st, "fan", 10, route)
	require.Equal(t, []string{"INC-000400/1→a", "INC-000400/1→b", "INC-000401/1→a", "INC-000402/1→a"}, deliveryKeys(got))
	for _, d := range got {
		assert.Zero(t, d.ID, "a delivery claimed with its message has an ID")
		assert.NotZero(t, d.OutboxID)
		assert.Equal(t, d.Incident+"/1", d.Key)
		assert.Equal(t, "note_added", d.Type)
		assert.Equal(t, "r"+d.Channel, d.Route)
		assert.Equal(t, notify.AudienceLegal, d.Audience)
		assert.Equal(t, payload(t, d.Incident, notify.AudienceLegal), d.Payload)
		assert.Equal(t, notify.StatusPending, d.Status)
		assert.Equal(t, 1, d.Attempts)
		assert.True(t, d.CreatedAt.Equal(start), "created at %v, want %v", d.CreatedAt, start)
	}
	assert.Equal(t, got[0].OutboxID, got[1].OutboxID)
	for _, inc := range []string{"INC-000400", "INC-000401"} {
		all, err := st.IncidentDeliveries(ctx, inc)
		require.NoError(t, err)
		assert.Empty(t, all, "a delivery claimed with its message was recorded before its outcome")
	}
	// The messages are held: nobody else takes them.
	assert.Empty(t, fanOutAndClaim(t, st, "second", 10, route))
	theirs, err := st.Claim(ctx, "second", 10, lease)
	require.NoError(t, err)
	assert.Empty(t, theirs, "a message claimed with its deliveries was claimed again")

	clock.Advance(time.Second)
	settled := clock.Now()
	sts := []notify.Settlement{
		got[0].Settled(notify.Settlement{Kind: notify.SettleDelivered, Receipt: notify.Receipt{ID: "a-1", Status: 202}}),
		got[1].Settled(notify.Settlement{Kind: notify.SettleFailed, At: start.Add(time.Hour), LastError: "b: 503"}),
		got[2].Settled(notify.Settlement{Kind: notify.SettleDead, LastError: "a: 410 Gone"}),
		got[3].Settled(notify.Settlement{Kind: notify.SettleRelease, At: start.Add(time.Minute)}),
	}
	errs, err := st.Settle(ctx, "fan", sts)
	require.NoError(t, err)
	assert.Equal(t, make([]error, len(sts)), errs)
	ids := make(map[int64]bool)
	for _, st := range sts {
		assert.NotZero(t, st.ID, "Settle did not give back the recorded delivery's ID")
		ids[st.ID] = true
	}
	assert.Len(t, ids, len(sts), "two recorded deliveries have one ID")

	two, err := st.IncidentDeliveries(ctx, "INC-000400")
	require.NoError(t, err)
	require.Len(t, two, 2)
	a, b := two[0], two[1]
	assert.Equal(t, sts[0].ID, a.ID)
	assert.Equal(t, notify.StatusDelivered, a.Status)
	assert.Equal(t, notify.Receipt{ID: "a-1", Status: 202}, a.Receipt)
	assert.Equal(t, 1, a.Attempts)
	assert.Equal(t, "ra", a.Route)
	assert.Equal(t, notify.AudienceLegal, a.Audience)
	assert.Equal(t, "INC-000400/1", a.Key)
	assert.Equal(t, got[0].OutboxID, a.OutboxID)
	assert.Equal(t, payload(t, "INC-000400", notify.AudienceLegal), a.Payload)
	assert.True(t, a.CreatedAt.Equal(start), "created at %v, want %v", a.CreatedAt, start)
	assert.True(t, a.UpdatedAt.Equal(settled), "delivered at %v, want %v", a.UpdatedAt, settled)
	assert.Equal(t, sts[1].ID, b.ID)
	assert.Equal(t, notify.StatusPending, b.Status)
	assert.Equal(t, "b: 503", b.LastError)
	assert.Equal(t, 1, b.Attempts)
	assert.True(t, b.NextAt.Equal(start.Add(time.Hour)), "due at %v, want %v", b.NextAt, start.Add(time.Hour))
	dead, err := st.DeadDeliveries(ctx, "a", 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, sts[2].ID, dead[0].ID)
	assert.Equal(t, "a: 410 Gone", dead[0].LastError)
	for _, d := range got {
		assert.ErrorIs(t, st.Ack(ctx, "fan", d.OutboxID), notify.ErrNotFound, "a settled message is still in the outbox")
	}

	// The released one is due after its minute with no attempt counted,
	// the failed one after its hour, with one.
	assert.Empty(t, claimDeliveries(t, st, "w", 10), "a failed or released delivery is due before its time")
	clock.Advance(time.Minute)
	c := claimDeliveries(t, st, "w", 10)
	require.Len(t, c, 1)
	assert.Equal(t, "INC-000402/1", c[0].Key)
	assert.Equal(t, 1, c[0].Attempts, "a release counted as an attempt")
	settleAll(t, st, "w", c)
	clock.Advance(time.Hour)
	c = claimDeliveries(t, st, "w2", 10)
	require.Len(t, c, 1)
	assert.Equal(t, "INC-000400/1→b", deliveryKeys(c)[0])
	assert.Equal(t, 2, c[0].Attempts)
}

// testClaimedWithMessageLapse checks that a message claimed with its
// deliveries and never settled is taken again once the claim lapses, and
// that only its claimer records it.
func (s deliverySuite) testClaimedWithMessageLapse(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	a := routeTo(nil, notify.DeliveryTarget{Channel: "a"})
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: "INC-000410/1", Incident: "INC-000410", Type: "note_added", Payload: []byte("{}")}}))
	first := fanOutAndClaim(t, st, "one", 10, a)
	require.Len(t, first, 1)
	require.Zero(t, first[0].ID)
	clock.Advance(lease)
	again := fanOutAndClaim(t, st, "two", 10, a)
	require.Len(t, again, 1, "a message whose claim lapsed was not taken again")
	assert.Zero(t, again[0].ID)
	assert.Equal(t, first[0].OutboxID, again[0].OutboxID)
	assert.Equal(t, 2, again[0].Attempts, "the lapsed claim counts as an attempt")

	late := []notify.Settlement{first[0].Settled(notify.Settlement{Kind: notify.SettleDelivered})}
	errs, err := st.Settle(ctx, "one", late)
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], notify.ErrConflict, "a claimer whose claim was taken over recorded the delivery")
	assert.Zero(t, late[0].ID)
	all, err := st.IncidentDeliveries(ctx, "INC-000410")
	require.NoError(t, err)
	assert.Empty(t, all)

	settleAll(t, st, "two", again)
	all, err = st.IncidentDeliveries(ctx, "INC-000410")
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, notify.StatusDelivered, all[0].Status)
	assert.Equal(t, 2, all[0].Attempts)
	errs, err = st.Settle(ctx, "two", []notify.Settlement{again[0].Settled(notify.Settlement{Kind: notify.SettleDelivered})})
	require.NoError(t, err)
	assert.ErrorIs(t, errs[0], notify.ErrNotFound, "a settled message was settled again")
	all, err = st.IncidentDeliveries(ctx, "INC-000410")
	require.NoError(t, err)
	assert.Len(t, all, 1, "a message was recorded twice")

	// A lapsed claim nobody took over is still its claimer's to record.
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: "INC-000411/1", Incident: "INC-000411", Type: "note_added", Payload: []byte("{}")}}))
	got := fanOutAndClaim(t, st, "one", 10, a)
	require.Len(t, got, 1)
	clock.Advance(2 * lease)
	settleAll(t, st, "one", got)
	assert.Empty(t, fanOutAndClaim(t, st, "two", 10, a), "a recorded message was taken again")
}

// testClaimedWithMessageOrder checks that a message claimed with its
// deliveries holds up its incident's later ones until it is recorded,
// and that a failed one then goes first.
func (s deliverySuite) testClaimedWithMessageOrder(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	const inc = "INC-000420"
	write := func(n int) {
		t.Helper()
		require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: fmt.Sprintf("%s/%d", inc, n), Incident: inc,
			Type: "note_added", Payload: []byte("{}")}}))
	}
	a := routeTo(nil, notify.DeliveryTarget{Channel: "a"})
	write(1)
	first := fanOutAndClaim(t, st, "one", 10, a)
	require.Equal(t, []string{inc + "/1→a"}, deliveryKeys(first))
	write(2)
	write(3)
	assert.Empty(t, fanOutAndClaim(t, st, "two", 10, a), "a later message was handed out while an earlier one was being made")
	assert.Empty(t, claimDeliveries(t, st, "two", 10))
	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	assert.Equal(t, []string{inc + "/2→a", inc + "/3→a"}, deliveryKeys(all), "the later messages were not fanned out")

	// The first fails: it is recorded pending, and is due before them.
	errs, err := st.Settle(ctx, "one", []notify.Settlement{first[0].Settled(notify.Settlement{Kind: notify.SettleFailed,
		At: clock.Now(), LastError: "503"})})
	require.NoError(t, err)
	require.Equal(t, []error{nil}, errs)
	c := claimDeliveries(t, st, "two", 10)
	require.Equal(t, []string{inc + "/1→a"}, deliveryKeys(c))
	assert.Equal(t, 2, c[0].Attempts)
	settleAll(t, st, "two", c)
	c = claimDeliveries(t, st, "two", 10)
	require.Equal(t, []string{inc + "/2→a"}, deliveryKeys(c))
}

// writeKeyed writes n messages about incident, keyed incident/1 to
// incident/n, one change each.
func writeKeyed(t *testing.T, st DeliveryStore, incident string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		require.NoError(t, st.Write(context.Background(), []notify.OutboxMessage{{Key: fmt.Sprintf("%s/%d", incident, i),
			Incident: incident, Type: "note_added", Payload: []byte("{}")}}))
	}
}

// routeByKey returns a RouteFunc that fans each message out to the
// channels routes names for its key.
func routeByKey(routes map[string][]string) notify.RouteFunc {
	return func(_ context.Context, e notify.OutboxEntry) notify.Fan {
		var fan notify.Fan
		for _, c := range routes[e.Key] {
			fan.Targets = append(fan.Targets, notify.DeliveryTarget{Channel: c})
		}
		return fan
	}
}

// testClaimedWithMessageHoldsUpPass checks that a message claimed with
// its deliveries holds up its incident's later messages taken in the same
// pass, on every channel: none of their deliveries is claimed before it is
// recorded.
func (s deliverySuite) testClaimedWithMessageHoldsUpPass(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	const inc = "INC-000430"
	writeKeyed(t, st, inc, 2)
	route := routeByKey(map[string][]string{inc + "/1": {"a"}, inc + "/2": {"a", "b"}})
	got := fanOutAndClaim(t, st, "one", 10, route)
	require.Equal(t, []string{inc + "/1→a"}, deliveryKeys(got),
		"a later message of the incident was handed out, on another channel, while an earlier one was being made")
	assert.Zero(t, got[0].ID)
	assert.Empty(t, claimDeliveries(t, st, "two", 10))
	errs, err := st.Settle(ctx, "one", []notify.Settlement{got[0].Settled(notify.Settlement{Kind: notify.SettleFailed,
		At: clock.Now().Add(time.Minute), LastError: "503"})})
	require.NoError(t, err)
	require.Equal(t, []error{nil}, errs)
	assert.Equal(t, []string{inc + "/2→b"}, deliveryKeys(claimDeliveries(t, st, "two", 10)),
		"once the first is recorded, the second waits on its channel only")
}

// testClaimedWithMessageRerouted checks the order of an incident's
// messages on a channel when a message claimed with its deliveries is
// taken again, after its claim lapsed, by a pass that routes it to more
// channels: it goes before the later message already waiting there.
func (s deliverySuite) testClaimedWithMessageRerouted(t *testing.T) {
	st, clock := s.store(t)
	const inc = "INC-000440"
	writeKeyed(t, st, inc, 2)
	before := routeByKey(map[string][]string{inc + "/1": {"a"}, inc + "/2": {"b"}})
	got := fanOutAndClaim(t, st, "one", 10, before)
	require.Equal(t, []string{inc + "/1→a"}, deliveryKeys(got), "the later message went to b before the first was made")
	clock.Advance(lease) // "one" is gone; its claim lapses
	after := routeByKey(map[string][]string{inc + "/1": {"a", "b"}, inc + "/2": {"b"}})
	got = fanOutAndClaim(t, st, "two", 10, after)
	require.Equal(t, []string{inc + "/1→a", inc + "/1→b"}, deliveryKeys(got))
	assert.Empty(t, claimDeliveries(t, st, "three", 10), "the later message went to b before the first")
	settleAll(t, st, "two", got)
	assert.Equal(t, []string{inc + "/2→b"}, deliveryKeys(claimDeliveries(t, st, "three", 10)))
}

// testClaimedStillBeingMade checks SettleClaimed: the message leaves the
// outbox with the delivery recorded pending and still claimed by its
// claimer, who settles it later by its ID; nobody else claims it before
// the message's claim lapses.
func (s deliverySuite) testClaimedStillBeingMade(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	const inc = "INC-000450"
	writeKeyed(t, st, inc, 2)
	got := fanOutAndClaim(t, st, "one", 10, routeByKey(map[string][]string{inc + "/1": {"a", "slow"}, inc + "/2": {"a"}}))
	require.Equal(t, []string{inc + "/1→a", inc + "/1→slow"}, deliveryKeys(got))
	sts := []notify.Settlement{
		got[0].Settled(notify.Settlement{Kind: notify.SettleDelivered}),
		got[1].Settled(notify.Settlement{Kind: notify.SettleClaimed}),
	}
	errs, err := st.Settle(ctx, "one", sts)
	require.NoError(t, err)
	require.Equal(t, []error{nil, nil}, errs)
	require.NotZero(t, sts[1].ID)
	assert.ErrorIs(t, st.Ack(ctx, "one", got[0].OutboxID), notify.ErrNotFound, "the message is still in the outbox")
	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	require.Equal(t, []string{inc + "/1→a", inc + "/1→slow", inc + "/2→a"}, deliveryKeys(all))
	slow := all[1]
	assert.Equal(t, sts[1].ID, slow.ID)
	assert.Equal(t, notify.StatusPending, slow.Status)
	assert.Equal(t, 1, slow.Attempts)
	// The next message goes to a; nobody claims the one being made.
	next := claimDeliveries(t, st, "two", 10)
	assert.Equal(t, []string{inc + "/2→a"}, deliveryKeys(next))
	settleAll(t, st, "two", next)
	errs, err = st.Settle(ctx, "two", []notify.Settlement{{ID: slow.ID, Kind: notify.SettleDelivered}})
	require.NoError(t, err)
	assert.ErrorIs(t, errs[0], notify.ErrConflict, "another claimer recorded the delivery being made")
	errs, err = st.Settle(ctx, "one", []notify.Settlement{{ID: slow.ID, Kind: notify.SettleFailed, At: clock.Now(), LastError: "503"}})
	require.NoError(t, err)
	assert.Equal(t, []error{nil}, errs)
	c := claimDeliveries(t, st, "two", 10)
	require.Equal(t, []string{inc + "/1→slow"}, deliveryKeys(c))
	assert.Equal(t, 2, c[0].Attempts)
	settleAll(t, st, "two", c)

	// One being made whose claimer is gone is claimed again once the
	// claim lapses.
	require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: "INC-000451/1", Incident: "INC-000451", Type: "note_added", Payload: []byte("{}")}}))
	got = fanOutAndClaim(t, st, "one", 10, routeTo(nil, notify.DeliveryTarget{Channel: "a"}))
	require.Len(t, got, 1)
	errs, err = st.Settle(ctx, "one", []notify.Settlement{got[0].Settled(notify.Settlement{Kind: notify.SettleClaimed})})
	require.NoError(t, err)
	require.Equal(t, []error{nil}, errs)
	assert.Empty(t, claimDeliveries(t, st, "three", 10))
	clock.Advance(lease)
	c = claimDeliveries(t, st, "three", 10)
	require.Equal(t, []string{"INC-000451/1→a"}, deliveryKeys(c))
	assert.Equal(t, 2, c[0].Attempts)
}

func (s deliverySuite) testSettle(t *testing.T) {
	st, clock := s.store(t)
	ctx := context.Background()
	const inc = "INC-000205"
	fanOut(t, st, inc, 1, notify.DeliveryTarget{Channel: "a"}, notify.DeliveryTarget{Channel: "b"},
		notify.DeliveryTarget{Channel: "c"}, notify.DeliveryTarget{Channel: "d"})
	got := claimDeliveries(t, st, "w", 10)
	require.Len(t, got, 4)
	id := make(map[string]int64)
	for _, d := range got {
		id[d.Channel] = d.ID
	}
	start := clock.Now()
	errs, err := st.Settle(ctx, "w", []notify.Settlement{
		{ID: id["a"], Kind: notify.SettleDelivered, Receipt: notify.Receipt{ID: "a-1", Status: 202}},
		{ID: id["b"], Kind: notify.SettleFailed, At: start.Add(time.Hour), LastError: "b: 503"},
		{ID: id["d"] + 1000, Kind: notify.SettleDead, LastError: "no such"},
		{ID: id["c"], Kind: notify.SettleRelease, At: start.Add(time.Minute)},
		{ID: id["d"], Kind: notify.SettleDead, LastError: "d: 410 Gone"},
	})
	require.NoError(t, err)
	require.Len(t, errs, 5)
	assert.NoError(t, errs[0])
	assert.NoError(t, errs[1])
	assert.ErrorIs(t, errs[2], notify.ErrNotFound)
	assert.NoError(t, errs[3])
	assert.NoError(t, errs[4])

	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	require.Len(t, all, 4)
	assert.Equal(t, notify.StatusDelivered, all[0].Status)
	assert.Equal(t, notify.Receipt{ID: "a-1", Status: 202}, all[0].Receipt)
	assert.True(t, all[0].UpdatedAt.Equal(start), "delivered at %v, want %v", all[0].UpdatedAt, start)
	assert.Equal(t, notify.StatusPending, all[1].Status)
	assert.Equal(t, notify.StatusPending, all[2].Status)
	assert.Equal(t, notify.StatusDead, all[3].Status)
	assert.Equal(t, "d: 410 Gone", all[3].LastError)
	dead, err := st.DeadDeliveries(ctx, "d", 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)

	// What was settled is no longer held: settling it again conflicts,
	// and so does settling what another claimer holds.
	errs, err = st.Settle(ctx, "w", []notify.Settlement{
		{ID: id["a"], Kind: notify.SettleDelivered},
		{ID: id["d"], Kind: notify.SettleFailed, At: start},
	})
	require.NoError(t, err)
	require.Len(t, errs, 2)
	assert.ErrorIs(t, errs[0], notify.ErrConflict)
	assert.ErrorIs(t, errs[1], notify.ErrConflict)

	assert.Empty(t, claimDeliveries(t, st, "w", 10), "a failed or released delivery is due before its time")
	clock.Advance(time.Minute)
	c := claimDeliveries(t, st, "w", 10)
	require.Len(t, c, 1)
	assert.Equal(t, "c", c[0].Channel)
	assert.Equal(t, 1, c[0].Attempts, "a release counted as an attempt")
	errs, err = st.Settle(ctx, "other", []notify.Settlement{{ID: c[0].ID, Kind: notify.SettleDelivered}})
	require.NoError(t, err)
	assert.ErrorIs(t, errs[0], notify.ErrConflict, "settled a delivery another claimer holds")
	errs, err = st.Settle(ctx, "w", []notify.Settlement{{ID: c[0].ID, Kind: notify.SettleDelivered}})
	require.NoError(t, err)
	assert.Equal(t, []error{nil}, errs)
	clock.Advance(time.Hour)
	b := claimDeliveries(t, st, "w2", 10)
	require.Len(t, b, 1)
	assert.Equal(t, "b", b[0].Channel)
	assert.Equal(t, 2, b[0].Attempts)
	assert.Equal(t, "b: 503", b[0].LastError)

	errs, err = st.Settle(ctx, "w", nil)
	require.NoError(t, err)
	assert.Empty(t, errs)
}

func (s deliverySuite) testSettleInvalid(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	const inc = "INC-000206"
	fanOut(t, st, inc, 1, notify.DeliveryTarget{Channel: "a"})
	got := claimDeliveries(t, st, "w", 10)
	require.Len(t, got, 1)
	ok := notify.Settlement{ID: got[0].ID, Kind: notify.SettleDelivered}
	for name, sts := range map[string][]notify.Settlement{
		"a delivery named twice": {ok, ok},
		"an unknown kind":        {ok, {ID: got[0].ID + 1, Kind: "lost"}},
		"no kind":                {ok, {ID: got[0].ID + 1}},
		"too many settlements":   make([]notify.Settlement, notify.MaxClaim+1),
		"ID 0 without a message": {ok, {Kind: notify.SettleDelivered, Channel: "a"}},
		"ID 0 without a channel": {ok, {Kind: notify.SettleDelivered, OutboxID: 1}},
		"ID 0 named twice": {ok, {Kind: notify.SettleDelivered, OutboxID: 1, Channel: "a"},
			{Kind: notify.SettleDead, OutboxID: 1, Channel: "a"}},
		"ID 0 with a NUL in its route": {ok, {Kind: notify.SettleDelivered, OutboxID: 1, Channel: "a", Route: "r\x00"}},
		"ID 0 with a NUL in its audience": {ok, {Kind: notify.SettleDelivered, OutboxID: 1, Channel: "a",
			Audience: "x\x00y"}},
		"claimed with an ID": {ok, {ID: got[0].ID + 1, Kind: notify.SettleClaimed}},
	} {
		errs, err := st.Settle(ctx, "w", sts)
		assert.ErrorIs(t, err, notify.ErrInvalid, name)
		assert.Nil(t, errs, name)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := st.Settle(canceled, "w", []notify.Settlement{ok})
	assert.ErrorIs(t, err, context.Canceled)
	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, notify.StatusPending, all[0].Status, "a refused batch settled a delivery")
	errs, err := st.Settle(ctx, "w", []notify.Settlement{ok})
	require.NoError(t, err)
	assert.Equal(t, []error{nil}, errs, "a refused batch let go of the claim")
}

// testConcurrentBatches drains an outbox with several claimers that fan
// out and settle in batches: each delivery is made exactly once, and an
// incident's deliveries to a channel in order.
func (s deliverySuite) testConcurrentBatches(t *testing.T) {
	st, _ := s.store(t)
	ctx := context.Background()
	const incidents, each, workers = 4, 5, 4
	var want []string
	for i := range each {
		for n := range incidents {
			inc := fmt.Sprintf("INC-%06d", 300+n)
			key := fmt.Sprintf("%s/batch/%d", inc, i+1)
			require.NoError(t, st.Write(ctx, []notify.OutboxMessage{{Key: key, Incident: inc, Type: "note_added", Payload: []byte("{}")}}))
			want = append(want, key+"→a", key+"→b")
		}
	}
	var (
		mu   sync.Mutex
		seen []string
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	targets := []notify.DeliveryTarget{{Channel: "a"}, {Channel: "b"}}
	for w := range workers {
		owner := fmt.Sprintf("worker-%d", w+1)
		wg.Go(func() {
			for idle := 0; idle < 50; {
				got, err := st.FanOutAndClaim(ctx, owner, 3, lease, routeTo(nil, targets...))
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				sts := make([]notify.Settlement, len(got))
				mu.Lock()
				for i, d := range got {
					seen = append(seen, d.Key+"→"+d.Channel)
					sts[i] = d.Settled(notify.Settlement{Kind: notify.SettleDelivered})
				}
				mu.Unlock()
				serrs, err := st.Settle(ctx, owner, sts)
				if err == nil {
					err = errors.Join(serrs...)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.ElementsMatch(t, want, seen, "each delivery made exactly once")
	streams := func(keys []string) map[string][]string {
		out := make(map[string][]string)
		for _, k := range keys {
			stream := k[:len("INC-000300")] + k[strings.LastIndex(k, "→"):]
			out[stream] = append(out[stream], k)
		}
		return out
	}
	assert.Equal(t, streams(want), streams(seen), "an incident's deliveries to a channel out of order")
}

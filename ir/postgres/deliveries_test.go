package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir/postgres"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// writeOutbox writes one message of each incident straight into the
// store's outbox, due at the clock's time, and returns their IDs.
func writeOutbox(t *testing.T, st *postgres.Store, clock *notifytest.Clock, incidents ...string) []int64 {
	t.Helper()
	schema := pgx.Identifier{st.Schema()}.Sanitize()
	ids := make([]int64, len(incidents))
	for i, inc := range incidents {
		err := testPool(t).QueryRow(context.Background(), `INSERT INTO `+schema+`.outbox
				(key, incident_id, type, payload, created_at, available_at)
			VALUES ($1, $2, 'note_added', '{"audience":"internal"}', $3, $3) RETURNING id`,
			fmt.Sprintf("%s/%d", inc, i), inc, clock.Now()).Scan(&ids[i])
		require.NoError(t, err)
	}
	return ids
}

// outboxLeft returns the IDs left in the store's outbox.
func outboxLeft(t *testing.T, st *postgres.Store) []int64 {
	t.Helper()
	schema := pgx.Identifier{st.Schema()}.Sanitize()
	rows, err := testPool(t).Query(context.Background(), `SELECT id FROM `+schema+`.outbox ORDER BY id`)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return ids
}

func fixedRoute(targets ...notify.DeliveryTarget) notify.RouteFunc {
	return func(context.Context, notify.OutboxEntry) notify.Fan {
		return notify.Fan{Audience: notify.Audience("internal"), Targets: targets}
	}
}

// settlementsOf settles every delivery of ds with kind.
func settlementsOf(ds []notify.Delivery, kind notify.SettleKind, at time.Time) []notify.Settlement {
	sts := make([]notify.Settlement, len(ds))
	for i, d := range ds {
		sts[i] = notify.Settlement{ID: d.ID, OutboxID: d.OutboxID, Channel: d.Channel, Route: d.Route, Audience: d.Audience,
			Kind: kind, At: at, LastError: "boom", Receipt: notify.Receipt{ID: "r-" + d.Channel, Status: 202}}
	}
	return sts
}

func TestFanOutAndClaimFastPath(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	clock := notifytest.NewClock(time.Time{})
	st := newStore(t, clock)
	a, b := notify.DeliveryTarget{Channel: "a", Route: "ra"}, notify.DeliveryTarget{Channel: "b", Route: "rb"}
	ids := writeOutbox(t, st, clock, "INC-1", "INC-2", "INC-1")
	got, err := st.FanOutAndClaim(ctx, "fan", 10, time.Minute, fixedRoute(a, b))
	require.NoError(t, err)
	// INC-1's first message and INC-2's are claimed with their
	// deliveries; INC-1's second waits behind the first, fanned out.
	require.Len(t, got, 4)
	for i, want := range []struct {
		outbox  int64
		channel string
	}{{ids[0], "a"}, {ids[0], "b"}, {ids[1], "a"}, {ids[1], "b"}} {
		d := got[i]
		assert.Equal(t, int64(0), d.ID)
		assert.Equal(t, want.outbox, d.OutboxID)
		assert.Equal(t, want.channel, d.Channel)
		assert.Equal(t, "r"+want.channel, d.Route)
		assert.Equal(t, 1, d.Attempts)
		assert.Equal(t, notify.StatusPending, d.Status)
		assert.Equal(t, notify.Audience("internal"), d.Audience)
		assert.WithinDuration(t, clock.Now(), d.NextAt, 0)
		assert.WithinDuration(t, clock.Now(), d.UpdatedAt, 0)
		assert.WithinDuration(t, clock.Now(), d.CreatedAt, 0)
		assert.JSONEq(t, `{"audience":"internal"}`, string(d.Payload))
	}
	assert.Equal(t, ids[:2], outboxLeft(t, st), "the claimed messages stay in the outbox")
	recorded, err := st.IncidentDeliveries(ctx, "INC-1")
	require.NoError(t, err)
	require.Len(t, recorded, 2)
	for _, d := range recorded {
		assert.Equal(t, ids[2], d.OutboxID)
		assert.Equal(t, 0, d.Attempts, "not claimed: the first message is still in the outbox")
	}
	// Another pass takes nothing: the messages are claimed, and the
	// fanned out deliveries wait for them.
	more, err := st.FanOutAndClaim(ctx, "other", 10, time.Minute, fixedRoute(a, b))
	require.NoError(t, err)
	assert.Empty(t, more)

	// INC-1's first message: delivered to a, failed on b. INC-2's: a
	// released, b dead.
	later := clock.Now().Add(time.Hour)
	sts := append(settlementsOf(got[:1], notify.SettleDelivered, later), settlementsOf(got[1:2], notify.SettleFailed, later)...)
	sts = append(sts, settlementsOf(got[2:3], notify.SettleRelease, later)...)
	sts = append(sts, settlementsOf(got[3:], notify.SettleDead, later)...)
	clock.Advance(time.Second)
	errs, err := st.Settle(ctx, "other", sts)
	require.NoError(t, err)
	for _, err := range errs {
		assert.ErrorIs(t, err, notify.ErrConflict)
	}
	for _, s := range sts {
		assert.Equal(t, int64(0), s.ID)
	}
	errs, err = st.Settle(ctx, "fan", sts)
	require.NoError(t, err)
	assert.Equal(t, make([]error, 4), errs)
	assert.Empty(t, outboxLeft(t, st))
	byID := map[int64]notify.Delivery{}
	for _, inc := range []string{"INC-1", "INC-2"} {
		ds, err := st.IncidentDeliveries(ctx, inc)
		require.NoError(t, err)
		for _, d := range ds {
			byID[d.ID] = d
		}
	}
	require.Len(t, byID, 6)
	now := clock.Now()
	check := func(s notify.Settlement, status notify.DeliveryStatus, attempts int, next time.Time, lastErr string, r notify.Receipt) {
		t.Helper()
		d, ok := byID[s.ID]
		require.True(t, ok, "settlement %+v got no delivery", s)
		assert.Equal(t, s.OutboxID, d.OutboxID)
		assert.Equal(t, s.Channel, d.Channel)
		assert.Equal(t, s.Route, d.Route)
		assert.Equal(t, notify.Audience("internal"), d.Audience)
		assert.Equal(t, status, d.Status)
		assert.Equal(t, attempts, d.Attempts)
		assert.WithinDuration(t, next, d.NextAt, 0)
		assert.WithinDuration(t, now, d.UpdatedAt, 0)
		assert.Equal(t, lastErr, d.LastError)
		assert.Equal(t, r, d.Receipt)
		assert.WithinDuration(t, now.Add(-time.Second), d.CreatedAt, 0)
	}
	check(sts[0], notify.StatusDelivered, 1, now, "", notify.Receipt{ID: "r-a", Status: 202})
	check(sts[1], notify.StatusPending, 1, later, "boom", notify.Receipt{})
	check(sts[2], notify.StatusPending, 0, later, "", notify.Receipt{})
	check(sts[3], notify.StatusDead, 1, now, "boom", notify.Receipt{})

	// Settled again: the messages are gone.
	again := settlementsOf(got[:1], notify.SettleDelivered, later)
	errs, err = st.Settle(ctx, "fan", again)
	require.NoError(t, err)
	assert.ErrorIs(t, errs[0], notify.ErrNotFound)

	// INC-1's second message is now due to a (b waits for the failed
	// delivery).
	next, err := st.ClaimDeliveries(ctx, "fan", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, next, 1)
	assert.Equal(t, ids[2], next[0].OutboxID)
	assert.Equal(t, "a", next[0].Channel)
}

func TestFanOutAndClaimFastPathLimit(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	clock := notifytest.NewClock(time.Time{})
	st := newStore(t, clock)
	a, b := notify.DeliveryTarget{Channel: "a"}, notify.DeliveryTarget{Channel: "b"}
	first := writeOutbox(t, st, clock, "INC-1", "INC-2", "INC-3")
	ids := first
	// 3 messages taken, the first claimed with its 2 deliveries; the
	// second does not fit and is fanned out with 1 delivery claimed;
	// the third is fanned out with none.
	got, err := st.FanOutAndClaim(ctx, "fan", 3, time.Minute, fixedRoute(a, b))
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, int64(0), got[0].ID)
	assert.Equal(t, int64(0), got[1].ID)
	assert.NotZero(t, got[2].ID)
	assert.Equal(t, ids[1], got[2].OutboxID)
	assert.Equal(t, []int64{ids[0]}, outboxLeft(t, st))
	// Held targets and no targets take the slow path.
	ids = writeOutbox(t, st, clock, "INC-4", "INC-5")
	routes := map[int64]notify.Fan{
		ids[0]: {Targets: []notify.DeliveryTarget{a, {Channel: "b", Held: true}}},
		ids[1]: {},
	}
	got, err = st.FanOutAndClaim(ctx, "fan", 10, time.Minute, func(_ context.Context, e notify.OutboxEntry) notify.Fan {
		return routes[e.ID]
	})
	require.NoError(t, err)
	// INC-2/3's pending deliveries not yet claimed come first.
	var fresh []notify.Delivery
	for _, d := range got {
		assert.NotZero(t, d.ID)
		if d.OutboxID >= ids[0] {
			fresh = append(fresh, d)
		}
	}
	require.Len(t, fresh, 1)
	assert.Equal(t, "a", fresh[0].Channel)
	assert.Len(t, got, 4)
	assert.Equal(t, []int64{first[0]}, outboxLeft(t, st))
}

func TestSettleFastPathLapsed(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	clock := notifytest.NewClock(time.Time{})
	st := newStore(t, clock)
	a := notify.DeliveryTarget{Channel: "a"}
	// A delivery recorded before, claimed by the same pass.
	old := writeOutbox(t, st, clock, "INC-0")
	_, err := st.Claim(ctx, "x", 1, time.Minute)
	require.NoError(t, err)
	require.NoError(t, st.FanOut(ctx, "x", old[0], []notify.DeliveryTarget{a}))
	ids := writeOutbox(t, st, clock, "INC-1", "INC-2")
	got, err := st.FanOutAndClaim(ctx, "fan", 10, time.Minute, fixedRoute(a))
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.NotZero(t, got[0].ID)
	require.Zero(t, got[1].ID)
	require.Zero(t, got[2].ID)
	clock.Advance(2 * time.Minute)
	// INC-1's message is taken again once the claim lapses; INC-2's is
	// still owner's and settled.
	theirs, err := st.Claim(ctx, "other", 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, theirs, 1)
	require.Equal(t, ids[0], theirs[0].ID)
	sts := settlementsOf(got, notify.SettleDelivered, time.Time{})
	errs, err := st.Settle(ctx, "fan", sts)
	require.NoError(t, err)
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], notify.ErrConflict)
	assert.NoError(t, errs[2])
	assert.Equal(t, got[0].ID, sts[0].ID)
	assert.Zero(t, sts[1].ID)
	assert.NotZero(t, sts[2].ID)
	ds, err := st.IncidentDeliveries(ctx, "INC-2")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, sts[2].ID, ds[0].ID)
	assert.Equal(t, 1, ds[0].Attempts)
	assert.Equal(t, notify.StatusDelivered, ds[0].Status)
	assert.Equal(t, []int64{ids[0]}, outboxLeft(t, st))
	// other's claim is untouched.
	require.NoError(t, st.Ack(ctx, "other", ids[0]))
}

func TestSettleFastPathAtomic(t *testing.T) {
	testDSN(t)
	ctx := context.Background()
	clock := notifytest.NewClock(time.Time{})
	st := newStore(t, clock)
	a := notify.DeliveryTarget{Channel: "a"}
	writeOutbox(t, st, clock, "INC-1", "INC-2")
	got, err := st.FanOutAndClaim(ctx, "fan", 1, time.Minute, fixedRoute(a))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Zero(t, got[0].ID)
	// A delivery recorded for the claimed message behind the store's
	// back makes its settlement fail: the whole call changes nothing.
	schema := pgx.Identifier{st.Schema()}.Sanitize()
	_, err = testPool(t).Exec(ctx, `INSERT INTO `+schema+`.deliveries (outbox_id, key, incident_id, type, channel, route,
			audience, payload, status, created_at, next_at, updated_at)
		SELECT id, key, incident_id, type, 'a', '', '', payload, 'dead', created_at, created_at, created_at
		FROM `+schema+`.outbox WHERE id = $1`, got[0].OutboxID)
	require.NoError(t, err)
	clock.Advance(time.Second)
	recorded, err := st.FanOutAndClaim(ctx, "fan", 10, time.Minute, func(context.Context, notify.OutboxEntry) notify.Fan {
		return notify.Fan{Targets: []notify.DeliveryTarget{{Channel: "b", Held: true}, a}}
	})
	require.NoError(t, err)
	require.Len(t, recorded, 1)
	require.NotZero(t, recorded[0].ID, "held targets are fanned out")
	sts := append(settlementsOf(recorded, notify.SettleDelivered, time.Time{}), settlementsOf(got, notify.SettleDelivered, time.Time{})...)
	_, err = st.Settle(ctx, "fan", sts)
	require.Error(t, err)
	assert.Zero(t, sts[1].ID)
	ds, err := st.IncidentDeliveries(ctx, "INC-2")
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, notify.StatusPending, ds[0].Status, "a")
	assert.Equal(t, notify.StatusHeld, ds[1].Status, "b")
	assert.Equal(t, []int64{got[0].OutboxID}, outboxLeft(t, st))
}

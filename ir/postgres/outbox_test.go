package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
)

// fillOutbox opens incidents, each with changes that leave messages, and
// returns the keys of all the messages.
func fillOutbox(t *testing.T, st ir.Store, incidents, each int) []string {
	t.Helper()
	ctx := t.Context()
	var keys []string
	for i := range incidents {
		ch := irtest.OpenChange(irtest.Incident(ir.ID(fmt.Sprintf("INC-%06d", i+1))).Build())
		for v := range each {
			if v > 0 {
				ch = irtest.NextChange(ch.Incident)
			}
			ch.Outbox = []notify.OutboxMessage{{
				Key: fmt.Sprintf("%s/%d/1", ch.Incident.ID, ch.Incident.Version), Incident: string(ch.Incident.ID),
				Type: string(ch.Events[0].Type), Payload: []byte(`{"n":1}`),
			}}
			require.NoError(t, st.Apply(ctx, ch))
			keys = append(keys, ch.Outbox[0].Key)
		}
	}
	return keys
}

// TestClaimSkipLocked runs claimers side by side over many messages and
// acknowledges nothing until all are claimed, so every claim holds
// throughout: no message reaches two claimers, and every one is delivered.
func TestClaimSkipLocked(t *testing.T) {
	t.Parallel()
	clock := irtest.NewClock(time.Time{})
	st := newStore(t, clock)
	want := fillOutbox(t, st, 10, 20)

	const claimers = 6
	claimed := make([][]notify.OutboxEntry, claimers)
	errs := make([]error, claimers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			<-start
			for {
				got, err := st.Claim(context.Background(), fmt.Sprintf("dispatcher-%d", c), 7, time.Hour)
				if err != nil {
					errs[c] = err
					return
				}
				if len(got) == 0 {
					return
				}
				claimed[c] = append(claimed[c], got...)
			}
		})
	}
	close(start)
	wg.Wait()

	owner := make(map[string]int)
	var got []string
	for c, entries := range claimed {
		require.NoError(t, errs[c], "claimer %d", c)
		for _, e := range entries {
			prev, dup := owner[e.Key]
			require.False(t, dup, "message %s reached claimers %d and %d", e.Key, prev, c)
			owner[e.Key] = c
			got = append(got, e.Key)
			assert.Equal(t, 1, e.Attempts)
		}
	}
	assert.ElementsMatch(t, want, got, "every message is delivered")
	for c, entries := range claimed {
		for i, e := range entries {
			require.NoError(t, st.Ack(t.Context(), fmt.Sprintf("dispatcher-%d", c), e.ID), "claimer %d, entry %d", c, i)
		}
	}
	clock.Advance(2 * time.Hour)
	rest, err := st.Claim(t.Context(), "dispatcher-0", 10, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, rest, "every message was acknowledged")
}

// TestClaimPassesOverLockedRows checks that a claim does not wait for a
// row another transaction holds: it takes the next due rows instead.
func TestClaimPassesOverLockedRows(t *testing.T) {
	t.Parallel()
	st := newStore(t, irtest.NewClock(time.Time{}))
	keys := fillOutbox(t, st, 1, 3)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	tx, err := testPool(t).Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	var locked int64
	require.NoError(t, tx.QueryRow(ctx, "SELECT id FROM "+pgx.Identifier{st.Schema(), "outbox"}.Sanitize()+
		" ORDER BY id LIMIT 1 FOR UPDATE").Scan(&locked))

	got, err := st.Claim(ctx, "dispatcher-1", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 2, "the locked row is passed over")
	assert.Equal(t, keys[1:], []string{got[0].Key, got[1].Key})
	require.NoError(t, tx.Rollback(ctx))

	got, err = st.Claim(ctx, "dispatcher-2", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 1, "released, the row is due again")
	assert.Equal(t, locked, got[0].ID)
}

func TestOutboxSubMicrosecondClock(t *testing.T) {
	t.Parallel()
	// A message written at an instant with nanoseconds is due at that
	// instant, as in every other store.
	clock := irtest.NewClock(time.Date(2026, time.March, 2, 9, 0, 0, 500, time.UTC))
	st := newStore(t, clock)
	ctx := context.Background()
	open := irtest.OpenChange(irtest.Incident("INC-000001").Build())
	open.Outbox = []notify.OutboxMessage{{Key: "INC-000001/1/1", Incident: "INC-000001", Type: string(ir.EventOpened)}}
	require.NoError(t, st.Apply(ctx, open))
	got, err := st.Claim(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.NoError(t, st.Retry(ctx, "w", got[0].ID, clock.Now(), "again"))
	again, err := st.Claim(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, again, 1, "a message given back for now is due now")
}

func TestTextThePostgresCannotKeep(t *testing.T) {
	t.Parallel()
	st := newStore(t, nil)
	_, err := st.Get(context.Background(), "INC-\x00")
	require.ErrorIs(t, err, ir.ErrInvalid)
}

func TestOutboxOnServerTime(t *testing.T) {
	t.Parallel()
	// Without a clock, the outbox reads the server's time: a message is
	// due as soon as it is written, a claim holds against every other
	// claimer, and a message given back for a past moment is due again.
	st := newStore(t, nil)
	ctx := context.Background()
	open := irtest.OpenChange(irtest.Incident("INC-000001").Build())
	open.Outbox = []notify.OutboxMessage{{Key: "INC-000001/1/1", Incident: "INC-000001", Type: string(ir.EventOpened)}}
	require.NoError(t, st.Apply(ctx, open))
	got, err := st.Claim(ctx, "w1", 10, time.Hour)
	require.NoError(t, err)
	require.Len(t, got, 1)
	other, err := st.Claim(ctx, "w2", 10, time.Hour)
	require.NoError(t, err)
	assert.Empty(t, other, "the claim holds")
	require.NoError(t, st.Retry(ctx, "w1", got[0].ID, time.Now().Add(-time.Hour), "again"))
	again, err := st.Claim(ctx, "w2", 10, time.Hour)
	require.NoError(t, err)
	require.Len(t, again, 1)
	assert.Equal(t, 2, again[0].Attempts)
	require.NoError(t, st.Ack(ctx, "w2", again[0].ID))
}

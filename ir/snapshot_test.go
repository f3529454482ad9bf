package ir_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
)

// writeAfterGet is a store that, once armed, commits one more note to the
// incident right after the next Get returns it, as another writer might.
type writeAfterGet struct {
	ir.Store
	t     testing.TB
	armed *atomic.Bool
}

func (s writeAfterGet) Get(ctx context.Context, id ir.ID) (*ir.Incident, error) {
	inc, err := s.Store.Get(ctx, id)
	if err == nil && s.armed.CompareAndSwap(true, false) {
		require.NoError(s.t, s.Apply(ctx, irtest.NextChange(inc)))
	}
	return inc, err
}

// seqs returns the Seq of each event.
func seqs(events []ir.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

func TestSnapshotLeavesOutLaterChanges(t *testing.T) {
	t.Parallel()
	armed := new(atomic.Bool)
	h := newHarness(t, func(c *ir.Config) { c.Store = writeAfterGet{Store: c.Store, t: t, armed: armed} })
	inc := h.open(phishing())
	for range 3 {
		_, err := h.r.AddNote(h.ctx, testAlice, inc.ID, "still looking")
		require.NoError(t, err)
	}
	before := len(h.timeline(inc.ID))

	armed.Store(true)
	snap, err := h.r.Snapshot(h.ctx, inc.ID, 0)
	require.NoError(t, err)
	require.Len(t, h.timeline(inc.ID), before+1, "a change was committed between reading the incident and its timeline")
	assert.Equal(t, h.timeline(inc.ID)[before-1], snap.Events[0], "the latest event is the incident's version's")
	assert.Equal(t, snap.Incident.Version, snap.Events[0].Version)
	for i, e := range snap.Events {
		assert.Equal(t, int64(before-i), e.Seq, "event %d", i)
		assert.LessOrEqual(t, e.Version, snap.Incident.Version)
	}
	assert.Zero(t, snap.Next)
}

func TestSnapshotPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	for i := range 4 {
		_, err := h.r.AddNote(h.ctx, testAlice, inc.ID, fmt.Sprintf("note %d", i))
		require.NoError(t, err)
	}
	snap, err := h.r.Snapshot(h.ctx, inc.ID, 2)
	require.NoError(t, err)
	assert.Equal(t, []int64{5, 4}, seqs(snap.Events))
	assert.Equal(t, int64(3), snap.Next)
	assert.Equal(t, h.stored(inc.ID), snap.Incident)

	older, err := h.r.Timeline(h.ctx, inc.ID, ir.TimelineQuery{From: snap.Next, NewestFirst: true, Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, []int64{3, 2}, seqs(older.Events))
	assert.Equal(t, int64(1), older.Next)

	snap, err = h.r.Snapshot(h.ctx, inc.ID, 5)
	require.NoError(t, err)
	assert.Equal(t, []int64{5, 4, 3, 2, 1}, seqs(snap.Events))
	assert.Zero(t, snap.Next, "a page that reaches the first event has no next")
}

func TestSnapshotRefuses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	before, events := h.snapshot(inc.ID)
	for _, tc := range []struct {
		name  string
		id    ir.ID
		limit int
		want  error
	}{
		{"empty ID", "", 0, ir.ErrInvalid},
		{"negative limit", inc.ID, -1, ir.ErrInvalid},
		{"limit above the maximum", inc.ID, ir.MaxPageSize + 1, ir.ErrInvalid},
		{"unknown incident", "INC-404", 0, ir.ErrNotFound},
	} {
		_, err := h.r.Snapshot(h.ctx, tc.id, tc.limit)
		assert.ErrorIs(t, err, tc.want, tc.name)
	}
	h.assertUnchanged(t, before, events)
}

// TestSnapshotWhileWriting reads snapshots while other goroutines add
// notes: each one's latest event is the incident's version's, and its
// events follow one another without a gap.
func TestSnapshotWhileWriting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				_, err := h.r.AddNote(h.ctx, testAlice, inc.ID, "more")
				if err != nil && !assert.ErrorIs(t, err, ir.ErrConflict) {
					return
				}
			}
		})
	}
	for range 200 {
		snap, err := h.r.Snapshot(h.ctx, inc.ID, 5)
		require.NoError(t, err)
		require.NotEmpty(t, snap.Events)
		require.Equal(t, snap.Incident.Version, snap.Events[0].Version, "the latest event is the incident's version's")
		for i := 1; i < len(snap.Events); i++ {
			require.Equal(t, snap.Events[i-1].Seq-1, snap.Events[i].Seq)
		}
	}
	close(done)
	wg.Wait()
}

func TestAllEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	for i := range ir.MaxPageSize + 4 {
		_, err := h.r.AddNote(h.ctx, testAlice, inc.ID, fmt.Sprintf("note %d", i))
		require.NoError(t, err)
	}
	var got []ir.Event
	for e, err := range h.r.AllEvents(h.ctx, inc.ID) {
		require.NoError(t, err)
		got = append(got, e)
	}
	assert.Equal(t, h.timeline(inc.ID), got, "two pages and a bit, in order")

	n := 0
	for range h.r.AllEvents(h.ctx, inc.ID) {
		if n++; n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n, "a loop may stop early")

	var errs []error
	for _, err := range h.r.AllEvents(h.ctx, "INC-404") {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ir.ErrNotFound)
}

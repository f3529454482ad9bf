package irtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
)

// ReadTimeline reads the whole timeline of incident id from st, oldest
// first, a page at a time.
func ReadTimeline(ctx context.Context, st ir.Store, id ir.ID) ([]ir.Event, error) {
	var events []ir.Event
	q := ir.TimelineQuery{Limit: ir.MaxPageSize}
	for {
		page, err := st.Timeline(ctx, id, q)
		if err != nil {
			return nil, err
		}
		events = append(events, page.Events...)
		if page.Next == 0 {
			return events, nil
		}
		q.From = page.Next
	}
}

// timelineFixture writes INC-000001 with a timeline of n events (n at
// least 2), the last n-1 of them in one change, and returns it.
func timelineFixture(t *testing.T, st ir.Store, n int) []ir.Event {
	t.Helper()
	open := OpenChange(Incident("INC-000001").Build())
	data := make([]ir.EventData, n-1)
	for i := range data {
		data[i] = &ir.NoteAdded{Text: fmt.Sprintf("note %d", i+2)}
	}
	next := NextChange(open.Incident, data...)
	mustApply(t, st, open)
	mustApply(t, st, next)
	return timeline(open, next)
}

// seqs returns the Seq of each event.
func seqs(events []ir.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

func (s storeSuite) testTimelinePaging(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	want := timelineFixture(t, st, 7)
	tests := []struct {
		name     string
		q        ir.TimelineQuery
		wantSeqs []int64
		wantNext int64
	}{
		{"oldest first", ir.TimelineQuery{Limit: 3}, []int64{1, 2, 3}, 4},
		{"oldest first, second page", ir.TimelineQuery{From: 4, Limit: 3}, []int64{4, 5, 6}, 7},
		{"oldest first, last page", ir.TimelineQuery{From: 7, Limit: 3}, []int64{7}, 0},
		{"oldest first, exactly to the end", ir.TimelineQuery{From: 5, Limit: 3}, []int64{5, 6, 7}, 0},
		{"oldest first, whole", ir.TimelineQuery{}, []int64{1, 2, 3, 4, 5, 6, 7}, 0},
		{"oldest first, past the end", ir.TimelineQuery{From: 8, Limit: 3}, []int64{}, 0},
		{"newest first", ir.TimelineQuery{NewestFirst: true, Limit: 3}, []int64{7, 6, 5}, 4},
		{"newest first, second page", ir.TimelineQuery{NewestFirst: true, From: 4, Limit: 3}, []int64{4, 3, 2}, 1},
		{"newest first, last page", ir.TimelineQuery{NewestFirst: true, From: 1, Limit: 3}, []int64{1}, 0},
		{"newest first, exactly to the start", ir.TimelineQuery{NewestFirst: true, From: 3, Limit: 3}, []int64{3, 2, 1}, 0},
		{"newest first, whole", ir.TimelineQuery{NewestFirst: true, Limit: ir.MaxPageSize}, []int64{7, 6, 5, 4, 3, 2, 1}, 0},
		{"newest first, from past the end", ir.TimelineQuery{NewestFirst: true, From: 100, Limit: 2}, []int64{7, 6}, 5},
	}
	for _, tc := range tests {
		page, err := st.Timeline(ctx, "INC-000001", tc.q)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.wantSeqs, seqs(page.Events), "%s: events", tc.name)
		assert.Equal(t, tc.wantNext, page.Next, "%s: next", tc.name)
		for _, e := range page.Events {
			requireEvents(t, want[e.Seq-1:e.Seq], []ir.Event{e})
		}
	}
}

func (s storeSuite) testTimelineDefaultPageSize(t *testing.T) {
	st := s.store(t)
	want := timelineFixture(t, st, ir.DefaultPageSize+5)
	page, err := st.Timeline(t.Context(), "INC-000001", ir.TimelineQuery{})
	require.NoError(t, err)
	requireEvents(t, want[:ir.DefaultPageSize], page.Events)
	assert.Equal(t, int64(ir.DefaultPageSize+1), page.Next)
	page, err = st.Timeline(t.Context(), "INC-000001", ir.TimelineQuery{From: page.Next})
	require.NoError(t, err)
	requireEvents(t, want[ir.DefaultPageSize:], page.Events)
	assert.Zero(t, page.Next)
	all, err := ReadTimeline(t.Context(), st, "INC-000001")
	require.NoError(t, err)
	requireEvents(t, want, all)
}

func (s storeSuite) testTimelineInvalidQuery(t *testing.T) {
	st := s.store(t)
	timelineFixture(t, st, 2)
	for _, q := range []ir.TimelineQuery{
		{Limit: -1},
		{Limit: ir.MaxPageSize + 1},
		{From: -1},
		{From: -1, NewestFirst: true},
	} {
		_, err := st.Timeline(t.Context(), "INC-000001", q)
		require.ErrorIs(t, err, ir.ErrInvalid, "Timeline(%+v)", q)
	}
}

func (s storeSuite) testTimelineUnknown(t *testing.T) {
	st := s.store(t)
	timelineFixture(t, st, 2)
	for _, q := range []ir.TimelineQuery{
		{},
		{NewestFirst: true},
		{From: 5},
		{From: 5, NewestFirst: true},
	} {
		_, err := st.Timeline(t.Context(), "INC-404", q)
		require.ErrorIs(t, err, ir.ErrNotFound, "Timeline(%+v) of an unknown incident", q)
	}
}

package plan_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/plan"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestOverdue(t *testing.T) {
	t.Parallel()
	p := &plan.Plan{Name: "p", Upkeep: plan.Upkeep{
		LastReviewed: day(2026, 1, 1), ReviewEvery: 180 * 24 * time.Hour,
		LastExercised: day(2026, 3, 1), ExerciseEvery: 365 * 24 * time.Hour,
	}}
	assert.Empty(t, p.Overdue(day(2026, 6, 30)), "due on 2026-06-30, not yet overdue")
	got := p.Overdue(day(2026, 7, 1))
	require.Len(t, got, 1)
	assert.Equal(t, plan.Overdue{What: plan.DueReview, Last: day(2026, 1, 1), Every: 180 * 24 * time.Hour, Due: day(2026, 6, 30)}, got[0])
	assert.Equal(t, "the plan's review is overdue since 2026-06-30 (last 2026-01-01, due every 180 days)", got[0].String())
	assert.Len(t, p.Overdue(day(2027, 3, 2)), 2)

	// Never done is overdue; no interval means a year.
	never := &plan.Plan{Name: "new", Upkeep: plan.Upkeep{LastReviewed: day(2026, 1, 1)}}
	got = never.Overdue(day(2026, 12, 31))
	require.Len(t, got, 1)
	assert.Equal(t, plan.DueExercise, got[0].What)
	assert.True(t, got[0].Due.IsZero())
	assert.Equal(t, "the plan's exercise is overdue: it was never done (due every 365 days)", got[0].String())
	assert.Len(t, never.Overdue(day(2027, 1, 2)), 2)
}

func TestNotifyOverdueIsRoutedLikeAnEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := &plan.Plan{Name: "acme-security", Model: "sans-picerl", Upkeep: plan.Upkeep{LastReviewed: day(2026, 1, 1), LastExercised: day(2026, 11, 1)}}
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "chat"}, {Name: "pager"}, {Name: "missing"}},
		Routes: []notify.Route{
			{Events: []string{plan.EventPlanOverdue}, Channels: []string{"chat", "missing"}},
			{Channels: []string{"pager"}},
		},
	})
	require.NoError(t, err)
	var got []notify.Message
	chat := notify.NotifierFunc(func(_ context.Context, m notify.Message) (notify.Receipt, error) {
		got = append(got, m)
		return notify.Receipt{}, nil
	})
	pager := notify.NotifierFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
		t.Error("the pager got the plan's upkeep")
		return notify.Receipt{}, nil
	})
	channels := map[string]notify.Notifier{"chat": chat, "pager": pager}

	now := day(2027, 1, 5)
	overdue, err := p.NotifyOverdue(ctx, now, router, channels)
	require.Len(t, overdue, 1)
	require.Error(t, err, "a routed channel without a notifier")
	assert.ErrorContains(t, err, "no notifier for channel missing")
	require.Len(t, got, 1)
	m := got[0]
	assert.Equal(t, plan.EventPlanOverdue, m.Event.Type)
	assert.Equal(t, "plan-overdue:acme-security:review@2027-01-01", m.Key)
	assert.Equal(t, "plan:acme-security", m.Incident.ID)
	assert.Equal(t, notify.AudienceResponders, m.Audience)
	assert.Equal(t, "Response plan reported that the plan's review is overdue since 2027-01-01 (last 2026-01-01, due every 365 days)", m.Event.Sentence())
	var data plan.OverdueData
	require.NoError(t, json.Unmarshal(m.Event.Data, &data))
	assert.Equal(t, plan.OverdueData{Plan: "acme-security", Overdue: overdue}, data)

	// The same check a day later makes the same key.
	again, err := p.OverdueMessage(p.Overdue(now.AddDate(0, 0, 1)), now.AddDate(0, 0, 1))
	require.NoError(t, err)
	assert.Equal(t, m.Key, again.Key)

	// Nothing overdue: nothing sent.
	p.Upkeep.LastReviewed = day(2026, 12, 1)
	got = nil
	overdue, err = p.NotifyOverdue(ctx, now, router, channels)
	require.NoError(t, err)
	assert.Empty(t, overdue)
	assert.Empty(t, got)
	_, err = p.OverdueMessage(nil, now)
	assert.True(t, errors.Is(err, plan.ErrInvalidPlan))
}

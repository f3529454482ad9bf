package irtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
)

// testDueClocks checks a store's ir.ClockIndex, if it has one: it finds
// the incidents whose clock due time is not after the time asked, earliest
// first, up to the limit, and follows the changes that move or clear the
// due time.
func (s storeSuite) testDueClocks(t *testing.T) {
	st := s.store(t)
	ix, ok := st.(ir.ClockIndex)
	if !ok {
		t.Skip("the store is not an ir.ClockIndex")
	}
	ctx := context.Background()
	base := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	// Due times as the Responder keeps them: UTC, whole seconds.
	dues := []time.Time{base.Add(3 * time.Hour), {}, base.Add(time.Hour), base.Add(50 * time.Hour), base.Add(time.Hour),
		base.Add(-20 * 24 * time.Hour)}
	incs := make([]*ir.Incident, len(dues))
	for i, due := range dues {
		incs[i] = Incident(ir.ID(fmt.Sprintf("CLK-%03d", i))).Opened(base).Build()
		incs[i].ClockDue = due
		mustApply(t, st, OpenChange(incs[i]))
	}
	due := func(now time.Time, limit int) []ir.ID {
		t.Helper()
		ids, err := ix.DueClocks(ctx, now, limit)
		require.NoError(t, err)
		return ids
	}
	assert.Empty(t, due(base.Add(-21*24*time.Hour), 10))
	assert.Equal(t, []ir.ID{"CLK-005"}, due(base, 10))
	assert.Equal(t, []ir.ID{"CLK-005", "CLK-002", "CLK-004"}, due(base.Add(time.Hour), 10), "a due time equal to now is due")
	assert.Equal(t, []ir.ID{"CLK-005", "CLK-002", "CLK-004", "CLK-000"}, due(base.Add(4*time.Hour+time.Second/2), 10))
	assert.Equal(t, []ir.ID{"CLK-005", "CLK-002"}, due(base.Add(100*time.Hour), 2), "the limit")
	// Asked in another zone, the instant counts.
	assert.Equal(t, []ir.ID{"CLK-005", "CLK-002", "CLK-004"}, due(base.Add(time.Hour).In(zone), 10))

	// A change moves one due time later and clears another.
	moved := NextChange(incs[5])
	moved.Incident.ClockDue = base.Add(60 * time.Hour)
	mustApply(t, st, moved)
	cleared := NextChange(incs[2])
	cleared.Incident.ClockDue = time.Time{}
	mustApply(t, st, cleared)
	assert.Equal(t, []ir.ID{"CLK-004", "CLK-000", "CLK-003", "CLK-005"}, due(base.Add(100*time.Hour), 10))

	_, err := ix.DueClocks(ctx, base, 0)
	assert.ErrorIs(t, err, ir.ErrInvalid)
}

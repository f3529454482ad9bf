package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
)

// TestListOpenedNanoseconds checks that the opening-time filters agree
// with ir.Query.Matches to the nanosecond, although PostgreSQL timestamps
// keep only microseconds, and whatever the zones of the times compared.
func TestListOpenedNanoseconds(t *testing.T) {
	t.Parallel()
	st := newStore(t, nil)
	base := time.Date(2026, time.March, 2, 9, 15, 30, 123456000, time.UTC)
	zone := time.FixedZone("UTC+05:45", 5*3600+45*60)
	offsets := []time.Duration{0, 1, 2, 999, 1000, 1001, 1999, 2000, time.Second - 1, time.Second}
	var incs []*ir.Incident
	for i, d := range offsets {
		opened := base.Add(d)
		if i%2 == 1 {
			opened = opened.In(zone)
		}
		inc := irtest.Incident(ir.ID(fmt.Sprintf("INC-%06d", i+1))).Opened(opened).Build()
		require.NoError(t, st.Apply(t.Context(), irtest.OpenChange(inc)))
		incs = append(incs, inc)
	}
	for _, after := range append([]time.Duration{-1}, offsets...) {
		for _, before := range append([]time.Duration{-1}, offsets...) {
			q := ir.Query{Limit: ir.MaxPageSize}
			if after >= 0 {
				q.OpenedAfter = base.Add(after).In(zone)
			}
			if before >= 0 {
				q.OpenedBefore = base.Add(before)
			}
			if after >= 0 && before >= 0 && after >= before {
				continue
			}
			var want []ir.ID
			for i := len(incs) - 1; i >= 0; i-- {
				if q.Matches(incs[i]) {
					want = append(want, incs[i].ID)
				}
			}
			page, err := st.List(t.Context(), q)
			require.NoError(t, err)
			var got []ir.ID
			for _, inc := range page.Incidents {
				got = append(got, inc.ID)
			}
			require.Equal(t, want, got, "opened after %v, before %v", after, before)
		}
	}
}

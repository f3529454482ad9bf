package ir

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestAddCalendarMonths checks that a month from a day the target month
// does not have ends on that month's last day, never in the month after.
func TestAddCalendarMonths(t *testing.T) {
	t.Parallel()
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 14, 30, 0, 0, time.UTC) }
	for _, tc := range []struct{ from, want time.Time }{
		{at(2026, time.January, 31), at(2026, time.February, 28)},
		{at(2028, time.January, 31), at(2028, time.February, 29)},
		{at(2026, time.March, 31), at(2026, time.April, 30)},
		{at(2026, time.March, 4), at(2026, time.April, 4)},
		{at(2026, time.December, 31), at(2027, time.January, 31)},
	} {
		assert.Equal(t, tc.want, addCalendarMonths(tc.from, 1), tc.from.String())
	}
}

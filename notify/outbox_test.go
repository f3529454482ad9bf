package notify_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/incidentkit/incidentkit/notify"
)

func TestTruncateErrorKeepsValidText(t *testing.T) {
	t.Parallel()
	got := notify.TruncateError("550 rejected: \xff\x00 bad")
	assert.True(t, utf8.ValidString(got))
	assert.NotContains(t, got, "\x00")
	assert.Equal(t, "550 rejected: \uFFFD\uFFFD bad", got)
}

func TestCheckClaim(t *testing.T) {
	t.Parallel()
	assert.NoError(t, notify.CheckClaim("worker-1", notify.MaxClaim, notify.MinOutboxLease))
	for name, err := range map[string]error{
		"no owner":      notify.CheckClaim("", 1, time.Second),
		"long owner":    notify.CheckClaim(strings.Repeat("w", notify.MaxOutboxOwner+1), 1, time.Second),
		"invalid owner": notify.CheckClaim("w\xff", 1, time.Second),
		"NUL in owner":  notify.CheckClaim("w\x00", 1, time.Second),
		"zero limit":    notify.CheckClaim("w", 0, time.Second),
		"huge limit":    notify.CheckClaim("w", notify.MaxClaim+1, time.Second),
		"short lease":   notify.CheckClaim("w", 1, notify.MinOutboxLease-1),
	} {
		assert.ErrorIs(t, err, notify.ErrInvalid, name)
		var inv *notify.InvalidError
		assert.True(t, errors.As(err, &inv), name)
	}
}

func TestByMessage(t *testing.T) {
	sts := []notify.Settlement{
		{OutboxID: 7, Channel: "a"}, {ID: 3}, {OutboxID: 5, Channel: "a"}, {OutboxID: 7, Channel: "b"},
	}
	assert.Equal(t, []notify.MessageSettlements{{OutboxID: 7, Index: []int{0, 3}}, {OutboxID: 5, Index: []int{2}}},
		notify.ByMessage(sts))
	assert.Empty(t, notify.ByMessage([]notify.Settlement{{ID: 1}}))
}

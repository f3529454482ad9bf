package notify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

var classes = []error{notify.ErrPermanent, notify.ErrRetry, notify.ErrRateLimited, notify.ErrUnauthorized, notify.ErrGone}

// TestClasses checks which classes each classified error matches, through
// further wrapping, and that the error classified stays reachable.
func TestClasses(t *testing.T) {
	t.Parallel()
	cause := errors.New("peer said no")
	for _, tc := range []struct {
		name    string
		err     error
		matches []error
		after   time.Duration
	}{
		{"permanent", notify.Permanent(cause), []error{notify.ErrPermanent}, 0},
		{"retry", notify.Retry(cause, 0), []error{notify.ErrRetry}, 0},
		{"retry after", notify.Retry(cause, time.Minute), []error{notify.ErrRetry}, time.Minute},
		{"retry after a negative time", notify.Retry(cause, -time.Minute), []error{notify.ErrRetry}, 0},
		{"rate limited", notify.RateLimited(cause, 30*time.Second), []error{notify.ErrRateLimited, notify.ErrRetry}, 30 * time.Second},
		{"unauthorized", notify.Unauthorized(cause), []error{notify.ErrUnauthorized, notify.ErrPermanent}, 0},
		{"gone", notify.Gone(cause), []error{notify.ErrGone, notify.ErrPermanent}, 0},
	} {
		err := fmt.Errorf("slack: %w", tc.err)
		for _, class := range classes {
			want := false
			for _, m := range tc.matches {
				want = want || m == class
			}
			assert.Equal(t, want, errors.Is(err, class), "%s matches %v", tc.name, class)
		}
		assert.ErrorIs(t, err, cause, tc.name)
		assert.Equal(t, tc.matches[0], notify.Classify(err), tc.name)
		after, ok := notify.RetryAfter(err)
		assert.Equal(t, tc.after, after, tc.name)
		assert.Equal(t, tc.after > 0, ok, tc.name)
		var de *notify.DeliveryError
		require.ErrorAs(t, err, &de, tc.name)
		assert.Equal(t, tc.matches[0], de.Class)
		assert.Contains(t, err.Error(), "peer said no")
	}
}

func TestClassifyUnclassified(t *testing.T) {
	t.Parallel()
	assert.NoError(t, notify.Classify(nil))
	assert.Equal(t, notify.ErrRetry, notify.Classify(io.ErrUnexpectedEOF), "a network failure is worth retrying")
	assert.Equal(t, notify.ErrRetry, notify.Classify(context.DeadlineExceeded))
	assert.Equal(t, notify.ErrRetry, notify.Classify(fmt.Errorf("send: %w", context.Canceled)))
	_, ok := notify.RetryAfter(io.ErrUnexpectedEOF)
	assert.False(t, ok)
	assert.Contains(t, notify.Permanent(nil).Error(), "permanent")
}

func TestHTTPError(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		status     int
		retryAfter string
		class      error // nil: success
		after      time.Duration
	}{
		{200, "", nil, 0},
		{202, "", nil, 0},
		{204, "", nil, 0},
		{100, "", notify.ErrPermanent, 0},
		{301, "", notify.ErrPermanent, 0},
		{400, "", notify.ErrPermanent, 0},
		{404, "", notify.ErrPermanent, 0},
		{413, "", notify.ErrPermanent, 0},
		{422, "", notify.ErrPermanent, 0},
		{401, "", notify.ErrUnauthorized, 0},
		{403, "", notify.ErrUnauthorized, 0},
		{410, "", notify.ErrGone, 0},
		{408, "", notify.ErrRetry, 0},
		{425, "", notify.ErrRetry, 0},
		{429, "", notify.ErrRateLimited, 0},
		{429, "7", notify.ErrRateLimited, 7 * time.Second},
		{429, date(90 * time.Second), notify.ErrRateLimited, 90 * time.Second},
		{429, date(-time.Minute), notify.ErrRateLimited, 0},
		{429, "soon", notify.ErrRateLimited, 0},
		{429, "-5", notify.ErrRateLimited, 0},
		{429, "99999999999", notify.ErrRateLimited, 24 * time.Hour},
		{429, date(72 * time.Hour), notify.ErrRateLimited, 24 * time.Hour},
		{500, "", notify.ErrRetry, 0},
		{502, " 3 ", notify.ErrRetry, 3 * time.Second},
		{503, date(2 * time.Minute), notify.ErrRetry, 2 * time.Minute},
		{504, "", notify.ErrRetry, 0},
		{599, "", notify.ErrRetry, 0},
		{600, "", notify.ErrPermanent, 0},
	} {
		name := fmt.Sprintf("%d Retry-After %q", tc.status, tc.retryAfter)
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("channel_not_found\n"))}
		if tc.retryAfter != "" {
			resp.Header.Set("Retry-After", tc.retryAfter)
		}
		err := notify.HTTPError(resp, now)
		if tc.class == nil {
			assert.NoError(t, err, name)
			continue
		}
		require.Error(t, err, name)
		assert.Equal(t, tc.class, notify.Classify(err), name)
		after, _ := notify.RetryAfter(err)
		assert.Equal(t, tc.after, after, name)
		var se *notify.StatusError
		require.ErrorAs(t, err, &se, name)
		assert.Equal(t, tc.status, se.Status, name)
		assert.Equal(t, "channel_not_found", se.Body, name)
	}
}

func TestHTTPErrorQuotesLittleOfTheBody(t *testing.T) {
	t.Parallel()
	body := "bad\x00\x1b[31m\xff" + strings.Repeat("x", 10000)
	resp := &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
	err := notify.HTTPError(resp, time.Now())
	var se *notify.StatusError
	require.ErrorAs(t, err, &se)
	assert.LessOrEqual(t, len(se.Body), 260)
	assert.NotContains(t, se.Body, "\x00")
	assert.NotContains(t, se.Body, "\x1b")
	assert.True(t, strings.HasPrefix(err.Error(), "notify: permanent delivery failure: HTTP 400 Bad Request: bad"), err.Error())

	noBody := notify.HTTPError(&http.Response{StatusCode: 503, Header: http.Header{}}, time.Now())
	assert.ErrorIs(t, noBody, notify.ErrRetry)
}

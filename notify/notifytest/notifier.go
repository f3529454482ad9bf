package notifytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

// HTTPPeer is the loopback peer [TestHTTPNotifier] runs for a notifier.
type HTTPPeer struct {
	// URL is the endpoint to send to. Its path holds Secret, as the
	// webhook URLs of chat services hold their tokens.
	URL string
	// Secret is a credential the notifier is configured with, wherever
	// its channel carries one (in the URL, a header, the body). The
	// suite fails if it ever appears in an error or a log.
	Secret string
}

// HTTPNotifierSuite configures [TestHTTPNotifier].
type HTTPNotifierSuite struct {
	// New returns the notifier under test, sending to peer.URL with
	// peer.Secret as its credential, and allowed to reach loopback
	// addresses. The suite calls it once per subtest; release what it
	// holds with t.Cleanup.
	New func(t *testing.T, peer HTTPPeer) notify.Notifier
	// Accept writes the reply with which the peer accepts a message, as
	// the channel's real peer does; nil replies 200 with an empty body.
	Accept http.HandlerFunc
	// Message returns the message the suite sends, one the channel sends
	// a request for; nil means [Message].
	Message func() notify.Message
}

// message returns the suite's message.
func (s HTTPNotifierSuite) message() notify.Message {
	if s.Message != nil {
		return s.Message()
	}
	return Message()
}

// TestHTTPNotifier checks that a notify.Notifier over HTTP behaves as
// every channel must: it delivers a message in one request; it classifies
// the peer's refusals as notify.HTTPError does (408, 425, 429 and 5xx
// worth retrying, after the Retry-After the peer gives; 401 and 403
// unauthorized; 410 gone; other 4xx permanent); it stops when its context
// is canceled or its deadline passes, and sends nothing when the context
// is done already; it never shows its credential, in the errors of any
// failure (refusals whose bodies quote it, timeouts, a peer that is not
// there) nor when the notifier itself is printed, logged or encoded; and
// it is safe for concurrent use. Each channel runs it from its tests
// against its own loopback peer. Subtests run in parallel.
func TestHTTPNotifier(t *testing.T, s HTTPNotifierSuite) {
	require.NotNil(t, s.New, "HTTPNotifierSuite.New is required")
	tests := []struct {
		name string
		run  func(t *testing.T, s HTTPNotifierSuite)
	}{
		{"Delivers", testDelivers},
		{"ClassifiesStatus", testClassifiesStatus},
		{"Canceled", testCanceled},
		{"CanceledBefore", testCanceledBefore},
		{"Deadline", testDeadline},
		{"PeerGone", testPeerGone},
		{"PrintsNoSecret", testPrintsNoSecret},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, s)
		})
	}
}

// secret is the credential the suite configures notifiers with.
const secret = "SECRET-a1b2c3d4e5f6"

// peer is a loopback peer whose replies a test sets.
type peer struct {
	srv      *httptest.Server
	requests atomic.Int64
	reply    atomic.Pointer[http.HandlerFunc]
}

// newPeer starts a peer that replies with reply, and closes it when the
// test ends.
func newPeer(t *testing.T, reply http.HandlerFunc) (*peer, HTTPPeer) {
	t.Helper()
	p := &peer{}
	p.reply.Store(&reply)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		(*p.reply.Load())(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p, HTTPPeer{URL: p.srv.URL + "/hooks/" + secret, Secret: secret}
}

// accept returns the suite's accepting reply.
func (s HTTPNotifierSuite) accept() http.HandlerFunc {
	if s.Accept != nil {
		return s.Accept
	}
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
}

// noSecret fails the test if text holds the suite's secret.
func noSecret(t *testing.T, text, what string) {
	t.Helper()
	assert.NotContains(t, text, secret, "%s shows the credential: %s", what, text)
	assert.NotContains(t, text, strings.TrimPrefix(secret, "SECRET-"), "%s shows part of the credential: %s", what, text)
}

// errorText is everything an error shows: its message in every form and
// its JSON encoding.
func errorText(err error) string {
	b, _ := json.Marshal(err)
	return fmt.Sprintf("%v | %+v | %#v | %s | %s", err, err, err, err, b)
}

func testDelivers(t *testing.T, s HTTPNotifierSuite) {
	p, hp := newPeer(t, s.accept())
	n := s.New(t, hp)
	_, err := n.Notify(context.Background(), s.message())
	require.NoError(t, err)
	assert.Equal(t, int64(1), p.requests.Load(), "one message, one request")
}

func testClassifiesStatus(t *testing.T, s HTTPNotifierSuite) {
	p, hp := newPeer(t, nil)
	n := s.New(t, hp)
	for _, tc := range []struct {
		status     int
		retryAfter string
		class      error
		after      time.Duration
	}{
		{http.StatusBadRequest, "", notify.ErrPermanent, 0},
		{http.StatusNotFound, "", notify.ErrPermanent, 0},
		{http.StatusRequestEntityTooLarge, "", notify.ErrPermanent, 0},
		{http.StatusUnprocessableEntity, "", notify.ErrPermanent, 0},
		{http.StatusUnauthorized, "", notify.ErrUnauthorized, 0},
		{http.StatusForbidden, "", notify.ErrUnauthorized, 0},
		{http.StatusGone, "", notify.ErrGone, 0},
		{http.StatusRequestTimeout, "", notify.ErrRetry, 0},
		{http.StatusTooEarly, "", notify.ErrRetry, 0},
		{http.StatusTooManyRequests, "7", notify.ErrRateLimited, 7 * time.Second},
		{http.StatusInternalServerError, "", notify.ErrRetry, 0},
		{http.StatusBadGateway, "", notify.ErrRetry, 0},
		{http.StatusServiceUnavailable, "120", notify.ErrRetry, 2 * time.Minute},
		{http.StatusGatewayTimeout, "", notify.ErrRetry, 0},
	} {
		reply := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			// Peers quote what they were sent; the notifier must not
			// pass the credential on.
			http.Error(w, fmt.Sprintf("refused %s with key %s", r.URL.Path, secret), tc.status)
		})
		p.reply.Store(&reply)
		_, err := n.Notify(context.Background(), s.message())
		name := fmt.Sprintf("HTTP %d", tc.status)
		require.Error(t, err, name)
		assert.Equal(t, tc.class, notify.Classify(err), "%s: %v", name, err)
		retry := tc.class == notify.ErrRetry || tc.class == notify.ErrRateLimited
		assert.Equal(t, retry, errors.Is(err, notify.ErrRetry), "%s: worth retrying", name)
		assert.Equal(t, !retry, errors.Is(err, notify.ErrPermanent), "%s: not worth retrying", name)
		after, _ := notify.RetryAfter(err)
		assert.Equal(t, tc.after, after, "%s: Retry-After is honoured", name)
		noSecret(t, errorText(err), name)
	}
}

// hangingPeer starts a peer that holds every request until the test ends,
// and reports each request it holds on the returned channel.
func hangingPeer(t *testing.T) (chan struct{}, HTTPPeer) {
	t.Helper()
	held := make(chan struct{}, 16)
	release := make(chan struct{})
	_, hp := newPeer(t, func(http.ResponseWriter, *http.Request) {
		held <- struct{}{}
		<-release
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	return held, hp
}

// wait waits for done, failing the test rather than hanging if the
// notifier never returns.
func wait[T any](t *testing.T, done <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-done:
		return v
	case <-time.After(30 * time.Second):
		require.FailNow(t, what+" never returned")
		panic("unreachable")
	}
}

func testCanceled(t *testing.T, s HTTPNotifierSuite) {
	held, hp := hangingPeer(t)
	n := s.New(t, hp)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := n.Notify(ctx, s.message())
		done <- err
	}()
	wait(t, held, "the request")
	cancel()
	err := wait(t, done, "Notify after its context was canceled")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, notify.ErrRetry, notify.Classify(err), "a canceled delivery is worth retrying")
	noSecret(t, errorText(err), "a canceled delivery's error")
}

func testCanceledBefore(t *testing.T, s HTTPNotifierSuite) {
	p, hp := newPeer(t, s.accept())
	n := s.New(t, hp)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := n.Notify(ctx, s.message())
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int64(0), p.requests.Load(), "nothing is sent once the context is done")
}

func testDeadline(t *testing.T, s HTTPNotifierSuite) {
	held, hp := hangingPeer(t)
	n := s.New(t, hp)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := n.Notify(ctx, s.message())
		done <- err
	}()
	err := wait(t, done, "Notify past its deadline")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, notify.ErrRetry, notify.Classify(err), "a delivery that timed out is worth retrying")
	noSecret(t, errorText(err), "a timed-out delivery's error")
	select {
	case <-held:
	default:
		t.Log("the deadline passed before the request reached the peer")
	}
}

func testPeerGone(t *testing.T, s HTTPNotifierSuite) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	n := s.New(t, HTTPPeer{URL: "http://" + addr + "/hooks/" + secret, Secret: secret})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = n.Notify(ctx, s.message())
	require.Error(t, err)
	assert.Equal(t, notify.ErrRetry, notify.Classify(err), "a peer that cannot be reached may be back later")
	noSecret(t, errorText(err), "an unreachable peer's error")
}

func testPrintsNoSecret(t *testing.T, s HTTPNotifierSuite) {
	_, hp := newPeer(t, s.accept())
	n := s.New(t, hp)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		noSecret(t, fmt.Sprintf(verb, n), "the notifier printed with "+verb)
	}
	b, _ := json.Marshal(n)
	noSecret(t, string(b), "the notifier in JSON")
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("notifier", "n", n)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("notifier", "n", n)
	noSecret(t, buf.String(), "the notifier logged")
}

func testConcurrent(t *testing.T, s HTTPNotifierSuite) {
	p, hp := newPeer(t, s.accept())
	n := s.New(t, hp)
	const workers, each = 8, 4
	var (
		wg   sync.WaitGroup
		errs = make(chan error, workers*each)
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				m := s.message()
				m.Key = fmt.Sprintf("INC-%06d/1/%d", w+1, i+1)
				m.Incident.ID = fmt.Sprintf("INC-%06d", w+1)
				if _, err := n.Notify(context.Background(), m); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(workers*each), p.requests.Load(), "every message sent once")
}

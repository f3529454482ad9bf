package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/email"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/pagerduty"
	"github.com/incidentkit/incidentkit/notify/slack"
	"github.com/incidentkit/incidentkit/notify/teams"
	"github.com/incidentkit/incidentkit/notify/webhook"
)

// The credentials of the channels under test. Each is distinctive, so that
// any part of it found in the output is a leak.
const (
	leakWebhookToken = "WHtok9Qz7LmX2pRv"
	leakWebhookKey   = "WHkey4Nf8+KcT/1sYb=" // sent URL-escaped in the query
	leakWebhookUser  = "hookuser"
	leakWebhookPass  = "WHpass6Jd3VxE0gHu" // sent as HTTP Basic auth
	leakSlackHook    = "SLhook5Wq8ZrN3bKx2Yd"
	leakSlackBot     = "xoxb-4242-4343-SLbot7Hc2MvQ9tPw"
	leakRoutingKey   = "PDkey3Rz8WnL5qXc1Vb0Ty6Ue"
	leakTeamsSig     = "TMsig8Kp2Xw-Q5zR_7nB4Lc9Hv"
	leakSMTPUser     = "ops@example.org"
	leakSMTPPassword = "SMpass2Gx9Lq7Wz-T4"
)

// leakWhsec are the webhook's signing secrets, two as during a rotation.
var leakWhsec = []string{
	"whsec_" + base64.StdEncoding.EncodeToString([]byte("WSkeyOne-7hQ2xLp9Vn4Rc8Tz3Mb6")),
	"whsec_" + base64.StdEncoding.EncodeToString([]byte("WSkeyTwo-5jK8wPq1Xs7Yd2Nf4Gh9")),
}

// leakForms returns the forms a secret can take that a peer could quote
// back: the secret, URL-escaped in a path and in a query, and in base64.
func leakForms(secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, s, url.PathEscape(s), url.QueryEscape(s),
			base64.StdEncoding.EncodeToString([]byte(s)), base64.URLEncoding.EncodeToString([]byte(s)))
	}
	return out
}

// leakChannel is one channel under test: its secrets, and the failure
// modes its peer is made to fail in.
type leakChannel struct {
	name string
	// secrets are the channel's credentials, as configured.
	secrets []string
	// echo are the forms of the secrets a failing peer quotes back: what
	// is on the wire (escaped, or base64 in an Authorization header) and
	// what the peer knows.
	echo []string
	// modes are the ways the peer fails (or accepts).
	modes []leakMode
}

// leakMode starts a peer that behaves one way and returns the notifier
// under test, sending to it.
type leakMode struct {
	name string
	// delivers is set for a mode in which deliveries succeed; hangs for
	// one whose attempts last until their timeout.
	delivers, hangs bool
	start           func(t *testing.T, e *leakEnv) notify.Notifier
}

// leakEnv is what a mode's peer and notifier share.
type leakEnv struct {
	ch    leakChannel
	clock *notifytest.Clock
	log   *slog.Logger
	// stop is closed when the test ends, to free hanging handlers;
	// stopNow closes it, once. A peer registers it as a cleanup after
	// its own, so that it runs first.
	stop    chan struct{}
	stopNow func()
	// arrived is told, if it has room, when a hanging peer has a
	// request.
	arrived chan struct{}
}

// arrive tells e.arrived that a hanging peer has a request.
func (e *leakEnv) arrive() {
	select {
	case e.arrived <- struct{}{}:
	default:
	}
}

func TestNoSecretLeaks(t *testing.T) {
	// Anything logged to the default logger is checked too.
	def := newLeakLog()
	old := slog.Default()
	slog.SetDefault(def.logger)
	t.Cleanup(func() {
		slog.SetDefault(old)
		var all []string
		for _, ch := range leakChannels() {
			all = append(all, leakChecks(ch)...)
		}
		checkNoLeak(t, all, "default logger", def.text())
	})
	for _, ch := range leakChannels() {
		t.Run(ch.name, func(t *testing.T) {
			t.Parallel()
			for _, m := range ch.modes {
				t.Run(m.name, func(t *testing.T) {
					t.Parallel()
					runLeakCase(t, ch, m)
				})
			}
		})
	}
}

// leakChecks returns what must appear nowhere for ch: every form of its
// secrets, and every 8-byte run of each secret, so that a secret cut in
// two is caught too.
func leakChecks(ch leakChannel) []string {
	checks := append(leakForms(ch.secrets...), ch.echo...)
	for _, s := range ch.secrets {
		for i := 0; i+8 <= len(s); i++ {
			checks = append(checks, s[i:i+8])
		}
	}
	return checks
}

// checkNoLeak fails the test if text holds any of checks.
func checkNoLeak(t *testing.T, checks []string, where, text string) {
	t.Helper()
	for _, c := range checks {
		if i := strings.Index(text, c); i >= 0 {
			lo, hi := max(i-80, 0), min(i+len(c)+80, len(text))
			t.Errorf("%s shows the secret %q: …%s…", where, c, text[lo:hi])
			return
		}
	}
}

// leakLog is a logger that writes every record, at every level, through
// a JSON and a text handler.
type leakLog struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	logger *slog.Logger
}

func newLeakLog() *leakLog {
	l := &leakLog{}
	w := leakWriter{l}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}
	l.logger = slog.New(slog.NewMultiHandler(slog.NewJSONHandler(w, opts), slog.NewTextHandler(w, opts)))
	return l
}

func (l *leakLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type leakWriter struct{ l *leakLog }

func (w leakWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(p)
}

// leakErrors keeps every error the test sees.
type leakErrors struct {
	mu   sync.Mutex
	errs []error
}

func (l *leakErrors) add(err error) {
	if err != nil {
		l.mu.Lock()
		l.errs = append(l.errs, err)
		l.mu.Unlock()
	}
}

// text is everything the errors show: each in every verb and in JSON,
// each error of its chain, and the fields of the delivery, status and
// URL errors it gives with errors.As.
func (l *leakErrors) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	var walk func(err error)
	walk = func(err error) {
		if err == nil {
			return
		}
		j, _ := json.Marshal(err)
		fmt.Fprintf(&b, "%v\n%+v\n%#v\n%s\n%q\n%s\n", err, err, err, err, err, j)
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	for _, err := range l.errs {
		walk(err)
		var (
			de *notify.DeliveryError
			se *notify.StatusError
			ue *url.Error
		)
		if errors.As(err, &de) {
			fmt.Fprintf(&b, "%+v %v\n", *de, de.Err)
		}
		if errors.As(err, &se) {
			fmt.Fprintf(&b, "%+v %s\n", *se, se.Body)
		}
		if errors.As(err, &ue) {
			fmt.Fprintf(&b, "%s %v\n", ue.URL, ue.Err)
		}
	}
	return b.String()
}

// runLeakCase runs a Responder and a Dispatcher over a memory store with
// the mode's notifier as channel "target" and a LogNotifier as channel
// "log", opens an incident, stops the dispatcher in the middle of an
// attempt if the peer hangs, delivers until the target's delivery is dead
// (or delivered), replays it until it is dead again, and checks that no
// secret shows in the logs, the errors, the delivery records, the spans,
// the metrics or the incident's timeline.
func runLeakCase(t *testing.T, ch leakChannel, m leakMode) {
	ctx := t.Context()
	logs := newLeakLog()
	e := &leakEnv{ch: ch, clock: notifytest.NewClock(time.Time{}), log: logs.logger, stop: make(chan struct{}),
		arrived: make(chan struct{}, 1)}
	e.stopNow = sync.OnceFunc(func() { close(e.stop) })
	t.Cleanup(e.stopNow)
	n := m.start(t, e)
	if c, ok := n.(io.Closer); ok {
		t.Cleanup(func() { _ = c.Close() })
	}

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })

	store := ir.NewMemoryStore(ir.MemoryClock(e.clock))
	r, err := ir.NewResponder(ir.Config{Store: store, Outbox: true, Clock: e.clock, IDs: &irtest.IDs{},
		Logger: e.log, TracerProvider: tp, MeterProvider: mp})
	require.NoError(t, err)
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "target"}, {Name: "log"}},
		Routes:   []notify.Route{{Channels: []string{"target", "log"}}},
	})
	require.NoError(t, err)

	// A short timeout for the attempts that hang, and one no other
	// attempt reaches, even on a slow machine.
	attemptTimeout := 10 * time.Second
	if m.hangs {
		attemptTimeout = 100 * time.Millisecond
	}
	errs := &leakErrors{}
	recording := func(n notify.Notifier) notify.Notifier {
		return notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
			rc, err := n.Notify(ctx, m)
			errs.add(err)
			return rc, err
		})
	}
	dispatcherActor := ir.Actor{ID: "dispatcher", Name: "Dispatcher"}
	d, err := notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: store, Deliveries: store, Router: router,
		Channels: map[string]notify.Notifier{
			"target": recording(n),
			"log":    recording(notify.LogNotifier{Logger: e.log, Level: slog.LevelDebug}),
		},
		Clock: e.clock, Logger: e.log, TracerProvider: tp, MeterProvider: mp,
		MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Minute,
		AttemptTimeout: attemptTimeout, Lease: time.Minute,
		Jitter: func(n time.Duration) time.Duration { return n },
		Limits: map[string]notify.ChannelLimits{"target": {BreakAfter: 2, BreakFor: time.Millisecond}},
		OnDead: func(ctx context.Context, dl notify.Delivery, cause error) error {
			errs.add(cause)
			_, err := r.RecordNotificationFailed(ctx, dispatcherActor, dl)
			return err
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	errs.add(d.Check(ctx))

	inc, err := r.Open(ctx, ir.Actor{ID: "alice", Name: "Alice Moreau"}, ir.NewIncident{Title: "Credential check", Severity: ir.SeverityHigh})
	require.NoError(t, err)
	if m.hangs {
		// The dispatcher stops in the middle of an attempt, which is
		// recorded as cut short.
		stopped, stop := context.WithCancel(ctx)
		go func() {
			select {
			case <-e.arrived:
			case <-ctx.Done():
			}
			stop()
		}()
		_, err := d.RunOnce(stopped)
		stop()
		errs.add(err)
		ds, err := store.IncidentDeliveries(ctx, string(inc.ID))
		require.NoError(t, err)
		for _, dl := range ds {
			if dl.Channel == "target" {
				require.Equal(t, notify.StatusPending, dl.Status)
				require.Contains(t, dl.LastError, "dispatcher stopped")
			}
		}
	}
	want := notify.StatusDead
	if m.delivers {
		want = notify.StatusDelivered
	}
	drainLeak(t, d, store, e.clock, errs)
	requireTargetStatus(t, store, string(inc.ID), want)
	if !m.delivers {
		replayed, err := d.ReplayChannel(ctx, "target")
		errs.add(err)
		require.Positive(t, replayed)
		drainLeak(t, d, store, e.clock, errs)
		requireTargetStatus(t, store, string(inc.ID), want)
	}

	// Everything the test saw.
	checks := leakChecks(ch)
	checkNoLeak(t, checks, "logs", logs.text())
	checkNoLeak(t, checks, "errors", errs.text())

	var rec strings.Builder
	deliveries, err := store.IncidentDeliveries(ctx, string(inc.ID))
	require.NoError(t, err)
	dead, err := store.DeadDeliveries(ctx, "", notify.MaxClaim)
	require.NoError(t, err)
	for _, dl := range append(deliveries, dead...) {
		j, _ := json.Marshal(dl)
		fmt.Fprintf(&rec, "%+v\n%s\n%s\n%s\n", dl, j, dl.LastError, dl.Receipt)
	}
	checkNoLeak(t, checks, "delivery records", rec.String())

	var sp strings.Builder
	ended := spans.Ended()
	require.NotEmpty(t, ended)
	for _, s := range ended {
		fmt.Fprintf(&sp, "%s %s %s\n", s.Name(), s.Status().Description, attrsText(s.Attributes()))
		for _, ev := range s.Events() {
			fmt.Fprintf(&sp, "event %s %s\n", ev.Name, attrsText(ev.Attributes))
		}
		for _, l := range s.Links() {
			fmt.Fprintf(&sp, "link %s\n", attrsText(l.Attributes))
		}
	}
	checkNoLeak(t, checks, "spans", sp.String())

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	checkNoLeak(t, checks, "metrics", fmt.Sprintf("%+v", rm))

	var tl strings.Builder
	failed := 0
	q := ir.TimelineQuery{}
	for {
		page, err := r.Timeline(ctx, inc.ID, q)
		require.NoError(t, err)
		for _, ev := range page.Events {
			if ev.Type == ir.EventNotificationFailed {
				failed++
			}
			j, _ := json.Marshal(ev)
			fmt.Fprintf(&tl, "%+v\n%s\n", ev, j)
		}
		if page.Next == 0 {
			break
		}
		q.From = page.Next
	}
	checkNoLeak(t, checks, "timeline", tl.String())
	if !m.delivers {
		require.Equal(t, 2, failed, "notification_failed events on the timeline")
	}
	got, err := r.Get(ctx, inc.ID)
	require.NoError(t, err)
	j, _ := json.Marshal(got)
	checkNoLeak(t, checks, "incident", string(j))

	jn, _ := json.Marshal(n)
	checkNoLeak(t, checks, "notifier", fmt.Sprintf("%v %+v %#v %s %s", n, n, n, n, jn))
}

func attrsText(kvs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%s=%s ", kv.Key, kv.Value.String())
	}
	return b.String()
}

// drainLeak runs the dispatcher until nothing is pending, moving the
// clock past every backoff and Retry-After between passes.
func drainLeak(t *testing.T, d *notify.Dispatcher, store *ir.MemoryStore, clock *notifytest.Clock, errs *leakErrors) {
	t.Helper()
	ctx := t.Context()
	for range 200 {
		n, err := d.RunOnce(ctx)
		errs.add(err)
		counts, cerr := store.CountDeliveries(ctx)
		require.NoError(t, cerr)
		pending := int64(0)
		for _, c := range counts {
			if c.Status == notify.StatusPending {
				pending += c.N
			}
		}
		if n == 0 && pending == 0 {
			return
		}
		clock.Advance(3 * time.Minute)
	}
	t.Fatal("deliveries still pending after 200 passes")
}

// requireTargetStatus checks the status of every delivery to "target" of
// the incident's first message.
func requireTargetStatus(t *testing.T, store *ir.MemoryStore, incident string, want notify.DeliveryStatus) {
	t.Helper()
	ds, err := store.IncidentDeliveries(t.Context(), incident)
	require.NoError(t, err)
	for _, dl := range ds {
		if dl.Channel == "target" && dl.Type == "opened" {
			require.Equal(t, want, dl.Status, "delivery %d (%s)", dl.ID, dl.LastError)
			return
		}
	}
	t.Fatal("no delivery of the opening message to the target channel")
}

// ---- HTTP channels ----

// httpChannel builds a notifier of an HTTP channel.
type httpChannel struct {
	name    string
	secrets []string
	echo    []string
	// new returns the notifier, sending to base ("http://127.0.0.1:port").
	new func(e *leakEnv, base string, client *http.Client) notify.Notifier
	// accept replies as the real service does to an accepted message.
	accept func(e *leakEnv) http.HandlerFunc
	// extra are modes of the channel alone: replies that deliver while
	// quoting a secret, a Web API's own errors.
	extra []httpMode
}

// httpMode is a way an HTTP peer behaves.
type httpMode struct {
	name            string
	delivers, hangs bool
	// tls serves HTTPS; untrusted serves it with a certificate the
	// notifier does not trust.
	tls, untrusted bool
	// down points the notifier at a port nobody listens on.
	down bool
	// handler is the peer's handler; nil for down.
	handler func(e *leakEnv, srv *httptest.Server, hc httpChannel) http.HandlerFunc
}

// echoBody is what a peer quoting the channel's secrets replies.
func echoBody(e *leakEnv) string {
	return "refused, credentials " + strings.Join(e.ch.echo, " ")
}

// status replies code with a body quoting every secret, and the
// Retry-After that 429 and 503 carry.
func status(code int) func(e *leakEnv, _ *httptest.Server, _ httpChannel) http.HandlerFunc {
	return func(e *leakEnv, _ *httptest.Server, _ httpChannel) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			switch code {
			case http.StatusTooManyRequests:
				w.Header().Set("Retry-After", "120")
			case http.StatusServiceUnavailable:
				w.Header().Set("Retry-After", e.clock.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			}
			w.WriteHeader(code)
			_, _ = io.WriteString(w, echoBody(e))
		}
	}
}

// hijack takes the connection of a request over, for replies HTTP cannot
// write.
func hijack(w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	return conn
}

// httpModes are the ways every HTTP peer fails.
func httpModes(hc httpChannel) []httpMode {
	modes := []httpMode{{name: "accepts", delivers: true, handler: func(e *leakEnv, _ *httptest.Server, hc httpChannel) http.HandlerFunc { return hc.accept(e) }}}
	for _, code := range []int{300, 400, 401, 403, 404, 408, 410, 413, 429, 500, 502, 503} {
		modes = append(modes, httpMode{name: strconv.Itoa(code), handler: status(code)})
	}
	// A body quoting each secret where the start of the body an error
	// quotes ends, so that the secret is cut in two.
	for i, s := range hc.echo {
		modes = append(modes, httpMode{name: "echo cut " + strconv.Itoa(i),
			handler: func(*leakEnv, *httptest.Server, httpChannel) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = io.WriteString(w, strings.Repeat("x", 256-len(s)/2)+s+" and more")
				}
			}})
	}
	redirect := func(to func(e *leakEnv, srv *httptest.Server, hc httpChannel) string) func(*leakEnv, *httptest.Server, httpChannel) http.HandlerFunc {
		return func(e *leakEnv, srv *httptest.Server, hc httpChannel) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/moved/") {
					// Quote the request, which carries the secrets.
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = io.WriteString(w, r.RequestURI+" "+r.Header.Get("Authorization"))
					return
				}
				http.Redirect(w, r, to(e, srv, hc), http.StatusTemporaryRedirect)
			}
		}
	}
	host := func(srv *httptest.Server) string { return srv.Listener.Addr().String() }
	modes = append(modes,
		httpMode{name: "redirect with secret", handler: redirect(func(_ *leakEnv, _ *httptest.Server, hc httpChannel) string {
			return "/moved/" + url.PathEscape(hc.secrets[0]) + "?token=" + url.QueryEscape(hc.secrets[0])
		})},
		httpMode{name: "redirect to refused address", handler: redirect(func(_ *leakEnv, srv *httptest.Server, hc httpChannel) string {
			_, port, _ := net.SplitHostPort(host(srv))
			return "http://127.0.0.2:" + port + "/hooks/" + url.PathEscape(hc.secrets[0]) + "?token=" + url.QueryEscape(hc.secrets[0])
		})},
		httpMode{name: "redirect to metadata", handler: redirect(func(_ *leakEnv, _ *httptest.Server, hc httpChannel) string {
			return "http://" + leakWebhookUser + ":" + url.QueryEscape(hc.secrets[0]) + "@169.254.169.254/latest/" + url.PathEscape(hc.secrets[0])
		})},
		httpMode{name: "redirect to plain HTTP", tls: true, handler: redirect(func(_ *leakEnv, srv *httptest.Server, hc httpChannel) string {
			return "http://" + host(srv) + "/moved/" + url.PathEscape(hc.secrets[0])
		})},
		httpMode{name: "redirect to a bad URL", handler: func(*leakEnv, *httptest.Server, httpChannel) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", "http://[::1/"+hc.secrets[0]+"%zz")
				w.WriteHeader(http.StatusTemporaryRedirect)
			}
		}},
		httpMode{name: "redirect loop", handler: func(*leakEnv, *httptest.Server, httpChannel) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/loop/"+url.PathEscape(hc.secrets[0])+"/"+strconv.Itoa(len(r.URL.Path)), http.StatusTemporaryRedirect)
			}
		}},
		httpMode{name: "hangs", hangs: true, handler: func(e *leakEnv, _ *httptest.Server, _ httpChannel) http.HandlerFunc {
			return func(_ http.ResponseWriter, r *http.Request) {
				e.arrive()
				select {
				case <-r.Context().Done():
				case <-e.stop:
				}
			}
		}},
		httpMode{name: "hangs in the body", hangs: true, handler: func(e *leakEnv, _ *httptest.Server, _ httpChannel) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, "refused "+e.ch.echo[0][:len(e.ch.echo[0])/2])
				_ = http.NewResponseController(w).Flush()
				e.arrive()
				select {
				case <-r.Context().Done():
				case <-e.stop:
				}
			}
		}},
		httpMode{name: "body cut short", handler: func(e *leakEnv, _ *httptest.Server, _ httpChannel) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				if conn := hijack(w); conn != nil {
					s := e.ch.echo[0]
					_, _ = io.WriteString(conn, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1000\r\n\r\nrefused "+s[:len(s)/2])
					_ = conn.Close()
				}
			}
		}},
		httpMode{name: "connection reset", handler: func(*leakEnv, *httptest.Server, httpChannel) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				if conn := hijack(w); conn != nil {
					if tc, ok := conn.(*net.TCPConn); ok {
						_ = tc.SetLinger(0)
					}
					_ = conn.Close()
				}
			}
		}},
		httpMode{name: "connection closed", handler: func(*leakEnv, *httptest.Server, httpChannel) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				if conn := hijack(w); conn != nil {
					_ = conn.Close()
				}
			}
		}},
		httpMode{name: "unreachable", down: true},
		httpMode{name: "bad certificate", tls: true, untrusted: true, handler: func(e *leakEnv, _ *httptest.Server, hc httpChannel) http.HandlerFunc {
			return hc.accept(e)
		}},
	)
	return append(modes, hc.extra...)
}

// start starts the peer of mode and returns the channel's notifier.
func (hc httpChannel) start(mode httpMode) func(t *testing.T, e *leakEnv) notify.Notifier {
	return func(t *testing.T, e *leakEnv) notify.Notifier {
		pool := x509.NewCertPool()
		base := ""
		if mode.down {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			base = "http://" + l.Addr().String()
			require.NoError(t, l.Close())
		} else {
			var h http.HandlerFunc
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r) }))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			h = mode.handler(e, srv, hc)
			if mode.tls {
				srv.StartTLS()
				if !mode.untrusted {
					pool.AddCert(srv.Certificate())
				}
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			t.Cleanup(e.stopNow)
			base = srv.URL
		}
		client := notify.NewHTTPClient(notify.HTTPConfig{
			Allow:   []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			RootCAs: pool, Timeout: 5 * time.Second,
		})
		return hc.new(e, base, client)
	}
}

func (hc httpChannel) channel() leakChannel {
	ch := leakChannel{name: hc.name, secrets: hc.secrets, echo: hc.echo}
	for _, m := range httpModes(hc) {
		ch.modes = append(ch.modes, leakMode{name: m.name, delivers: m.delivers, hangs: m.hangs, start: hc.start(m)})
	}
	return ch
}

func mustSecretURL(raw string) notify.SecretURL {
	u, err := notify.ParseSecretURL(raw)
	if err != nil {
		panic(err)
	}
	return u
}

func accept(code int, body string) func(*leakEnv) http.HandlerFunc {
	return func(*leakEnv) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
		}
	}
}

// slackAPI fakes the Web API: it accepts every call, or replies to each as
// reply says.
func slackAPI(reply func(w http.ResponseWriter, method string) bool) func(*leakEnv) http.HandlerFunc {
	return func(*leakEnv) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			method := strings.TrimPrefix(r.URL.Path, "/api/")
			w.Header().Set("Content-Type", "application/json")
			if reply != nil && reply(w, method) {
				return
			}
			switch method {
			case "conversations.history":
				_, _ = io.WriteString(w, `{"ok":true,"messages":[],"has_more":false}`)
			case "chat.postMessage":
				_, _ = io.WriteString(w, `{"ok":true,"channel":"C0LEAK","ts":"1700000000.000001"}`)
			default:
				_, _ = io.WriteString(w, `{"ok":true}`)
			}
		}
	}
}

// slackRefusal is a Web API mode that answers every call with an error.
func slackRefusal(name string, code int, header http.Header, body string) httpMode {
	return httpMode{name: name, handler: func(e *leakEnv, _ *httptest.Server, _ httpChannel) http.HandlerFunc {
		return slackAPI(func(w http.ResponseWriter, _ string) bool {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(code)
			_, _ = io.WriteString(w, strings.ReplaceAll(body, "$SECRETS", strings.Join(e.ch.echo, " ")))
			return true
		})(e)
	}}
}

func leakChannels() []leakChannel {
	webhookSecrets := append([]string{leakWebhookToken, leakWebhookKey, leakWebhookPass}, leakWhsec...)
	for _, s := range leakWhsec {
		webhookSecrets = append(webhookSecrets, strings.TrimPrefix(s, "whsec_"))
	}
	basic := base64.StdEncoding.EncodeToString([]byte(leakWebhookUser + ":" + leakWebhookPass))
	hook := httpChannel{
		name:    "webhook",
		secrets: webhookSecrets,
		echo: append([]string{leakWebhookToken, url.QueryEscape(leakWebhookKey), "Basic " + basic, leakWebhookPass},
			leakWhsec...),
		new: func(e *leakEnv, base string, client *http.Client) notify.Notifier {
			u := strings.Replace(base, "://", "://"+leakWebhookUser+":"+leakWebhookPass+"@", 1) +
				"/hooks/" + leakWebhookToken + "?key=" + url.QueryEscape(leakWebhookKey) + "&v=1"
			secrets := make([]notify.Secret, len(leakWhsec))
			for i, s := range leakWhsec {
				secrets[i] = notify.NewSecret(s)
			}
			n, err := webhook.New(webhook.Config{URL: mustSecretURL(u), Secrets: secrets, Client: client, Now: e.clock.Now})
			if err != nil {
				panic(err)
			}
			return n
		},
		accept: accept(http.StatusNoContent, ""),
	}
	hook.echo = append(hook.echo, basic)

	slackHook := httpChannel{
		name:    "slack webhook",
		secrets: []string{leakSlackHook},
		echo:    []string{leakSlackHook, "/services/T0LEAK/B0LEAK/" + leakSlackHook},
		new: func(e *leakEnv, base string, client *http.Client) notify.Notifier {
			n, err := slack.New(slack.Config{URL: mustSecretURL(base + "/services/T0LEAK/B0LEAK/" + leakSlackHook),
				Client: client, Now: e.clock.Now, Logger: e.log})
			if err != nil {
				panic(err)
			}
			return n
		},
		accept: accept(http.StatusOK, "ok"),
	}

	slackBot := httpChannel{
		name:    "slack API",
		secrets: []string{leakSlackBot},
		echo:    []string{leakSlackBot, "Bearer " + leakSlackBot, "token=" + url.QueryEscape(leakSlackBot)},
		new: func(e *leakEnv, base string, client *http.Client) notify.Notifier {
			n, err := slack.New(slack.Config{Token: notify.NewSecret(leakSlackBot), Channel: "C0LEAK", APIURL: base + "/api/",
				Client: client, Now: e.clock.Now, Logger: e.log})
			if err != nil {
				panic(err)
			}
			return n
		},
		accept: slackAPI(nil),
		extra: []httpMode{
			slackRefusal("invalid_auth", http.StatusOK, nil, `{"ok":false,"error":"invalid_auth","warning":"$SECRETS"}`),
			slackRefusal("channel_not_found", http.StatusOK, nil, `{"ok":false,"error":"channel_not_found","response_metadata":{"messages":["$SECRETS"]}}`),
			slackRefusal("ratelimited", http.StatusOK, http.Header{"Retry-After": {"30"}}, `{"ok":false,"error":"ratelimited"}`),
			slackRefusal("ratelimited 429", http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}}, `{"ok":false,"error":"ratelimited"}`),
			slackRefusal("internal_error", http.StatusOK, nil, `{"ok":false,"error":"internal_error"}`),
			slackRefusal("unknown error quoting the token", http.StatusOK, nil, `{"ok":false,"error":"$SECRETS"}`),
			slackRefusal("not JSON", http.StatusOK, nil, `$SECRETS`),
			slackRefusal("201 quoting the token", http.StatusCreated, nil, `$SECRETS`),
			{name: "ts quoting the token", handler: func(e *leakEnv, _ *httptest.Server, _ httpChannel) http.HandlerFunc {
				return slackAPI(func(w http.ResponseWriter, method string) bool {
					if method != "chat.postMessage" {
						return false
					}
					_, _ = io.WriteString(w, `{"ok":true,"channel":"C0LEAK","ts":"`+leakSlackBot+`"}`)
					return true
				})(e)
			}},
		},
	}

	pd := httpChannel{
		name:    "pagerduty",
		secrets: []string{leakRoutingKey},
		echo:    []string{leakRoutingKey, `"routing_key":"` + leakRoutingKey + `"`},
		new: func(e *leakEnv, base string, client *http.Client) notify.Notifier {
			n, err := pagerduty.New(pagerduty.Config{RoutingKey: notify.NewSecret(leakRoutingKey),
				URL: mustSecretURL(base + "/v2/enqueue"), Client: client, Now: e.clock.Now})
			if err != nil {
				panic(err)
			}
			return n
		},
		accept: accept(http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"INC-000001"}`),
		extra: []httpMode{{name: "accepts quoting the key", delivers: true,
			handler: func(e *leakEnv, _ *httptest.Server, _ httpChannel) http.HandlerFunc {
				return accept(http.StatusAccepted, `{"status":"success","message":"Event processed for `+leakRoutingKey+`","dedup_key":"`+leakRoutingKey+`"}`)(e)
			}}},
	}

	teamsPath := "/workflows/0a1b2c/triggers/manual/paths/invoke"
	teamsQuery := "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + leakTeamsSig
	tm := httpChannel{
		name:    "teams",
		secrets: []string{leakTeamsSig},
		echo:    []string{leakTeamsSig, teamsPath + teamsQuery, "sig=" + leakTeamsSig},
		new: func(e *leakEnv, base string, client *http.Client) notify.Notifier {
			n, err := teams.New(teams.Config{URL: mustSecretURL(base + teamsPath + teamsQuery), Client: client, Now: e.clock.Now, Logger: e.log})
			if err != nil {
				panic(err)
			}
			return n
		},
		accept: accept(http.StatusAccepted, ""),
	}

	return []leakChannel{hook.channel(), slackHook.channel(), slackBot.channel(), pd.channel(), tm.channel(), smtpChannel()}
}

// ---- e-mail ----

// smtpBlob is the SMTP AUTH PLAIN response the notifier sends, base64
// encoded on the wire.
var smtpBlob = base64.StdEncoding.EncodeToString([]byte("\x00" + leakSMTPUser + "\x00" + leakSMTPPassword))

// smtpMode is how the SMTP peer behaves.
type smtpMode struct {
	name            string
	delivers, hangs bool
	// plain serves without STARTTLS; untrusted with a certificate the
	// notifier does not trust.
	plain, untrusted bool
	// raw, if set, serves the connections itself instead of an SMTP
	// server.
	raw func(e *leakEnv, conn net.Conn)
	// down points the notifier at a port nobody listens on.
	down                     bool
	authErr, rcptErr, dataEr *smtp.SMTPError
}

func smtpErr(code int, enhanced smtp.EnhancedCode, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}

func smtpChannel() leakChannel {
	echo := "refused " + leakSMTPPassword + " " + smtpBlob
	modes := []smtpMode{
		{name: "accepts", delivers: true},
		{name: "AUTH refused", authErr: smtpErr(535, smtp.EnhancedCode{5, 7, 8}, "authentication failed")},
		{name: "AUTH refused quoting the password", authErr: smtpErr(535, smtp.EnhancedCode{5, 7, 8}, echo)},
		{name: "AUTH temporary failure", authErr: smtpErr(454, smtp.EnhancedCode{4, 7, 0}, echo)},
		{name: "RCPT 550", rcptErr: smtpErr(550, smtp.EnhancedCode{5, 1, 1}, echo)},
		{name: "RCPT 450", rcptErr: smtpErr(450, smtp.EnhancedCode{4, 2, 1}, echo)},
		{name: "DATA 554", dataEr: smtpErr(554, smtp.EnhancedCode{5, 6, 0}, echo)},
		{name: "DATA 451", dataEr: smtpErr(451, smtp.EnhancedCode{4, 3, 0}, echo)},
		{name: "no STARTTLS", plain: true},
		{name: "bad certificate", untrusted: true},
		{name: "unreachable", down: true},
		{name: "hangs", hangs: true, raw: func(e *leakEnv, conn net.Conn) {
			e.arrive()
			<-e.stop
		}},
		{name: "hangs after greeting", hangs: true, raw: func(e *leakEnv, conn net.Conn) {
			_, _ = io.WriteString(conn, "220 localhost ESMTP\r\n")
			e.arrive()
			<-e.stop
		}},
		{name: "connection closed", raw: func(_ *leakEnv, conn net.Conn) {
			_, _ = io.WriteString(conn, "220 localhost ESMTP\r\n")
		}},
		{name: "connection reset", raw: func(_ *leakEnv, conn net.Conn) {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
		}},
		{name: "greeting refused quoting the password", raw: func(_ *leakEnv, conn net.Conn) {
			_, _ = io.WriteString(conn, "554 no service for "+leakSMTPPassword+" "+smtpBlob+"\r\n")
		}},
	}
	ch := leakChannel{name: "email", secrets: []string{leakSMTPPassword}, echo: []string{leakSMTPPassword, smtpBlob}}
	for _, m := range modes {
		ch.modes = append(ch.modes, leakMode{name: m.name, delivers: m.delivers, hangs: m.hangs, start: m.start})
	}
	return ch
}

// start starts the SMTP peer and returns an e-mail notifier sending to it.
func (m smtpMode) start(t *testing.T, e *leakEnv) notify.Notifier {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().(*net.TCPAddr)
	// Borrow the test certificate of an HTTPS test server, made for
	// 127.0.0.1.
	h := httptest.NewUnstartedServer(http.NotFoundHandler())
	h.StartTLS()
	t.Cleanup(h.Close)
	pool := x509.NewCertPool()
	if !m.untrusted {
		pool.AddCert(h.Certificate())
	}
	switch {
	case m.down:
		require.NoError(t, l.Close())
	case m.raw != nil:
		var wg sync.WaitGroup
		t.Cleanup(func() { _ = l.Close(); wg.Wait() })
		t.Cleanup(e.stopNow)
		wg.Go(func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				wg.Go(func() {
					defer conn.Close()
					m.raw(e, conn)
				})
			}
		})
	default:
		srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &leakSession{mode: m}, nil }))
		srv.Domain = "localhost"
		srv.ErrorLog = log.New(io.Discard, "", 0)
		if m.plain {
			srv.AllowInsecureAuth = true
		} else {
			srv.TLSConfig = &tls.Config{Certificates: h.TLS.Certificates}
		}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	n, err := email.New(email.Config{
		Host: "127.0.0.1", Port: addr.Port, Username: leakSMTPUser, Password: notify.NewSecret(leakSMTPPassword),
		From: "incidentkit@example.org", To: []string{"responders@example.org"}, RootCAs: pool, Logger: e.log,
	})
	require.NoError(t, err)
	return n
}

// leakSession is an SMTP session that refuses as its mode says.
type leakSession struct{ mode smtpMode }

func (s *leakSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *leakSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, pass string) error {
		if s.mode.authErr != nil {
			return s.mode.authErr
		}
		if username != leakSMTPUser || pass != leakSMTPPassword {
			return smtpErr(535, smtp.EnhancedCode{5, 7, 8}, "authentication failed")
		}
		return nil
	}), nil
}

func (s *leakSession) Mail(string, *smtp.MailOptions) error { return nil }

func (s *leakSession) Rcpt(string, *smtp.RcptOptions) error {
	if s.mode.rcptErr != nil {
		return s.mode.rcptErr
	}
	return nil
}

func (s *leakSession) Data(r io.Reader) error {
	_, _ = io.Copy(io.Discard, r)
	if s.mode.dataEr != nil {
		return s.mode.dataEr
	}
	return nil
}

func (s *leakSession) Reset()        {}
func (s *leakSession) Logout() error { return nil }

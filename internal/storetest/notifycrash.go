package storetest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/webhook"
	"github.com/incidentkit/incidentkit/phases"
)

// NotifyStore is a store that keeps incidents, an outbox and the state of
// deliveries together, as the durable stores do.
type NotifyStore interface {
	ir.Store
	notify.Outbox
	notify.Deliveries
}

// NotifyCrash configures [RunNotifyCrash].
type NotifyCrash struct {
	// ChildTest names the test function that calls
	// [RunNotifyCrashChild]; Env is added to its environment, and must
	// make that test run. The child also finds the receiver's URL in
	// [NotifyCrashURLEnv].
	ChildTest string
	Env       []string
	// Rounds is how many times the child is started and killed.
	Rounds int
	// Open opens the store the child wrote, for the final delivery and
	// checks; the store is closed with close.
	Open func(t *testing.T) (st NotifyStore, close func())
	// DrainEvery is how many rounds go between two checks that every
	// event committed so far has arrived, made after a dispatcher of the
	// test's own has delivered what the killed children left; default 5.
	// The last round is always followed by one.
	DrainEvery int
	// Settle, if set, is called after each kill and returns once nothing
	// the killed child started can still change the store.
	Settle func(t *testing.T)
}

// NotifyCrashURLEnv names the variable that gives the crash child the
// URL of the webhook receiver.
const NotifyCrashURLEnv = "INCIDENTKIT_NOTIFY_CRASH_URL"

// notifyCrashSecret signs the crash child's webhooks.
var notifyCrashSecret = notify.NewSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte("incidentkit crash test signing key")))

// notifyCrashLease is how long the crash child's claims hold: a killed
// child's claims lapse after it, and the next dispatcher takes them over.
const notifyCrashLease = time.Second

// arrival is one request the receiver accepted.
type arrival struct {
	webhookID string   // the webhook-id header
	id        string   // the event's id
	key       string   // the key of the message in the event's data
	incident  string   // the event's subject
	version   int64    // the incident version of the event in its data
	typ       string   // the type of the event in its data
	sum       [32]byte // the SHA-256 of the body
	round     int      // the round in which it arrived
}

// committed is an event on a timeline in the store.
type committed struct {
	seq     int64  // its place on the timeline, from 1
	version int64  // the incident version it is part of
	typ     string // its type
}

// crashReceiver is a webhook receiver that verifies and records every
// request.
type crashReceiver struct {
	t        *testing.T
	verifier *webhook.Verifier
	mu       sync.Mutex
	round    int
	arrivals []arrival
	seen     map[string]int // requests by webhook-id
}

func (rc *crashReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := rc.verifier.Verify(req.Header, body); err != nil {
		rc.t.Errorf("the receiver got a request that does not verify: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev webhook.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		rc.t.Errorf("the receiver got a body that is not an event: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	a := arrival{webhookID: req.Header.Get("webhook-id"), id: ev.ID, key: ev.Data.Key, incident: ev.Subject,
		version: ev.Data.Event.Version, typ: ev.Data.Event.Type, sum: sha256.Sum256(body), round: rc.round}
	rc.arrivals = append(rc.arrivals, a)
	rc.seen[a.webhookID]++
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// snapshot returns a copy of what has arrived.
func (rc *crashReceiver) snapshot() []arrival {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]arrival(nil), rc.arrivals...)
}

// RunNotifyCrash kills a process that writes incidents to a store and
// delivers their notifications to a webhook receiver in this process with
// SIGKILL at random moments, again and again. After each kill it checks
// what has arrived so far, and every few kills and at the end it also
// delivers what the killed children left with a dispatcher of its own and
// checks that every event committed to the store reached the receiver at
// least once, signed and with its key as the webhook-id. Throughout,
// every duplicate carries the same webhook-id, and each incident's events
// arrive in the order of its timeline, a redelivery never coming after a
// later event.
func RunNotifyCrash(t *testing.T, c NotifyCrash) {
	v, err := webhook.NewVerifier(webhook.VerifierConfig{Secrets: []notify.Secret{notifyCrashSecret}})
	require.NoError(t, err)
	rc := &crashReceiver{t: t, verifier: v, seen: make(map[string]int)}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	env := append([]string{NotifyCrashURLEnv + "=" + srv.URL}, c.Env...)

	every := c.DrainEvery
	if every <= 0 {
		every = 5
	}
	var want map[string]committed
	for round := range c.Rounds {
		rc.mu.Lock()
		rc.round = round
		rc.mu.Unlock()
		runChild(t, Crash{ChildTest: c.ChildTest, Env: env}, time.Duration(20+rand.IntN(280))*time.Millisecond)
		if c.Settle != nil {
			c.Settle(t)
		}
		if (round+1)%every != 0 && round != c.Rounds-1 {
			checkArrivals(t, rc.snapshot(), nil)
			continue
		}
		// Deliver what the killed children left, once their claims lapse,
		// and check that everything committed so far has arrived.
		want = drainCrash(t, c, rc, srv.URL)
		checkArrivals(t, rc.snapshot(), want)
	}
	t.Logf("%d rounds: %d events committed, %d requests received", c.Rounds, len(want), len(rc.snapshot()))
}

// drainCrash runs a dispatcher on the store the crash children left until
// every event committed to it has reached the receiver, and returns those
// events.
func drainCrash(t *testing.T, c NotifyCrash, rc *crashReceiver, url string) map[string]committed {
	t.Helper()
	st, closeStore := c.Open(t)
	defer closeStore()
	want := committedEvents(t, st)
	d := newCrashDispatcher(t, st, url)
	defer func() { require.NoError(t, d.Close()) }()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	defer func() {
		stop()
		<-done
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rc.mu.Lock()
		missing := 0
		for k := range want {
			if rc.seen[k] == 0 {
				missing++
			}
		}
		rc.mu.Unlock()
		if missing == 0 {
			return want
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d committed events never reached the receiver", missing, len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// committedEvents returns every event on the timelines in st, by its
// outbox key, "<incident>/<version>/<n>" for the n-th event of a change.
func committedEvents(t *testing.T, st NotifyStore) map[string]committed {
	t.Helper()
	ctx := context.Background()
	evs := make(map[string]committed)
	var page ir.Page
	var err error
	for first := true; first || page.Next != ""; first = false {
		page, err = st.List(ctx, ir.Query{After: page.Next, Limit: ir.MaxPageSize})
		require.NoError(t, err)
		for _, inc := range page.Incidents {
			events, err := irtest.ReadTimeline(ctx, st, inc.ID)
			require.NoError(t, err)
			n := 0
			for i, e := range events {
				require.Equal(t, int64(i+1), e.Seq, "the timeline of %s", inc.ID)
				if i > 0 && e.Version == events[i-1].Version {
					n++
				} else {
					n = 1
				}
				evs[fmt.Sprintf("%s/%d/%d", inc.ID, e.Version, n)] = committed{seq: e.Seq, version: e.Version, typ: string(e.Type)}
			}
		}
	}
	require.NotEmpty(t, evs, "the crash children committed nothing")
	return evs
}

// checkArrivals checks what the receiver got: each request's webhook-id
// is its event's id and its message's key; every copy of one event (the
// same body) carries the same webhook-id, and no two events share one;
// and within an incident each event arrives after the one before it, and
// a redelivery never comes after a later event. With want, the events
// committed to the store, each event must also be the committed event its
// key names, and follow the one before it on the timeline without a gap.
func checkArrivals(t *testing.T, arrivals []arrival, want map[string]committed) {
	t.Helper()
	idOf := make(map[[32]byte]string)   // webhook-id by body
	bodyOf := make(map[string][32]byte) // body by webhook-id
	type pos struct{ version, n, seq int64 }
	last := make(map[string]pos) // latest event arrived, by incident
	for i, a := range arrivals {
		where := fmt.Sprintf("request %d (round %d, webhook-id %s)", i, a.round, a.webhookID)
		require.Equal(t, a.id, a.webhookID, "%s: the webhook-id is the event's id", where)
		require.Equal(t, a.key, a.webhookID, "%s: the webhook-id is the message's key", where)
		if id, ok := idOf[a.sum]; ok {
			require.Equal(t, id, a.webhookID, "%s: a duplicate carries the webhook-id of the first copy", where)
		}
		if sum, ok := bodyOf[a.webhookID]; ok {
			require.Equal(t, sum, a.sum, "%s: another event has this webhook-id", where)
		}
		idOf[a.sum], bodyOf[a.webhookID] = a.webhookID, a.sum

		var p pos
		inc, rest, ok := strings.Cut(a.key, "/")
		require.True(t, ok, "%s: the key names an incident", where)
		_, err := fmt.Sscanf(rest, "%d/%d", &p.version, &p.n)
		require.NoError(t, err, "%s: the key names a version and an event", where)
		require.Equal(t, inc, a.incident, "%s: the subject is the incident", where)
		require.Equal(t, p.version, a.version, "%s: the key names the version of the event", where)
		l, seen := last[inc]
		if want != nil {
			c, ok := want[a.key]
			require.True(t, ok, "%s: the event is committed", where)
			require.Equal(t, c.version, a.version, "%s: the version of the committed event", where)
			require.Equal(t, c.typ, a.typ, "%s: the type of the committed event", where)
			p.seq = c.seq
			switch {
			case p.seq == l.seq+1:
				last[inc] = p
			case p.seq == l.seq:
				// A redelivery of the latest event, whose delivery a kill
				// left unrecorded.
			default:
				require.Failf(t, "events out of order", "%s: event %d of %s arrived after event %d", where, p.seq, inc, l.seq)
			}
			continue
		}
		switch {
		case !seen && p.version == 1 && p.n == 1,
			seen && p.version == l.version && p.n == l.n+1,
			seen && p.version == l.version+1 && p.n == 1:
			last[inc] = p
		case seen && p == l:
			// A redelivery of the latest event.
		default:
			require.Failf(t, "events out of order", "%s: event %d/%d of %s arrived after %d/%d", where, p.version, p.n, inc, l.version, l.n)
		}
	}
}

// newCrashDispatcher returns a dispatcher that delivers every message in
// st to the webhook receiver at url, on loopback.
func newCrashDispatcher(t *testing.T, st NotifyStore, url string) *notify.Dispatcher {
	t.Helper()
	u, err := notify.ParseSecretURL(url)
	require.NoError(t, err)
	hook, err := webhook.New(webhook.Config{
		URL: u, Secrets: []notify.Secret{notifyCrashSecret},
		Client: notify.NewHTTPClient(notify.HTTPConfig{
			Allow:   []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
			Timeout: 2 * time.Second,
		}),
	})
	require.NoError(t, err)
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "receiver", MaxTLP: notify.TLPRed}},
		Routes:   []notify.Route{{Channels: []string{"receiver"}}},
	})
	require.NoError(t, err)
	d, err := notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: st, Deliveries: st, Router: router,
		Channels:       map[string]notify.Notifier{"receiver": hook},
		Logger:         slog.New(slog.DiscardHandler),
		Batch:          20,
		Lease:          notifyCrashLease,
		AttemptTimeout: notifyCrashLease / 2,
		PollInterval:   10 * time.Millisecond,
		MinBackoff:     10 * time.Millisecond,
		MaxBackoff:     100 * time.Millisecond,
		Limits:         map[string]notify.ChannelLimits{"receiver": {BreakAfter: -1}},
	})
	require.NoError(t, err)
	return d
}

// RunNotifyCrashChild is the process [RunNotifyCrash] kills: it runs a
// dispatcher delivering st's notifications to the receiver named in
// [NotifyCrashURLEnv] while it opens incidents, moves them through their
// phases and writes notes through a Responder that leaves outbox
// messages, until it is killed (or a minute has passed, should its parent
// be gone).
func RunNotifyCrashChild(t *testing.T, st NotifyStore) {
	ctx := context.Background()
	url := os.Getenv(NotifyCrashURLEnv)
	require.NotEmpty(t, url, "run by RunNotifyCrash")
	r, err := ir.NewResponder(ir.Config{Store: st, Outbox: true})
	require.NoError(t, err)
	d := newCrashDispatcher(t, st, url)
	go func() { _ = d.Run(ctx) }()

	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	require.NoError(t, out.Flush())
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	var ids []ir.ID
	page, err := st.List(ctx, ir.Query{Status: ir.StatusOpen, Limit: 10})
	require.NoError(t, err)
	for _, inc := range page.Incidents {
		ids = append(ids, inc.ID)
	}
	cycle := []phases.Action{phases.Identify, phases.Contain, phases.Eradicate, phases.Recover, phases.ReturnToContainment}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		if len(ids) < 3 || rand.IntN(8) == 0 {
			inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Crash test incident", Severity: ir.SeverityHigh})
			require.NoError(t, err)
			ids = append(ids, inc.ID)
			continue
		}
		id := ids[rand.IntN(len(ids))]
		if rand.IntN(2) == 0 {
			_, err := r.AddNote(ctx, alice, id, "still looking")
			require.NoError(t, err)
			continue
		}
		_, err := r.Transition(ctx, alice, id, cycle[rand.IntN(len(cycle))], "moving on")
		if errors.Is(err, phases.ErrInvalidTransition) || errors.Is(err, phases.ErrGuardFailed) {
			continue
		}
		require.NoError(t, err)
	}
}

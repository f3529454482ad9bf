// Notifications runs one security incident with notifications on: every
// change the Responder makes leaves a message in the SQLite store's outbox,
// in the same transaction, and a notify.Dispatcher delivers each message to
// the channels its routes choose.
//
// The channels, and the peers they deliver to, all run in this process on
// loopback:
//
//   - soar: a signed CloudEvents webhook (notify/webhook) to a SOAR
//     platform's endpoint that verifies each Standard Webhooks signature
//     with webhook.Verifier's middleware; cleared for TLP:RED, it gets every
//     event;
//   - exec-mail: e-mail (notify/email) to the executives, through an SMTP
//     server that requires STARTTLS, on a certificate made at start, and
//     AUTH; it gets their status updates and every phase change of a high
//     or critical incident, threaded under one conversation;
//   - ir-chat: the responders' Slack channel (notify/slack, an incoming
//     webhook) on a Slack-like receiver; it gets what the responders need,
//     and the failures of other channels;
//   - customer-status: a channel shared with customers on the same
//     receiver, cleared for TLP:CLEAR only: the incident is
//     TLP:AMBER+STRICT, so the status update written for customers is held
//     back, whatever the routes say, and the record says so.
//
// Then the SOAR platform goes down (it answers 503) while the incident moves
// to containment: its delivery is retried with backoff until it is dead,
// the incident's timeline gets a notification_failed event, which the
// responders' chat receives, and once the platform is back the channel's
// dead deliveries are replayed. At the end the program prints the record of
// communication: every delivery of the incident, with its channel, its
// audience, when it was made and the peer's receipt.
//
// The routes are JSON, as a service would load them from its configuration.
// The retries are made fast (3 attempts, backoff of 10 to 40ms) so that the
// program ends in a second or two; a service keeps the defaults.
//
// Run it from the repository root:
//
//	go run ./examples/notifications
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/email"
	"github.com/incidentkit/incidentkit/notify/slack"
	"github.com/incidentkit/incidentkit/notify/webhook"
	"github.com/incidentkit/incidentkit/phases"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "notifications:", err)
		os.Exit(1)
	}
}

// routing says where each message goes. Routes are tried in order; the
// first that matches wins unless it continues. A channel's max_tlp is the
// most restricted TLP label it may receive (TLP:AMBER when left out).
const routing = `{
  "channels": [
    {"name": "soar",            "max_tlp": "TLP:RED"},
    {"name": "exec-mail",       "max_tlp": "TLP:AMBER+STRICT"},
    {"name": "ir-chat",         "max_tlp": "TLP:AMBER+STRICT"},
    {"name": "customer-status", "max_tlp": "TLP:CLEAR"}
  ],
  "routes": [
    {"name": "failures",   "events": ["notification_failed"], "channels": ["ir-chat"]},
    {"name": "record",     "channels": ["soar"], "continue": true},
    {"name": "executives", "audiences": ["executives"], "channels": ["exec-mail"]},
    {"name": "customers",  "audiences": ["customers"], "channels": ["customer-status"]},
    {"name": "escalation", "events": ["opened", "phase_changed"], "min_severity": "high",
                           "channels": ["exec-mail"], "continue": true},
    {"name": "responders", "channels": ["ir-chat"]}
  ]
}`

// The people and programs taking part.
var (
	edr   = ir.Actor{ID: "edr", Name: "EDR", Kind: ir.ActorService}
	dana  = ir.Actor{ID: "dana", Name: "Dana Okafor"}   // security analyst on call
	alice = ir.Actor{ID: "alice", Name: "Alice Moreau"} // incident commander
	// dispatcherActor records on the timeline the notifications that
	// could not be delivered.
	dispatcherActor = ir.Actor{ID: "notify-dispatcher", Name: "Notification dispatcher", Kind: ir.ActorService}
)

// The incident's ID: the store is new on every run, so a fixed ID keeps
// the output the same. A real program leaves Config.IDs out and gets
// time-sortable IDs.
const incidentID ir.ID = "INC-2026-0107"

// The credentials of the channels. A service reads them from its secret
// store; notify.Secret keeps them out of logs, errors and records.
const (
	signingSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	smtpUser      = "incidentkit@example.org"
	smtpPassword  = "app-password-4d1c"
)

// example is the running example: the store, the Responder, the
// dispatcher and the peers it delivers to.
type example struct {
	out        io.Writer
	rules      notify.Routing
	store      *sqlite.Store
	r          *ir.Responder
	dispatcher *notify.Dispatcher
	soar       *soarReceiver
	mail       *smtpServer
	slack      *slackReceiver
}

func run(ctx context.Context, out io.Writer) (err error) {
	dir, err := os.MkdirTemp("", "incidentkit-notifications-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()

	// The dispatcher's log goes to a buffer, shown only if the program
	// fails: what it logs (retries, dead deliveries) is what the program
	// prints anyway.
	var log syncBuffer
	defer func() {
		if err != nil && log.String() != "" {
			err = fmt.Errorf("%w\n\nThe dispatcher's log:\n%s", err, log.String())
		}
	}()

	x := &example{out: out}
	if err := x.startPeers(); err != nil {
		return err
	}
	defer x.stopPeers()

	// The SQLite store, with the outbox on: every change leaves a message
	// for each of its events in the same transaction.
	x.store, err = sqlite.Open(ctx, filepath.Join(dir, "incidents.db"), sqlite.Config{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, x.store.Close()) }()
	x.r, err = ir.NewResponder(ir.Config{
		Store: x.store, Outbox: true,
		IDs: ir.IDGeneratorFunc(func() ir.ID { return incidentID }),
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, x.r.Shutdown(ctx)) }()

	channels, err := x.channels()
	if err != nil {
		return err
	}
	defer func() {
		for _, n := range channels {
			if c, ok := n.(io.Closer); ok {
				err = errors.Join(err, c.Close())
			}
		}
	}()
	x.rules, err = notify.LoadRouting(strings.NewReader(routing))
	if err != nil {
		return err
	}
	router, err := notify.NewRouter(x.rules)
	if err != nil {
		return err
	}
	x.dispatcher, err = notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: x.store, Deliveries: x.store, Router: router, Channels: channels,
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
		// Fast, so that the failing channel's delivery dies in well under
		// a second; the defaults are 12 attempts with backoff from 1s to
		// 1h, and a poll every second.
		MaxAttempts: 3, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		PollInterval: 5 * time.Millisecond,
		// A dead delivery goes on the incident's timeline, where routes
		// can send it to a fallback channel.
		OnDead: func(ctx context.Context, d notify.Delivery, _ error) error {
			_, err := x.r.RecordNotificationFailed(ctx, dispatcherActor, d)
			return err
		},
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, x.dispatcher.Close()) }()
	if err := x.dispatcher.Check(ctx); err != nil {
		return err
	}

	// The dispatcher runs beside the Responder until runCtx ends; what it
	// has not delivered by then stays pending for the next one.
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := x.dispatcher.Run(runCtx); err != nil {
			fmt.Fprintln(&log, "dispatcher stopped:", err)
		}
	})
	defer wg.Wait()
	defer stop()

	x.printSetup()
	for _, step := range []func(context.Context) error{x.respond, x.outage, x.replay, x.printRecord} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// startPeers starts the SOAR endpoint, the SMTP server and the Slack-like
// receiver on loopback.
func (x *example) startPeers() (err error) {
	if x.soar, err = newSOARReceiver(notify.NewSecret(signingSecret)); err != nil {
		return err
	}
	if x.mail, err = newSMTPServer(smtpUser, smtpPassword); err != nil {
		return err
	}
	x.slack = newSlackReceiver(map[string]string{
		"/services/T0IR/B0CHAT/a1b2c3d4e5f6": "#ir-finance",
		"/services/T0IR/B0CUST/f6e5d4c3b2a1": "#customer-status",
	})
	return nil
}

// stopPeers stops whatever startPeers started.
func (x *example) stopPeers() {
	if x.soar != nil {
		x.soar.Close()
	}
	if x.mail != nil {
		x.mail.Close()
	}
	if x.slack != nil {
		x.slack.Close()
	}
}

// channels makes the notifier of each channel the routes name.
func (x *example) channels() (map[string]notify.Notifier, error) {
	// Notifiers refuse to reach loopback and private addresses unless
	// allowed: the peers here are on loopback.
	client := notify.NewHTTPClient(notify.HTTPConfig{
		Allow:   []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Timeout: 5 * time.Second,
	})
	soarURL, err := notify.ParseSecretURL(x.soar.srv.URL + "/incidentkit")
	if err != nil {
		return nil, err
	}
	soar, err := webhook.New(webhook.Config{URL: soarURL, Secrets: []notify.Secret{notify.NewSecret(signingSecret)}, Client: client})
	if err != nil {
		return nil, err
	}
	mail, err := email.New(email.Config{
		Host: x.mail.host, Port: x.mail.port, RootCAs: x.mail.roots,
		Username: smtpUser, Password: notify.NewSecret(smtpPassword),
		From: smtpUser, To: []string{"ciso@example.org", "cfo@example.org"}, Domain: "ir.example.org",
	})
	if err != nil {
		return nil, err
	}
	chats := map[string]notify.Notifier{}
	for name, path := range map[string]string{
		"ir-chat":         "/services/T0IR/B0CHAT/a1b2c3d4e5f6",
		"customer-status": "/services/T0IR/B0CUST/f6e5d4c3b2a1",
	} {
		u, err := notify.ParseSecretURL(x.slack.url(path))
		if err != nil {
			return nil, err
		}
		n, err := slack.New(slack.Config{URL: u, Client: client})
		if err != nil {
			return nil, err
		}
		chats[name] = n
	}
	return map[string]notify.Notifier{
		"soar": soar, "exec-mail": mail,
		"ir-chat": chats["ir-chat"], "customer-status": chats["customer-status"],
	}, nil
}

// respond opens the incident and works it for a while, with every peer
// up, then shows what each peer received.
func (x *example) respond(ctx context.Context) error {
	inc, err := x.r.Open(ctx, edr, ir.NewIncident{
		Title:    "Ransomware loader on the payroll file server",
		Severity: ir.SeverityHigh,
		Category: ir.CategoryRansomware,
		TLP:      ir.TLPAmberStrict,
		Labels:   []string{"finance"},
	})
	if err != nil {
		return err
	}
	if _, err := x.r.Assign(ctx, alice, inc.ID, ir.RoleCommander, alice); err != nil {
		return err
	}
	if _, err := x.r.Transition(ctx, dana, inc.ID, phases.Identify, "the loader ran from a share on FS-PAY-01"); err != nil {
		return err
	}
	if _, err := x.r.PostStatus(ctx, alice, inc.ID, notify.AudienceExecutives,
		"FS-PAY-01 is isolated; Friday's payroll run is not affected. Next update at 16:00."); err != nil {
		return err
	}
	if _, err := x.r.PostStatus(ctx, alice, inc.ID, notify.AudienceCustomers,
		"We are investigating a security incident on an internal file server."); err != nil {
		return err
	}
	if err := x.awaitSettled(ctx, "the first five events", nil); err != nil {
		return err
	}
	fmt.Fprintf(x.out, "%s: %s (%s, %s) and its first %d events, delivered:\n", inc.ID, inc.Title, inc.Severity, inc.TLP, 5)
	if err := x.printSOAR(); err != nil {
		return err
	}
	if err := x.printMail(); err != nil {
		return err
	}
	return x.printSlack(0)
}

// outage takes the SOAR platform down, moves the incident to containment,
// and waits until the SOAR delivery is dead and the failure has reached
// the responders' chat.
func (x *example) outage(ctx context.Context) error {
	x.soar.down.Store(true)
	fmt.Fprintf(x.out, "\nThe SOAR platform goes down (it answers 503); %s moves the incident to containment.\n", alice)
	posted := len(x.slack.received())
	if _, err := x.r.Transition(ctx, alice, incidentID, phases.Contain, "isolating FS-PAY-01 and the accounts the loader used"); err != nil {
		return err
	}
	failed := func(events []ir.Event) bool {
		return slices.ContainsFunc(events, func(e ir.Event) bool { return e.Type == ir.EventNotificationFailed })
	}
	if err := x.awaitSettled(ctx, "the SOAR delivery to die", failed); err != nil {
		return err
	}
	refused, _ := x.soar.refusals()
	dead, err := x.store.DeadDeliveries(ctx, "soar", 10)
	if err != nil {
		return err
	}
	if len(dead) != 1 || len(refused) != dead[0].Attempts {
		return fmt.Errorf("%d dead deliveries to soar and %d refused requests, want 1 dead after its attempts", len(dead), len(refused))
	}
	fmt.Fprintf(x.out, "  The SOAR endpoint refused %d requests, all with webhook-id %s: the delivery is dead.\n",
		len(refused), strings.Join(slices.Compact(refused), ", "))
	for e, err := range x.r.AllEvents(ctx, incidentID) {
		if err != nil {
			return err
		}
		if e.Type == ir.EventNotificationFailed {
			fmt.Fprintf(x.out, "  On the timeline: %s %s\n", e.Actor, ir.Describe(x.r.Model(), e))
		}
	}
	fmt.Fprintf(x.out, "  The responders' chat got the phase change and, through the route for failures, the failure:\n")
	return x.printSlack(posted)
}

// replay brings the SOAR platform back and replays its channel's dead
// deliveries.
func (x *example) replay(ctx context.Context) error {
	x.soar.down.Store(false)
	before, _ := x.soar.received()
	n, err := x.dispatcher.ReplayChannel(ctx, "soar")
	if err != nil {
		return err
	}
	if err := x.awaitSettled(ctx, "the replay", nil); err != nil {
		return err
	}
	events, ids := x.soar.received()
	fmt.Fprintf(x.out, "\nThe SOAR platform is back; ReplayChannel made its %d dead delivery pending again:\n", n)
	for i := len(before); i < len(events); i++ {
		fmt.Fprintf(x.out, "  soar: %s (signature verified)  %s\n", ids[i], events[i].Data.Event.Sentence())
	}
	return nil
}

// awaitSettled waits until every event on the incident's timeline has been
// fanned out and none of its deliveries is pending, and also, if done is
// not nil, until done holds for the timeline.
func (x *example) awaitSettled(ctx context.Context, what string, done func([]ir.Event) bool) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := x.settled(ctx, done)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// settled reports whether awaitSettled may stop waiting.
func (x *example) settled(ctx context.Context, done func([]ir.Event) bool) (bool, error) {
	var events []ir.Event
	for e, err := range x.r.AllEvents(ctx, incidentID) {
		if err != nil {
			return false, err
		}
		events = append(events, e)
	}
	if done != nil && !done(events) {
		return false, nil
	}
	record, err := x.store.IncidentDeliveries(ctx, string(incidentID))
	if err != nil {
		return false, err
	}
	keys := map[string]bool{}
	for _, d := range record {
		if d.Status == notify.StatusPending {
			return false, nil
		}
		keys[d.Key] = true
	}
	// Every event of this example goes to one channel at least.
	return len(keys) == len(events), nil
}

// syncBuffer is a buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Command httpservice serves incidentkit as a JSON API: incidents and
// every Responder operation, evidence streamed into the locker with its
// chain of custody, custody verification and bundles, the post-incident
// review document, response metrics, the record of notifications, and
// alert intake (a generic JSON shape and Alertmanager's webhook), with a
// notify.Dispatcher running beside it.
//
// It keeps everything in a data directory (-data, default
// ./incidentkit-data) on the embedded SQLite store, or on PostgreSQL when
// -postgres or INCIDENTKIT_POSTGRES_DSN names a database (the evidence
// content, signing key and tokens then stay in the data directory).
// Callers authenticate with bearer tokens from a tokens file (-tokens,
// default tokens.json in the data directory, made on the first run with a
// token for each role); errors are RFC 9457 problem details; the API is
// described by the OpenAPI document at /openapi.json.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/postgres"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpservice:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	addr, data, dsn, schema, tokens, routing string
	maxBody, maxEvidence                     int64
	shutdownTimeout                          time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("httpservice", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.data, "data", envOr("INCIDENTKIT_DATA", "incidentkit-data"), "data directory (env INCIDENTKIT_DATA)")
	fs.StringVar(&o.dsn, "postgres", os.Getenv("INCIDENTKIT_POSTGRES_DSN"), "PostgreSQL URL: keep incidents there instead of SQLite (env INCIDENTKIT_POSTGRES_DSN)")
	fs.StringVar(&o.schema, "schema", "", "PostgreSQL schema (default incidentkit's)")
	fs.StringVar(&o.tokens, "tokens", "", "tokens file (default tokens.json in the data directory, made on first run)")
	fs.StringVar(&o.routing, "routing", "", "notification routing JSON file (notify.Routing); each channel is written to the log")
	fs.Int64Var(&o.maxBody, "max-body", 1<<20, "largest JSON request body, in bytes")
	fs.Int64Var(&o.maxEvidence, "max-evidence", 16<<30, "largest evidence upload, in bytes")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to let requests finish on SIGTERM")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// dispatcherActor is who records a delivery given up on.
var dispatcherActor = ir.Actor{ID: "notify-dispatcher", Name: "Notification dispatcher", Kind: ir.ActorService}

// backend is what the service runs on.
type backend struct {
	responder  *ir.Responder
	locker     *evidence.Locker
	blobs      evidence.BlobStore
	store      ir.Store
	outbox     notify.Outbox
	deliveries notify.Deliveries
	close      func(context.Context) error
}

// openBackend opens the SQLite directory, or PostgreSQL with the evidence
// content and key in the data directory.
func openBackend(ctx context.Context, o options, rcfg ir.Config) (*backend, error) {
	if o.dsn == "" {
		d, err := sqlite.OpenDir(ctx, o.data, sqlite.DirConfig{Responder: rcfg})
		if err != nil {
			return nil, err
		}
		return &backend{responder: d.Responder, locker: d.Locker, blobs: d.Blobs, store: d.Store, outbox: d.Store,
			deliveries: d.Store, close: d.Close}, nil
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return nil, err
	}
	store, err := postgres.Open(ctx, o.dsn, postgres.Config{Schema: o.schema})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*backend, error) { store.Close(); return nil, err }
	keyPath := filepath.Join(o.data, "custody-pg.key")
	key, err := evidence.LoadSigningKey(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		if key, _, err = evidence.GenerateKey("incidentkit-httpservice"); err == nil {
			if err = evidence.SaveSigningKey(keyPath, key); errors.Is(err, os.ErrExist) {
				key, err = evidence.LoadSigningKey(keyPath)
			}
		}
	}
	if err != nil {
		return fail(err)
	}
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: key})
	if err != nil {
		return fail(err)
	}
	blobs, err := evidence.NewDirBlobs(filepath.Join(o.data, "evidence"))
	if err != nil {
		return fail(err)
	}
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	if err != nil {
		return fail(err)
	}
	rcfg.Store, rcfg.Evidence, rcfg.AtomicCustody = store, locker, true
	r, err := ir.NewResponder(rcfg)
	if err != nil {
		return fail(err)
	}
	return &backend{responder: r, locker: locker, blobs: blobs, store: store, outbox: store, deliveries: store,
		close: func(ctx context.Context) error {
			err := r.Shutdown(ctx)
			store.Close()
			return err
		}}, nil
}

// newDispatcher builds the dispatcher of the routing file: every channel
// it names is written to logger. No file routes nothing.
func newDispatcher(path string, b *backend, logger *slog.Logger) (*notify.Dispatcher, error) {
	var routing notify.Routing
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		routing, err = notify.LoadRouting(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	router, err := notify.NewRouter(routing)
	if err != nil {
		return nil, err
	}
	channels := map[string]notify.Notifier{}
	for _, c := range routing.Channels {
		channels[c.Name] = notify.LogNotifier{Logger: logger.With("channel", c.Name)}
	}
	return notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: b.outbox, Deliveries: b.deliveries, Router: router, Channels: channels, Logger: logger,
		OnDead: func(ctx context.Context, d notify.Delivery, _ error) error {
			_, err := b.responder.RecordNotificationFailed(ctx, dispatcherActor, d)
			return err
		},
	})
}

// run serves until ctx ends (SIGINT or SIGTERM), then lets the requests
// under way finish, stops the dispatcher and closes the store.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return err
	}
	tokensPath := o.tokens
	if tokensPath == "" {
		tokensPath = filepath.Join(o.data, "tokens.json")
	}
	var entries []TokenEntry
	var created bool
	if o.tokens == "" {
		entries, created, err = EnsureTokens(tokensPath)
	} else {
		entries, err = LoadTokens(tokensPath)
	}
	if err != nil {
		return err
	}
	auth, err := NewAuth(entries)
	if err != nil {
		return fmt.Errorf("%s: %w", tokensPath, err)
	}
	// The dispatcher records dead deliveries on the timelines as a
	// service actor of its own, which no token authenticates.
	if err := auth.grant(dispatcherActor.ID, RoleResponder); err != nil {
		return fmt.Errorf("%s: %w", tokensPath, err)
	}

	model := phases.SANS
	b, err := openBackend(ctx, o, ir.Config{Model: model, Policy: auth.Policy(model), Outbox: true, Logger: logger})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
		defer cancel()
		if err := b.close(cctx); err != nil {
			logger.Error("closing the store", "err", err)
		}
	}()
	dispatcher, err := newDispatcher(o.routing, b, logger)
	if err != nil {
		return err
	}
	defer dispatcher.Close()

	svc, err := NewService(Config{Responder: b.responder, Auth: auth, Locker: b.locker, Blobs: b.blobs,
		Deliveries: b.deliveries, Dispatcher: dispatcher, Logger: logger, MaxBody: o.maxBody, MaxEvidence: o.maxEvidence})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           svc.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Evidence uploads and bundle downloads may take long; JSON
		// requests have their own 30 s limit.
		ReadTimeout:  time.Hour,
		WriteTimeout: time.Hour,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	var running sync.WaitGroup
	dctx, stopDispatcher := context.WithCancel(context.Background())
	defer func() { stopDispatcher(); running.Wait() }()
	running.Go(func() { _ = dispatcher.Run(dctx) })

	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "incidentkit HTTP API on %s (data in %s; API description at %s/openapi.json)\n", base, o.data, base)
	if created {
		fmt.Fprintf(stdout, "made %s with a token for each role; as the incident commander:\n  export TOKEN=%s\n  curl -H \"Authorization: Bearer $TOKEN\" %s/v1/incidents\n",
			tokensPath, entries[0].Token, base)
	} else {
		fmt.Fprintf(stdout, "tokens in %s; for the incident commander's:\n  export TOKEN=$(jq -r '.[] | select(.role==\"commander\") | .token' %s | head -1)\n", tokensPath, tokensPath)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return nil
}

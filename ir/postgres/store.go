package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
)

// DefaultSchema is the schema a [Store] keeps its tables in when
// [Config.Schema] is empty.
const DefaultSchema = "incidentkit"

// maxIdentifier is the longest identifier PostgreSQL keeps whole
// (NAMEDATALEN - 1); longer ones are cut, and two schema names could then
// name the same schema.
const maxIdentifier = 63

// Config configures a [Store]. The zero value is ready to use.
type Config struct {
	// Schema is the PostgreSQL schema that holds the store's tables; it is
	// created if missing. Empty means [DefaultSchema]. Service instances
	// that share incidents use the same schema; unrelated deployments in
	// one database use different ones. At most 63 bytes, no NUL.
	Schema string
	// Clock tells the time of outbox leases, due times and creation
	// times. Nil means the database server's clock (its statement
	// time), which every instance sharing a schema reads alike, so that
	// an instance whose own clock runs ahead cannot take claims others
	// still hold. Set it for tests, or when all instances share one
	// clock.
	Clock ir.Clock
}

// Store keeps incidents, their timelines, the evidence custody logs of
// their cases and an outbox of messages in one PostgreSQL schema, so that an
// incident change, its timeline events, its custody records and its outbox
// messages commit in one transaction. It implements ir.Store, notify.Outbox and
// evidence.LedgerStore.
//
// Any number of Stores, in any number of processes, may share one schema:
// incident writes are checked by version, custody appends are serialised
// on a per-case head row, and outbox claims skip rows another claimer holds.
// A Store is safe for concurrent use. It starts no goroutines of its own
// (the connection pool of [Open] runs its health checks until [Store.Close]).
type Store struct {
	pool     *pgxpool.Pool
	ownsPool bool
	// clock is nil when the outbox reads the server's time.
	clock  ir.Clock
	schema string
	// channel is the NOTIFY channel of the schema's outbox.
	channel string
	q       queries
}

var (
	_ ir.Store             = (*Store)(nil)
	_ ir.OutboxStore       = (*Store)(nil)
	_ evidence.LedgerStore = (*Store)(nil)
	_ evidence.HeadReader  = (*Store)(nil)
)

// Open connects to the database dsn names (a PostgreSQL URL or keyword/value
// connection string, as pgxpool.ParseConfig reads it), brings the schema up
// to date and returns a Store on its own connection pool, which
// [Store.Close] closes.
func Open(ctx context.Context, dsn string, cfg Config) (*Store, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s, err := New(ctx, pool, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownsPool = true
	return s, nil
}

// New returns a Store on the caller's connection pool, after bringing the
// schema up to date. [Store.Close] leaves the pool open.
//
// Opening a schema created by a newer version of this package fails with
// an error matching [ErrSchemaTooNew]; opening a schema that holds tables
// but was not created by this package fails with one matching
// [ErrForeignSchema]. Concurrent openers, in any process, apply each
// migration exactly once.
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("postgres: new store: nil pool: %w", ir.ErrInvalid)
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	schema := cfg.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	s := &Store{
		pool:    pool,
		clock:   cfg.Clock,
		schema:  schema,
		channel: channelName(schema),
		q:       newQueries(pgx.Identifier{schema}.Sanitize()),
	}
	if err := migrate(ctx, pool, schema); err != nil {
		return nil, err
	}
	return s, nil
}

// check validates cfg.
func (cfg Config) check() error {
	if len(cfg.Schema) > maxIdentifier || strings.ContainsRune(cfg.Schema, 0) {
		return &ir.InvalidError{Field: "schema", Value: cfg.Schema, Reason: "must be at most 63 bytes, without NUL"}
	}
	return nil
}

// Close releases the Store: it closes the connection pool if [Open] made it.
// The Store must not be used afterwards.
func (s *Store) Close() {
	if s.ownsPool {
		s.pool.Close()
	}
}

// Schema returns the name of the schema the Store keeps its tables in.
func (s *Store) Schema() string { return s.schema }

// schemaKey derives the advisory lock key of a schema's migrations.
func schemaKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("incidentkit/postgres/migrate/" + schema))
	return int64(h.Sum64())
}

// channelName derives the NOTIFY channel of a schema's outbox: a fixed
// prefix and a hash of the schema name, so that it fits an identifier
// whatever the schema's length.
func channelName(schema string) string {
	h := fnv.New64a()
	h.Write([]byte(schema))
	return fmt.Sprintf("incidentkit_outbox_%016x", h.Sum64())
}

// ctxErr returns a wrapped context error if ctx has ended.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return nil
}

// wrap prefixes err with op and, when the cause was ctx ending, makes
// sure the result matches the context's error, since the driver reports
// an interrupted query in its own words.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("postgres: %s: %w (%w)", op, cerr, err)
	}
	if lostRace(err) {
		return fmt.Errorf("postgres: %s: %w (%w) (%w)", op, err, ir.ErrConflict, evidence.ErrConflict)
	}
	if badText(err) {
		return fmt.Errorf("postgres: %s: %w (%w) (%w)", op, err, ir.ErrInvalid, evidence.ErrInvalid)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// rollbackTimeout bounds how long rolling back a transaction the caller
// gave up on may take: on a dead connection, pgx closes it when the
// rollback's context ends.
const rollbackTimeout = 5 * time.Second

// rollback rolls tx back, if it is still open, within rollbackTimeout even
// when ctx has ended.
func rollback(ctx context.Context, tx pgx.Tx) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(rctx)
}

// now returns the time the outbox works from as a statement parameter:
// the Store's clock's, to the microsecond, or nil when the statement reads
// the server's own time.
func (s *Store) now() any {
	if s.clock == nil {
		return nil
	}
	return s.clock.Now().Truncate(time.Microsecond)
}

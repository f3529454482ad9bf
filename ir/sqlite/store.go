package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	// The driver registers itself with database/sql as "sqlite3".
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
)

// Defaults of [Config].
const (
	// DefaultMaxConns is the number of reading connections when
	// [Config.MaxConns] is zero.
	DefaultMaxConns = 4
	// DefaultBusyTimeout is how long a write waits for another process's
	// write to finish when [Config.BusyTimeout] is zero.
	DefaultBusyTimeout = 10 * time.Second
)

// Config configures a [Store]. The zero value is ready to use.
type Config struct {
	// Clock tells the time of outbox leases, due times and creation
	// times. Nil means ir.SystemClock. Processes sharing a file should
	// read the same time, since claim leases are compared across them.
	Clock ir.Clock
	// MaxConns bounds the connections that read at the same time; zero
	// means [DefaultMaxConns]. Writes go through one more connection of
	// their own: SQLite lets one writer at a time commit anyway, and
	// queuing writers in the process is fairer and cheaper than having
	// them poll the file lock.
	MaxConns int
	// BusyTimeout is how long a write waits for the file's write lock
	// while another process holds it, before failing with an error
	// matching ir.ErrConflict; zero means [DefaultBusyTimeout]. At least
	// a millisecond.
	BusyTimeout time.Duration
}

// check validates cfg and fills in its defaults.
func (cfg Config) check() (Config, error) {
	if cfg.MaxConns < 0 {
		return Config{}, &ir.InvalidError{Field: "max conns", Value: strconv.Itoa(cfg.MaxConns), Reason: "must not be negative"}
	}
	if cfg.BusyTimeout < 0 || (cfg.BusyTimeout > 0 && cfg.BusyTimeout < time.Millisecond) {
		return Config{}, &ir.InvalidError{Field: "busy timeout", Value: cfg.BusyTimeout.String(), Reason: "must be zero or at least 1ms"}
	}
	if cfg.Clock == nil {
		cfg.Clock = ir.SystemClock
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.BusyTimeout == 0 {
		cfg.BusyTimeout = DefaultBusyTimeout
	}
	return cfg, nil
}

// Store keeps incidents, their timelines, the evidence custody logs of their
// cases and an outbox of messages in one SQLite file, so that an incident
// change, its timeline events, its custody records and its outbox messages
// commit in one transaction. It implements ir.Store, notify.Outbox,
// notify.Deliveries, notify.Quieter and evidence.LedgerStore.
//
// A Store is safe for concurrent use. Several Stores, in one process or in
// several, may open the same file: every write is an immediate transaction
// that holds the file's write lock from its first statement, so writers
// follow one another, and readers never wait for them (the file is in WAL
// mode). A Store starts no goroutines of its own; [Store.Close] releases
// its connections.
type Store struct {
	path  string
	clock ir.Clock
	// w is the pool of the one writing connection; r that of the
	// reading ones.
	w, r *sql.DB
	q    statements
	// wusers counts the writes under way or waiting for the writing
	// connection, and a read using that connection, so that a read takes
	// the connection only when no write wants it.
	wusers atomic.Int64
	// born is when the Store was opened, and wlast how long after it
	// the writing connection was last let go, so that [Store.Quiet]
	// measures quiet on the monotonic clock.
	born  time.Time
	wlast atomic.Int64
	// cols remembers the indexed columns of incidents read or written
	// last, so that most updates need not read them again.
	cols columnCache
	// raw holds the statements prepared on the driver's writing
	// connection; only the holder of that connection uses them.
	raw rawStatements
}

var (
	_ ir.Store             = (*Store)(nil)
	_ ir.OutboxStore       = (*Store)(nil)
	_ evidence.LedgerStore = (*Store)(nil)
	_ evidence.HeadReader  = (*Store)(nil)
	_ notify.Quieter       = (*Store)(nil)
)

// Open opens the store in the SQLite file at path, creating the file and its
// parent directory if missing, and brings its schema up to date.
//
// A new database file is created readable and writable by its owner alone
// (mode 0600), and a missing parent directory with mode 0700, whatever the
// umask and the mode of the directory it is in. The write-ahead log and
// shared-memory files SQLite keeps beside the database (path-wal and
// path-shm) get the database file's permissions, as SQLite gives them on
// its own; one found more open than the database is tightened to match.
//
// Opening a file whose schema a newer version of this package made fails
// with an error matching [ErrSchemaTooNew]; a database holding tables that
// this package did not create, with one matching [ErrForeignSchema]; a file
// that is not an SQLite database, or a damaged one, with one matching
// [ErrCorrupt]. A file refused for any of these reasons is left as it was,
// byte for byte, with no journal or log file beside it. Concurrent
// openers, in any process, apply each migration exactly once.
func Open(ctx context.Context, path string, cfg Config) (*Store, error) {
	cfg, err := cfg.check()
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, &ir.InvalidError{Field: "path", Reason: "must name the database file"}
	}
	if err := ctxErr(ctx, "open"); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := checkFile(abs); err != nil {
		return nil, err
	}
	if err := inspect(ctx, abs, cfg.BusyTimeout); err != nil {
		return nil, err
	}
	if err := prepareFiles(abs); err != nil {
		return nil, err
	}
	s := &Store{path: abs, clock: cfg.Clock, born: time.Now()}
	if s.w, err = sql.Open("sqlite3", dsn(abs, cfg.BusyTimeout, true)); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := connect(ctx, s.w, cfg.BusyTimeout); err != nil {
		_ = s.w.Close()
		return nil, wrap(ctx, "open "+path, err)
	}
	if err := migrate(ctx, s.w); err != nil {
		_ = s.w.Close()
		return nil, err
	}
	if s.r, err = sql.Open("sqlite3", dsn(abs, cfg.BusyTimeout, false)); err != nil {
		_ = s.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(cfg.MaxConns)
	s.r.SetMaxIdleConns(cfg.MaxConns)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)
	if err := s.q.prepare(ctx, s.w, s.r); err != nil {
		_ = s.close()
		return nil, wrap(ctx, "open "+path, err)
	}
	// The write-ahead log and shared-memory files exist now, and stay
	// while the store's connections are open.
	if err := prepareFiles(abs); err != nil {
		_ = s.close()
		return nil, err
	}
	return s, nil
}

// connect makes the writer's connection, running its pragmas, and tries
// again while SQLite finds the file locked, for up to busy: switching a new
// file to WAL mode needs the file to itself, and SQLite refuses at once,
// without waiting on the busy timeout, while another opener holds it.
func connect(ctx context.Context, db *sql.DB, busy time.Duration) error {
	deadline := time.Now().Add(busy)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || !errors.Is(err, sqlite3.BUSY) || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// dsn returns the data source name of a connection to the file at path.
// Every connection the pools open runs the pragmas, so every one of them
// waits for locks, checks foreign keys and, for the writer, commits
// durably:
//
//   - busy_timeout comes first, so that the pragmas after it wait for a
//     lock another opener holds instead of failing;
//   - journal_mode=WAL lets readers run while a write commits, and is
//     recorded in the file, so readers need not set it;
//   - synchronous=FULL syncs the WAL on every commit. With NORMAL, a
//     commit survives a crash of the process but the last ones can be
//     lost when the machine loses power; a committed change, custody
//     record or outbox message must never be lost, so FULL it is;
//   - foreign_keys=ON makes SQLite check the schema's references;
//   - readers are query_only, so that nothing writes around the writer's
//     immediate transactions.
//
// The writer's transactions are immediate (_txlock): they take the write
// lock when they begin, so that a transaction that reads and then writes
// cannot fail half-way with "database is locked" when another process
// wrote in between; a deferred one would.
func dsn(path string, busy time.Duration, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	if writer {
		q.Add("_pragma", "journal_mode(wal)")
		q.Add("_pragma", "synchronous(full)")
	}
	q.Add("_pragma", "foreign_keys(on)")
	// SQLite creates the files beside the database (the write-ahead log,
	// a journal) with the database file's permissions.
	q.Add("modeof", path)
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(on)")
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Close releases the Store's connections. The Store must not be used
// afterwards.
func (s *Store) Close() error {
	// Let SQLite refresh the statistics its planner reads, as its
	// documentation advises before a connection closes; a failure costs
	// at most a slower plan, so it is not reported.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, _ = s.w.ExecContext(ctx, "PRAGMA optimize")
	cancel()
	return s.close()
}

func (s *Store) close() error {
	if s.raw.conn != nil {
		// The connection closes only once its statements are finalized.
		if conn, err := s.w.Conn(context.Background()); err == nil {
			_ = conn.Raw(func(any) error { s.raw.close(); return nil })
			_ = conn.Close()
		}
	}
	s.q.close()
	var errR error
	if s.r != nil {
		errR = s.r.Close()
	}
	if err := errors.Join(s.w.Close(), errR); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}

// wdone counts out a user of the writing connection, counted in by
// adding to wusers, and notes when it let the connection go.
func (s *Store) wdone() {
	s.wlast.Store(int64(time.Since(s.born)))
	s.wusers.Add(-1)
}

// Quiet implements notify.Quieter: it returns once no write has been under
// way or waiting on the Store for d, or with ctx's error when ctx ends
// first. SQLite commits one write at a time, so a notification dispatcher
// that waits for it before each pass keeps its transactions out of the way
// of the incident changes. It measures quiet in this process alone: the
// writes of other processes sharing the file are not seen.
func (s *Store) Quiet(ctx context.Context, d time.Duration) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait := d
		if s.wusers.Load() == 0 {
			idle := time.Since(s.born) - time.Duration(s.wlast.Load())
			if idle >= d {
				return nil
			}
			wait = d - idle
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Path returns the absolute path of the Store's database file.
func (s *Store) Path() string { return s.path }

// write runs f in an immediate transaction on the writing connection and
// commits it, or rolls it back if f or the commit fails or ctx ends first.
func (s *Store) write(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	if err := ctxErr(ctx, op); err != nil {
		return err
	}
	s.wusers.Add(1)
	defer s.wdone()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, op, noSpace(s.path, err))
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return s.diskFull(err)
	}
	if err := tx.Commit(); err != nil {
		return wrap(ctx, op+": commit", noSpace(s.path, err))
	}
	return nil
}

// writeRaw runs f in an immediate transaction on the driver's writing
// connection directly, and commits it, or rolls it back if f or the
// commit fails or ctx ends first; it reports errors as [Store.write] does.
func (s *Store) writeRaw(ctx context.Context, op string, f func(q *rawStatements) error) error {
	if err := ctxErr(ctx, op); err != nil {
		return err
	}
	s.wusers.Add(1)
	defer s.wdone()
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer func() { _ = conn.Close() }() // hands the connection back; it fails only if already handed back
	var werr error
	err = conn.Raw(func(dc any) error {
		c := dc.(driver.Conn).Raw()
		// The driver interrupts a statement when ctx ends; so do these.
		defer c.SetInterrupt(c.SetInterrupt(ctx))
		q := s.raw.on(c)
		begin, err := q.prepared(&q.begin, "BEGIN IMMEDIATE")
		if err == nil {
			err = begin.Exec()
		}
		if err != nil {
			werr = wrap(ctx, op, noSpace(s.path, err))
			return nil
		}
		if err := f(q); err != nil {
			q.rollBack()
			werr = s.diskFull(err)
			return nil
		}
		commit, err := q.prepared(&q.commit, "COMMIT")
		if err == nil {
			err = commit.Exec()
		}
		if err != nil {
			if !c.GetAutocommit() {
				q.rollBack()
			}
			werr = wrap(ctx, op+": commit", noSpace(s.path, err))
		}
		return nil
	})
	if err != nil {
		return wrap(ctx, op, err)
	}
	return werr
}

// rollBack rolls back the transaction on the connection, even if the
// connection's context ended, as the driver does.
func (q *rawStatements) rollBack() {
	c := q.conn
	defer c.SetInterrupt(c.SetInterrupt(context.Background()))
	if st, err := q.prepared(&q.rollback, "ROLLBACK"); err == nil {
		_ = st.Exec() // fails only if nothing is left to roll back
	}
}

// exec runs the change's statement i with args, and returns the number
// of rows it changed.
func (q *rawStatements) exec(i int, args []arg) (int64, error) {
	st, err := q.stmt(i)
	if err != nil {
		return 0, err
	}
	for i, a := range args {
		switch a.kind {
		case argText:
			err = st.BindText(i+1, a.s)
		case argInt:
			err = st.BindInt64(i+1, a.i)
		case argBlob:
			err = st.BindBlob(i+1, a.b)
		}
		if err != nil {
			return 0, err
		}
	}
	if err := st.Exec(); err != nil {
		return 0, err
	}
	return q.conn.Changes(), nil
}

// readIndexed reads the version and indexed columns of incident id; the
// version of a missing incident is 0.
func (q *rawStatements) readIndexed(id string) (indexed, error) {
	st, err := q.stmt(stReadIncident)
	if err != nil {
		return indexed{}, err
	}
	if err := st.BindText(1, id); err != nil {
		return indexed{}, err
	}
	var v indexed
	if st.Step() {
		v.scanRaw(st)
	}
	return v, st.Reset()
}

// diskFull returns err, an error a write's statements returned, saying so
// when it failed for want of space (see [noSpace]).
func (s *Store) diskFull(err error) error {
	tagged := noSpace(s.path, err)
	if tagged == err {
		return err
	}
	return fmt.Errorf("%w (disk full)", tagged)
}

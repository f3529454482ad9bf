package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/incidentkit/incidentkit/internal/migration"
)

// migrationFiles holds the schema migrations, named NNNN_name.sql and
// numbered from 0001 without gaps.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable records the migrations applied to a database. Its name also
// marks the database as this package's.
const versionTable = "incidentkit_schema_version"

// migrations returns the embedded migrations in order.
func migrations() ([]migration.Migration, error) {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return ms, nil
}

// SchemaVersion is the schema version this package migrates to: the number
// of its migrations.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate brings the database up to date in one immediate transaction: it
// holds the file's write lock from its start, so concurrent openers in any
// process queue up, apply each migration exactly once, and none sees a
// half-made schema.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, "migrate", err)
	}
	defer func() { _ = tx.Rollback() }()
	current, err := schemaState(ctx, tx)
	if err != nil {
		return err
	}
	if err := checkVersion(current, len(ms)); err != nil {
		return err
	}
	if current == len(ms) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+versionTable+` (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL)`); err != nil {
		return wrap(ctx, "migrate", err)
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return wrap(ctx, "migrate: "+m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+versionTable+" (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return wrap(ctx, "migrate: "+m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wrap(ctx, "migrate: commit", err)
	}
	return nil
}

// checkVersion refuses a schema at a version above known, the number of
// migrations this package has, with [ErrSchemaTooNew].
func checkVersion(current, known int) error {
	if current > known {
		return fmt.Errorf("sqlite: database schema is at version %d, this program knows %d: %w",
			current, known, ErrSchemaTooNew)
	}
	return nil
}

// inspect reads the schema of the existing database at path without
// changing the file, and refuses it, before anything is written to it,
// when [migrate] would: a database holding other tables with
// [ErrForeignSchema], one a newer version made with [ErrSchemaTooNew], a
// damaged one with [ErrCorrupt]. The writer's connection sets WAL mode,
// which rewrites the file's header, so it opens only a file that passed.
//
// The reading connection sets no journal mode and is query_only, and its
// transaction only reads: a file in rollback-journal mode is left as it
// was, byte for byte, with no journal beside it. A missing or empty file
// is a new database, and is not opened. migrate checks the schema again
// under the write lock, since another process may change it in between.
func inspect(ctx context.Context, path string, busy time.Duration) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && info.Size() == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", probeDSN(path, busy))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrap(ctx, "open "+path, err)
	}
	defer func() { _ = tx.Rollback() }()
	current, err := schemaState(ctx, tx)
	if err != nil {
		return err
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	return checkVersion(current, len(ms))
}

// probeDSN returns the data source name of the connection [inspect]
// reads the schema with: no journal mode, query_only.
func probeDSN(path string, busy time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "query_only(on)")
	q.Add("modeof", path)
	u := url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// schemaState returns the version the database is at: 0 if it is empty. A
// database with tables but no version table is refused with
// [ErrForeignSchema].
func schemaState(ctx context.Context, tx *sql.Tx) (int, error) {
	var hasVersions bool
	var tables int
	err := tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?),
			(SELECT count(*) FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\')`,
		versionTable).Scan(&hasVersions, &tables)
	if err != nil {
		return 0, wrap(ctx, "migrate: inspect schema", err)
	}
	if !hasVersions {
		if tables > 0 {
			return 0, fmt.Errorf("sqlite: database has tables (%d, with views) but no %s table: %w",
				tables, versionTable, ErrForeignSchema)
		}
		return 0, nil
	}
	var v int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM "+versionTable).Scan(&v); err != nil {
		return 0, wrap(ctx, "migrate: read schema version", err)
	}
	return v, nil
}

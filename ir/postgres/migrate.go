package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/incidentkit/incidentkit/internal/migration"
)

// migrationFiles holds the schema migrations, named NNNN_name.sql and
// numbered from 0001 without gaps. They name tables without a schema: they
// run with the search path set, for their transaction only, to the
// store's schema.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable records the migrations applied to a schema. Its name also
// marks the schema as this package's.
const versionTable = "incidentkit_schema_version"

// migrations returns the embedded migrations in order.
func migrations() ([]migration.Migration, error) {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
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

// migrate brings schema up to date in one transaction, holding an advisory
// lock derived from the schema's name, so that concurrent openers in any
// process apply each migration exactly once and none sees a half-made
// schema.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return wrap(ctx, "migrate", err)
	}
	defer rollback(ctx, tx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", schemaKey(schema)); err != nil {
		return wrap(ctx, "migrate: lock", err)
	}
	current, err := schemaState(ctx, tx, schema)
	if err != nil {
		return err
	}
	if current > len(ms) {
		return fmt.Errorf("postgres: schema %q is at version %d, this program knows %d: %w",
			schema, current, len(ms), ErrSchemaTooNew)
	}
	if current == len(ms) {
		return nil
	}
	q := pgx.Identifier{schema}.Sanitize()
	for _, stmt := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + q,
		"SET LOCAL search_path TO " + q,
		"CREATE TABLE IF NOT EXISTS " + versionTable + ` (
			version integer PRIMARY KEY,
			name text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`,
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return wrap(ctx, "migrate", err)
		}
	}
	for _, m := range ms[current:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return wrap(ctx, "migrate: "+m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+versionTable+" (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
			return wrap(ctx, "migrate: "+m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(ctx, "migrate: commit", err)
	}
	return nil
}

// schemaState returns the version schema is at: 0 if it does not exist or
// is empty. A schema with tables but no version table is refused with
// [ErrForeignSchema].
func schemaState(ctx context.Context, tx pgx.Tx, schema string) (int, error) {
	var hasVersions bool
	var tables int
	err := tx.QueryRow(ctx, `
		SELECT
			EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')),
			(SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))`,
		schema, versionTable).Scan(&hasVersions, &tables)
	if err != nil {
		return 0, wrap(ctx, "migrate: inspect schema", err)
	}
	if !hasVersions {
		if tables > 0 {
			return 0, fmt.Errorf("postgres: schema %q holds %d tables or views and no %s: %w",
				schema, tables, versionTable, ErrForeignSchema)
		}
		return 0, nil
	}
	var v int
	q := pgx.Identifier{schema, versionTable}.Sanitize()
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+q).Scan(&v); err != nil {
		return 0, wrap(ctx, "migrate: read schema version", err)
	}
	return v, nil
}

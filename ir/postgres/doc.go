// Package postgres is the durable store for many service instances sharing
// one PostgreSQL database: incidents, their timelines, the evidence custody
// logs of their cases and an outbox of notifications, in one schema, written
// together.
//
// [Open] connects with a DSN and owns its connection pool; [New] uses a
// pgxpool.Pool the program already has. Either brings the schema
// ([Config.Schema], "incidentkit" by default) up to date first, and refuses
// one made by a newer version of this package ([ErrSchemaTooNew]) or one
// that holds another application's tables ([ErrForeignSchema]):
//
//	store, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), postgres.Config{})
//	if err != nil { … }
//	defer store.Close()
//	r, err := ir.NewResponder(ir.Config{Store: store, Outbox: true})
//
// A [Store] plays three parts. As an ir.Store it keeps incidents with
// optimistic concurrency: each change names the version it follows, a stale
// one is refused with ir.ErrConflict, and the ir.Responder reads the
// incident again and retries, so instances never lose each other's
// updates. As an evidence.LedgerStore it keeps the custody logs of an
// evidence.Ledger; appends to a case lock the case's head row, so that
// writers in any process follow one another and a log never forks. As
// a notify.Outbox it hands messages to dispatchers with FOR UPDATE SKIP LOCKED,
// so that several share the work without two holding one message, and
// [Store.Wait] wakes them when messages arrive. Because the three are one
// database, [Store.Apply] writes an incident change, its timeline events,
// the custody records it carries (an evidence collected through the
// Responder) and its outbox messages in one transaction.
//
// Every statement names the schema explicitly; nothing depends on the
// search path of pooled connections. Migrations are SQL files embedded in
// the package, applied in one transaction under an advisory lock, so that
// instances starting together apply each once. Timelines and custody logs
// are append-only in the database too: triggers refuse updates, deletes and
// truncation of their tables.
//
// Incidents, events and evidence items are stored as the JSON that
// encoding/json writes, so their times come back to the nanosecond in the
// zone offset they were written with; the columns that listings filter on
// sit beside it. Outbox times are PostgreSQL timestamps, of microsecond
// precision: leases and due times are rounded up to the next microsecond,
// so that a claim never lapses early.
//
// The tests run against a real database when INCIDENTKIT_TEST_POSTGRES_DSN
// names one, each in a schema of its own, and skip otherwise.
package postgres

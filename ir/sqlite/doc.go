// Package sqlite is the embedded default store: incidents, their timelines,
// the evidence custody logs of their cases and an outbox of notifications,
// in one SQLite file, written together.
//
// [Open] opens (or creates) the file and brings its schema up to date; it
// refuses a file made by a newer version of this package
// ([ErrSchemaTooNew]), an SQLite database holding another application's
// tables ([ErrForeignSchema]), and a file that is not a database or is
// damaged ([ErrCorrupt]), and leaves a refused file as it was, byte for
// byte. A write that finds no space left fails with an error matching
// [ErrDiskFull], rolled back, and the store writes again once space is
// freed:
//
//	store, err := sqlite.Open(ctx, "/var/lib/incidentkit/incidentkit.db", sqlite.Config{})
//	if err != nil { … }
//	defer store.Close()
//	r, err := ir.NewResponder(ir.Config{Store: store, Outbox: true, Evidence: locker, AtomicCustody: true})
//
// [OpenDir] opens, in one call, everything a durable setup keeps in a
// directory: the store, a custody ledger on it, the evidence files and the
// key that signs custody checkpoints (made once, mode 0600), and returns a
// ready ir.Responder with what it opened. Everything it creates is its
// owner's alone (files 0600, directories 0700), even inside a directory
// others may read, and it refuses a directory others may write to or a key
// file others may read, saying how to fix it:
//
//	d, err := sqlite.OpenDir(ctx, "incidentkit-data", sqlite.DirConfig{})
//	if err != nil { … }
//	defer d.Close(ctx)
//	inc, err := d.Responder.Open(ctx, alice, ir.NewIncident{…})
//
// A [Store] plays three parts. As an ir.Store it keeps incidents with
// optimistic concurrency: each change names the version it follows, a stale
// one is refused with ir.ErrConflict, and the ir.Responder reads the
// incident again and retries, so writers never lose each other's updates.
// As an evidence.LedgerStore it keeps the custody logs of an
// evidence.Ledger: every append checks, under the file's write lock, that
// the log holds exactly the records it expects, so a log never forks. As
// a notify.Outbox it hands messages to dispatchers, each held by one claimer
// until acknowledged or its lease lapses. Because the three share one file,
// [Store.Apply] writes an incident change, its timeline events, the custody
// records it carries (evidence collected through a Responder with
// ir.Config.AtomicCustody, whose locker's ledger is on the same Store) and its outbox messages in one
// transaction.
//
// # Durability and concurrency
//
// The file is in WAL mode with synchronous=FULL: a change is on disk when
// Apply returns, and survives a crash of the process or of the machine. A
// new file is created mode 0600, and the write-ahead log and shared-memory
// files beside it get the file's permissions (see [Open]).
// Writes are immediate transactions on one connection per Store, so a
// transaction that reads and then writes never fails half-way because
// another process wrote in between; writers of several Stores or processes
// on one file wait for each other up to [Config.BusyTimeout]. Reads run on
// a pool of [Config.MaxConns] connections, never waiting for a write;
// [Store.Get] reads on the writing connection instead when it is idle,
// since that connection still holds the pages it wrote last.
//
// # Storage
//
// Incidents, events and evidence items are stored as the JSON encoding/json
// writes, so their times come back to the nanosecond in the zone offset
// they were written with. Beside each incident's JSON sit the columns that
// listings filter on: status, phase, severity, opening time, and a labels
// table. The index on (open, phase, severity, id) serves the listing a
// console shows most, open incidents of given phases and severities newest
// first, in ID order without sorting, and the counts of open incidents.
// Timelines and custody logs are append-only in the file too: triggers
// refuse updates and deletes of their rows. Migrations are SQL files
// embedded in the package, applied in one immediate transaction, so
// processes starting together apply each once.
package sqlite

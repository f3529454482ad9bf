package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "store.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	open := irtest.OpenChange(irtest.Incident("INC-000001").Build())
	require.NoError(t, st.Apply(ctx, open))
	require.NoError(t, st.Close())

	st = openStore(t, path, sqlite.Config{})
	got, err := st.Get(ctx, "INC-000001")
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Version)
	var applied int
	require.NoError(t, sqlite.DB(st).QueryRow("SELECT count(*) FROM incidentkit_schema_version").Scan(&applied))
	assert.Equal(t, sqlite.SchemaVersion(), applied, "reopening applies nothing again")
}

func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	_, err = sqlite.DB(st).Exec("INSERT INTO incidentkit_schema_version (version, name, applied_at) VALUES (?, 'future.sql', '')",
		sqlite.SchemaVersion()+1)
	require.NoError(t, err)
	require.NoError(t, st.Close())

	_, err = sqlite.Open(ctx, path, sqlite.Config{})
	require.ErrorIs(t, err, sqlite.ErrSchemaTooNew)
	assert.Contains(t, err.Error(), fmt.Sprintf("version %d", sqlite.SchemaVersion()+1))
}

// rawDB writes the SQLite file at path with statements, through the same
// driver, outside any Store.
func rawDB(t *testing.T, path string, statements ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	for _, s := range statements {
		_, err := db.Exec(s)
		require.NoError(t, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	tests := []struct {
		name string
		// make writes the file at path.
		make func(t *testing.T, path string)
		want error
	}{
		{"RandomBytes", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, random(64<<10), 0o600))
		}, sqlite.ErrCorrupt},
		{"ShortRandomBytes", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, random(10), 0o600))
		}, sqlite.ErrCorrupt},
		{"TextFile", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("incident,severity\nINC-1,high\n"), 0o600))
		}, sqlite.ErrCorrupt},
		{"Truncated", func(t *testing.T, path string) {
			seedFile(t, path, 300)
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, info.Size()/2))
		}, sqlite.ErrCorrupt},
		{"TruncatedOnPage", func(t *testing.T, path string) {
			seedFile(t, path, 300)
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, info.Size()/4096/2*4096))
		}, sqlite.ErrCorrupt},
		{"OverwrittenSchema", func(t *testing.T, path string) {
			seedFile(t, path, 300)
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			require.NoError(t, err)
			// Page 1 beyond the header holds the schema table.
			_, err = f.WriteAt(random(4096-100), 100)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, sqlite.ErrCorrupt},
		{"ForeignTables", func(t *testing.T, path string) {
			rawDB(t, path, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users (name) VALUES ('alice')")
		}, sqlite.ErrForeignSchema},
		{"ForeignView", func(t *testing.T, path string) {
			rawDB(t, path, "CREATE VIEW answer AS SELECT 42")
		}, sqlite.ErrForeignSchema},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "store.db")
			tc.make(t, path)
			var err error
			require.NotPanics(t, func() {
				var st *sqlite.Store
				st, err = sqlite.Open(context.Background(), path, sqlite.Config{})
				if err == nil {
					_ = st.Close()
				}
			})
			require.ErrorIs(t, err, tc.want)
			t.Log(err)
		})
	}
}

// seedFile makes a store at path holding n incidents, and closes it.
func seedFile(t *testing.T, path string, n int) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	changes := make([]ir.Change, n)
	for i := range changes {
		changes[i] = irtest.OpenChange(irtest.Incident(ir.ID(fmt.Sprintf("INC-%06d", i))).
			Title(fmt.Sprintf("Incident number %d with a title long enough to fill pages", i)).Build())
	}
	require.NoError(t, sqlite.ApplyAll(ctx, st, changes))
	require.NoError(t, st.Close())
	_, err = os.Stat(path + "-wal")
	require.ErrorIs(t, err, os.ErrNotExist, "closing the store checkpoints and removes the log")
}

func TestOpenInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for name, open := range map[string]func() error{
		"no path": func() error { _, err := sqlite.Open(ctx, "", sqlite.Config{}); return err },
		"negative conns": func() error {
			_, err := sqlite.Open(ctx, filepath.Join(dir, "a.db"), sqlite.Config{MaxConns: -1})
			return err
		},
		"negative timeout": func() error {
			_, err := sqlite.Open(ctx, filepath.Join(dir, "b.db"), sqlite.Config{BusyTimeout: -1})
			return err
		},
		"microsecond limit": func() error {
			_, err := sqlite.Open(ctx, filepath.Join(dir, "c.db"), sqlite.Config{BusyTimeout: 1000})
			return err
		},
	} {
		assert.ErrorIs(t, open(), ir.ErrInvalid, name)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := sqlite.Open(canceled, filepath.Join(dir, "d.db"), sqlite.Config{})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = sqlite.Open(ctx, dir, sqlite.Config{})
	assert.Error(t, err, "a directory is no database file")
}

// TestRefusedFileIsLeftAsItWas opens files Open refuses and checks each is
// left byte for byte as it was, with no journal, log or shared-memory file
// beside it: the refusal is decided before anything is written.
func TestRefusedFileIsLeftAsItWas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		make func(t *testing.T, path string)
		want error
	}{
		{"ForeignRollbackJournal", func(t *testing.T, path string) {
			rawDB(t, path, "PRAGMA journal_mode=DELETE",
				"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users (name) VALUES ('alice')")
		}, sqlite.ErrForeignSchema},
		{"ForeignWAL", func(t *testing.T, path string) {
			rawDB(t, path, "PRAGMA journal_mode=WAL",
				"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users (name) VALUES ('alice')")
		}, sqlite.ErrForeignSchema},
		{"SchemaTooNew", func(t *testing.T, path string) {
			seedFile(t, path, 3)
			rawDB(t, path, fmt.Sprintf("INSERT INTO incidentkit_schema_version (version, name, applied_at) VALUES (%d, 'future.sql', '')",
				sqlite.SchemaVersion()+1))
		}, sqlite.ErrSchemaTooNew},
		{"OverwrittenSchema", func(t *testing.T, path string) {
			rawDB(t, path, "PRAGMA journal_mode=DELETE", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt(bytes.Repeat([]byte{0xA5}, 4096-100), 100)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}, sqlite.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "other.db")
			tc.make(t, path)
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, []string{"other.db"}, dirNames(t, dir), "the file is alone before opening")

			_, err = sqlite.Open(context.Background(), path, sqlite.Config{})
			require.ErrorIs(t, err, tc.want)

			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(before, after), "the refused file is unchanged")
			assert.Equal(t, []string{"other.db"}, dirNames(t, dir), "no journal, log or shared memory is left")
		})
	}
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// countedChanges returns changes opening incidents of several severities
// and phases, some closed, some moved on to another phase.
func countedChanges() []ir.Change {
	sevs := []ir.Severity{ir.SeverityLow, ir.SeverityMedium, ir.SeverityHigh, ir.SeverityCritical}
	ps := []phases.Phase{phases.Identification, phases.Containment, phases.Eradication}
	var changes []ir.Change
	for i := range 30 {
		b := irtest.Incident(ir.ID(fmt.Sprintf("INC-%06d", i))).Severity(sevs[i%4]).Phase(ps[i%3]).
			Labels(fmt.Sprintf("team-%d", i%5))
		if i%5 == 0 {
			b = b.Closed(irtest.Epoch.Add(time.Hour))
		}
		open := irtest.OpenChange(b.Build())
		changes = append(changes, open)
		if i%4 == 1 {
			next := irtest.NextChange(open.Incident, &ir.PhaseChanged{Action: phases.Contain, From: ps[i%3], To: phases.Containment})
			next.Incident.Phase = phases.Containment
			changes = append(changes, next)
		}
	}
	return changes
}

// TestMigrationCountsStoredIncidents takes a file back to the schema before
// open counts were kept, and checks that migrating it counts the incidents
// already stored, and that later changes keep counting.
func TestMigrationCountsStoredIncidents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	mem := ir.NewMemoryStore()
	changes := countedChanges()
	for _, ch := range changes {
		require.NoError(t, st.Apply(ctx, ch))
		require.NoError(t, mem.Apply(ctx, ch))
	}
	require.NoError(t, st.Close())
	rawDB(t, path, listsInDocuments...)
	rawDB(t, path,
		"DROP TRIGGER incidents_count_insert",
		"DROP TRIGGER incidents_count_update",
		"DROP TABLE open_counts",
		"DELETE FROM incidentkit_schema_version WHERE name = '0002_open_counts.sql'")

	st = openStore(t, path, sqlite.Config{})
	want, err := mem.CountOpen(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, want)
	got, err := st.CountOpen(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got, "the incidents stored before the migration are counted")

	last := changes[len(changes)-1].Incident
	closing := irtest.NextChange(last)
	closing.Incident.Times.Closed = closing.Incident.UpdatedAt
	require.NoError(t, st.Apply(ctx, closing))
	require.NoError(t, mem.Apply(ctx, closing))
	want, err = mem.CountOpen(ctx)
	require.NoError(t, err)
	got, err = st.CountOpen(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got, "changes after the migration are counted")
}

// listsInDocuments takes a file back to the schema before the incidents'
// observables and tasks had tables of their own: it puts them back in
// the incidents' documents.
var listsInDocuments = append(slices.Clone(noDeliveries),
	`UPDATE incidents SET doc = json_set(doc,
		'$.observables', json((SELECT '[' || group_concat(doc, ',') || ']' FROM
			(SELECT doc FROM incident_observables WHERE incident_id = incidents.id ORDER BY pos))),
		'$.tasks', json((SELECT '[' || group_concat(doc, ',') || ']' FROM
			(SELECT doc FROM incident_tasks WHERE incident_id = incidents.id ORDER BY pos))))
	WHERE observable_count > 0 OR task_count > 0`,
	// json_set with a NULL value writes null: an empty list is left out.
	`UPDATE incidents SET doc = json_remove(doc, '$.observables') WHERE json_type(doc, '$.observables') = 'null'`,
	`UPDATE incidents SET doc = json_remove(doc, '$.tasks') WHERE json_type(doc, '$.tasks') = 'null'`,
	"DROP TABLE incident_observables",
	"DROP TABLE incident_tasks",
	"ALTER TABLE incidents DROP COLUMN observable_count",
	"ALTER TABLE incidents DROP COLUMN task_count",
	"DELETE FROM incidentkit_schema_version WHERE name = '0003_incident_lists.sql'",
)

// fatDeliveries takes a file back to the schema whose deliveries had an
// AUTOINCREMENT id, a unique (outbox_id, channel) and an index of the
// pending ones in outbox order.
var fatDeliveries = []string{
	`CREATE TABLE deliveries_fat (
		id             INTEGER PRIMARY KEY AUTOINCREMENT,
		outbox_id      INTEGER NOT NULL,
		key            TEXT NOT NULL,
		incident_id    TEXT NOT NULL,
		type           TEXT NOT NULL,
		channel        TEXT NOT NULL,
		route          TEXT NOT NULL,
		audience       TEXT NOT NULL,
		payload        BLOB NOT NULL,
		status         TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'held')),
		attempts       INTEGER NOT NULL DEFAULT 0,
		created_at     TEXT NOT NULL,
		next_at        INTEGER NOT NULL,
		updated_at     INTEGER NOT NULL,
		claimed_by     TEXT,
		claimed_until  INTEGER,
		last_error     TEXT NOT NULL DEFAULT '',
		receipt_id     TEXT NOT NULL DEFAULT '',
		receipt_status INTEGER NOT NULL DEFAULT 0,
		UNIQUE (outbox_id, channel)
	)`,
	"INSERT INTO deliveries_fat SELECT * FROM deliveries",
	"DROP TABLE deliveries",
	"ALTER TABLE deliveries_fat RENAME TO deliveries",
	"CREATE INDEX deliveries_pending ON deliveries (incident_id, channel, outbox_id) WHERE status = 'pending'",
	"CREATE INDEX deliveries_due ON deliveries (outbox_id, id) WHERE status = 'pending'",
	"CREATE INDEX deliveries_incident ON deliveries (incident_id, outbox_id)",
	"CREATE INDEX deliveries_dead ON deliveries (channel, id) WHERE status = 'dead'",
	"DELETE FROM incidentkit_schema_version WHERE name = '0006_lean_deliveries.sql'",
}

// noClockDue takes a file back to the schema before the clock due times
// were indexed.
var noClockDue = append(slices.Clone(fatDeliveries),
	"DROP INDEX incidents_clock_due",
	"DELETE FROM incidentkit_schema_version WHERE name = '0005_clock_due.sql'",
)

// noDeliveries takes a file back to the schema before deliveries were
// kept.
var noDeliveries = append(slices.Clone(noClockDue),
	"DROP TABLE deliveries",
	"DROP INDEX outbox_incident",
	"DELETE FROM incidentkit_schema_version WHERE name = '0004_deliveries.sql'",
)

// TestMigrationKeepsDeliveries takes a file with deliveries back to the
// schema before they were lean, and checks that after the migration they
// are all there, as they were, and that new ones get new IDs.
func TestMigrationKeepsDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	w := irtest.OutboxStore(st)
	const inc = "INC-000001"
	for i := range 3 {
		require.NoError(t, w.Write(ctx, []notify.OutboxMessage{{Key: fmt.Sprintf("%s/%d", inc, i+1), Incident: inc,
			Type: "note_added", Payload: []byte("{}")}}))
	}
	got, err := st.Claim(ctx, "d", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 3)
	for _, e := range got[:2] {
		require.NoError(t, st.FanOut(ctx, "d", e.ID, []notify.DeliveryTarget{{Channel: "a"}, {Channel: "b", Held: true}}))
	}
	ds, err := st.ClaimDeliveries(ctx, "d", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.NoError(t, st.Delivered(ctx, "d", ds[0].ID, notify.Receipt{ID: "r-1", Status: 200}))
	before, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	require.Len(t, before, 4)
	require.NoError(t, st.Close())
	rawDB(t, path, fatDeliveries...)

	st = openStore(t, path, sqlite.Config{})
	after, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the migration changed the deliveries")
	require.NoError(t, st.FanOut(ctx, "d", got[2].ID, []notify.DeliveryTarget{{Channel: "a"}}))
	ds, err = st.ClaimDeliveries(ctx, "d", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, ds, 1, "the pending delivery is not due after the migration")
	assert.Equal(t, before[2].ID, ds[0].ID)
	all, err := st.IncidentDeliveries(ctx, inc)
	require.NoError(t, err)
	require.Len(t, all, 5)
	assert.Greater(t, all[4].ID, before[3].ID, "a new delivery reused an ID")
}

// TestMigrationKeepsOutbox takes a file with a message in its outbox back
// to the schema before deliveries were kept, and checks that after the
// migration the message is claimed, fanned out and delivered.
func TestMigrationKeepsOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	msg := notify.OutboxMessage{Key: "INC-000001/1/0", Incident: "INC-000001", Type: "incident_opened", Payload: []byte("{}")}
	require.NoError(t, irtest.OutboxStore(st).Write(ctx, []notify.OutboxMessage{msg}))
	require.NoError(t, st.Close())
	rawDB(t, path, noDeliveries...)

	st = openStore(t, path, sqlite.Config{})
	got, err := st.Claim(ctx, "d", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.NoError(t, st.FanOut(ctx, "d", got[0].ID, []notify.DeliveryTarget{{Channel: "log"}}))
	ds, err := st.ClaimDeliveries(ctx, "d", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, msg.Key, ds[0].Key)
	require.NoError(t, st.Delivered(ctx, "d", ds[0].ID, notify.Receipt{ID: "r"}))
}

// TestMigrationMovesLists takes a file back to the schema that kept the
// incidents' observables and tasks in their documents, and checks that
// migrating it moves them to their tables: every incident reads as it did,
// and later changes that name the entries they touch build on them.
func TestMigrationMovesLists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	mem := ir.NewMemoryStore()
	var last []*ir.Incident
	for i := range 5 {
		open := irtest.OpenChange(irtest.Incident(ir.ID(fmt.Sprintf("INC-%06d", i))).With(func(inc *ir.Incident) {
			for j := range i * 3 {
				inc.Observables = append(inc.Observables, ir.Observable{Type: ir.ObservableIP,
					Value: fmt.Sprintf("192.0.2.%d", j), AddedAt: irtest.Epoch, AddedBy: irtest.Analyst})
			}
			for j := range i {
				inc.Tasks = append(inc.Tasks, ir.Task{ID: j + 1, Title: fmt.Sprintf("Task %d", j+1),
					Phase: phases.Identification, AddedAt: irtest.Epoch, AddedBy: irtest.Analyst})
			}
		}).Build())
		require.NoError(t, st.Apply(ctx, open))
		require.NoError(t, mem.Apply(ctx, open))
		last = append(last, open.Incident)
	}
	require.NoError(t, st.Close())
	rawDB(t, path, listsInDocuments...)

	st = openStore(t, path, sqlite.Config{})
	for _, inc := range last {
		got, err := st.Get(ctx, inc.ID)
		require.NoError(t, err)
		assert.Equal(t, len(inc.Observables), len(got.Observables), "observables of %s", inc.ID)
		assert.Equal(t, len(inc.Tasks), len(got.Tasks), "tasks of %s", inc.ID)
		want, err := mem.Get(ctx, inc.ID)
		require.NoError(t, err)
		assert.Equal(t, want.Observables, got.Observables)
		assert.Equal(t, want.Tasks, got.Tasks)

		next := irtest.ListChange(inc, []ir.Observable{{Type: ir.ObservableDomain, Value: "evil.example",
			AddedAt: irtest.Epoch, AddedBy: irtest.Analyst}}, nil, 1)
		require.NoError(t, st.Apply(ctx, next))
		require.NoError(t, mem.Apply(ctx, next))
		want, err = mem.Get(ctx, inc.ID)
		require.NoError(t, err)
		got, err = st.Get(ctx, inc.ID)
		require.NoError(t, err)
		assert.Equal(t, want.Observables, got.Observables)
		assert.Equal(t, want.Tasks, got.Tasks)
	}
}

// TestMigrationIndexesClockDue takes a file back to the schema before the
// clock due times were indexed and opens it: the index is made, and the
// incidents stored before are found by it.
func TestMigrationIndexesClockDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	due := time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)
	inc := irtest.Incident("INC-000001").Build()
	inc.ClockDue = due
	require.NoError(t, st.Apply(ctx, irtest.OpenChange(inc)))
	require.NoError(t, st.Close())
	rawDB(t, path, noClockDue...)

	st = openStore(t, path, sqlite.Config{})
	ids, err := st.DueClocks(ctx, due, 10)
	require.NoError(t, err)
	assert.Equal(t, []ir.ID{"INC-000001"}, ids)
	ids, err = st.DueClocks(ctx, due.Add(-time.Second), 10)
	require.NoError(t, err)
	assert.Empty(t, ids)
}

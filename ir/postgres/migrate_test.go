package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/postgres"
	"github.com/incidentkit/incidentkit/phases"
)

func TestConcurrentOpenersMigrateOnce(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	schema := testSchema(t)
	ctx := t.Context()
	const openers = 8
	stores := make([]*postgres.Store, openers)
	errs := make([]error, openers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range openers {
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				stores[i], errs[i] = postgres.Open(ctx, dsn, postgres.Config{Schema: schema})
			} else {
				stores[i], errs[i] = postgres.New(ctx, testPool(t), postgres.Config{Schema: schema})
			}
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "opener %d", i)
		defer stores[i].Close()
	}

	var n, maxVersion int
	err := testPool(t).QueryRow(ctx, "SELECT count(*), max(version) FROM "+
		pgx.Identifier{schema, "incidentkit_schema_version"}.Sanitize()).Scan(&n, &maxVersion)
	require.NoError(t, err)
	assert.Equal(t, postgres.SchemaVersion(), n, "each migration applied once")
	assert.Equal(t, postgres.SchemaVersion(), maxVersion)

	// Every opener works on the same tables.
	open := irtest.OpenChange(irtest.Incident("INC-000001").Build())
	require.NoError(t, stores[0].Apply(ctx, open))
	for i, st := range stores {
		got, err := st.Get(ctx, "INC-000001")
		require.NoError(t, err, "store %d", i)
		assert.Equal(t, int64(1), got.Version)
	}
}

func TestOpenRefusesForeignSchema(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	schema := testSchema(t)
	ctx := t.Context()
	q := pgx.Identifier{schema}.Sanitize()
	_, err := pool.Exec(ctx, "CREATE SCHEMA "+q+"; CREATE TABLE "+q+".invoices (id bigint PRIMARY KEY, total numeric)")
	require.NoError(t, err)

	_, err = postgres.New(ctx, pool, postgres.Config{Schema: schema})
	require.ErrorIs(t, err, postgres.ErrForeignSchema)
	_, err = postgres.Open(ctx, testDSN(t), postgres.Config{Schema: schema})
	require.ErrorIs(t, err, postgres.ErrForeignSchema)

	var tables int
	require.NoError(t, pool.QueryRow(ctx,
		"SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = $1", schema).Scan(&tables))
	assert.Equal(t, 1, tables, "the foreign schema was left as it was")
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	schema := testSchema(t)
	ctx := t.Context()
	st, err := postgres.New(ctx, pool, postgres.Config{Schema: schema})
	require.NoError(t, err)
	st.Close()
	_, err = pool.Exec(ctx, "INSERT INTO "+pgx.Identifier{schema, "incidentkit_schema_version"}.Sanitize()+
		" (version, name) VALUES ($1, 'from_the_future.sql')", postgres.SchemaVersion()+1)
	require.NoError(t, err)

	_, err = postgres.New(ctx, pool, postgres.Config{Schema: schema})
	require.ErrorIs(t, err, postgres.ErrSchemaTooNew)
	_, err = postgres.Open(ctx, testDSN(t), postgres.Config{Schema: schema})
	require.ErrorIs(t, err, postgres.ErrSchemaTooNew)
}

func TestOpenReopensSchema(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	ctx := t.Context()
	st, err := postgres.Open(ctx, testDSN(t), postgres.Config{Schema: schema})
	require.NoError(t, err)
	open := irtest.OpenChange(irtest.Incident("INC-000001").Build())
	require.NoError(t, st.Apply(ctx, open))
	st.Close()

	st, err = postgres.Open(ctx, testDSN(t), postgres.Config{Schema: schema})
	require.NoError(t, err)
	defer st.Close()
	got, err := st.Get(ctx, "INC-000001")
	require.NoError(t, err)
	assert.Equal(t, open.Incident.Title, got.Title)
	assert.Equal(t, schema, st.Schema())
}

func TestOpenRefusesBadConfig(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	ctx := t.Context()
	long := string(make([]byte, 64))
	for _, schema := range []string{"with\x00nul", long} {
		_, err := postgres.Open(ctx, dsn, postgres.Config{Schema: schema})
		require.ErrorIs(t, err, ir.ErrInvalid, "schema %q", schema)
	}
	_, err := postgres.New(ctx, nil, postgres.Config{})
	require.ErrorIs(t, err, ir.ErrInvalid, "no pool")
	_, err = postgres.Open(ctx, "postgres://%zz", postgres.Config{})
	require.Error(t, err, "a DSN that does not parse")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = postgres.New(canceled, testPool(t), postgres.Config{Schema: testSchema(t)})
	require.ErrorIs(t, err, context.Canceled)
}

// countedChanges returns changes opening incidents of several severities,
// phases and labels, some closed, some moved on to another phase.
func countedChanges() []ir.Change {
	sevs := []ir.Severity{ir.SeverityLow, ir.SeverityMedium, ir.SeverityHigh, ir.SeverityCritical}
	ps := []phases.Phase{phases.Identification, phases.Containment, phases.Eradication}
	var changes []ir.Change
	for i := range 30 {
		b := irtest.Incident(ir.ID(fmt.Sprintf("INC-%06d", i))).Severity(sevs[i%4]).Phase(ps[i%3]).
			Labels(fmt.Sprintf("team-%d", i%5), "seed")
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

// TestMigrationIndexesStoredIncidents takes a schema back to before open
// counts and label rows were kept, and checks that migrating it counts and
// indexes the incidents already stored.
func TestMigrationIndexesStoredIncidents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testSchema(t)
	st, err := postgres.New(ctx, testPool(t), postgres.Config{Schema: schema})
	require.NoError(t, err)
	mem := ir.NewMemoryStore()
	for _, ch := range countedChanges() {
		require.NoError(t, st.Apply(ctx, ch))
		require.NoError(t, mem.Apply(ctx, ch))
	}
	st.Close()
	q := pgx.Identifier{schema}.Sanitize()
	for _, stmt := range append(listsInDocuments(q),
		"DROP TRIGGER incidents_keep_index_insert ON "+q+".incidents",
		"DROP TRIGGER incidents_keep_index_update ON "+q+".incidents",
		"DROP FUNCTION "+q+".incidents_keep_index()",
		"DROP TABLE "+q+".open_counts",
		"DROP TABLE "+q+".incident_labels",
		"DELETE FROM "+q+".incidentkit_schema_version WHERE name = '0002_counts_labels.sql'",
	) {
		_, err := testPool(t).Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}

	st, err = postgres.New(ctx, testPool(t), postgres.Config{Schema: schema})
	require.NoError(t, err)
	defer st.Close()
	want, err := mem.CountOpen(ctx)
	require.NoError(t, err)
	got, err := st.CountOpen(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got, "the incidents stored before the migration are counted")
	for _, labels := range [][]string{{"team-3"}, {"seed"}, {"seed", "team-1"}, {"team-1", "team-2"}} {
		q := ir.Query{Labels: labels, Limit: 7}
		assert.Equal(t, listIDs(t, mem, q), listIDs(t, st, q), "labels %v", labels)
	}
}

// listIDs lists every incident q selects in st, a page at a time.
func listIDs(t *testing.T, st ir.Store, q ir.Query) []ir.ID {
	t.Helper()
	var out []ir.ID
	for {
		page, err := st.List(t.Context(), q)
		require.NoError(t, err)
		for _, inc := range page.Incidents {
			out = append(out, inc.ID)
		}
		if page.Next == "" {
			return out
		}
		q.After = page.Next
	}
}

// listsInDocuments returns the statements that take schema q back to the
// layout that kept the incidents' observables and tasks in their
// documents: they are put back there.
func listsInDocuments(q string) []string {
	list := func(table, key string) string {
		return `coalesce((SELECT jsonb_build_object('` + key + `', jsonb_agg(e.doc::jsonb ORDER BY e.pos))
			FROM ` + q + `.` + table + ` e WHERE e.incident_id = i.id HAVING count(*) > 0), '{}')`
	}
	return []string{
		"DROP INDEX " + q + ".incidents_clock_due_idx",
		"DELETE FROM " + q + ".incidentkit_schema_version WHERE name = '0005_clock_due.sql'",
		"DROP TABLE " + q + ".deliveries",
		"DROP INDEX " + q + ".outbox_incident",
		"DELETE FROM " + q + ".incidentkit_schema_version WHERE name = '0004_deliveries.sql'",
		"UPDATE " + q + ".incidents i SET doc = (i.doc::jsonb || " + list("incident_observables", "observables") +
			" || " + list("incident_tasks", "tasks") + ")::json WHERE observable_count > 0 OR task_count > 0",
		"DROP TABLE " + q + ".incident_observables",
		"DROP TABLE " + q + ".incident_tasks",
		"ALTER TABLE " + q + ".incidents DROP COLUMN observable_count, DROP COLUMN task_count",
		"DELETE FROM " + q + ".incidentkit_schema_version WHERE name = '0003_incident_lists.sql'",
	}
}

// TestMigrationMovesLists takes a schema back to the layout that kept the
// incidents' observables and tasks in their documents, and checks that
// migrating it moves them to their tables: every incident reads as it did,
// and later changes that name the entries they touch build on them.
func TestMigrationMovesLists(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testSchema(t)
	st, err := postgres.New(ctx, testPool(t), postgres.Config{Schema: schema})
	require.NoError(t, err)
	mem := ir.NewMemoryStore()
	var opened []*ir.Incident
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
		opened = append(opened, open.Incident)
	}
	st.Close()
	for _, stmt := range listsInDocuments(pgx.Identifier{schema}.Sanitize()) {
		_, err := testPool(t).Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}

	st, err = postgres.New(ctx, testPool(t), postgres.Config{Schema: schema})
	require.NoError(t, err)
	defer st.Close()
	for _, inc := range opened {
		want, err := mem.Get(ctx, inc.ID)
		require.NoError(t, err)
		got, err := st.Get(ctx, inc.ID)
		require.NoError(t, err)
		assert.Len(t, got.Observables, len(inc.Observables), "observables of %s", inc.ID)
		assert.Len(t, got.Tasks, len(inc.Tasks), "tasks of %s", inc.ID)
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

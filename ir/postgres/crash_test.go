package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/postgres"
)

// crashSchemaEnv and crashDirEnv name the variables that make the test
// binary a crash child writing to a schema, with evidence content in a
// directory.
const (
	crashSchemaEnv = "INCIDENTKIT_PG_CRASH_SCHEMA"
	crashDirEnv    = "INCIDENTKIT_PG_CRASH_DIR"
)

// TestCrash kills a process writing to PostgreSQL with SIGKILL at random
// moments, again and again: the server rolls back what it had not
// committed, and every change the process reported committed, its custody
// records and its outbox messages must be there, whole.
func TestCrash(t *testing.T) {
	if os.Getenv(crashSchemaEnv) != "" {
		t.Skip("running as a crash child")
	}
	testDSN(t)
	schema := testSchema(t)
	dir := t.TempDir()
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	storetest.RunCrash(t, storetest.Crash{
		ChildTest: "TestCrashChild",
		Env:       []string{crashSchemaEnv + "=" + schema, crashDirEnv + "=" + dir},
		Rounds:    rounds,
		Open: func(t *testing.T) (storetest.Store, func()) {
			return newStoreInSchema(t, schema), func() {}
		},
		OutboxKeys: func(t *testing.T, _ storetest.Store, id ir.ID) []string {
			rows, err := testPool(t).Query(context.Background(),
				"SELECT key FROM "+pgx.Identifier{schema, "outbox"}.Sanitize()+" WHERE incident_id = $1 ORDER BY id", string(id))
			require.NoError(t, err)
			keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(t, err)
			return keys
		},
		BlobsDir: filepath.Join(dir, "blobs"),
		Key:      mpKey(t),
		Settle:   func(t *testing.T) { waitSessionsEnded(t, crashAppName(schema)) },
	})
}

// crashAppName is the application_name of the crash child's sessions, so
// that the checker can tell when the server has finished with them.
func crashAppName(schema string) string { return "incidentkit-crash-" + schema }

// waitSessionsEnded waits until the server has no session named app. A
// killed client's last COMMIT may still be running on its backend; once
// the backend has ended, every transaction it committed is visible and
// none of the others can commit.
func waitSessionsEnded(t *testing.T, app string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		var n int
		err := testPool(t).QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n)
		require.NoError(t, err, "the killed child's sessions are still on the server")
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d sessions of the killed child still on the server", n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestCrashChild is the process TestCrash kills.
func TestCrashChild(t *testing.T) {
	schema := os.Getenv(crashSchemaEnv)
	if schema == "" {
		t.Skip("run by TestCrash")
	}
	cfg, err := pgxpool.ParseConfig(testDSN(t))
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["application_name"] = crashAppName(schema)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st, err := postgres.New(context.Background(), pool, postgres.Config{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	storetest.RunCrashChild(t, st, filepath.Join(os.Getenv(crashDirEnv), "blobs"), mpKey(t))
}

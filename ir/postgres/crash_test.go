package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir"
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
	})
}

// TestCrashChild is the process TestCrash kills.
func TestCrashChild(t *testing.T) {
	schema := os.Getenv(crashSchemaEnv)
	if schema == "" {
		t.Skip("run by TestCrash")
	}
	st := newStoreInSchema(t, schema)
	storetest.RunCrashChild(t, st, filepath.Join(os.Getenv(crashDirEnv), "blobs"), mpKey(t))
}

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// crashDirEnv names the variable that makes the test binary a crash child
// writing to the directory it holds.
const crashDirEnv = "INCIDENTKIT_SQLITE_CRASH_DIR"

// TestCrash kills a process writing to a store with SIGKILL at random
// moments, again and again, and after each kill opens the file and checks
// it: every change the process reported committed is there with its
// timeline events, every custody log verifies, and every event has its
// outbox message, exactly once.
func TestCrash(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("running as a crash child")
	}
	dir := t.TempDir()
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	key, _ := testKey(t)
	storetest.RunCrash(t, storetest.Crash{
		ChildTest: "TestCrashChild",
		Env:       []string{crashDirEnv + "=" + dir},
		Rounds:    rounds,
		Open: func(t *testing.T) (storetest.Store, func()) {
			st, err := sqlite.Open(context.Background(), filepath.Join(dir, "store.db"), sqlite.Config{})
			require.NoError(t, err)
			return st, func() { require.NoError(t, st.Close()) }
		},
		OutboxKeys: func(t *testing.T, st storetest.Store, id ir.ID) []string {
			rows, err := sqlite.DB(st.(*sqlite.Store)).QueryContext(context.Background(),
				"SELECT key FROM outbox WHERE incident_id = ? ORDER BY id", string(id))
			require.NoError(t, err)
			defer rows.Close()
			var keys []string
			for rows.Next() {
				var key string
				require.NoError(t, rows.Scan(&key))
				keys = append(keys, key)
			}
			require.NoError(t, rows.Err())
			return keys
		},
		BlobsDir: filepath.Join(dir, "blobs"),
		Key:      key,
	})
}

// TestCrashChild is the process TestCrash kills.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrash")
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "store.db"), sqlite.Config{})
	require.NoError(t, err)
	key, _ := testKey(t)
	storetest.RunCrashChild(t, st, filepath.Join(dir, "blobs"), key)
}

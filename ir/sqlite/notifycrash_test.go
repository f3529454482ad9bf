package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// notifyCrashDirEnv names the variable that makes the test binary a
// notification crash child writing to the directory it holds.
const notifyCrashDirEnv = "INCIDENTKIT_SQLITE_NOTIFY_CRASH_DIR"

// TestNotifyCrash kills a process that writes incidents and runs a
// dispatcher delivering their notifications to a webhook receiver with
// SIGKILL at random moments, again and again: every committed event
// reaches the receiver at least once, every copy of one event carries the
// same webhook-id, and each incident's events arrive in order.
func TestNotifyCrash(t *testing.T) {
	if os.Getenv(notifyCrashDirEnv) != "" {
		t.Skip("running as a crash child")
	}
	dir := t.TempDir()
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	storetest.RunNotifyCrash(t, storetest.NotifyCrash{
		ChildTest: "TestNotifyCrashChild",
		Env:       []string{notifyCrashDirEnv + "=" + dir},
		Rounds:    rounds,
		Open: func(t *testing.T) (storetest.NotifyStore, func()) {
			st, err := sqlite.Open(context.Background(), filepath.Join(dir, "store.db"), sqlite.Config{})
			require.NoError(t, err)
			return st, func() { require.NoError(t, st.Close()) }
		},
	})
}

// TestNotifyCrashChild is the process TestNotifyCrash kills.
func TestNotifyCrashChild(t *testing.T) {
	dir := os.Getenv(notifyCrashDirEnv)
	if dir == "" {
		t.Skip("run by TestNotifyCrash")
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "store.db"), sqlite.Config{})
	require.NoError(t, err)
	storetest.RunNotifyCrashChild(t, st)
}

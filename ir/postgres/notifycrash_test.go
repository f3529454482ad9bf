package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir/postgres"
)

// notifyCrashSchemaEnv names the variable that makes the test binary a
// notification crash child writing to the schema it holds.
const notifyCrashSchemaEnv = "INCIDENTKIT_PG_NOTIFY_CRASH_SCHEMA"

// TestNotifyCrash kills a process that writes incidents to PostgreSQL and
// runs a dispatcher delivering their notifications to a webhook receiver
// with SIGKILL at random moments, again and again: every committed event
// reaches the receiver at least once, every copy of one event carries the
// same webhook-id, and each incident's events arrive in order.
func TestNotifyCrash(t *testing.T) {
	if os.Getenv(notifyCrashSchemaEnv) != "" {
		t.Skip("running as a crash child")
	}
	testDSN(t)
	schema := testSchema(t)
	rounds := 10
	if testing.Short() {
		rounds = 4
	}
	storetest.RunNotifyCrash(t, storetest.NotifyCrash{
		ChildTest: "TestNotifyCrashChild",
		Env:       []string{notifyCrashSchemaEnv + "=" + schema},
		Rounds:    rounds,
		Open: func(t *testing.T) (storetest.NotifyStore, func()) {
			return newStoreInSchema(t, schema), func() {}
		},
		Settle: func(t *testing.T) { waitSessionsEnded(t, crashAppName(schema)) },
	})
}

// TestNotifyCrashChild is the process TestNotifyCrash kills.
func TestNotifyCrashChild(t *testing.T) {
	schema := os.Getenv(notifyCrashSchemaEnv)
	if schema == "" {
		t.Skip("run by TestNotifyCrash")
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
	storetest.RunNotifyCrashChild(t, st)
}

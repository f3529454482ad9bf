package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/evidencetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/postgres"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// dsnEnv names the environment variable that holds the DSN of the
// database the tests use.
const dsnEnv = "INCIDENTKIT_TEST_POSTGRES_DSN"

// testDSN returns the test database's DSN, or skips the test.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests need a database: set %s, for example "+
			"%s='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test ./ir/postgres/", dsnEnv, dsnEnv)
	}
	return dsn
}

// The tests share one connection pool, so that the many stores the
// parallel conformance suites make stay within the server's connection
// limit.
var (
	poolOnce   sync.Once
	sharedPool *pgxpool.Pool
	poolErr    error
)

func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := testDSN(t)
	poolOnce.Do(func() {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			poolErr = err
			return
		}
		cfg.MaxConns = 24
		sharedPool, poolErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	require.NoError(t, poolErr)
	return sharedPool
}

// TestMain closes the shared pool, so that no connection outlives the
// tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedPool != nil {
		sharedPool.Close()
	}
	os.Exit(code)
}

// testSchema returns a new schema name, dropped with everything in it when
// the test ends.
func testSchema(t testing.TB) string {
	t.Helper()
	pool := testPool(t)
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	schema := "ik_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// newStore returns a store on the shared pool, in a schema of its own.
func newStore(t testing.TB, clock ir.Clock) *postgres.Store {
	t.Helper()
	st, err := postgres.New(context.Background(), testPool(t), postgres.Config{Schema: testSchema(t), Clock: clock})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	return st
}

func TestStore(t *testing.T) {
	testDSN(t)
	irtest.TestStore(t, func(t *testing.T) ir.Store { return newStore(t, nil) })
}

func TestLedgerStore(t *testing.T) {
	testDSN(t)
	evidencetest.TestLedgerStore(t, func(t *testing.T) evidence.LedgerStore { return newStore(t, nil) })
}

func TestOutbox(t *testing.T) {
	testDSN(t)
	notifytest.TestOutbox(t, func(t *testing.T, clock *notifytest.Clock) notifytest.OutboxStore {
		return irtest.OutboxStore(newStore(t, clock))
	})
	irtest.TestOutboxChanges(t, func(t *testing.T) ir.OutboxStore { return newStore(t, nil) })
}

func TestDeliveries(t *testing.T) {
	testDSN(t)
	notifytest.TestDeliveries(t, func(t *testing.T, clock *notifytest.Clock) notifytest.DeliveryStore {
		st := newStore(t, clock)
		return notifytest.DeliveryStore{OutboxStore: irtest.OutboxStore(st), Deliveries: st}
	})
}

func TestChangeCustody(t *testing.T) {
	testDSN(t)
	irtest.TestChangeCustody(t, func(t *testing.T) irtest.CustodyStore { return newStore(t, nil) })
}

func TestDispatcher(t *testing.T) {
	testDSN(t)
	notifytest.TestDispatcher(t, func(t *testing.T, clock *notifytest.Clock) notifytest.DeliveryStore {
		st := newStore(t, clock)
		return notifytest.DeliveryStore{OutboxStore: irtest.OutboxStore(st), Deliveries: st}
	})
}

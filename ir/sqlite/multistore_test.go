package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
)

// testKey is a fixed signing key, so that every process and Store signs
// the custody checkpoints of a test with the same key.
func testKey(t testing.TB) (evidence.SigningKey, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 32)), "custody.sqlite.test")
	require.NoError(t, err)
	key, err := evidence.ParseSigningKey(skey)
	require.NoError(t, err)
	return key, vkey
}

// responderOn returns a Responder on st with an outbox and an evidence
// locker whose ledger keeps its custody logs in st too, so that collecting
// evidence writes one transaction. It is shut down when the test ends.
func responderOn(t testing.TB, st *sqlite.Store, key evidence.SigningKey, blobs evidence.BlobStore) (*ir.Responder, *evidence.Locker) {
	t.Helper()
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	require.NoError(t, err)
	r, err := ir.NewResponder(ir.Config{Store: st, Outbox: true, Evidence: locker, AtomicCustody: true, ConflictRetries: 1000})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r, locker
}

// TestTwoStoresOneFile runs writers on two Stores of one file, as two
// processes would: notes and evidence collections on one incident from
// both. None is lost, the custody log does not fork, and every event left
// its outbox message.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	key, _ := testKey(t)
	blobs := evidence.NewMemoryBlobs()
	stores := []*sqlite.Store{openStore(t, path, sqlite.Config{}), openStore(t, path, sqlite.Config{})}
	var responders []*ir.Responder
	var lockers []*evidence.Locker
	for _, st := range stores {
		r, l := responderOn(t, st, key, blobs)
		responders, lockers = append(responders, r), append(lockers, l)
	}
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	inc, err := responders[0].Open(ctx, alice, ir.NewIncident{Title: "Shared incident", Severity: ir.SeverityHigh})
	require.NoError(t, err)

	const perStore, each = 3, 6
	var wg sync.WaitGroup
	errs := make(chan error, 2*perStore)
	for i, r := range responders {
		for w := range perStore {
			wg.Go(func() {
				for n := range each {
					name := fmt.Sprintf("store %d writer %d change %d", i, w, n)
					var err error
					if n%2 == 0 {
						_, err = r.AddNote(ctx, alice, inc.ID, name)
					} else {
						_, err = r.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{
							Name: name + ".txt", Kind: evidence.KindLog, Content: strings.NewReader(name)})
					}
					if err != nil {
						errs <- fmt.Errorf("%s: %w", name, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	const changes = 2 * perStore * each
	for i, st := range stores {
		got, err := st.Get(ctx, inc.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(1+changes), got.Version, "version read through store %d", i)
		events, err := irtest.ReadTimeline(ctx, st, inc.ID)
		require.NoError(t, err)
		require.Len(t, events, 1+changes)
		for j, e := range events {
			assert.Equal(t, int64(j+1), e.Seq)
		}
		n, err := st.Size(ctx, inc.ID.Case())
		require.NoError(t, err)
		assert.Equal(t, int64(changes/2), n, "custody records read through store %d", i)
		rep, err := lockers[i].Verify(ctx, inc.ID.Case())
		require.NoError(t, err)
		require.NoError(t, rep.Err())
	}
	entries, err := stores[1].Claim(ctx, "dispatcher", 1000, notify.MinOutboxLease*100)
	require.NoError(t, err)
	assert.Len(t, entries, 1+changes, "one outbox message per event")
}

// TestConcurrentOpen opens one new file from many goroutines at once, each
// with a Store of its own: every one succeeds, and the migrations are
// applied once.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "dir", "new.db")
	const openers = 8
	stores := make([]*sqlite.Store, openers)
	errs := make([]error, openers)
	var wg sync.WaitGroup
	for i := range openers {
		wg.Go(func() { stores[i], errs[i] = sqlite.Open(context.Background(), path, sqlite.Config{}) })
	}
	wg.Wait()
	for i, st := range stores {
		require.NoError(t, errs[i], "opener %d", i)
		t.Cleanup(func() { require.NoError(t, st.Close()) })
	}
	var applied int
	require.NoError(t, sqlite.DB(stores[0]).QueryRow("SELECT count(*) FROM incidentkit_schema_version").Scan(&applied))
	assert.Equal(t, sqlite.SchemaVersion(), applied, "each migration is applied once")
}

package postgres_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/postgres"
	"github.com/incidentkit/incidentkit/phases"
)

// Environment of the writer processes TestMultiProcess starts.
const (
	mpRoleEnv      = "INCIDENTKIT_MP_ROLE"
	mpSchemaEnv    = "INCIDENTKIT_MP_SCHEMA"
	mpBlobsEnv     = "INCIDENTKIT_MP_BLOBS"
	mpIncidentsEnv = "INCIDENTKIT_MP_INCIDENTS"
	mpResultPrefix = "MULTIPROCESS RESULT "
)

// Shape of the multi-process workload.
const (
	mpIncidents = 5
	mpWorkers   = 3  // goroutines per writer process
	mpRounds    = 10 // passes of each goroutine over the incidents
)

// mpResult is what a writer process reports on its last line.
type mpResult struct {
	Role string `json:"role"`
	// Changes counts the changes written per incident; Events the
	// events they carried.
	Changes map[ir.ID]int64 `json:"changes"`
	Events  map[ir.ID]int64 `json:"events"`
	// Conflicts counts the writes refused as stale, then retried.
	Conflicts int64 `json:"conflicts"`
	// Custody counts the custody records appended per case.
	Custody map[ir.ID]int64 `json:"custody"`
}

// mpKey is the signing key every process's ledger uses, from a fixed
// seed, so that all checkpoints verify with one key.
func mpKey(t testing.TB) evidence.SigningKey {
	t.Helper()
	skey, _, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{42}, 32)), "custody.multiprocess.test")
	require.NoError(t, err)
	key, err := evidence.ParseSigningKey(skey)
	require.NoError(t, err)
	return key
}

// mpLocker returns an evidence locker whose custody logs are in st and
// whose blobs are in dir.
func mpLocker(t testing.TB, st *postgres.Store, dir string) *evidence.Locker {
	t.Helper()
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: mpKey(t)})
	require.NoError(t, err)
	blobs, err := evidence.NewDirBlobs(dir)
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	require.NoError(t, err)
	return locker
}

// TestMultiProcess runs two writer processes against one schema at once:
// both change the same incidents through a Responder and append custody
// records to the same cases. No update may be lost, and each case's custody
// log must be one verifiable log holding every record of both processes.
func TestMultiProcess(t *testing.T) {
	if os.Getenv(mpRoleEnv) != "" {
		t.Skip("running as a writer process")
	}
	dsn := testDSN(t)
	t.Parallel()
	ctx := t.Context()
	schema := testSchema(t)
	blobs := t.TempDir()
	st := newStoreInSchema(t, schema)
	locker := mpLocker(t, st, blobs)
	r, err := ir.NewResponder(ir.Config{Store: st, Evidence: locker, AtomicCustody: true})
	require.NoError(t, err)
	defer func() { assert.NoError(t, r.Shutdown(context.Background())) }()

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	var ids, spec []string
	start := make(map[ir.ID]*ir.Incident)
	for i := range mpIncidents {
		inc, err := r.Open(ctx, alice, ir.NewIncident{Title: fmt.Sprintf("Shared incident %d", i+1), Severity: ir.SeverityMedium})
		require.NoError(t, err)
		item, err := r.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{
			Name: fmt.Sprintf("host-%d.log", i+1), Content: strings.NewReader(fmt.Sprintf("log of host %d\n", i+1)),
		})
		require.NoError(t, err)
		// With a commander, the writers can move the incident around
		// the containment loop.
		inc, err = r.Assign(ctx, alice, inc.ID, ir.RoleCommander, alice)
		require.NoError(t, err)
		start[inc.ID] = inc
		ids = append(ids, string(inc.ID))
		spec = append(spec, string(inc.ID)+"="+string(item.ID))
	}

	// Both writers start together and run side by side.
	results := make([]mpResult, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for w := range results {
		role := fmt.Sprintf("writer-%d", w+1)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMultiProcessWriter$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(),
			dsnEnv+"="+dsn, mpRoleEnv+"="+role, mpSchemaEnv+"="+schema, mpBlobsEnv+"="+blobs,
			mpIncidentsEnv+"="+strings.Join(spec, ","))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start(), role)
		wg.Go(func() {
			if err := cmd.Wait(); err != nil {
				errs[w] = fmt.Errorf("%s: %w\n%s", role, err, out.String())
				return
			}
			results[w], errs[w] = parseResult(out.String())
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	var conflicts int64
	for _, res := range results {
		t.Logf("%s: %d conflicts, changes %v, custody %v", res.Role, res.Conflicts, res.Changes, res.Custody)
		conflicts += res.Conflicts
	}
	assert.Positive(t, conflicts, "the writers raced for the same incidents")

	for _, id := range ids {
		id := ir.ID(id)
		var changes, events, custody int64
		for _, res := range results {
			changes += res.Changes[id]
			events += res.Events[id]
			custody += res.Custody[id]
		}
		inc, err := st.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, start[id].Version+changes, inc.Version, "incident %s: no lost updates", id)
		tl, err := irtest.ReadTimeline(ctx, st, id)
		require.NoError(t, err)
		notes, moves := 0, 0
		for _, e := range tl {
			switch e.Type {
			case ir.EventNoteAdded:
				notes++
			case ir.EventPhaseChanged:
				moves++
			}
		}
		assert.Equal(t, 2*mpWorkers*((mpRounds+2)/3), notes, "incident %s: every note of both writers", id)
		assert.Equal(t, 2*mpWorkers*(mpRounds/3), moves, "incident %s: every transition of both writers", id)
		assert.Equal(t, int64(len(tl)), int64(countEventsUpTo(t, st, id, start[id].Version))+events,
			"incident %s: the timeline holds every event of every change", id)
		assert.Equal(t, inc.Version, tl[len(tl)-1].Version)

		c := id.Case()
		rep, err := locker.Verify(ctx, c)
		require.NoError(t, err)
		require.NoError(t, rep.Err(), "case %s verifies", id)
		assert.Equal(t, 1+custody, rep.Size, "case %s: the collected record and every appended one", id)
		assert.Equal(t, 1, rep.Items)
		_, err = locker.Ledger().Checkpoint(ctx, c)
		require.NoError(t, err)
		rep, err = locker.Ledger().Verify(ctx, c)
		require.NoError(t, err)
		require.NoError(t, rep.Err())
		items, err := st.Items(ctx, c)
		require.NoError(t, err)
		hist, err := locker.Ledger().History(ctx, c, items[0].ID)
		require.NoError(t, err)
		assert.Len(t, hist, int(1+custody), "case %s: one chain of links through every record", id)
	}
}

// countEventsUpTo counts the events of incident id up to version v.
func countEventsUpTo(t *testing.T, st *postgres.Store, id ir.ID, v int64) int {
	t.Helper()
	tl, err := irtest.ReadTimeline(t.Context(), st, id)
	require.NoError(t, err)
	n := 0
	for _, e := range tl {
		if e.Version <= v {
			n++
		}
	}
	return n
}

// parseResult finds the result line a writer process printed.
func parseResult(out string) (mpResult, error) {
	var last string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), mpResultPrefix) {
			last = strings.TrimPrefix(sc.Text(), mpResultPrefix)
		}
	}
	if last == "" {
		return mpResult{}, fmt.Errorf("no result line in the output of a writer:\n%s", out)
	}
	var res mpResult
	if err := json.Unmarshal([]byte(last), &res); err != nil {
		return mpResult{}, fmt.Errorf("result line %q: %w", last, err)
	}
	return res, nil
}

// countingStore counts the changes a Responder writes, and those refused
// as stale.
type countingStore struct {
	*postgres.Store
	mu        sync.Mutex
	changes   map[ir.ID]int64
	events    map[ir.ID]int64
	conflicts atomic.Int64
}

func (s *countingStore) Apply(ctx context.Context, ch ir.Change) error {
	err := s.Store.Apply(ctx, ch)
	switch {
	case err == nil:
		s.mu.Lock()
		s.changes[ch.Incident.ID]++
		s.events[ch.Incident.ID] += int64(len(ch.Events))
		s.mu.Unlock()
	case errors.Is(err, ir.ErrConflict):
		s.conflicts.Add(1)
	}
	return err
}

// TestMultiProcessWriter is one writer process of TestMultiProcess; it
// runs only when started by it.
func TestMultiProcessWriter(t *testing.T) {
	role := os.Getenv(mpRoleEnv)
	if role == "" {
		t.Skip("started by TestMultiProcess only")
	}
	ctx := t.Context()
	st, err := postgres.Open(ctx, testDSN(t), postgres.Config{Schema: os.Getenv(mpSchemaEnv)})
	require.NoError(t, err)
	defer st.Close()
	counting := &countingStore{Store: st, changes: make(map[ir.ID]int64), events: make(map[ir.ID]int64)}
	locker := mpLocker(t, st, os.Getenv(mpBlobsEnv))
	r, err := ir.NewResponder(ir.Config{Store: counting, ConflictRetries: 10000})
	require.NoError(t, err)
	defer func() { assert.NoError(t, r.Shutdown(context.Background())) }()

	type target struct {
		id   ir.ID
		item evidence.ItemID
	}
	var targets []target
	for _, kv := range strings.Split(os.Getenv(mpIncidentsEnv), ",") {
		id, item, _ := strings.Cut(kv, "=")
		targets = append(targets, target{ir.ID(id), evidence.ItemID(item)})
	}
	actor := ir.Actor{ID: role, Name: "Responder " + role, Kind: ir.ActorService}
	party := evidence.Party{ID: role, Name: "Responder " + role}
	severities := []ir.Severity{ir.SeverityLow, ir.SeverityHigh, ir.SeverityCritical}
	loop := []phases.Action{phases.Identify, phases.Contain, phases.Eradicate, phases.Recover, phases.ReturnToContainment}

	var (
		mu      sync.Mutex
		custody = make(map[ir.ID]int64)
		wg      sync.WaitGroup
		errs    = make([]error, mpWorkers)
	)
	for w := range mpWorkers {
		wg.Go(func() {
			for round := range mpRounds {
				for _, tg := range targets {
					var err error
					switch round % 3 {
					case 0:
						_, err = r.AddNote(ctx, actor, tg.id, fmt.Sprintf("%s worker %d round %d", role, w, round))
					case 1:
						_, err = r.SetSeverity(ctx, actor, tg.id, severities[(w+round)%len(severities)], role)
					default:
						// Whichever phase the other writers left it in,
						// one of these moves it on; the others are refused
						// and change nothing.
						// Others may move it between two tries, so go
						// round again until one move is made.
						err = phases.ErrInvalidTransition
						for pass := 0; pass < 100 && errors.Is(err, phases.ErrInvalidTransition); pass++ {
							for _, a := range loop {
								_, err = r.Transition(ctx, actor, tg.id, a, role)
								if !errors.Is(err, phases.ErrInvalidTransition) {
									break
								}
							}
						}
					}
					if err != nil {
						errs[w] = err
						return
					}
					_, err = locker.Record(ctx, evidence.Record{Case: tg.id.Case(), Item: tg.item,
						Action: evidence.ActionAccessed, Actor: party, Reason: fmt.Sprintf("worker %d round %d", w, round)})
					if err != nil {
						errs[w] = err
						return
					}
					mu.Lock()
					custody[tg.id]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		require.NoError(t, err, "worker %d", w)
	}
	res := mpResult{Role: role, Changes: counting.changes, Events: counting.events,
		Conflicts: counting.conflicts.Load(), Custody: custody}
	line, err := json.Marshal(res)
	require.NoError(t, err)
	fmt.Println(mpResultPrefix + string(line))
}

// newStoreInSchema returns a store on the shared pool in schema.
func newStoreInSchema(t testing.TB, schema string) *postgres.Store {
	t.Helper()
	st, err := postgres.New(context.Background(), testPool(t), postgres.Config{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	return st
}

package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
)

// crashDirEnv names the variable that makes the test binary a crash child
// writing to the directory it holds.
const crashDirEnv = "INCIDENTKIT_SQLITE_CRASH_DIR"

// TestCrash kills a process writing to a store with SIGKILL at random
// moments, again and again, and after each kill checks the file: every
// change the process reported committed is there with its timeline
// events, every custody log verifies, and every event has its outbox
// message, exactly once.
func TestCrash(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("running as a crash child")
	}
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	dir := t.TempDir()
	reported := make(map[ir.ID]int64)              // highest version reported
	collected := make(map[ir.ID][]evidence.ItemID) // items reported
	changes := 0
	for round := range rounds {
		lines := runCrashChild(t, dir, time.Duration(10+rand.IntN(240))*time.Millisecond)
		for _, line := range lines {
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "committed":
				v, err := strconv.ParseInt(f[2], 10, 64)
				require.NoError(t, err, "line %q", line)
				reported[ir.ID(f[1])] = max(reported[ir.ID(f[1])], v)
				changes++
			case len(f) == 3 && f[0] == "collected":
				collected[ir.ID(f[1])] = append(collected[ir.ID(f[1])], evidence.ItemID(f[2]))
			}
		}
		checkAfterCrash(t, dir, round, reported, collected)
	}
	t.Logf("%d rounds, %d changes to %d incidents reported committed", rounds, changes, len(reported))
}

// runCrashChild starts the crash child on dir, kills it after it has
// written for about d, and returns the complete lines it printed.
func runCrashChild(t *testing.T, dir string, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		rd := bufio.NewReader(out)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return // a line cut by the kill is not a report
			}
			lines <- strings.TrimSuffix(line, "\n")
		}
	}()
	var got []string
	ready := false
	timeout := time.After(30 * time.Second)
	for !ready {
		select {
		case line, ok := <-lines:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("the crash child ended before it was ready: %v", got)
			}
			got = append(got, line)
			ready = line == "ready"
		case <-timeout:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatal("the crash child did not get ready")
		}
	}
	time.Sleep(d)
	require.NoError(t, cmd.Process.Signal(os.Kill))
	for line := range lines {
		got = append(got, line)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the child was killed, not %v", err)
	return got
}

// checkAfterCrash opens the store the crash child left and checks it.
func checkAfterCrash(t *testing.T, dir string, round int, reported map[ir.ID]int64, collected map[ir.ID][]evidence.ItemID) {
	t.Helper()
	ctx := context.Background()
	st := openStore(t, filepath.Join(dir, "store.db"), sqlite.Config{})
	defer func() { require.NoError(t, st.Close()) }()
	key, _ := testKey(t)
	blobs, err := evidence.NewDirBlobs(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	require.NoError(t, err)

	for id, v := range reported {
		inc, err := st.Get(ctx, id)
		require.NoError(t, err, "round %d: incident %s reported at version %d", round, id, v)
		require.GreaterOrEqual(t, inc.Version, v, "round %d: incident %s", round, id)
	}
	for id, items := range collected {
		for _, item := range items {
			_, err := st.Item(ctx, ir.CaseID(id), item)
			require.NoError(t, err, "round %d: item %s of %s", round, item, id)
		}
	}
	var page ir.Page
	for first := true; first || page.Next != ""; first = false {
		page, err = st.List(ctx, ir.Query{After: page.Next, Limit: ir.MaxPageSize})
		require.NoError(t, err)
		for _, inc := range page.Incidents {
			checkIncidentAfterCrash(t, st, locker, inc)
		}
	}
}

// checkIncidentAfterCrash checks that inc's timeline is whole, that each
// of its events has exactly one outbox message, and that its custody log
// verifies.
func checkIncidentAfterCrash(t *testing.T, st *sqlite.Store, locker *evidence.Locker, inc *ir.Incident) {
	t.Helper()
	ctx := context.Background()
	events, err := st.Timeline(ctx, inc.ID)
	require.NoError(t, err)
	var want []string
	n := 0
	for i, e := range events {
		require.Equal(t, int64(i+1), e.Seq)
		if i > 0 && e.Version == events[i-1].Version {
			n++
		} else {
			n = 1
		}
		want = append(want, fmt.Sprintf("%s/%d/%d", inc.ID, e.Version, n))
	}
	require.Equal(t, inc.Version, events[len(events)-1].Version, "the timeline of %s ends with its latest change", inc.ID)

	rows, err := sqlite.DB(st).QueryContext(ctx, "SELECT key FROM outbox WHERE incident_id = ? ORDER BY id", string(inc.ID))
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var key string
		require.NoError(t, rows.Scan(&key))
		got = append(got, key)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	assert.Equal(t, want, got, "one outbox message per event of %s, in order", inc.ID)

	c := ir.CaseID(inc.ID)
	n64, err := st.Size(ctx, c)
	require.NoError(t, err)
	if n64 == 0 {
		return
	}
	rep, err := locker.Verify(ctx, c)
	require.NoError(t, err)
	require.NoError(t, rep.Err(), "custody log of %s", inc.ID)
	items, err := st.Items(ctx, c)
	require.NoError(t, err)
	assert.Len(t, items, len(inc.Evidence), "every item collected is linked to %s, and only those", inc.ID)
}

// TestCrashChild is the process TestCrash kills: it writes changes of
// every kind through a Responder, printing each one it committed, until
// it is killed (or a minute has passed, should its parent be gone).
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrash")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "store.db"), sqlite.Config{})
	require.NoError(t, err)
	key, _ := testKey(t)
	blobs, err := evidence.NewDirBlobs(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	r, locker := responderOn(t, st, key, blobs)
	out := bufio.NewWriter(os.Stdout)
	report := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		require.NoError(t, out.Flush())
	}
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.Human}

	var ids []ir.ID
	page, err := st.List(ctx, ir.Query{Status: ir.StatusOpen, Limit: 20})
	require.NoError(t, err)
	for _, inc := range page.Incidents {
		ids = append(ids, inc.ID)
	}
	report("ready")
	cycle := []phases.Action{phases.Identify, phases.Contain, phases.Eradicate, phases.Recover, phases.ReturnToContainment}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if len(ids) < 3 || rand.IntN(10) == 0 {
			inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Crash test incident", Severity: ir.SeverityHigh})
			require.NoError(t, err)
			report("committed %s %d", inc.ID, inc.Version)
			inc, err = r.Assign(ctx, alice, inc.ID, ir.RoleCommander, alice)
			require.NoError(t, err)
			report("committed %s %d", inc.ID, inc.Version)
			ids = append(ids, inc.ID)
			continue
		}
		id := ids[rand.IntN(len(ids))]
		switch rand.IntN(3) {
		case 0:
			inc, err := r.AddNote(ctx, alice, id, "still looking")
			require.NoError(t, err)
			report("committed %s %d", inc.ID, inc.Version)
		case 1:
			inc, err := r.Transition(ctx, alice, id, cycle[rand.IntN(len(cycle))], "moving on")
			if errors.Is(err, phases.ErrInvalidTransition) || errors.Is(err, phases.ErrGuardFailed) {
				continue
			}
			require.NoError(t, err)
			report("committed %s %d", inc.ID, inc.Version)
		case 2:
			content := fmt.Sprintf("log lines of %s at %s", id, time.Now().Format(time.RFC3339Nano))
			item, err := r.CollectEvidence(ctx, alice, id, evidence.Collection{Name: "auth.log", Kind: evidence.KindLog,
				Content: io.LimitReader(strings.NewReader(content), 1<<20)})
			require.NoError(t, err)
			inc, err := st.Get(ctx, id)
			require.NoError(t, err)
			report("collected %s %s", id, item.ID)
			report("committed %s %d", inc.ID, inc.Version)
			if rand.IntN(3) == 0 {
				_, err := locker.Ledger().Checkpoint(ctx, ir.CaseID(id))
				require.NoError(t, err)
			}
		}
	}
}

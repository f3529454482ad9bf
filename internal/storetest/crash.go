// Package storetest holds test machinery the durable stores share: a crash
// test that kills a writing process at random moments and checks what it
// left.
package storetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Store is a store that keeps incidents, custody logs and an outbox
// together, as the durable stores do.
type Store interface {
	ir.Store
	notify.Outbox
	evidence.LedgerStore
}

// Crash configures [RunCrash].
type Crash struct {
	// ChildTest names the test function that calls [RunCrashChild]; Env
	// is added to its environment, and must make that test run.
	ChildTest string
	Env       []string
	// Rounds is how many times the child is started and killed.
	Rounds int
	// Open opens the store the child wrote, for checking; the store is
	// closed with t.Cleanup or by close.
	Open func(t *testing.T) (st Store, close func())
	// OutboxKeys returns the keys of the incident's outbox messages in
	// st (a store Open returned) in the order they were written, without
	// claiming them.
	OutboxKeys func(t *testing.T, st Store, id ir.ID) []string
	// BlobsDir holds the evidence content, and Key signs checkpoints, for
	// child and checks alike.
	BlobsDir string
	Key      evidence.SigningKey
	// Settle, if set, is called after each kill, before the store is
	// checked, and returns once nothing the killed child started can still
	// change the store. A database server may commit the child's last
	// transaction after the child is gone: checking before its session has
	// ended could see an incident without the events that commit adds.
	Settle func(t *testing.T)
}

// RunCrash kills a process writing to a store with SIGKILL at random
// moments, again and again, and after each kill checks the store: every
// change the process reported committed is there with its timeline
// events, every custody log verifies, and every event has its outbox
// message, exactly once.
func RunCrash(t *testing.T, c Crash) {
	reported := make(map[ir.ID]int64)              // highest version reported
	collected := make(map[ir.ID][]evidence.ItemID) // items reported
	changes := 0
	for round := range c.Rounds {
		lines := runChild(t, c, time.Duration(10+rand.IntN(240))*time.Millisecond)
		if c.Settle != nil {
			c.Settle(t)
		}
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
		checkAfterCrash(t, c, round, reported, collected)
	}
	t.Logf("%d rounds, %d changes to %d incidents reported committed", c.Rounds, changes, len(reported))
}

// runChild starts the crash child, kills it after it has written for about
// d, and returns the complete lines it printed.
func runChild(t *testing.T, c Crash, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+c.ChildTest+"$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), c.Env...)
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
func checkAfterCrash(t *testing.T, c Crash, round int, reported map[ir.ID]int64, collected map[ir.ID][]evidence.ItemID) {
	t.Helper()
	ctx := context.Background()
	st, closeStore := c.Open(t)
	defer closeStore()
	locker := newLocker(t, st, c.BlobsDir, c.Key)

	for id, v := range reported {
		inc, err := st.Get(ctx, id)
		require.NoError(t, err, "round %d: incident %s reported at version %d", round, id, v)
		require.GreaterOrEqual(t, inc.Version, v, "round %d: incident %s", round, id)
	}
	for id, items := range collected {
		for _, item := range items {
			_, err := st.Item(ctx, id.Case(), item)
			require.NoError(t, err, "round %d: item %s of %s", round, item, id)
		}
	}
	var page ir.Page
	var err error
	for first := true; first || page.Next != ""; first = false {
		page, err = st.List(ctx, ir.Query{After: page.Next, Limit: ir.MaxPageSize})
		require.NoError(t, err)
		for _, inc := range page.Incidents {
			checkIncident(t, c, st, locker, inc)
		}
	}
}

// checkIncident checks that inc's timeline is whole, that each of its
// events has exactly one outbox message, and that its custody log
// verifies.
func checkIncident(t *testing.T, c Crash, st Store, locker *evidence.Locker, inc *ir.Incident) {
	t.Helper()
	ctx := context.Background()
	events, err := irtest.ReadTimeline(ctx, st, inc.ID)
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
	assert.Equal(t, want, c.OutboxKeys(t, st, inc.ID), "one outbox message per event of %s, in order", inc.ID)

	cs := inc.ID.Case()
	size, err := st.Size(ctx, cs)
	require.NoError(t, err)
	if size == 0 {
		return
	}
	rep, err := locker.Verify(ctx, cs)
	require.NoError(t, err)
	require.NoError(t, rep.Err(), "custody log of %s", inc.ID)
	items, err := st.Items(ctx, cs)
	require.NoError(t, err)
	assert.Len(t, items, len(inc.Evidence), "every item collected is linked to %s, and only those", inc.ID)
}

// newLocker returns an evidence locker whose ledger is on st.
func newLocker(t *testing.T, st Store, blobsDir string, key evidence.SigningKey) *evidence.Locker {
	t.Helper()
	blobs, err := evidence.NewDirBlobs(blobsDir)
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: blobs})
	require.NoError(t, err)
	return locker
}

// RunCrashChild is the process [RunCrash] kills: it writes changes of
// every kind to st through a Responder that leaves outbox messages and
// keeps custody in st, printing each one it committed, until it is killed
// (or a minute has passed, should its parent be gone).
func RunCrashChild(t *testing.T, st Store, blobsDir string, key evidence.SigningKey) {
	ctx := context.Background()
	locker := newLocker(t, st, blobsDir, key)
	r, err := ir.NewResponder(ir.Config{Store: st, Evidence: locker, AtomicCustody: true, Outbox: true})
	require.NoError(t, err)
	out := bufio.NewWriter(os.Stdout)
	report := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		require.NoError(t, out.Flush())
	}
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}

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
				_, err := locker.Ledger().Checkpoint(ctx, id.Case())
				require.NoError(t, err)
			}
		}
	}
}

package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// smallDisk mounts a tmpfs of size bytes in a new directory and returns
// the directory, or skips the test where mounting is not permitted. The
// file system is unmounted when the test ends.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("a full disk needs a small tmpfs, and mounting one is not permitted here: %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("unmount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestFullDiskSaysSo fills a small file system with incidents until a
// write fails, and checks the failure matches ErrDiskFull, every incident
// acknowledged before it is kept, the store still reads, and it writes
// again once space is freed.
func TestFullDiskSaysSo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := smallDisk(t, 512<<10)
	// Ballast is removed later to free space.
	ballast := filepath.Join(dir, "ballast")
	require.NoError(t, os.WriteFile(ballast, make([]byte, 128<<10), 0o600))

	path := filepath.Join(dir, "store.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = st.Close()
		}
	})

	summary := strings.Repeat("The mail gateway accepted the message. ", 50)
	change := func(i int) ir.Change {
		return irtest.OpenChange(irtest.Incident(ir.ID(fmt.Sprintf("INC-%06d", i))).
			With(func(inc *ir.Incident) { inc.Summary = summary }).Build())
	}
	var acked []ir.ID
	var failure error
	for i := range 10000 {
		ch := change(i)
		if err := st.Apply(ctx, ch); err != nil {
			failure = err
			break
		}
		acked = append(acked, ch.Incident.ID)
	}
	require.Error(t, failure, "512 KiB fills up before 10,000 incidents")
	require.NotEmpty(t, acked, "some incidents fit")
	t.Log(failure)
	assert.ErrorIs(t, failure, sqlite.ErrDiskFull)
	assert.NotErrorIs(t, failure, sqlite.ErrCorrupt)
	assert.NotErrorIs(t, failure, ir.ErrConflict, "retrying does not free space")
	assert.Contains(t, failure.Error(), "disk full")
	assert.Equal(t, 1, strings.Count(failure.Error(), "sqlite: "), "the store names itself once: %v", failure)

	// Still full: writes keep failing the same way, reads work.
	err = st.Apply(ctx, change(len(acked)))
	assert.ErrorIs(t, err, sqlite.ErrDiskFull)
	assertKept(t, st, acked)

	require.NoError(t, os.Remove(ballast))
	next := change(len(acked))
	require.NoError(t, st.Apply(ctx, next), "writes again once space is freed")
	acked = append(acked, next.Incident.ID)
	assertKept(t, st, acked)

	require.NoError(t, st.Close())
	closed = true
	st = openStore(t, path, sqlite.Config{})
	assertKept(t, st, acked)
}

// assertKept checks that st holds every incident of ids, each with the
// timeline of its opening, and nothing else.
func assertKept(t *testing.T, st *sqlite.Store, ids []ir.ID) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		inc, err := st.Get(ctx, id)
		if !assert.NoError(t, err, "acknowledged incident %s", id) {
			return
		}
		assert.Equal(t, int64(1), inc.Version)
		events, err := irtest.ReadTimeline(ctx, st, id)
		require.NoError(t, err)
		assert.Len(t, events, 1)
	}
	_, err := st.Get(ctx, ir.ID(fmt.Sprintf("INC-%06d", len(ids))))
	assert.True(t, errors.Is(err, ir.ErrNotFound), "the failed write left nothing: %v", err)
}

package evidence_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/evidencetest"
)

func TestDirWitness(t *testing.T) {
	evidencetest.TestWitness(t, func(t *testing.T, vkey string) evidence.Witness {
		w, err := evidence.NewDirWitness(t.TempDir(), vkey)
		require.NoError(t, err)
		return w
	})
}

// witnessedLocker returns a locker on a new memory store whose ledger
// hands its checkpoints to w, and the store.
func witnessedLocker(t *testing.T, key evidence.SigningKey, w evidence.Witness) (*evidence.Locker, evidence.LedgerStore) {
	t.Helper()
	st := evidence.NewMemoryLedgerStore()
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key, Witness: w})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: l, Blobs: evidence.NewMemoryBlobs()})
	require.NoError(t, err)
	return locker, st
}

// collectAndRead collects one item in case c and reads it reads times:
// a log of 1+reads records.
func collectAndRead(t *testing.T, locker *evidence.Locker, c evidence.CaseID, reads int) evidence.Item {
	t.Helper()
	ctx := t.Context()
	it, err := locker.Collect(ctx, evidence.Collection{Case: c, Name: "mail-gw.log", Content: strings.NewReader("accepted"),
		CollectedBy: evidence.Party{ID: "alice"}})
	require.NoError(t, err)
	for range reads {
		rc, err := locker.Open(ctx, c, it.ID, evidence.Party{ID: "bob"}, "read")
		require.NoError(t, err)
		require.NoError(t, rc.Close())
	}
	return it
}

func TestDirWitnessReopened(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, vkey := custodyKey(t, "custody.example.org", 3)
	dir := t.TempDir()
	w, err := evidence.NewDirWitness(dir, vkey)
	require.NoError(t, err)
	locker, _ := witnessedLocker(t, key, w)
	collectAndRead(t, locker, "CASE-1", 3)
	held, err := w.Latest(ctx, "CASE-1")
	require.NoError(t, err)
	assert.Equal(t, int64(4), held.Size, "every append is witnessed")

	again, err := evidence.NewDirWitness(dir, vkey)
	require.NoError(t, err)
	got, err := again.Latest(ctx, "CASE-1")
	require.NoError(t, err)
	assert.Equal(t, held, got, "a witness reopened holds what it held")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), ".checkpoint-"), "no temporary file is left: %s", e.Name())
	}

	_, otherV := custodyKey(t, "custody.example.org", 4)
	stranger, err := evidence.NewDirWitness(dir, otherV)
	require.NoError(t, err)
	_, err = stranger.Latest(ctx, "CASE-1")
	assert.ErrorIs(t, err, evidence.ErrTampered, "a checkpoint not signed by the witness's key reads as tampered")

	_, err = evidence.NewDirWitness(t.TempDir(), "not a key")
	assert.ErrorIs(t, err, evidence.ErrInvalid)
}

func TestDirWitnessFileChanged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, vkey := custodyKey(t, "custody.example.org", 3)
	dir := t.TempDir()
	w, err := evidence.NewDirWitness(dir, vkey)
	require.NoError(t, err)
	locker, _ := witnessedLocker(t, key, w)
	collectAndRead(t, locker, "CASE-1", 2)
	files, err := filepath.Glob(filepath.Join(dir, "*.checkpoint"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	// The size line, 3, made 2.
	changed := strings.Replace(string(b), "\n3\n", "\n2\n", 1)
	require.NotEqual(t, string(b), changed)
	require.NoError(t, os.WriteFile(files[0], []byte(changed), 0o600))
	_, err = w.Latest(ctx, "CASE-1")
	require.ErrorIs(t, err, evidence.ErrTampered)
	rep, err := locker.Verify(ctx, "CASE-1")
	require.NoError(t, err)
	assert.ErrorIs(t, rep.Err(), evidence.ErrTampered, "a witnessed checkpoint changed by hand fails verification")
}

// failingWitness is a witness that fails while fail is set.
type failingWitness struct {
	inner evidence.Witness
	fail  atomic.Bool
}

func (w *failingWitness) Latest(ctx context.Context, c evidence.CaseID) (evidence.Checkpoint, error) {
	return w.inner.Latest(ctx, c)
}

var errWitnessDown = errors.New("witness down")

func (w *failingWitness) Witness(ctx context.Context, c evidence.CaseID, old int64, proof []evidence.Hash, cp evidence.Checkpoint) error {
	if w.fail.Load() {
		return errWitnessDown
	}
	return w.inner.Witness(ctx, c, old, proof, cp)
}

func TestLedgerWitnessFailing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, vkey := custodyKey(t, "custody.example.org", 3)
	dw, err := evidence.NewDirWitness(t.TempDir(), vkey)
	require.NoError(t, err)
	w := &failingWitness{inner: dw}
	locker, st := witnessedLocker(t, key, w)
	it := collectAndRead(t, locker, "CASE-1", 1)

	w.fail.Store(true)
	rc, err := locker.Open(ctx, "CASE-1", it.ID, evidence.Party{ID: "carol"}, "read while the witness is down")
	require.NoError(t, err, "an append is not refused for its witness")
	require.NoError(t, rc.Close())
	n, err := st.Size(ctx, "CASE-1")
	require.NoError(t, err)
	assert.Equal(t, int64(3), n, "the record is kept")
	held, err := w.Latest(ctx, "CASE-1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), held.Size, "the witness missed the last record")
	_, err = locker.Ledger().Checkpoint(ctx, "CASE-1")
	assert.ErrorIs(t, err, errWitnessDown, "a checkpoint not witnessed says so")
	rep, err := locker.Verify(ctx, "CASE-1")
	require.NoError(t, err)
	assert.ErrorIs(t, rep.Err(), errWitnessDown, "verification says the log could not be witnessed")
	assert.NotErrorIs(t, rep.Err(), evidence.ErrTampered)

	w.fail.Store(false)
	rep, err = locker.Verify(ctx, "CASE-1")
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	held, err = w.Latest(ctx, "CASE-1")
	require.NoError(t, err)
	assert.Equal(t, int64(3), held.Size, "verification witnessed the record missed")
}

func TestLedgerWitnessRollback(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, vkey := custodyKey(t, "custody.example.org", 3)
	dir := t.TempDir()
	w, err := evidence.NewDirWitness(dir, vkey)
	require.NoError(t, err)
	// A log witnessed at 4 records, and a store holding 2 records of the
	// case, as if cut short.
	full, _ := witnessedLocker(t, key, w)
	collectAndRead(t, full, "CASE-1", 3)
	oldW, err := evidence.NewDirWitness(t.TempDir(), vkey)
	require.NoError(t, err)
	restored, _ := witnessedLocker(t, key, oldW)
	collectAndRead(t, restored, "CASE-1", 1)

	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: restored.Ledger().Store(), Key: key, Witness: w})
	require.NoError(t, err)
	rep, err := l.Verify(ctx, "CASE-1")
	require.NoError(t, err)
	var te *evidence.TamperError
	require.ErrorAs(t, rep.Err(), &te)
	assert.Equal(t, "rollback", te.What)
	held, err := w.Latest(ctx, "CASE-1")
	require.NoError(t, err)
	assert.Equal(t, int64(4), held.Size, "the witness does not follow the log back")
}

// TestExportVerified checks the log ExportVerified returns is the one its
// report verified, that an empty case is not found, and that it checks a
// witnessed ledger's log against its witness as Verify does.
func TestExportVerified(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, vkey := custodyKey(t, "custody.example.org", 3)
	w, err := evidence.NewDirWitness(t.TempDir(), vkey)
	require.NoError(t, err)
	full, _ := witnessedLocker(t, key, w)
	collectAndRead(t, full, "CASE-1", 3)

	log, rep, err := full.ExportVerified(ctx, "CASE-1")
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Len(t, log.Records, 4)
	assert.Equal(t, int64(len(log.Records)), rep.Size, "the report verified the log returned")

	_, _, err = full.ExportVerified(ctx, "CASE-2")
	assert.ErrorIs(t, err, evidence.ErrNotFound)

	oldW, err := evidence.NewDirWitness(t.TempDir(), vkey)
	require.NoError(t, err)
	restored, _ := witnessedLocker(t, key, oldW)
	collectAndRead(t, restored, "CASE-1", 1)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: restored.Ledger().Store(), Key: key, Witness: w})
	require.NoError(t, err)
	_, rep, err = l.ExportVerified(ctx, "CASE-1")
	require.NoError(t, err)
	var te *evidence.TamperError
	require.ErrorAs(t, rep.Err(), &te, "a log rolled back behind its witness is tampered with")
	assert.Equal(t, "rollback", te.What)
}

func TestDirWitnessModes(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	key, vkey, err := evidence.GenerateKey("custody.witness.test")
	require.NoError(t, err)

	open := filepath.Join(t.TempDir(), "witness")
	require.NoError(t, os.Mkdir(open, 0o700))
	require.NoError(t, os.Chmod(open, 0o777))
	_, err = evidence.NewDirWitness(open, vkey)
	require.ErrorIs(t, err, evidence.ErrInvalid)
	var me *evidence.DirModeError
	require.ErrorAs(t, err, &me)
	assert.Contains(t, err.Error(), "chmod go-w "+open)

	// Inside a directory others may read, what the witness creates is its
	// owner's alone.
	parent := filepath.Join(t.TempDir(), "shared")
	require.NoError(t, os.Mkdir(parent, 0o755))
	require.NoError(t, os.Chmod(parent, 0o755))
	dir := filepath.Join(parent, "witness")
	w, err := evidence.NewDirWitness(dir, vkey)
	require.NoError(t, err)
	l, _ := witnessedLocker(t, key, w)
	collectAndRead(t, l, "CASE-MODES", 1)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())
	for _, e := range entries {
		fi, err := e.Info()
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "mode of %s", e.Name())
	}
}

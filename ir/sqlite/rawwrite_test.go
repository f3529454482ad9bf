package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// TestFailedChangeLeavesNothing makes the last statement of a change fail
// (a trigger refuses its event) and checks that nothing of the change is
// kept, neither the incident's new version nor its event, and that the
// next change is written whole: the transaction was rolled back and the
// connection left ready.
func TestFailedChangeLeavesNothing(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "incidents.db")
	st := openStore(t, path, sqlite.Config{})
	r, err := ir.NewResponder(ir.Config{Store: st, Clock: irtest.NewClock(irtest.Epoch), IDs: &irtest.IDs{}, ConflictRetries: -1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Shutdown(t.Context())) })
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Refused note", Severity: ir.SeverityHigh})
	require.NoError(t, err)
	_, err = r.AddNote(ctx, alice, inc.ID, "kept")
	require.NoError(t, err)

	db, err := sql.Open("sqlite3", sqlite.WriterDSN(path))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE TRIGGER refuse_notes BEFORE INSERT ON events WHEN new.type = 'note_added'
		BEGIN SELECT RAISE(ABORT, 'notes refused'); END`)
	require.NoError(t, err)
	_, err = r.AddNote(ctx, alice, inc.ID, "refused")
	require.ErrorContains(t, err, "notes refused")

	got, err := st.Get(ctx, inc.ID)
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Version, "the refused change's version was kept")
	events, err := irtest.ReadTimeline(ctx, st, inc.ID)
	require.NoError(t, err)
	require.Len(t, events, 2, "the refused change's event was kept")

	_, err = db.ExecContext(ctx, `DROP TRIGGER refuse_notes`)
	require.NoError(t, err)
	_, err = r.AddNote(ctx, alice, inc.ID, "after")
	require.NoError(t, err)
	got, err = st.Get(ctx, inc.ID)
	require.NoError(t, err)
	require.Equal(t, int64(3), got.Version)
	events, err = irtest.ReadTimeline(ctx, st, inc.ID)
	require.NoError(t, err)
	require.Len(t, events, 3)
	require.Equal(t, int64(3), events[2].Seq)
	require.Equal(t, "after", events[2].Data.(*ir.NoteAdded).Text)
}

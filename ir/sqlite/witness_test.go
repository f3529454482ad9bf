package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// truncateCustody cuts case c's custody log in the database file at path
// down to its first keep records, and deletes the checkpoints of larger
// sizes: what someone with write access to the file can do, leaving a log
// that is sound in itself.
func truncateCustody(t *testing.T, path string, c evidence.CaseID, keep int64) {
	t.Helper()
	db, err := sql.Open("sqlite3", sqlite.WriterDSN(path))
	require.NoError(t, err)
	defer db.Close()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		// The triggers that keep the tables append-only go first, and
		// come back after.
		{"DROP TRIGGER custody_records_no_delete", nil},
		{"DROP TRIGGER custody_hashes_no_delete", nil},
		{"DROP TRIGGER custody_checkpoints_no_delete", nil},
		{"DELETE FROM custody_records WHERE case_id = ? AND idx >= ?", []any{c, keep}},
		{"DELETE FROM custody_hashes WHERE case_id = ? AND idx >= ?", []any{c, tlog.StoredHashCount(keep)}},
		{"DELETE FROM custody_checkpoints WHERE case_id = ? AND size > ?", []any{c, keep}},
		{"UPDATE custody_heads SET size = ? WHERE case_id = ?", []any{keep, c}},
		{"CREATE TRIGGER custody_records_no_delete BEFORE DELETE ON custody_records BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_records are append-only'); END", nil},
		{"CREATE TRIGGER custody_hashes_no_delete BEFORE DELETE ON custody_hashes BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_hashes are append-only'); END", nil},
		{"CREATE TRIGGER custody_checkpoints_no_delete BEFORE DELETE ON custody_checkpoints BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_checkpoints are append-only'); END", nil},
	} {
		_, err := db.Exec(q.sql, q.args...)
		require.NoError(t, err, q.sql)
	}
}

func TestWitnessCatchesATruncatedLog(t *testing.T) {
	t.Parallel()
	for _, witnessed := range []bool{true, false} {
		name := "without a witness, not caught"
		if witnessed {
			name = "with a witness, caught"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dir := t.TempDir()
			cfg := sqlite.DirConfig{Responder: ir.Config{Clock: irtest.NewClock(irtest.Epoch)}, NoWitness: !witnessed}
			d, err := sqlite.OpenDir(ctx, dir, cfg)
			require.NoError(t, err)
			alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
			inc, err := d.Responder.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing", Severity: ir.SeverityHigh})
			require.NoError(t, err)
			c := inc.ID.Case()
			item, err := d.Responder.CollectEvidence(ctx, alice, inc.ID, evidence.Collection{Name: "mail-gw.log", Content: strings.NewReader("accepted")})
			require.NoError(t, err)
			for range 4 {
				rc, err := d.Locker.Open(ctx, c, item.ID, evidence.Party{ID: "bob"}, "read the log")
				require.NoError(t, err)
				require.NoError(t, rc.Close())
			}
			_, err = d.Ledger.Checkpoint(ctx, c)
			require.NoError(t, err)
			rep, err := d.Locker.Verify(ctx, c)
			require.NoError(t, err)
			require.NoError(t, rep.Err(), "the log verifies before it is cut")
			require.Equal(t, int64(5), rep.Size)
			require.NoError(t, d.Close(ctx))

			truncateCustody(t, filepath.Join(dir, sqlite.DirDatabase), c, 2)

			d, err = sqlite.OpenDir(ctx, dir, cfg)
			require.NoError(t, err)
			defer func() { assert.NoError(t, d.Close(context.Background())) }()
			for _, verify := range []func(context.Context, evidence.CaseID) (*evidence.Report, error){d.Ledger.Verify, d.Locker.Verify} {
				rep, err = verify(ctx, c)
				require.NoError(t, err)
				assert.Equal(t, int64(2), rep.Size, "the log was cut to 2 records")
				if !witnessed {
					assert.NoError(t, rep.Err(), "without a witness, the cut log verifies")
					continue
				}
				require.ErrorIs(t, rep.Err(), evidence.ErrTampered)
				var te *evidence.TamperError
				require.True(t, errors.As(rep.Err(), &te))
				assert.Equal(t, "rollback", te.What)
				assert.Equal(t, c, te.Case)
				assert.Contains(t, te.Error(), "5 records witnessed")
			}
		})
	}
}

package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
)

// Errors that [Open] returns for a file it refuses to use. The store's other
// errors are those of packages ir and evidence: ir.ErrNotFound,
// ir.ErrConflict, ir.ErrInvalid, evidence.ErrNotFound, evidence.ErrConflict.
var (
	// ErrSchemaTooNew means the database was migrated by a newer version
	// of this package than the one running; nothing was changed: the
	// file is left byte for byte as it was. Upgrade
	// the program.
	ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this program")
	// ErrForeignSchema means the file is an SQLite database holding
	// tables that this package did not create; nothing was changed: the
	// file is left byte for byte as it was, in its own journal mode.
	// Choose another path.
	ErrForeignSchema = errors.New("sqlite: database holds tables of another application")
	// ErrCorrupt means the file is not an SQLite database, or one that
	// is damaged (truncated, overwritten, malformed). Any method may
	// return it, not only Open, if damage is found later. Restore the
	// file from a backup.
	ErrCorrupt = errors.New("sqlite: database file is corrupt or not a database")
)

// ctxErr returns a wrapped context error if ctx has ended.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// wrap prefixes err with op. When ctx ended, the result matches the
// context's error, since the driver reports an interrupted statement in its
// own words; damage to the file matches [ErrCorrupt]; and a write that
// found the database locked for longer than the busy timeout matches
// ir.ErrConflict and evidence.ErrConflict, since retrying is the cure.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlite: %s: %w (%w)", op, cerr, err)
	}
	switch {
	case isCorrupt(err):
		return fmt.Errorf("sqlite: %s: %w (%w)", op, ErrCorrupt, err)
	case errors.Is(err, sqlite3.BUSY):
		return fmt.Errorf("sqlite: %s: %w (%w) (%w)", op, err, ir.ErrConflict, evidence.ErrConflict)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// isCorrupt reports whether err is SQLite finding the file is not a
// database or is damaged.
func isCorrupt(err error) bool {
	return errors.Is(err, sqlite3.CORRUPT) || errors.Is(err, sqlite3.NOTADB)
}

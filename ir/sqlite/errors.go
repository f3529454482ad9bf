package sqlite

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/ncruces/go-sqlite3"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
)

// Errors that [Open] returns for a file it refuses to use, and that any
// method returns for a damaged file or a full disk. The store's other
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
	// ErrDiskFull means a write failed because the file system holding
	// the database (or its write-ahead log) has no space left. The write
	// was rolled back, and every change acknowledged before it is kept:
	// the store still reads, and writes again once space is freed. Any
	// method that writes may return it; the error also unwraps to the
	// driver's error and the operating system's (syscall.ENOSPC where it
	// reported one).
	ErrDiskFull = errors.New("sqlite: disk full")
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
// own words; a write that found no space left matches [ErrDiskFull];
// damage to the file matches [ErrCorrupt]; and a write that
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
	case isDiskFull(err):
		if !errors.Is(err, ErrDiskFull) {
			err = &kindError{kinds: []error{ErrDiskFull}, err: err}
		}
		return fmt.Errorf("sqlite: %s: disk full: %w", op, err)
	case isCorrupt(err):
		return fmt.Errorf("sqlite: %s: corrupt: %w", op, &kindError{kinds: []error{ErrCorrupt}, err: err})
	case errors.Is(err, sqlite3.BUSY):
		return fmt.Errorf("sqlite: %s: %w", op, &kindError{kinds: []error{ir.ErrConflict, evidence.ErrConflict}, err: err})
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// isCorrupt reports whether err is SQLite finding the file is not a
// database or is damaged.
func isCorrupt(err error) bool {
	return errors.Is(err, sqlite3.CORRUPT) || errors.Is(err, sqlite3.NOTADB)
}

// isDiskFull reports whether err is a write that found no space left. SQLite
// says SQLITE_FULL when its file system layer recognises the cause; the
// driver reports some failed writes as a disk I/O error instead, wrapping
// the operating system's ENOSPC, which is recognised too.
func isDiskFull(err error) bool {
	return errors.Is(err, sqlite3.FULL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, ErrDiskFull)
}

// lowSpace is the free space below which a write that failed with a disk
// I/O error is taken to have found the disk full: less than a few pages of
// the write-ahead log.
const lowSpace = 64 << 10

// noSpace returns err, tagged as matching [ErrDiskFull] when it is a disk
// I/O error from a write to the database at path and the file system
// holding it has next to no space left. The driver reports a write that
// failed for want of space as a bare disk I/O error (SQLITE_IOERR_WRITE),
// not as SQLITE_FULL and without the system's ENOSPC, so the file system is
// asked instead; a disk failing with space left is not mistaken for a full
// one.
func noSpace(path string, err error) error {
	if err == nil || isDiskFull(err) || !errors.Is(err, sqlite3.IOERR) {
		return err
	}
	if free, ok := freeSpace(path); !ok || free >= lowSpace {
		return err
	}
	return &kindError{kinds: []error{ErrDiskFull}, err: err}
}

// kindError gives err the sentinels kinds, for [errors.Is], without
// putting their words in the message: the message wrapping it names the
// kind once, in its own words ("sqlite: apply: disk full: sqlite3: disk
// I/O error", not "sqlite: apply: sqlite: disk full (sqlite3: …)").
type kindError struct {
	kinds []error
	err   error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return append(e.kinds[:len(e.kinds):len(e.kinds)], e.err) }

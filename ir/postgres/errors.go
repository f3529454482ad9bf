package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// Errors that [Open] and [New] return for a schema they refuse to use. The
// store's other errors are those of packages ir and evidence: ir.ErrNotFound,
// ir.ErrConflict, ir.ErrInvalid, evidence.ErrNotFound, evidence.ErrConflict.
var (
	// ErrSchemaTooNew means the schema was migrated by a newer version of
	// this package than the one running; nothing was changed. Upgrade
	// the program.
	ErrSchemaTooNew = errors.New("postgres: schema is newer than this program")
	// ErrForeignSchema means the schema holds tables that this package did
	// not create; nothing was changed. Choose another [Config.Schema].
	ErrForeignSchema = errors.New("postgres: schema holds tables of another application")
)

// SQLSTATE codes that mean a transaction lost a race with another one.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUniqueViolation      = "23505"
)

// SQLSTATE codes of text the database cannot keep: a NUL byte, or bytes
// that are not valid in its encoding.
const (
	codeCharacterNotInRepertoire = "22021"
	codeUntranslatableCharacter  = "22P05"
)

// badText reports whether err is PostgreSQL refusing text it cannot keep,
// which is the caller's input to fix.
func badText(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == codeCharacterNotInRepertoire || pgErr.Code == codeUntranslatableCharacter
}

// lostRace reports whether err is PostgreSQL refusing a transaction
// because a concurrent one got there first: retrying it with fresh data is
// the cure, so callers see it as a conflict.
func lostRace(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case codeSerializationFailure, codeDeadlockDetected, codeUniqueViolation:
		return true
	}
	return false
}

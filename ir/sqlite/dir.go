package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
)

// The names [OpenDir] gives what it keeps in its directory.
const (
	// DirDatabase is the SQLite file: incidents, timelines, custody logs
	// and the outbox.
	DirDatabase = "incidentkit.db"
	// DirKey is the file holding the key that signs custody
	// checkpoints, mode 0600.
	DirKey = "custody.key"
	// DirEvidence is the directory of evidence content (an
	// evidence.DirBlobs).
	DirEvidence = "evidence"
	// DirWitness is the directory of the custody witness (an
	// evidence.DirWitness) when [DirConfig.WitnessDir] is empty.
	DirWitness = "witness"
)

// DefaultKeyName names the signing key [OpenDir] makes when
// [DirConfig.KeyName] is empty.
const DefaultKeyName = "custody.incidentkit"

// DirConfig configures [OpenDir]. The zero value is ready to use.
type DirConfig struct {
	// Store configures the SQLite store. A nil Store.Clock means
	// Responder.Clock.
	Store Config
	// Responder configures the Responder: its model, policy, clock, IDs,
	// logger, telemetry providers, outbox and conflict retries. Leave
	// Store, Evidence and AtomicCustody unset: OpenDir sets them.
	Responder ir.Config
	// Locker configures the evidence locker: its access policy, clock and
	// item IDs. Leave Ledger and Blobs unset: OpenDir sets them. A nil
	// Locker.Now means the Responder's clock.
	Locker evidence.LockerConfig
	// KeyName names the signing key made on the first open (it appears
	// in every checkpoint's signature line); empty means
	// [DefaultKeyName]. A key already in the directory is used whatever
	// its name.
	KeyName string
	// Origin starts each case's checkpoint origin line, as
	// evidence.LedgerConfig.Origin.
	Origin string
	// WitnessDir is the directory of the witness that keeps each case's
	// latest custody checkpoint outside the database (an
	// evidence.DirWitness); empty means [DirWitness] in the directory.
	// With it, a custody log cut short in the database, with or without
	// its checkpoints, or a database restored from an older copy, fails
	// verification as a rollback. Kept in the same directory, it catches
	// changes made to the database alone; kept on another volume or
	// machine, or owned by another user, it also catches someone able
	// to rewrite the whole directory. See evidence.Witness.
	WitnessDir string
	// NoWitness keeps no witness: a log cut short together with its
	// checkpoints then verifies.
	NoWitness bool
}

// Dir is what [OpenDir] opened in a directory: a ready Responder and
// everything under it. Use the Responder for incidents; the Locker for
// evidence custody beyond collection (transfers, verification, bundles);
// VerifierKey is what auditors check checkpoints with. Call [Dir.Close]
// when done. A Dir is safe for concurrent use.
type Dir struct {
	// Path is the directory.
	Path string
	// Responder runs incidents on Store, collecting evidence into Locker
	// with each custody record written in the same transaction as its
	// incident change (ir.Config.AtomicCustody).
	Responder *ir.Responder
	// Store keeps incidents, timelines, custody logs and the outbox.
	Store *Store
	// Ledger keeps each case's custody log in Store.
	Ledger *evidence.Ledger
	// Locker is the evidence locker of Ledger and Blobs.
	Locker *evidence.Locker
	// Blobs keeps the evidence content.
	Blobs *evidence.DirBlobs
	// VerifierKey is the public key that checks the ledger's checkpoints.
	VerifierKey string
	// Witness keeps each case's latest custody checkpoint outside the
	// database; nil with [DirConfig.NoWitness].
	Witness *evidence.DirWitness

	closeOnce sync.Once
	closeErr  error
}

// DirError says why [OpenDir] cannot use a directory. It matches
// ir.ErrInvalid when something in the directory is unfit (a file where a
// directory should be, a key file with wrong permissions or content), and
// whatever Err matches otherwise; a key file's problem is also an
// *evidence.KeyFileError in Err.
type DirError struct {
	// Path is the directory, or the file in it that is unfit.
	Path string
	// Problem says what is unfit; empty when Err alone says what failed.
	Problem string
	// Err is the underlying error, if any.
	Err error
}

func (e *DirError) Error() string {
	msg := "sqlite: open directory " + e.Path
	if e.Problem != "" {
		msg += ": " + e.Problem
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ir.ErrInvalid, for a directory that is
// unfit.
func (e *DirError) Is(target error) bool {
	return target == ir.ErrInvalid && (e.Problem != "" || errors.Is(e.Err, evidence.ErrInvalid))
}

// Unwrap returns the underlying error.
func (e *DirError) Unwrap() error { return e.Err }

// OpenDir opens, or creates on first use, everything a durable setup keeps
// in directory path, and returns a ready Responder with what it opened:
//
//   - the SQLite store in [DirDatabase], as [Open] opens it;
//   - a custody ledger on that same store, so that evidence collected
//     through the Responder is recorded in the same transaction as the
//     incident change;
//   - the evidence content in the directory [DirEvidence];
//   - the key that signs custody checkpoints in [DirKey]: made once, on
//     the first open, written with mode 0600 and never overwritten, then
//     read back on every open;
//   - a witness keeping each case's latest checkpoint outside the
//     database, in the directory [DirWitness] unless
//     [DirConfig.WitnessDir] or [DirConfig.NoWitness] says otherwise, so
//     that verification catches a custody log cut short in the database.
//
// The directory, and any missing parent, is created with mode 0700, and
// everything OpenDir creates in it is its owner's alone (files 0600,
// directories 0700), whatever the umask and the directory's own mode; a
// database file found there that others may read is made its owner's
// alone too. A key file that is missing while the database holds custody
// logs is refused: restore it from its backup, as a new key would sign
// nothing the old checkpoints verify against.
// OpenDir refuses, with a [*DirError] matching ir.ErrInvalid, a path that
// is a file, a directory others than its owner may write to (fix it with
// chmod go-w), and a key file others may read or write (fix it with
// chmod 600) or that holds no valid key;
// it returns the errors of [Open] for a database it cannot use. Several
// processes may open one directory at once, also the first time: they
// share one key.
func OpenDir(ctx context.Context, path string, cfg DirConfig) (d *Dir, err error) {
	if path == "" {
		return nil, &DirError{Path: path, Problem: "empty path"}
	}
	rc := cfg.Responder
	if rc.Store != nil || rc.Evidence != nil {
		return nil, &ir.InvalidError{Field: "config", Reason: "DirConfig.Responder.Store and Evidence are set by OpenDir"}
	}
	if cfg.Locker.Ledger != nil || cfg.Locker.Blobs != nil {
		return nil, &ir.InvalidError{Field: "config", Reason: "DirConfig.Locker.Ledger and Blobs are set by OpenDir"}
	}
	if err := makeDir(path); err != nil {
		return nil, err
	}
	sc := cfg.Store
	if sc.Clock == nil {
		sc.Clock = rc.Clock
	}
	key, err := dirKey(ctx, filepath.Join(path, DirKey), cfg.KeyName, filepath.Join(path, DirDatabase), sc)
	if de := (*DirError)(nil); errors.As(err, &de) {
		return nil, de
	}
	if err != nil {
		return nil, &DirError{Path: path, Err: err}
	}
	vkey, err := key.VerifierKey()
	if err != nil {
		return nil, &DirError{Path: path, Err: err}
	}
	blobs, err := evidence.NewDirBlobs(filepath.Join(path, DirEvidence))
	if err != nil {
		return nil, &DirError{Path: path, Err: err}
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, blobs.Close())
		}
	}()
	var witness *evidence.DirWitness
	if !cfg.NoWitness {
		wdir := cfg.WitnessDir
		if wdir == "" {
			wdir = filepath.Join(path, DirWitness)
		}
		if witness, err = evidence.NewDirWitness(wdir, vkey); err != nil {
			return nil, &DirError{Path: path, Err: err}
		}
	}
	if err := ownerOnly(filepath.Join(path, DirDatabase)); err != nil {
		return nil, &DirError{Path: path, Err: err}
	}
	store, err := Open(ctx, filepath.Join(path, DirDatabase), sc)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, store.Close())
		}
	}()
	lcfg := evidence.LedgerConfig{Store: store, Key: key, Origin: cfg.Origin}
	if witness != nil {
		lcfg.Witness = witness
	}
	ledger, err := evidence.NewLedger(lcfg)
	if err != nil {
		return nil, err
	}
	lc := cfg.Locker
	lc.Ledger, lc.Blobs = ledger, blobs
	if lc.Now == nil && rc.Clock != nil {
		lc.Now = rc.Clock.Now
	}
	locker, err := evidence.NewLocker(lc)
	if err != nil {
		return nil, err
	}
	rc.Store, rc.Evidence, rc.AtomicCustody = store, locker, true
	r, err := ir.NewResponder(rc)
	if err != nil {
		return nil, err
	}
	return &Dir{Path: path, Responder: r, Store: store, Ledger: ledger, Locker: locker, Blobs: blobs, VerifierKey: vkey, Witness: witness}, nil
}

// Close shuts the Responder down and closes the store and the evidence
// directory, in that order, once;
// later calls return what the first returned. Nothing opened may be used
// after it.
func (d *Dir) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		d.closeErr = errors.Join(d.Responder.Shutdown(ctx), d.Store.Close(), d.Blobs.Close())
	})
	return d.closeErr
}

// makeDir creates directory path with mode 0700 if missing, and refuses a
// path that is not a directory, or a directory others than its owner may
// write to.
func makeDir(path string) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		if fi, serr := os.Stat(path); serr == nil && !fi.IsDir() {
			return &DirError{Path: path, Problem: "not a directory"}
		}
		return &DirError{Path: path, Err: err}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return &DirError{Path: path, Err: err}
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o022 != 0 {
		return &DirError{Path: path, Problem: fmt.Sprintf("mode %04o lets others than its owner replace the database, the key or the evidence: run chmod go-w %s", perm, path)}
	}
	return nil
}

// dirKey loads the signing key at path, or makes one named name and saves
// it there if there is none and the database at dbPath, if there is one,
// holds no custody log. Of several processes making one at once, the
// first to save it wins, and the others load it.
func dirKey(ctx context.Context, path, name, dbPath string, sc Config) (evidence.SigningKey, error) {
	key, err := evidence.LoadSigningKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if held, err := holdsCustody(ctx, dbPath, sc); err != nil {
		return evidence.SigningKey{}, err
	} else if held {
		return evidence.SigningKey{}, &DirError{Path: path, Problem: "the key file is missing, but the database holds custody logs signed with the key it held: " +
			"restore the key file from its backup (a new key would make every case fail verification against the checkpoints the old one signed)"}
	}
	if name == "" {
		name = DefaultKeyName
	}
	if key, _, err = evidence.GenerateKey(name); err != nil {
		return evidence.SigningKey{}, err
	}
	err = evidence.SaveSigningKey(path, key)
	if errors.Is(err, fs.ErrExist) {
		return evidence.LoadSigningKey(path)
	}
	return key, err
}

// holdsCustody reports whether the database at path holds a custody log;
// a database not yet made holds none.
func holdsCustody(ctx context.Context, path string, sc Config) (held bool, err error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	st, err := Open(ctx, path, sc)
	if err != nil {
		return false, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	if err := st.r.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM custody_heads)").Scan(&held); err != nil {
		return false, fmt.Errorf("sqlite: look for custody logs in %s: %w", path, err)
	}
	return held, nil
}

// ownerOnly takes from the database file at path, if there is one, every
// permission of others than its owner: everything in a directory OpenDir
// opens is its owner's alone, also a database made before by other means.
// The write-ahead log and shared-memory files follow it when [Open] opens
// it.
func ownerOnly(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || runtime.GOOS == "windows" {
		return nil
	}
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); fi.Mode().IsRegular() && perm&0o077 != 0 {
		return os.Chmod(path, perm&0o700)
	}
	return nil
}

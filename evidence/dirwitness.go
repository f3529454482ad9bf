package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/mod/sumdb/note"
)

// DirWitness is a [Witness] that keeps each case's latest checkpoint in a
// file of a directory of its own: the signed checkpoint note, as the
// ledger signed it, in a file named by the SHA-256 of the case ID with the
// suffix ".checkpoint". A file is replaced whole (written under a
// temporary name, synced, renamed into place, the directory synced), so it
// holds the old checkpoint or the new one, also after a crash.
//
// It checks every checkpoint it is given against the ledger's verifier
// key, and every checkpoint it reads back, so a file changed by hand reads
// as tampered. Keep the directory where those who can change the ledger's
// store cannot: on another volume, another machine, or at least another
// owner; next to the database it catches changes made to the database
// alone (see [Witness] for what a witness protects against).
//
// A DirWitness is safe for concurrent use. Several processes may share a
// directory: on systems with flock(2) they take turns on a lock file in
// it; elsewhere only one process may witness into a directory at a time.
type DirWitness struct {
	dir      string
	verifier note.Verifier
	vkey     string
	mu       sync.Mutex
}

// dirWitnessLock is the lock file processes sharing a witness directory
// take turns on.
const dirWitnessLock = "witness.lock"

// maxWitnessFile bounds what a DirWitness reads from a checkpoint file: a
// checkpoint note is a few hundred bytes.
const maxWitnessFile = 16 << 10

// NewDirWitness returns a witness keeping checkpoints in dir, creating it
// with mode 0700 if needed, that accepts checkpoints signed by the key
// vkey verifies (see [Ledger.VerifierKey]). It refuses, with a
// [*DirModeError] matching [ErrInvalid], a directory others than its
// owner may write to, since they could replace the checkpoints it holds.
// Its files are created with mode 0600.
func NewDirWitness(dir, vkey string) (*DirWitness, error) {
	if dir == "" {
		return nil, invalid("witness directory", "empty path")
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, invalid("verifier key", err.Error())
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence: dir witness: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence: dir witness: %w", err)
	}
	if !fi.IsDir() {
		return nil, invalid("witness directory", dir+" is not a directory")
	}
	if err := checkDirMode(dir, fi); err != nil {
		return nil, err
	}
	return &DirWitness{dir: dir, verifier: v, vkey: vkey}, nil
}

// Dir returns the directory the witness keeps its checkpoints in.
func (w *DirWitness) Dir() string { return w.dir }

// path returns the file of case c's checkpoint.
func (w *DirWitness) path(c CaseID) string {
	sum := sha256.Sum256([]byte(c))
	return filepath.Join(w.dir, hex.EncodeToString(sum[:])+".checkpoint")
}

// Latest returns the checkpoint held for case c, or an error matching
// [ErrNotFound]. A file that does not hold a checkpoint of case c signed by
// the ledger's key gives an error matching [ErrTampered].
func (w *DirWitness) Latest(ctx context.Context, c CaseID) (Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, fmt.Errorf("evidence: dir witness: %w", err)
	}
	if err := checkCaseID(c); err != nil {
		return Checkpoint{}, err
	}
	return w.read(c)
}

func (w *DirWitness) read(c CaseID) (Checkpoint, error) {
	f, err := os.Open(w.path(c))
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, fmt.Errorf("evidence: dir witness: no checkpoint of case %s: %w", c, ErrNotFound)
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("evidence: dir witness: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxWitnessFile))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("evidence: dir witness: %w", err)
	}
	cp, err := OpenCheckpoint(b, w.vkey)
	if err == nil {
		err = checkWitnessOrigin(c, cp)
	}
	if err != nil {
		var te *TamperError
		if errors.As(err, &te) {
			te.Case, te.What = c, "witnessed checkpoint"
		}
		return Checkpoint{}, err
	}
	return cp, nil
}

// Witness records cp as case c's latest checkpoint if it extends the one
// held, as [Witness] describes.
func (w *DirWitness) Witness(ctx context.Context, c CaseID, oldSize int64, proof []Hash, cp Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("evidence: dir witness: %w", err)
	}
	if err := checkCaseID(c); err != nil {
		return err
	}
	opened, err := OpenCheckpoint(cp.Note, w.vkey)
	if err == nil {
		err = checkWitnessOrigin(c, opened)
	}
	if err != nil {
		var te *TamperError
		if errors.As(err, &te) {
			te.Case = c
		}
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	unlock, err := lockDir(filepath.Join(w.dir, dirWitnessLock))
	if err != nil {
		return fmt.Errorf("evidence: dir witness: %w", err)
	}
	defer unlock()
	held, err := w.read(c)
	switch {
	case errors.Is(err, ErrNotFound):
		held = Checkpoint{}
	case err != nil:
		return err
	}
	if err := checkExtends(c, held, opened, oldSize, proof); err != nil {
		return err
	}
	if held.Size == opened.Size {
		return nil // the checkpoint held, again
	}
	return w.write(c, opened.Note)
}

// checkExtends checks that cp may replace held, the checkpoint a witness
// holds (zero if none), given the size the caller thinks it holds and a
// consistency proof from that size.
func checkExtends(c CaseID, held, cp Checkpoint, oldSize int64, proof []Hash) error {
	if oldSize != held.Size {
		return &WitnessConflictError{Case: c, Size: held.Size}
	}
	rollback := func(expected, found string) error {
		return &TamperError{Case: c, Record: -1, What: "rollback", Expected: expected, Found: found}
	}
	if held.Size == 0 {
		return nil
	}
	if held.Origin != cp.Origin {
		return rollback("origin "+held.Origin, "origin "+cp.Origin)
	}
	if cp.Size < held.Size {
		return rollback(fmt.Sprintf("a checkpoint of at least size %d", held.Size), fmt.Sprintf("size %d", cp.Size))
	}
	if err := CheckConsistency(proof, cp.Size, cp.Root, held.Size, held.Root); err != nil {
		var te *TamperError
		if errors.As(err, &te) {
			te.Case, te.What = c, "rollback"
		}
		return err
	}
	return nil
}

// write replaces case c's checkpoint file with signed.
func (w *DirWitness) write(c CaseID, signed []byte) error {
	f, err := os.CreateTemp(w.dir, ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("evidence: dir witness: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(signed)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, w.path(c))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("evidence: dir witness: write checkpoint of case %s: %w", c, err)
	}
	if err := syncBlobDir(w.dir); err != nil {
		return fmt.Errorf("evidence: dir witness: write checkpoint of case %s: %w", c, err)
	}
	return nil
}

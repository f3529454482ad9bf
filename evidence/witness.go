package evidence

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Witness keeps the latest checkpoint of each case's custody log outside
// the ledger's store, so that a log cut short there is caught.
//
// A [Ledger] alone detects any change to the records its checkpoints
// cover, but not the loss of records together with the checkpoints that
// cover them: someone who can write the store (or restores an old copy of
// it) can truncate a log and delete its latest checkpoints, and what is
// left verifies. A ledger with a witness ([LedgerConfig.Witness]) hands it
// a checkpoint after every record it appends, each with a consistency
// proof from the checkpoint the witness holds; the witness checks the
// signature and the proof and only ever moves forward. [Ledger.Verify]
// then checks the stored log against the witnessed checkpoint: a log
// shorter than it, or not extending it, is reported as a [*TamperError]
// whose What is "rollback".
//
// What it protects against: truncating or rewriting a log in the store,
// with or without its checkpoints; restoring an older copy of the store;
// a store that forks a log. What it does not: a witness kept where the
// same person can change it too (a [DirWitness] next to the database
// protects against edits to the database, not against someone who can
// rewrite both); records appended after the last checkpoint witnessed
// (when witnessing failed, see [LedgerConfig.Witness]); and a witness
// emptied or deleted, which looks like one that never saw the case: a
// witness that holds nothing cannot tell.
//
// A witness must only ever move forward: it accepts a checkpoint only with
// a proof that it extends the one it holds. Implementations must be safe
// for concurrent use; evidencetest.TestWitness checks one keeps this
// contract.
type Witness interface {
	// Witness records cp as the latest checkpoint of case c. oldSize is
	// the size of the checkpoint the caller read from Latest (0 if
	// none) and proof a consistency proof from that size to cp.Size
	// (see [Ledger.ProveConsistency]). If the witness holds a checkpoint
	// of another size than oldSize, it changes nothing and returns a
	// [*WitnessConflictError] (matching [ErrConflict]): read Latest and
	// try again. It refuses, with an error matching [ErrTampered], a
	// checkpoint not signed by the ledger's key, of another case, smaller
	// than the one it holds, or that proof does not show extends it.
	// Witnessing the checkpoint it holds again is not an error.
	Witness(ctx context.Context, c CaseID, oldSize int64, proof []Hash, cp Checkpoint) error
	// Latest returns the latest checkpoint witnessed for case c, or an
	// error matching [ErrNotFound] if there is none.
	Latest(ctx context.Context, c CaseID) (Checkpoint, error)
}

// WitnessConflictError says a [Witness] holds a checkpoint of another size
// than the caller thought. It matches [ErrConflict].
type WitnessConflictError struct {
	Case CaseID
	// Size is the size of the checkpoint the witness holds.
	Size int64
}

func (e *WitnessConflictError) Error() string {
	return fmt.Sprintf("evidence: witness of case %s holds a checkpoint of size %d: %v", e.Case, e.Size, ErrConflict)
}

// Is reports whether target is [ErrConflict].
func (e *WitnessConflictError) Is(target error) bool { return target == ErrConflict }

// witnessAttempts bounds how often a ledger retries handing a checkpoint
// to a witness that other writers move at the same time.
const witnessAttempts = 16

// WitnessHead signs a checkpoint of case c's log as it stands and hands it
// to the ledger's witness, with a consistency proof from the checkpoint the
// witness holds. [Ledger.Append] does so after every record; call it after
// records appended outside the ledger, such as those a store writes with
// other changes in one transaction (see [Ledger.Prepare]). A witness
// already ahead of the log is left as it is. Without a witness it does
// nothing.
func (l *Ledger) WitnessHead(ctx context.Context, c CaseID) error {
	if l.witness == nil {
		return nil
	}
	n, root, err := l.Root(ctx, c)
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	cp, err := signCheckpoint(l.signer, l.Origin(c), n, root)
	if err != nil {
		return err
	}
	return l.witnessCheckpoint(ctx, c, cp)
}

// witnessCheckpoint hands cp to the witness, retrying while other writers
// move it.
func (l *Ledger) witnessCheckpoint(ctx context.Context, c CaseID, cp Checkpoint) error {
	for range witnessAttempts {
		old := int64(0)
		held, err := l.witness.Latest(ctx, c)
		switch {
		case err == nil:
			old = held.Size
		case !errors.Is(err, ErrNotFound):
			return fmt.Errorf("evidence: witness case %s: %w", c, err)
		}
		if old > cp.Size {
			return nil // a later checkpoint is witnessed already
		}
		var proof []Hash
		if old > 0 {
			if proof, err = l.ProveConsistency(ctx, c, old, cp.Size); err != nil {
				return err
			}
		}
		err = l.witness.Witness(ctx, c, old, proof, cp)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("evidence: witness case %s: %w", c, err)
		}
		return nil
	}
	return fmt.Errorf("evidence: witness case %s: too much contention: %w", c, ErrConflict)
}

// checkWitnessed checks case c's log, as verified in rep with the rebuilt
// tree hashes, against the checkpoint the witness holds, then witnesses
// the log as verified if it is sound and the witness is behind.
func (l *Ledger) checkWitnessed(ctx context.Context, c CaseID, rep *Report, rebuilt []Hash) {
	held, err := l.witness.Latest(ctx, c)
	if errors.Is(err, ErrNotFound) {
		l.rewitness(ctx, c, rep, 0)
		return
	}
	if err != nil {
		rep.Add(fmt.Errorf("evidence: read the witnessed checkpoint of case %s: %w", c, err))
		return
	}
	opened, err := OpenCheckpoint(held.Note, l.vkey)
	if err != nil {
		var te *TamperError
		if errors.As(err, &te) {
			te.Case, te.What = c, "witnessed checkpoint"
		}
		rep.Add(err)
		return
	}
	rollback := func(expected, found string) {
		rep.Add(&TamperError{Case: c, Record: -1, What: "rollback", Expected: expected, Found: found})
	}
	if opened.Origin != l.Origin(c) {
		rollback("a witnessed checkpoint of origin "+l.Origin(c), "origin "+opened.Origin)
		return
	}
	if opened.Size > rep.Size {
		// Records appended since the log was read may have been
		// witnessed already: the log verified must then be a prefix of
		// the log witnessed, as the store proves it now.
		if rep.Size > 0 && int64(len(rebuilt)) < tlog.StoredHashCount(rep.Size) {
			return // the tree could not be rebuilt: a problem already
		}
		if err := l.checkWitnessedAhead(ctx, c, rep, opened); err != nil {
			rollback(fmt.Sprintf("at least the %d records witnessed", opened.Size), err.Error())
		}
		return
	}
	if int64(len(rebuilt)) < tlog.StoredHashCount(rep.Size) {
		return // the tree could not be rebuilt: a problem already
	}
	root, err := tlog.TreeHash(opened.Size, tlog.HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		out := make([]Hash, len(indexes))
		for i, x := range indexes {
			out[i] = rebuilt[x]
		}
		return out, nil
	}))
	if err != nil {
		rep.Add(fmt.Errorf("evidence: tree hash at %d: %w", opened.Size, err))
		return
	}
	if root != opened.Root {
		rollback(fmt.Sprintf("the witnessed root %s at size %d", opened.Root, opened.Size), "root "+root.String())
		return
	}
	l.rewitness(ctx, c, rep, opened.Size)
}

// checkWitnessedAhead checks a witnessed checkpoint of more records than
// the log rep verified: the store must hold at least as many records now,
// and prove the log verified a prefix of the log witnessed. It returns
// what was found instead.
func (l *Ledger) checkWitnessedAhead(ctx context.Context, c CaseID, rep *Report, witnessed Checkpoint) error {
	n, err := l.store.Size(ctx, c)
	if err != nil {
		return fmt.Errorf("%d records verified, and the store's size could not be read: %w", rep.Size, err)
	}
	if n < witnessed.Size {
		return fmt.Errorf("%d records", n)
	}
	if rep.Size == 0 {
		return nil
	}
	proof, err := l.ProveConsistency(ctx, c, rep.Size, witnessed.Size)
	if err == nil {
		err = tlog.CheckTree(proof, witnessed.Size, witnessed.Root, rep.Size, rep.Root)
	}
	if err != nil {
		return fmt.Errorf("%d records verified, of root %s, not a prefix of the log witnessed: %w", rep.Size, rep.Root, err)
	}
	return nil
}

// rewitness witnesses the log rep verified if it is sound and longer than
// the size witnessed, so that records whose witnessing failed when they
// were appended are covered now.
func (l *Ledger) rewitness(ctx context.Context, c CaseID, rep *Report, witnessed int64) {
	if !rep.OK() || rep.Size <= witnessed {
		return
	}
	cp, err := signCheckpoint(l.signer, l.Origin(c), rep.Size, rep.Root)
	if err == nil {
		err = l.witnessCheckpoint(ctx, c, cp)
	}
	if err != nil {
		rep.Add(fmt.Errorf("evidence: verify case %s: the log verified but could not be witnessed: %w", c, err))
	}
}

// checkWitnessOrigin checks that a checkpoint a witness holds or is given
// is of case c: its origin ends with the case ID.
func checkWitnessOrigin(c CaseID, cp Checkpoint) error {
	if !strings.HasSuffix(cp.Origin, "/"+string(c)) {
		return &TamperError{Case: c, Record: -1, What: "witnessed checkpoint", Expected: "a checkpoint of case " + string(c), Found: "origin " + cp.Origin}
	}
	return nil
}

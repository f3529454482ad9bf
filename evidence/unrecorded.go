package evidence

import (
	"context"
	"errors"
	"fmt"
)

// sealDomain starts every message a locker seals, so that a seal is never
// valid as any other signature its key makes: a checkpoint note starts
// with its origin, which holds no space.
const sealDomain = "incidentkit staged collection v1\n"

// Staged is a collection [Locker.Stage] has staged: its content is stored,
// and Record is its collected record, with the new item as its Snapshot,
// not yet appended. Seal is the locker's signature of Record, made with
// its ledger's signing key: [Locker.CompleteCollection] and
// [Locker.CheckStaged] take only a record with a valid seal, so that only
// a collection the locker itself staged, unaltered, can be completed.
//
// Without the seal, whoever may collect into one case could hand-make a
// "staged" record for that case naming content collected into another
// (its digest is no secret: it is in every record, report and bundle),
// complete it, and then open the other case's content as their own item.
//
// A Staged value may be kept (it encodes to JSON and back) and completed
// later, by any locker whose ledger has the same signing key. Changing
// anything in Record, even a field the record would keep as well
// unchanged, voids the seal.
type Staged struct {
	// Record is the collected record as staged.
	Record Record `json:"record"`
	// Seal is the locker's signature over Record.
	Seal []byte `json:"seal"`
}

// sealMessage is what a locker signs to seal r: the domain, then r's
// canonical encoding.
func sealMessage(r Record) ([]byte, error) {
	enc, err := r.Encode()
	if err != nil {
		return nil, invalid("staged record", err.Error())
	}
	return append([]byte(sealDomain), enc...), nil
}

// seal seals r, staged by l.
func (l *Locker) seal(r Record) (Staged, error) {
	msg, err := sealMessage(r)
	if err != nil {
		return Staged{}, err
	}
	sig, err := l.ledger.signer.Sign(msg)
	if err != nil {
		return Staged{}, fmt.Errorf("evidence: seal the staged collection of %s: %w", r.Item, err)
	}
	return Staged{Record: r, Seal: sig}, nil
}

// sealed reports whether s carries a valid seal of its record by l's key.
func (l *Locker) sealed(s Staged) bool {
	if len(s.Seal) == 0 {
		return false
	}
	msg, err := sealMessage(s.Record)
	if err != nil {
		return false
	}
	return l.verifier.Verify(msg, s.Seal)
}

// UnrecordedError is the error of a collection whose content was stored
// but whose collected record could not be appended: typically because
// other writers kept taking the head of the case's log until the write
// timeout (the error then matches [ErrConflict]), or because the store
// failed. The content is not lost to custody: Staged is the collection as
// staged, sealed by the locker, and [Locker.CompleteCollection] (or,
// through an incident responder, its own completing method) appends its
// record later without reading the source again. Pass Staged back as it
// is: an altered one is refused.
type UnrecordedError struct {
	// Staged is the collection staged, its record not yet appended.
	Staged Staged
	// Err is why it was not appended.
	Err error
}

func (e *UnrecordedError) Error() string {
	return fmt.Sprintf("evidence: content of item %s (%s) stored but its collection not recorded: %v",
		e.Staged.Record.Item, e.Staged.Record.Digest, e.Err)
}

// Unwrap returns the reason the record was not appended.
func (e *UnrecordedError) Unwrap() error { return e.Err }

// CompleteCollection appends the collected record of a collection that
// [Locker.Stage] returned, or that an [*UnrecordedError] carries, and
// returns the item as stored. It checks s as [Locker.CheckStaged] does:
// the policy first, then that s is sealed by this locker's key and
// unaltered, then that the blob store holds its content. Completing a
// collection already recorded, with the same item, returns the item as
// stored and writes nothing, so that it is safe to call again after an
// error that leaves unknown whether the record was written. Another item
// with the same ID in the case is refused with an error matching
// [ErrConflict].
func (l *Locker) CompleteCollection(ctx context.Context, s Staged) (Item, error) {
	if err := l.CheckStaged(ctx, s); err != nil {
		return Item{}, err
	}
	r := s.Record
	if it, done, err := l.collectedAlready(ctx, r); done || err != nil {
		return it, err
	}
	rec, err := l.ledger.Append(ctx, r)
	if err != nil {
		if it, done, derr := l.collectedAlready(ctx, r); done && derr == nil {
			return it, nil
		}
		if errors.Is(err, ErrInvalid) {
			return Item{}, err
		}
		return Item{}, &UnrecordedError{Staged: s, Err: err}
	}
	return *rec.Snapshot, nil
}

// CheckStaged checks that s is a collection as [Locker.Stage] stages it,
// asks the policy whether its record's actor may collect it, checks that
// s carries this locker's seal of its record, unaltered, and that the
// locker's blob store holds its content with the size its item gives. It
// is for a store that appends s.Record in the same transaction as other
// changes, with [Ledger.Prepare].
//
// The policy is asked before anything is looked up, so that a refused
// actor learns nothing of what the blob store holds. A record that is not
// shaped as a staged collection gives an error matching [ErrInvalid]; a
// refusal by the policy one matching [ErrDenied]. A record without this
// locker's seal, or altered since it was sealed, is refused as well, with
// an error matching [ErrDenied], and the refusal is recorded as the
// policy's are (see [Refusal]): it is not a mistake to correct but
// content the actor was never given (a record hand-made to name content
// of another case, for one), and nothing the caller changes in it can
// make it acceptable. Content that is not stored gives an error matching
// [ErrNotFound].
func (l *Locker) CheckStaged(ctx context.Context, s Staged) error {
	r := s.Record
	switch {
	case r.Action != ActionCollected || r.Snapshot == nil:
		return invalid("staged record", "not a collected record with its item")
	case r.Snapshot.ID != r.Item || r.Snapshot.CaseID != r.Case:
		return invalid("staged record", "its item is not the item of the record")
	case r.Digest != r.Snapshot.Digests.SHA256:
		return invalid("staged record", "its digest is not its item's")
	}
	if err := checkRecord(r); err != nil {
		return err
	}
	// The policy first, as everywhere: a refused actor must not learn
	// whether the blob store holds some content.
	req := AccessRequest{Case: r.Case, Item: r.Item, Action: ActionCollected, Actor: r.Actor, Authority: r.Authority, Reason: r.Reason}
	if by := r.Snapshot.CollectedBy; by.ID != r.Actor.ID {
		req.OnBehalfOf = by
	}
	if err := l.allow(ctx, req); err != nil {
		return err
	}
	if !l.sealed(s) {
		return l.refuse(ctx, req, errNotSealed)
	}
	size, err := l.blobs.Stat(ctx, r.Digest)
	if err != nil {
		return wrapOp(fmt.Sprintf("complete the collection of %s: content %s", r.Item, r.Digest), err)
	}
	if size != r.Snapshot.Size {
		return invalid("staged record", fmt.Sprintf("its item has %d bytes, the content stored %d", r.Snapshot.Size, size))
	}
	return nil
}

// errNotSealed is why a staged collection without a valid seal is refused.
var errNotSealed = errors.New("not a collection this locker staged, or altered since: " +
	"complete only what Locker.Stage returned or an UnrecordedError carries, unchanged")

// collectedAlready reports whether the item r collects is in its case
// already, and returns it if it is the item r describes: a collection
// completed before. Another item with its ID is a conflict.
func (l *Locker) collectedAlready(ctx context.Context, r Record) (Item, bool, error) {
	it, err := l.ledger.store.Item(ctx, r.Case, r.Item)
	if err != nil {
		// Not stored, or not readable now: the append decides.
		return Item{}, false, nil
	}
	want := r.Snapshot.Clone()
	if want.Exhibit == "" {
		want.Exhibit = it.Exhibit
	}
	if !sameItem(it, want) {
		return Item{}, true, wrapOp(fmt.Sprintf("complete the collection of %s: another item has its ID", r.Item), ErrConflict)
	}
	return it, true, nil
}

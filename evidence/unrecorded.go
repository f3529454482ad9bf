package evidence

import (
	"context"
	"errors"
	"fmt"
)

// UnrecordedError is the error of a collection whose content was stored
// but whose collected record could not be appended: typically because
// other writers kept taking the head of the case's log until the write
// timeout (the error then matches [ErrConflict]), or because the store
// failed. The content is not lost to custody: Record is the collected
// record as staged, with the new item as its Snapshot, and
// [Locker.CompleteCollection] (or, through an incident responder, its own
// completing method) appends it later without reading the source again.
type UnrecordedError struct {
	// Record is the collected record staged, not yet appended.
	Record Record
	// Err is why it was not appended.
	Err error
}

func (e *UnrecordedError) Error() string {
	return fmt.Sprintf("evidence: content of item %s (%s) stored but its collection not recorded: %v",
		e.Record.Item, e.Record.Digest, e.Err)
}

// Unwrap returns the reason the record was not appended.
func (e *UnrecordedError) Unwrap() error { return e.Err }

// CompleteCollection appends a collected record that [Locker.Stage]
// returned, or that an [*UnrecordedError] carries, and returns the item as
// stored. It checks the record is a staged collection of content the
// locker's blob store holds (with the size the item gives), and asks the
// policy again, as [Locker.Collect] does. Completing a collection already
// recorded, with the same item, returns the item as stored and writes
// nothing, so that it is safe to call again after an error that leaves
// unknown whether the record was written. Another item with the same ID
// in the case is refused with an error matching [ErrConflict].
func (l *Locker) CompleteCollection(ctx context.Context, r Record) (Item, error) {
	if err := l.CheckStaged(ctx, r); err != nil {
		return Item{}, err
	}
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
		return Item{}, &UnrecordedError{Record: r, Err: err}
	}
	return *rec.Snapshot, nil
}

// CheckStaged checks that r is a collected record as [Locker.Stage] makes
// it, asks the policy whether r's actor may collect it (before looking
// for its content, so that a refused actor learns nothing of what the
// blob store holds), and checks the locker's blob store holds its content
// with the size its item gives. It is for
// a store that appends r in the same transaction as other changes, with
// [Ledger.Prepare]. A refusal matches [ErrDenied]; a record that is not a
// staged collection [ErrInvalid]; content that is not stored [ErrNotFound].
func (l *Locker) CheckStaged(ctx context.Context, r Record) error {
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
	size, err := l.blobs.Stat(ctx, r.Digest)
	if err != nil {
		return wrapOp(fmt.Sprintf("complete the collection of %s: content %s", r.Item, r.Digest), err)
	}
	if size != r.Snapshot.Size {
		return invalid("staged record", fmt.Sprintf("its item has %d bytes, the content stored %d", r.Snapshot.Size, size))
	}
	return nil
}

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

package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
)

// AccessRequest is what an [AccessPolicy] decides on: someone wanting to
// take a custody action on an item.
type AccessRequest struct {
	Case      CaseID
	Item      ItemID
	Action    Action
	Actor     Party
	Authority string
	Reason    string
}

// AccessPolicy decides whether a custody action may be taken. Allow returns
// nil to allow it, or an error saying why not; the [Locker] then records
// the refusal as an [ActionAccessDenied] record and returns an error
// matching [ErrDenied]. Implementations must be safe for concurrent use.
type AccessPolicy interface {
	Allow(ctx context.Context, req AccessRequest) error
}

// AccessPolicyFunc adapts a function to an [AccessPolicy].
type AccessPolicyFunc func(ctx context.Context, req AccessRequest) error

// Allow calls f.
func (f AccessPolicyFunc) Allow(ctx context.Context, req AccessRequest) error { return f(ctx, req) }

// LockerConfig configures a [Locker].
type LockerConfig struct {
	// Ledger keeps the custody logs. Required.
	Ledger *Ledger
	// Blobs keeps the items' content. Required.
	Blobs BlobStore
	// Policy decides who may do what with evidence. Nil allows
	// everything.
	Policy AccessPolicy
	// Now tells the time. Nil means time.Now.
	Now func() time.Time
	// NewID makes item IDs. Nil means RFC 9562 version 7 UUIDs.
	NewID func() ItemID
}

// Locker is an evidence locker: it takes in evidence, keeps its content in a
// content-addressed [BlobStore], and records every custody action in the
// case's [Ledger]. It is safe for concurrent use.
type Locker struct {
	ledger *Ledger
	blobs  BlobStore
	policy AccessPolicy
	now    func() time.Time
	newID  func() ItemID
}

// NewLocker returns a Locker configured by cfg.
func NewLocker(cfg LockerConfig) (*Locker, error) {
	if cfg.Ledger == nil {
		return nil, invalid("config", "LockerConfig.Ledger is required")
	}
	if cfg.Blobs == nil {
		return nil, invalid("config", "LockerConfig.Blobs is required")
	}
	l := &Locker{ledger: cfg.Ledger, blobs: cfg.Blobs, policy: cfg.Policy, now: cfg.Now, newID: cfg.NewID}
	if l.now == nil {
		l.now = time.Now
	}
	if l.newID == nil {
		l.newID = func() ItemID { return ItemID(uuid.Must(uuid.NewV7()).String()) }
	}
	return l, nil
}

// Ledger returns the locker's ledger.
func (l *Locker) Ledger() *Ledger { return l.ledger }

// Collection describes evidence being taken in.
type Collection struct {
	Case CaseID
	// Name names the item, such as a file name; required. It is a label,
	// never a path: it is kept as given (without surrounding spaces),
	// whatever it holds (a name like "../../etc/passwd" included), and
	// never touches the file system, where content is kept under its
	// digest. See [MaxNameLen] and the other limits.
	Name      string
	Kind      Kind
	MediaType string
	// Content is read once, to the end, and stored.
	Content io.Reader
	Source  Source
	// CollectedBy is who collected it; required. CollectedAt is when, in
	// their time zone; zero means now.
	CollectedBy Party
	CollectedAt time.Time
	Location    string
	Labels      []string
	// Authority, Reason, Tool and Notes go into the collected record.
	Authority, Reason, Tool, Notes string
	// SHA1 and MD5 also compute those digests.
	SHA1, MD5 bool
	// Progress, if set, is told how many bytes have been read.
	Progress func(read int64)
	// MaxSize, if positive, refuses larger content.
	MaxSize int64
}

// Collect takes in an item: it stores its content (hashing it in the same
// pass), gives it the case's next exhibit number, and appends its collected
// record to the case's custody log. The record is written even if ctx is
// cancelled once the content is stored. If it cannot be, the error is an
// [*UnrecordedError] carrying the record, for
// [Locker.CompleteCollection].
func (l *Locker) Collect(ctx context.Context, c Collection) (Item, error) {
	r, err := l.Stage(ctx, c)
	if err != nil {
		return Item{}, err
	}
	rec, err := l.ledger.Append(ctx, r)
	if err != nil && !errors.Is(err, ErrInvalid) {
		// The content is stored: say how to finish recording it.
		return Item{}, &UnrecordedError{Record: r, Err: err}
	}
	if err != nil {
		return Item{}, err
	}
	return *rec.Snapshot, nil
}

// Stage does the first half of [Locker.Collect]: it checks c, asks the
// policy, and stores the content (hashing it in the same pass), then
// returns the collected record, not yet appended, with the new item as its
// Snapshot. Append it with [Ledger.Append], or with [Ledger.Prepare] when a
// store writes it in the same transaction as other changes. Content stored
// for a record never appended is harmless: blobs are content-addressed and
// unreferenced.
func (l *Locker) Stage(ctx context.Context, c Collection) (Record, error) {
	if err := checkCollection(c); err != nil {
		return Record{}, err
	}
	kind := c.Kind
	if kind == "" {
		kind = KindOther
	}
	at := c.CollectedAt
	if at.IsZero() {
		at = l.now()
	}
	at = at.Round(0) // the wall time only: it is what the record keeps
	id := l.newID()
	req := AccessRequest{Case: c.Case, Item: id, Action: ActionCollected, Actor: c.CollectedBy, Authority: c.Authority, Reason: c.Reason}
	if err := l.allow(ctx, req, false); err != nil {
		return Record{}, err
	}
	res, err := Ingest(ctx, l.blobs, c.Content, IngestOptions{SHA1: c.SHA1, MD5: c.MD5, Progress: c.Progress, MaxSize: c.MaxSize})
	if err != nil {
		return Record{}, wrapOp(fmt.Sprintf("collect %s", c.Name), err)
	}
	item := Item{
		ID: id, CaseID: c.Case, Name: strings.TrimSpace(c.Name), Kind: kind, MediaType: c.MediaType,
		Size: res.Size, Digests: res.Digests, Source: c.Source, CollectedBy: c.CollectedBy,
		CollectedAt: at, Location: c.Location, Labels: c.Labels,
	}
	item = item.Clone()
	return Record{
		Case: c.Case, Item: id, Action: ActionCollected, Actor: c.CollectedBy, Authority: c.Authority,
		Location: c.Location, At: at, Reason: c.Reason, Tool: c.Tool, Digest: res.Digests.SHA256,
		Notes: c.Notes, Snapshot: &item,
	}, nil
}

func checkCollection(c Collection) error {
	if err := checkCaseID(c.Case); err != nil {
		return err
	}
	if strings.TrimSpace(c.Name) == "" {
		return invalid("name", "must not be empty")
	}
	if c.Kind != "" {
		if _, err := ParseKind(string(c.Kind)); err != nil {
			return err
		}
	}
	if c.Content == nil {
		return invalid("content", "must not be nil")
	}
	if c.CollectedBy.ID == "" {
		return invalid("collected by", "a party needs an ID")
	}
	return checkCollectionText(c)
}

// checkCollectionText checks the text c gives the item and its collected
// record against the limits (see [MaxNameLen]), before any content is
// read.
func checkCollectionText(c Collection) error {
	for _, f := range []struct {
		field, v string
		max      int
	}{
		{"name", strings.TrimSpace(c.Name), MaxNameLen},
		{"media type", c.MediaType, MaxNameLen},
		{"location", c.Location, MaxNameLen},
		{"authority", c.Authority, MaxTextLen},
		{"reason", c.Reason, MaxTextLen},
		{"tool", c.Tool, MaxNameLen},
		{"notes", c.Notes, MaxNotesLen},
	} {
		if err := checkText(f.field, f.v, f.max); err != nil {
			return err
		}
	}
	if err := checkSource(c.Source); err != nil {
		return err
	}
	if err := checkParty("collected by", c.CollectedBy); err != nil {
		return err
	}
	return checkList("labels", c.Labels, MaxLabels, MaxNameLen)
}

// Record takes a custody action on an item, after the policy allows it, and
// returns the record as stored. If the policy refuses, the refusal is
// recorded as an [ActionAccessDenied] record and an error matching
// [ErrDenied] is returned. Zero At means now.
func (l *Locker) Record(ctx context.Context, r Record) (Record, error) {
	if r.At.IsZero() {
		r.At = l.now().Round(0)
	}
	if r.Action == ActionCollected {
		return Record{}, invalid("record", "use Collect to take in evidence")
	}
	if err := checkRecord(r); err != nil {
		return Record{}, err
	}
	req := AccessRequest{Case: r.Case, Item: r.Item, Action: r.Action, Actor: r.Actor, Authority: r.Authority, Reason: r.Reason}
	if err := l.allow(ctx, req, true); err != nil {
		return Record{}, err
	}
	return l.ledger.Append(ctx, r)
}

// allow asks the policy; a refusal of an action on an existing item is
// itself recorded.
func (l *Locker) allow(ctx context.Context, req AccessRequest, recordRefusal bool) error {
	if l.policy == nil {
		return nil
	}
	perr := l.policy.Allow(ctx, req)
	if perr == nil {
		return nil
	}
	denied := &opError{op: fmt.Sprintf("%s of %s denied to %s", req.Action, req.Item, req.Actor.ID), kind: ErrDenied, err: perr}
	if !recordRefusal {
		return denied
	}
	_, err := l.ledger.Append(ctx, Record{
		Case: req.Case, Item: req.Item, Action: ActionAccessDenied, Actor: req.Actor, Authority: req.Authority,
		At: l.now().Round(0), Reason: req.Reason, Notes: fmt.Sprintf("refused %s: %v", req.Action, perr),
	})
	if err != nil {
		return errors.Join(denied, wrapOp("record the refusal", err))
	}
	return denied
}

// Open records that actor accessed the item, after the policy allows it,
// and returns its content. The reader re-hashes the content as it is read
// and fails with an error matching [ErrTampered] at the end if it is not
// what was collected.
func (l *Locker) Open(ctx context.Context, c CaseID, id ItemID, actor Party, reason string) (io.ReadCloser, error) {
	item, err := l.ledger.store.Item(ctx, c, id)
	if err != nil {
		return nil, wrapOp(fmt.Sprintf("open %s", id), err)
	}
	if _, err := l.Record(ctx, Record{Case: c, Item: id, Action: ActionAccessed, Actor: actor, Reason: reason}); err != nil {
		return nil, err
	}
	return l.blobs.Open(ctx, item.Digests.SHA256)
}

// Item returns an item of a case.
func (l *Locker) Item(ctx context.Context, c CaseID, id ItemID) (Item, error) {
	it, err := l.ledger.store.Item(ctx, c, id)
	if err != nil {
		return Item{}, wrapOp(fmt.Sprintf("item %s", id), err)
	}
	return it, nil
}

// Items returns a case's items in the order they were collected.
func (l *Locker) Items(ctx context.Context, c CaseID) ([]Item, error) {
	items, err := l.ledger.store.Items(ctx, c)
	if err != nil {
		return nil, wrapOp(fmt.Sprintf("items of case %s", c), err)
	}
	return items, nil
}

// Verify checks a case completely: the custody log as [Ledger.Verify] does,
// and every item's content, re-hashed from the blob store and compared with
// the digest recorded when it was collected. It reports every problem.
func (l *Locker) Verify(ctx context.Context, c CaseID) (*Report, error) {
	rep, err := l.ledger.Verify(ctx, c)
	if err != nil {
		return nil, err
	}
	items, err := l.Items(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := l.checkBlob(ctx, it); err != nil {
			rep.Problems = append(rep.Problems, err)
		}
	}
	return rep, nil
}

// ExportVerified exports case c and checks the export as [Locker.Verify]
// checks the case, re-hashing every item's content from the blob store:
// see [Ledger.ExportVerified].
func (l *Locker) ExportVerified(ctx context.Context, c CaseID) (CaseLog, *Report, error) {
	log, rep, err := l.ledger.ExportVerified(ctx, c)
	if err != nil {
		return CaseLog{}, nil, err
	}
	for _, it := range log.Items {
		if err := l.checkBlob(ctx, it); err != nil {
			rep.Problems = append(rep.Problems, err)
		}
	}
	return log, rep, nil
}

// checkBlob re-hashes one item's content.
func (l *Locker) checkBlob(ctx context.Context, it Item) error {
	rc, err := l.blobs.Open(ctx, it.Digests.SHA256)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return &TamperError{Case: it.CaseID, Item: it.ID, Record: -1, What: "blob",
				Expected: "content " + it.Digests.SHA256, Found: "no content"}
		}
		return wrapOp(fmt.Sprintf("check %s", it.ID), err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		var te *TamperError
		if errors.As(err, &te) {
			te.Case, te.Item = it.CaseID, it.ID
			return te
		}
		return wrapOp(fmt.Sprintf("check %s", it.ID), err)
	}
	if n != it.Size {
		return &TamperError{Case: it.CaseID, Item: it.ID, Record: -1, What: "blob",
			Expected: fmt.Sprintf("%d bytes", it.Size), Found: fmt.Sprintf("%d bytes", n)}
	}
	return nil
}

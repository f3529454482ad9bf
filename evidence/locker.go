package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
)

// AccessRequest is what an [AccessPolicy] decides on: someone wanting to
// take a custody action on an item.
type AccessRequest struct {
	Case CaseID
	// Item is the item acted on; for a collection, the ID the new item
	// would get.
	Item   ItemID
	Action Action
	// Actor is who asks: the party that would be the record's actor. It
	// is the identity the caller gave the locker, not authenticated by
	// it (see [Party]).
	Actor Party
	// OnBehalfOf is set for a collection on someone else's behalf: the
	// party the item would be recorded as collected by
	// ([Collection.CollectedBy]), when its ID is not Actor's. A policy that
	// allows Actor to collect does not by that allow them to collect for
	// others: it decides on both.
	OnBehalfOf Party
	Authority  string
	Reason     string
}

// AccessPolicy decides whether a custody action may be taken. Allow returns
// nil to allow it, or an error saying why not; the [Locker] then records
// the refusal (see [Refusal]) and returns an error matching [ErrDenied].
// The locker asks the policy before it reads anything about the item, so a
// refused actor learns nothing, not even whether the item exists.
// Implementations must be safe for concurrent use.
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
	// Refused is told of every refusal by Policy, after the locker
	// recorded it in the item's custody log where it could (see
	// [Refusal]); it must be safe for concurrent use and should return
	// quickly. Nil logs every refusal with [slog.Default] at level
	// Warn, so that no refusal goes unrecorded.
	Refused func(ctx context.Context, r Refusal)
}

// Refusal is an action the [AccessPolicy] refused. A refused action on an
// item in the case's custody log is recorded there as an
// [ActionAccessDenied] record (Record). A refusal that concerns no item in
// the log, a refused collection or a refused action on an item the case
// does not hold, cannot be: an item's log starts with its collection, so
// it goes to [LockerConfig.Refused] only, which is told of every refusal.
type Refusal struct {
	// Request is what was refused.
	Request AccessRequest
	// At is when, by the locker's clock.
	At time.Time
	// Err is the policy's reason, or the locker's own when it refuses
	// what the policy allowed: a staged collection it did not seal (see
	// [Locker.CheckStaged]).
	Err error
	// Record is the [ActionAccessDenied] record appended to the item's
	// custody log, or nil if none was.
	Record *Record
	// RecordErr is why appending the refusal to the item's custody log
	// failed, if it did for another reason than the item not being in
	// the log. The refused caller is not told: its error is the same
	// whether or not the item exists.
	RecordErr error
}

// LogValue describes the refusal for log/slog.
func (r Refusal) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("case", string(r.Request.Case)), slog.String("item", string(r.Request.Item)),
		slog.String("action", string(r.Request.Action)), slog.String("actor", r.Request.Actor.ID),
	}
	if !r.Request.OnBehalfOf.IsZero() {
		attrs = append(attrs, slog.String("on_behalf_of", r.Request.OnBehalfOf.ID))
	}
	if r.Err != nil {
		attrs = append(attrs, slog.String("reason", r.Err.Error()))
	}
	if r.Record != nil {
		attrs = append(attrs, slog.Int64("record", r.Record.Index))
	}
	if r.RecordErr != nil {
		attrs = append(attrs, slog.String("record_error", r.RecordErr.Error()))
	}
	return slog.GroupValue(attrs...)
}

// Locker is an evidence locker: it takes in evidence, keeps its content in a
// content-addressed [BlobStore], and records every custody action in the
// case's [Ledger]. It is safe for concurrent use.
//
// # Access
//
// The [AccessPolicy] governs every action that takes custody or reaches
// content: [Locker.Collect], [Locker.Stage], [Locker.CompleteCollection]
// (and [Locker.CheckStaged]), [Locker.Record] and [Locker.Open]. Each
// names its actor (for a collection, [Collection.Actor]), the policy is
// asked before anything else is read or written, and each refusal is
// recorded (see [Refusal]) and returns an error matching [ErrDenied], the
// same whether or not the item exists. Completing a collection also needs
// the locker's seal on it (see [Staged]): the policy decides on the case
// the record names, and the seal makes sure that record, with the content
// it names, is one the locker staged for that case.
//
// The reads that take no actor are not governed: [Locker.Item],
// [Locker.Items], [Locker.Verify] and [Locker.ExportVerified], and what is
// built on them (the custody report, CASE/UCO export). They give an item's
// description, digests and history, never its content, and checking a
// chain of custody must stay open to whoever is entitled to check it (an
// auditor, an opposing expert, who receive it in a bundle anyway); there
// is no actor to ask about. Deciding who may call them is the embedding
// program's job, as is authenticating the parties it names: the locker
// takes every [Party] as given.
//
// [Locker.Ledger] is privileged and outside the policy: see there. So is
// exporting a bundle, which reads the ledger and the [BlobStore]
// directly, content included if asked.
type Locker struct {
	ledger  *Ledger
	blobs   BlobStore
	policy  AccessPolicy
	now     func() time.Time
	newID   func() ItemID
	refused func(ctx context.Context, r Refusal)
	// verifier checks the seals of staged collections (see [Staged]).
	verifier note.Verifier
}

// NewLocker returns a Locker configured by cfg.
func NewLocker(cfg LockerConfig) (*Locker, error) {
	if cfg.Ledger == nil {
		return nil, invalid("config", "LockerConfig.Ledger is required")
	}
	if cfg.Blobs == nil {
		return nil, invalid("config", "LockerConfig.Blobs is required")
	}
	verifier, err := note.NewVerifier(cfg.Ledger.vkey)
	if err != nil {
		return nil, invalid("config", "the ledger's verifier key: "+err.Error())
	}
	l := &Locker{ledger: cfg.Ledger, blobs: cfg.Blobs, policy: cfg.Policy, now: cfg.Now, newID: cfg.NewID, refused: cfg.Refused, verifier: verifier}
	if l.refused == nil {
		l.refused = func(ctx context.Context, r Refusal) {
			slog.Default().LogAttrs(ctx, slog.LevelWarn, "evidence: access refused", slog.Any("refusal", r))
		}
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.newID == nil {
		l.newID = func() ItemID { return ItemID(uuid.Must(uuid.NewV7()).String()) }
	}
	return l, nil
}

// Ledger returns the locker's ledger. It is privileged: the ledger appends
// whatever valid record it is given ([Ledger.Append], [Ledger.Prepare]),
// for any actor, without asking the locker's [AccessPolicy], as it must
// for what builds on it (writing a collection in one transaction with
// other changes, importing a verified bundle, signing checkpoints).
// Whoever holds a Locker holds its ledger: an [AccessPolicy] decides on
// the requests a program makes on its users' behalf through the locker's
// own methods, and is no boundary within the program. A program that
// lets code act for users it has not authorised hands that code neither
// the Locker nor its Ledger, but only calls it makes itself.
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
	// Actor is who takes the item in: the party the [AccessPolicy] is
	// asked about and the actor of the collected record. Zero means
	// CollectedBy: the collector takes in what they collected. Like
	// every party, it is taken as given (see [Party]).
	Actor Party
	// CollectedBy is who collected it; zero means Actor. One of the two
	// is required. When its ID is not Actor's, Actor takes the item in
	// on CollectedBy's behalf: the policy sees both
	// ([AccessRequest.OnBehalfOf]), and both are recorded, Actor as the
	// collected record's actor and CollectedBy as the item's collector.
	// CollectedAt is when it was collected, in the collector's time
	// zone; zero means now.
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

// Collect takes in an item, after the policy allows c.Actor to (on
// c.CollectedBy's behalf, if that is someone else): it stores its content
// (hashing it in the same pass), gives it the case's next exhibit number,
// and appends its collected record to the case's custody log, with c.Actor
// as its actor. A refusal reads nothing, is recorded as [Refusal] says and
// returns an error matching [ErrDenied]. The record is written even if ctx
// is cancelled once the content is stored. If it cannot be, the error is an
// [*UnrecordedError] carrying the staged collection, for
// [Locker.CompleteCollection].
func (l *Locker) Collect(ctx context.Context, c Collection) (Item, error) {
	s, err := l.Stage(ctx, c)
	if err != nil {
		return Item{}, err
	}
	rec, err := l.ledger.Append(ctx, s.Record)
	if err != nil && !errors.Is(err, ErrInvalid) {
		// The content is stored: say how to finish recording it.
		return Item{}, &UnrecordedError{Staged: s, Err: err}
	}
	if err != nil {
		return Item{}, err
	}
	return *rec.Snapshot, nil
}

// Stage does the first half of [Locker.Collect]: it checks c, asks the
// policy as Collect does, and stores the content (hashing it in the same
// pass), then returns the collection staged: its collected record, not
// yet appended, with the new item as its Snapshot, sealed by the locker
// (see [Staged]). Append the record with [Ledger.Append], or with
// [Ledger.Prepare] when a store writes it in the same transaction as
// other changes (after [Locker.CheckStaged] if the collection was staged
// earlier), or give the Staged value to [Locker.CompleteCollection].
// Content stored for a record never appended is harmless: blobs are
// content-addressed and unreferenced.
func (l *Locker) Stage(ctx context.Context, c Collection) (Staged, error) {
	c = withParties(c)
	if err := checkCollection(c); err != nil {
		return Staged{}, err
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
	req := AccessRequest{Case: c.Case, Item: id, Action: ActionCollected, Actor: c.Actor, Authority: c.Authority, Reason: c.Reason}
	if c.CollectedBy.ID != c.Actor.ID {
		req.OnBehalfOf = c.CollectedBy
	}
	if err := l.allow(ctx, req); err != nil {
		return Staged{}, err
	}
	res, err := Ingest(ctx, l.blobs, c.Content, IngestOptions{SHA1: c.SHA1, MD5: c.MD5, Progress: c.Progress, MaxSize: c.MaxSize})
	if err != nil {
		return Staged{}, wrapOp(fmt.Sprintf("collect %s", c.Name), err)
	}
	item := Item{
		ID: id, CaseID: c.Case, Name: strings.TrimSpace(c.Name), Kind: kind, MediaType: c.MediaType,
		Size: res.Size, Digests: res.Digests, Source: c.Source, CollectedBy: c.CollectedBy,
		CollectedAt: at, Location: c.Location, Labels: c.Labels,
	}
	item = item.Clone()
	return l.seal(Record{
		Case: c.Case, Item: id, Action: ActionCollected, Actor: c.Actor, Authority: c.Authority,
		Location: c.Location, At: at, Reason: c.Reason, Tool: c.Tool, Digest: res.Digests.SHA256,
		Notes: c.Notes, Snapshot: &item,
	})
}

// withParties fills in whichever of c's actor and collector is unset with
// the other.
func withParties(c Collection) Collection {
	switch {
	case c.Actor.IsZero():
		c.Actor = c.CollectedBy
	case c.CollectedBy.IsZero():
		c.CollectedBy = c.Actor
	}
	return c
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
	if c.Actor.ID == "" {
		return invalid("actor", "a party needs an ID; set Collection.Actor or CollectedBy")
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
	if !c.CollectedAt.IsZero() {
		if err := checkTime("collected at", c.CollectedAt); err != nil {
			return err
		}
	}
	if err := checkParty("actor", c.Actor); err != nil {
		return err
	}
	if err := checkParty("collected by", c.CollectedBy); err != nil {
		return err
	}
	return checkList("labels", c.Labels, MaxLabels, MaxNameLen)
}

// Record takes a custody action on an item, after the policy allows it, and
// returns the record as stored. The policy is asked about r.Actor before
// anything is read; if it refuses, the refusal is recorded (see
// [Refusal]) and an error matching [ErrDenied] is returned, the same
// whether or not the item exists. Zero At means now.
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
	if err := l.allow(ctx, req); err != nil {
		return Record{}, err
	}
	return l.ledger.Append(ctx, r)
}

// allow asks the policy. A refusal is recorded: in the item's custody log
// as an [ActionAccessDenied] record if the log holds the item, and in any
// case by telling l.refused. The error returned says nothing of whether
// the item exists, so a failure to append the refusal to the item's log
// (a write only an item held gets) goes to l.refused, not to the refused
// caller.
func (l *Locker) allow(ctx context.Context, req AccessRequest) error {
	if l.policy == nil {
		return nil
	}
	perr := l.policy.Allow(ctx, req)
	if perr == nil {
		return nil
	}
	return l.refuse(ctx, req, perr)
}

// refuse records the refusal of req for the reason perr, as [Refusal]
// says, and returns the error matching [ErrDenied] that the refused
// caller gets.
func (l *Locker) refuse(ctx context.Context, req AccessRequest, perr error) error {
	ref := Refusal{Request: req, At: l.now().Round(0), Err: perr}
	if req.Action != ActionCollected {
		rec, err := l.ledger.Append(ctx, Record{
			Case: req.Case, Item: req.Item, Action: ActionAccessDenied, Actor: req.Actor, Authority: req.Authority,
			At: ref.At, Reason: req.Reason, Notes: clipText(fmt.Sprintf("refused %s: %v", req.Action, perr), MaxNotesLen),
		})
		switch {
		case err == nil:
			ref.Record = &rec
		case !errors.Is(err, ErrNotFound):
			ref.RecordErr = err
		}
	}
	l.refused(ctx, ref)
	return &opError{op: fmt.Sprintf("%s of %s denied to %s", req.Action, req.Item, req.Actor.ID), kind: ErrDenied, err: perr}
}

// clipText makes s text a record keeps: valid UTF-8 without NUL bytes, cut
// to at most max bytes on a character boundary.
func clipText(s string, max int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Open records that actor accessed the item, after the policy allows it,
// and returns its content. The policy is asked first: a refused actor gets
// the same error matching [ErrDenied] whether or not the item exists, and
// the refusal is recorded (see [Refusal]). An allowed actor asking for an
// item the case does not hold gets an error matching [ErrNotFound]. The
// reader re-hashes the content as it is read and fails with an error
// matching [ErrTampered] at the end if it is not what was collected.
func (l *Locker) Open(ctx context.Context, c CaseID, id ItemID, actor Party, reason string) (io.ReadCloser, error) {
	if _, err := l.Record(ctx, Record{Case: c, Item: id, Action: ActionAccessed, Actor: actor, Reason: reason}); err != nil {
		return nil, wrapOp(fmt.Sprintf("open %s", id), err)
	}
	item, err := l.ledger.store.Item(ctx, c, id)
	if err != nil {
		return nil, wrapOp(fmt.Sprintf("open %s", id), err)
	}
	return l.blobs.Open(ctx, item.Digests.SHA256)
}

// Item returns an item of a case. Like [Locker.Items] and
// [Locker.Verify], it takes no actor and is not asked of the policy: see
// [Locker].
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
			rep.Add(err)
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
			rep.Add(err)
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

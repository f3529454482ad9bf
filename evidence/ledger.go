package evidence

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// DefaultOrigin is the first part of a checkpoint's origin line when
// [LedgerConfig.Origin] is empty; the case ID follows it.
const DefaultOrigin = "incidentkit/custody"

// DefaultWriteTimeout is how long [Ledger.Append] keeps writing a record,
// retrying while other writers take the head of the log, when
// [LedgerConfig.WriteTimeout] is zero.
const DefaultWriteTimeout = 30 * time.Second

// Bounds of the wait between two attempts to append a record that lost
// the head of its log to another writer.
const (
	minAppendBackoff = 500 * time.Microsecond
	maxAppendBackoff = 50 * time.Millisecond
)

// LedgerConfig configures a [Ledger].
type LedgerConfig struct {
	// Store keeps the logs. Required.
	Store LedgerStore
	// Key signs checkpoints. Required; make one with [GenerateKey] or
	// [ParseSigningKey], or load it with [LoadSigningKey].
	Key SigningKey
	// Origin starts each case's checkpoint origin line; empty means
	// [DefaultOrigin]. It must not contain spaces or newlines.
	Origin string
	// Witness, if set, keeps each case's latest checkpoint outside
	// Store, so that [Ledger.Verify] catches a log cut short in Store
	// together with its checkpoints (see [Witness]). After every record
	// [Ledger.Append] writes, and with every checkpoint
	// [Ledger.Checkpoint] signs, the ledger hands the witness a
	// checkpoint of the log with a consistency proof. A record is
	// committed before it is witnessed: if witnessing fails, Append still
	// returns the record and no error (the record must not be lost), and
	// the log is witnessed again by the next append, checkpoint or
	// successful [Ledger.Verify] of the case; until then the records
	// after the last checkpoint witnessed are not covered. Witnessing
	// costs a signature and the witness's write (for a [DirWitness], a
	// file synced to disk) on every append.
	Witness Witness
	// WriteTimeout bounds how long [Ledger.Append] keeps writing a record
	// (see there), from the start of the append; zero means
	// [DefaultWriteTimeout]. A caller's context with a later deadline
	// gives an append that long.
	WriteTimeout time.Duration
}

// Ledger keeps one append-only custody log per case: an RFC 6962 Merkle log
// of [Record]s, with signed checkpoints, inclusion proofs for any record and
// consistency proofs between any two sizes. It is safe for concurrent use,
// also by several processes sharing one store: appends are serialised on
// the head of the log, so it never forks.
type Ledger struct {
	store   LedgerStore
	signer  note.Signer
	vkey    string
	origin  string
	witness Witness
	timeout time.Duration
}

// NewLedger returns a Ledger configured by cfg.
func NewLedger(cfg LedgerConfig) (*Ledger, error) {
	if cfg.Store == nil {
		return nil, invalid("config", "LedgerConfig.Store is required")
	}
	if cfg.Key.IsZero() {
		return nil, invalid("config", "LedgerConfig.Key is required (see GenerateKey)")
	}
	signer, vkey, err := cfg.Key.keys()
	if err != nil {
		return nil, err
	}
	origin := cfg.Origin
	if origin == "" {
		origin = DefaultOrigin
	}
	if strings.ContainsAny(origin, " \t\r\n") {
		return nil, invalid("origin", "must not contain spaces or newlines")
	}
	timeout := cfg.WriteTimeout
	switch {
	case timeout < 0:
		return nil, invalid("config", "LedgerConfig.WriteTimeout must not be negative")
	case timeout == 0:
		timeout = DefaultWriteTimeout
	}
	return &Ledger{store: cfg.Store, signer: signer, vkey: vkey, origin: origin, witness: cfg.Witness, timeout: timeout}, nil
}

// VerifierKey returns the public key that checks this ledger's checkpoints.
func (l *Ledger) VerifierKey() string { return l.vkey }

// Origin returns the checkpoint origin line of case c.
func (l *Ledger) Origin(c CaseID) string { return l.origin + "/" + string(c) }

// Store returns the ledger's store.
func (l *Ledger) Store() LedgerStore { return l.store }

// Append appends a record to its case's log and returns it as stored, with
// its Index, Prev and PrevHash filled in. A collected record must carry the
// item's Snapshot; the item is stored with it, numbered as the case's next
// exhibit (EX-001, EX-002…) if its Exhibit is empty. Any other record must
// be about an item already collected in the case.
//
// The record describes something that already happened, so it is written
// even if ctx is cancelled, within [LedgerConfig.WriteTimeout] of the
// start of the append (or by ctx's deadline, if later). While other
// writers take the head of the log first, it tries again, after a short
// random wait that grows with each attempt, until that time is up: it
// gives up with an error matching [ErrConflict] only when it is.
func (l *Ledger) Append(ctx context.Context, r Record) (Record, error) {
	sc := appendScratches.Get().(*appendScratch)
	defer sc.release()
	tail, err := checkRecordTail(sc.tail[:0], r)
	if err != nil {
		return Record{}, err
	}
	if tail != nil {
		sc.tail = tail
	}
	start := time.Now()
	if ctx.Done() != nil {
		// The caller may give up; the record is written anyway, within
		// a bounded time. A context that cannot end needs neither.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), l.writeDeadline(ctx, start))
		defer cancel()
	}
	var conflict error
	for attempt := 0; ; attempt++ {
		stored, err := l.tryAppend(ctx, r, tail, sc)
		if err == nil && l.witness != nil {
			// Committed: a witness failing now must not lose the
			// record, and the log is witnessed again later.
			_ = l.WitnessHead(ctx, r.Case)
		}
		if err != nil && conflict != nil && ctx.Err() != nil {
			// Time ran out during an attempt after conflicts.
			return Record{}, fmt.Errorf("evidence: append to case %s: gave up after %d attempts, other writers taking the head of the log first (%w): %w",
				r.Case, attempt+1, err, conflict)
		}
		if !errors.Is(err, ErrConflict) {
			return stored, err
		}
		conflict = err
		if r.Action == ActionCollected {
			// Either another writer took the head (retry) or the
			// item exists (final): find out which.
			if _, ierr := l.store.Item(ctx, r.Case, r.Item); ierr == nil {
				return Record{}, wrapOp(fmt.Sprintf("collect %s: item exists", r.Item), ErrConflict)
			}
		}
		if werr := appendBackoff(ctx, l.writeDeadline(ctx, start), attempt); werr != nil {
			return Record{}, fmt.Errorf("evidence: append to case %s: gave up after %d attempts, other writers taking the head of the log first (%w): %w",
				r.Case, attempt+1, werr, err)
		}
	}
}

// writeDeadline returns when an append started at start gives up: the
// ledger's write timeout after start, or ctx's deadline if later.
func (l *Ledger) writeDeadline(ctx context.Context, start time.Time) time.Time {
	deadline := start.Add(l.timeout)
	if d, ok := ctx.Deadline(); ok && d.After(deadline) {
		deadline = d
	}
	return deadline
}

// appendBackoff waits before attempt+1 of an append: a random time between
// half of and all of minAppendBackoff·2^attempt, at most maxAppendBackoff.
// It returns an error instead if ctx ends first or the wait would pass
// deadline.
func appendBackoff(ctx context.Context, deadline time.Time, attempt int) error {
	limit := maxAppendBackoff
	if attempt < 16 {
		limit = min(limit, minAppendBackoff<<attempt)
	}
	wait := limit/2 + rand.N(limit/2+1)
	if time.Until(deadline) < wait {
		return errWriteTimeout
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errWriteTimeout is the reason an append gives up when its time is up.
var errWriteTimeout = errors.New("write timeout reached")

// appendScratch is memory an append works in, reused by later appends.
type appendScratch struct {
	// tail holds the encoding of the record from its action on.
	tail []byte
	// data and hashes hold the record's encoding and tree hashes for a
	// store that copies what it is given; sibs the hashes of the
	// subtrees the record completes.
	data         []byte
	hashes, sibs []Hash
}

var appendScratches = sync.Pool{New: func() any { return &appendScratch{tail: make([]byte, 0, 512), data: make([]byte, 0, 1024)} }}

// release returns sc to the pool, unless it grew large.
func (sc *appendScratch) release() {
	if cap(sc.tail) <= 64<<10 && cap(sc.data) <= 64<<10 {
		appendScratches.Put(sc)
	}
}

func (l *Ledger) tryAppend(ctx context.Context, r Record, tail []byte, sc *appendScratch) (Record, error) {
	var buf []byte
	var hbuf []Hash
	if _, pooled := l.store.(appendCopier); pooled {
		// The store copies what it keeps, so the encoding and hashes
		// are only needed until Append returns.
		buf, hbuf = sc.data[:0], sc.hashes[:0]
	}
	r, a, err := l.prepare(ctx, r, tail, buf, hbuf, sc)
	if buf != nil && a.Data != nil {
		sc.data, sc.hashes = a.Data, a.Hashes
	}
	if err != nil {
		return Record{}, err
	}
	if err := l.store.Append(ctx, a); err != nil {
		return Record{}, wrapOp("append", err)
	}
	return r, nil
}

// Prepare works out how r would be appended to its case's log as it stands,
// without writing anything: it returns the record as it would be stored
// (Index, Prev and PrevHash filled in, a collected record's exhibit
// numbered, as [Ledger.Append] does) and the [Append] to give the ledger's
// store. It is for stores that write a custody record in the same
// transaction as other changes: the store's Append check (the log still
// holds exactly Index records) refuses a prepared append that another
// writer overtook, with an error matching [ErrConflict], and the caller
// prepares it again.
func (l *Ledger) Prepare(ctx context.Context, r Record) (Record, Append, error) {
	if err := checkRecord(r); err != nil {
		return Record{}, Append{}, err
	}
	return l.prepare(ctx, r, nil, nil, nil, nil)
}

// logHead is what an append needs to know of a case's log as it stands.
type logHead struct {
	// size is how many records the log holds.
	size int64
	// prev is the index of the latest record of the item appended to,
	// or -1 if it has none; prevHash is that record's leaf hash, unless
	// the record appended is a collected one.
	prev     int64
	prevHash Hash
	// items is how many items the case holds, or -1 if not read.
	items int
	// siblings, if hasSiblings, are the hashes of the subtrees the
	// record appended completes, from the lowest level up: the hashes
	// tlog.StoredHashes would read.
	siblings    []Hash
	hasSiblings bool
}

// headStore is a [LedgerStore] that reads a [logHead] in one call,
// appending its siblings to sibs.
type headStore interface {
	head(ctx context.Context, c CaseID, item ItemID, sibs []Hash) (logHead, error)
}

// appendCopier is a [LedgerStore] whose Append keeps copies of what it is
// given, never the given slices themselves.
type appendCopier interface {
	copiesAppend()
}

// readHead reads what appending r to its case's log needs to know; sc, if
// not nil, lends memory for it.
func (l *Ledger) readHead(ctx context.Context, r Record, sc *appendScratch) (logHead, error) {
	if hs, ok := l.store.(headStore); ok {
		var sibs []Hash
		if sc != nil {
			sibs = sc.sibs[:0]
		}
		h, err := hs.head(ctx, r.Case, r.Item, sibs)
		if sc != nil && cap(h.siblings) > cap(sc.sibs) {
			sc.sibs = h.siblings
		}
		if err != nil {
			return logHead{}, wrapOp("append", err)
		}
		return h, nil
	}
	if hr, ok := l.store.(HeadReader); ok {
		lh, err := hr.LogHead(ctx, r.Case, r.Item)
		if err != nil {
			return logHead{}, wrapOp("append", err)
		}
		return logHead{size: lh.Size, prev: lh.Prev, prevHash: lh.PrevHash, items: lh.Items}, nil
	}
	n, err := l.store.Size(ctx, r.Case)
	if err != nil {
		return logHead{}, wrapOp("append", err)
	}
	h := logHead{size: n, prev: -1, items: -1}
	prev, err := l.store.LastRecord(ctx, r.Case, r.Item)
	switch {
	case err == nil:
		h.prev = prev
		if r.Action == ActionCollected {
			return h, nil
		}
		hashes, err := l.store.ReadHashes(ctx, r.Case, []int64{tlog.StoredHashIndex(0, prev)})
		if err != nil {
			return logHead{}, wrapOp("append", err)
		}
		h.prevHash = hashes[0]
	case errors.Is(err, ErrNotFound):
	default:
		return logHead{}, wrapOp("append", err)
	}
	return h, nil
}

// prepare is Prepare for a checked record. It encodes the record by
// appending to buf, reusing tail, the encoding from the action on, if not
// nil; it appends the tree hashes to hbuf, and reads the head with sc's
// memory if sc is not nil.
func (l *Ledger) prepare(ctx context.Context, r Record, tail, buf []byte, hbuf []Hash, sc *appendScratch) (Record, Append, error) {
	h, err := l.readHead(ctx, r, sc)
	if err != nil {
		return Record{}, Append{}, err
	}
	n := h.size
	r.Index, r.Prev, r.PrevHash = n, -1, ""
	switch {
	case h.prev >= 0:
		if r.Action == ActionCollected {
			return Record{}, Append{}, wrapOp(fmt.Sprintf("collect %s: item exists", r.Item), ErrConflict)
		}
		r.Prev = h.prev
	case r.Action != ActionCollected:
		return Record{}, Append{}, wrapOp(fmt.Sprintf("%s %s: the item was never collected in case %s", r.Action, r.Item, r.Case), ErrNotFound)
	default:
		snap := r.Snapshot.Clone()
		r.Snapshot = &snap
		if r.Snapshot.Exhibit == "" {
			// Numbered under the same head check as the append, so two
			// collections racing in one case never share a number.
			if h.items < 0 {
				items, err := l.store.Items(ctx, r.Case)
				if err != nil {
					return Record{}, Append{}, wrapOp("append", err)
				}
				h.items = len(items)
			}
			r.Snapshot.Exhibit = fmt.Sprintf("EX-%03d", h.items+1)
		}
	}
	var data []byte
	if tail != nil && r.Snapshot == nil {
		data = appendRecordHead(buf, r)
		if r.Prev >= 0 {
			// What appendRecordHead writes for r.PrevHash: base64 needs
			// no escaping.
			data = append(data, `,"prev_hash":"`...)
			start := len(data)
			data = base64.StdEncoding.AppendEncode(data, h.prevHash[:])
			r.PrevHash = string(data[start:])
			data = append(data, '"')
		}
		data = append(data, tail...)
	} else {
		if r.Prev >= 0 {
			r.PrevHash = hashString(h.prevHash)
		}
		// r.Snapshot, if any, is a clone already: appendRecord writes
		// what Encode would.
		if data, err = appendRecord(buf, r); err != nil {
			// Let Encode decide, with encoding/json.
			if data, err = r.Encode(); err != nil {
				return Record{}, Append{}, invalid("record", err.Error())
			}
		}
	}
	var hashes []Hash
	if h.hasSiblings {
		hashes = storedHashes(hbuf, data, h.siblings)
	} else if hashes, err = tlog.StoredHashes(n, data, l.hashReader(ctx, r.Case)); err != nil {
		return Record{}, Append{}, wrapOp("append", err)
	}
	return r, Append{Case: r.Case, Index: n, Item: r.Item, Data: data, Hashes: hashes, NewItem: r.Snapshot}, nil
}

// storedHashes appends to dst the tree hashes to store for a record with
// the given encoding that completes the subtrees whose hashes are
// siblings, lowest first: what tlog.StoredHashes returns (RFC 6962: the
// leaf hash, then the hash of each subtree completed).
func storedHashes(dst []Hash, data []byte, siblings []Hash) []Hash {
	h := tlog.RecordHash(data)
	dst = append(dst, h)
	for _, s := range siblings {
		h = tlog.NodeHash(s, h)
		dst = append(dst, h)
	}
	return dst
}

// siblingIndexes appends to dst the stored-hash indexes of the subtrees
// record n completes, lowest first.
func siblingIndexes(dst []int64, n int64) []int64 {
	for i := range bits.TrailingZeros64(uint64(n + 1)) {
		dst = append(dst, tlog.StoredHashIndex(i, n>>uint(i)-1))
	}
	return dst
}

// hashReader reads stored hashes of case c for tlog.
func (l *Ledger) hashReader(ctx context.Context, c CaseID) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return l.store.ReadHashes(ctx, c, indexes)
	})
}

// Root returns the size and Merkle root of case c's log now.
func (l *Ledger) Root(ctx context.Context, c CaseID) (int64, Hash, error) {
	n, err := l.store.Size(ctx, c)
	if err != nil {
		return 0, Hash{}, wrapOp(fmt.Sprintf("root of case %s", c), err)
	}
	h, err := tlog.TreeHash(n, l.hashReader(ctx, c))
	if err != nil {
		return 0, Hash{}, wrapOp(fmt.Sprintf("root of case %s", c), err)
	}
	return n, h, nil
}

// Checkpoint signs and stores a checkpoint of case c's log at its current
// size, and returns it. With a witness, it hands the checkpoint to it too;
// if that fails, the checkpoint is stored and returned with the error.
func (l *Ledger) Checkpoint(ctx context.Context, c CaseID) (Checkpoint, error) {
	n, root, err := l.Root(ctx, c)
	if err != nil {
		return Checkpoint{}, err
	}
	if n == 0 {
		return Checkpoint{}, wrapOp(fmt.Sprintf("checkpoint of case %s: the log is empty", c), ErrNotFound)
	}
	cp, err := signCheckpoint(l.signer, l.Origin(c), n, root)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := l.store.AddCheckpoint(ctx, c, cp); err != nil {
		return Checkpoint{}, wrapOp(fmt.Sprintf("checkpoint of case %s", c), err)
	}
	if l.witness != nil {
		if err := l.witnessCheckpoint(ctx, c, cp); err != nil {
			return cp, fmt.Errorf("evidence: checkpoint of case %s stored but not witnessed: %w", c, err)
		}
	}
	return cp, nil
}

// ProveInclusion returns the proof that record index is in case c's log of
// the given size (RFC 6962 audit path), for [CheckInclusion].
func (l *Ledger) ProveInclusion(ctx context.Context, c CaseID, index, size int64) ([]Hash, error) {
	p, err := tlog.ProveRecord(size, index, l.hashReader(ctx, c))
	if err != nil {
		return nil, wrapOp(fmt.Sprintf("prove record %d in case %s of size %d", index, c, size), err)
	}
	return p, nil
}

// ProveConsistency returns the proof that case c's log of size newSize
// extends its log of size oldSize (RFC 6962 consistency proof), for
// [CheckConsistency].
func (l *Ledger) ProveConsistency(ctx context.Context, c CaseID, oldSize, newSize int64) ([]Hash, error) {
	p, err := tlog.ProveTree(newSize, oldSize, l.hashReader(ctx, c))
	if err != nil {
		return nil, wrapOp(fmt.Sprintf("prove case %s size %d extends size %d", c, newSize, oldSize), err)
	}
	return p, nil
}

// Records returns the decoded records of case c with indexes [start, end).
func (l *Ledger) Records(ctx context.Context, c CaseID, start, end int64) ([]Record, error) {
	raw, err := l.store.Records(ctx, c, start, end)
	if err != nil {
		return nil, wrapOp(fmt.Sprintf("records of case %s", c), err)
	}
	out := make([]Record, len(raw))
	for i, data := range raw {
		if out[i], err = DecodeRecord(data); err != nil {
			return nil, wrapOp(fmt.Sprintf("record %d of case %s", start+int64(i), c), err)
		}
	}
	return out, nil
}

// History returns every record of one item, oldest first, following the
// item's links back from its latest record.
func (l *Ledger) History(ctx context.Context, c CaseID, item ItemID) ([]Record, error) {
	i, err := l.store.LastRecord(ctx, c, item)
	if err != nil {
		return nil, wrapOp(fmt.Sprintf("history of %s", item), err)
	}
	var out []Record
	for i >= 0 {
		recs, err := l.Records(ctx, c, i, i+1)
		if err != nil {
			return nil, err
		}
		r := recs[0]
		if r.Item != item || r.Prev >= i {
			return nil, &TamperError{Case: c, Item: item, Record: i, What: "item link", Expected: "a record of " + string(item) + " linking backwards", Found: fmt.Sprintf("item %s linking to %d", r.Item, r.Prev)}
		}
		out = append(out, r)
		i = r.Prev
	}
	for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
		out[a], out[b] = out[b], out[a]
	}
	return out, nil
}

// hashString is h.String() with one allocation rather than two.
func hashString(h Hash) string {
	var b [44]byte
	base64.StdEncoding.Encode(b[:], h[:])
	return string(b[:])
}

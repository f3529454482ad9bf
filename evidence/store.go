package evidence

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/incidentkit/incidentkit/internal/jsonenc"
	"golang.org/x/mod/sumdb/tlog"
)

// Hash is a SHA-256 hash in a custody log's Merkle tree.
type Hash = tlog.Hash

// Append is one atomic append to a case's custody log.
type Append struct {
	Case CaseID
	// Index is the index the record gets: the log must hold exactly
	// Index records before the append.
	Index int64
	// Item is the item the record is about.
	Item ItemID
	// Data is the record's canonical encoding.
	Data []byte
	// Hashes are the tree hashes to store from tlog.StoredHashIndex(0,
	// Index) on, as tlog.StoredHashes returns them.
	Hashes []Hash
	// NewItem, if set, is stored with the record: the item a collected
	// record introduces.
	NewItem *Item
}

// Validate refuses an append no store should write, with an error matching
// [ErrInvalid]: a case ID that is not one (see [MaxIDLen]), a negative
// index, an item ID that is empty or not text within [MaxIDLen], record
// data that is empty, longer than [MaxRecordSize] (so that every case
// exports to a bundle that [github.com/incidentkit/incidentkit/evidence/bundle.Read] accepts) or that does not
// begin as the canonical encoding of a record of this case, index and
// item, other than the tree hashes an append at its index stores, and a
// new item that is not the item of the record, not within the limits, or
// brought by a record that is not the item's collection (or the other way
// round). It reads nothing and does not check the hashes' values or the
// rest of the record: that is [Ledger]'s work, and [VerifyLog]'s to
// prove. Every [LedgerStore] calls it first in Append, so a bad append is
// refused the same way by all of them.
func (a Append) Validate() error {
	if err := checkCaseID(a.Case); err != nil {
		return err
	}
	if a.Index < 0 {
		return invalid("append", "negative index "+strconv.FormatInt(a.Index, 10))
	}
	if err := checkItemID("append item", a.Item); err != nil {
		return err
	}
	switch {
	case len(a.Data) == 0:
		return invalid("append", "no record data")
	case len(a.Data) > MaxRecordSize:
		return invalid("append", "record data longer than "+strconv.Itoa(MaxRecordSize)+" bytes")
	}
	if want := tlog.StoredHashCount(a.Index+1) - tlog.StoredHashCount(a.Index); int64(len(a.Hashes)) != want {
		return invalid("append", fmt.Sprintf("record %d needs %d tree hashes, got %d", a.Index, want, len(a.Hashes)))
	}
	rest, ok := cutRecordHead(a.Data, a)
	if !ok {
		return invalid("append", "the record data is not a record of case "+strconv.Quote(string(a.Case))+
			" at index "+strconv.FormatInt(a.Index, 10)+" about item "+strconv.Quote(string(a.Item)))
	}
	collected := bytes.HasPrefix(rest, []byte(`-1,"action":"collected",`))
	switch {
	case a.NewItem == nil && collected:
		return invalid("append", "a collected record needs its new item")
	case a.NewItem == nil:
		return nil
	case !collected:
		return invalid("append", "only a collected record brings a new item")
	case a.NewItem.ID != a.Item || a.NewItem.CaseID != a.Case:
		return invalid("append", "the new item is not the item of the record")
	}
	return checkItemText(a.NewItem)
}

// cutRecordHead returns what follows the beginning of the canonical
// encoding of a record of a's case, index and item, up to its "prev" key,
// if data begins so.
func cutRecordHead(data []byte, a Append) ([]byte, bool) {
	var buf [256]byte
	head := append(buf[:0], `{"case":`...)
	head = jsonenc.AppendString(head, string(a.Case))
	head = append(head, `,"index":`...)
	head = strconv.AppendInt(head, a.Index, 10)
	head = append(head, `,"item":`...)
	head = jsonenc.AppendString(head, string(a.Item))
	head = append(head, `,"prev":`...)
	return bytes.CutPrefix(data, head)
}

// LedgerStore keeps custody logs: per case, the records, the Merkle tree
// hashes, the signed checkpoints and the items. It is where a durable store
// plugs in; [NewMemoryLedgerStore] is the in-memory one, and
// evidencetest.TestLedgerStore checks an implementation keeps this
// contract.
//
// Implementations must be safe for concurrent use. Methods honour ctx:
// when it ends before a write commits, nothing is written. Returned slices
// and items are copies the caller may modify.
type LedgerStore interface {
	// Append writes the record, its hashes and any new item atomically.
	// It first calls [Append.Validate] and returns its error, writing
	// nothing, for an append it refuses. If
	// the log does not hold exactly a.Index records, or a.NewItem's ID is
	// already taken in the case, it writes nothing and returns an error
	// matching [ErrConflict].
	Append(ctx context.Context, a Append) error
	// Size returns how many records the case's log holds; 0 for a case
	// with none.
	Size(ctx context.Context, c CaseID) (int64, error)
	// Records returns the encoded records with indexes [start, end).
	Records(ctx context.Context, c CaseID, start, end int64) ([][]byte, error)
	// ReadHashes returns the stored hashes at the given stored-hash
	// indexes (see tlog.StoredHashIndex), in the same order.
	ReadHashes(ctx context.Context, c CaseID, indexes []int64) ([]Hash, error)
	// LastRecord returns the index of the item's latest record, or an
	// error matching [ErrNotFound].
	LastRecord(ctx context.Context, c CaseID, item ItemID) (int64, error)
	// Item returns an item, or an error matching [ErrNotFound].
	Item(ctx context.Context, c CaseID, id ItemID) (Item, error)
	// Items returns the case's items in the order they were stored.
	Items(ctx context.Context, c CaseID) ([]Item, error)
	// AddCheckpoint stores a signed checkpoint of the case's log. Storing
	// the same checkpoint twice is not an error.
	AddCheckpoint(ctx context.Context, c CaseID, cp Checkpoint) error
	// Checkpoints returns the case's checkpoints, oldest first.
	Checkpoints(ctx context.Context, c CaseID) ([]Checkpoint, error)
}

// LogHead is what appending to a case's log needs to know of the log as it
// stands; see [HeadReader].
type LogHead struct {
	// Size is how many records the log holds.
	Size int64
	// Prev is the index of the item's latest record, or -1 if it has
	// none; PrevHash is that record's leaf hash (the stored hash at
	// tlog.StoredHashIndex(0, Prev)) when it has one.
	Prev     int64
	PrevHash Hash
	// Items is how many items the case holds.
	Items int
}

// HeadReader is a [LedgerStore] that reads a case's [LogHead] for an
// append in one call. A [Ledger] uses it when its store has it; otherwise
// it calls Size, LastRecord and ReadHashes, and Items to number a new
// exhibit. It reads the head as of some moment: an append worked out from
// a head that has moved since is refused by the store's Append, as always.
// A case with no records has a zero head with Prev -1.
type HeadReader interface {
	LogHead(ctx context.Context, c CaseID, item ItemID) (LogHead, error)
}

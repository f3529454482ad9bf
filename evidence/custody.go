package evidence

import (
	"strconv"
	"strings"
	"time"
)

// Action is a custody action: something done to or with an item.
type Action string

// Custody actions.
const (
	ActionCollected    Action = "collected"
	ActionTransferred  Action = "transferred"
	ActionCheckedOut   Action = "checked_out"
	ActionCheckedIn    Action = "checked_in"
	ActionAccessed     Action = "accessed"
	ActionAnalyzed     Action = "analyzed"
	ActionCopied       Action = "copied"
	ActionVerified     Action = "verified"
	ActionSealed       Action = "sealed"
	ActionUnsealed     Action = "unsealed"
	ActionReleased     Action = "released"
	ActionDisposed     Action = "disposed"
	ActionAccessDenied Action = "access_denied"
)

var actions = []Action{
	ActionCollected, ActionTransferred, ActionCheckedOut, ActionCheckedIn, ActionAccessed,
	ActionAnalyzed, ActionCopied, ActionVerified, ActionSealed, ActionUnsealed, ActionReleased,
	ActionDisposed, ActionAccessDenied,
}

// ParseAction returns the action s names, or an [*InvalidError].
func ParseAction(s string) (Action, error) {
	for _, a := range actions {
		if strings.EqualFold(string(a), strings.TrimSpace(s)) {
			return a, nil
		}
	}
	return "", invalid("custody action", "unknown action "+strconv.Quote(s)+"; want one of "+joinNames(actions))
}

// String returns the action's name.
func (a Action) String() string { return string(a) }

// MarshalText encodes the action, refusing unknown values.
func (a Action) MarshalText() ([]byte, error) {
	canonical, err := ParseAction(string(a))
	if err != nil {
		return nil, err
	}
	return []byte(canonical), nil
}

// UnmarshalText decodes an action, refusing unknown values.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Record is one entry in a case's custody log: who did what to which item,
// on whose authority, where, when and why. Records are only ever appended.
//
// Each record is a leaf of the case's RFC 6962 Merkle tree, hashed from its
// canonical encoding ([Record.Encode]), and links to the previous record of
// the same item by index and leaf hash, so one item's history can be
// followed and checked on its own.
type Record struct {
	Case CaseID `json:"case"`
	// Index is the record's position in the case's log, from 0.
	Index int64  `json:"index"`
	Item  ItemID `json:"item"`
	// Prev is the index of the item's previous record, or -1 for its
	// first; PrevHash is that record's leaf hash (RFC 6962:
	// SHA-256(0x00 ‖ its encoding)) in standard base64 with padding, as
	// tlog.Hash.String and checkpoint roots write a hash, and empty for an
	// item's first record.
	Prev     int64  `json:"prev"`
	PrevHash string `json:"prev_hash,omitempty"`
	Action   Action `json:"action"`
	// Actor is who acted; Authority is on whose authority (a warrant, a
	// manager's approval, a policy).
	Actor     Party  `json:"actor"`
	Authority string `json:"authority,omitempty"`
	// From and To are the parties of a transfer.
	From     Party  `json:"from,omitzero"`
	To       Party  `json:"to,omitzero"`
	Location string `json:"location,omitempty"`
	// At is when it happened, in the actor's time zone.
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
	// Tool is the tool used, with its version.
	Tool string `json:"tool,omitempty"`
	// Digest is the SHA-256 the actor observed when touching the item, in
	// hex, if they computed one.
	Digest string `json:"digest,omitempty"`
	Notes  string `json:"notes,omitempty"`
	// Snapshot is the item as collected; only the collected record has
	// one.
	Snapshot *Item `json:"snapshot,omitempty"`
}

// Encode returns the record's canonical encoding: the bytes hashed into the
// Merkle tree. The same record always encodes to the same bytes.
func (r Record) Encode() ([]byte, error) {
	if r.Snapshot != nil {
		// Empty lists encode as absent, as they decode.
		snap := r.Snapshot.Clone()
		r.Snapshot = &snap
	}
	if b, err := appendRecord(make([]byte, 0, 512), r); err == nil {
		return b, nil
	}
	// Let encoding/json report the error.
	return encodeRecordJSON(r)
}

// DecodeRecord decodes a record and checks its encoding is canonical, so
// that two different byte strings can never stand for the same record.
func DecodeRecord(data []byte) (Record, error) {
	if r, ok := decodeRecordFast(data); ok {
		return r, nil
	}
	return decodeRecordJSON(data)
}

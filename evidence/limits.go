package evidence

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a custody record and an item keep. A record describes
// something that happened and is kept for good: the log is append-only, so
// an oversized field could never be taken back, and every record must stay
// within what [github.com/incidentkit/incidentkit/evidence/bundle.Read]
// accepts of one record and one item with its default limits. A case
// beyond the reader's default totals (its records, its items, or a
// manifest of a few hundred items at every maximum) is read with raised
// bundle limits. Text is counted in bytes of UTF-8; every text field must also be
// valid UTF-8 and hold no NUL byte. [Locker.Collect], [Locker.Stage],
// [Locker.Record], [Ledger.Append] and [Ledger.Prepare] refuse anything
// beyond these with an error matching [ErrInvalid], before writing
// anything, and [VerifyLog] reports a stored record beyond them.
//
// At every maximum, and with every character one that JSON escapes, a
// record's encoding stays below [MaxRecordSize].
const (
	// MaxRecordSize bounds a record's encoding, in bytes: what a
	// [LedgerStore] appends and what a bundle's reader reads by default
	// ([github.com/incidentkit/incidentkit/evidence/bundle.DefaultMaxRecordSize]).
	MaxRecordSize = 1 << 20
	// MaxIDLen bounds identifiers: a case ID, an item ID, a party's ID,
	// an exhibit number and each of an item's digests.
	MaxIDLen = 200
	// MaxNameLen bounds names: an item's name (as long as a file name may
	// be on common file systems), its media type and location, a
	// party's name and organization, a record's location and tool, a
	// source's host and serial number, one network identifier and one
	// label.
	MaxNameLen = 255
	// MaxTextLen bounds longer text: a record's authority and reason, a
	// source's path and description.
	MaxTextLen = 4096
	// MaxNotesLen bounds a record's notes.
	MaxNotesLen = 64 << 10
	// MaxLabels bounds how many labels an item has.
	MaxLabels = 64
	// MaxNetwork bounds how many network identifiers a source has.
	MaxNetwork = 64
)

// checkText refuses text longer than max bytes, invalid UTF-8 (which the
// JSON encoding would silently replace) and NUL bytes (which no store
// keeps faithfully).
func checkText(field, s string, max int) error {
	switch {
	case len(s) > max:
		return invalid(field, "longer than "+strconv.Itoa(max)+" bytes")
	case !utf8.ValidString(s):
		return invalid(field, "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return invalid(field, "must not contain a NUL byte")
	}
	return nil
}

// checkTime refuses a time a record could not keep: RFC 3339 has years 0
// to 9999 and zone offsets of whole minutes under 24 hours.
func checkTime(field string, t time.Time) error {
	_, off := t.Zone()
	switch {
	case t.Year() < 0 || t.Year() > 9999:
		return invalid(field, "the year must be 0 to 9999")
	case off%60 != 0 || off <= -24*60*60 || off >= 24*60*60:
		return invalid(field, "the zone offset must be a whole number of minutes under 24 hours")
	}
	return nil
}

// checkItemID refuses an empty item ID, or one that is not text within
// [MaxIDLen].
func checkItemID(field string, id ItemID) error {
	if id == "" {
		return invalid(field, "must not be empty")
	}
	return checkText(field, string(id), MaxIDLen)
}

// checkParty checks the text of a party; whether it must be set is the
// caller's to say.
func checkParty(field string, p Party) error {
	if err := checkText(field+" ID", p.ID, MaxIDLen); err != nil {
		return err
	}
	if err := checkText(field+" name", p.Name, MaxNameLen); err != nil {
		return err
	}
	return checkText(field+" organization", p.Organization, MaxNameLen)
}

// checkList checks a list of at most max texts of at most each bytes.
func checkList(field string, v []string, max, each int) error {
	if len(v) > max {
		return invalid(field, "more than "+strconv.Itoa(max))
	}
	for _, s := range v {
		if err := checkText(field, s, each); err != nil {
			return err
		}
	}
	return nil
}

// checkSource checks the text of a source.
func checkSource(s Source) error {
	for _, f := range []struct {
		field, v string
		max      int
	}{
		{"source host", s.Host, MaxNameLen},
		{"source path", s.Path, MaxTextLen},
		{"source serial number", s.SerialNumber, MaxNameLen},
		{"source description", s.Description, MaxTextLen},
	} {
		if err := checkText(f.field, f.v, f.max); err != nil {
			return err
		}
	}
	return checkList("source network", s.Network, MaxNetwork, MaxNameLen)
}

// checkItemText checks the text of an item against the limits, its
// digests included, and that its size is not negative.
func checkItemText(it *Item) error {
	if err := checkItemID("item ID", it.ID); err != nil {
		return err
	}
	if it.Size < 0 {
		return invalid("item size", "must not be negative")
	}
	for _, f := range []struct {
		field, v string
		max      int
	}{
		{"item case ID", string(it.CaseID), MaxIDLen},
		{"exhibit", it.Exhibit, MaxIDLen},
		{"name", it.Name, MaxNameLen},
		{"media type", it.MediaType, MaxNameLen},
		{"item location", it.Location, MaxNameLen},
		{"sha256 digest", it.Digests.SHA256, MaxIDLen},
		{"sha1 digest", it.Digests.SHA1, MaxIDLen},
		{"md5 digest", it.Digests.MD5, MaxIDLen},
	} {
		if err := checkText(f.field, f.v, f.max); err != nil {
			return err
		}
	}
	if err := checkSource(it.Source); err != nil {
		return err
	}
	if err := checkParty("collected by", it.CollectedBy); err != nil {
		return err
	}
	return checkList("labels", it.Labels, MaxLabels, MaxNameLen)
}

// checkRecordText checks the text of a record, and of its snapshot if it
// has one, against the limits.
func checkRecordText(r *Record) error {
	if err := checkItemID("record item", r.Item); err != nil {
		return err
	}
	for _, f := range []struct {
		field, v string
		max      int
	}{
		{"authority", r.Authority, MaxTextLen},
		{"location", r.Location, MaxNameLen},
		{"reason", r.Reason, MaxTextLen},
		{"tool", r.Tool, MaxNameLen},
		{"notes", r.Notes, MaxNotesLen},
		{"previous record hash", r.PrevHash, MaxIDLen},
	} {
		if err := checkText(f.field, f.v, f.max); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		field string
		p     Party
	}{{"actor", r.Actor}, {"from", r.From}, {"to", r.To}} {
		if err := checkParty(p.field, p.p); err != nil {
			return err
		}
	}
	if r.Snapshot != nil {
		return checkItemText(r.Snapshot)
	}
	return nil
}

// withinLimits reports whether r's fields, but for its snapshot, are within
// the length limits: the quick part of checkRecordText, which leaves out
// UTF-8 and NUL bytes.
func withinLimits(r *Record) bool {
	return len(r.Item) <= MaxIDLen && len(r.Authority) <= MaxTextLen && len(r.Location) <= MaxNameLen &&
		len(r.Reason) <= MaxTextLen && len(r.Tool) <= MaxNameLen && len(r.Notes) <= MaxNotesLen &&
		len(r.PrevHash) <= MaxIDLen && partyWithinLimits(r.Actor) && partyWithinLimits(r.From) && partyWithinLimits(r.To)
}

func partyWithinLimits(p Party) bool {
	return len(p.ID) <= MaxIDLen && len(p.Name) <= MaxNameLen && len(p.Organization) <= MaxNameLen
}

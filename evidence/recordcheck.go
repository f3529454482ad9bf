package evidence

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkRecord validates a record before it is appended.
func checkRecord(r Record) error {
	if err := checkCaseID(r.Case); err != nil {
		return err
	}
	if err := checkItemID("record item", r.Item); err != nil {
		return err
	}
	if _, ok := canonicalAction(r.Action); !ok {
		_, err := ParseAction(string(r.Action))
		return err
	}
	if r.Actor.ID == "" {
		return invalid("record actor", "an actor needs an ID")
	}
	if r.At.IsZero() {
		return invalid("record time", "must be set")
	}
	if r.Action == ActionTransferred && (r.From.ID == "" || r.To.ID == "") {
		return invalid("transfer", "a transfer needs From and To parties")
	}
	if r.Digest != "" && !isHex(r.Digest, 32) {
		return invalid("record digest", "want 64 lower-case hex digits")
	}
	if err := checkRecordText(&r); err != nil {
		return err
	}
	if err := checkEncodable(r); err != nil {
		return err
	}
	switch {
	case r.Action == ActionCollected && r.Snapshot == nil:
		return invalid("record", "a collected record must carry the item's snapshot")
	case r.Action != ActionCollected && r.Snapshot != nil:
		return invalid("record", "only a collected record carries a snapshot")
	case r.Snapshot != nil && (r.Snapshot.ID != r.Item || r.Snapshot.CaseID != r.Case):
		return invalid("record", "the snapshot is of another item")
	}
	return nil
}

// checkRecordTail returns checkRecord(r) and, for a valid record that is
// not a collected one, appends to dst its encoding from the action on
// (appendRecordTail), validating it as it encodes; for any other it
// returns a nil tail.
func checkRecordTail(dst []byte, r Record) ([]byte, error) {
	if !quickValid(r) {
		return nil, checkRecord(r)
	}
	tail, err := appendRecordTail(dst, r)
	if err != nil {
		return nil, checkRecord(r)
	}
	// The encoder writes \ufffd for every byte of invalid UTF-8, and
	// \u0000 for a NUL byte, and nowhere else but after a backslash of
	// the text.
	if bytes.Contains(tail, []byte(`\ufffd`)) || bytes.Contains(tail, []byte(`\u0000`)) {
		if err := checkRecord(r); err != nil {
			return nil, err
		}
	}
	return tail, nil
}

// quickValid reports whether checkRecord would accept r for sure,
// leaving out only the text of the fields appendRecordTail writes, which
// must be valid UTF-8 without NUL bytes. It reports false for a collected
// record.
func quickValid(r Record) bool {
	if !isAction(r.Action) || r.Action == ActionCollected || r.Snapshot != nil ||
		checkCaseID(r.Case) != nil || r.Item == "" || r.Actor.ID == "" || r.At.IsZero() ||
		!withinLimits(&r) || strings.IndexByte(string(r.Item), 0) >= 0 || strings.IndexByte(r.PrevHash, 0) >= 0 ||
		r.Action == ActionTransferred && (r.From.ID == "" || r.To.ID == "") ||
		r.Digest != "" && !isLowerHex(r.Digest, 32) ||
		!utf8.ValidString(string(r.Item)) || !utf8.ValidString(r.PrevHash) {
		return false
	}
	_, off := r.At.Zone()
	return off%60 == 0
}

// isAction reports whether a is one of the actions, by its exact name.
func isAction(a Action) bool {
	for _, c := range actions {
		if a == c {
			return true
		}
	}
	return false
}

// checkCaseID refuses case IDs that could not be an origin line's suffix:
// a signed note allows only printable UTF-8 text.
func checkCaseID(c CaseID) error {
	s := string(c)
	if printableASCII(s) && len(s) <= MaxIDLen {
		return nil
	}
	if s == "" || len(s) > MaxIDLen || !utf8.ValidString(s) ||
		strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return invalid("case ID", "must be 1 to 200 bytes of printable UTF-8 without spaces")
	}
	return nil
}

// checkEncodable refuses records the JSON encoder would silently change,
// so that every record written decodes back to exactly itself and can be
// verified: times must have whole-minute zone offsets (RFC 3339 has no
// seconds in an offset). Text, which must be valid UTF-8 since the encoder
// replaces invalid bytes, is checkRecordText's.
func checkEncodable(r Record) error {
	if s := r.Snapshot; s != nil {
		if _, off := s.CollectedAt.Zone(); off%60 != 0 {
			return invalid("record time", "the zone offset must be a whole number of minutes")
		}
	}
	if _, off := r.At.Zone(); off%60 != 0 {
		return invalid("record time", "the zone offset must be a whole number of minutes")
	}
	return nil
}

// printableASCII reports whether s is non-empty and all printable ASCII
// other than the space: what most case IDs are, and quicker to check than
// runes.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}

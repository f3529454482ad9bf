package evidence

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// CaseID identifies a case: the incident an item is evidence in, or any
// other investigation. Each case has its own custody log.
type CaseID string

// Validate returns an [*InvalidError] if c is not a case ID a ledger
// accepts: 1 to [MaxIDLen] bytes of printable UTF-8 without spaces, so
// that it can end a checkpoint's origin line.
func (c CaseID) Validate() error { return checkCaseID(c) }

// ItemID identifies an evidence item within a case.
type ItemID string

// Kind is the kind of an evidence item.
type Kind string

// Kinds of evidence.
const (
	KindDiskImage     Kind = "disk_image"
	KindMemoryDump    Kind = "memory_dump"
	KindLog           Kind = "log"
	KindPacketCapture Kind = "packet_capture"
	KindFile          Kind = "file"
	KindScreenshot    Kind = "screenshot"
	KindDocument      Kind = "document"
	KindOther         Kind = "other"
)

var kinds = []Kind{
	KindDiskImage, KindMemoryDump, KindLog, KindPacketCapture,
	KindFile, KindScreenshot, KindDocument, KindOther,
}

// ParseKind returns the kind s names, or an [*InvalidError].
func ParseKind(s string) (Kind, error) {
	for _, k := range kinds {
		if strings.EqualFold(string(k), strings.TrimSpace(s)) {
			return k, nil
		}
	}
	return "", invalid("kind", "unknown kind "+strconv.Quote(s)+"; want one of "+joinNames(kinds))
}

// String returns the kind's name.
func (k Kind) String() string { return string(k) }

// MarshalText encodes the kind, refusing unknown values.
func (k Kind) MarshalText() ([]byte, error) {
	if k == "" {
		return nil, nil
	}
	canonical, err := ParseKind(string(k))
	if err != nil {
		return nil, err
	}
	return []byte(canonical), nil
}

// UnmarshalText decodes a kind, refusing unknown values.
func (k *Kind) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*k = ""
		return nil
	}
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Digests are an item's content digests, in lower-case hex. SHA256 is
// always present and names the item's blob; SHA1 and MD5 are computed on
// request, for tools that still expect them.
type Digests struct {
	SHA256 string `json:"sha256"`
	SHA1   string `json:"sha1,omitempty"`
	MD5    string `json:"md5,omitempty"`
}

// Validate returns an [*InvalidError] unless every digest present is
// lower-case hex of its algorithm's length, and SHA256 is present.
func (d Digests) Validate() error {
	for _, c := range []struct {
		name, v string
		size    int
		need    bool
	}{{"sha256", d.SHA256, 32, true}, {"sha1", d.SHA1, 20, false}, {"md5", d.MD5, 16, false}} {
		if c.v == "" && !c.need {
			continue
		}
		if !isHex(c.v, c.size) {
			return invalid(c.name+" digest", "want "+strconv.Itoa(2*c.size)+" lower-case hex digits")
		}
	}
	return nil
}

func isHex(s string, size int) bool {
	if len(s) != 2*size || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Source says where an item came from.
type Source struct {
	// Host is the machine it was taken from.
	Host string `json:"host,omitempty"`
	// Path is its path on that machine.
	Path string `json:"path,omitempty"`
	// SerialNumber identifies the physical medium, such as a disk.
	SerialNumber string `json:"serial_number,omitempty"`
	// Network holds network identifiers: addresses, MAC addresses.
	Network []string `json:"network,omitempty"`
	// Description says anything else about the source.
	Description string `json:"description,omitempty"`
}

// Party is a person or organisation in the chain of custody.
//
// A party is whoever the caller says it is: the locker and the ledger
// take every Party as given, check only its form, and record it as
// given. Nothing in this package authenticates anyone. Authenticating the
// person or program behind a request, and handing the locker the identity
// so established (never one read from the request itself), is the
// embedding program's job; an [AccessPolicy] decides on the identity it is
// given, and a custody record proves who the program said acted, not who
// did.
type Party struct {
	// ID identifies the party; required.
	ID string `json:"id"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// Organization is who the party works for or acts for.
	Organization string `json:"organization,omitempty"`
}

// IsZero reports whether the party is unset.
func (p Party) IsZero() bool { return p == Party{} }

// String returns the name, or the ID if there is none.
func (p Party) String() string {
	if p.Name != "" {
		return p.Name
	}
	return p.ID
}

// Item is one piece of evidence. Its content lives in a [BlobStore] under
// its SHA-256 digest; its history is in the case's custody log, whose
// "collected" record holds a copy of the item as collected, so any later
// change to the item's description is detected.
type Item struct {
	ID     ItemID `json:"id"`
	CaseID CaseID `json:"case_id"`
	// Exhibit is the exhibit number, such as "EX-003", given in order of
	// collection within the case.
	Exhibit   string  `json:"exhibit"`
	Name      string  `json:"name"`
	Kind      Kind    `json:"kind"`
	MediaType string  `json:"media_type,omitempty"`
	Size      int64   `json:"size"`
	Digests   Digests `json:"digests"`
	Source    Source  `json:"source,omitzero"`
	// CollectedBy is who collected it; CollectedAt is when, in the
	// collector's time zone.
	CollectedBy Party     `json:"collected_by"`
	CollectedAt time.Time `json:"collected_at"`
	// Location is where the item is kept (an evidence locker, a shelf).
	Location string   `json:"location,omitempty"`
	Labels   []string `json:"labels,omitempty"`
}

// Clone returns a deep copy of the item.
func (it Item) Clone() Item {
	it.Source.Network = append([]string(nil), it.Source.Network...)
	it.Labels = append([]string(nil), it.Labels...)
	if len(it.Source.Network) == 0 {
		it.Source.Network = nil
	}
	if len(it.Labels) == 0 {
		it.Labels = nil
	}
	return it
}

func joinNames[T ~string](v []T) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

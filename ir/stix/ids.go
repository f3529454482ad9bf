package stix

import (
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// SCONamespace is the namespace STIX 2.1 section 2.9 gives for the UUIDv5
// identifiers of Cyber-observable Objects.
var SCONamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// ObjectNamespace is the namespace of the UUIDv5 identifiers this package
// gives every object other than an SCO: the UUIDv5 of the URL
// "https://github.com/incidentkit/incidentkit/ir/stix" in the RFC 9562 URL
// namespace.
var ObjectNamespace = uuid.MustParse("0da91363-b208-54b0-a551-7903259f4e4e")

// objectID returns the identifier of an object of type typ that stands for
// name.
func objectID(typ, name string) string {
	return typ + "--" + uuid.NewSHA1(ObjectNamespace, []byte(typ+"|"+name)).String()
}

// scoID returns the identifier of an SCO of type typ whose ID contributing
// properties are props.
func scoID(typ string, props map[string]any) string {
	return typ + "--" + uuid.NewSHA1(SCONamespace, []byte(canonicalJSON(props))).String()
}

// canonicalJSON encodes v, made of strings and string-keyed maps, as the
// JSON Canonicalization Scheme (RFC 8785) does: object members sorted by
// key, no white space, strings escaped as little as JSON allows.
func canonicalJSON(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch v := v.(type) {
	case string:
		writeCanonicalString(b, v)
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		writeCanonical(b, m)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		// RFC 8785 sorts by UTF-16 code units; the keys here are ASCII,
		// for which that is byte order.
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonicalString(b, k)
			b.WriteByte(':')
			writeCanonical(b, v[k])
		}
		b.WriteByte('}')
	}
}

func writeCanonicalString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				if r < 0x10 {
					b.WriteByte('0')
				}
				b.WriteString(strconv.FormatInt(int64(r), 16))
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

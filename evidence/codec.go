package evidence

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file holds a hand-written codec for [Record]. Its output is
// byte-for-byte what encoding/json produces for the same record, which
// stays the definition of the canonical encoding; the codec only makes
// encoding and decoding faster. Whenever it meets something it does not
// handle (an error, a non-canonical input), callers fall back to
// encoding/json, so errors and results are unchanged.

var errCodec = errors.New("evidence: record not encodable by the fast codec")

// appendRecord appends to dst the encoding json.Marshal gives r. It returns
// an error for records json.Marshal refuses (unknown kinds or actions,
// times it cannot write); the error is not json.Marshal's, so callers
// should ask encoding/json for the error to report.
func appendRecord(dst []byte, r Record) ([]byte, error) {
	return appendRecordTail(appendRecordHead(dst, r), r)
}

// appendRecordHead appends the fields of r that place it in its log, the
// first fields of its encoding.
func appendRecordHead(dst []byte, r Record) []byte {
	dst = append(dst, `{"case":`...)
	dst = appendJSONString(dst, string(r.Case))
	dst = append(dst, `,"index":`...)
	dst = strconv.AppendInt(dst, r.Index, 10)
	dst = append(dst, `,"item":`...)
	dst = appendJSONString(dst, string(r.Item))
	dst = append(dst, `,"prev":`...)
	dst = strconv.AppendInt(dst, r.Prev, 10)
	return codecAppendOpt(dst, `,"prev_hash":`, r.PrevHash)
}

// appendRecordTail appends the rest of the encoding of r, from its
// action on: what appendRecord appends after appendRecordHead.
func appendRecordTail(dst []byte, r Record) ([]byte, error) {
	var err error
	a, ok := canonicalAction(r.Action)
	if !ok {
		return dst, errCodec
	}
	dst = append(dst, `,"action":`...)
	dst = appendJSONString(dst, string(a))
	dst = append(dst, `,"actor":`...)
	dst = codecAppendParty(dst, r.Actor)
	dst = codecAppendOpt(dst, `,"authority":`, r.Authority)
	if !r.From.IsZero() {
		dst = append(dst, `,"from":`...)
		dst = codecAppendParty(dst, r.From)
	}
	if !r.To.IsZero() {
		dst = append(dst, `,"to":`...)
		dst = codecAppendParty(dst, r.To)
	}
	dst = codecAppendOpt(dst, `,"location":`, r.Location)
	dst = append(dst, `,"at":`...)
	if dst, err = codecAppendTime(dst, r.At); err != nil {
		return dst, err
	}
	dst = codecAppendOpt(dst, `,"reason":`, r.Reason)
	dst = codecAppendOpt(dst, `,"tool":`, r.Tool)
	dst = codecAppendOpt(dst, `,"digest":`, r.Digest)
	dst = codecAppendOpt(dst, `,"notes":`, r.Notes)
	if r.Snapshot != nil {
		dst = append(dst, `,"snapshot":`...)
		if dst, err = codecAppendItem(dst, r.Snapshot); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func codecAppendItem(dst []byte, it *Item) ([]byte, error) {
	var err error
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, string(it.ID))
	dst = append(dst, `,"case_id":`...)
	dst = appendJSONString(dst, string(it.CaseID))
	dst = append(dst, `,"exhibit":`...)
	dst = appendJSONString(dst, it.Exhibit)
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, it.Name)
	k, ok := canonicalKind(it.Kind)
	if !ok {
		return dst, errCodec
	}
	dst = append(dst, `,"kind":`...)
	dst = appendJSONString(dst, string(k))
	dst = codecAppendOpt(dst, `,"media_type":`, it.MediaType)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, it.Size, 10)
	dst = append(dst, `,"digests":{"sha256":`...)
	dst = appendJSONString(dst, it.Digests.SHA256)
	dst = codecAppendOpt(dst, `,"sha1":`, it.Digests.SHA1)
	dst = codecAppendOpt(dst, `,"md5":`, it.Digests.MD5)
	dst = append(dst, '}')
	s := &it.Source
	// omitzero: the zero Source has every string empty and a nil Network.
	if s.Host != "" || s.Path != "" || s.SerialNumber != "" || s.Network != nil || s.Description != "" {
		dst = append(dst, `,"source":{`...)
		n := len(dst)
		dst = codecAppendOpt(dst, `,"host":`, s.Host)
		dst = codecAppendOpt(dst, `,"path":`, s.Path)
		dst = codecAppendOpt(dst, `,"serial_number":`, s.SerialNumber)
		if len(s.Network) > 0 {
			dst = append(dst, `,"network":`...)
			dst = codecAppendStrings(dst, s.Network)
		}
		dst = codecAppendOpt(dst, `,"description":`, s.Description)
		if len(dst) > n {
			// Drop the first field's leading comma.
			dst = append(dst[:n], dst[n+1:]...)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"collected_by":`...)
	dst = codecAppendParty(dst, it.CollectedBy)
	dst = append(dst, `,"collected_at":`...)
	if dst, err = codecAppendTime(dst, it.CollectedAt); err != nil {
		return dst, err
	}
	dst = codecAppendOpt(dst, `,"location":`, it.Location)
	if len(it.Labels) > 0 {
		dst = append(dst, `,"labels":`...)
		dst = codecAppendStrings(dst, it.Labels)
	}
	return append(dst, '}'), nil
}

func codecAppendParty(dst []byte, p Party) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, p.ID)
	dst = codecAppendOpt(dst, `,"name":`, p.Name)
	dst = codecAppendOpt(dst, `,"organization":`, p.Organization)
	return append(dst, '}')
}

func codecAppendStrings(dst []byte, v []string) []byte {
	dst = append(dst, '[')
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// codecAppendOpt appends key and s, unless s is empty (omitempty).
func codecAppendOpt(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, key...)
	return appendJSONString(dst, s)
}

// canonicalAction returns what Action.MarshalText writes for a.
func canonicalAction(a Action) (Action, bool) {
	for _, c := range actions {
		if a == c {
			return c, true
		}
	}
	c, err := ParseAction(string(a))
	return c, err == nil
}

// canonicalKind returns what Kind.MarshalText writes for k.
func canonicalKind(k Kind) (Kind, bool) {
	if k == "" {
		return "", true
	}
	for _, c := range kinds {
		if k == c {
			return c, true
		}
	}
	c, err := ParseKind(string(k))
	return c, err == nil
}

// codecAppendTime appends t as time.Time.MarshalJSON writes it: quoted RFC 3339
// with trailing zeros of the fraction trimmed, refusing years outside
// 0-9999 and zone offsets of 24 hours or more.
func codecAppendTime(dst []byte, t time.Time) ([]byte, error) {
	dst = append(dst, '"')
	n0 := len(dst)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	if len(dst) < n0+len("2006-01-02T15:04:05Z") || dst[n0+len("2006")] != '-' {
		return dst, errCodec
	}
	if dst[len(dst)-1] != 'Z' {
		c := dst[len(dst)-len("Z07:00")]
		h := dst[len(dst)-len("07:00"):]
		if '0' <= c && c <= '9' || 10*(h[0]-'0')+(h[1]-'0') >= 24 {
			return dst, errCodec
		}
	}
	return append(dst, '"'), nil
}

const hexDigits = "0123456789abcdef"

// jsonSafe reports which ASCII bytes encoding/json writes unescaped (its
// HTML-safe set).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		switch b {
		case '"', '\\', '<', '>', '&':
		default:
			t[b] = true
		}
	}
	return t
}()

// jsonSafeWord reports whether encoding/json writes all 8 bytes of s
// unescaped, testing them at once: all ASCII, none a control character, a
// quote, a backslash or one of <, > and &. It may report false for a safe
// word, never true for another.
func jsonSafeWord(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	bad := x&highs | (x-0x20*ones)&^x&highs |
		hasZero(x^('"'*ones)) | hasZero(x^('\\'*ones)) | hasZero(x^('<'*ones)) |
		hasZero(x^('>'*ones)) | hasZero(x^('&'*ones))
	return bad == 0
}

// appendJSONString appends s quoted and escaped exactly as encoding/json
// does by default.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && jsonSafeWord(s[i:i+8]) {
			i += 8
			continue
		}
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// encodeRecordJSON is the reference encoding: encoding/json's.
func encodeRecordJSON(r Record) ([]byte, error) {
	return json.Marshal(r)
}

// decodeRecordJSON is the reference decoder: encoding/json's, checked by
// re-encoding.
func decodeRecordJSON(data []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, invalid("record", err.Error())
	}
	again, err := r.Encode()
	if err != nil {
		return Record{}, invalid("record", err.Error())
	}
	if string(again) != string(data) {
		return Record{}, invalid("record", "not in canonical form")
	}
	return r, nil
}

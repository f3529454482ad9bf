package evidence

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// This file keeps the record decoder that checks a record is canonical by
// re-encoding it, as the reference the strict decoder is tested against.

// decodeRecordReencode is the reference for decodeRecordFast: it parses
// leniently, then re-encodes the record and compares the bytes.
func decodeRecordReencode(data []byte) (Record, bool) {
	r, ok := parseRecord(data)
	if !ok {
		return Record{}, false
	}
	again, err := appendRecord(nil, r)
	if err != nil || !bytes.Equal(again, data) {
		return Record{}, false
	}
	return r, true
}

// recordParser parses the fields of a canonical record in order. It is
// lenient in places (a record it returns is re-encoded and compared with
// the input) but never gives a value other than encoding/json would.
type recordParser struct {
	data []byte
	// str is data as a string, so unescaped field values can share it
	// rather than each being copied.
	str string
	pos int
	ok  bool
}

// lit consumes s if the input continues with it.
func (p *recordParser) lit(s string) bool {
	if p.ok && len(p.data)-p.pos >= len(s) && string(p.data[p.pos:p.pos+len(s)]) == s {
		p.pos += len(s)
		return true
	}
	return false
}

// expect consumes s, or fails the parse.
func (p *recordParser) expect(s string) {
	if !p.lit(s) {
		p.ok = false
	}
}

func (p *recordParser) int() int64 {
	if !p.ok {
		return 0
	}
	i := p.pos
	if i < len(p.data) && p.data[i] == '-' {
		i++
	}
	for i < len(p.data) && '0' <= p.data[i] && p.data[i] <= '9' {
		i++
	}
	v, err := strconv.ParseInt(string(p.data[p.pos:i]), 10, 64)
	if err != nil {
		p.ok = false
		return 0
	}
	p.pos = i
	return v
}

// rawString returns the quoted string at the input, quotes included,
// and whether it has escapes.
func (p *recordParser) rawString() ([]byte, bool) {
	if !p.ok || p.pos >= len(p.data) || p.data[p.pos] != '"' {
		p.ok = false
		return nil, false
	}
	escaped := false
	for i := p.pos + 1; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			s := p.data[p.pos : i+1]
			p.pos = i + 1
			return s, escaped
		case c == '\\':
			escaped = true
			i++
		case c < 0x20:
			p.ok = false
			return nil, false
		}
	}
	p.ok = false
	return nil, false
}

func (p *recordParser) string() string {
	raw, escaped := p.rawString()
	if !p.ok {
		return ""
	}
	if !escaped {
		end := p.pos - 1
		return p.str[end-(len(raw)-2) : end]
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		p.ok = false
		return ""
	}
	return s
}

// optString parses key and a string if the input continues with key.
func (p *recordParser) optString(key string) string {
	if p.lit(key) {
		return p.string()
	}
	return ""
}

func (p *recordParser) time() time.Time {
	raw, escaped := p.rawString()
	var t time.Time
	if !p.ok || escaped {
		p.ok = false
		return t
	}
	if err := t.UnmarshalJSON(raw); err != nil {
		p.ok = false
	}
	return t
}

func (p *recordParser) party() Party {
	var v Party
	p.expect(`{"id":`)
	v.ID = p.string()
	v.Name = p.optString(`,"name":`)
	v.Organization = p.optString(`,"organization":`)
	p.expect("}")
	return v
}

func (p *recordParser) strings() []string {
	p.expect("[")
	var v []string
	for p.ok {
		v = append(v, p.string())
		if !p.lit(",") {
			break
		}
	}
	p.expect("]")
	return v
}

func (p *recordParser) item() *Item {
	it := new(Item)
	p.expect(`{"id":`)
	it.ID = ItemID(p.string())
	p.expect(`,"case_id":`)
	it.CaseID = CaseID(p.string())
	p.expect(`,"exhibit":`)
	it.Exhibit = p.string()
	p.expect(`,"name":`)
	it.Name = p.string()
	p.expect(`,"kind":`)
	if k := p.string(); k != "" {
		// Kinds decode through ParseKind; a canonical one is its own name.
		if kk, ok := canonicalKind(Kind(k)); !ok || string(kk) != k {
			p.ok = false
		}
		it.Kind = Kind(k)
	}
	it.MediaType = p.optString(`,"media_type":`)
	p.expect(`,"size":`)
	it.Size = p.int()
	p.expect(`,"digests":{"sha256":`)
	it.Digests.SHA256 = p.string()
	it.Digests.SHA1 = p.optString(`,"sha1":`)
	it.Digests.MD5 = p.optString(`,"md5":`)
	p.expect("}")
	if p.lit(`,"source":{`) {
		s := &it.Source
		sep := ""
		if p.lit(`"host":`) {
			s.Host, sep = p.string(), ","
		}
		if p.lit(sep + `"path":`) {
			s.Path, sep = p.string(), ","
		}
		if p.lit(sep + `"serial_number":`) {
			s.SerialNumber, sep = p.string(), ","
		}
		if p.lit(sep + `"network":`) {
			s.Network, sep = p.strings(), ","
		}
		if p.lit(sep + `"description":`) {
			s.Description = p.string()
		}
		p.expect("}")
	}
	p.expect(`,"collected_by":`)
	it.CollectedBy = p.party()
	p.expect(`,"collected_at":`)
	it.CollectedAt = p.time()
	it.Location = p.optString(`,"location":`)
	if p.lit(`,"labels":`) {
		it.Labels = p.strings()
	}
	p.expect("}")
	return it
}

// parseRecord parses a record in canonical form. It reports false for
// input it cannot parse; a record it returns must still be re-encoded and
// compared with data before it is trusted (see decodeRecordReencode).
func parseRecord(data []byte) (Record, bool) {
	p := recordParser{data: data, str: string(data), ok: true}
	var r Record
	p.expect(`{"case":`)
	r.Case = CaseID(p.string())
	p.expect(`,"index":`)
	r.Index = p.int()
	p.expect(`,"item":`)
	r.Item = ItemID(p.string())
	p.expect(`,"prev":`)
	r.Prev = p.int()
	r.PrevHash = p.optString(`,"prev_hash":`)
	p.expect(`,"action":`)
	a := Action(p.string())
	if c, ok := canonicalAction(a); !ok || c != a {
		p.ok = false
	}
	r.Action = a
	p.expect(`,"actor":`)
	r.Actor = p.party()
	r.Authority = p.optString(`,"authority":`)
	if p.lit(`,"from":`) {
		r.From = p.party()
	}
	if p.lit(`,"to":`) {
		r.To = p.party()
	}
	r.Location = p.optString(`,"location":`)
	p.expect(`,"at":`)
	r.At = p.time()
	r.Reason = p.optString(`,"reason":`)
	r.Tool = p.optString(`,"tool":`)
	r.Digest = p.optString(`,"digest":`)
	r.Notes = p.optString(`,"notes":`)
	if p.lit(`,"snapshot":`) {
		r.Snapshot = p.item()
	}
	p.expect("}")
	if !p.ok || p.pos != len(data) {
		return Record{}, false
	}
	return r, true
}

package evidence

import (
	"bytes"
	"encoding/base64"
	"hash/maphash"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/incidentkit/incidentkit/internal/jsonenc"
	"golang.org/x/mod/sumdb/tlog"
)

// This file holds a strict decoder for [Record]: it accepts exactly the
// bytes appendRecord writes for some record and refuses everything else,
// so a record it returns needs no re-encoding to prove it canonical. It
// follows appendRecord field by field: the same keys in the same order,
// optional fields only when they would be written (never empty), strings
// escaped only as jsonenc.AppendString escapes them, integers and times only
// as strconv and time.Time.AppendFormat write them. Every string it
// returns is valid UTF-8, as encoding/json's would be.

// recordDecoder decodes canonical records. It keeps caches between
// records (repeated strings, time zones, the last case ID checked), so
// decoding a log with one decoder allocates little. It is not safe for
// concurrent use.
type recordDecoder struct {
	data []byte
	pos  int
	ok   bool
	// esc holds a string being unescaped.
	esc []byte
	// strs interns strings by a hash of their bytes: custody logs repeat
	// the same case, items, parties, places and tools.
	strs [internSlots]string
	seed maphash.Seed
	// zones are the fixed zones of the offsets seen, each made once.
	zones []fixedZone
	// caseID is the last case ID checked by validate, and caseErr its
	// checkCaseID result.
	caseID  CaseID
	caseErr error
}

const (
	internSlots  = 1024
	internMaxLen = 128
)

func newRecordDecoder() *recordDecoder {
	return &recordDecoder{seed: maphash.MakeSeed()}
}

var recordDecoders = sync.Pool{New: func() any { return newRecordDecoder() }}

// decodeRecordFast decodes a record in canonical form, reporting false for
// anything else.
func decodeRecordFast(data []byte) (Record, bool) {
	d := recordDecoders.Get().(*recordDecoder)
	var r Record
	ok := d.decode(data, &r)
	d.data = nil
	recordDecoders.Put(d)
	if !ok {
		return Record{}, false
	}
	return r, true
}

// decode sets *r to the record data encodes, if data is in canonical
// form; otherwise it reports false and leaves *r unspecified.
func (d *recordDecoder) decode(data []byte, r *Record) bool {
	*r = Record{}
	d.data, d.pos, d.ok = data, 0, true
	d.expect(`{"case":`)
	r.Case = CaseID(d.string())
	d.expect(`,"index":`)
	r.Index = d.int()
	d.expect(`,"item":`)
	r.Item = ItemID(d.string())
	d.expect(`,"prev":`)
	r.Prev = d.int()
	if d.lit(`,"prev_hash":`) {
		r.PrevHash = d.uniqueString()
	}
	d.expect(`,"action":`)
	r.Action = d.action()
	d.expect(`,"actor":`)
	r.Actor = d.party()
	r.Authority = d.optString(`,"authority":`)
	if d.lit(`,"from":`) {
		r.From = d.nonZeroParty()
	}
	if d.lit(`,"to":`) {
		r.To = d.nonZeroParty()
	}
	r.Location = d.optString(`,"location":`)
	d.expect(`,"at":`)
	r.At = d.time()
	r.Reason = d.optString(`,"reason":`)
	r.Tool = d.optString(`,"tool":`)
	r.Digest = d.optString(`,"digest":`)
	r.Notes = d.optString(`,"notes":`)
	if d.lit(`,"snapshot":`) {
		r.Snapshot = d.item()
	}
	d.expect("}")
	return d.ok && d.pos == len(d.data)
}

// lit consumes s if the input continues with it.
func (d *recordDecoder) lit(s string) bool {
	if d.ok && len(d.data)-d.pos >= len(s) && string(d.data[d.pos:d.pos+len(s)]) == s {
		d.pos += len(s)
		return true
	}
	return false
}

// expect consumes s, or fails the decoding.
func (d *recordDecoder) expect(s string) {
	if !d.lit(s) {
		d.ok = false
	}
}

// int decodes an integer as strconv.AppendInt writes it: no plus sign,
// no leading zeros, no negative zero, within int64.
func (d *recordDecoder) int() int64 {
	if !d.ok {
		return 0
	}
	i := d.pos
	neg := i < len(d.data) && d.data[i] == '-'
	if neg {
		i++
	}
	start := i
	var v uint64
	for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' && i-start < 19 {
		v = v*10 + uint64(d.data[i]-'0')
		i++
	}
	n := i - start
	switch {
	case n == 0, n > 1 && d.data[start] == '0', neg && v == 0,
		i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9', // 20 digits or more
		!neg && v > 1<<63-1, neg && v > 1<<63:
		d.ok = false
		return 0
	}
	d.pos = i
	if neg {
		return int64(-v)
	}
	return int64(v)
}

// scan consumes a string in canonical form and returns its body, without
// the quotes, and whether it holds escapes.
func (d *recordDecoder) scan() (body []byte, escaped bool) {
	data := d.data
	i := d.pos
	if !d.ok || i >= len(data) || data[i] != '"' {
		d.ok = false
		return nil, false
	}
	i++
	start := i
	for {
		for i < len(data) && plainByte[data[i]] {
			i++
		}
		if i >= len(data) {
			d.ok = false
			return nil, false
		}
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return data[start:i], escaped
		case c == '\\':
			n, _ := canonicalEscape(data[i:])
			if n == 0 {
				d.ok = false
				return nil, false
			}
			escaped = true
			i += n
		case c < utf8.RuneSelf:
			if !jsonenc.SafeASCII[c] {
				d.ok = false
				return nil, false
			}
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				d.ok = false
				return nil, false
			}
			i += size
		}
	}
}

// plainByte reports which bytes jsonenc.AppendString writes as they are and
// on their own: the ASCII ones it does not escape.
var plainByte = func() (t [256]bool) {
	copy(t[:], jsonenc.SafeASCII[:])
	return t
}()

// canonicalEscape returns the length of the escape sequence b starts with
// and the rune it stands for, if jsonenc.AppendString writes that rune so; it
// returns 0 for any other escape.
func canonicalEscape(b []byte) (int, rune) {
	if len(b) < 2 {
		return 0, 0
	}
	switch b[1] {
	case '"', '\\':
		return 2, rune(b[1])
	case 'b':
		return 2, '\b'
	case 'f':
		return 2, '\f'
	case 'n':
		return 2, '\n'
	case 'r':
		return 2, '\r'
	case 't':
		return 2, '\t'
	case 'u':
	default:
		return 0, 0
	}
	if len(b) < 6 {
		return 0, 0
	}
	switch u := string(b[2:6]); u {
	case "2028":
		return 6, '\u2028'
	case "2029":
		return 6, '\u2029'
	case "003c":
		return 6, '<'
	case "003e":
		return 6, '>'
	case "0026":
		return 6, '&'
	default:
		if u[0] != '0' || u[1] != '0' || (u[2] != '0' && u[2] != '1') {
			return 0, 0
		}
		lo := lowerHexValue(u[3])
		if lo < 0 {
			return 0, 0
		}
		c := rune(u[2]-'0')<<4 | rune(lo)
		switch c {
		case '\b', '\f', '\n', '\r', '\t':
			return 0, 0
		}
		return 6, c
	}
}

// lowerHexValue returns the value of a lower-case hex digit, or -1.
func lowerHexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// unescape returns the text of a string body holding escapes, all of
// which scan checked are canonical.
func (d *recordDecoder) unescape(body []byte) []byte {
	out := d.esc[:0]
	for i := 0; i < len(body); {
		if body[i] != '\\' {
			out = append(out, body[i])
			i++
			continue
		}
		n, r := canonicalEscape(body[i:])
		out = utf8.AppendRune(out, r)
		i += n
	}
	d.esc = out
	return out
}

// string decodes a string, interning it.
func (d *recordDecoder) string() string {
	body, escaped := d.scan()
	if !d.ok {
		return ""
	}
	if escaped {
		body = d.unescape(body)
	}
	return d.intern(body)
}

// uniqueString decodes a string not worth interning.
func (d *recordDecoder) uniqueString() string {
	body, escaped := d.scan()
	if !d.ok || len(body) == 0 {
		// An empty optional field is omitted, never written.
		d.ok = false
		return ""
	}
	if escaped {
		body = d.unescape(body)
	}
	return string(body)
}

// optString decodes key and a non-empty string if the input continues
// with key.
func (d *recordDecoder) optString(key string) string {
	if !d.lit(key) {
		return ""
	}
	s := d.string()
	if s == "" {
		d.ok = false
	}
	return s
}

// intern returns b as a string, sharing an earlier copy if it has one.
func (d *recordDecoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internMaxLen {
		return string(b)
	}
	slot := &d.strs[maphash.Bytes(d.seed, b)%internSlots]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	*slot = s
	return s
}

// action decodes an action, which must be one of the actions by its exact
// name.
func (d *recordDecoder) action() Action {
	body, escaped := d.scan()
	if !d.ok || escaped {
		d.ok = false
		return ""
	}
	for _, a := range actions {
		if string(a) == string(body) {
			return a
		}
	}
	d.ok = false
	return ""
}

// kind decodes a kind, which must be empty or one of the kinds by its
// exact name.
func (d *recordDecoder) kind() Kind {
	body, escaped := d.scan()
	if !d.ok || escaped {
		d.ok = false
		return ""
	}
	if len(body) == 0 {
		return ""
	}
	for _, k := range kinds {
		if string(k) == string(body) {
			return k
		}
	}
	d.ok = false
	return ""
}

func (d *recordDecoder) party() Party {
	var v Party
	d.expect(`{"id":`)
	v.ID = d.string()
	v.Name = d.optString(`,"name":`)
	v.Organization = d.optString(`,"organization":`)
	d.expect("}")
	return v
}

// nonZeroParty decodes a party written only when it is not the zero one.
func (d *recordDecoder) nonZeroParty() Party {
	v := d.party()
	if v.IsZero() {
		d.ok = false
	}
	return v
}

// strings decodes a list of at least one string (an empty list is
// omitted, never written).
func (d *recordDecoder) strings() []string {
	d.expect("[")
	var v []string
	for d.ok {
		v = append(v, d.string())
		if !d.lit(",") {
			break
		}
	}
	d.expect("]")
	return v
}

func (d *recordDecoder) item() *Item {
	it := new(Item)
	d.expect(`{"id":`)
	it.ID = ItemID(d.string())
	d.expect(`,"case_id":`)
	it.CaseID = CaseID(d.string())
	d.expect(`,"exhibit":`)
	it.Exhibit = d.string()
	d.expect(`,"name":`)
	it.Name = d.string()
	d.expect(`,"kind":`)
	it.Kind = d.kind()
	it.MediaType = d.optString(`,"media_type":`)
	d.expect(`,"size":`)
	it.Size = d.int()
	d.expect(`,"digests":{"sha256":`)
	it.Digests.SHA256 = d.string()
	it.Digests.SHA1 = d.optString(`,"sha1":`)
	it.Digests.MD5 = d.optString(`,"md5":`)
	d.expect("}")
	if d.lit(`,"source":{`) {
		d.source(&it.Source)
	}
	d.expect(`,"collected_by":`)
	it.CollectedBy = d.party()
	d.expect(`,"collected_at":`)
	it.CollectedAt = d.time()
	it.Location = d.optString(`,"location":`)
	if d.lit(`,"labels":`) {
		it.Labels = d.strings()
	}
	d.expect("}")
	return it
}

// source decodes the fields of a source after its opening brace: at
// least one, since the zero source is omitted.
func (d *recordDecoder) source(s *Source) {
	sep := ""
	if d.lit(`"host":`) {
		s.Host, sep = d.nonEmpty(), ","
	}
	if d.lit(sep + `"path":`) {
		s.Path, sep = d.nonEmpty(), ","
	}
	if d.lit(sep + `"serial_number":`) {
		s.SerialNumber, sep = d.nonEmpty(), ","
	}
	if d.lit(sep + `"network":`) {
		s.Network, sep = d.strings(), ","
	}
	if d.lit(sep + `"description":`) {
		s.Description, sep = d.nonEmpty(), ","
	}
	if sep == "" {
		d.ok = false
	}
	d.expect("}")
}

// nonEmpty decodes a string that must not be empty.
func (d *recordDecoder) nonEmpty() string {
	s := d.string()
	if s == "" {
		d.ok = false
	}
	return s
}

// time decodes a time as time.Time.MarshalJSON writes it, giving the
// value time.Time.UnmarshalJSON gives: RFC 3339 with 1 to 9 digits of
// fraction, the last not 0, and a zone offset of less than 24 hours
// written as "Z" when it is 0.
func (d *recordDecoder) time() time.Time {
	body, escaped := d.scan()
	if !d.ok || escaped {
		d.ok = false
		return time.Time{}
	}
	t, ok := d.parseTime(body)
	if !ok {
		d.ok = false
	}
	return t
}

// parseTime parses the canonical RFC 3339 text of a time (see time).
func (d *recordDecoder) parseTime(s []byte) (time.Time, bool) {
	const layout = len("2006-01-02T15:04:05")
	if len(s) < layout+1 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	ok := true
	num := func(b []byte, max int) int {
		x := 0
		for _, c := range b {
			if c < '0' || '9' < c {
				ok = false
			}
			x = x*10 + int(c-'0')
		}
		if x > max {
			ok = false
		}
		return x
	}
	year := num(s[0:4], 9999)
	month := num(s[5:7], 12)
	day := num(s[8:10], 31)
	hour := num(s[11:13], 23)
	minute := num(s[14:16], 59)
	sec := num(s[17:19], 59)
	if !ok || month < 1 || day < 1 || day > daysInMonth(year, month) {
		return time.Time{}, false
	}
	s = s[layout:]
	nsec := 0
	if s[0] == '.' {
		n := 1
		for n < len(s) && n <= 9 && '0' <= s[n] && s[n] <= '9' {
			nsec = nsec*10 + int(s[n]-'0')
			n++
		}
		if n == 1 || s[n-1] == '0' {
			return time.Time{}, false
		}
		for range 10 - n {
			nsec *= 10
		}
		s = s[n:]
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	if len(s) == 1 && s[0] == 'Z' {
		return time.Unix(unix, int64(nsec)).UTC(), true
	}
	if len(s) != len("+07:00") || s[0] != '+' && s[0] != '-' || s[3] != ':' {
		return time.Time{}, false
	}
	offset := (num(s[1:3], 23)*60 + num(s[4:6], 59)) * 60
	if !ok || offset == 0 {
		return time.Time{}, false
	}
	if s[0] == '-' {
		offset = -offset
	}
	t := time.Unix(unix-int64(offset), int64(nsec))
	// As time.Time.UnmarshalJSON does: the local zone if it has this
	// offset at that time, else a fixed zone.
	if _, off := t.In(time.Local).Zone(); off == offset {
		return t.In(time.Local), true
	}
	return t.In(d.zone(offset)), true
}

// zone returns a fixed zone with no name and the given offset, the same
// one each time.
func (d *recordDecoder) zone(offset int) *time.Location {
	for _, z := range d.zones {
		if z.offset == offset {
			return z.loc
		}
	}
	loc := time.FixedZone("", offset)
	if len(d.zones) < 16 {
		d.zones = append(d.zones, fixedZone{offset, loc})
	}
	return loc
}

type fixedZone struct {
	offset int
	loc    *time.Location
}

func isLeap(year int) bool { return year%4 == 0 && (year%100 != 0 || year%400 == 0) }

func daysInMonth(year, month int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch returns the number of days from 1970-01-01 to the given
// date of the proleptic Gregorian calendar, for years 0 to 9999.
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := int64(month+9) % 12
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// validate returns checkRecord(*r) for a record decode accepted from
// data, quickly when the record is valid: such a record is always
// encodable (its text is valid UTF-8, its zone offsets whole minutes),
// which leaves few checks to make. A NUL byte in its text is written
// \u0000, which data holds nowhere else but after a backslash of the text.
func (d *recordDecoder) validate(r *Record, data []byte) error {
	if r.Case != d.caseID || d.caseID == "" {
		d.caseID, d.caseErr = r.Case, checkCaseID(r.Case)
	}
	if d.caseErr != nil || r.Item == "" || r.Actor.ID == "" || r.At.IsZero() ||
		r.Action == ActionTransferred && (r.From.ID == "" || r.To.ID == "") ||
		r.Digest != "" && !isLowerHex(r.Digest, 32) ||
		(r.Action == ActionCollected) != (r.Snapshot != nil) ||
		r.Snapshot != nil && (r.Snapshot.ID != r.Item || r.Snapshot.CaseID != r.Case) ||
		r.Snapshot != nil || !withinLimits(r) || bytes.Contains(data, []byte(`\u0000`)) {
		return checkRecord(*r)
	}
	return nil
}

// isLowerHex is isHex without allocating: s is 2*size lower-case hex
// digits.
func isLowerHex(s string, size int) bool {
	if len(s) != 2*size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerHexValue(s[i]) < 0 {
			return false
		}
	}
	return true
}

// parseHash is tlog.ParseHash, without allocating for a hash of the usual
// length.
func parseHash(s string) (Hash, bool) {
	const n = 44 // base64 of 32 bytes
	if len(s) != n {
		h, err := tlog.ParseHash(s)
		return h, err == nil
	}
	var src [n]byte
	var dst [33]byte // base64.StdEncoding.DecodedLen(n)
	copy(src[:], s)
	m, err := base64.StdEncoding.Decode(dst[:], src[:])
	if err != nil || m != tlog.HashSize {
		return Hash{}, false
	}
	return Hash(dst[:tlog.HashSize]), true
}

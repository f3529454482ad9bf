package evidence

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/incidentkit/incidentkit/internal/jsonenc"
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
	dst = jsonenc.AppendString(dst, string(r.Case))
	dst = append(dst, `,"index":`...)
	dst = strconv.AppendInt(dst, r.Index, 10)
	dst = append(dst, `,"item":`...)
	dst = jsonenc.AppendString(dst, string(r.Item))
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
	dst = jsonenc.AppendString(dst, string(a))
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
	dst = jsonenc.AppendString(dst, string(it.ID))
	dst = append(dst, `,"case_id":`...)
	dst = jsonenc.AppendString(dst, string(it.CaseID))
	dst = append(dst, `,"exhibit":`...)
	dst = jsonenc.AppendString(dst, it.Exhibit)
	dst = append(dst, `,"name":`...)
	dst = jsonenc.AppendString(dst, it.Name)
	k, ok := canonicalKind(it.Kind)
	if !ok {
		return dst, errCodec
	}
	dst = append(dst, `,"kind":`...)
	dst = jsonenc.AppendString(dst, string(k))
	dst = codecAppendOpt(dst, `,"media_type":`, it.MediaType)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, it.Size, 10)
	dst = append(dst, `,"digests":{"sha256":`...)
	dst = jsonenc.AppendString(dst, it.Digests.SHA256)
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
	dst = jsonenc.AppendString(dst, p.ID)
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
		dst = jsonenc.AppendString(dst, s)
	}
	return append(dst, ']')
}

// codecAppendOpt appends key and s, unless s is empty (omitempty).
func codecAppendOpt(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, key...)
	return jsonenc.AppendString(dst, s)
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

// codecAppendTime appends t as time.Time.MarshalJSON writes it, refusing
// a time it refuses.
func codecAppendTime(dst []byte, t time.Time) ([]byte, error) {
	dst, ok := jsonenc.AppendTime(dst, t)
	if !ok {
		return dst, errCodec
	}
	return dst, nil
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

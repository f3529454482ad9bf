package ir

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OpenWithID opens an incident as [Responder.Open] does, with the ID the
// caller gives instead of one from the Responder's generator.
//
// It makes opening idempotent: if an incident with that ID exists already,
// opened by this Responder or by any other process sharing the store,
// OpenWithID writes nothing and returns an error matching [ErrConflict]
// (it is not retried, since a retry would conflict again). A program that
// derives the ID from something every opener agrees on, such as an alert's
// deduplication key and start time, can let any number of instances race to
// open the incident: exactly one succeeds, and the others read it instead.
//
// The ID must be at most [MaxShortText] bytes of valid UTF-8 without
// control characters or surrounding space; any other is refused with an
// [*InvalidError]. Incidents are listed in ID order, newest first, so an ID
// that sorts with the Responder's other IDs (for [UUIDv7], a version 7 or 8
// UUID whose first 48 bits are a Unix time in milliseconds) keeps listings
// in the order incidents began.
func (r *Responder) OpenWithID(ctx context.Context, actor Actor, id ID, n NewIncident) (*Incident, error) {
	if err := checkIncidentID(id); err != nil {
		return nil, err
	}
	return r.open(ctx, actor, n, id)
}

// checkIncidentID checks the form of an incident ID a caller chose.
func checkIncidentID(id ID) error {
	s := string(id)
	switch {
	case s == "":
		return invalid("incident ID", "", "is required")
	case len(s) > MaxShortText:
		return invalid("incident ID", "", "is longer than the limit")
	case !utf8.ValidString(s):
		return invalid("incident ID", "", "is not valid UTF-8")
	case strings.TrimSpace(s) != s:
		return invalid("incident ID", s, "has surrounding space")
	case strings.ContainsFunc(s, unicode.IsControl):
		return invalid("incident ID", "", "contains control characters")
	}
	return nil
}

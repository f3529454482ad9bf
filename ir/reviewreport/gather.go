package reviewreport

import (
	"context"
	"errors"
	"fmt"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// DeliveryRecords lists the delivery records of an incident's
// notifications: the part of notify.Deliveries a review document reads.
// The stores of packages sqlite and postgres, and ir.MemoryStore,
// implement it.
type DeliveryRecords interface {
	IncidentDeliveries(ctx context.Context, incident string) ([]notify.Delivery, error)
}

// Sources are where [Gather] reads a document's parts. Only Responder is
// required; a part whose source is nil is left empty, and the document
// says it was not recorded or not checked.
type Sources struct {
	// Responder reads the incident and its timeline.
	Responder *ir.Responder
	// Locker, if set, gives the custody status of the incident's
	// evidence: the case's custody log is exported and verified, and every
	// item's content re-hashed (evidence.Locker.ExportVerified).
	Locker *evidence.Locker
	// LogOnly, if set, verifies the custody log without re-hashing the
	// items' content (evidence.Ledger.ExportVerified), for evidence too
	// large to read for every document; the document says the content
	// was not checked.
	LogOnly bool
	// Deliveries, if set, gives the delivery records of the incident's
	// notifications.
	Deliveries DeliveryRecords
	// Clock tells when the document is made; nil means ir.SystemClock.
	Clock ir.Clock
}

// Gather reads the document of incident id from s: the incident, its
// whole timeline, the phase model it follows (the Responder's, or the
// built-in model it names), the custody status of its evidence and its
// delivery records. It fails with an error matching ir.ErrNotFound if
// there is no such incident, and with the error of any source that
// fails, but a case with no custody log, which it shows as such.
func Gather(ctx context.Context, s Sources, id ir.ID) (Document, error) {
	if s.Responder == nil {
		return Document{}, &ir.InvalidError{Field: "review sources", Reason: "need a Responder"}
	}
	clock := s.Clock
	if clock == nil {
		clock = ir.SystemClock
	}
	inc, err := s.Responder.Get(ctx, id)
	if err != nil {
		return Document{}, fmt.Errorf("reviewreport: %w", err)
	}
	doc := Document{Incident: inc, Model: s.Responder.Model()}
	if inc.Model != doc.Model.Name() {
		doc.Model, _ = phases.Lookup(inc.Model)
	}
	for e, err := range s.Responder.AllEvents(ctx, id) {
		if err != nil {
			return Document{}, fmt.Errorf("reviewreport: timeline of %s: %w", id, err)
		}
		doc.Timeline = append(doc.Timeline, e)
	}
	if s.Locker != nil && len(inc.Evidence) > 0 {
		if doc.Custody, err = custodyOf(ctx, s.Locker, inc, !s.LogOnly); err != nil {
			return Document{}, fmt.Errorf("reviewreport: custody of %s: %w", id, err)
		}
	}
	if s.Deliveries != nil {
		if doc.Deliveries, err = s.Deliveries.IncidentDeliveries(ctx, string(id)); err != nil {
			return Document{}, fmt.Errorf("reviewreport: deliveries of %s: %w", id, err)
		}
	}
	doc.GeneratedAt = clock.Now()
	return doc, nil
}

// custodyOf exports and verifies the custody log of inc's case, and the
// items' content if content is set, and returns the custody status of
// each of its evidence items.
func custodyOf(ctx context.Context, l *evidence.Locker, inc *ir.Incident, content bool) (map[evidence.ItemID]CustodyStatus, error) {
	out := make(map[evidence.ItemID]CustodyStatus, len(inc.Evidence))
	export := l.ExportVerified
	if !content {
		export = l.Ledger().ExportVerified
	}
	log, rep, err := export(ctx, inc.ID.Case())
	if errors.Is(err, evidence.ErrNotFound) {
		for _, ev := range inc.Evidence {
			out[ev.Item] = CustodyStatus{}
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, ev := range inc.Evidence {
		out[ev.Item] = CustodyStatus{Verified: true, ContentChecked: content}
	}
	for i, raw := range log.Records {
		r, err := evidence.DecodeRecord(raw)
		if err != nil {
			continue // verification reports it
		}
		st, ok := out[r.Item]
		if !ok {
			continue
		}
		st.Records++
		if r.Index == int64(i) {
			st.Last = r
		}
		out[r.Item] = st
	}
	for _, p := range rep.Problems {
		var te *evidence.TamperError
		item := evidence.ItemID("")
		if errors.As(p, &te) {
			item = te.Item
		}
		for id, st := range out {
			if item == "" || item == id {
				st.Problems = append(st.Problems, p.Error())
				out[id] = st
			}
		}
	}
	if rep.Omitted > 0 {
		for id, st := range out {
			st.Problems = append(st.Problems, fmt.Sprintf("and %d more problems in the case", rep.Omitted))
			out[id] = st
		}
	}
	return out, nil
}

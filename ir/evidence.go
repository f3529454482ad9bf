package ir

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
)

// EvidenceRef is an incident's reference to an evidence item held in the
// evidence locker: enough to list it, and the digest that identifies its
// content. The item's chain of custody is in the locker.
type EvidenceRef struct {
	Item        evidence.ItemID `json:"item"`
	Exhibit     string          `json:"exhibit"`
	Name        string          `json:"name"`
	Kind        evidence.Kind   `json:"kind"`
	Size        int64           `json:"size"`
	SHA256      string          `json:"sha256"`
	CollectedAt time.Time       `json:"collected_at"`
	CollectedBy Actor           `json:"collected_by"`
}

// Case returns the ID of the incident's evidence case, under which the
// evidence locker keeps its items and chain of custody: the incident's ID.
func (id ID) Case() evidence.CaseID { return evidence.CaseID(id) }

// Spans of the steps of collecting evidence, under the span of
// [Responder.CollectEvidence]: checking that the incident exists and the
// actor may collect, and recording the item on the incident (the span of
// [Responder.LinkEvidence] too).
const (
	spanCheckEvidence Operation = "collect_evidence.check"
	spanLinkEvidence  Operation = "link_evidence"
)

// linkTimeout bounds how long linking collected evidence to its incident
// may take once the caller has stopped waiting.
const linkTimeout = 30 * time.Second

// CollectEvidence takes evidence in for the incident: the locker stores the
// content and records its collection in the incident's custody log (its
// case ID is the incident's ID), and the incident gets a reference to the
// item and an [EvidenceCollected] event carrying its ID and digest.
//
// c.Case is set to the incident's case ID, and c.Actor to actor: the
// actor the Responder's [Policy] allowed is the one the locker's access
// policy is asked about and the one its custody record names (a c.Actor
// naming anyone else is refused). c.CollectedBy defaults to actor; naming
// someone else there takes the evidence in on their behalf, which the
// locker's policy sees (evidence.AccessRequest.OnBehalfOf) and the record
// keeps, with actor as the record's actor and c.CollectedBy as the item's
// collector.
//
// What the incident keeps of the item is held to the incident's own
// limits, and refused with an [*InvalidError] before the locker reads
// anything: the name at most [MaxShortText] bytes, at most [MaxLabels]
// labels of at most [MaxShortText] bytes each, the collector's ID and name
// at most [MaxShortText] bytes, the authority and reason at most
// [MaxLongText] and the notes at most [MaxBodyText]. The locker's own
// limits (evidence.MaxNameLen and the others) apply to the rest.
//
// It needs [Config.Evidence]. An incident references at most
// [MaxListSize] evidence items. Once the content is stored, the rest
// goes ahead even if ctx is cancelled (within a bounded time): the
// collection already happened.
//
// With [Config.AtomicCustody] (the store also keeps the locker's custody
// logs, checked by [NewResponder]), the custody record, the incident change
// and its event are written in one transaction. Otherwise the record is
// appended first and the incident linked after it; if linking fails, the
// item is returned with the error, and [Responder.LinkEvidence] links it
// later.
func (r *Responder) CollectEvidence(ctx context.Context, actor Actor, id ID, c evidence.Collection) (_ evidence.Item, err error) {
	ctx, span := r.tel.start(ctx, OpCollectEvidence, id)
	defer func() { err = facade(err); r.tel.end(ctx, span, err) }()
	if r.evidence == nil {
		return evidence.Item{}, invalid("config", "", "collecting evidence needs Config.Evidence")
	}
	self := evidence.Party{ID: actor.ID, Name: actor.Name}
	if c.Actor.ID != "" && c.Actor.ID != actor.ID {
		return evidence.Item{}, invalid("collection actor", "",
			"must be empty or the calling actor; to take evidence in on someone's behalf, name them in CollectedBy")
	}
	if err := checkCollection(c); err != nil {
		return evidence.Item{}, err
	}
	// The actor is checked as the actor of every change is.
	c.Actor = self
	if c.CollectedBy.IsZero() {
		c.CollectedBy = self
	}
	// The incident must exist and the actor be allowed before anything is
	// read from c.Content.
	if _, err := r.mutate(ctx, actor, id, change{op: OpCollectEvidence, span: spanCheckEvidence,
		apply: func(context.Context, *Incident, time.Time) ([]EventData, error) { return nil, nil }}); err != nil {
		return evidence.Item{}, err
	}
	c.Case = id.Case()
	if r.custody {
		return r.collectTogether(ctx, actor, id, c)
	}
	item, err := r.evidence.Collect(ctx, c)
	if err != nil {
		return evidence.Item{}, err
	}
	linkCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), linkTimeout)
	defer cancel()
	if _, err := r.LinkEvidence(linkCtx, actor, id, item.ID); err != nil {
		return item, &opError{op: fmt.Sprintf("evidence %s collected but not linked to incident %s", item.ID, id), err: err}
	}
	return item, nil
}

// checkCollection holds what the incident keeps of a collection, and what
// the Responder passes on, to the incident's limits.
func checkCollection(c evidence.Collection) error {
	for _, f := range []struct {
		field, v string
		max      int
	}{
		{"evidence name", strings.TrimSpace(c.Name), MaxShortText},
		{"evidence collector ID", c.CollectedBy.ID, MaxShortText},
		{"evidence collector name", c.CollectedBy.Name, MaxShortText},
		{"evidence authority", c.Authority, MaxLongText},
		{"evidence reason", c.Reason, MaxLongText},
		{"evidence notes", c.Notes, MaxBodyText},
	} {
		if err := checkText(f.field, f.v, f.max); err != nil {
			return err
		}
	}
	if len(c.Labels) > MaxLabels {
		return invalid("evidence labels", "", fmt.Sprintf("%d labels; at most %d", len(c.Labels), MaxLabels))
	}
	for _, l := range c.Labels {
		if err := checkText("evidence label", l, MaxShortText); err != nil {
			return err
		}
	}
	return nil
}

// custodyRetries is the least number of retries of a change carrying a
// custody record: other writers to the same case make it conflict, and the
// content it records is already stored.
const custodyRetries = 16

// collectTogether stores the content, then writes its collected record,
// the incident's reference to it and the event in one change.
func (r *Responder) collectTogether(ctx context.Context, actor Actor, id ID, c evidence.Collection) (evidence.Item, error) {
	staged, err := r.evidence.Stage(ctx, c)
	if err != nil {
		return evidence.Item{}, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), linkTimeout)
	defer cancel()
	var (
		item    evidence.Item
		pending evidence.Append
	)
	_, err = r.mutate(ctx, actor, id, change{op: OpCollectEvidence, span: spanLinkEvidence, minRetries: custodyRetries,
		apply: func(ctx context.Context, inc *Incident, _ time.Time) ([]EventData, error) {
			if len(inc.Evidence) >= MaxListSize {
				return nil, invalid("evidence", "", "too many evidence items")
			}
			rec, app, err := r.evidence.Ledger().Prepare(ctx, staged)
			if err != nil {
				return nil, err
			}
			item, pending = *rec.Snapshot, app
			ref := evidenceRef(item)
			inc.Evidence = append(inc.Evidence, ref)
			return []EventData{&EvidenceCollected{Evidence: ref}}, nil
		},
		custody: func() []evidence.Append { return []evidence.Append{pending} },
	})
	if err != nil {
		return evidence.Item{}, &opError{op: fmt.Sprintf("evidence %s stored but its collection not recorded", staged.Item), err: err}
	}
	// The record is committed: a witness failing now loses nothing, and
	// the ledger witnesses the log again on its next append or verify.
	_ = r.evidence.Ledger().WitnessHead(ctx, id.Case())
	return item, nil
}

// evidenceRef makes the incident's reference to an item.
func evidenceRef(it evidence.Item) EvidenceRef {
	return EvidenceRef{
		Item: it.ID, Exhibit: it.Exhibit, Name: it.Name, Kind: it.Kind, Size: it.Size,
		SHA256: it.Digests.SHA256, CollectedAt: it.CollectedAt,
		CollectedBy: Actor{ID: it.CollectedBy.ID, Name: it.CollectedBy.Name, Kind: ActorHuman},
	}
}

// LinkEvidence links an item already in the incident's custody log to the
// incident, with an [EvidenceCollected] event. Linking an item the incident
// already references changes nothing. It needs [Config.Evidence].
func (r *Responder) LinkEvidence(ctx context.Context, actor Actor, id ID, item evidence.ItemID) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpCollectEvidence, span: spanLinkEvidence,
		check: func() error {
			if r.evidence == nil {
				return invalid("config", "", "linking evidence needs Config.Evidence")
			}
			return nil
		},
		apply: func(ctx context.Context, inc *Incident, _ time.Time) ([]EventData, error) {
			for _, ref := range inc.Evidence {
				if ref.Item == item {
					return nil, nil
				}
			}
			if len(inc.Evidence) >= MaxListSize {
				return nil, invalid("evidence", "", "too many evidence items")
			}
			it, err := r.evidence.Item(ctx, inc.ID.Case(), item)
			if err != nil {
				return nil, err
			}
			ref := evidenceRef(it)
			inc.Evidence = append(inc.Evidence, ref)
			return []EventData{&EvidenceCollected{Evidence: ref}}, nil
		}})
}

package ir

import (
	"context"
	"fmt"
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
// c.Case is set to the incident's case ID, and c.CollectedBy defaults to
// actor. It needs [Config.Evidence]. An incident references at most
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
	// The incident must exist and the actor be allowed before anything is
	// read from c.Content.
	if _, err := r.mutate(ctx, actor, id, change{op: OpCollectEvidence, span: spanCheckEvidence,
		apply: func(context.Context, *Incident, time.Time) ([]EventData, error) { return nil, nil }}); err != nil {
		return evidence.Item{}, err
	}
	c.Case = id.Case()
	if c.CollectedBy.ID == "" {
		c.CollectedBy = evidence.Party{ID: actor.ID, Name: actor.Name}
	}
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

package ir

import (
	"context"
	"errors"
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
// [Responder.LinkEvidence] too); and the span of
// [Responder.CompleteEvidence].
const (
	spanCheckEvidence    Operation = "collect_evidence.check"
	spanLinkEvidence     Operation = "link_evidence"
	spanCompleteEvidence Operation = "complete_evidence"
)

// defaultCustodyTimeout is [Config.CustodyTimeout] when it is zero.
const defaultCustodyTimeout = 30 * time.Second

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
// goes ahead even if ctx is cancelled, for [Config.CustodyTimeout] (or
// until ctx's deadline, if later): the collection already happened.
// Until then, conflicts with other writers to the incident or its
// custody log are retried, however many there are.
//
// With [Config.AtomicCustody] (the store also keeps the locker's custody
// logs, checked by [NewResponder]), the custody record, the incident change
// and its event are written in one transaction. Otherwise the record is
// appended first and the incident linked after it; if linking fails, the
// item is returned with the error, and [Responder.LinkEvidence] links it
// later.
//
// If the content is stored but its collection cannot be recorded in that
// time, the error is an [*evidence.UnrecordedError] (find it with
// errors.As) carrying the collection as the locker staged and sealed it:
// [Responder.CompleteEvidence] records it later, without reading the
// content again. Evidence whose content is stored is never left without
// a way to record its custody.
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
	if err := r.checkCollect(ctx, actor, id); err != nil {
		return evidence.Item{}, err
	}
	c.Case = id.Case()
	staged, err := r.evidence.Stage(ctx, c)
	if err != nil {
		return evidence.Item{}, err
	}
	return r.record(ctx, actor, id, staged, true)
}

// CompleteEvidence records the collection of evidence whose content is
// stored already: the staged collection an [*evidence.UnrecordedError]
// from [Responder.CollectEvidence] carries, passed back unchanged. It
// checks the record is of the incident's case, the actor is the one it
// names, the policies allow the actor to collect (as CollectEvidence
// does), the locker sealed the collection as it staged it and it is
// unaltered, and the locker holds its content, then records it as
// CollectEvidence would have, returning the item as stored. It never
// reads the evidence's source. A collection the locker did not stage, or
// altered since, is refused with an error matching [ErrUnauthorized] (the
// locker's [evidence.ErrDenied]) and the refusal is recorded, as
// [evidence.Locker.CheckStaged] says: that is what keeps an actor from
// hand-making a record for their incident that names content collected
// into another case. Completing a collection already recorded changes
// nothing and returns its item, so that it is safe to call again after
// any error. It needs [Config.Evidence].
func (r *Responder) CompleteEvidence(ctx context.Context, actor Actor, id ID, staged evidence.Staged) (_ evidence.Item, err error) {
	ctx, span := r.tel.start(ctx, spanCompleteEvidence, id)
	defer func() { err = facade(err); r.tel.end(ctx, span, err) }()
	switch {
	case r.evidence == nil:
		return evidence.Item{}, invalid("config", "", "completing a collection needs Config.Evidence")
	case staged.Record.Case != id.Case():
		return evidence.Item{}, invalid("staged record", string(staged.Record.Case), "is not of the case of incident "+string(id))
	case staged.Record.Actor.ID != actor.ID:
		return evidence.Item{}, invalid("staged record", staged.Record.Actor.ID, "names another collector than the actor "+actor.ID)
	}
	if err := r.checkCollect(ctx, actor, id); err != nil {
		return evidence.Item{}, err
	}
	if r.custody {
		// Without it, the locker checks the record as it completes it.
		if err := r.evidence.CheckStaged(ctx, staged); err != nil {
			return evidence.Item{}, err
		}
	}
	return r.record(ctx, actor, id, staged, false)
}

// checkCollect checks that the incident exists and the actor may collect
// evidence for it.
func (r *Responder) checkCollect(ctx context.Context, actor Actor, id ID) error {
	_, err := r.mutate(ctx, actor, id, change{op: OpCollectEvidence, span: spanCheckEvidence,
		apply: func(context.Context, *Incident, time.Time) ([]EventData, error) { return nil, nil }})
	return err
}

// recordingContext returns the context a collection whose content is
// stored is recorded in: one that ctx ending does not end, with the
// Responder's custody timeout from now, or ctx's deadline if later.
func (r *Responder) recordingContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(r.custodyTimeout)
	if d, ok := ctx.Deadline(); ok && d.After(deadline) {
		deadline = d
	}
	return context.WithDeadline(context.WithoutCancel(ctx), deadline)
}

// record records the collection of staged, whose content is stored, and
// links its item to the incident. If the record cannot be written, the
// error is an [*evidence.UnrecordedError] carrying staged. fresh says
// staged was just staged by the locker, rather than given back to
// complete.
func (r *Responder) record(ctx context.Context, actor Actor, id ID, staged evidence.Staged, fresh bool) (evidence.Item, error) {
	ctx, cancel := r.recordingContext(ctx)
	defer cancel()
	unrecorded := func(err error) error {
		if ue := (*evidence.UnrecordedError)(nil); errors.As(err, &ue) {
			return err
		}
		return &opError{op: fmt.Sprintf("collect evidence for incident %s", id), err: &evidence.UnrecordedError{Staged: staged, Err: err}}
	}
	if r.custody {
		item, err := r.recordTogether(ctx, actor, id, staged)
		if err != nil {
			return evidence.Item{}, unrecorded(err)
		}
		return item, nil
	}
	var item evidence.Item
	if fresh {
		rec, err := r.evidence.Ledger().Append(ctx, staged.Record)
		if err != nil {
			return evidence.Item{}, unrecorded(err)
		}
		item = *rec.Snapshot
	} else {
		var err error
		// The locker says whether the record can be completed later.
		if item, err = r.evidence.CompleteCollection(ctx, staged); err != nil {
			return evidence.Item{}, err
		}
	}
	if _, err := r.LinkEvidence(ctx, actor, id, item.ID); err != nil {
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

// recordTogether writes staged's collected record, the incident's
// reference to its item and the event in one change, retrying conflicts
// until ctx ends. An item the incident references already was recorded
// with it: nothing is written, and the item is returned.
func (r *Responder) recordTogether(ctx context.Context, actor Actor, id ID, s evidence.Staged) (evidence.Item, error) {
	staged := s.Record
	var (
		item    evidence.Item
		pending evidence.Append
	)
	_, err := r.mutate(ctx, actor, id, change{op: OpCollectEvidence, span: spanLinkEvidence, untilDone: true,
		apply: func(ctx context.Context, inc *Incident, _ time.Time) ([]EventData, error) {
			for _, ref := range inc.Evidence {
				if ref.Item == staged.Item {
					// Recorded already, in the same transaction.
					it, err := r.evidence.Item(ctx, id.Case(), staged.Item)
					if err != nil {
						return nil, err
					}
					item = it
					return nil, nil
				}
			}
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
		return evidence.Item{}, err
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

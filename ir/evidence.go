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

// CaseID returns the evidence case ID of incident id: the incident's ID.
func CaseID(id ID) evidence.CaseID { return evidence.CaseID(id) }

// CollectEvidence takes evidence in for the incident: the locker stores the
// content and records its collection in the incident's custody log (its
// case ID is the incident's ID), then the incident gets a reference to the
// item and an [EvidenceCollected] event carrying its ID and digest.
//
// c.Case is set to the incident's case ID, and c.CollectedBy defaults to
// actor. It needs [Config.Evidence]. If the item was collected but the
// incident could not be updated, the item is returned with the error: the
// custody record stands, and the reference can be retried.
func (r *Responder) CollectEvidence(ctx context.Context, actor Actor, id ID, c evidence.Collection) (evidence.Item, error) {
	if r.evidence == nil {
		return evidence.Item{}, invalid("config", "", "collecting evidence needs Config.Evidence")
	}
	var item evidence.Item
	_, err := r.mutate(ctx, actor, id, change{op: OpCollectEvidence,
		apply: func(ctx context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			if item.ID == "" {
				// Collected once, on the first attempt: a retry after a
				// conflict only links it.
				c.Case = CaseID(inc.ID)
				if c.CollectedBy.ID == "" {
					c.CollectedBy = evidence.Party{ID: actor.ID, Name: actor.Name}
				}
				var err error
				if item, err = r.evidence.Collect(ctx, c); err != nil {
					return nil, err
				}
			}
			ref := EvidenceRef{
				Item: item.ID, Exhibit: item.Exhibit, Name: item.Name, Kind: item.Kind, Size: item.Size,
				SHA256: item.Digests.SHA256, CollectedAt: item.CollectedAt, CollectedBy: actor,
			}
			inc.Evidence = append(inc.Evidence, ref)
			return []EventData{&EvidenceCollected{Evidence: ref}}, nil
		}})
	if err != nil && item.ID != "" {
		return item, fmt.Errorf("ir: evidence %s collected but not linked to incident %s: %w", item.ID, id, err)
	}
	return item, err
}

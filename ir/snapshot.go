package ir

import "context"

// Snapshot is an incident together with the latest events of its
// timeline, as of one version: every event in it was written at or before
// Incident.Version, and none of those that follow in the timeline is left
// out.
type Snapshot struct {
	Incident *Incident
	// Events are the latest events of the incident's timeline up to its
	// Version, newest first.
	Events []Event
	// Next, if not zero, continues to older events:
	// TimelineQuery{From: Next, NewestFirst: true}. Events never change
	// once written, so the older pages agree with Incident too.
	Next int64
}

// Snapshot reads the incident and up to limit of its latest events as of
// the version read, so that a tool showing both never shows a change the
// incident does not have yet (zero means [DefaultPageSize]; at most
// [MaxPageSize]). It returns an error matching [ErrNotFound] for an
// unknown incident.
//
// Reading the incident and then its timeline separately can disagree when
// another writer commits in between. Snapshot reads the incident first and
// leaves out the events written after its version: a timeline only grows,
// and every event carries the version it was written with.
func (r *Responder) Snapshot(ctx context.Context, id ID, limit int) (snap Snapshot, err error) {
	ctx, span := r.tel.start(ctx, "snapshot", id)
	defer func() { r.tel.end(ctx, span, err) }()
	if id == "" {
		return Snapshot{}, invalid("incident ID", "", "must not be empty")
	}
	q, err := TimelineQuery{NewestFirst: true, Limit: limit}.Normalize()
	if err != nil {
		return Snapshot{}, err
	}
	inc, err := r.store.Get(ctx, id)
	if err != nil {
		return Snapshot{}, err
	}
	snap.Incident = inc
	for {
		page, err := r.store.Timeline(ctx, id, q)
		if err != nil {
			return Snapshot{}, err
		}
		for _, e := range page.Events {
			if e.Version > inc.Version {
				continue // written after the incident was read
			}
			if len(snap.Events) == q.Limit {
				snap.Next = e.Seq
				return snap, nil
			}
			snap.Events = append(snap.Events, e)
		}
		if page.Next == 0 {
			return snap, nil
		}
		q.From = page.Next
	}
}

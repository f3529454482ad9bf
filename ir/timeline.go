package ir

import (
	"context"
	"iter"
)

// TimelineQuery selects one page of an incident's timeline. The zero value
// selects the oldest [DefaultPageSize] events.
type TimelineQuery struct {
	// From is the Seq of the first event of the page. Zero starts at the
	// oldest event, or at the latest when NewestFirst is set.
	From int64
	// NewestFirst pages from newer events to older ones, as tools show a
	// timeline.
	NewestFirst bool
	// Limit is the page size; zero means [DefaultPageSize]. At most
	// [MaxPageSize].
	Limit int
}

// TimelinePage is one page of a timeline.
type TimelinePage struct {
	// Events are in the query's order: by Seq, ascending, or descending
	// with NewestFirst.
	Events []Event
	// Next, if not zero, is the TimelineQuery.From that fetches the next
	// page in the same direction.
	Next int64
}

// Normalize checks q and returns it with defaults filled in, or an
// [*InvalidError]. Stores call it before reading a timeline.
func (q TimelineQuery) Normalize() (TimelineQuery, error) {
	if q.From < 0 {
		return TimelineQuery{}, invalid("timeline from", "", "must not be negative")
	}
	switch {
	case q.Limit < 0:
		return TimelineQuery{}, invalid("limit", "", "must not be negative")
	case q.Limit == 0:
		q.Limit = DefaultPageSize
	case q.Limit > MaxPageSize:
		return TimelineQuery{}, invalid("limit", "", "must be at most 1000")
	}
	return q, nil
}

// Timeline returns one page of the incident's timeline, as q selects it,
// or an error matching [ErrNotFound] for an unknown incident. Oldest
// first, a From past the latest event gives an empty page; newest first, a
// From past it starts at the latest event.
func (r *Responder) Timeline(ctx context.Context, id ID, q TimelineQuery) (page TimelinePage, err error) {
	ctx, span := r.tel.start(ctx, "timeline", id)
	defer func() { r.tel.end(ctx, span, err) }()
	if id == "" {
		return TimelinePage{}, invalid("incident ID", "", "must not be empty")
	}
	if q, err = q.Normalize(); err != nil {
		return TimelinePage{}, err
	}
	return r.store.Timeline(ctx, id, q)
}

// AllEvents streams the incident's whole timeline, oldest first, reading it
// a page at a time, so that memory does not grow with the timeline. An
// error ends the stream after it is yielded; an unknown incident yields an
// error matching [ErrNotFound]. Events appended while the stream runs are
// streamed too, if they come before the page that finds the end.
func (r *Responder) AllEvents(ctx context.Context, id ID) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		ctx, span := r.tel.start(ctx, "all_events", id)
		var err error
		defer func() { r.tel.end(ctx, span, err) }()
		if err = r.streamEvents(ctx, id, yield); err != nil {
			yield(Event{}, err)
		}
	}
}

// streamEvents yields the incident's events a page at a time until yield
// returns false or the timeline ends, and returns the error that ended it.
func (r *Responder) streamEvents(ctx context.Context, id ID, yield func(Event, error) bool) error {
	if id == "" {
		return invalid("incident ID", "", "must not be empty")
	}
	q := TimelineQuery{Limit: MaxPageSize}
	for {
		page, err := r.store.Timeline(ctx, id, q)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if !yield(e, nil) {
				return nil
			}
		}
		if page.Next == 0 {
			return nil
		}
		q.From = page.Next
	}
}

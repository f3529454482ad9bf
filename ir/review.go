package ir

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Review is an incident's post-incident review: what happened, why, what
// went well and what did not, and what the responders learned. It is
// recorded with [Responder.RecordReview], in any phase, and may be
// revised, even after the incident is closed; each recording is an
// [EventReviewRecorded] event on the timeline, so earlier revisions stay
// readable there. The follow-up actions it leads to are the incident's
// [FollowUp] list.
//
// The built-in models hold the close from their review phase until a
// review with a root cause is recorded (see phases.ReviewRecorded).
type Review struct {
	// Summary tells what happened, for a reader who was not there.
	Summary string `json:"summary"`
	// RootCause is the underlying cause found. A review without one is a
	// draft: it does not let the built-in models close the incident.
	RootCause string `json:"root_cause,omitempty"`
	// ContributingFactors are the conditions that let the cause do harm
	// or made the incident worse.
	ContributingFactors []string `json:"contributing_factors,omitempty"`
	// WentWell and WentPoorly are what helped the response and what
	// hindered it.
	WentWell   []string `json:"went_well,omitempty"`
	WentPoorly []string `json:"went_poorly,omitempty"`
	// LessonsLearned are what the organisation takes from it.
	LessonsLearned []string `json:"lessons_learned,omitempty"`
	// Revision counts the recordings of the review, from 1.
	Revision int `json:"revision"`
	// RecordedAt and RecordedBy are when and by whom this revision was
	// recorded.
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy Actor     `json:"recorded_by"`
}

// HasRootCause reports whether the review names a root cause.
func (rv *Review) HasRootCause() bool { return rv != nil && rv.RootCause != "" }

// clone returns a deep copy of the review.
func (rv *Review) clone() *Review {
	if rv == nil {
		return nil
	}
	c := *rv
	c.ContributingFactors = slices.Clone(rv.ContributingFactors)
	c.WentWell = slices.Clone(rv.WentWell)
	c.WentPoorly = slices.Clone(rv.WentPoorly)
	c.LessonsLearned = slices.Clone(rv.LessonsLearned)
	return &c
}

// sameText reports whether rv and o say the same thing, whoever recorded
// them and when.
func (rv *Review) sameText(o *Review) bool {
	return rv.Summary == o.Summary && rv.RootCause == o.RootCause &&
		slices.Equal(rv.ContributingFactors, o.ContributingFactors) && slices.Equal(rv.WentWell, o.WentWell) &&
		slices.Equal(rv.WentPoorly, o.WentPoorly) && slices.Equal(rv.LessonsLearned, o.LessonsLearned)
}

// FollowUp is an action the post-incident review leads to, tracked on the
// incident until it is done, which may be long after the incident closed:
// [Responder.AddFollowUp] and [Responder.CompleteFollowUp] work on closed
// incidents too, each change an event on the timeline.
type FollowUp struct {
	// ID numbers the incident's follow-ups from 1.
	ID    int    `json:"id"`
	Title string `json:"title"`
	// Owner is who sees it done, if anyone is named.
	Owner Actor `json:"owner,omitzero"`
	// Due is when it is to be done by, if a date was set.
	Due time.Time `json:"due,omitzero"`
	// Reference points to where the work is tracked, such as a ticket
	// in an issue tracker.
	Reference string    `json:"reference,omitempty"`
	AddedAt   time.Time `json:"added_at"`
	AddedBy   Actor     `json:"added_by"`
	Done      bool      `json:"done,omitempty"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	DoneBy    Actor     `json:"done_by,omitzero"`
	Outcome   string    `json:"outcome,omitempty"`
}

// Overdue reports whether the follow-up has a due date before now and is
// not done.
func (f FollowUp) Overdue(now time.Time) bool { return !f.Done && !f.Due.IsZero() && f.Due.Before(now) }

// NewReview is what [Responder.RecordReview] records. Summary is required;
// every text is trimmed of surrounding space.
type NewReview struct {
	// Summary is required, at most [MaxBodyText] bytes.
	Summary string
	// RootCause is at most [MaxBodyText] bytes. The built-in models need
	// one to close the incident from their review phase.
	RootCause string
	// ContributingFactors, WentWell, WentPoorly and LessonsLearned hold
	// at most [MaxReviewItems] entries each, each one at most
	// [MaxLongText] bytes and not empty.
	ContributingFactors []string
	WentWell            []string
	WentPoorly          []string
	LessonsLearned      []string
	// FollowUps are added to the incident's follow-ups in the same
	// change, as [Responder.AddFollowUp] adds one; at most
	// [MaxReviewItems].
	FollowUps []NewFollowUp
}

// NewFollowUp is what [Responder.AddFollowUp] needs to add a follow-up.
type NewFollowUp struct {
	// Title is required, at most [MaxShortText] bytes.
	Title string
	// Owner is who sees it done; optional.
	Owner Actor
	// Due is when it is to be done by; optional, in the years 1 to 9999.
	Due time.Time
	// Reference points to where the work is tracked, such as a ticket
	// ID or URL; optional, at most [MaxLongText] bytes.
	Reference string
}

// RecordReview records the incident's post-incident review, replacing the
// one recorded before (which the timeline keeps), as an
// [EventReviewRecorded] event, and adds the review's follow-ups, each as
// an [EventFollowUpAdded] event, in the same change. A review that says
// what the current one says is not recorded again: with no follow-ups,
// nothing changes. It may be called in any phase, and after the incident is
// closed; the built-in models need a review with a root cause before they
// close the incident from their review phase.
//
// Every field is checked before anything is written: bad input returns an
// [*InvalidError], or an [*InputError] listing each problem when there are
// several; both match [ErrInvalid].
func (r *Responder) RecordReview(ctx context.Context, actor Actor, id ID, n NewReview) (*Incident, error) {
	var (
		rv  Review
		fus []NewFollowUp
	)
	return r.mutate(ctx, actor, id, change{op: OpRecordReview,
		check: func() (err error) { rv, fus, err = checkReview(n); return err },
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			same := inc.Review != nil && inc.Review.sameText(&rv)
			if same && len(fus) == 0 {
				return nil, nil
			}
			if len(inc.FollowUps)+len(fus) > MaxListSize {
				return nil, invalid("follow-ups", "", "too many follow-ups")
			}
			var data []EventData
			if !same {
				next := rv.clone()
				next.Revision, next.RecordedAt, next.RecordedBy = 1, now, actor
				if inc.Review != nil {
					next.Revision = inc.Review.Revision + 1
				}
				inc.Review = next
				data = append(data, &ReviewRecorded{Review: *next.clone()})
			}
			for _, f := range fus {
				data = append(data, inc.addFollowUp(f, actor, now))
			}
			return data, nil
		}})
}

// AddFollowUp adds a follow-up action to the incident, as an
// [EventFollowUpAdded] event. The new follow-up is the last of the
// returned incident's FollowUps; its ID numbers it within the incident.
// It may be called in any phase, and after the incident is closed. An
// incident holds at most [MaxListSize] follow-ups.
func (r *Responder) AddFollowUp(ctx context.Context, actor Actor, id ID, f NewFollowUp) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpAddFollowUp,
		check: func() (err error) { f, err = checkFollowUp("follow-up", f); return err },
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			if len(inc.FollowUps) >= MaxListSize {
				return nil, invalid("follow-ups", "", "too many follow-ups")
			}
			return []EventData{inc.addFollowUp(f, actor, now)}, nil
		}})
}

// CompleteFollowUp marks a follow-up done, with its outcome in words (at
// most [MaxBodyText] bytes), as an [EventFollowUpDone] event. It may be
// called after the incident is closed. Completing a follow-up that is
// already done changes nothing; an ID the incident has no follow-up for
// is an [*InvalidError].
func (r *Responder) CompleteFollowUp(ctx context.Context, actor Actor, id ID, followUp int, outcome string) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpCompleteFollowUp,
		check: func() error {
			outcome = strings.TrimSpace(outcome)
			return checkText("follow-up outcome", outcome, MaxBodyText)
		},
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			i := slices.IndexFunc(inc.FollowUps, func(f FollowUp) bool { return f.ID == followUp })
			if i < 0 {
				return nil, invalid("follow-up", strconv.Itoa(followUp), "the incident has no such follow-up")
			}
			if inc.FollowUps[i].Done {
				return nil, nil
			}
			// Copies handed out before may share the list: it is replaced,
			// not altered.
			inc.FollowUps = slices.Clone(inc.FollowUps)
			f := &inc.FollowUps[i]
			f.Done, f.DoneAt, f.DoneBy, f.Outcome = true, now, actor, outcome
			return []EventData{&FollowUpDone{FollowUpID: f.ID, Title: f.Title, Outcome: outcome}}, nil
		}})
}

// addFollowUp appends f, checked already, to the incident's follow-ups and
// returns the event data recording it.
func (inc *Incident) addFollowUp(f NewFollowUp, actor Actor, now time.Time) EventData {
	fu := FollowUp{ID: len(inc.FollowUps) + 1, Title: f.Title, Owner: f.Owner, Due: f.Due, Reference: f.Reference,
		AddedAt: now, AddedBy: actor}
	inc.FollowUps = append(inc.FollowUps, fu)
	return &FollowUpAdded{FollowUp: fu}
}

// FollowUp returns the follow-up with the given ID.
func (inc *Incident) FollowUp(id int) (FollowUp, bool) {
	for _, f := range inc.FollowUps {
		if f.ID == id {
			return f, true
		}
	}
	return FollowUp{}, false
}

// HasReview reports whether a post-incident review is recorded and
// whether it names a root cause. It makes an Incident a
// phases.ReviewHolder, for the review-recorded guard.
func (inc *Incident) HasReview() (recorded, rootCause bool) {
	return inc.Review != nil, inc.Review.HasRootCause()
}

// checkReview validates n and returns the review it describes, with its
// texts trimmed, and its follow-ups checked. It reports every problem
// found.
func checkReview(n NewReview) (Review, []NewFollowUp, error) {
	var errs problems
	rv := Review{Summary: strings.TrimSpace(n.Summary), RootCause: strings.TrimSpace(n.RootCause)}
	if rv.Summary == "" {
		errs.add(invalid("review summary", "", "must not be empty"))
	} else {
		errs.add(checkText("review summary", rv.Summary, MaxBodyText))
	}
	errs.add(checkText("root cause", rv.RootCause, MaxBodyText))
	var err error
	rv.ContributingFactors, err = reviewItems("contributing factor", n.ContributingFactors)
	errs.add(err)
	rv.WentWell, err = reviewItems("what went well", n.WentWell)
	errs.add(err)
	rv.WentPoorly, err = reviewItems("what went poorly", n.WentPoorly)
	errs.add(err)
	rv.LessonsLearned, err = reviewItems("lesson learned", n.LessonsLearned)
	errs.add(err)
	var fus []NewFollowUp
	if len(n.FollowUps) > MaxReviewItems {
		errs.add(invalid("follow-ups", "", fmt.Sprintf("at most %d in one review", MaxReviewItems)))
	} else {
		for i, f := range n.FollowUps {
			f, err := checkFollowUp(fmt.Sprintf("follow-up %d", i+1), f)
			errs.add(err)
			fus = append(fus, f)
		}
	}
	if err := errs.err(); err != nil {
		return Review{}, nil, err
	}
	return rv, fus, nil
}

// reviewItems checks one list of a review and returns its entries
// trimmed.
func reviewItems(field string, items []string) ([]string, error) {
	if len(items) > MaxReviewItems {
		return nil, invalid(field, "", fmt.Sprintf("at most %d entries", MaxReviewItems))
	}
	var errs problems
	var out []string
	for _, s := range items {
		s = strings.TrimSpace(s)
		if s == "" {
			errs.add(invalid(field, "", "an entry must not be empty"))
			continue
		}
		errs.add(checkText(field, s, MaxLongText))
		out = append(out, s)
	}
	return out, errs.err()
}

// checkFollowUp validates a new follow-up, whose problems field names, and
// returns it with its texts trimmed and its owner normalised. It reports
// every problem found.
func checkFollowUp(field string, f NewFollowUp) (NewFollowUp, error) {
	var errs problems
	var err error
	f.Title, err = shortText(field+" title", f.Title, true)
	errs.add(err)
	if !f.Owner.IsZero() {
		f.Owner, err = f.Owner.normalize(field + " owner")
		errs.add(err)
	}
	if !f.Due.IsZero() {
		if y := f.Due.Year(); y < 1 || y > 9999 {
			errs.add(invalid(field+" due date", "", "must be in the years 1 to 9999"))
		}
		if _, off := f.Due.Zone(); off <= -24*3600 || off >= 24*3600 {
			errs.add(invalid(field+" due date", "", "must have a zone offset of less than a day"))
		}
		f.Due = f.Due.Round(0) // no monotonic reading
	}
	f.Reference = strings.TrimSpace(f.Reference)
	errs.add(checkText(field+" reference", f.Reference, MaxLongText))
	return f, errs.err()
}

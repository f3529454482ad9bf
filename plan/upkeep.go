package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// Upkeep duties a plan can be overdue for.
const (
	// DueReview is the plan's periodic review.
	DueReview = "review"
	// DueExercise is an exercise (a drill or a tabletop) of the plan.
	DueExercise = "exercise"
)

// Overdue is an upkeep duty the plan is late for.
type Overdue struct {
	// What is [DueReview] or [DueExercise].
	What string `json:"what"`
	// Last is when it was last done; zero if never.
	Last time.Time `json:"last,omitzero"`
	// Every is how often it is due.
	Every time.Duration `json:"every"`
	// Due is when it fell due: Last plus Every, or zero if never done.
	Due time.Time `json:"due,omitzero"`
}

// String says what is overdue and since when.
func (o Overdue) String() string {
	if o.Last.IsZero() {
		return fmt.Sprintf("the plan's %s is overdue: it was never done (due every %s)", o.What, days(o.Every))
	}
	return fmt.Sprintf("the plan's %s is overdue since %s (last %s, due every %s)", o.What,
		o.Due.Format(time.DateOnly), o.Last.Format(time.DateOnly), days(o.Every))
}

// days writes d in days when it is a whole number of them.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// Overdue returns the upkeep duties the plan is late for at now: a review
// or an exercise never done, or last done longer ago than its interval
// (a year when the plan gives none).
func (p *Plan) Overdue(now time.Time) []Overdue {
	var out []Overdue
	check := func(what string, last time.Time, every time.Duration) {
		if every <= 0 {
			every = DefaultUpkeepInterval
		}
		o := Overdue{What: what, Last: last, Every: every}
		if last.IsZero() {
			out = append(out, o)
			return
		}
		o.Due = last.Add(every)
		if now.After(o.Due) {
			out = append(out, o)
		}
	}
	check(DueReview, p.Upkeep.LastReviewed, p.Upkeep.ReviewEvery)
	check(DueExercise, p.Upkeep.LastExercised, p.Upkeep.ExerciseEvery)
	return out
}

// EventPlanOverdue is the event type of the notification that a plan's
// review or exercise is overdue.
const EventPlanOverdue = "plan_overdue"

// OverdueData is the Data of a [EventPlanOverdue] event.
type OverdueData struct {
	Plan    string    `json:"plan"`
	Overdue []Overdue `json:"overdue"`
}

// OverdueMessage returns the notification that the plan is overdue for
// what overdue lists (from [Plan.Overdue]), as of now, to be routed and
// delivered like an incident's: its event is of type [EventPlanOverdue],
// by the actor "plan" (a service), for the responders' audience, and its
// Incident stands for the plan (ID "plan:" and the plan's name, severity
// medium, category other, TLP:AMBER), since there is no incident. Its Key
// names the plan, the duties and the day each fell due, so repeating the
// check the same day, or the next, makes the same key, which receivers
// that drop repeats use.
func (p *Plan) OverdueMessage(overdue []Overdue, now time.Time) (notify.Message, error) {
	if len(overdue) == 0 {
		return notify.Message{}, fmt.Errorf("plan %s: nothing is overdue: %w", p.Name, ErrInvalidPlan)
	}
	data, err := json.Marshal(OverdueData{Plan: p.Name, Overdue: overdue})
	if err != nil {
		return notify.Message{}, fmt.Errorf("plan %s: encode overdue: %w", p.Name, err)
	}
	key := []string{"plan-overdue", p.Name}
	var what []string
	for _, o := range overdue {
		due := "never"
		if !o.Due.IsZero() {
			due = o.Due.UTC().Format(time.DateOnly)
		}
		key = append(key, o.What+"@"+due)
		what = append(what, o.String())
	}
	return notify.Message{
		Key: strings.Join(key, ":"),
		Incident: notify.Incident{
			ID: "plan:" + p.Name, Title: "Response plan " + p.Name, Severity: "medium", Priority: "P3",
			Category: "other", TLP: string(notify.TLPAmber), Model: p.Model, Open: true,
		},
		Event: notify.Event{
			IncidentID: "plan:" + p.Name, Type: EventPlanOverdue, At: now,
			Actor:   notify.Actor{ID: "plan", Name: "Response plan", Kind: "service"},
			Summary: "reported that " + strings.Join(what, "; "),
			Data:    data,
		},
		Audience: notify.AudienceResponders,
	}, nil
}

// NotifyOverdue checks the plan's upkeep at now and, if anything is
// overdue, delivers [Plan.OverdueMessage] to the channels router sends it
// to, through the notifiers of channels. It returns what it found
// overdue, and the errors of the deliveries that failed, joined (a
// channel the router names without a notifier is one). It delivers once,
// directly, without an outbox: run it from a daily job, and a failed
// delivery is sent again the next day.
func (p *Plan) NotifyOverdue(ctx context.Context, now time.Time, router *notify.Router, channels map[string]notify.Notifier) ([]Overdue, error) {
	overdue := p.Overdue(now)
	if len(overdue) == 0 {
		return nil, nil
	}
	m, err := p.OverdueMessage(overdue, now)
	if err != nil {
		return overdue, err
	}
	var errs []error
	for _, t := range router.Route(m).Deliver {
		n, ok := channels[t.Channel]
		if !ok {
			errs = append(errs, fmt.Errorf("plan %s: no notifier for channel %s", p.Name, t.Channel))
			continue
		}
		if _, err := n.Notify(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("plan %s: notify %s: %w", p.Name, t.Channel, err))
		}
	}
	return overdue, errors.Join(errs...)
}

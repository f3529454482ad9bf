package ir

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// AddNote adds a note to the incident's timeline. The text is required, at
// most [MaxBodyText] bytes.
func (r *Responder) AddNote(ctx context.Context, actor Actor, id ID, text string) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpAddNote,
		check: func() error {
			text = strings.TrimSpace(text)
			if text == "" {
				return invalid("note", "", "must not be empty")
			}
			if err := checkText("note", text, MaxBodyText); err != nil {
				return err
			}
			return nil
		},
		apply: func(context.Context, *Incident, time.Time) ([]EventData, error) {
			return []EventData{&NoteAdded{Text: text}}, nil
		}})
}

// PostStatus records a status update for an audience on the incident's
// timeline, as an [EventStatusUpdate] event: text (required, at most
// [MaxBodyText] bytes) is what the audience is told, and audience names
// who it is for, such as notify.AudienceExecutives or notify.AudienceLegal
// (required; lower-case letters, digits and underscores, at most 64
// bytes). With [Config.Outbox], the update's outbox message carries the
// audience, so that routes deliver it to that audience's channels like any
// other event: "tell the executives every two hours" is one call every two
// hours.
func (r *Responder) PostStatus(ctx context.Context, actor Actor, id ID, audience notify.Audience, text string) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpPostStatus,
		check: func() error {
			if err := checkAudience(audience); err != nil {
				return err
			}
			text = strings.TrimSpace(text)
			if text == "" {
				return invalid("status update", "", "must not be empty")
			}
			return checkText("status update", text, MaxBodyText)
		},
		apply: func(context.Context, *Incident, time.Time) ([]EventData, error) {
			return []EventData{&StatusUpdate{Audience: audience, Text: text}}, nil
		}})
}

// maxAudience is the longest audience name.
const maxAudience = 64

// checkAudience refuses an audience name that is empty, too long, or holds
// anything but lower-case letters, digits and underscores.
func checkAudience(a notify.Audience) error {
	if a == "" {
		return invalid("audience", "", "must not be empty; use one such as "+string(notify.AudienceExecutives))
	}
	if len(a) > maxAudience {
		return invalid("audience", "", fmt.Sprintf("must be at most %d bytes", maxAudience))
	}
	for _, c := range a {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return invalid("audience", strings.ToValidUTF8(string(a), "\uFFFD"), "must hold only lower-case letters, digits and underscores")
		}
	}
	return nil
}

// Decide records a decision: what was decided (Summary, required, at most
// [MaxShortText] bytes), the options considered (at most
// [MaxDecisionOptions], each at most [MaxShortText] bytes) and the
// rationale (at most [MaxBodyText] bytes). The Responder sets the
// decision's ID, time and author. An incident holds at most [MaxListSize]
// decisions.
func (r *Responder) Decide(ctx context.Context, actor Actor, id ID, d Decision) (*Incident, error) {
	var summary string
	var options []string
	return r.mutate(ctx, actor, id, change{op: OpDecide,
		check: func() (err error) { summary, options, err = checkDecision(d); return err },
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			if len(inc.Decisions) >= MaxListSize {
				return nil, invalid("decisions", "", "too many decisions")
			}
			dec := Decision{
				ID: len(inc.Decisions) + 1, Summary: summary, Options: options,
				Rationale: strings.TrimSpace(d.Rationale), DecidedAt: now, DecidedBy: actor,
			}
			inc.Decisions = append(inc.Decisions, dec)
			dec.Options = append([]string(nil), options...)
			return []EventData{&DecisionRecorded{Decision: dec}}, nil
		}})
}

// checkDecision validates a decision and returns its trimmed summary and
// options.
func checkDecision(d Decision) (string, []string, error) {
	summary, err := shortText("decision summary", d.Summary, true)
	if err != nil {
		return "", nil, err
	}
	if err := checkText("decision rationale", d.Rationale, MaxBodyText); err != nil {
		return "", nil, err
	}
	if len(d.Options) > MaxDecisionOptions {
		return "", nil, invalid("decision options", "", fmt.Sprintf("at most %d options", MaxDecisionOptions))
	}
	var options []string
	for _, o := range d.Options {
		o, err := shortText("decision option", o, true)
		if err != nil {
			return "", nil, err
		}
		options = append(options, o)
	}
	return summary, options, nil
}

// RecordNotificationFailed records on the incident's timeline, as an
// [EventNotificationFailed] event, that delivery d, of one of its
// notifications, is dead: the dispatcher gave up on it. With
// [Config.Outbox] the event is routed like any other, so that a route can
// send it to a fallback channel; the dispatcher never sends it to the
// channel that failed, and does not record the failure of its own
// delivery. It is checked by the [Policy] as [OpRecordNotification] and is
// retried after conflicts until ctx ends. A dispatcher calls it from its
// OnDead:
//
//	OnDead: func(ctx context.Context, d notify.Delivery, _ error) error {
//		_, err := r.RecordNotificationFailed(ctx, dispatcherActor, d)
//		return err
//	},
func (r *Responder) RecordNotificationFailed(ctx context.Context, actor Actor, d notify.Delivery) (*Incident, error) {
	return r.mutate(ctx, actor, ID(d.Incident), change{op: OpRecordNotification, untilDone: true,
		check: func() error {
			if d.Channel == "" || d.Key == "" {
				return invalid("failed delivery", "", "needs its channel and key")
			}
			return nil
		},
		apply: func(context.Context, *Incident, time.Time) ([]EventData, error) {
			return []EventData{&NotificationFailed{Channel: d.Channel, Key: d.Key, Event: EventType(d.Type),
				Delivery: d.ID, Attempts: d.Attempts, Error: notify.TruncateError(d.LastError)}}, nil
		}})
}

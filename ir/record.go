package ir

import (
	"context"
	"fmt"
	"strings"
	"time"
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

package ir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// OutboxStore is a [Store] with a notify.Outbox in the same database, so
// that an incident change and its messages commit together.
type OutboxStore interface {
	Store
	notify.Outbox
}

// NotifyIncident returns the incident as a notify.Message shows it.
func NotifyIncident(inc *Incident) notify.Incident {
	return notify.Incident{
		ID: string(inc.ID), Title: inc.Title, Severity: string(inc.Severity), Priority: string(inc.Priority),
		Category: string(inc.Category), TLP: string(inc.TLP), Model: inc.Model, Phase: string(inc.Phase),
		Exercise: inc.Exercise, Open: inc.IsOpen(), Labels: append([]string(nil), inc.Labels...), Version: inc.Version,
	}
}

// NotifyEvent returns the event as a notify.Message reports it, with its
// data encoded as JSON and its summary in the words of [Describe], phases
// named as m titles them (m may be nil).
func NotifyEvent(m *phases.Model, e Event) (notify.Event, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return notify.Event{}, fmt.Errorf("ir: encode %s event data: %w", e.Type, err)
	}
	return notify.Event{
		IncidentID: string(e.IncidentID), Seq: e.Seq, Version: e.Version, Type: string(e.Type), At: e.At,
		Actor:  notify.Actor{ID: e.Actor.ID, Name: e.Actor.Name, Kind: string(e.Actor.Kind)},
		Reason: e.Reason, Summary: Describe(m, e), Data: data,
	}, nil
}

// EventOf decodes the event a notify.Message reports, with its typed
// [EventData]. Unknown types are refused with an error matching
// [ErrInvalid].
func EventOf(m notify.Message) (Event, error) {
	b, err := json.Marshal(m.Event)
	if err != nil {
		return Event{}, fmt.Errorf("ir: encode notify event: %w", err)
	}
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return Event{}, err
	}
	return e, nil
}

// outboxMessages makes the outbox messages of a change: one notify.Message
// per event, keyed "<incident ID>/<version>/<n>", n numbering the change's
// events from 1, carrying the trace context of ctx; a status update's
// message is for the update's audience. The events have no Seq yet: each
// message is encoded with a 0 for it, and the OutboxSeq returned with it
// tells the store where to write the Seq its event gets.
func outboxMessages(ctx context.Context, m *phases.Model, inc *Incident, events []Event) ([]notify.OutboxMessage, []OutboxSeq, error) {
	sum := NotifyIncident(inc)
	trace := traceContext(ctx)
	msgs := make([]notify.OutboxMessage, len(events))
	seqs := make([]OutboxSeq, len(events))
	for i, e := range events {
		e.Seq = 0
		ev, err := NotifyEvent(m, e)
		if err != nil {
			return nil, nil, err
		}
		key := fmt.Sprintf("%s/%d/%d", inc.ID, inc.Version, i+1)
		msg := notify.Message{Key: key, Incident: sum, Event: ev, Trace: trace}
		if d, ok := e.Data.(*StatusUpdate); ok {
			msg.Audience = d.Audience
		}
		payload, err := json.Marshal(msg)
		if err != nil {
			return nil, nil, fmt.Errorf("ir: encode message: %w", err)
		}
		at, err := seqOffset(payload)
		if err != nil {
			return nil, nil, err
		}
		msgs[i] = notify.OutboxMessage{
			Key:      key,
			Incident: string(inc.ID),
			Type:     string(e.Type),
			Payload:  payload,
		}
		seqs[i] = OutboxSeq{Message: i, Event: i, Offset: at}
	}
	return msgs, seqs, nil
}

// seqField is how a message encoded with json.Marshal holds an event Seq
// of 0.
var seqField = []byte(`"seq":0,`)

// seqOffset returns the offset of the 0 of the event's Seq in payload, a
// notify.Message encoded by json.Marshal with a Seq of 0. The first
// `"seq":` in it is that field: json.Marshal escapes every quote inside a
// string, so the text can only be an object key, and the fields of the
// message before it (its key, its incident, the event's incident ID) have
// no key "seq".
func seqOffset(payload []byte) (int, error) {
	i := bytes.Index(payload, seqField)
	if i < 0 {
		return 0, errors.New("ir: encode message: the event's seq is missing")
	}
	return i + len(seqField) - 2, nil
}

// traceContext returns the W3C Trace Context headers of ctx's span, or nil
// if it has none.
func traceContext(ctx context.Context) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return nil
	}
	return carrier
}

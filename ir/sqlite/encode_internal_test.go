package sqlite

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// TestEncodeChangeMatchesMarshal checks that a change's incident document,
// labels, events and list entries are written as json.Marshal writes them,
// which is what stores written before held and what the decoders read.
func TestEncodeChangeMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	for name, labels := range map[string][]string{
		"none": nil, "empty": {}, "plain": {"mail", "team-7"}, "escaped": {"a<b", `q"`, "ünï", "\u2028", "\x7f"},
	} {
		t.Run(name, func(t *testing.T) {
			inc := &ir.Incident{ID: "INC-1", Title: "Phishing <wave> & more", Severity: ir.SeverityHigh, Phase: phases.Containment,
				PhaseHistory: []ir.PhaseInterval{{Phase: phases.Containment, Entered: at}}, Labels: labels,
				Observables: []ir.Observable{{Type: ir.ObservableIP, Value: "192.0.2.1", AddedAt: at, AddedBy: alice}},
				Tasks:       []ir.Task{{ID: 1, Title: "Block", Phase: phases.Containment, AddedAt: at, AddedBy: alice}},
				Times:       ir.Lifecycle{Opened: at}, OpenedBy: alice, UpdatedAt: at, Version: 1}
			ev := ir.Event{IncidentID: "INC-1", Seq: 9, Version: 1, Type: ir.EventNoteAdded, At: at, Actor: alice,
				Data: &ir.NoteAdded{Text: "seen <here>"}}
			w, err := encodeChange(ir.Change{Incident: inc, Events: []ir.Event{ev}})
			if err != nil {
				t.Fatal(err)
			}
			head := *inc
			head.Observables, head.Tasks = nil, nil
			ev.Seq = 0
			if labels == nil {
				labels = []string{}
			}
			for _, c := range []struct {
				what string
				got  string
				v    any
			}{
				{"document", w.doc, &head}, {"labels", w.labels, labels}, {"event", w.events[0].doc, ev},
				{"observable", w.entries.observables[0].doc, &inc.Observables[0]}, {"task", w.entries.tasks[0].doc, &inc.Tasks[0]},
			} {
				want, err := json.Marshal(c.v)
				if err != nil {
					t.Fatal(err)
				}
				if c.got != string(want) {
					t.Errorf("%s: wrote\n%s\njson.Marshal writes\n%s", c.what, c.got, want)
				}
			}
			if want := at.Format(time.RFC3339Nano); w.events[0].at != want {
				t.Errorf("event time %q, want %q", w.events[0].at, want)
			}
		})
	}
}

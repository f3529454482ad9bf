package ir_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// eventSamples returns one event of every type, with data of its concrete
// type and every field of the data set.
func eventSamples() []ir.Event {
	at := time.Date(2026, time.March, 2, 9, 30, 0, 0, time.UTC)
	data := []ir.EventData{
		&ir.Opened{Title: "Phish", Summary: "Three reports", Severity: ir.SeverityHigh, Priority: ir.PriorityP2,
			Category: ir.CategoryPhishing, TLP: ir.TLPAmber, Labels: []string{"finance"},
			Impact: ir.Impact{Functional: ir.FunctionalLow, Information: []ir.InformationImpact{ir.InformationNone},
				Recoverability: ir.RecoverabilityRegular},
			Model: phases.SANS.Name(), Phase: phases.Preparation,
			Times: ir.Lifecycle{Occurred: at.Add(-time.Hour), Detected: at, Reported: at, Opened: at}},
		&ir.PhaseChanged{Action: phases.Contain, From: phases.Identification, To: phases.Containment},
		&ir.SeverityChanged{From: ir.SeverityHigh, To: ir.SeverityCritical},
		&ir.PriorityChanged{From: ir.PriorityP2, To: ir.PriorityP1},
		&ir.ImpactAssessed{Impact: ir.Impact{Functional: ir.FunctionalMedium,
			Information: []ir.InformationImpact{ir.InformationPrivacyBreach}, Recoverability: ir.RecoverabilityExtended}},
		&ir.RoleAssigned{Role: ir.RoleCommander, Assignee: testBob, Replaced: testAlice},
		&ir.RoleUnassigned{Role: ir.RoleAnalyst, Assignee: testCarol},
		&ir.TaskAdded{Task: ir.Task{ID: 3, Title: "Pull logs", Phase: phases.Identification, Required: true,
			Assignee: testBob, AddedAt: at, AddedBy: testAlice}},
		&ir.TaskCompleted{TaskID: 3, Title: "Pull logs", Outcome: "Two more recipients found"},
		&ir.ObservableAdded{Observable: ir.Observable{Type: ir.ObservableDomain, Value: "evil.example",
			Description: "Landing page", Malicious: true, AddedAt: at, AddedBy: testBot}},
		&ir.AssetAdded{Asset: ir.Asset{Kind: ir.AssetAccount, Name: "j.doe", Description: "Finance clerk",
			AddedAt: at, AddedBy: testAlice}},
		&ir.NoteAdded{Text: "Mail gateway logs pulled"},
		&ir.DecisionRecorded{Decision: ir.Decision{ID: 1, Summary: "Reset the passwords", Options: []string{"reset", "wait"},
			Rationale: "Credentials were entered", DecidedAt: at, DecidedBy: testAlice}},
		&ir.VerdictSet{Verdict: ir.VerdictTruePositive, Previous: ir.VerdictInconclusive, Resolution: "Rules removed"},
		&ir.EvidenceCollected{Evidence: ir.EvidenceRef{Item: "ITEM-1", Exhibit: "EX-001", Name: "mail-gw.log",
			Kind: evidence.KindLog, Size: 2048, SHA256: "9f2c6b8e4a1d7053c3e8b5f0a2d4c6e8f1a3b5c7d9e0f2a4b6c8d0e2f4a6b8c1",
			CollectedAt: at, CollectedBy: testAlice}},
		&ir.StatusUpdate{Audience: notify.AudienceExecutives, Text: "Contained; next update at 14:00"},
		&ir.ReviewRecorded{Review: ir.Review{Summary: "A phishing mail reached finance", RootCause: "No MFA on webmail",
			ContributingFactors: []string{"Look-alike domain"}, WentWell: []string{"Reported in minutes"},
			WentPoorly: []string{"No playbook"}, LessonsLearned: []string{"Write the playbook"},
			Revision: 2, RecordedAt: at, RecordedBy: testAlice}},
		&ir.FollowUpAdded{FollowUp: ir.FollowUp{ID: 1, Title: "Turn on MFA", Owner: testBob, Due: at.AddDate(0, 1, 0),
			Reference: "SEC-12", AddedAt: at, AddedBy: testAlice, Done: true, DoneAt: at, DoneBy: testBob, Outcome: "On"}},
		&ir.FollowUpDone{FollowUpID: 1, Title: "Turn on MFA", Outcome: "Enforced for everyone"},
	}
	events := make([]ir.Event, len(data))
	for i, d := range data {
		events[i] = ir.Event{
			IncidentID: "INC-000007",
			Seq:        int64(i + 1),
			Version:    int64(i + 1),
			Type:       d.EventType(),
			At:         at.Add(time.Duration(i) * time.Minute),
			Actor:      testAlice,
			Reason:     "reason " + string(d.EventType()),
			Data:       d,
		}
	}
	return events
}

func TestEventTypesMatchTheirData(t *testing.T) {
	t.Parallel()
	want := map[ir.EventType]string{
		ir.EventOpened:            "*ir.Opened",
		ir.EventPhaseChanged:      "*ir.PhaseChanged",
		ir.EventSeverityChanged:   "*ir.SeverityChanged",
		ir.EventPriorityChanged:   "*ir.PriorityChanged",
		ir.EventImpactAssessed:    "*ir.ImpactAssessed",
		ir.EventRoleAssigned:      "*ir.RoleAssigned",
		ir.EventRoleUnassigned:    "*ir.RoleUnassigned",
		ir.EventTaskAdded:         "*ir.TaskAdded",
		ir.EventTaskCompleted:     "*ir.TaskCompleted",
		ir.EventObservableAdded:   "*ir.ObservableAdded",
		ir.EventAssetAdded:        "*ir.AssetAdded",
		ir.EventNoteAdded:         "*ir.NoteAdded",
		ir.EventDecisionRecorded:  "*ir.DecisionRecorded",
		ir.EventVerdictSet:        "*ir.VerdictSet",
		ir.EventEvidenceCollected: "*ir.EvidenceCollected",
		ir.EventStatusUpdate:      "*ir.StatusUpdate",
		ir.EventReviewRecorded:    "*ir.ReviewRecorded",
		ir.EventFollowUpAdded:     "*ir.FollowUpAdded",
		ir.EventFollowUpDone:      "*ir.FollowUpDone",
	}
	got := make(map[ir.EventType]string)
	for _, e := range eventSamples() {
		got[e.Data.EventType()] = reflect.TypeOf(e.Data).String()
	}
	assert.Equal(t, want, got)
	assert.Equal(t, "phase_changed", ir.EventPhaseChanged.String())
}

func TestEventJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range eventSamples() {
		t.Run(string(e.Type), func(t *testing.T) {
			t.Parallel()
			assertNoZeroFields(t, "Event", reflect.ValueOf(e))

			b, err := json.Marshal(e)
			require.NoError(t, err)
			var back ir.Event
			require.NoError(t, json.Unmarshal(b, &back))
			assert.IsType(t, e.Data, back.Data, "decoded data has the concrete type of the event type")
			assert.Equal(t, e, back)

			// A timeline decodes as a whole too.
			var list []ir.Event
			require.NoError(t, json.Unmarshal([]byte("["+string(b)+","+string(b)+"]"), &list))
			assert.Equal(t, []ir.Event{e, e}, list)
		})
	}
}

func TestEventJSONRefusesBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		invalid bool // the error is an *ir.InvalidError
	}{
		{"unknown type", `{"incident_id":"INC-1","seq":1,"version":1,"type":"exploded","data":{}}`, true},
		{"no type", `{"incident_id":"INC-1","seq":1,"version":1,"data":{"text":"hi"}}`, true},
		{"data of the wrong shape", `{"incident_id":"INC-1","type":"note_added","data":{"text":5}}`, false},
		{"unknown enum value in data", `{"incident_id":"INC-1","type":"severity_changed","data":{"from":"low","to":"dire"}}`, true},
		{"not an object", `"opened"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e ir.Event
			err := json.Unmarshal([]byte(tt.json), &e)
			require.Error(t, err)
			if tt.invalid {
				assert.ErrorIs(t, err, ir.ErrInvalid)
				var inv *ir.InvalidError
				assert.ErrorAs(t, err, &inv)
			}
		})
	}

	var e ir.Event
	err := json.Unmarshal([]byte(`{"type":"exploded","data":{}}`), &e)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "exploded"), "the error names the unknown type: %v", err)
}

func TestEventCloneIsDeep(t *testing.T) {
	t.Parallel()
	// mutate changes every field of the data that a shallow copy would
	// share with the original.
	mutate := map[ir.EventType]func(ir.EventData){
		ir.EventOpened:          func(d ir.EventData) { d.(*ir.Opened).Title = "changed" },
		ir.EventPhaseChanged:    func(d ir.EventData) { d.(*ir.PhaseChanged).To = phases.Closed },
		ir.EventSeverityChanged: func(d ir.EventData) { d.(*ir.SeverityChanged).To = ir.SeverityLow },
		ir.EventPriorityChanged: func(d ir.EventData) { d.(*ir.PriorityChanged).To = ir.PriorityP4 },
		ir.EventImpactAssessed: func(d ir.EventData) {
			im := &d.(*ir.ImpactAssessed).Impact
			im.Information[0] = ir.InformationNone
			im.Functional = ir.FunctionalNone
		},
		ir.EventRoleAssigned:   func(d ir.EventData) { d.(*ir.RoleAssigned).Assignee.ID = "changed" },
		ir.EventRoleUnassigned: func(d ir.EventData) { d.(*ir.RoleUnassigned).Role = ir.RoleLegal },
		ir.EventTaskAdded:      func(d ir.EventData) { d.(*ir.TaskAdded).Task.Title = "changed" },
		ir.EventTaskCompleted:  func(d ir.EventData) { d.(*ir.TaskCompleted).Outcome = "changed" },
		ir.EventObservableAdded: func(d ir.EventData) {
			d.(*ir.ObservableAdded).Observable.Value = "changed"
		},
		ir.EventAssetAdded: func(d ir.EventData) { d.(*ir.AssetAdded).Asset.Name = "changed" },
		ir.EventNoteAdded:  func(d ir.EventData) { d.(*ir.NoteAdded).Text = "changed" },
		ir.EventDecisionRecorded: func(d ir.EventData) {
			dec := &d.(*ir.DecisionRecorded).Decision
			dec.Options[0] = "changed"
			dec.Summary = "changed"
		},
		ir.EventVerdictSet: func(d ir.EventData) { d.(*ir.VerdictSet).Verdict = ir.VerdictBenign },
		ir.EventEvidenceCollected: func(d ir.EventData) {
			d.(*ir.EvidenceCollected).Evidence.SHA256 = "changed"
		},
		ir.EventStatusUpdate: func(d ir.EventData) { d.(*ir.StatusUpdate).Text = "changed" },
		ir.EventReviewRecorded: func(d ir.EventData) {
			rv := &d.(*ir.ReviewRecorded).Review
			rv.RootCause = "changed"
			rv.ContributingFactors[0] = "changed"
			rv.WentWell[0] = "changed"
			rv.WentPoorly[0] = "changed"
			rv.LessonsLearned[0] = "changed"
		},
		ir.EventFollowUpAdded: func(d ir.EventData) { d.(*ir.FollowUpAdded).FollowUp.Title = "changed" },
		ir.EventFollowUpDone:  func(d ir.EventData) { d.(*ir.FollowUpDone).Outcome = "changed" },
	}
	for i, e := range eventSamples() {
		t.Run(string(e.Type), func(t *testing.T) {
			t.Parallel()
			want := eventSamples()[i]
			c := e.Clone()
			require.Equal(t, want, c, "a clone starts equal")
			m, ok := mutate[e.Type]
			require.True(t, ok, "no mutation for %s", e.Type)
			m(c.Data)
			c.Reason = "changed"
			assert.NotEqual(t, want, c, "the mutation changed the clone")
			assert.Equal(t, want, e, "changing the clone changed the original")
		})
	}
}

func TestEventClonesAppendToSlicesIndependently(t *testing.T) {
	t.Parallel()
	for _, e := range eventSamples() {
		c := e.Clone()
		switch d := c.Data.(type) {
		case *ir.DecisionRecorded:
			d.Decision.Options = append(d.Decision.Options[:1], "replaced")
			assert.Equal(t, []string{"reset", "wait"}, e.Data.(*ir.DecisionRecorded).Decision.Options)
		case *ir.ReviewRecorded:
			d.Review.LessonsLearned = append(d.Review.LessonsLearned[:0], "replaced")
			assert.Equal(t, []string{"Write the playbook"}, e.Data.(*ir.ReviewRecorded).Review.LessonsLearned)
		case *ir.ImpactAssessed:
			d.Impact.Information = append(d.Impact.Information[:0], ir.InformationIntegrityLoss)
			assert.Equal(t, []ir.InformationImpact{ir.InformationPrivacyBreach},
				e.Data.(*ir.ImpactAssessed).Impact.Information)
		}
	}
}

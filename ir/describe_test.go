package ir_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// TestDescribe checks the words of every event type.
func TestDescribe(t *testing.T) {
	t.Parallel()
	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	ben := ir.Actor{ID: "ben", Name: "Ben Carter"}
	dana := ir.Actor{ID: "dana", Name: "Dana Okafor"}
	tests := []struct {
		name string
		data ir.EventData
		want string
	}{
		{"opened", &ir.Opened{Title: "Phishing", Severity: ir.SeverityHigh, Phase: phases.Preparation},
			`opened "Phishing", severity high, in Preparation`},
		{"phase changed", &ir.PhaseChanged{Action: phases.Eradicate, From: phases.Containment, To: phases.Eradication},
			"moved the incident from Containment to Eradication"},
		{"severity changed", &ir.SeverityChanged{From: ir.SeverityMedium, To: ir.SeverityCritical},
			"changed the severity from medium to critical"},
		{"priority changed", &ir.PriorityChanged{From: ir.PriorityP3, To: ir.PriorityP1},
			"changed the priority from P3 to P1"},
		{"impact assessed", &ir.ImpactAssessed{Impact: ir.Impact{Functional: ir.FunctionalHigh,
			Information:    []ir.InformationImpact{ir.InformationPrivacyBreach, ir.InformationIntegrityLoss},
			Recoverability: ir.RecoverabilityNotRecoverable}},
			"assessed the impact: functional high; information privacy breach, integrity loss; recoverability not recoverable"},
		{"impact assessed empty", &ir.ImpactAssessed{}, "assessed the impact: none recorded"},
		{"role taken", &ir.RoleAssigned{Role: ir.RoleCommander, Assignee: alice},
			"took the role of incident commander"},
		{"role given", &ir.RoleAssigned{Role: ir.RoleScribe, Assignee: ben, Replaced: dana},
			"made Ben Carter scribe, replacing Dana Okafor"},
		{"role given up", &ir.RoleUnassigned{Role: ir.RoleAnalyst, Assignee: alice},
			"gave up the role of analyst"},
		{"role relieved", &ir.RoleUnassigned{Role: ir.RoleScribe, Assignee: ben},
			"relieved Ben Carter as scribe"},
		{"task added", &ir.TaskAdded{Task: ir.Task{ID: 3, Title: "Reset the password", Phase: phases.Containment, Assignee: dana}},
			"added task 3 (Containment): Reset the password, for Dana Okafor"},
		{"task completed", &ir.TaskCompleted{TaskID: 3, Title: "Reset the password", Outcome: "done"},
			"completed task 3: done"},
		{"task completed without outcome", &ir.TaskCompleted{TaskID: 3, Title: "Reset the password"},
			"completed task 3: Reset the password"},
		{"observable added", &ir.ObservableAdded{Observable: ir.Observable{Type: ir.ObservableIP, Value: "203.0.113.47", Malicious: true}},
			"recorded malicious ip 203.0.113.47"},
		{"observable added, not malicious", &ir.ObservableAdded{Observable: ir.Observable{Type: ir.ObservableRegistry, Value: `HKLM\Run`}},
			`recorded registry key HKLM\Run`},
		{"asset added", &ir.AssetAdded{Asset: ir.Asset{Kind: ir.AssetHost, Name: "FIN-LT-023"}},
			"recorded affected host FIN-LT-023"},
		{"note added", &ir.NoteAdded{Text: "the loader came back"}, "noted: the loader came back"},
		{"notification failed", &ir.NotificationFailed{Channel: "soar", Key: "INC-1/6/1", Event: ir.EventPhaseChanged, Attempts: 3, Error: "HTTP 503"},
			"could not notify channel soar of a phase change after 3 attempts: HTTP 503"},
		{"notification failed, other event", &ir.NotificationFailed{Channel: "soar", Key: "INC-1/6/1", Event: "custom_thing", Attempts: 1, Error: "HTTP 400"},
			"could not notify channel soar of the custom thing event after 1 attempt: HTTP 400"},
		{"decision recorded", &ir.DecisionRecorded{Decision: ir.Decision{ID: 2, Summary: "Contain now"}},
			"decided (2): Contain now"},
		{"verdict set", &ir.VerdictSet{Verdict: ir.VerdictTruePositive}, "set the verdict: true positive"},
		{"verdict changed", &ir.VerdictSet{Verdict: ir.VerdictBenign, Previous: ir.VerdictInconclusive},
			"set the verdict: benign (was inconclusive)"},
		{"evidence collected", &ir.EvidenceCollected{Evidence: ir.EvidenceRef{Exhibit: "EX-001", Name: "mail.log", Size: 58,
			SHA256: "a4fb650da54de544f0e1d2c3b4a59687"}},
			"collected exhibit EX-001, mail.log (58 bytes, SHA-256 a4fb650da54de544…)"},
		{"status update", &ir.StatusUpdate{Audience: notify.AudienceLawEnforcement, Text: "Logs preserved for you."},
			"posted a status update for law enforcement: Logs preserved for you."},
		{"review recorded", &ir.ReviewRecorded{Review: ir.Review{Summary: "Phished", RootCause: "No MFA on webmail", Revision: 1}},
			"recorded the post-incident review; root cause: No MFA on webmail"},
		{"review revised", &ir.ReviewRecorded{Review: ir.Review{Summary: "Phished", RootCause: "No MFA on webmail", Revision: 3}},
			"revised the post-incident review (revision 3); root cause: No MFA on webmail"},
		{"review drafted", &ir.ReviewRecorded{Review: ir.Review{Summary: "Phished", Revision: 1}},
			"recorded the post-incident review; no root cause yet"},
		{"follow-up added", &ir.FollowUpAdded{FollowUp: ir.FollowUp{ID: 2, Title: "Turn on MFA", Owner: ben,
			Due: time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)}},
			"added follow-up 2: Turn on MFA, for Ben Carter, due 2026-12-01"},
		{"follow-up added, no owner", &ir.FollowUpAdded{FollowUp: ir.FollowUp{ID: 1, Title: "Write the playbook"}},
			"added follow-up 1: Write the playbook"},
		{"follow-up done", &ir.FollowUpDone{FollowUpID: 2, Title: "Turn on MFA", Outcome: "enforced"},
			"completed follow-up 2: enforced"},
		{"follow-up done without outcome", &ir.FollowUpDone{FollowUpID: 2, Title: "Turn on MFA"},
			"completed follow-up 2: Turn on MFA"},
	}
	covered := make(map[ir.EventType]bool)
	for _, tc := range tests {
		e := ir.Event{Type: tc.data.EventType(), Actor: alice, Data: tc.data}
		assert.Equal(t, tc.want, ir.Describe(phases.SANS, e), tc.name)
		covered[e.Type] = true
	}
	for _, typ := range allEventTypes {
		assert.True(t, covered[typ], "no words tested for %s", typ)
	}
}

// allEventTypes lists every event type.
var allEventTypes = []ir.EventType{
	ir.EventOpened, ir.EventPhaseChanged, ir.EventSeverityChanged, ir.EventPriorityChanged,
	ir.EventImpactAssessed, ir.EventRoleAssigned, ir.EventRoleUnassigned, ir.EventTaskAdded,
	ir.EventTaskCompleted, ir.EventObservableAdded, ir.EventAssetAdded, ir.EventNoteAdded,
	ir.EventDecisionRecorded, ir.EventVerdictSet, ir.EventEvidenceCollected, ir.EventStatusUpdate,
	ir.EventReviewRecorded, ir.EventFollowUpAdded, ir.EventFollowUpDone,
}

func TestDescribeWithoutModel(t *testing.T) {
	t.Parallel()
	e := ir.Event{Type: ir.EventPhaseChanged, Data: &ir.PhaseChanged{From: "triage_queue", To: "lessons_learned"}}
	assert.Equal(t, "moved the incident from triage queue to lessons learned", ir.Describe(nil, e))
	assert.Equal(t, "moved the incident from triage queue to Lessons Learned", ir.Describe(phases.SANS, e),
		"a phase the model does not have is named in words")
}

func TestDescribeMismatchedData(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "phase changed", ir.Describe(phases.SANS, ir.Event{Type: ir.EventPhaseChanged}))
}

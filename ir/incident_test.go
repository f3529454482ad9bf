package ir_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// fullIncident returns an incident with every field set, including every
// lifecycle time and every field of every list element.
func fullIncident() *ir.Incident {
	t0 := time.Date(2026, time.February, 27, 22, 15, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	return &ir.Incident{
		ID:       "INC-000042",
		Title:    "Ransomware on the finance file server",
		Summary:  "Files on fs-02 encrypted overnight; ransom note found.",
		Severity: ir.SeverityCritical,
		Priority: ir.PriorityP1,
		Category: ir.CategoryRansomware,
		TLP:      ir.TLPAmberStrict,
		Exercise: true,
		Model:    phases.SANS.Name(),
		Phase:    phases.Recovery,
		PhaseHistory: []ir.PhaseInterval{
			{Phase: phases.Identification, Action: phases.Reopen, Entered: at(2 * time.Hour), Left: at(3 * time.Hour)},
			{Phase: phases.Containment, Action: phases.Contain, Entered: at(3 * time.Hour), Left: at(5 * time.Hour)},
		},
		Impact: ir.Impact{
			Functional:     ir.FunctionalHigh,
			Information:    []ir.InformationImpact{ir.InformationIntegrityLoss, ir.InformationProprietaryBreach},
			Recoverability: ir.RecoverabilitySupplemented,
		},
		Verdict:    ir.VerdictTruePositive,
		Resolution: "Restored from the offline backup of 02:00.",
		Assets: []ir.Asset{
			{Kind: ir.AssetHost, Name: "fs-02", Description: "Finance file server", AddedAt: at(time.Hour), AddedBy: testBob},
		},
		Observables: []ir.Observable{
			{Type: ir.ObservableSHA256, Value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				Description: "Encryptor binary", Malicious: true, AddedAt: at(90 * time.Minute), AddedBy: testBot},
		},
		Participants: []ir.Participant{
			{Actor: testAlice, Role: ir.RoleCommander, AssignedAt: at(30 * time.Minute), AssignedBy: testBob},
		},
		Tasks: []ir.Task{
			{ID: 1, Title: "Image fs-02", Phase: phases.Containment, Required: true, Assignee: testBob,
				AddedAt: at(4 * time.Hour), AddedBy: testAlice, Done: true, DoneAt: at(4*time.Hour + 30*time.Minute),
				DoneBy: testBob, Outcome: "Image hashed and sealed", Role: ir.RoleAnalyst, Key: "ransomware/contain/image"},
		},
		Decisions: []ir.Decision{
			{ID: 1, Summary: "Do not pay", Options: []string{"pay", "restore"}, Rationale: "Backups are intact.",
				DecidedAt: at(100 * time.Minute), DecidedBy: testAlice},
		},
		Evidence: []ir.EvidenceRef{
			{Item: "ITEM-1", Exhibit: "EX-001", Name: "fs01-memory.raw", Kind: evidence.KindMemoryDump, Size: 4096,
				SHA256:      "9f2c6b8e4a1d7053c3e8b5f0a2d4c6e8f1a3b5c7d9e0f2a4b6c8d0e2f4a6b8c1",
				CollectedAt: at(3 * time.Hour), CollectedBy: testBob},
		},
		Review: &ir.Review{Summary: "Ransomware reached one file server through a phished account.",
			RootCause: "The VPN took passwords alone", ContributingFactors: []string{"No MFA on the VPN"},
			WentWell: []string{"Backups were intact"}, WentPoorly: []string{"Paging took 40 minutes"},
			LessonsLearned: []string{"Test paging monthly"}, Revision: 2, RecordedAt: at(22 * time.Hour), RecordedBy: testAlice},
		FollowUps: []ir.FollowUp{
			{ID: 1, Title: "Require MFA on the VPN", Owner: testBob, Due: at(30 * 24 * time.Hour), Reference: "SEC-142",
				AddedAt: at(22 * time.Hour), AddedBy: testAlice, Done: true, DoneAt: at(40 * 24 * time.Hour), DoneBy: testBob,
				Outcome: "Enforced for every account"},
		},
		Marks: []ir.Mark{{Marker: ir.MarkerPersonalDataBreach, At: at(time.Hour), Note: "payroll data", RecordedAt: at(2 * time.Hour),
			RecordedBy: testAlice}},
		Clocks: []ir.ClockState{{Name: ir.ClockGDPR, Title: "GDPR art. 33", StartedAt: at(time.Hour), Deadline: at(73 * time.Hour),
			WarnAt: at(61 * time.Hour), Warned: true, Missed: true, StoppedAt: at(80 * time.Hour), Met: true}},
		ClockDue: at(61 * time.Hour),
		Labels:   []string{"finance", "ransomware"},
		Times: ir.Lifecycle{
			Occurred:     at(-3 * time.Hour),
			Detected:     at(-time.Hour),
			Reported:     at(-30 * time.Minute),
			Opened:       at(0),
			Acknowledged: at(10 * time.Minute),
			Contained:    at(5 * time.Hour),
			Eradicated:   at(8 * time.Hour),
			Recovered:    at(12 * time.Hour),
			Resolved:     at(20 * time.Hour),
			Closed:       at(24 * time.Hour),
		},
		OpenedBy:  testBot,
		UpdatedAt: at(5 * time.Hour),
		Version:   17,
	}
}

// assertNoZeroFields checks that every field of v, of every struct inside
// it and of every element of every slice inside it, is set.
func assertNoZeroFields(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	if v.IsZero() {
		t.Errorf("%s is not set", path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		assertNoZeroFields(t, path, v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() {
				assertNoZeroFields(t, path+"."+f.Name, v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			assertNoZeroFields(t, path+"["+strconv.Itoa(i)+"]", v.Index(i))
		}
	}
}

func TestIncidentJSONRoundTrip(t *testing.T) {
	t.Parallel()
	inc := fullIncident()
	assertNoZeroFields(t, "Incident", reflect.ValueOf(inc))

	b, err := json.Marshal(inc)
	require.NoError(t, err)
	var back ir.Incident
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, reflect.DeepEqual(inc, &back), "decoded incident differs:\nwant %+v\ngot  %+v", inc, &back)
	assert.Equal(t, inc, &back)

	// Unknown enumeration values inside an incident are refused.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	doc["severity"] = "apocalyptic"
	bad, err := json.Marshal(doc)
	require.NoError(t, err)
	err = json.Unmarshal(bad, &back)
	assert.ErrorIs(t, err, ir.ErrInvalid)
}

func TestIncidentCloneIsDeep(t *testing.T) {
	t.Parallel()
	orig := fullIncident()
	want := fullIncident()

	c := orig.Clone()
	require.Equal(t, want, c, "a clone starts equal")

	c.PhaseHistory[0].Phase = phases.Eradication
	c.Impact.Information[0] = ir.InformationNone
	c.Assets[0].Name = "changed"
	c.Observables[0].Value = "changed"
	c.Participants[0].Role = ir.RoleObserver
	c.Tasks[0].Title = "changed"
	c.Decisions[0].Options[0] = "changed"
	c.Labels[0] = "changed"
	c.Times.Closed = time.Time{}
	c.Title = "changed"

	c.PhaseHistory = append(c.PhaseHistory, ir.PhaseInterval{Phase: phases.Closed})
	c.Impact.Information = append(c.Impact.Information, ir.InformationPrivacyBreach)
	c.Assets = append(c.Assets, ir.Asset{Name: "more"})
	c.Observables = append(c.Observables, ir.Observable{Value: "more"})
	c.Participants = append(c.Participants, ir.Participant{Role: ir.RoleLegal})
	c.Tasks = append(c.Tasks, ir.Task{ID: 2})
	c.Decisions = append(c.Decisions, ir.Decision{ID: 2})
	c.Decisions[0].Options = append(c.Decisions[0].Options, "more")
	c.Labels = append(c.Labels, "more")

	assert.Equal(t, want, orig, "changing the clone changed the original")

	var nilIncident *ir.Incident
	assert.Nil(t, nilIncident.Clone())
}

func TestIncidentQueries(t *testing.T) {
	t.Parallel()
	inc := fullIncident()
	inc.Participants = append(inc.Participants,
		ir.Participant{Actor: testBob, Role: ir.RoleAnalyst},
		ir.Participant{Actor: testCarol, Role: ir.RoleAnalyst})
	inc.Tasks = append(inc.Tasks,
		ir.Task{ID: 2, Title: "Reset passwords", Phase: phases.Containment, Required: true},
		ir.Task{ID: 3, Title: "Tell the auditors", Phase: phases.Containment},
		ir.Task{ID: 4, Title: "Patch the VPN", Phase: phases.Eradication, Required: true},
	)

	assert.Equal(t, []ir.Actor{testAlice}, inc.Holders(ir.RoleCommander))
	assert.Equal(t, []ir.Actor{testBob, testCarol}, inc.Holders(ir.RoleAnalyst))
	assert.Empty(t, inc.Holders(ir.RoleScribe))

	assert.True(t, inc.HasRole(ir.RoleCommander))
	assert.False(t, inc.HasRole(ir.RoleLegal))
	assert.True(t, inc.HoldsRole(phases.RoleCommander), "guards ask by name")
	assert.False(t, inc.HoldsRole(string(ir.RoleLegal)))

	task, ok := inc.Task(2)
	assert.True(t, ok)
	assert.Equal(t, "Reset passwords", task.Title)
	_, ok = inc.Task(99)
	assert.False(t, ok)

	assert.Equal(t, []string{"Reset passwords"}, inc.PendingTasks(phases.Containment),
		"done and optional tasks are not pending")
	assert.Equal(t, []string{"Patch the VPN"}, inc.PendingTasks(phases.Eradication))
	assert.Empty(t, inc.PendingTasks(phases.Recovery))

	assert.True(t, inc.HasVerdict())
	assert.True(t, inc.HasVerdict(ir.VerdictFalsePositive, ir.VerdictTruePositive))
	assert.False(t, inc.HasVerdict(ir.VerdictFalsePositive, ir.VerdictBenign))
	assert.True(t, inc.VerdictIn(), "guards ask by name")
	assert.True(t, inc.VerdictIn(phases.VerdictFalsePositive, string(ir.VerdictTruePositive)))
	assert.False(t, inc.VerdictIn(phases.VerdictFalsePositive, phases.VerdictBenign))
	inc.Verdict = ""
	assert.False(t, inc.HasVerdict())
	assert.False(t, inc.HasVerdict(ir.VerdictTruePositive))
	assert.False(t, inc.VerdictIn())

	assert.True(t, inc.HasLabel("finance"))
	assert.False(t, inc.HasLabel("Finance"))

	assert.False(t, inc.IsOpen(), "an incident with a closed time is not open")
	inc.Times.Closed = time.Time{}
	assert.True(t, inc.IsOpen())
}

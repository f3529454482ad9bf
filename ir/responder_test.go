package ir_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

func TestNewResponderNeedsAStore(t *testing.T) {
	t.Parallel()
	r, err := ir.NewResponder(ir.Config{})
	assert.Nil(t, r)
	require.Error(t, err)
	assert.ErrorIs(t, err, ir.ErrInvalid)
	var inv *ir.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "config", inv.Field)
	assert.Contains(t, err.Error(), "Store")
}

func TestNewResponderDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ir.NewMemoryStore()
	r, err := ir.NewResponder(ir.Config{Store: store})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Shutdown(context.Background())) })

	assert.Same(t, phases.SANS, r.Model(), "the default model is SANS PICERL")

	first, err := r.Open(ctx, testAlice, phishing())
	require.NoError(t, err, "the default policy allows")
	second, err := r.Open(ctx, testBob, phishing())
	require.NoError(t, err)

	for _, inc := range []*ir.Incident{first, second} {
		u, err := uuid.Parse(string(inc.ID))
		if assert.NoError(t, err, "the default IDs are UUIDs") {
			assert.Equal(t, uuid.Version(7), u.Version())
		}
		assert.Equal(t, phases.SANS.Name(), inc.Model)
		assert.Equal(t, phases.Preparation, inc.Phase)
		assert.False(t, inc.Times.Opened.IsZero(), "the default clock tells the time")
		assert.Equal(t, time.UTC, inc.Times.Opened.Location(), "the default clock is in UTC")
	}
	assert.Less(t, string(first.ID), string(second.ID), "default IDs sort by creation")
}

func TestOpenDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		severity ir.Severity
		priority ir.Priority
	}{
		{ir.SeverityCritical, ir.PriorityP1},
		{ir.SeverityHigh, ir.PriorityP2},
		{ir.SeverityMedium, ir.PriorityP3},
		{ir.SeverityLow, ir.PriorityP4},
	}
	for _, tt := range tests {
		t.Run(string(tt.severity), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			now := h.clock.Now()
			inc := h.open(ir.NewIncident{Title: "  Suspicious login  ", Severity: tt.severity})

			want := &ir.Incident{
				ID:           "INC-000001",
				Title:        "Suspicious login",
				Severity:     tt.severity,
				Priority:     tt.priority,
				Category:     ir.CategoryOther,
				TLP:          ir.TLPAmber,
				Model:        phases.SANS.Name(),
				Phase:        phases.Preparation,
				PhaseHistory: []ir.PhaseInterval{{Phase: phases.Preparation, Entered: now}},
				Times:        ir.Lifecycle{Detected: now, Reported: now, Opened: now},
				OpenedBy:     testAlice,
				UpdatedAt:    now,
				Version:      1,
			}
			assert.Equal(t, want, inc)
			assert.Equal(t, want, h.stored(inc.ID), "the store holds what Open returned")
			assert.True(t, inc.IsOpen())

			events := h.timeline(inc.ID)
			require.Len(t, events, 1)
			e := events[0]
			assert.Equal(t, ir.Event{
				IncidentID: inc.ID, Seq: 1, Version: 1, Type: ir.EventOpened, At: now, Actor: testAlice,
				Data: &ir.Opened{Title: "Suspicious login", Severity: tt.severity, Priority: tt.priority,
					Category: ir.CategoryOther, TLP: ir.TLPAmber, Model: phases.SANS.Name(), Phase: phases.Preparation,
					Times: ir.Lifecycle{Detected: now, Reported: now, Opened: now}},
			}, e)
		})
	}
}

func TestOpenRecordsEverythingGiven(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := h.clock.Now()
	occurred, detected, reported := now.Add(-6*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour)

	inc, err := h.r.Open(h.ctx, ir.Actor{ID: "dave", Name: "Dave"}, ir.NewIncident{
		Title:    "Exfiltration over DNS",
		Summary:  "  Large TXT queries to a new domain.  ",
		Severity: "HIGH",
		Priority: "p1",
		Category: "Data_Breach",
		TLP:      "red",
		Impact: ir.Impact{
			Functional:     "low",
			Information:    []ir.InformationImpact{"PRIVACY_BREACH", ir.InformationPrivacyBreach, ir.InformationIntegrityLoss},
			Recoverability: ir.RecoverabilityExtended,
		},
		Labels: []string{" dns ", "exfil", "dns"},
		Observables: []ir.Observable{
			{Type: ir.ObservableDomain, Value: "Tunnel.Evil.Example.", Malicious: true},
			{Type: ir.ObservableIP, Value: "2001:DB8:0:0:0:0:0:53"},
			{Type: ir.ObservableDomain, Value: "tunnel.evil.example"}, // the same as the first
		},
		Assets: []ir.Asset{
			{Kind: "HOST", Name: " dns-01 ", Description: "Resolver"},
			{Kind: ir.AssetHost, Name: "dns-01"}, // the same again
		},
		OccurredAt: occurred,
		DetectedAt: detected,
		ReportedAt: reported,
	})
	require.NoError(t, err)

	dave := ir.Actor{ID: "dave", Name: "Dave", Kind: ir.ActorHuman}
	want := &ir.Incident{
		ID:           "INC-000001",
		Title:        "Exfiltration over DNS",
		Summary:      "Large TXT queries to a new domain.",
		Severity:     ir.SeverityHigh,
		Priority:     ir.PriorityP1,
		Category:     ir.CategoryDataBreach,
		TLP:          ir.TLPRed,
		Model:        phases.SANS.Name(),
		Phase:        phases.Preparation,
		PhaseHistory: []ir.PhaseInterval{{Phase: phases.Preparation, Entered: now}},
		Impact: ir.Impact{
			Functional:     ir.FunctionalLow,
			Information:    []ir.InformationImpact{ir.InformationPrivacyBreach, ir.InformationIntegrityLoss},
			Recoverability: ir.RecoverabilityExtended,
		},
		Labels: []string{"dns", "exfil"},
		Observables: []ir.Observable{
			{Type: ir.ObservableDomain, Value: "tunnel.evil.example", Malicious: true, AddedAt: now, AddedBy: dave},
			{Type: ir.ObservableIP, Value: "2001:db8::53", AddedAt: now, AddedBy: dave},
		},
		Assets: []ir.Asset{
			{Kind: ir.AssetHost, Name: "dns-01", Description: "Resolver", AddedAt: now, AddedBy: dave},
		},
		Times:     ir.Lifecycle{Occurred: occurred, Detected: detected, Reported: reported, Opened: now},
		OpenedBy:  dave,
		UpdatedAt: now,
		Version:   1,
	}
	assert.Equal(t, want, inc)
	assert.Equal(t, want, h.stored(inc.ID))

	events := h.timeline(inc.ID)
	require.Len(t, events, 4, "opened, two observables, one asset")
	wantTypes := []ir.EventType{ir.EventOpened, ir.EventObservableAdded, ir.EventObservableAdded, ir.EventAssetAdded}
	for i, e := range events {
		assert.Equal(t, wantTypes[i], e.Type)
		assert.Equal(t, int64(i+1), e.Seq)
		assert.Equal(t, int64(1), e.Version, "every opening event belongs to version 1")
		assert.Equal(t, dave, e.Actor, "the actor's kind defaults to human")
		assert.Equal(t, now, e.At)
		assert.Equal(t, inc.ID, e.IncidentID)
	}
	assert.Equal(t, &ir.ObservableAdded{Observable: want.Observables[0]}, events[1].Data)
	assert.Equal(t, &ir.ObservableAdded{Observable: want.Observables[1]}, events[2].Data)
	assert.Equal(t, &ir.AssetAdded{Asset: want.Assets[0]}, events[3].Data)
	opened := dataOf[*ir.Opened](t, events[0])
	assert.Equal(t, ir.TLPRed, opened.TLP)
	assert.Equal(t, ir.PriorityP1, opened.Priority)
}

func TestOpenAcceptsBoundaryValues(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := h.clock.Now()
	title := strings.Repeat("t", 200)
	inc, err := h.r.Open(h.ctx, testAlice, ir.NewIncident{
		Title:      title,
		Severity:   ir.SeverityLow,
		DetectedAt: now.Add(3 * time.Minute),
		ReportedAt: now.Add(ir.MaxClockSkew),
	})
	require.NoError(t, err, "a 200-byte title and times within the clock skew are accepted")
	assert.Equal(t, title, inc.Title)
	assert.Equal(t, now.Add(3*time.Minute), inc.Times.Detected)
	assert.Equal(t, now.Add(ir.MaxClockSkew), inc.Times.Reported)

	inc, err = h.r.Open(h.ctx, testAlice, ir.NewIncident{Title: "Only detected", Severity: ir.SeverityLow,
		DetectedAt: now.Add(-time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, now.Add(-time.Hour), inc.Times.Detected)
	assert.Equal(t, now, inc.Times.Reported, "reported defaults to now")

	inc, err = h.r.Open(h.ctx, testAlice, ir.NewIncident{Title: "Only reported", Severity: ir.SeverityLow,
		ReportedAt: now.Add(-time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, now.Add(-time.Hour), inc.Times.Reported)
	assert.Equal(t, now.Add(-time.Hour), inc.Times.Detected, "detected defaults to reported")
}

func TestOpenStartsInEachModelsInitialPhase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model   *phases.Model
		initial phases.Phase
	}{
		{phases.SANS, phases.Preparation},
		{phases.NIST, phases.Preparation},
		{phases.DACER, phases.Detection},
		{phases.ICARP, phases.Identification},
	}
	for _, tt := range tests {
		t.Run(tt.model.Name(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withModel(tt.model))
			assert.Same(t, tt.model, h.r.Model())
			inc := h.open(phishing())
			assert.Equal(t, tt.model.Name(), inc.Model)
			assert.Equal(t, tt.initial, inc.Phase)
			assert.Equal(t, []ir.PhaseInterval{{Phase: tt.initial, Entered: h.clock.Now()}}, inc.PhaseHistory)
			assert.True(t, inc.Times.Acknowledged.IsZero(), "no initial phase marks the incident acknowledged")
			opened := dataOf[*ir.Opened](t, h.timeline(inc.ID)[0])
			assert.Equal(t, tt.initial, opened.Phase)
			assert.Equal(t, tt.model.Name(), opened.Model)
		})
	}
}

func TestObservablesAreCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		typ   ir.ObservableType
		in    string
		want  string
		again string // another spelling of the same indicator
	}{
		{"IPv6 shortest form", ir.ObservableIP, "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1", "2001:db8::0:1"},
		{"IPv4", ir.ObservableIP, " 192.0.2.10 ", "192.0.2.10", "192.0.2.10"},
		{"CIDR prefix masked", ir.ObservableIP, "10.1.2.3/8", "10.0.0.0/8", "10.0.0.0/8"},
		{"domain lower case", ir.ObservableDomain, "Login.Evil-Corp.EXAMPLE.", "login.evil-corp.example", "LOGIN.evil-corp.example"},
		{"md5 lower-case hex", ir.ObservableMD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427E"},
		{"sha1 lower-case hex", ir.ObservableSHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{"sha256 lower-case hex", ir.ObservableSHA256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991B7852B855"},
		{"e-mail domain lower case", ir.ObservableEmail, "Finance.Team@Evil-Corp.EXAMPLE", "Finance.Team@evil-corp.example", "<Finance.Team@EVIL-CORP.example>"},
		{"absolute URL", ir.ObservableURL, "https://login.evil.example/owa?user=1", "https://login.evil.example/owa?user=1", "https://login.evil.example/owa?user=1"},
		{"host lower case", ir.ObservableHost, "LAPTOP-17", "laptop-17", "Laptop-17"},
		{"free text kept", ir.ObservableUserAgent, "  Mozilla/5.0 (X11)  ", "Mozilla/5.0 (X11)", "Mozilla/5.0 (X11)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			inc := h.open(phishing())
			h.clock.Advance(time.Minute)

			got, err := h.r.AddObservable(h.ctx, testBot, inc.ID, ir.Observable{Type: tt.typ, Value: tt.in})
			require.NoError(t, err)
			require.Len(t, got.Observables, 1)
			assert.Equal(t, tt.want, got.Observables[0].Value)
			assert.Equal(t, tt.typ, got.Observables[0].Type)
			added := dataOf[*ir.ObservableAdded](t, h.timeline(inc.ID)[1])
			assert.Equal(t, tt.want, added.Observable.Value, "the event records the canonical value")

			before, events := h.snapshot(inc.ID)
			again, err := h.r.AddObservable(h.ctx, testAlice, inc.ID, ir.Observable{Type: tt.typ, Value: tt.again})
			require.NoError(t, err, "adding the same indicator again is not an error")
			assert.Equal(t, before, again, "adding the same indicator again returns the incident unchanged")
			h.assertUnchanged(t, before, events)

			other := ir.ObservableOther
			if tt.typ == other {
				other = ir.ObservableAccount
			}
			got, err = h.r.AddObservable(h.ctx, testAlice, inc.ID, ir.Observable{Type: other, Value: tt.want})
			require.NoError(t, err)
			assert.Len(t, got.Observables, 2, "the same value of another type is another observable")
		})
	}
}

// mutationCase is one successful change through the Responder: what it
// does to the incident and the event it records.
type mutationCase struct {
	name  string
	setup func(h *harness, id ir.ID)
	do    func(h *harness, id ir.ID) (*ir.Incident, error)
	actor ir.Actor
	// reason is the reason the event records.
	reason string
	// edit makes the expected change to a copy of the incident before the
	// change (its version and UpdatedAt are set by the test).
	edit func(want *ir.Incident, now time.Time)
	// event returns the data the change records.
	event func(before *ir.Incident, now time.Time) ir.EventData
}

func mutationCases() []mutationCase {
	return []mutationCase{
		{
			name: "add note",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.AddNote(h.ctx, testBob, id, "  Pulled the mail logs  ")
			},
			actor: testBob,
			edit:  func(*ir.Incident, time.Time) {},
			event: func(*ir.Incident, time.Time) ir.EventData { return &ir.NoteAdded{Text: "Pulled the mail logs"} },
		},
		{
			name: "decide",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Decide(h.ctx, testAlice, id, ir.Decision{ID: 99, Summary: " Isolate the laptops ",
					Options: []string{"isolate", " wait "}, Rationale: " The malware spreads. ", DecidedBy: testBob})
			},
			actor: testAlice,
			edit: func(w *ir.Incident, now time.Time) {
				w.Decisions = append(w.Decisions, ir.Decision{ID: 1, Summary: "Isolate the laptops",
					Options: []string{"isolate", "wait"}, Rationale: "The malware spreads.", DecidedAt: now, DecidedBy: testAlice})
			},
			event: func(_ *ir.Incident, now time.Time) ir.EventData {
				return &ir.DecisionRecorded{Decision: ir.Decision{ID: 1, Summary: "Isolate the laptops",
					Options: []string{"isolate", "wait"}, Rationale: "The malware spreads.", DecidedAt: now, DecidedBy: testAlice}}
			},
		},
		{
			name: "second decision is numbered 2",
			setup: func(h *harness, id ir.ID) {
				_, err := h.r.Decide(h.ctx, testAlice, id, ir.Decision{Summary: "First"})
				require.NoError(h.t, err)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Decide(h.ctx, testBob, id, ir.Decision{Summary: "Second"})
			},
			actor: testBob,
			edit: func(w *ir.Incident, now time.Time) {
				w.Decisions = append(w.Decisions, ir.Decision{ID: 2, Summary: "Second", DecidedAt: now, DecidedBy: testBob})
			},
			event: func(_ *ir.Incident, now time.Time) ir.EventData {
				return &ir.DecisionRecorded{Decision: ir.Decision{ID: 2, Summary: "Second", DecidedAt: now, DecidedBy: testBob}}
			},
		},
		{
			name: "add task in the current phase",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: " Confirm the on-call list ", Required: true,
					Assignee: ir.Actor{ID: "bob"}})
			},
			actor: testAlice,
			edit: func(w *ir.Incident, now time.Time) {
				w.Tasks = append(w.Tasks, ir.Task{ID: 1, Title: "Confirm the on-call list", Phase: phases.Preparation,
					Required: true, Assignee: ir.Actor{ID: "bob", Kind: ir.ActorHuman}, AddedAt: now, AddedBy: testAlice})
			},
			event: func(_ *ir.Incident, now time.Time) ir.EventData {
				return &ir.TaskAdded{Task: ir.Task{ID: 1, Title: "Confirm the on-call list", Phase: phases.Preparation,
					Required: true, Assignee: ir.Actor{ID: "bob", Kind: ir.ActorHuman}, AddedAt: now, AddedBy: testAlice}}
			},
		},
		{
			name: "add task for a later phase",
			setup: func(h *harness, id ir.ID) {
				_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "First"})
				require.NoError(h.t, err)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.AddTask(h.ctx, testBob, id, ir.NewTask{Title: "Reimage laptops", Phase: phases.Eradication})
			},
			actor: testBob,
			edit: func(w *ir.Incident, now time.Time) {
				w.Tasks = append(w.Tasks, ir.Task{ID: 2, Title: "Reimage laptops", Phase: phases.Eradication,
					AddedAt: now, AddedBy: testBob})
			},
			event: func(_ *ir.Incident, now time.Time) ir.EventData {
				return &ir.TaskAdded{Task: ir.Task{ID: 2, Title: "Reimage laptops", Phase: phases.Eradication,
					AddedAt: now, AddedBy: testBob}}
			},
		},
		{
			name: "complete task",
			setup: func(h *harness, id ir.ID) {
				_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Pull proxy logs", Required: true})
				require.NoError(h.t, err)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.CompleteTask(h.ctx, testBob, id, 1, "Three more recipients")
			},
			actor: testBob,
			edit: func(w *ir.Incident, now time.Time) {
				t := &w.Tasks[0]
				t.Done, t.DoneAt, t.DoneBy, t.Outcome = true, now, testBob, "Three more recipients"
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.TaskCompleted{TaskID: 1, Title: "Pull proxy logs", Outcome: "Three more recipients"}
			},
		},
		{
			name: "first assignment acknowledges",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Assign(h.ctx, testAlice, id, ir.RoleCommander, testBob)
			},
			actor: testAlice,
			edit: func(w *ir.Incident, now time.Time) {
				w.Participants = append(w.Participants, ir.Participant{Actor: testBob, Role: ir.RoleCommander, AssignedAt: now, AssignedBy: testAlice})
				w.Times.Acknowledged = now
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.RoleAssigned{Role: ir.RoleCommander, Assignee: testBob}
			},
		},
		{
			name:  "exclusive role hands over",
			setup: func(h *harness, id ir.ID) { h.assign(id, ir.RoleCommander, testAlice) },
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Assign(h.ctx, testAlice, id, "INCIDENT_COMMANDER", testBob)
			},
			actor: testAlice,
			edit: func(w *ir.Incident, now time.Time) {
				w.Participants = []ir.Participant{{Actor: testBob, Role: ir.RoleCommander, AssignedAt: now, AssignedBy: testAlice}}
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.RoleAssigned{Role: ir.RoleCommander, Assignee: testBob, Replaced: testAlice}
			},
		},
		{
			name: "exclusive handover keeps other roles",
			setup: func(h *harness, id ir.ID) {
				h.assign(id, ir.RoleAnalyst, testAlice)
				h.assign(id, ir.RoleScribe, testCarol)
				h.assign(id, ir.RoleAnalyst, testCarol)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Assign(h.ctx, testBob, id, ir.RoleScribe, testBob)
			},
			actor: testBob,
			edit: func(w *ir.Incident, now time.Time) {
				w.Participants = append([]ir.Participant{w.Participants[0], w.Participants[2]},
					ir.Participant{Actor: testBob, Role: ir.RoleScribe, AssignedAt: now, AssignedBy: testBob})
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.RoleAssigned{Role: ir.RoleScribe, Assignee: testBob, Replaced: testCarol}
			},
		},
		{
			name:  "non-exclusive role accumulates",
			setup: func(h *harness, id ir.ID) { h.assign(id, ir.RoleAnalyst, testAlice) },
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Assign(h.ctx, testAlice, id, ir.RoleAnalyst, testBob)
			},
			actor: testAlice,
			edit: func(w *ir.Incident, now time.Time) {
				w.Participants = append(w.Participants, ir.Participant{Actor: testBob, Role: ir.RoleAnalyst, AssignedAt: now, AssignedBy: testAlice})
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.RoleAssigned{Role: ir.RoleAnalyst, Assignee: testBob}
			},
		},
		{
			name: "unassign",
			setup: func(h *harness, id ir.ID) {
				h.assign(id, ir.RoleAnalyst, testBob)
				h.assign(id, ir.RoleAnalyst, testCarol)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Unassign(h.ctx, testAlice, id, ir.RoleAnalyst, ir.Actor{ID: "bob"}, "rotated off")
			},
			actor:  testAlice,
			reason: "rotated off",
			edit: func(w *ir.Incident, _ time.Time) {
				w.Participants = w.Participants[1:]
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.RoleUnassigned{Role: ir.RoleAnalyst, Assignee: testBob}
			},
		},
		{
			name: "add observable",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.AddObservable(h.ctx, testBot, id, ir.Observable{Type: "IP", Value: "2001:DB8::0:1",
					Description: "C2 server", Malicious: true})
			},
			actor: testBot,
			edit: func(w *ir.Incident, now time.Time) {
				w.Observables = append(w.Observables, ir.Observable{Type: ir.ObservableIP, Value: "2001:db8::1",
					Description: "C2 server", Malicious: true, AddedAt: now, AddedBy: testBot})
			},
			event: func(_ *ir.Incident, now time.Time) ir.EventData {
				return &ir.ObservableAdded{Observable: ir.Observable{Type: ir.ObservableIP, Value: "2001:db8::1",
					Description: "C2 server", Malicious: true, AddedAt: now, AddedBy: testBot}}
			},
		},
		{
			name: "add asset",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.AddAsset(h.ctx, testAlice, id, ir.Asset{Kind: "Host", Name: " laptop-17 ", Description: "Finance laptop"})
			},
			actor: testAlice,
			edit: func(w *ir.Incident, now time.Time) {
				w.Assets = append(w.Assets, ir.Asset{Kind: ir.AssetHost, Name: "laptop-17", Description: "Finance laptop",
					AddedAt: now, AddedBy: testAlice})
			},
			event: func(_ *ir.Incident, now time.Time) ir.EventData {
				return &ir.AssetAdded{Asset: ir.Asset{Kind: ir.AssetHost, Name: "laptop-17", Description: "Finance laptop",
					AddedAt: now, AddedBy: testAlice}}
			},
		},
		{
			name: "set severity",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetSeverity(h.ctx, testAlice, id, "Critical", "exfiltration confirmed")
			},
			actor:  testAlice,
			reason: "exfiltration confirmed",
			edit:   func(w *ir.Incident, _ time.Time) { w.Severity = ir.SeverityCritical },
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.SeverityChanged{From: ir.SeverityHigh, To: ir.SeverityCritical}
			},
		},
		{
			name: "set priority",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetPriority(h.ctx, testBob, id, "p1", "the CFO is affected")
			},
			actor:  testBob,
			reason: "the CFO is affected",
			edit:   func(w *ir.Incident, _ time.Time) { w.Priority = ir.PriorityP1 },
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.PriorityChanged{From: ir.PriorityP2, To: ir.PriorityP1}
			},
		},
		{
			name: "set impact",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetImpact(h.ctx, testAlice, id, ir.Impact{Functional: "MEDIUM",
					Information:    []ir.InformationImpact{ir.InformationPrivacyBreach, "privacy_breach", ir.InformationIntegrityLoss},
					Recoverability: ir.RecoverabilitySupplemented}, "payroll data touched")
			},
			actor:  testAlice,
			reason: "payroll data touched",
			edit: func(w *ir.Incident, _ time.Time) {
				w.Impact = ir.Impact{Functional: ir.FunctionalMedium,
					Information:    []ir.InformationImpact{ir.InformationPrivacyBreach, ir.InformationIntegrityLoss},
					Recoverability: ir.RecoverabilitySupplemented}
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.ImpactAssessed{Impact: ir.Impact{Functional: ir.FunctionalMedium,
					Information:    []ir.InformationImpact{ir.InformationPrivacyBreach, ir.InformationIntegrityLoss},
					Recoverability: ir.RecoverabilitySupplemented}}
			},
		},
		{
			name: "set verdict",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetVerdict(h.ctx, testAlice, id, "TRUE_POSITIVE", "Mailbox rules removed")
			},
			actor: testAlice,
			edit: func(w *ir.Incident, _ time.Time) {
				w.Verdict, w.Resolution = ir.VerdictTruePositive, "Mailbox rules removed"
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.VerdictSet{Verdict: ir.VerdictTruePositive, Resolution: "Mailbox rules removed"}
			},
		},
		{
			name:  "change verdict records the previous one",
			setup: func(h *harness, id ir.ID) { h.verdict(id, ir.VerdictInconclusive) },
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetVerdict(h.ctx, testBob, id, ir.VerdictBenign, "Red-team exercise")
			},
			actor: testBob,
			edit: func(w *ir.Incident, _ time.Time) {
				w.Verdict, w.Resolution = ir.VerdictBenign, "Red-team exercise"
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.VerdictSet{Verdict: ir.VerdictBenign, Previous: ir.VerdictInconclusive, Resolution: "Red-team exercise"}
			},
		},
		{
			name: "transition",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Transition(h.ctx, testBob, id, phases.Identify, "alert confirmed by the SOC")
			},
			actor:  testBob,
			reason: "alert confirmed by the SOC",
			edit: func(w *ir.Incident, now time.Time) {
				w.PhaseHistory[0].Left = now
				w.PhaseHistory = append(w.PhaseHistory, ir.PhaseInterval{Phase: phases.Identification, Action: phases.Identify, Entered: now})
				w.Phase = phases.Identification
				w.Times.Acknowledged = now
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.PhaseChanged{Action: phases.Identify, From: phases.Preparation, To: phases.Identification}
			},
		},
		{
			name:  "close dismisses from triage",
			setup: func(h *harness, id ir.ID) { h.verdict(id, ir.VerdictFalsePositive) },
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Close(h.ctx, testAlice, id, "scanner noise")
			},
			actor:  testAlice,
			reason: "scanner noise",
			edit: func(w *ir.Incident, now time.Time) {
				w.PhaseHistory[0].Left = now
				w.PhaseHistory = append(w.PhaseHistory, ir.PhaseInterval{Phase: phases.Closed, Action: phases.Dismiss, Entered: now})
				w.Phase = phases.Closed
				w.Times.Resolved, w.Times.Closed = now, now
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.PhaseChanged{Action: phases.Dismiss, From: phases.Preparation, To: phases.Closed}
			},
		},
		{
			name: "reopen",
			setup: func(h *harness, id ir.ID) {
				h.verdict(id, ir.VerdictFalsePositive)
				_, err := h.r.Close(h.ctx, testAlice, id, "scanner noise")
				require.NoError(h.t, err)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Reopen(h.ctx, testBob, id, "the same sender is back")
			},
			actor:  testBob,
			reason: "the same sender is back",
			edit: func(w *ir.Incident, now time.Time) {
				w.PhaseHistory[len(w.PhaseHistory)-1].Left = now
				w.PhaseHistory = append(w.PhaseHistory, ir.PhaseInterval{Phase: phases.Identification, Action: phases.Reopen, Entered: now})
				w.Phase = phases.Identification
				w.Times.Resolved, w.Times.Closed = time.Time{}, time.Time{}
				w.Times.Acknowledged = now
			},
			event: func(*ir.Incident, time.Time) ir.EventData {
				return &ir.PhaseChanged{Action: phases.Reopen, From: phases.Closed, To: phases.Identification}
			},
		},
	}
}

func TestMutationsRecordTypedEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range mutationCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			inc := h.open(phishing())
			if tc.setup != nil {
				h.clock.Advance(3 * time.Minute)
				tc.setup(h, inc.ID)
			}
			before, events := h.snapshot(inc.ID)
			now := h.clock.Advance(7 * time.Minute)

			got, err := tc.do(h, inc.ID)
			require.NoError(t, err)

			want := before.Clone()
			tc.edit(want, now)
			want.Version = before.Version + 1
			want.UpdatedAt = now
			assert.Equal(t, want, got, "returned incident")

			stored, err := h.r.Get(h.ctx, inc.ID)
			require.NoError(t, err)
			assert.Equal(t, got, stored, "Get agrees with what the change returned")

			page, err := h.r.Timeline(h.ctx, inc.ID, ir.TimelineQuery{Limit: ir.MaxPageSize})
			require.NoError(t, err)
			timeline := page.Events
			require.Len(t, timeline, events+1, "the change appends exactly one event")
			assert.Equal(t, h.timeline(inc.ID), timeline)
			last := timeline[len(timeline)-1]
			wantData := tc.event(before, now)
			assert.Equal(t, ir.Event{
				IncidentID: inc.ID,
				Seq:        int64(events + 1),
				Version:    want.Version,
				Type:       wantData.EventType(),
				At:         now,
				Actor:      tc.actor,
				Reason:     tc.reason,
				Data:       wantData,
			}, last)
		})
	}
}

func TestNoOpChangesRecordNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(h *harness, id ir.ID)
		do    func(h *harness, id ir.ID) (*ir.Incident, error)
	}{
		{
			name:  "assign the same role to the same person",
			setup: func(h *harness, id ir.ID) { h.assign(id, ir.RoleCommander, testBob) },
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Assign(h.ctx, testCarol, id, ir.RoleCommander, ir.Actor{ID: "bob"})
			},
		},
		{
			name:  "assign a shared role to the same person",
			setup: func(h *harness, id ir.ID) { h.assign(id, ir.RoleAnalyst, testBob) },
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.Assign(h.ctx, testAlice, id, ir.RoleAnalyst, testBob)
			},
		},
		{
			name: "set the same severity",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetSeverity(h.ctx, testAlice, id, "HIGH", "still high")
			},
		},
		{
			name: "set the same priority",
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetPriority(h.ctx, testAlice, id, ir.PriorityP2, "")
			},
		},
		{
			name: "set the same impact",
			setup: func(h *harness, id ir.ID) {
				_, err := h.r.SetImpact(h.ctx, testAlice, id, ir.Impact{Functional: ir.FunctionalLow}, "")
				require.NoError(h.t, err)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetImpact(h.ctx, testBob, id, ir.Impact{Functional: "LOW"}, "again")
			},
		},
		{
			name:  "set the same verdict and resolution",
			setup: func(h *harness, id ir.ID) { h.verdict(id, ir.VerdictBenign) },
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.SetVerdict(h.ctx, testBob, id, ir.VerdictBenign, "resolution for benign")
			},
		},
		{
			name: "add the same asset",
			setup: func(h *harness, id ir.ID) {
				_, err := h.r.AddAsset(h.ctx, testAlice, id, ir.Asset{Kind: ir.AssetAccount, Name: "j.doe"})
				require.NoError(h.t, err)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.AddAsset(h.ctx, testBob, id, ir.Asset{Kind: "ACCOUNT", Name: " j.doe ", Description: "again"})
			},
		},
		{
			name: "complete a task that is done",
			setup: func(h *harness, id ir.ID) {
				_, err := h.r.AddTask(h.ctx, testAlice, id, ir.NewTask{Title: "Pull logs"})
				require.NoError(h.t, err)
				_, err = h.r.CompleteTask(h.ctx, testAlice, id, 1, "done")
				require.NoError(h.t, err)
			},
			do: func(h *harness, id ir.ID) (*ir.Incident, error) {
				return h.r.CompleteTask(h.ctx, testBob, id, 1, "done again")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			inc := h.open(phishing())
			if tt.setup != nil {
				tt.setup(h, inc.ID)
			}
			before, events := h.snapshot(inc.ID)
			h.clock.Advance(time.Hour)
			got, err := tt.do(h, inc.ID)
			require.NoError(t, err)
			assert.Equal(t, before, got, "a change that changes nothing returns the incident as it is")
			h.assertUnchanged(t, before, events)
		})
	}
}

func TestReturnedIncidentsAndEventsAreCopies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(ir.NewIncident{Title: "Copies", Severity: ir.SeverityLow, Labels: []string{"a"}})
	before, events := h.snapshot(inc.ID)

	inc.Title = "changed"
	inc.Labels[0] = "changed"
	got, err := h.r.Get(h.ctx, inc.ID)
	require.NoError(t, err)
	got.PhaseHistory[0].Phase = phases.Closed
	page, err := h.r.Timeline(h.ctx, inc.ID, ir.TimelineQuery{})
	require.NoError(t, err)
	dataOf[*ir.Opened](t, page.Events[0]).Title = "changed"

	h.assertUnchanged(t, before, events)
	assert.Equal(t, "Copies", dataOf[*ir.Opened](t, h.timeline(inc.ID)[0]).Title)
}

func TestActionsListsWhatCanBeDoneNext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	before, events := h.snapshot(inc.ID)

	opts, err := h.r.Actions(h.ctx, testAlice, inc.ID)
	require.NoError(t, err)
	require.Len(t, opts, 2)
	assert.Equal(t, phases.Identify, opts[0].Action)
	assert.Equal(t, "Start identification", opts[0].Title)
	assert.Equal(t, phases.Identification, opts[0].To)
	assert.NoError(t, opts[0].Err)
	assert.Equal(t, phases.Dismiss, opts[1].Action)
	assert.Equal(t, phases.Closed, opts[1].To)
	assert.ErrorIs(t, opts[1].Err, phases.ErrGuardFailed, "dismissing needs a false-positive verdict")
	var ge *phases.GuardError
	assert.ErrorAs(t, opts[1].Err, &ge)
	h.assertUnchanged(t, before, events)

	h.verdict(inc.ID, ir.VerdictFalsePositive)
	opts, err = h.r.Actions(h.ctx, testAlice, inc.ID)
	require.NoError(t, err)
	require.Len(t, opts, 2)
	assert.NoError(t, opts[1].Err, "with a false-positive verdict the incident can be dismissed")

	h.transition(inc.ID, phases.Identify)
	opts, err = h.r.Actions(h.ctx, testAlice, inc.ID)
	require.NoError(t, err)
	var names []phases.Action
	for _, o := range opts {
		names = append(names, o.Action)
	}
	assert.Equal(t, []phases.Action{phases.Contain, phases.Dismiss}, names)
	assert.ErrorIs(t, opts[0].Err, phases.ErrGuardFailed, "containment needs a commander")
}

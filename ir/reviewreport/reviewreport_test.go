package reviewreport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/reviewreport"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	alice = ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	ben   = ir.Actor{ID: "ben", Name: "Ben Carter", Kind: ir.ActorHuman}
	raj   = ir.Actor{ID: "raj", Name: "Raj Patel", Kind: ir.ActorHuman}
	edr   = ir.Actor{ID: "edr", Name: "EDR pipeline", Kind: ir.ActorService}
	t0    = time.Date(2026, time.March, 2, 7, 50, 0, 0, time.UTC)
)

// story is an incident run from detection to closing through a
// Responder, with its sources.
type story struct {
	r      *ir.Responder
	store  *ir.MemoryStore
	locker *evidence.Locker
	blobs  *tamperBlobs
	clock  *irtest.Clock
	id     ir.ID
}

// tamperBlobs is a memory blob store whose content can be swapped for
// other bytes, as if someone had altered the stored evidence.
type tamperBlobs struct {
	*evidence.MemoryBlobs
	tampered atomic.Bool
}

func (b *tamperBlobs) Open(ctx context.Context, sha256hex string) (io.ReadCloser, error) {
	if b.tampered.Load() {
		return evidence.NewVerifyingReader(io.NopCloser(strings.NewReader("altered")), sha256hex), nil
	}
	return b.MemoryBlobs.Open(ctx, sha256hex)
}

// runStory runs a phishing incident on SANS, with a reinfection that
// sends it back to containment, evidence, decisions, a review with
// follow-ups, a close and a follow-up added after it.
func runStory(t *testing.T) *story {
	t.Helper()
	ctx := context.Background()
	s := &story{store: ir.NewMemoryStore(), clock: irtest.NewClock(t0), blobs: &tamperBlobs{MemoryBlobs: evidence.NewMemoryBlobs()}}
	key, _, err := evidence.GenerateKey("custody.test")
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	n := 0
	s.locker, err = evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: s.blobs, Now: s.clock.Now,
		NewID: func() evidence.ItemID { n++; return evidence.ItemID(fmt.Sprintf("ITEM-%d", n)) }})
	require.NoError(t, err)
	s.r, err = ir.NewResponder(ir.Config{Store: s.store, Clock: s.clock, IDs: &irtest.IDs{}, Evidence: s.locker,
		TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.r.Shutdown(ctx)) })

	must := func(_ *ir.Incident, err error) { t.Helper(); require.NoError(t, err) }
	at := func(h, m int) { s.clock.Set(t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)) }

	at(0, 5)
	inc, err := s.r.Open(ctx, edr, ir.NewIncident{
		Title:    "Credential phishing against finance",
		Summary:  "A fake payroll e-mail from payroll@examp1e-hr.com led a finance officer to a look-alike login page.",
		Severity: ir.SeverityMedium, Category: ir.CategoryPhishing, Labels: []string{"finance", "phishing"},
		OccurredAt: t0.Add(-40 * time.Minute), DetectedAt: t0,
		Observables: []ir.Observable{{Type: ir.ObservableURL, Value: "https://examp1e-login.com/payroll", Malicious: true,
			Description: "The look-alike login page"}},
	})
	require.NoError(t, err)
	s.id = inc.ID
	at(0, 15)
	must(s.r.Transition(ctx, alice, s.id, phases.Identify, "reported by the officer"))
	must(s.r.Assign(ctx, alice, s.id, ir.RoleCommander, alice))
	must(s.r.Assign(ctx, alice, s.id, ir.RoleScribe, ben))
	at(0, 30)
	must(s.r.SetSeverity(ctx, alice, s.id, ir.SeverityHigh, "the account can approve payments"))
	must(s.r.SetImpact(ctx, alice, s.id, ir.Impact{Functional: ir.FunctionalMedium,
		Information: []ir.InformationImpact{ir.InformationPrivacyBreach}, Recoverability: ir.RecoverabilitySupplemented}, ""))
	must(s.r.AddAsset(ctx, alice, s.id, ir.Asset{Kind: ir.AssetHost, Name: "FIN-LT-023", Description: "The officer's laptop"}))
	must(s.r.AddObservable(ctx, edr, s.id, ir.Observable{Type: ir.ObservableSHA256, Value: strings.Repeat("ab", 32),
		Malicious: true, Description: "payroll.xlsm"}))
	must(s.r.AddTask(ctx, alice, s.id, ir.NewTask{Title: "Reset the password and revoke sessions", Phase: phases.Containment,
		Required: true, Assignee: raj}))
	at(0, 40)
	must(s.r.Decide(ctx, alice, s.id, ir.Decision{Summary: "Contain now", Options: []string{"Watch for a day", "Contain now"},
		Rationale: "The account can approve payments."}))
	at(0, 45)
	must(s.r.Transition(ctx, alice, s.id, phases.Contain, ""))
	at(1, 0)
	_, err = s.r.CollectEvidence(ctx, raj, s.id, evidence.Collection{Name: "fin-lt-023-memory.raw", Kind: evidence.KindMemoryDump,
		Content: strings.NewReader("memory image"), Reason: "before reimaging"})
	require.NoError(t, err)
	must(s.r.CompleteTask(ctx, raj, s.id, 1, "done; sessions revoked"))
	must(s.r.PostStatus(ctx, alice, s.id, notify.AudienceExecutives, "Contained; no payment was made."))
	at(2, 0)
	must(s.r.Transition(ctx, alice, s.id, phases.Eradicate, ""))
	at(5, 0)
	must(s.r.Transition(ctx, alice, s.id, phases.Recover, ""))
	at(20, 0)
	must(s.r.Transition(ctx, alice, s.id, phases.ReturnToContainment, "a second laptop beacons"))
	must(s.r.AddNote(ctx, ben, s.id, "FIN-LT-031 runs the same scheduled task; see https://intranet.example/wiki <b>now</b>"))
	at(22, 0)
	must(s.r.Transition(ctx, alice, s.id, phases.Eradicate, ""))
	at(26, 0)
	must(s.r.Transition(ctx, alice, s.id, phases.Recover, ""))
	at(74, 0)
	must(s.r.Transition(ctx, alice, s.id, phases.Review, "48 quiet hours"))
	at(76, 0)
	must(s.r.RecordReview(ctx, alice, s.id, ir.NewReview{
		Summary:             "A fake payroll e-mail took a finance officer's password; the attacker reached a second laptop.",
		RootCause:           "Office ran macros from the internet on finance laptops.",
		ContributingFactors: []string{"The gateway let the look-alike sender through"},
		WentWell:            []string{"Reported within the hour", "Memory imaged before eradication"},
		WentPoorly:          []string{"The second laptop was found only during recovery"},
		LessonsLearned:      []string{"Block what users need not run"},
		FollowUps: []ir.NewFollowUp{
			{Title: "Block internet macros on finance laptops", Owner: raj, Due: t0.AddDate(0, 0, 7), Reference: "IT-4411"},
			{Title: "Tune the mail gateway", Owner: ben, Due: t0.AddDate(0, 0, 14)},
		},
	}))
	at(77, 0)
	must(s.r.CompleteFollowUp(ctx, raj, s.id, 1, "GPO applied to every finance laptop"))
	must(s.r.SetVerdict(ctx, alice, s.id, ir.VerdictTruePositive, "One account and two laptops; no payment made."))
	at(78, 0)
	must(s.r.Close(ctx, alice, s.id, "report circulated"))
	at(80, 0)
	must(s.r.AddFollowUp(ctx, alice, s.id, ir.NewFollowUp{Title: "Run a phishing exercise in finance", Due: t0.AddDate(0, 1, 0)}))
	s.clock.Set(t0.AddDate(0, 0, 20))
	return s
}

// deliveries is a delivery store that holds a few records of each kind.
type deliveries struct{ list []notify.Delivery }

func (d deliveries) IncidentDeliveries(_ context.Context, incident string) ([]notify.Delivery, error) {
	var out []notify.Delivery
	for _, dl := range d.list {
		if dl.Incident == incident {
			out = append(out, dl)
		}
	}
	return out, nil
}

// storyDeliveries returns delivery records of the story's messages: the
// opening paged, a status update delivered to the executives' channel,
// one given up on and one held back.
func storyDeliveries(t *testing.T, s *story) deliveries {
	t.Helper()
	var out []notify.Delivery
	add := func(seq int64, channel string, audience notify.Audience, status notify.DeliveryStatus, attempts int, lastErr string) {
		var e ir.Event
		for ev, err := range s.r.AllEvents(context.Background(), s.id) {
			require.NoError(t, err)
			if ev.Seq == seq {
				e = ev
			}
		}
		payload, err := json.Marshal(notify.Message{Event: notify.Event{IncidentID: string(s.id), Seq: seq, Type: string(e.Type), At: e.At,
			Actor: notify.Actor{ID: e.Actor.ID, Name: e.Actor.Name}, Summary: ir.Describe(phases.SANS, e)}, Audience: audience})
		require.NoError(t, err)
		out = append(out, notify.Delivery{ID: int64(len(out) + 1), OutboxID: seq, Key: fmt.Sprintf("%s/%d", s.id, seq),
			Incident: string(s.id), Type: string(e.Type), Channel: channel, Audience: audience, Payload: payload,
			Status: status, Attempts: attempts, CreatedAt: e.At, UpdatedAt: e.At.Add(time.Duration(attempts) * time.Minute),
			LastError: lastErr, Receipt: notify.Receipt{ID: map[bool]string{true: "1709365800.000100"}[status == notify.StatusDelivered]}})
	}
	add(1, "pager", "", notify.StatusDelivered, 1, "")
	add(1, "partner-webhook", "", notify.StatusHeld, 0, "")
	add(15, "exec-mail", notify.AudienceExecutives, notify.StatusDelivered, 2, "")
	add(15, "chat", notify.AudienceExecutives, notify.StatusDead, 12, "notify: endpoint gone: 410 Gone")
	out = append(out, notify.Delivery{ID: 99, Incident: "INC-OTHER", Channel: "pager", Status: notify.StatusDelivered})
	return deliveries{list: out}
}

// golden compares got with the golden file at path, or rewrites it with
// -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run the test %s with -update to write it", t.Name())
	assert.Equal(t, string(want), string(got), "%s differs; run with -update if the change is intended", path)
}

func TestMarkdownGolden(t *testing.T) {
	t.Parallel()
	s := runStory(t)
	doc, err := reviewreport.Gather(context.Background(), reviewreport.Sources{Responder: s.r, Locker: s.locker,
		Deliveries: storyDeliveries(t, s), Clock: s.clock}, s.id)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&out, doc))
	golden(t, filepath.Join("testdata", "review.md.golden"), out.Bytes())
	checkRendersNothingLive(t, out.String())

	// The same document gives the same bytes.
	var again bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&again, doc))
	assert.Equal(t, out.String(), again.String())
}

func TestGather(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := runStory(t)
	doc, err := reviewreport.Gather(ctx, reviewreport.Sources{Responder: s.r, Locker: s.locker,
		Deliveries: storyDeliveries(t, s), Clock: s.clock}, s.id)
	require.NoError(t, err)
	assert.Equal(t, s.id, doc.Incident.ID)
	assert.Same(t, phases.SANS, doc.Model)
	assert.Equal(t, s.clock.Now(), doc.GeneratedAt)
	assert.Len(t, doc.Deliveries, 4, "only the incident's own")
	require.NotEmpty(t, doc.Timeline)
	assert.Equal(t, ir.EventOpened, doc.Timeline[0].Type)
	assert.Equal(t, ir.EventFollowUpAdded, doc.Timeline[len(doc.Timeline)-1].Type)
	require.Len(t, doc.Custody, 1)
	st := doc.Custody["ITEM-1"]
	assert.True(t, st.Verified)
	assert.True(t, st.ContentChecked)
	assert.Empty(t, st.Problems)
	assert.Equal(t, 1, st.Records)
	assert.Equal(t, evidence.ActionCollected, st.Last.Action)

	// Without the optional sources, their parts are left empty.
	doc, err = reviewreport.Gather(ctx, reviewreport.Sources{Responder: s.r}, s.id)
	require.NoError(t, err)
	assert.Nil(t, doc.Custody)
	assert.Nil(t, doc.Deliveries)
	assert.False(t, doc.GeneratedAt.IsZero())
	var out bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&out, doc))
	assert.Contains(t, out.String(), "| not checked |")
	assert.Contains(t, out.String(), "No notification delivery is recorded.")

	_, err = reviewreport.Gather(ctx, reviewreport.Sources{Responder: s.r}, "INC-404")
	assert.ErrorIs(t, err, ir.ErrNotFound)
	_, err = reviewreport.Gather(ctx, reviewreport.Sources{}, s.id)
	assert.ErrorIs(t, err, ir.ErrInvalid)
}

// TestGatherShowsTamperedCustody checks that custody problems found by
// verification are shown against the item.
func TestGatherShowsTamperedCustody(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := runStory(t)
	s.blobs.tampered.Store(true)
	doc, err := reviewreport.Gather(ctx, reviewreport.Sources{Responder: s.r, Locker: s.locker, Clock: s.clock}, s.id)
	require.NoError(t, err)
	st := doc.Custody["ITEM-1"]
	assert.True(t, st.Verified)
	require.Len(t, st.Problems, 1)
	var out bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&out, doc))
	assert.Contains(t, out.String(), "; **1 problem found**: evidence: tampered ")

	// Verifying the log alone does not read the content, and says so.
	doc, err = reviewreport.Gather(ctx, reviewreport.Sources{Responder: s.r, Locker: s.locker, LogOnly: true, Clock: s.clock}, s.id)
	require.NoError(t, err)
	st = doc.Custody["ITEM-1"]
	assert.True(t, st.Verified)
	assert.False(t, st.ContentChecked)
	assert.Empty(t, st.Problems)
	out.Reset()
	require.NoError(t, reviewreport.Markdown(&out, doc))
	assert.Contains(t, out.String(), "; custody log verified intact, content not re-hashed |")
}

func TestMarkdownNeedsAnIncident(t *testing.T) {
	t.Parallel()
	err := reviewreport.Markdown(&bytes.Buffer{}, reviewreport.Document{})
	assert.ErrorIs(t, err, ir.ErrInvalid)
}

func TestMarkdownWriteError(t *testing.T) {
	t.Parallel()
	errFull := errors.New("disk full")
	err := reviewreport.Markdown(failingWriter{errFull}, reviewreport.Document{Incident: &ir.Incident{ID: "INC-1"}})
	assert.ErrorIs(t, err, errFull)
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestMarkdownOfAnOpenIncident checks an incident still open: the current
// stay counts until the document is made, and a follow-up past its due
// date is overdue.
func TestMarkdownOfAnOpenIncident(t *testing.T) {
	t.Parallel()
	opened := t0
	inc := &ir.Incident{ID: "INC-7", Title: "Beaconing", Severity: ir.SeverityLow, Priority: ir.PriorityP4,
		Category: ir.CategoryMalware, TLP: ir.TLPGreen, Model: phases.SANS.Name(), Phase: phases.Identification,
		PhaseHistory: []ir.PhaseInterval{
			{Phase: phases.Preparation, Entered: opened, Left: opened.Add(10 * time.Minute)},
			{Phase: phases.Identification, Action: phases.Identify, Entered: opened.Add(10 * time.Minute)},
		},
		FollowUps: []ir.FollowUp{{ID: 1, Title: "Patch", Due: opened.Add(time.Hour), AddedAt: opened, AddedBy: alice}},
		Times:     ir.Lifecycle{Detected: opened, Reported: opened, Opened: opened, Acknowledged: opened.Add(10 * time.Minute)},
		OpenedBy:  alice, Version: 3}
	var out bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&out, reviewreport.Document{Incident: inc, Model: phases.SANS,
		GeneratedAt: opened.Add(2*time.Hour + 10*time.Minute)}))
	md := out.String()
	for _, want := range []string{
		"- **State:** open, in Identification\n",
		"| 2 | Identification | Start identification | 2026-03-02 08:00:00 | still there | 2h |\n",
		"| Preparation | 1 | 10m |\n| Identification | 1 | 2h |\n",
		"| 1 | Patch | — | 2026-03-02 | — | **overdue** |\n",
		"| Time to acknowledge | detected | acknowledged | 10m |\n",
		"| Time to contain | detected | contained | not reached |\n",
		"No post-incident review has been recorded.",
		"| 2026-03-02 07:50:00 | low (now) | — | — |\n",
	} {
		assert.Contains(t, md, want)
	}
}

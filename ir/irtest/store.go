package irtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// TestStore checks that the stores newStore makes keep the contract of
// [ir.Store]: atomic, versioned writes; timelines numbered from 1; refusal
// of invalid changes; copies handed out; listing with every filter and
// paging; open counts; concurrent writers that never lose an update;
// changes that name the list entries they touch ([ir.Change].Lists) read
// back as full rewrites would, refused when they do not fit the stored
// lists; and cancellation. Every implementation runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		irtest.TestStore(t, func(t *testing.T) ir.Store { return ir.NewMemoryStore() })
//	}
//
// newStore must return a new, empty store each time it is called, and
// release it with t.Cleanup. The suite calls it once per subtest and runs
// subtests in parallel, so the stores it returns must not share incidents.
//
// The suite writes times of microsecond precision in several time zones,
// and compares times by the instant they name: a store may return them in
// UTC, without monotonic clock readings, and at microsecond precision. It
// also treats empty and nil slices as equal.
func TestStore(t *testing.T, newStore func(t *testing.T) ir.Store) {
	s := storeSuite{newStore: newStore}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"ApplyThenGet", s.testApplyThenGet},
		{"Unknown", s.testUnknown},
		{"CreateExisting", s.testCreateExisting},
		{"UpdateNeedsNextVersion", s.testUpdateNeedsNextVersion},
		{"Seq", s.testSeq},
		{"EventData", s.testEventData},
		{"Invalid", s.testInvalid},
		{"Copies", s.testCopies},
		{"ListFilters", s.testListFilters},
		{"ListPaging", s.testListPaging},
		{"ListPagingWhileWriting", s.testListPagingWhileWriting},
		{"ListDefaultPageSize", s.testListDefaultPageSize},
		{"ListInvalidQuery", s.testListInvalidQuery},
		{"ListLatestVersion", s.testListLatestVersion},
		{"TimelinePaging", s.testTimelinePaging},
		{"TimelineDefaultPageSize", s.testTimelineDefaultPageSize},
		{"TimelineInvalidQuery", s.testTimelineInvalidQuery},
		{"TimelineUnknown", s.testTimelineUnknown},
		{"CountOpen", s.testCountOpen},
		{"ConcurrentOpen", s.testConcurrentOpen},
		{"ConcurrentUpdate", s.testConcurrentUpdate},
		{"NoLostUpdates", s.testNoLostUpdates},
		{"ReadsSeeWholeChanges", s.testReadsSeeWholeChanges},
		{"CanceledContext", s.testCanceledContext},
		{"ListChanges", s.testListChanges},
		{"ListChangesRefused", s.testListChangesRefused},
		{"ConcurrentListChanges", s.testConcurrentListChanges},
		{"DueClocks", s.testDueClocks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type storeSuite struct {
	newStore func(t *testing.T) ir.Store
}

// store returns a fresh store for one test.
func (s storeSuite) store(t *testing.T) ir.Store {
	t.Helper()
	st := s.newStore(t)
	require.NotNil(t, st, "newStore returned nil")
	return st
}

// Times the suite writes. They have microsecond precision, because durable
// stores may keep no more, and some are in a zone other than UTC, because
// stores must keep the instant whatever the zone.
var (
	t0   = time.Date(2026, time.March, 2, 9, 15, 30, 123456000, time.UTC)
	zone = time.FixedZone("UTC+05:30", 5*60*60+30*60)
)

// minutes returns the time n minutes after t0.
func minutes(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// Actors of the suite's incidents and events.
var (
	alice = ir.Actor{ID: "alice", Name: "Alice Moreau", Kind: ir.ActorHuman}
	bob   = ir.Actor{ID: "bob", Name: "Bob Ndiaye", Kind: ir.ActorHuman}
	edr   = ir.Actor{ID: "edr-pipeline", Name: "EDR pipeline", Kind: ir.ActorService}
)

func (s storeSuite) testApplyThenGet(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	inc := fullIncident("INC-000001")
	open := OpenChange(inc)
	open.Events[0].Reason = "raised by the mail gateway"
	require.NoError(t, st.Apply(ctx, open))

	got, err := st.Get(ctx, inc.ID)
	require.NoError(t, err)
	requireIncident(t, inc, got)

	page, err := st.List(ctx, ir.Query{})
	require.NoError(t, err)
	require.Len(t, page.Incidents, 1)
	requireIncident(t, inc, page.Incidents[0])

	events, err := ReadTimeline(ctx, st, inc.ID)
	require.NoError(t, err)
	requireEvents(t, timeline(open), events)
}

func (s storeSuite) testUnknown(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	for i, stage := range []string{"an empty store", "a store with another incident"} {
		if i > 0 {
			mustApply(t, st, OpenChange(Incident("INC-000001").Build()))
		}
		_, err := st.Get(ctx, "INC-404")
		require.ErrorIs(t, err, ir.ErrNotFound, "Get of an unknown incident in %s", stage)
		_, err = ReadTimeline(ctx, st, "INC-404")
		require.ErrorIs(t, err, ir.ErrNotFound, "Timeline of an unknown incident in %s", stage)
	}
}

func (s storeSuite) testCreateExisting(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	first := OpenChange(Incident("INC-000001").Title("First").Severity(ir.SeverityLow).Build())
	mustApply(t, st, first)

	again := OpenChange(Incident("INC-000001").Title("Second").Severity(ir.SeverityCritical).Build())
	require.ErrorIs(t, st.Apply(ctx, again), ir.ErrConflict, "creating an incident that exists")
	requireStored(t, st, first.Incident, timeline(first))
}

func (s storeSuite) testUpdateNeedsNextVersion(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	open := OpenChange(Incident("INC-000001").Build())
	mustApply(t, st, open)
	v2 := NextChange(open.Incident, &ir.NoteAdded{Text: "version 2"})
	v2.Incident.Title = "Version 2"
	mustApply(t, st, v2)
	requireStored(t, st, v2.Incident, timeline(open, v2))

	stale := NextChange(open.Incident, &ir.NoteAdded{Text: "version 2 again"})
	stale.Incident.Title = "Stale"
	require.ErrorIs(t, st.Apply(ctx, stale), ir.ErrConflict, "applying version 2 twice")
	requireStored(t, st, v2.Incident, timeline(open, v2))

	v3 := NextChange(v2.Incident, &ir.NoteAdded{Text: "version 3"})
	skip := NextChange(v3.Incident, &ir.NoteAdded{Text: "version 4 before 3"})
	require.ErrorIs(t, st.Apply(ctx, skip), ir.ErrConflict, "skipping a version")
	requireStored(t, st, v2.Incident, timeline(open, v2))

	old := OpenChange(Incident("INC-000001").Title("Version 1 again").Build())
	require.ErrorIs(t, st.Apply(ctx, old), ir.ErrConflict, "applying version 1 over version 2")
	requireStored(t, st, v2.Incident, timeline(open, v2))

	// The refused changes took no sequence numbers.
	mustApply(t, st, v3)
	requireStored(t, st, v3.Incident, timeline(open, v2, v3))

	orphan := NextChange(Incident("INC-000002").Build())
	require.ErrorIs(t, st.Apply(ctx, orphan), ir.ErrConflict, "version 2 of an incident that does not exist")
	_, err := st.Get(ctx, "INC-000002")
	require.ErrorIs(t, err, ir.ErrNotFound, "after refusing version 2 of an incident that does not exist")
	_, err = ReadTimeline(ctx, st, "INC-000002")
	require.ErrorIs(t, err, ir.ErrNotFound, "after refusing version 2 of an incident that does not exist")
}

func (s storeSuite) testSeq(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	a := OpenChange(Incident("INC-000001").Build())
	a.Events[0].Seq = 42 // the store assigns Seq, whatever the caller sets
	b := OpenChange(Incident("INC-000002").Build())
	a2 := NextChange(a.Incident,
		&ir.NoteAdded{Text: "first of three"}, &ir.NoteAdded{Text: "second of three"}, &ir.NoteAdded{Text: "third of three"})
	a2.Events[1].Seq = 7
	b2 := NextChange(b.Incident, &ir.SeverityChanged{From: ir.SeverityMedium, To: ir.SeverityHigh})
	b2.Incident.Severity = ir.SeverityHigh
	a3 := NextChange(a2.Incident, &ir.NoteAdded{Text: "after the three"})
	for _, ch := range []ir.Change{a, b, a2, b2, a3} {
		mustApply(t, st, ch)
	}

	events, err := ReadTimeline(ctx, st, "INC-000001")
	require.NoError(t, err)
	requireEvents(t, timeline(a, a2, a3), events)
	for i, e := range events {
		require.Equal(t, int64(i+1), e.Seq, "Seq of event %d of INC-000001", i)
	}
	events, err = ReadTimeline(ctx, st, "INC-000002")
	require.NoError(t, err)
	requireEvents(t, timeline(b, b2), events)
	for i, e := range events {
		require.Equal(t, int64(i+1), e.Seq, "Seq of event %d of INC-000002", i)
	}
}

func (s storeSuite) testEventData(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	open := OpenChange(fullIncident("INC-000001"))
	changes := []ir.Change{open}
	mustApply(t, st, open)

	// All of them in one change, then one change each.
	all := NextChange(open.Incident, everyEventData()[1:]...)
	mustApply(t, st, all)
	changes = append(changes, all)
	cur := all.Incident
	for _, d := range everyEventData()[1:] {
		ch := NextChange(cur, d)
		ch.Events[0].Reason = fmt.Sprintf("recording %s: naïve reasons survive, ✓", d.EventType())
		ch.Events[0].Actor = edr
		mustApply(t, st, ch)
		changes = append(changes, ch)
		cur = ch.Incident
	}

	got, err := ReadTimeline(ctx, st, open.Incident.ID)
	require.NoError(t, err)
	want := timeline(changes...)
	require.Len(t, got, len(want))
	for i := range want {
		require.IsType(t, want[i].Data, got[i].Data, "data of event %d (%s)", i+1, want[i].Type)
		require.Equal(t, got[i].Type, got[i].Data.EventType(), "type of event %d", i+1)
	}
	requireEvents(t, want, got)

	pc, ok := got[1].Data.(*ir.PhaseChanged)
	require.True(t, ok, "event 2 has data %T, want *ir.PhaseChanged", got[1].Data)
	require.Equal(t, ir.PhaseChanged{Action: phases.Identify, From: phases.Preparation, To: phases.Identification}, *pc)
	last, ok := got[len(got)-1].Data.(*ir.EvidenceCollected)
	require.True(t, ok, "the last event has data %T, want *ir.EvidenceCollected", got[len(got)-1].Data)
	require.Equal(t, "EX-001", last.Evidence.Exhibit)
}

func (s storeSuite) testInvalid(t *testing.T) {
	cases := []struct {
		name string
		// change makes an invalid change from a valid one.
		change func(ch ir.Change) ir.Change
	}{
		{"nil incident", func(ch ir.Change) ir.Change { ch.Incident = nil; return ch }},
		{"empty ID", func(ch ir.Change) ir.Change {
			ch.Incident.ID = ""
			ch.Events[0].IncidentID = ""
			return ch
		}},
		{"version 0", func(ch ir.Change) ir.Change {
			ch.Incident.Version = 0
			ch.Events[0].Version = 0
			return ch
		}},
		{"negative version", func(ch ir.Change) ir.Change {
			ch.Incident.Version = -1
			ch.Events[0].Version = -1
			return ch
		}},
		{"event of another incident", func(ch ir.Change) ir.Change {
			ch.Events[0].IncidentID = "INC-999999"
			return ch
		}},
		{"event of another version", func(ch ir.Change) ir.Change {
			ch.Events[0].Version++
			return ch
		}},
		{"event without data", func(ch ir.Change) ir.Change {
			ch.Events[0].Data = nil
			return ch
		}},
		{"event data of another type", func(ch ir.Change) ir.Change {
			ch.Events[0].Type = ir.EventNoteAdded
			ch.Events[0].Data = &ir.PhaseChanged{Action: phases.Identify, From: phases.Preparation, To: phases.Identification}
			return ch
		}},
		{"typed nil event data", func(ch ir.Change) ir.Change {
			ch.Events[0].Data = (*ir.Opened)(nil)
			return ch
		}},
		{"no event", func(ch ir.Change) ir.Change {
			ch.Events = nil
			return ch
		}},
		{"second event invalid", func(ch ir.Change) ir.Change {
			bad := ch.Events[0]
			bad.Type = ir.EventSeverityChanged
			ch.Events = append(ch.Events, bad)
			return ch
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/create", func(t *testing.T) {
			t.Parallel()
			st := s.store(t)
			ctx := t.Context()
			other := OpenChange(Incident("INC-000001").Build())
			mustApply(t, st, other)

			ch := tc.change(OpenChange(Incident("INC-000002").Build()))
			require.ErrorIs(t, st.Apply(ctx, ch), ir.ErrInvalid)
			for _, id := range []ir.ID{"INC-000002", "INC-999999", ""} {
				_, err := st.Get(ctx, id)
				require.ErrorIs(t, err, ir.ErrNotFound, "Get(%q) after an invalid change", id)
				_, err = ReadTimeline(ctx, st, id)
				require.ErrorIs(t, err, ir.ErrNotFound, "Timeline(%q) after an invalid change", id)
			}
			requireStored(t, st, other.Incident, timeline(other))
			page, err := st.List(ctx, ir.Query{})
			require.NoError(t, err)
			require.Equal(t, []ir.ID{"INC-000001"}, ids(page.Incidents))
		})
		t.Run(tc.name+"/update", func(t *testing.T) {
			t.Parallel()
			st := s.store(t)
			ctx := t.Context()
			open := OpenChange(Incident("INC-000002").Build())
			mustApply(t, st, open)

			next := NextChange(open.Incident, &ir.NoteAdded{Text: "valid"})
			ch := tc.change(NextChange(open.Incident, &ir.NoteAdded{Text: "invalid"}))
			require.ErrorIs(t, st.Apply(ctx, ch), ir.ErrInvalid)
			requireStored(t, st, open.Incident, timeline(open))
			mustApply(t, st, next)
			requireStored(t, st, next.Incident, timeline(open, next))
		})
	}
}

func (s storeSuite) testCopies(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	open := OpenChange(fullIncident("INC-000001"))
	next := NextChange(open.Incident,
		&ir.DecisionRecorded{Decision: ir.Decision{ID: 3, Summary: "Reset passwords", Options: []string{"now", "tonight"},
			Rationale: "Limit exposure", DecidedAt: minutes(20), DecidedBy: alice}},
		&ir.ImpactAssessed{Impact: ir.Impact{Functional: ir.FunctionalLow,
			Information: []ir.InformationImpact{ir.InformationPrivacyBreach}}},
		&ir.ReviewRecorded{Review: ir.Review{Summary: "Phished", WentWell: []string{"Fast report"}, Revision: 1,
			RecordedAt: minutes(30), RecordedBy: alice}})
	wantEvents := timeline(open, next)
	wantInc := next.Incident.Clone()

	// What the caller passed to Apply stays the caller's.
	require.NoError(t, st.Apply(ctx, open))
	require.NoError(t, st.Apply(ctx, next))
	for _, ch := range []ir.Change{open, next} {
		scribble(ch.Incident)
		for i := range ch.Events {
			scribbleEvent(&ch.Events[i])
		}
	}
	requireStored(t, st, wantInc, wantEvents)

	// What the store returns is the caller's.
	got, err := st.Get(ctx, wantInc.ID)
	require.NoError(t, err)
	scribble(got)
	requireStored(t, st, wantInc, wantEvents)

	page, err := st.List(ctx, ir.Query{})
	require.NoError(t, err)
	require.Len(t, page.Incidents, 1)
	scribble(page.Incidents[0])
	requireStored(t, st, wantInc, wantEvents)
	page, err = st.List(ctx, ir.Query{})
	require.NoError(t, err)
	require.Len(t, page.Incidents, 1)
	requireIncident(t, wantInc, page.Incidents[0])

	events, err := ReadTimeline(ctx, st, wantInc.ID)
	require.NoError(t, err)
	for i := range events {
		scribbleEvent(&events[i])
	}
	requireStored(t, st, wantInc, wantEvents)
}

// scribble changes every part of inc that a shallow copy would share.
func scribble(inc *ir.Incident) {
	inc.Title = "scribbled"
	inc.Version = 99
	inc.Times.Opened = time.Time{}
	inc.PhaseHistory[0].Phase = "scribbled"
	inc.PhaseHistory = append(inc.PhaseHistory, ir.PhaseInterval{Phase: "scribbled"})
	inc.Impact.Information[0] = "scribbled"
	inc.Assets[0].Name = "scribbled"
	inc.Observables[0].Value = "scribbled"
	inc.Participants[0].Actor.Name = "scribbled"
	inc.Tasks[0].Title = "scribbled"
	inc.Decisions[0].Summary = "scribbled"
	inc.Decisions[0].Options[0] = "scribbled"
	inc.Labels[0] = "scribbled"
	inc.Labels = append(inc.Labels, "scribbled")
	inc.Review.RootCause = "scribbled"
	inc.Review.LessonsLearned[0] = "scribbled"
	inc.FollowUps[0].Title = "scribbled"
}

// scribbleEvent changes e and every part of its data.
func scribbleEvent(e *ir.Event) {
	e.Reason = "scribbled"
	e.Actor.Name = "scribbled"
	switch d := e.Data.(type) {
	case *ir.Opened:
		d.Title = "scribbled"
	case *ir.NoteAdded:
		d.Text = "scribbled"
	case *ir.DecisionRecorded:
		d.Decision.Summary = "scribbled"
		d.Decision.Options[0] = "scribbled"
	case *ir.ImpactAssessed:
		d.Impact.Functional = "scribbled"
		d.Impact.Information[0] = "scribbled"
	case *ir.ReviewRecorded:
		d.Review.Summary = "scribbled"
		d.Review.WentWell[0] = "scribbled"
	}
}

func (s storeSuite) testListFilters(t *testing.T) {
	st := s.store(t)
	fixture := listFixture()
	for _, inc := range fixture {
		mustApply(t, st, OpenChange(inc))
	}
	// The expectations below are written out rather than computed with
	// ir.Query.Matches, so that they check it too.
	at := listOpened
	cases := []struct {
		name string
		q    ir.Query
		want func(inc *ir.Incident) bool
		none bool // the query selects nothing
	}{
		{"all", ir.Query{}, func(*ir.Incident) bool { return true }, false},
		{"one phase", ir.Query{Phases: []phases.Phase{phases.Containment}},
			func(inc *ir.Incident) bool { return inc.Phase == phases.Containment }, false},
		{"two phases", ir.Query{Phases: []phases.Phase{phases.Identification, phases.Recovery}},
			func(inc *ir.Incident) bool { return inc.Phase != phases.Containment }, false},
		{"phase nobody is in", ir.Query{Phases: []phases.Phase{phases.LessonsLearned}},
			func(*ir.Incident) bool { return false }, true},
		{"one severity", ir.Query{Severities: []ir.Severity{ir.SeverityCritical}},
			func(inc *ir.Incident) bool { return inc.Severity == ir.SeverityCritical }, false},
		{"two severities", ir.Query{Severities: []ir.Severity{ir.SeverityLow, ir.SeverityHigh}},
			func(inc *ir.Incident) bool {
				return inc.Severity == ir.SeverityLow || inc.Severity == ir.SeverityHigh
			}, false},
		{"one label", ir.Query{Labels: []string{"even"}},
			func(inc *ir.Incident) bool { return slices.Contains(inc.Labels, "even") }, false},
		{"every label must match", ir.Query{Labels: []string{"even", "five"}},
			func(inc *ir.Incident) bool {
				return slices.Contains(inc.Labels, "even") && slices.Contains(inc.Labels, "five")
			}, false},
		{"label nobody has", ir.Query{Labels: []string{"even", "nobody"}},
			func(*ir.Incident) bool { return false }, true},
		{"open", ir.Query{Status: ir.StatusOpen},
			func(inc *ir.Incident) bool { return inc.Times.Closed.IsZero() }, false},
		{"closed", ir.Query{Status: ir.StatusClosed},
			func(inc *ir.Incident) bool { return !inc.Times.Closed.IsZero() }, false},
		{"opened at or after", ir.Query{OpenedAfter: at(10)},
			func(inc *ir.Incident) bool { return !inc.Times.Opened.Before(at(10)) }, false},
		{"opened before", ir.Query{OpenedBefore: at(10)},
			func(inc *ir.Incident) bool { return inc.Times.Opened.Before(at(10)) }, false},
		{"opened between", ir.Query{OpenedAfter: at(10), OpenedBefore: at(20)},
			func(inc *ir.Incident) bool {
				return !inc.Times.Opened.Before(at(10)) && inc.Times.Opened.Before(at(20))
			}, false},
		{"opened between, in another zone", ir.Query{OpenedAfter: at(10).In(zone), OpenedBefore: at(20).In(zone)},
			func(inc *ir.Incident) bool {
				return !inc.Times.Opened.Before(at(10)) && inc.Times.Opened.Before(at(20))
			}, false},
		{"opened in the first microsecond", ir.Query{OpenedAfter: at(10), OpenedBefore: at(10).Add(time.Microsecond)},
			func(inc *ir.Incident) bool { return inc.ID == listID(10) }, false},
		{"severity, status, label and time", ir.Query{
			Severities:  []ir.Severity{ir.SeverityHigh, ir.SeverityCritical},
			Status:      ir.StatusOpen,
			Labels:      []string{"even"},
			OpenedAfter: at(14),
		}, func(inc *ir.Incident) bool {
			return (inc.Severity == ir.SeverityHigh || inc.Severity == ir.SeverityCritical) &&
				inc.Times.Closed.IsZero() && slices.Contains(inc.Labels, "even") && !inc.Times.Opened.Before(at(14))
		}, false},
		{"phase and closed", ir.Query{Phases: []phases.Phase{phases.Identification}, Status: ir.StatusClosed},
			func(inc *ir.Incident) bool { return inc.Phase == phases.Identification && !inc.Times.Closed.IsZero() }, false},
		{"phase, severity and label", ir.Query{
			Phases:     []phases.Phase{phases.Containment, phases.Recovery},
			Severities: []ir.Severity{ir.SeverityMedium, ir.SeverityCritical},
			Labels:     []string{"five"},
		}, func(inc *ir.Incident) bool {
			return inc.Phase != phases.Identification &&
				(inc.Severity == ir.SeverityMedium || inc.Severity == ir.SeverityCritical) &&
				slices.Contains(inc.Labels, "five")
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := wantIDs(fixture, tc.want)
			if tc.none {
				require.Empty(t, want, "the fixture should have no match")
			} else {
				require.NotEmpty(t, want, "the fixture should have a match")
			}

			page, err := st.List(t.Context(), tc.q)
			require.NoError(t, err)
			require.Equal(t, want, ids(page.Incidents), "one page of the default size")
			require.Empty(t, page.Next, "Next after the only page")
			if tc.name == "all" {
				for i, inc := range page.Incidents {
					requireIncident(t, byID(fixture, want[i]), inc)
				}
			}

			q := tc.q
			q.Limit = 3
			require.Equal(t, want, listAll(t, st, q), "paging by 3")
		})
	}
}

func (s storeSuite) testListPaging(t *testing.T) {
	st := s.store(t)
	fixture := listFixture()
	for _, inc := range fixture {
		mustApply(t, st, OpenChange(inc))
	}
	all := wantIDs(fixture, func(*ir.Incident) bool { return true })
	for _, limit := range []int{1, 2, 7, 29, 30, 31, ir.MaxPageSize} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, all, listAll(t, st, ir.Query{Limit: limit}))
		})
	}
	t.Run("filtered", func(t *testing.T) {
		t.Parallel()
		q := ir.Query{Status: ir.StatusOpen, Labels: []string{"even"}, Limit: 2}
		want := wantIDs(fixture, func(inc *ir.Incident) bool {
			return inc.Times.Closed.IsZero() && slices.Contains(inc.Labels, "even")
		})
		require.Greater(t, len(want), 2*q.Limit)
		require.Equal(t, want, listAll(t, st, q))
	})
}

func (s storeSuite) testListPagingWhileWriting(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	fixture := listFixture()
	for _, inc := range fixture {
		mustApply(t, st, OpenChange(inc))
	}
	all := wantIDs(fixture, func(*ir.Incident) bool { return true })

	q := ir.Query{Limit: 5}
	first, err := st.List(ctx, q)
	require.NoError(t, err)
	require.Equal(t, all[:5], ids(first.Incidents))
	require.NotEmpty(t, first.Next)

	// Newer incidents and changes to listed and unlisted ones must not
	// shift the pages still to come.
	for i := 31; i <= 33; i++ {
		mustApply(t, st, OpenChange(Incident(listID(i)).Opened(listOpened(i)).Build()))
	}
	for _, id := range []ir.ID{all[0], all[10]} {
		cur := byID(fixture, id)
		ch := NextChange(cur, &ir.SeverityChanged{From: cur.Severity, To: ir.SeverityCritical})
		ch.Incident.Severity = ir.SeverityCritical
		mustApply(t, st, ch)
	}
	q.After = first.Next
	rest := listAll(t, st, q)
	require.Equal(t, all[5:], rest, "pages after the first")
}

func (s storeSuite) testListDefaultPageSize(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	n := ir.DefaultPageSize + 5
	var all []ir.ID
	for i := n; i >= 1; i-- {
		mustApply(t, st, OpenChange(Incident(listID(i)).Build()))
		all = append(all, listID(i))
	}

	page, err := st.List(ctx, ir.Query{})
	require.NoError(t, err)
	require.Equal(t, all[:ir.DefaultPageSize], ids(page.Incidents), "first page of the default size")
	require.NotEmpty(t, page.Next)
	page, err = st.List(ctx, ir.Query{After: page.Next})
	require.NoError(t, err)
	require.Equal(t, all[ir.DefaultPageSize:], ids(page.Incidents), "second page of the default size")
	require.Empty(t, page.Next)

	page, err = st.List(ctx, ir.Query{Limit: ir.MaxPageSize})
	require.NoError(t, err)
	require.Equal(t, all, ids(page.Incidents), "one page of the largest size")
	require.Empty(t, page.Next)
}

func (s storeSuite) testListInvalidQuery(t *testing.T) {
	st := s.store(t)
	mustApply(t, st, OpenChange(Incident("INC-000001").Build()))
	cases := []struct {
		name string
		q    ir.Query
	}{
		{"limit above the maximum", ir.Query{Limit: ir.MaxPageSize + 1}},
		{"negative limit", ir.Query{Limit: -1}},
		{"unknown status", ir.Query{Status: "pending"}},
		{"unknown severity", ir.Query{Severities: []ir.Severity{ir.SeverityHigh, "severe"}}},
		{"empty time range", ir.Query{OpenedAfter: minutes(10), OpenedBefore: minutes(10)}},
		{"reversed time range", ir.Query{OpenedAfter: minutes(20), OpenedBefore: minutes(10)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := st.List(t.Context(), tc.q)
			require.ErrorIs(t, err, ir.ErrInvalid)
		})
	}
}

func (s storeSuite) testListLatestVersion(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	a := OpenChange(Incident("INC-000001").Severity(ir.SeverityLow).Build())
	b := OpenChange(Incident("INC-000002").Severity(ir.SeverityLow).Phase(phases.Recovery).Labels("triage", "mail").Build())
	mustApply(t, st, a)
	mustApply(t, st, b)

	a2 := NextChange(a.Incident, &ir.SeverityChanged{From: ir.SeverityLow, To: ir.SeverityCritical})
	a2.Incident.Severity = ir.SeverityCritical
	a2.Incident.Labels = []string{"escalated"}
	mustApply(t, st, a2)
	b2 := NextChange(b.Incident, &ir.PhaseChanged{Action: phases.Close, From: phases.Recovery, To: phases.Closed})
	b2.Incident.Phase = phases.Closed
	b2.Incident.Times.Resolved = b2.Incident.UpdatedAt
	b2.Incident.Times.Closed = b2.Incident.UpdatedAt
	b2.Incident.Labels = []string{"mail"}
	mustApply(t, st, b2)

	page, err := st.List(ctx, ir.Query{})
	require.NoError(t, err)
	require.Len(t, page.Incidents, 2)
	requireIncident(t, b2.Incident, page.Incidents[0])
	requireIncident(t, a2.Incident, page.Incidents[1])

	for _, c := range []struct {
		q    ir.Query
		want []ir.ID
	}{
		{ir.Query{Severities: []ir.Severity{ir.SeverityCritical}}, []ir.ID{"INC-000001"}},
		{ir.Query{Severities: []ir.Severity{ir.SeverityLow}}, []ir.ID{"INC-000002"}},
		{ir.Query{Labels: []string{"escalated"}}, []ir.ID{"INC-000001"}},
		{ir.Query{Labels: []string{"triage"}}, nil},
		{ir.Query{Labels: []string{"mail"}}, []ir.ID{"INC-000002"}},
		{ir.Query{Labels: []string{"mail", "triage"}}, nil},
		{ir.Query{Status: ir.StatusOpen}, []ir.ID{"INC-000001"}},
		{ir.Query{Status: ir.StatusClosed}, []ir.ID{"INC-000002"}},
		{ir.Query{Phases: []phases.Phase{phases.Recovery}}, nil},
		{ir.Query{Phases: []phases.Phase{phases.Closed}}, []ir.ID{"INC-000002"}},
	} {
		page, err := st.List(ctx, c.q)
		require.NoError(t, err)
		require.Equal(t, c.want, ids(page.Incidents), "query %+v", c.q)
	}
}

func (s storeSuite) testCountOpen(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	counts, err := st.CountOpen(ctx)
	require.NoError(t, err)
	require.Empty(t, counts, "an empty store")

	mk := func(id ir.ID, sev ir.Severity, p phases.Phase) *IncidentBuilder {
		return Incident(id).Severity(sev).Phase(p)
	}
	for _, b := range []*IncidentBuilder{
		mk("INC-000001", ir.SeverityHigh, phases.Identification),
		mk("INC-000002", ir.SeverityHigh, phases.Identification),
		mk("INC-000003", ir.SeverityHigh, phases.Containment),
		mk("INC-000004", ir.SeverityLow, phases.Identification),
		mk("INC-000005", ir.SeverityCritical, phases.Closed).Closed(minutes(60)),
		// Closed is a time, not a phase: this one is closed.
		mk("INC-000006", ir.SeverityHigh, phases.Identification).Closed(minutes(60)),
	} {
		mustApply(t, st, OpenChange(b.Build()))
	}

	// Counts follow the latest version.
	escalated := OpenChange(mk("INC-000007", ir.SeverityMedium, phases.Containment).Build())
	mustApply(t, st, escalated)
	ch := NextChange(escalated.Incident, &ir.SeverityChanged{From: ir.SeverityMedium, To: ir.SeverityCritical})
	ch.Incident.Severity = ir.SeverityCritical
	mustApply(t, st, ch)

	closing := OpenChange(mk("INC-000008", ir.SeverityHigh, phases.LessonsLearned).Build())
	mustApply(t, st, closing)
	ch = NextChange(closing.Incident, &ir.PhaseChanged{Action: phases.Close, From: phases.LessonsLearned, To: phases.Closed})
	ch.Incident.Phase = phases.Closed
	ch.Incident.Times.Resolved, ch.Incident.Times.Closed = ch.Incident.UpdatedAt, ch.Incident.UpdatedAt
	mustApply(t, st, ch)

	reopened := OpenChange(mk("INC-000009", ir.SeverityLow, phases.Closed).Closed(minutes(60)).Build())
	mustApply(t, st, reopened)
	ch = NextChange(reopened.Incident, &ir.PhaseChanged{Action: phases.Reopen, From: phases.Closed, To: phases.Identification})
	ch.Incident.Phase = phases.Identification
	ch.Incident.Times.Resolved, ch.Incident.Times.Closed = time.Time{}, time.Time{}
	mustApply(t, st, ch)

	// A group that empties is left out; a change that moves no incident
	// between groups counts nothing twice.
	moved := OpenChange(mk("INC-000010", ir.SeverityMedium, phases.Eradication).Build())
	mustApply(t, st, moved)
	ch = NextChange(moved.Incident, &ir.PhaseChanged{Action: phases.Recover, From: phases.Eradication, To: phases.Recovery})
	ch.Incident.Phase = phases.Recovery
	mustApply(t, st, ch)
	mustApply(t, st, NextChange(ch.Incident))
	noted, err := st.Get(ctx, "INC-000001")
	require.NoError(t, err)
	mustApply(t, st, NextChange(noted))

	counts, err = st.CountOpen(ctx)
	require.NoError(t, err)
	want := []ir.OpenCount{
		{Severity: ir.SeverityCritical, Phase: phases.Containment, Count: 1},
		{Severity: ir.SeverityHigh, Phase: phases.Containment, Count: 1},
		{Severity: ir.SeverityHigh, Phase: phases.Identification, Count: 2},
		{Severity: ir.SeverityMedium, Phase: phases.Recovery, Count: 1},
		{Severity: ir.SeverityLow, Phase: phases.Identification, Count: 2},
	}
	counts = slices.Clone(counts)
	ir.SortOpenCounts(counts) // the contract sets no order
	require.Equal(t, want, counts)
}

func (s storeSuite) testConcurrentOpen(t *testing.T) {
	st := s.store(t)
	const writers = 16
	changes := make([]ir.Change, writers)
	for i := range changes {
		changes[i] = OpenChange(Incident("INC-000001").Title(fmt.Sprintf("Opened by writer %d", i)).Build())
	}
	winner := raceApply(t, st, changes)
	requireStored(t, st, changes[winner].Incident, timeline(changes[winner]))
}

func (s storeSuite) testConcurrentUpdate(t *testing.T) {
	st := s.store(t)
	open := OpenChange(Incident("INC-000001").Build())
	mustApply(t, st, open)
	const writers = 16
	changes := make([]ir.Change, writers)
	for i := range changes {
		changes[i] = NextChange(open.Incident, &ir.NoteAdded{Text: fmt.Sprintf("note by writer %d", i)})
		changes[i].Incident.Title = fmt.Sprintf("Changed by writer %d", i)
	}
	winner := raceApply(t, st, changes)
	requireStored(t, st, changes[winner].Incident, timeline(open, changes[winner]))
}

// raceApply applies every change at once, each from its own goroutine,
// checks that exactly one succeeds and the others fail with
// [ir.ErrConflict], and returns the index of the one that succeeded.
func raceApply(t *testing.T, st ir.Store, changes []ir.Change) int {
	t.Helper()
	ctx := t.Context()
	errs := make([]error, len(changes))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, ch := range changes {
		wg.Go(func() {
			<-start
			errs[i] = st.Apply(ctx, ch)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, ir.ErrConflict, "writer %d lost the race", i)
			continue
		}
		require.Equal(t, -1, winner, "writers %d and %d both wrote version %d", winner, i, changes[i].Incident.Version)
		winner = i
	}
	require.NotEqual(t, -1, winner, "no writer succeeded")
	return winner
}

func (s storeSuite) testNoLostUpdates(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	open := OpenChange(Incident("INC-000001").Build())
	mustApply(t, st, open)
	mustApply(t, st, NextChange(open.Incident))

	const writers = 16
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { errs[i] = addLabelAndNote(ctx, st, "INC-000001", i) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}

	got, err := st.Get(ctx, "INC-000001")
	require.NoError(t, err)
	require.Equal(t, int64(2+writers), got.Version)
	var wantLabels, wantNotes []string
	for i := range writers {
		wantLabels = append(wantLabels, fmt.Sprintf("writer-%d", i))
		wantNotes = append(wantNotes, fmt.Sprintf("note by writer %d", i))
	}
	require.ElementsMatch(t, wantLabels, got.Labels, "every writer's label, once")

	events, err := ReadTimeline(ctx, st, "INC-000001")
	require.NoError(t, err)
	require.Len(t, events, 2+writers)
	var notes []string
	for i, e := range events {
		require.Equal(t, int64(i+1), e.Seq, "Seq of event %d", i+1)
		require.Equal(t, int64(i+1), e.Version, "Version of event %d", i+1)
		if i >= 2 {
			note, ok := e.Data.(*ir.NoteAdded)
			require.True(t, ok, "event %d has data %T, want *ir.NoteAdded", i+1, e.Data)
			notes = append(notes, note.Text)
		}
	}
	require.ElementsMatch(t, wantNotes, notes, "every writer's note, once")
}

// addLabelAndNote adds a label and a note to the incident, as a Responder
// would: read, change, write, and again on conflict.
func addLabelAndNote(ctx context.Context, st ir.Store, id ir.ID, writer int) error {
	for range 1000 {
		cur, err := st.Get(ctx, id)
		if err != nil {
			return err
		}
		ch := NextChange(cur, &ir.NoteAdded{Text: fmt.Sprintf("note by writer %d", writer)})
		ch.Incident.Labels = append(ch.Incident.Labels, fmt.Sprintf("writer-%d", writer))
		err = st.Apply(ctx, ch)
		if !errors.Is(err, ir.ErrConflict) {
			return err
		}
	}
	return errors.New("still in conflict after 1000 attempts")
}

func (s storeSuite) testReadsSeeWholeChanges(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	open := OpenChange(Incident("INC-000001").Build())
	mustApply(t, st, open)

	// Every change after the first writes two events, so version v comes
	// with 2v-1 events. Readers must never see a change half written.
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(done)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if !readWholeChanges(ctx, t, st, "INC-000001") {
					return
				}
			}
		})
	}
	cur := open.Incident
	for i := range 30 {
		ch := NextChange(cur, &ir.NoteAdded{Text: fmt.Sprintf("change %d, first", i)},
			&ir.NoteAdded{Text: fmt.Sprintf("change %d, second", i)})
		mustApply(t, st, ch)
		cur = ch.Incident
	}
}

// readWholeChanges reads the incident and its timeline in both orders and
// reports whether they agree with the changes having been written whole.
// It runs on its own goroutine, so it reports failures with assert.
func readWholeChanges(ctx context.Context, t *testing.T, st ir.Store, id ir.ID) bool {
	inc, err := st.Get(ctx, id)
	if !assert.NoError(t, err) {
		return false
	}
	events, err := ReadTimeline(ctx, st, id)
	if !assert.NoError(t, err) {
		return false
	}
	if !assert.GreaterOrEqual(t, len(events), int(2*inc.Version-1), "timeline read after version %d", inc.Version) {
		return false
	}
	if !assert.Equal(t, 1, len(events)%2, "a timeline with half a change") {
		return false
	}
	for i, e := range events {
		if !assert.Equal(t, int64(i+1), e.Seq) || !assert.Equal(t, int64((i+1)/2+1), e.Version, "version of event %d", i+1) {
			return false
		}
	}
	inc, err = st.Get(ctx, id)
	if !assert.NoError(t, err) {
		return false
	}
	if !assert.GreaterOrEqual(t, int(2*inc.Version-1), len(events), "version read after %d events", len(events)) {
		return false
	}
	_, err = st.List(ctx, ir.Query{})
	if !assert.NoError(t, err) {
		return false
	}
	_, err = st.CountOpen(ctx)
	return assert.NoError(t, err)
}

func (s storeSuite) testCanceledContext(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel := context.WithTimeout(ctx, -time.Second)
	defer cancel()

	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{canceled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		open := OpenChange(Incident("INC-000001").Build())
		err := st.Apply(c.ctx, open)
		require.ErrorIs(t, err, c.want, "Apply of a new incident")
		_, err = st.Get(ctx, "INC-000001")
		require.ErrorIs(t, err, ir.ErrNotFound, "Get after a cancelled Apply")
		_, err = ReadTimeline(ctx, st, "INC-000001")
		require.ErrorIs(t, err, ir.ErrNotFound, "Timeline after a cancelled Apply")
	}

	open := OpenChange(Incident("INC-000001").Build())
	mustApply(t, st, open)
	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{canceled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		next := NextChange(open.Incident)
		require.ErrorIs(t, st.Apply(c.ctx, next), c.want, "Apply of an update")
		requireStored(t, st, open.Incident, timeline(open))

		_, err := st.Get(c.ctx, "INC-000001")
		require.ErrorIs(t, err, c.want, "Get")
		_, err = st.List(c.ctx, ir.Query{})
		require.ErrorIs(t, err, c.want, "List")
		_, err = ReadTimeline(c.ctx, st, "INC-000001")
		require.ErrorIs(t, err, c.want, "Timeline")
		_, err = st.CountOpen(c.ctx)
		require.ErrorIs(t, err, c.want, "CountOpen")
	}
	mustApply(t, st, NextChange(open.Incident))
}

// mustApply applies ch with a live context.
func mustApply(t *testing.T, st ir.Store, ch ir.Change) {
	t.Helper()
	require.NoError(t, st.Apply(t.Context(), ch), "apply version %d of %s", ch.Incident.Version, ch.Incident.ID)
}

// requireStored checks that st holds want and its timeline wantEvents.
func requireStored(t *testing.T, st ir.Store, want *ir.Incident, wantEvents []ir.Event) {
	t.Helper()
	got, err := st.Get(t.Context(), want.ID)
	require.NoError(t, err)
	requireIncident(t, want, got)
	events, err := ReadTimeline(t.Context(), st, want.ID)
	require.NoError(t, err)
	requireEvents(t, wantEvents, events)
}

// requireIncident checks that got is want, as a store may return it.
func requireIncident(t *testing.T, want, got *ir.Incident) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, canonicalIncident(want), canonicalIncident(got), "incident %s", want.ID)
}

// requireEvents checks that got are the events want, as a store may return
// them.
func requireEvents(t *testing.T, want, got []ir.Event) {
	t.Helper()
	require.Equal(t, canonicalEvents(want), canonicalEvents(got))
}

// timeline returns the timeline that applying changes in order makes: their
// events, numbered from 1.
func timeline(changes ...ir.Change) []ir.Event {
	var out []ir.Event
	for _, ch := range changes {
		for _, e := range ch.Events {
			e = e.Clone()
			e.Seq = int64(len(out) + 1)
			out = append(out, e)
		}
	}
	return out
}

// canonicalIncident returns a copy of inc in the form the suite compares.
func canonicalIncident(inc *ir.Incident) *ir.Incident {
	c := inc.Clone()
	if c != nil {
		canonicalize(reflect.ValueOf(c).Elem())
	}
	return c
}

// canonicalEvents returns a copy of events in the form the suite compares.
func canonicalEvents(events []ir.Event) []ir.Event {
	out := make([]ir.Event, len(events))
	for i, e := range events {
		out[i] = e.Clone()
	}
	canonicalize(reflect.ValueOf(out))
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// canonicalize rewrites, in place, what stores may legitimately change in
// what they return: every time becomes UTC without a monotonic clock
// reading, and every empty slice nil.
func canonicalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			canonicalize(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC().Round(0)))
			}
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				canonicalize(f)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if v.CanSet() {
				v.SetZero()
			}
			return
		}
		for i := range v.Len() {
			canonicalize(v.Index(i))
		}
	}
}

// ids returns the IDs of incs, in order.
func ids(incs []*ir.Incident) []ir.ID {
	var out []ir.ID
	for _, inc := range incs {
		out = append(out, inc.ID)
	}
	return out
}

// listAll lists every incident q selects, page by page from q.After, and
// returns their IDs in the order listed. It checks every page on the way:
// none larger than the limit, every page but the last one full, and no
// incident twice.
func listAll(t *testing.T, st ir.Store, q ir.Query) []ir.ID {
	t.Helper()
	limit := q.Limit
	if limit == 0 {
		limit = ir.DefaultPageSize
	}
	var out []ir.ID
	seen := make(map[ir.ID]bool)
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, 10000, "the listing does not end")
		page, err := st.List(t.Context(), q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Incidents), limit, "page %d is larger than the limit", pages)
		for _, inc := range page.Incidents {
			require.False(t, seen[inc.ID], "incident %s listed twice", inc.ID)
			seen[inc.ID] = true
			out = append(out, inc.ID)
		}
		if page.Next == "" {
			return out
		}
		require.Len(t, page.Incidents, limit, "page %d is followed by another but not full", pages)
		q.After = page.Next
	}
}

// listID returns the ID of the i-th incident of the listing tests.
func listID(i int) ir.ID { return ir.ID(fmt.Sprintf("INC-%06d", i)) }

// listOpened returns when the i-th incident of the listing tests was
// opened: a whole number of hours after t0, in an order unlike that of
// their IDs, so that a store listing by time instead of ID is caught.
func listOpened(i int) time.Time { return t0.Add(time.Duration((i*7)%30) * time.Hour) }

// listFixture returns the 30 incidents of the listing tests, INC-000001 to
// INC-000030, in a shuffled order to write them in. Incident i has severity
// i%4 (low to critical), phase i%3 (identification, containment,
// recovery), the labels "even", "three" and "five" when 2, 3 or 5 divides
// i, and is closed when i%7 is 3.
func listFixture() []*ir.Incident {
	severities := []ir.Severity{ir.SeverityLow, ir.SeverityMedium, ir.SeverityHigh, ir.SeverityCritical}
	phaseOf := []phases.Phase{phases.Identification, phases.Containment, phases.Recovery}
	const n = 30
	out := make([]*ir.Incident, 0, n)
	for k := range n {
		i := (k*11)%n + 1
		var labels []string
		for _, l := range []struct {
			name string
			div  int
		}{{"even", 2}, {"three", 3}, {"five", 5}} {
			if i%l.div == 0 {
				labels = append(labels, l.name)
			}
		}
		b := Incident(listID(i)).Severity(severities[i%4]).Phase(phaseOf[i%3]).Labels(labels...).Opened(listOpened(i))
		if i%7 == 3 {
			b.Closed(listOpened(i).Add(90 * time.Minute))
		}
		out = append(out, b.Build())
	}
	return out
}

// wantIDs returns the IDs of the incidents keep keeps, newest first.
func wantIDs(incs []*ir.Incident, keep func(*ir.Incident) bool) []ir.ID {
	var out []ir.ID
	for _, inc := range incs {
		if keep(inc) {
			out = append(out, inc.ID)
		}
	}
	slices.SortFunc(out, func(a, b ir.ID) int { return strings.Compare(string(b), string(a)) })
	return out
}

// byID returns the incident of incs with the given ID.
func byID(incs []*ir.Incident, id ir.ID) *ir.Incident {
	for _, inc := range incs {
		if inc.ID == id {
			return inc
		}
	}
	panic("irtest: no incident " + string(id) + " in the fixture")
}

// fullIncident returns an incident with every field set, each time
// distinct, to check that a store keeps all of it. It is closed, at
// version 1.
func fullIncident(id ir.ID) *ir.Incident {
	at := minutes
	return Incident(id).
		Title("Credential phishing against finance").
		Severity(ir.SeverityHigh).
		Labels("finance", "phishing", "mail: gateway/β").
		Opened(at(0)).
		PhaseHistory(
			ir.PhaseInterval{Phase: phases.Preparation, Entered: at(0), Left: at(3)},
			ir.PhaseInterval{Phase: phases.Identification, Action: phases.Identify, Entered: at(3), Left: at(31)},
			ir.PhaseInterval{Phase: phases.Containment, Action: phases.Contain, Entered: at(31).In(zone), Left: at(92)},
			ir.PhaseInterval{Phase: phases.Eradication, Action: phases.Eradicate, Entered: at(92), Left: at(241)},
			ir.PhaseInterval{Phase: phases.Containment, Action: phases.ReturnToContainment, Entered: at(241), Left: at(300)},
			ir.PhaseInterval{Phase: phases.Eradication, Action: phases.Eradicate, Entered: at(300), Left: at(420)},
			ir.PhaseInterval{Phase: phases.Recovery, Action: phases.Recover, Entered: at(420), Left: at(605)},
			ir.PhaseInterval{Phase: phases.LessonsLearned, Action: phases.Review, Entered: at(605), Left: at(1500)},
			ir.PhaseInterval{Phase: phases.Closed, Action: phases.Close, Entered: at(1500)},
		).
		With(func(inc *ir.Incident) {
			inc.Summary = "Two laptops in finance entered credentials on a look-alike page.\n" +
				"Mailbox rules forwarded invoices outside; 「引用」 and emoji 🛡 survive."
			inc.Priority = ir.PriorityP1
			inc.Category = ir.CategoryPhishing
			inc.TLP = ir.TLPAmberStrict
			inc.Exercise = true
			inc.Impact = ir.Impact{
				Functional:     ir.FunctionalMedium,
				Information:    []ir.InformationImpact{ir.InformationPrivacyBreach, ir.InformationIntegrityLoss},
				Recoverability: ir.RecoverabilitySupplemented,
			}
			inc.Verdict = ir.VerdictTruePositive
			inc.Resolution = "Sessions revoked, passwords reset, rules removed."
			inc.Assets = []ir.Asset{
				{Kind: ir.AssetHost, Name: "fin-lt-042", Description: "Finance laptop", AddedAt: at(5), AddedBy: alice},
				{Kind: ir.AssetAccount, Name: "j.doe@example.com", AddedAt: at(6).In(zone), AddedBy: edr},
			}
			inc.Observables = []ir.Observable{
				{Type: ir.ObservableIP, Value: "2001:db8::7", Description: "Landing page host", Malicious: true, AddedAt: at(7), AddedBy: edr},
				{Type: ir.ObservableDomain, Value: "examp1e-login.com", Malicious: true, AddedAt: at(8), AddedBy: alice},
				{Type: ir.ObservableSHA256, Value: strings.Repeat("ab", 32), AddedAt: at(9), AddedBy: alice},
			}
			inc.Participants = []ir.Participant{
				{Actor: alice, Role: ir.RoleCommander, AssignedAt: at(2), AssignedBy: alice},
				{Actor: bob, Role: ir.RoleScribe, AssignedAt: at(4), AssignedBy: alice},
				{Actor: edr, Role: ir.RoleAnalyst, AssignedAt: at(10), AssignedBy: bob},
			}
			inc.Tasks = []ir.Task{
				{ID: 1, Title: "Revoke sessions", Phase: phases.Containment, Required: true, Assignee: bob,
					AddedAt: at(32), AddedBy: alice, Done: true, DoneAt: at(60), DoneBy: bob, Outcome: "All sessions revoked"},
				{ID: 2, Title: "Brief the CFO", Phase: phases.LessonsLearned, AddedAt: at(610), AddedBy: alice},
			}
			inc.Decisions = []ir.Decision{
				{ID: 1, Summary: "Isolate the two laptops", Options: []string{"isolate", "monitor"},
					Rationale: "Active forwarding rules", DecidedAt: at(33), DecidedBy: alice},
				{ID: 2, Summary: "No ransom-style notice", DecidedAt: at(700), DecidedBy: alice},
			}
			inc.Evidence = []ir.EvidenceRef{
				{Item: "ITEM-1", Exhibit: "EX-001", Name: "fin-lt-023-memory.raw", Kind: evidence.KindMemoryDump,
					Size: 17179869184, SHA256: "9f2c6b8e4a1d7053c3e8b5f0a2d4c6e8f1a3b5c7d9e0f2a4b6c8d0e2f4a6b8c1",
					CollectedAt: at(40).In(zone), CollectedBy: bob},
			}
			inc.Review = &ir.Review{
				Summary:             "Two finance laptops entered credentials on a look-alike page; <b>no</b> payment left.",
				RootCause:           "Webmail accepted passwords alone",
				ContributingFactors: []string{"Look-alike domain registered three days before", "No banner on outside mail"},
				WentWell:            []string{"Reported within minutes"},
				WentPoorly:          []string{"Paging took 40 minutes", "「引用」 lost in translation"},
				LessonsLearned:      []string{"Test paging monthly"},
				Revision:            2, RecordedAt: at(1400).In(zone), RecordedBy: alice,
			}
			inc.FollowUps = []ir.FollowUp{
				{ID: 1, Title: "Require MFA on webmail", Owner: bob, Due: at(30 * 24 * 60).In(zone), Reference: "SEC-142",
					AddedAt: at(1400), AddedBy: alice, Done: true, DoneAt: at(2000), DoneBy: bob, Outcome: "Enforced"},
				{ID: 2, Title: "Write the phishing playbook", AddedAt: at(1401), AddedBy: alice},
			}
			inc.Marks = []ir.Mark{{Marker: ir.MarkerPersonalDataBreach, At: at(-30).In(zone), Note: "payroll data exposed",
				RecordedAt: at(10), RecordedBy: alice}}
			inc.Clocks = []ir.ClockState{
				{Name: ir.ClockGDPR, Title: "GDPR art. 33: notify the supervisory authority", StartedAt: at(-30).In(zone),
					Deadline: at(72*60 - 30), WarnAt: at(60*60 - 30), Warned: true, StoppedAt: at(2000), Met: true},
				{Name: ir.ClockAcknowledge, Title: "Acknowledge", StartedAt: at(-60), Deadline: at(-45), Missed: true,
					Warned: true, StoppedAt: at(2), Met: false},
			}
			inc.Times = ir.Lifecycle{
				Occurred:     at(-180).In(zone),
				Detected:     at(-60),
				Reported:     at(-5),
				Opened:       at(0),
				Acknowledged: at(2),
				Contained:    at(92),
				Eradicated:   at(420),
				Recovered:    at(604),
				Resolved:     at(605),
				Closed:       at(1500),
			}
			inc.OpenedBy = alice
			inc.UpdatedAt = at(1500)
		}).
		Build()
}

// everyEventData returns data of every event type, with every field set.
// The first is the [ir.Opened] of [fullIncident].
func everyEventData() []ir.EventData {
	at := minutes
	inc := fullIncident("")
	return []ir.EventData{
		&ir.Opened{Title: inc.Title, Severity: inc.Severity, Priority: inc.Priority, Category: inc.Category,
			TLP: inc.TLP, Model: inc.Model, Phase: phases.Preparation},
		&ir.PhaseChanged{Action: phases.Identify, From: phases.Preparation, To: phases.Identification},
		&ir.SeverityChanged{From: ir.SeverityMedium, To: ir.SeverityHigh},
		&ir.PriorityChanged{From: ir.PriorityP3, To: ir.PriorityP1},
		&ir.ImpactAssessed{Impact: inc.Impact},
		&ir.RoleAssigned{Role: ir.RoleCommander, Assignee: alice, Replaced: bob},
		&ir.RoleUnassigned{Role: ir.RoleScribe, Assignee: bob},
		&ir.TaskAdded{Task: inc.Tasks[0]},
		&ir.TaskCompleted{TaskID: 1, Title: "Revoke sessions", Outcome: "All sessions revoked"},
		&ir.ObservableAdded{Observable: inc.Observables[0]},
		&ir.AssetAdded{Asset: inc.Assets[1]},
		&ir.NoteAdded{Text: "Call with the mail provider at " + at(45).In(zone).Format(time.RFC3339) + "\n— no reply yet"},
		&ir.DecisionRecorded{Decision: inc.Decisions[0]},
		&ir.VerdictSet{Verdict: ir.VerdictTruePositive, Previous: ir.VerdictInconclusive, Resolution: inc.Resolution},
		&ir.StatusUpdate{Audience: notify.AudienceExecutives, Text: "Contained; no customer data affected.\nNext update at 14:00."},
		&ir.NotificationFailed{Channel: "slack", Key: "INC-000001/3/1", Event: ir.EventPhaseChanged, Delivery: 7, Attempts: 12,
			Error: "notify: endpoint gone: 410 Gone"},
		&ir.ReviewRecorded{Review: *inc.Review},
		&ir.FollowUpAdded{FollowUp: inc.FollowUps[0]},
		&ir.FollowUpDone{FollowUpID: 1, Title: inc.FollowUps[0].Title, Outcome: "Enforced for every account"},
		&ir.Marked{Mark: inc.Marks[0]},
		&ir.ClockStarted{Clock: ir.ClockGDPR, Title: inc.Clocks[0].Title, StartedAt: at(-30).In(zone), Deadline: at(72*60 - 30)},
		&ir.ClockStopped{Clock: ir.ClockAcknowledge, Title: "Acknowledge", StoppedAt: at(2), Deadline: at(-45), Late: 47 * time.Minute},
		&ir.DeadlineNear{Clock: ir.ClockGDPR, Title: inc.Clocks[0].Title, Deadline: at(72*60 - 30), Left: 12 * time.Hour},
		&ir.DeadlineMissed{Clock: ir.ClockAcknowledge, Title: "Acknowledge", Deadline: at(-45), Late: 30 * time.Second},
		&ir.DeadlineChanged{Clock: ir.ClockContain, Title: "Contain", From: at(240), To: at(60).In(zone)},
		&ir.EvidenceCollected{Evidence: inc.Evidence[0]},
	}
}

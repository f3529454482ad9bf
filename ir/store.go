package ir

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Store keeps incidents and their timelines. The [Responder] is its only
// writer in normal use; implementations plug in here (see
// [NewMemoryStore], and the sqlite and postgres packages), and irtest.TestStore
// checks that an implementation keeps this contract.
//
// Implementations must be safe for concurrent use, by several goroutines and,
// for shared databases, by several processes. Methods honour ctx: when it
// ends before a write commits, nothing is written and the context's error is
// returned; reads with an ended context return its error too. Returned
// incidents and events are copies the caller may modify.
type Store interface {
	// Apply writes one change atomically: the incident's new state, its
	// new timeline events, and any custody records and outbox messages it
	// carries, all or nothing. ch.Incident.Version must be one
	// more than the stored version (1 for a new incident); otherwise Apply
	// writes nothing and returns an error matching [ErrConflict]. A change
	// that [Change.Validate] refuses is not written and its error (matching
	// [ErrInvalid]) returned. Apply assigns each event its Seq, continuing
	// the incident's timeline, and writes the outbox messages
	// [Change.NumberOutbox] returns for the first of them, so that each
	// message carries the Seq its event got; a failed Apply uses up no
	// Seq. With
	// ch.Lists set, the entries of the observables and tasks it does not
	// name are kept as stored, and list changes that do not fit the
	// stored lists are refused (see [ListChanges]).
	//
	// A store that does not keep custody logs refuses a change with
	// Custody, and one that is not a notify.Outbox a change with Outbox
	// messages, with an error matching [ErrInvalid]. A custody append
	// that another writer overtook (the log no longer holds exactly
	// Index records) fails the whole change with an error matching both
	// [ErrConflict] and evidence.ErrConflict.
	Apply(ctx context.Context, ch Change) error
	// Get returns the incident, or an error matching [ErrNotFound].
	Get(ctx context.Context, id ID) (*Incident, error)
	// List returns the incidents matching q, newest first (by ID,
	// descending), one page at a time. A query that [Query.Normalize]
	// refuses returns its error (matching [ErrInvalid]). A page with a
	// Next is full; paging by Next visits every match exactly once even
	// while incidents are being added.
	List(ctx context.Context, q Query) (Page, error)
	// Timeline returns one page of the incident's events, from q.From in
	// q's direction, or an error matching [ErrNotFound] for an unknown
	// incident. A query that [TimelineQuery.Normalize] refuses returns its
	// error (matching [ErrInvalid]). Oldest first, a From past the latest
	// event gives an empty page; newest first, a From past it starts at
	// the latest event. A page with a Next is full, and Next is the Seq of
	// the event that starts the following page; a page without one
	// reached the end as it stood when read.
	Timeline(ctx context.Context, id ID, q TimelineQuery) (TimelinePage, error)
	// CountOpen counts the open incidents by severity and phase. Groups
	// with no incidents are left out.
	CountOpen(ctx context.Context) ([]OpenCount, error)
}

// Change is one atomic change to an incident: its new state, the timeline
// events that record the change, and what else must be written with it.
type Change struct {
	// Incident is the incident's state after the change.
	Incident *Incident
	// Events are appended to the incident's timeline, in order. Their
	// IncidentID and Version match Incident.
	Events []Event
	// Custody are custody records to append to the incident's evidence
	// case (its ID, see [ID.Case]) in the same transaction, in order, as
	// evidence.Ledger.Prepare works them out. Only stores that also keep
	// custody logs (implementing evidence.LedgerStore) take them.
	Custody []evidence.Append
	// Outbox are messages to leave in the store's outbox in the same
	// transaction. Only stores implementing notify.Outbox take them. A
	// message that reports one of the change's events carries the
	// event's Seq, which only the store knows: it writes the messages
	// [Change.NumberOutbox] returns, not these.
	Outbox []notify.OutboxMessage
	// OutboxSeqs say which messages of Outbox carry the Seq of one of
	// the change's events, and where, in ascending order of message. The
	// Responder sets them for every message it builds; a change without
	// them has messages written as they are.
	OutboxSeqs []OutboxSeq
	// Lists, if not nil, names the entries of the incident's long lists
	// that the change added or altered; every other entry is as the
	// version the change follows holds it. A store may then write only
	// those entries, so that the cost of a change does not grow with the
	// incident. Nil means any entry may have changed. See [ListChanges].
	Lists *ListChanges
}

// OutboxSeq says where an outbox message of a [Change] carries the Seq of
// the event it reports. The store assigns Seqs as it writes the change, so
// the message is built with a single "0" standing for the number, and the
// store writes the event's Seq over that byte, in decimal. Stores that
// number the events in Go call [Change.NumberOutbox] with the first Seq;
// a store that numbers them in SQL can do the same in its statement.
type OutboxSeq struct {
	// Message is the index of the message in Change.Outbox.
	Message int
	// Event is the index in Change.Events of the event the message
	// reports.
	Event int
	// Offset is the byte offset in the message's payload of the "0" the
	// event's Seq replaces.
	Offset int
}

// NumberOutbox returns the outbox messages a store writes for ch once it
// has numbered ch's events from first: Events[i] has Seq first+i. Each
// message that ch.OutboxSeqs names gets a payload of its own carrying its
// event's Seq; the others are as ch.Outbox holds them, and without
// OutboxSeqs NumberOutbox returns ch.Outbox itself. ch must have passed
// [Change.Validate].
func (ch Change) NumberOutbox(first int64) []notify.OutboxMessage {
	if len(ch.OutboxSeqs) == 0 {
		return ch.Outbox
	}
	msgs := slices.Clone(ch.Outbox)
	var digits [20]byte
	for _, s := range ch.OutboxSeqs {
		m := &msgs[s.Message]
		seq := strconv.AppendInt(digits[:0], first+int64(s.Event), 10)
		payload := make([]byte, 0, len(m.Payload)+len(seq)-1)
		payload = append(payload, m.Payload[:s.Offset]...)
		payload = append(payload, seq...)
		m.Payload = append(payload, m.Payload[s.Offset+1:]...)
	}
	return msgs
}

// checkOutboxSeqs refuses outbox seqs that name a message or an event the
// change does not have, name a message twice or out of order, or point
// at anything but a "0" in the message's payload.
func (ch Change) checkOutboxSeqs() error {
	for i, s := range ch.OutboxSeqs {
		switch {
		case s.Message < 0 || s.Message >= len(ch.Outbox) || (i > 0 && s.Message <= ch.OutboxSeqs[i-1].Message):
			return invalid("change", "", "outbox seqs must name messages of the change in ascending order")
		case s.Event < 0 || s.Event >= len(ch.Events):
			return invalid("change", "", "an outbox seq must name an event of the change")
		case s.Offset < 0 || s.Offset >= len(ch.Outbox[s.Message].Payload) || ch.Outbox[s.Message].Payload[s.Offset] != '0':
			return invalid("change", ch.Outbox[s.Message].Key, `an outbox seq must point at a "0" in the message's payload`)
		}
	}
	return nil
}

// ListChanges names, by their index in the incident's lists, the entries a
// [Change] added or altered. An incident's observables and tasks only grow:
// a change keeps every entry the previous version had, in its place, adds
// new ones at the end, and may alter existing tasks (completing one). So
// the indexes name every entry past the previous version's end, and any
// task altered before it. Stores refuse, with an error matching
// [ErrInvalid] and nothing written, indexes out of range or not in
// ascending order; and, since they know the length of the lists they keep,
// lists that shrank or grew by entries not named.
type ListChanges struct {
	// Observables are the indexes of the observables added.
	Observables []int
	// Tasks are the indexes of the tasks added or altered.
	Tasks []int
}

// check refuses indexes out of range of lists of the given lengths, or not
// in ascending order.
func (l *ListChanges) check(observables, tasks int) error {
	for _, list := range []struct {
		name string
		idx  []int
		n    int
	}{{"observables", l.Observables, observables}, {"tasks", l.Tasks, tasks}} {
		for i, x := range list.idx {
			if x < 0 || x >= list.n || (i > 0 && x <= list.idx[i-1]) {
				return invalid("change", list.name, "list changes must name entries of the incident in ascending order")
			}
		}
	}
	return nil
}

// CheckGrowth refuses, with an error matching [ErrInvalid], list changes
// that do not fit lists of the stored lengths: every entry from the stored
// length to the new length must be named, and nothing named past it
// except them. Stores call it with the lengths of the lists they keep.
func (l *ListChanges) CheckGrowth(inc *Incident, storedObservables, storedTasks int) error {
	for _, list := range []struct {
		name           string
		idx            []int
		stored, length int
		alterable      bool
	}{
		{"observables", l.Observables, storedObservables, len(inc.Observables), false},
		{"tasks", l.Tasks, storedTasks, len(inc.Tasks), true},
	} {
		if list.length < list.stored {
			return invalid("change", list.name, "a change cannot remove entries of the list")
		}
		added := 0
		for _, x := range list.idx {
			switch {
			case x >= list.stored:
				added++
			case !list.alterable:
				return invalid("change", list.name, "the list's entries cannot be altered")
			}
		}
		if added != list.length-list.stored {
			return invalid("change", list.name, "every entry added to the list must be named")
		}
	}
	return nil
}

// Status selects incidents by whether they are open.
type Status string

// Statuses a [Query] can select.
const (
	StatusAny    Status = ""
	StatusOpen   Status = "open"
	StatusClosed Status = "closed"
)

// Query selects incidents. The zero value selects every incident, one page
// of [DefaultPageSize].
type Query struct {
	// Phases, if any, selects incidents in one of them.
	Phases []phases.Phase
	// Severities, if any, selects incidents of one of them.
	Severities []Severity
	// Labels, if any, selects incidents carrying every one of them.
	Labels []string
	// Status selects open or closed incidents, or both.
	Status Status
	// OpenedAfter and OpenedBefore, if set, select incidents opened at or
	// after, and before, those times. When both are set, OpenedAfter must
	// be before OpenedBefore.
	OpenedAfter, OpenedBefore time.Time
	// Limit is the page size; zero means [DefaultPageSize]. At most
	// [MaxPageSize].
	Limit int
	// After continues a listing: pass the previous [Page]'s Next.
	After string
}

// Page sizes for [Query] and [TimelineQuery].
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Page is one page of a listing.
type Page struct {
	Incidents []*Incident
	// Next, if not empty, is the Query.After that fetches the next page.
	Next string
}

// OpenCount is the number of open incidents of one severity in one phase.
type OpenCount struct {
	Severity Severity
	Phase    phases.Phase
	Count    int64
}

// Normalize checks q and returns it with defaults filled in, or an
// [*InvalidError]. Stores call it before running a query.
func (q Query) Normalize() (Query, error) {
	switch q.Status {
	case StatusAny, StatusOpen, StatusClosed:
	default:
		return Query{}, invalid("status", string(q.Status), "want open, closed or empty")
	}
	// Labels are stored trimmed, so they are matched trimmed.
	q.Labels = slices.Clone(q.Labels)
	for i, l := range q.Labels {
		q.Labels[i] = strings.TrimSpace(l)
	}
	q.Severities = slices.Clone(q.Severities)
	for i, s := range q.Severities {
		v, err := ParseSeverity(string(s))
		if err != nil {
			return Query{}, err
		}
		q.Severities[i] = v
	}
	switch {
	case q.Limit < 0:
		return Query{}, invalid("limit", "", "must not be negative")
	case q.Limit == 0:
		q.Limit = DefaultPageSize
	case q.Limit > MaxPageSize:
		return Query{}, invalid("limit", "", "must be at most 1000")
	}
	if !q.OpenedAfter.IsZero() && !q.OpenedBefore.IsZero() && !q.OpenedAfter.Before(q.OpenedBefore) {
		return Query{}, invalid("time range", "", "OpenedAfter must be before OpenedBefore")
	}
	return q, nil
}

// Matches reports whether inc is selected by q, paging aside. Stores that
// filter in memory use it; others must select the same incidents.
func (q Query) Matches(inc *Incident) bool {
	if len(q.Phases) > 0 && !slices.Contains(q.Phases, inc.Phase) {
		return false
	}
	if len(q.Severities) > 0 && !slices.Contains(q.Severities, inc.Severity) {
		return false
	}
	for _, l := range q.Labels {
		if !inc.HasLabel(l) {
			return false
		}
	}
	switch q.Status {
	case StatusOpen:
		if !inc.IsOpen() {
			return false
		}
	case StatusClosed:
		if inc.IsOpen() {
			return false
		}
	}
	if !q.OpenedAfter.IsZero() && inc.Times.Opened.Before(q.OpenedAfter) {
		return false
	}
	if !q.OpenedBefore.IsZero() && !inc.Times.Opened.Before(q.OpenedBefore) {
		return false
	}
	return q.After == "" || string(inc.ID) < q.After
}

// checkAppend refuses a custody append that does not belong to incident
// id's case, or that [evidence.Append.Validate] refuses; the error matches
// both [ErrInvalid] and [evidence.ErrInvalid].
func checkAppend(id ID, a evidence.Append) error {
	if a.Case != id.Case() {
		return invalid("change", string(a.Case), "a custody record must be in the incident's own case")
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("ir: change: %w (%w)", err, ErrInvalid)
	}
	return nil
}

// SortOpenCounts orders counts by severity, most severe first, then by
// phase name, so that listings and tests see a stable order.
func SortOpenCounts(counts []OpenCount) {
	slices.SortFunc(counts, func(a, b OpenCount) int {
		if a.Severity != b.Severity {
			return b.Severity.Rank() - a.Severity.Rank()
		}
		return strings.Compare(string(a.Phase), string(b.Phase))
	})
}

// Validate refuses changes that no store should write, with an error
// matching [ErrInvalid]: no incident or no ID, a version below 1, no event,
// a new incident whose first event is not [EventOpened], or an event that
// does not belong to the change (wrong incident or version) or whose Data
// is nil or not the type this package defines for its Type, a custody
// append for another case or that [evidence.Append.Validate] refuses, and
// an outbox message for
// another incident, without a key or type, or whose key repeats, outbox
// seqs that do not fit the change's messages and events (see [OutboxSeq]),
// and list changes naming entries out of range or out of order. Stores
// call it first in Apply.
func (ch Change) Validate() error {
	inc := ch.Incident
	if inc == nil || inc.ID == "" {
		return invalid("change", "", "a change needs an incident with an ID")
	}
	if inc.Version < 1 {
		return invalid("change", "", "the incident version must be at least 1")
	}
	if len(ch.Events) == 0 {
		return invalid("change", "", "every change is recorded by at least one event")
	}
	if inc.Version == 1 && ch.Events[0].Type != EventOpened {
		return invalid("change", string(ch.Events[0].Type), "a new incident's timeline starts with an opened event")
	}
	for _, e := range ch.Events {
		if e.IncidentID != inc.ID || e.Version != inc.Version {
			return invalid("change", "", "every event must carry the incident's ID and new version")
		}
		want, ok := eventGoTypes[e.Type]
		if !ok {
			return invalid("event type", string(e.Type), "unknown event type")
		}
		if reflect.TypeOf(e.Data) != want || reflect.ValueOf(e.Data).IsNil() {
			return invalid("change", string(e.Type), "event data does not match the event type")
		}
	}
	if ch.Lists != nil {
		if err := ch.Lists.check(len(inc.Observables), len(inc.Tasks)); err != nil {
			return err
		}
	}
	for i, a := range ch.Custody {
		if err := checkAppend(inc.ID, a); err != nil {
			return err
		}
		if i > 0 && a.Index != ch.Custody[i-1].Index+1 {
			return invalid("change", "", "custody appends must follow one another")
		}
	}
	for i, m := range ch.Outbox {
		if m.Incident != string(inc.ID) {
			return invalid("change", string(m.Incident), "an outbox message must be about the incident")
		}
		if m.Key == "" || m.Type == "" {
			return invalid("change", m.Key, "an outbox message needs a key and a type")
		}
		if err := checkText("outbox message key", m.Key, notify.MaxOutboxKey); err != nil {
			return err
		}
		for _, prev := range ch.Outbox[:i] {
			if prev.Key == m.Key {
				return invalid("change", m.Key, "outbox message keys must be unique")
			}
		}
	}
	return ch.checkOutboxSeqs()
}

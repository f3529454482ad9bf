package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// Apply implements ir.Store. A change is written by one statement: the
// incident with a version check, its events numbered after the timeline's
// last, and its outbox messages with the Seqs their events got, all or
// nothing. A change carrying custody
// records runs that statement in a transaction that then appends them
// under the lock of the case's log head.
func (s *Store) Apply(ctx context.Context, ch ir.Change) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	if err := ctxErr(ctx, "apply"); err != nil {
		return err
	}
	w, err := s.encodeChange(ch)
	if err != nil {
		return err
	}
	if len(ch.Custody) == 0 {
		// One statement is one transaction: the change, its messages
		// and their notification commit together.
		return s.writeIncident(ctx, s.pool, ch, w)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(ctx, "apply", err)
	}
	defer rollback(ctx, tx)
	if err := s.writeIncident(ctx, tx, ch, w); err != nil {
		return err
	}
	if err := s.appendCustody(ctx, tx, ch.Custody); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(ctx, "apply: commit", err)
	}
	return nil
}

// encodedChange is a change as its statements take it.
type encodedChange struct {
	doc            []byte
	labels         []string
	types          []string
	ats            []time.Time
	events         [][]byte
	keys, msgTypes []string
	payloads       [][]byte
	// seqAts and seqEvents say where each payload holds the Seq of its
	// event (a position from 1, or 0 for none), and which event of the
	// change that is (from 1): see ir.OutboxSeq. Both are nil when no
	// message carries a Seq.
	seqAts              []int32
	seqEvents           []int64
	openedSec           int64
	openedNsec          int32
	phase, severity, id string
	// observables and tasks are the lengths of the incident's lists;
	// obsPos, obsDocs, taskPos and taskDocs the indexes and JSON of the
	// entries the change writes, and rewrite whether it writes them all.
	observables, tasks int64
	obsPos, taskPos    []int64
	obsDocs, taskDocs  [][]byte
	rewrite            bool
}

// encodeChange encodes ch's incident and events as JSON, before a
// transaction is opened, so that no connection waits on encoding.
func (s *Store) encodeChange(ch ir.Change) (encodedChange, error) {
	inc := ch.Incident
	head := *inc
	head.Observables, head.Tasks = nil, nil
	doc, err := json.Marshal(&head)
	if err != nil {
		return encodedChange{}, fmt.Errorf("postgres: apply: encode incident %s: %w", inc.ID, err)
	}
	w := encodedChange{
		doc:        doc,
		id:         string(inc.ID),
		phase:      string(inc.Phase),
		severity:   string(inc.Severity),
		labels:     slices.Clone(inc.Labels),
		openedSec:  inc.Times.Opened.Unix(),
		openedNsec: int32(inc.Times.Opened.Nanosecond()),
		types:      make([]string, len(ch.Events)),
		ats:        make([]time.Time, len(ch.Events)),
		events:     make([][]byte, len(ch.Events)),
	}
	if w.labels == nil {
		w.labels = []string{}
	}
	if err := w.encodeEntries(ch); err != nil {
		return encodedChange{}, err
	}
	for i, e := range ch.Events {
		e.Seq = 0 // assigned by the store, kept in its own column
		b, err := json.Marshal(e)
		if err != nil {
			return encodedChange{}, fmt.Errorf("postgres: apply: encode %s event of %s: %w", e.Type, inc.ID, err)
		}
		w.types[i], w.ats[i], w.events[i] = string(e.Type), e.At, b
	}
	w.keys = make([]string, 0, len(ch.Outbox))
	w.msgTypes = make([]string, 0, len(ch.Outbox))
	w.payloads = make([][]byte, 0, len(ch.Outbox))
	for _, m := range ch.Outbox {
		w.keys = append(w.keys, m.Key)
		w.msgTypes = append(w.msgTypes, string(m.Type))
		payload := m.Payload
		if payload == nil {
			payload = []byte{}
		}
		w.payloads = append(w.payloads, payload)
	}
	if len(ch.OutboxSeqs) == 0 {
		return w, nil // NULL arrays: unnest pads them with NULLs, no Seq
	}
	w.seqAts, w.seqEvents = make([]int32, len(ch.Outbox)), make([]int64, len(ch.Outbox))
	for _, seq := range ch.OutboxSeqs {
		if seq.Offset >= math.MaxInt32 {
			return encodedChange{}, fmt.Errorf("postgres: apply: outbox message %s is too large", ch.Outbox[seq.Message].Key)
		}
		w.seqAts[seq.Message], w.seqEvents[seq.Message] = int32(seq.Offset)+1, int64(seq.Event)+1
	}
	return w, nil
}

// encodeEntries encodes the entries of ch's lists that ch writes: those
// ch.Lists names, or all of them for a new incident or a change that names
// none, which rewrites the lists.
func (w *encodedChange) encodeEntries(ch ir.Change) error {
	inc := ch.Incident
	w.observables, w.tasks = int64(len(inc.Observables)), int64(len(inc.Tasks))
	var obs, tasks []int
	if ch.Lists != nil && inc.Version > 1 {
		obs, tasks = ch.Lists.Observables, ch.Lists.Tasks
	} else {
		w.rewrite = ch.Lists == nil
		obs, tasks = allIndexes(len(inc.Observables)), allIndexes(len(inc.Tasks))
	}
	var err error
	if w.obsPos, w.obsDocs, err = encodeList(inc.Observables, obs); err != nil {
		return fmt.Errorf("postgres: apply: encode observables of %s: %w", inc.ID, err)
	}
	if w.taskPos, w.taskDocs, err = encodeList(inc.Tasks, tasks); err != nil {
		return fmt.Errorf("postgres: apply: encode tasks of %s: %w", inc.ID, err)
	}
	return nil
}

// allIndexes returns the indexes of a list of n entries.
func allIndexes(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// encodeList encodes the entries of list at the indexes idx.
func encodeList[E any](list []E, idx []int) ([]int64, [][]byte, error) {
	pos, docs := make([]int64, len(idx)), make([][]byte, len(idx))
	for i, x := range idx {
		b, err := json.Marshal(&list[x])
		if err != nil {
			return nil, nil, err
		}
		pos[i], docs[i] = int64(x), b
	}
	return pos, docs, nil
}

// querier runs a statement: a pool, where one statement is one
// transaction, or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// writeIncident writes the incident, its events and its outbox messages
// with one statement, and refuses a stale version with [ir.ErrConflict].
func (s *Store) writeIncident(ctx context.Context, db querier, ch ir.Change, w encodedChange) error {
	inc := ch.Incident
	sql := s.q.updateIncident
	if inc.Version == 1 {
		sql = s.q.insertIncident
	}
	var written, notified int64
	err := db.QueryRow(ctx, sql, w.id, inc.Version, w.phase, w.severity, inc.IsOpen(), w.openedSec, w.openedNsec, w.labels,
		int64(len(w.events)), w.doc, w.types, w.ats, w.events, s.now(), w.keys, w.msgTypes, w.payloads,
		s.channel, w.observables, w.tasks, w.obsPos, w.obsDocs, w.taskPos, w.taskDocs, w.rewrite,
		w.seqAts, w.seqEvents).Scan(&written, &notified)
	switch {
	case err != nil:
		return wrap(ctx, "apply: write incident "+w.id, err)
	case written == 1:
		return nil
	case inc.Version == 1:
		return fmt.Errorf("postgres: apply: incident %s exists: %w", inc.ID, ir.ErrConflict)
	default:
		return s.refused(ctx, db, ch)
	}
}

// refused tells why the update of a change wrote nothing: the incident
// moved on (a conflict), or its lists do not fit the change's list changes
// (invalid).
func (s *Store) refused(ctx context.Context, db querier, ch ir.Change) error {
	inc := ch.Incident
	conflict := fmt.Errorf("postgres: apply: incident %s is not at version %d: %w", inc.ID, inc.Version-1, ir.ErrConflict)
	if ch.Lists == nil {
		return conflict
	}
	var version, observables, tasks int64
	err := db.QueryRow(ctx, s.q.readLists, string(inc.ID)).Scan(&version, &observables, &tasks)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return conflict
	case err != nil:
		return wrap(ctx, "apply: read incident "+string(inc.ID), err)
	case version != inc.Version-1:
		return conflict
	}
	if err := ch.Lists.CheckGrowth(inc, int(observables), int(tasks)); err != nil {
		return err
	}
	return conflict
}

// Get implements ir.Store.
func (s *Store) Get(ctx context.Context, id ir.ID) (*ir.Incident, error) {
	if err := ctxErr(ctx, "get"); err != nil {
		return nil, err
	}
	var doc, obs, tasks []byte
	err := s.pool.QueryRow(ctx, s.q.getIncident, string(id)).Scan(&doc, &obs, &tasks)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: incident %s: %w", id, ir.ErrNotFound)
	}
	if err != nil {
		return nil, wrap(ctx, "get "+string(id), err)
	}
	return decodeIncident(doc, obs, tasks)
}

// decodeIncident decodes an incident as incidentSelect reads it: its
// document, and its observables and tasks as JSON arrays, nil if empty.
func decodeIncident(doc, observables, tasks []byte) (*ir.Incident, error) {
	inc := new(ir.Incident)
	if err := json.Unmarshal(doc, inc); err != nil {
		return nil, fmt.Errorf("postgres: decode incident: %w", err)
	}
	if observables != nil {
		if err := json.Unmarshal(observables, &inc.Observables); err != nil {
			return nil, fmt.Errorf("postgres: decode observables of %s: %w", inc.ID, err)
		}
	}
	if tasks != nil {
		if err := json.Unmarshal(tasks, &inc.Tasks); err != nil {
			return nil, fmt.Errorf("postgres: decode tasks of %s: %w", inc.ID, err)
		}
	}
	return inc, nil
}

// List implements ir.Store. It selects what ir.Query.Matches selects, with
// SQL over the indexed columns, newest first by ID, and pages by ID.
func (s *Store) List(ctx context.Context, q ir.Query) (ir.Page, error) {
	q, err := q.Normalize()
	if err != nil {
		return ir.Page{}, err
	}
	if err := ctxErr(ctx, "list"); err != nil {
		return ir.Page{}, err
	}
	sql, args := s.listQuery(q)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return ir.Page{}, wrap(ctx, "list", err)
	}
	var page ir.Page
	docs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([3][]byte, error) {
		var d [3][]byte
		err := row.Scan(&d[0], &d[1], &d[2])
		return d, err
	})
	if err != nil {
		return ir.Page{}, wrap(ctx, "list", err)
	}
	for i, doc := range docs {
		if i == q.Limit {
			page.Next = string(page.Incidents[i-1].ID)
			break
		}
		inc, err := decodeIncident(doc[0], doc[1], doc[2])
		if err != nil {
			return ir.Page{}, err
		}
		page.Incidents = append(page.Incidents, inc)
	}
	return page, nil
}

// listQuery writes the SQL of a normalized query: only the filters it
// uses, so that the planner sees each query's own shape. It fetches one
// row more than the page, to learn whether another page follows.
func (s *Store) listQuery(q ir.Query) (string, []any) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(q.Phases) > 0 {
		ps := make([]string, len(q.Phases))
		for i, p := range q.Phases {
			ps[i] = string(p)
		}
		where = append(where, "phase = ANY("+arg(ps)+"::text[])")
	}
	if len(q.Severities) > 0 {
		ss := make([]string, len(q.Severities))
		for i, v := range q.Severities {
			ss[i] = string(v)
		}
		where = append(where, "severity = ANY("+arg(ss)+"::text[])")
	}
	// With labels, the first one drives the listing: its range of the
	// label index is in ID order, so a page reads its matches newest first
	// and stops, however many incidents there are.
	from, idColumn := s.q.schema+".incidents", "id"
	if len(q.Labels) > 0 {
		from = s.q.schema + ".incident_labels AS l JOIN " + s.q.schema + ".incidents ON incidents.id = l.incident_id"
		idColumn = "l.incident_id"
		where = append(where, "l.label = "+arg(q.Labels[0]))
		if len(q.Labels) > 1 {
			where = append(where, "labels @> "+arg(q.Labels[1:])+"::text[]")
		}
	}
	switch q.Status {
	case ir.StatusOpen:
		where = append(where, "open")
	case ir.StatusClosed:
		where = append(where, "NOT open")
	}
	if !q.OpenedAfter.IsZero() {
		where = append(where, fmt.Sprintf("(opened_sec, opened_nsec) >= (%s::bigint, %s::integer)",
			arg(q.OpenedAfter.Unix()), arg(int32(q.OpenedAfter.Nanosecond()))))
	}
	if !q.OpenedBefore.IsZero() {
		where = append(where, fmt.Sprintf("(opened_sec, opened_nsec) < (%s::bigint, %s::integer)",
			arg(q.OpenedBefore.Unix()), arg(int32(q.OpenedBefore.Nanosecond()))))
	}
	if q.After != "" {
		after := arg(q.After)
		where = append(where, "id < "+after+` COLLATE "C"`)
		if idColumn != "id" {
			// Said of both sides of the join, so that a merge join
			// starts both at the cursor.
			where = append(where, idColumn+" < "+after+` COLLATE "C"`)
		}
	}
	var sb strings.Builder
	sb.WriteString("SELECT " + s.q.incidentColumns + " FROM " + from)
	if len(where) > 0 {
		sb.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	sb.WriteString(" ORDER BY " + idColumn + " DESC LIMIT " + arg(q.Limit+1))
	return sb.String(), args
}

// Timeline implements ir.Store. A page is one range of the events' primary
// key, read in either direction.
func (s *Store) Timeline(ctx context.Context, id ir.ID, q ir.TimelineQuery) (ir.TimelinePage, error) {
	q, err := q.Normalize()
	if err != nil {
		return ir.TimelinePage{}, err
	}
	if err := ctxErr(ctx, "timeline"); err != nil {
		return ir.TimelinePage{}, err
	}
	query, from := s.q.timelineUp, q.From
	if q.NewestFirst {
		query = s.q.timelineDown
		if from == 0 {
			from = math.MaxInt64
		}
	}
	// One more than the page, to know whether another follows.
	rows, err := s.pool.Query(ctx, query, string(id), from, q.Limit+1)
	if err != nil {
		return ir.TimelinePage{}, wrap(ctx, "timeline of "+string(id), err)
	}
	page := ir.TimelinePage{Events: make([]ir.Event, 0, min(q.Limit, 64))}
	var (
		seq int64
		doc []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&seq, &doc}, func() error {
		if len(page.Events) == q.Limit {
			page.Next = seq
			return nil
		}
		var e ir.Event
		if err := json.Unmarshal(doc, &e); err != nil {
			return fmt.Errorf("decode event %d: %w", seq, err)
		}
		e.Seq = seq
		page.Events = append(page.Events, e)
		return nil
	})
	if err != nil {
		return ir.TimelinePage{}, wrap(ctx, "timeline of "+string(id), err)
	}
	if len(page.Events) == 0 {
		// Every incident has at least its opened event, written with it,
		// so only a page past the end of a known incident is empty.
		var exists bool
		if err := s.pool.QueryRow(ctx, s.q.incidentExists, string(id)).Scan(&exists); err != nil {
			return ir.TimelinePage{}, wrap(ctx, "timeline of "+string(id), err)
		}
		if !exists {
			return ir.TimelinePage{}, fmt.Errorf("postgres: incident %s: %w", id, ir.ErrNotFound)
		}
	}
	return page, nil
}

// CountOpen implements ir.Store. It reads the counts that a trigger keeps
// with every incident write, a row per severity and phase.
func (s *Store) CountOpen(ctx context.Context) ([]ir.OpenCount, error) {
	if err := ctxErr(ctx, "count open"); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.countOpen)
	if err != nil {
		return nil, wrap(ctx, "count open", err)
	}
	var (
		out             []ir.OpenCount
		severity, phase string
		n               int64
	)
	_, err = pgx.ForEachRow(rows, []any{&severity, &phase, &n}, func() error {
		out = append(out, ir.OpenCount{Severity: ir.Severity(severity), Phase: phases.Phase(phase), Count: n})
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, "count open", err)
	}
	ir.SortOpenCounts(out)
	return out, nil
}

// microsUp rounds t up to a whole microsecond, the precision PostgreSQL
// keeps: a lease or a due time is then never shortened by storing it.
func microsUp(t time.Time) time.Time {
	if r := t.Nanosecond() % 1000; r != 0 {
		return t.Add(time.Duration(1000 - r))
	}
	return t
}

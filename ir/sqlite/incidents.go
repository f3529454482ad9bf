package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// Apply implements ir.Store. It writes the change in one immediate
// transaction: the incident with its version check, its events numbered
// after the timeline's last, the custody records it carries (as
// [Store.Append] writes them) and its outbox messages, all or nothing.
//
// A change without custody records, such as a transition or a note, runs
// on the driver's connection directly, with statements prepared on it
// once: the same statements in the same transaction, without the
// bookkeeping of database/sql (a goroutine and a context per
// transaction, a statement lookup per statement), which costs about as
// much as the writes themselves. A change with custody records runs in a
// database/sql transaction, which the custody ledger's writes share.
func (s *Store) Apply(ctx context.Context, ch ir.Change) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	if err := ctxErr(ctx, "apply"); err != nil {
		return err
	}
	w, err := encodeChange(ch)
	if err != nil {
		return err
	}
	var count int64
	if len(ch.Custody) == 0 {
		err = s.writeRaw(ctx, "apply", func(q *rawStatements) error {
			var err error
			count, err = s.applyTx(ctx, changeTx{s: s, raw: q}, ch, w, s.clock.Now())
			return err
		})
	} else {
		err = s.write(ctx, "apply", func(tx *sql.Tx) error {
			var err error
			count, err = s.applyTx(ctx, changeTx{s: s, tx: tx}, ch, w, s.clock.Now())
			return err
		})
	}
	if err != nil {
		return err
	}
	s.cols.put(w.id, w.indexed(ch.Incident.Version, count))
	return nil
}

// changeTx runs the statements of a change (see applySQL) in a
// transaction that holds the file's write lock: a database/sql
// transaction, or one on the driver's connection directly.
type changeTx struct {
	s   *Store
	tx  *sql.Tx
	raw *rawStatements
}

// arg is a parameter of a statement: text, an integer or a blob, bound
// as the driver binds a string, an integer (or a boolean) and a []byte
// passed through database/sql. It saves a change's parameters being
// boxed into interfaces on the direct path.
type arg struct {
	kind argKind
	s    string
	i    int64
	b    []byte
}

// argKind says which field of an arg holds its value.
type argKind uint8

const (
	argText argKind = iota
	argInt
	argBlob
)

func text(s string) arg   { return arg{kind: argText, s: s} }
func integer(i int64) arg { return arg{kind: argInt, i: i} }
func blob(b []byte) arg   { return arg{kind: argBlob, b: b} }

// boolean is v as SQLite keeps it, and as the driver binds a bool: 1 or 0.
func boolean(v bool) arg {
	if v {
		return integer(1)
	}
	return integer(0)
}

// value returns a as database/sql takes it.
func (a arg) value() any {
	switch a.kind {
	case argInt:
		return a.i
	case argBlob:
		return a.b
	}
	return a.s
}

// exec runs statement st with args and returns the number of rows it
// changed.
func (x changeTx) exec(ctx context.Context, st int, args ...arg) (int64, error) {
	if x.raw != nil {
		return x.raw.exec(st, args)
	}
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.value()
	}
	res, err := x.tx.StmtContext(ctx, x.s.q.apply[st]).ExecContext(ctx, vals...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// readIndexed reads the version and indexed columns of incident id; the
// version of a missing incident is 0.
func (x changeTx) readIndexed(ctx context.Context, id string) (indexed, error) {
	if x.raw != nil {
		return x.raw.readIndexed(id)
	}
	var v indexed
	err := x.tx.StmtContext(ctx, x.s.q.apply[stReadIncident]).QueryRowContext(ctx, id).Scan(v.dests()...)
	if errors.Is(err, sql.ErrNoRows) {
		return indexed{}, nil
	}
	return v, err
}

// appendCustody writes custody records, as [Store.Append] does; only a
// database/sql transaction does, which the custody ledger's writes share.
func (x changeTx) appendCustody(ctx context.Context, apps []evidence.Append) error {
	if x.tx == nil {
		return errors.New("sqlite: custody records need a database/sql transaction")
	}
	return x.s.appendCustody(ctx, x.tx, apps)
}

// encodedChange is a change as its statements take it, encoded before a
// transaction begins, so that the file's write lock is not held while JSON
// is written.
type encodedChange struct {
	id, phase, severity, labels, doc string
	open                             bool
	openedSec, openedNsec            int64
	events                           []encodedEvent
	// observables and tasks are the lengths of the incident's lists, and
	// entries the entries of them to write.
	observables, tasks int64
	entries            encodedEntries
}

// encodedEntries are the entries of an incident's lists that a change
// writes, by index. rewrite is set when the change did not name them, so
// that every entry is written and any past the lists' ends removed.
type encodedEntries struct {
	observables, tasks []encodedEntry
	rewrite            bool
}

// encodedEntry is one entry of a list and its index.
type encodedEntry struct {
	pos int64
	doc string
}

// indexed returns the columns w writes besides the document, at version,
// after a timeline of eventCount events.
func (w *encodedChange) indexed(version, eventCount int64) indexed {
	return indexed{version: version, eventCount: eventCount, phase: w.phase, severity: w.severity, open: w.open,
		openedSec: w.openedSec, openedNsec: w.openedNsec, labels: w.labels, observables: w.observables, tasks: w.tasks}
}

// encodedEvent is an event as its statement takes it.
type encodedEvent struct {
	typ, at, doc string
}

// encodeChange encodes ch's incident and events. The incident's document
// leaves out its observables and tasks, which are rows of their own: only
// those ch.Lists names are encoded, or all of them when it names none.
// The documents are the bytes json.Marshal writes, written without
// reflection (see ir.Incident.AppendJSON).
func encodeChange(ch ir.Change) (encodedChange, error) {
	inc := ch.Incident
	head := *inc
	head.Observables, head.Tasks = nil, nil
	// The documents and times are written one after the other into one
	// buffer, made into one string, and cut from it.
	pbuf := encodeBuffers.Get().(*[]byte)
	buf := (*pbuf)[:0]
	defer func() {
		if cap(buf) <= maxPooledBuffer {
			*pbuf = buf
			encodeBuffers.Put(pbuf)
		}
	}()
	buf, err := head.AppendJSON(buf)
	if err != nil {
		return encodedChange{}, fmt.Errorf("sqlite: apply: encode incident %s: %w", inc.ID, err)
	}
	docEnd := len(buf)
	var endsBuf [8]int
	ends := endsBuf[:0]
	for i := range ch.Events {
		e := ch.Events[i]
		e.Seq = 0 // assigned by the store, kept in its own column
		if buf, err = e.AppendJSON(buf); err != nil {
			return encodedChange{}, fmt.Errorf("sqlite: apply: encode %s event of %s: %w", e.Type, inc.ID, err)
		}
		ends = append(ends, len(buf))
		buf = e.At.AppendFormat(buf, time.RFC3339Nano)
		ends = append(ends, len(buf))
	}
	labels, err := encodeLabels(inc.Labels)
	if err != nil {
		return encodedChange{}, fmt.Errorf("sqlite: apply: encode labels of %s: %w", inc.ID, err)
	}
	all := string(buf)
	w := encodedChange{
		id:          string(inc.ID),
		phase:       string(inc.Phase),
		severity:    string(inc.Severity),
		labels:      labels,
		doc:         all[:docEnd],
		open:        inc.IsOpen(),
		openedSec:   inc.Times.Opened.Unix(),
		openedNsec:  int64(inc.Times.Opened.Nanosecond()),
		events:      make([]encodedEvent, len(ch.Events)),
		observables: int64(len(inc.Observables)),
		tasks:       int64(len(inc.Tasks)),
	}
	from := docEnd
	for i, e := range ch.Events {
		w.events[i] = encodedEvent{typ: string(e.Type), doc: all[from:ends[2*i]], at: all[ends[2*i]:ends[2*i+1]]}
		from = ends[2*i+1]
	}
	if w.entries, err = encodeEntries(ch); err != nil {
		return encodedChange{}, err
	}
	return w, nil
}

// encodeBuffers keeps the buffers encodeChange writes into, each used
// for one change at a time; buffers grown past maxPooledBuffer by a large
// change are left to the garbage collector.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledBuffer = 64 << 10

// encodeLabels encodes an incident's labels as a JSON array, [] if there
// are none, as json.Marshal writes it.
func encodeLabels(labels []string) (string, error) {
	if len(labels) == 0 {
		return "[]", nil
	}
	n := 2
	for _, l := range labels {
		n += len(l) + 3
		for i := range len(l) {
			// Anything json.Marshal would escape is left to it.
			if c := l[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				b, err := json.Marshal(labels)
				return string(b), err
			}
		}
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, l := range labels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, l...)
		b = append(b, '"')
	}
	b = append(b, ']')
	return string(b), nil
}

// encodeEntries encodes the entries of ch's lists that ch writes.
func encodeEntries(ch ir.Change) (encodedEntries, error) {
	inc := ch.Incident
	var (
		x   encodedEntries
		err error
	)
	var obs, tasks []int
	if ch.Lists != nil && inc.Version > 1 {
		obs, tasks = ch.Lists.Observables, ch.Lists.Tasks
	} else {
		x.rewrite = ch.Lists == nil
		obs, tasks = allIndexes(len(inc.Observables)), allIndexes(len(inc.Tasks))
	}
	if x.observables, err = encodeList(inc.Observables, obs); err != nil {
		return encodedEntries{}, fmt.Errorf("sqlite: apply: encode observables of %s: %w", inc.ID, err)
	}
	if x.tasks, err = encodeList(inc.Tasks, tasks); err != nil {
		return encodedEntries{}, fmt.Errorf("sqlite: apply: encode tasks of %s: %w", inc.ID, err)
	}
	return x, nil
}

// allIndexes returns the indexes of a list of n entries.
func allIndexes(n int) []int {
	if n == 0 {
		return nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// jsonAppender is a list entry that encodes itself as json.Marshal does.
type jsonAppender[E any] interface {
	*E
	AppendJSON(b []byte) ([]byte, error)
}

// encodeList encodes the entries of list at the indexes idx.
func encodeList[E any, P jsonAppender[E]](list []E, idx []int) ([]encodedEntry, error) {
	if len(idx) == 0 {
		return nil, nil
	}
	out := make([]encodedEntry, len(idx))
	var buf []byte
	for i, x := range idx {
		var err error
		if buf, err = P(&list[x]).AppendJSON(buf[:0]); err != nil {
			return nil, err
		}
		out[i] = encodedEntry{pos: int64(x), doc: string(buf)}
	}
	return out, nil
}

// writeEntries writes the encoded entries of incident id's lists, which
// hold observables and tasks entries after the change.
func writeEntries(ctx context.Context, x changeTx, id string, w encodedChange) error {
	for _, list := range [...]struct {
		put, trim int
		entries   []encodedEntry
		length    int64
	}{
		{stPutObservable, stTrimObservables, w.entries.observables, w.observables},
		{stPutTask, stTrimTasks, w.entries.tasks, w.tasks},
	} {
		for _, e := range list.entries {
			if _, err := x.exec(ctx, list.put, text(id), integer(e.pos), text(e.doc)); err != nil {
				return wrap(ctx, "apply: write list entry of "+id, err)
			}
		}
		if w.entries.rewrite {
			if _, err := x.exec(ctx, list.trim, text(id), integer(list.length)); err != nil {
				return wrap(ctx, "apply: write lists of "+id, err)
			}
		}
	}
	return nil
}

// applyTx writes a checked and encoded change in x, and returns the new
// length of the incident's timeline. now is the creation time of its
// outbox messages, which carry the Seqs their events got.
func (s *Store) applyTx(ctx context.Context, x changeTx, ch ir.Change, w encodedChange, now time.Time) (int64, error) {
	inc := ch.Incident
	var count int64
	if inc.Version == 1 {
		n, err := x.exec(ctx, stInsertIncident, text(w.id), integer(inc.Version), text(w.phase), text(w.severity),
			boolean(w.open), integer(w.openedSec), integer(w.openedNsec), text(w.labels), integer(int64(len(w.events))),
			text(w.doc), integer(w.observables), integer(w.tasks))
		if err != nil {
			return 0, wrap(ctx, "apply: write incident "+w.id, err)
		}
		if n != 1 {
			return 0, fmt.Errorf("sqlite: apply: incident %s exists: %w", inc.ID, ir.ErrConflict)
		}
		count = int64(len(w.events))
	} else {
		var err error
		if count, err = s.updateIncident(ctx, x, ch, w); err != nil {
			return 0, err
		}
	}
	if err := writeEntries(ctx, x, w.id, w); err != nil {
		return 0, err
	}
	first := count - int64(len(w.events)) + 1
	for i, e := range w.events {
		seq := first + int64(i)
		if _, err := x.exec(ctx, stInsertEvent, text(w.id), integer(seq), integer(inc.Version), text(e.typ), text(e.at), text(e.doc)); err != nil {
			return 0, wrap(ctx, "apply: write event of "+w.id, err)
		}
	}
	if len(ch.Custody) > 0 {
		if err := x.appendCustody(ctx, ch.Custody); err != nil {
			return 0, err
		}
	}
	if len(ch.Outbox) > 0 {
		created, due := now.Format(time.RFC3339Nano), unixNano(now)
		for _, m := range ch.NumberOutbox(first) {
			payload := m.Payload
			if payload == nil {
				payload = []byte{}
			}
			if _, err := x.exec(ctx, stInsertOutbox, text(m.Key), text(string(m.Incident)), text(string(m.Type)), blob(payload),
				text(created), integer(due)); err != nil {
				return 0, wrap(ctx, "apply: write outbox message "+m.Key, err)
			}
		}
	}
	return count, nil
}

// updateIncident writes an incident over the version it follows, and
// returns the new length of its timeline. The indexed columns are written
// only if they changed: they are compared with those the Store remembers
// of the version the change follows, or, if it remembers another version
// or none, with those read from the row.
func (s *Store) updateIncident(ctx context.Context, x changeTx, ch ir.Change, w encodedChange) (int64, error) {
	inc := ch.Incident
	prev, ok := s.cols.get(w.id)
	if !ok || prev.version != inc.Version-1 {
		var err error
		if prev, err = x.readIndexed(ctx, w.id); err != nil {
			return 0, wrap(ctx, "apply: read incident "+w.id, err)
		}
		if prev.version != inc.Version-1 {
			return 0, versionConflict(inc, prev.version)
		}
	}
	if ch.Lists != nil {
		if err := ch.Lists.CheckGrowth(inc, int(prev.observables), int(prev.tasks)); err != nil {
			return 0, err
		}
	}
	count := prev.eventCount + int64(len(w.events))
	mask := 0
	var argv [6 + len(indexedColumns)]arg
	args := append(argv[:0], text(w.id), integer(inc.Version), integer(count), text(w.doc), integer(w.observables), integer(w.tasks))
	for i, col := range [...]struct {
		changed bool
		value   arg
	}{
		{prev.phase != w.phase, text(w.phase)}, {prev.severity != w.severity, text(w.severity)}, {prev.open != w.open, boolean(w.open)},
		{prev.openedSec != w.openedSec, integer(w.openedSec)}, {prev.openedNsec != w.openedNsec, integer(w.openedNsec)},
		{prev.labels != w.labels, text(w.labels)},
	} {
		if col.changed {
			mask |= 1 << i
			args = append(args, col.value)
		}
	}
	n, err := x.exec(ctx, stUpdateFor(mask), args...)
	if err != nil {
		return 0, wrap(ctx, "apply: write incident "+w.id, err)
	}
	if n != 1 {
		// The version check failed: another writer got there first.
		cur, err := x.readIndexed(ctx, w.id)
		if err != nil {
			return 0, wrap(ctx, "apply: read incident "+w.id, err)
		}
		return 0, versionConflict(inc, cur.version)
	}
	return count, nil
}

// versionConflict is the error of a change to inc that does not follow the
// stored version.
func versionConflict(inc *ir.Incident, stored int64) error {
	return fmt.Errorf("sqlite: apply: incident %s is at version %d, the change expects %d: %w",
		inc.ID, stored, inc.Version-1, ir.ErrConflict)
}

// Get implements ir.Store.
func (s *Store) Get(ctx context.Context, id ir.ID) (*ir.Incident, error) {
	if err := ctxErr(ctx, "get"); err != nil {
		return nil, err
	}
	var (
		doc       []byte
		obs, task []byte
		x         indexed
	)
	// The writing connection reads the row from the pages it wrote last,
	// which it still holds; a reading connection must read them again
	// from the file after every commit. So the read takes the writing
	// connection if no write is under way or waiting, and a reading one
	// otherwise. A write that begins meanwhile waits for the read, or,
	// if it takes the connection first, the read waits for the write.
	get := s.q.getIncident
	if s.wusers.CompareAndSwap(0, 1) {
		get = s.q.getIncidentW
		defer s.wdone()
	}
	err := get.QueryRowContext(ctx, string(id)).Scan(append([]any{&doc, &obs, &task}, x.dests()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: incident %s: %w", id, ir.ErrNotFound)
	}
	if err != nil {
		return nil, wrap(ctx, "get "+string(id), err)
	}
	inc, err := decodeIncident(doc, obs, task)
	if err != nil {
		return nil, err
	}
	// A change to the incident usually follows this read.
	s.cols.put(string(id), x)
	return inc, nil
}

// decodeIncident decodes an incident as incidentSelect reads it: its
// document, and its observables and tasks as JSON arrays, nil if empty.
func decodeIncident(doc, observables, tasks []byte) (*ir.Incident, error) {
	inc := new(ir.Incident)
	if err := json.Unmarshal(doc, inc); err != nil {
		return nil, fmt.Errorf("sqlite: decode incident: %w", err)
	}
	if observables != nil {
		if err := json.Unmarshal(observables, &inc.Observables); err != nil {
			return nil, fmt.Errorf("sqlite: decode observables of %s: %w", inc.ID, err)
		}
	}
	if tasks != nil {
		if err := json.Unmarshal(tasks, &inc.Tasks); err != nil {
			return nil, fmt.Errorf("sqlite: decode tasks of %s: %w", inc.ID, err)
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
	query, args := listQuery(q)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return ir.Page{}, wrap(ctx, "list", err)
	}
	defer func() { _ = rows.Close() }()
	var page ir.Page
	for rows.Next() {
		if len(page.Incidents) == q.Limit {
			page.Next = string(page.Incidents[q.Limit-1].ID)
			break
		}
		var doc, obs, tasks []byte
		if err := rows.Scan(&doc, &obs, &tasks); err != nil {
			return ir.Page{}, wrap(ctx, "list", err)
		}
		inc, err := decodeIncident(doc, obs, tasks)
		if err != nil {
			return ir.Page{}, err
		}
		page.Incidents = append(page.Incidents, inc)
	}
	if err := rows.Err(); err != nil {
		return ir.Page{}, wrap(ctx, "list", err)
	}
	return page, nil
}

// listQuery writes the SQL of a normalized query: only the filters it
// uses, so that the planner sees each query's own shape and picks the
// index that fits it. It fetches one row more than the page, to learn
// whether another page follows.
func listQuery(q ir.Query) (string, []any) {
	var (
		where []string
		args  []any
	)
	in := func(column string, values []string) {
		marks := strings.Repeat(", ?", len(values))[2:]
		where = append(where, column+" IN ("+marks+")")
		for _, v := range values {
			args = append(args, v)
		}
	}
	switch q.Status {
	case ir.StatusOpen:
		where = append(where, "open = 1")
	case ir.StatusClosed:
		where = append(where, "open = 0")
	}
	if len(q.Phases) > 0 {
		ps := make([]string, len(q.Phases))
		for i, p := range q.Phases {
			ps[i] = string(p)
		}
		in("phase", ps)
	}
	if len(q.Severities) > 0 {
		ss := make([]string, len(q.Severities))
		for i, v := range q.Severities {
			ss[i] = string(v)
		}
		in("severity", ss)
	}
	// With labels, the first one drives the listing: its range of the
	// label index is in ID order, so a page reads its matches newest first
	// and stops, however many incidents there are. CROSS JOIN keeps the
	// label index the outer loop.
	from, idColumn := "incidents", "id"
	if len(q.Labels) > 0 {
		from, idColumn = "incident_labels AS l CROSS JOIN incidents ON incidents.id = l.incident_id", "l.incident_id"
		where = append(where, "l.label = ?")
		args = append(args, q.Labels[0])
		for _, l := range q.Labels[1:] {
			where = append(where, "EXISTS (SELECT 1 FROM incident_labels AS m WHERE m.incident_id = incidents.id AND m.label = ?)")
			args = append(args, l)
		}
	}
	if !q.OpenedAfter.IsZero() {
		where = append(where, "(opened_sec, opened_nsec) >= (?, ?)")
		args = append(args, q.OpenedAfter.Unix(), int64(q.OpenedAfter.Nanosecond()))
	}
	if !q.OpenedBefore.IsZero() {
		where = append(where, "(opened_sec, opened_nsec) < (?, ?)")
		args = append(args, q.OpenedBefore.Unix(), int64(q.OpenedBefore.Nanosecond()))
	}
	if q.After != "" {
		where = append(where, idColumn+" < ?")
		args = append(args, q.After)
	}
	var sb strings.Builder
	sb.WriteString("SELECT " + incidentSelect + " FROM " + from)
	if len(where) > 0 {
		sb.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	sb.WriteString(" ORDER BY " + idColumn + " DESC LIMIT ?")
	args = append(args, q.Limit+1)
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
	stmt, from := s.q.timelineUp, q.From
	if q.NewestFirst {
		stmt = s.q.timelineDown
		if from == 0 {
			from = math.MaxInt64
		}
	}
	// One more than the page, to know whether another follows.
	rows, err := stmt.QueryContext(ctx, string(id), from, q.Limit+1)
	if err != nil {
		return ir.TimelinePage{}, wrap(ctx, "timeline of "+string(id), err)
	}
	defer func() { _ = rows.Close() }()
	page := ir.TimelinePage{Events: make([]ir.Event, 0, min(q.Limit, 64))}
	for rows.Next() {
		var (
			seq int64
			doc []byte
		)
		if err := rows.Scan(&seq, &doc); err != nil {
			return ir.TimelinePage{}, wrap(ctx, "timeline of "+string(id), err)
		}
		if len(page.Events) == q.Limit {
			page.Next = seq
			break
		}
		var e ir.Event
		if err := json.Unmarshal(doc, &e); err != nil {
			return ir.TimelinePage{}, fmt.Errorf("sqlite: timeline of %s: decode event %d: %w", id, seq, err)
		}
		e.Seq = seq
		page.Events = append(page.Events, e)
	}
	if err := rows.Err(); err != nil {
		return ir.TimelinePage{}, wrap(ctx, "timeline of "+string(id), err)
	}
	if len(page.Events) == 0 {
		// Every incident has at least its opened event, written with it,
		// so only a page past the end of a known incident is empty.
		var exists bool
		if err := s.q.incidentExists.QueryRowContext(ctx, string(id)).Scan(&exists); err != nil {
			return ir.TimelinePage{}, wrap(ctx, "timeline of "+string(id), err)
		}
		if !exists {
			return ir.TimelinePage{}, fmt.Errorf("sqlite: incident %s: %w", id, ir.ErrNotFound)
		}
	}
	return page, nil
}

// CountOpen implements ir.Store. It reads the counts that triggers keep
// with every incident write, a row per severity and phase.
func (s *Store) CountOpen(ctx context.Context) ([]ir.OpenCount, error) {
	if err := ctxErr(ctx, "count open"); err != nil {
		return nil, err
	}
	rows, err := s.q.countOpen.QueryContext(ctx)
	if err != nil {
		return nil, wrap(ctx, "count open", err)
	}
	defer func() { _ = rows.Close() }()
	var out []ir.OpenCount
	for rows.Next() {
		var (
			severity, phase string
			n               int64
		)
		if err := rows.Scan(&severity, &phase, &n); err != nil {
			return nil, wrap(ctx, "count open", err)
		}
		out = append(out, ir.OpenCount{Severity: ir.Severity(severity), Phase: phases.Phase(phase), Count: n})
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "count open", err)
	}
	ir.SortOpenCounts(out)
	return out, nil
}

// Limits of the Unix nanosecond times the outbox keeps.
var (
	minNanoTime = time.Unix(0, -1<<63)
	maxNanoTime = time.Unix(0, 1<<63-1)
)

// unixNano returns t in Unix nanoseconds, clamped to the range an int64
// holds: a due time centuries away is as good as never, and one centuries
// ago as good as now.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return -1 << 63
	case t.After(maxNanoTime):
		return 1<<63 - 1
	}
	return t.UnixNano()
}

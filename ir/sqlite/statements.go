package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// statements holds the store's prepared statements: those that write on
// the writing connection, the others on the reading ones. database/sql
// prepares each on a connection the first time it runs there, and a
// transaction on the writing connection reuses the writer's.
type statements struct {
	all []*sql.Stmt
	// apply holds the statements of a change, by their index in
	// applySQL.
	apply [numApplyStatements]*sql.Stmt

	// Incidents and timelines.
	getIncident, getIncidentW, countOpen     *sql.Stmt
	timelineUp, timelineDown, incidentExists *sql.Stmt

	// Custody logs.
	readHead, writeHead, insertItem, insertRecord, insertHash *sql.Stmt
	addCheckpoint, caseExists                                 *sql.Stmt
	size, records, lastRecord, item, items, checkpoints       *sql.Stmt
	logHead                                                   *sql.Stmt

	// The outbox.
	claim, ack, retry, outboxEntryExists *sql.Stmt
}

// prepare prepares every statement.
func (q *statements) prepare(ctx context.Context, w, r *sql.DB) error {
	for i := range q.apply {
		st, err := w.PrepareContext(ctx, applySQL(i))
		if err != nil {
			return err
		}
		q.apply[i] = st
		q.all = append(q.all, st)
	}
	for _, s := range []struct {
		dst **sql.Stmt
		db  *sql.DB
		sql string
	}{
		{&q.getIncident, r, `SELECT ` + incidentSelect + `, ` + indexedSelect + ` FROM incidents WHERE id = ?`},
		{&q.getIncidentW, w, `SELECT ` + incidentSelect + `, ` + indexedSelect + ` FROM incidents WHERE id = ?`},
		// Pages of a timeline, either way, each one range of the events'
		// primary key.
		{&q.timelineUp, r, `SELECT seq, doc FROM events WHERE incident_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3`},
		{&q.timelineDown, r, `SELECT seq, doc FROM events WHERE incident_id = ?1 AND seq <= ?2 ORDER BY seq DESC LIMIT ?3`},
		{&q.incidentExists, r, `SELECT EXISTS (SELECT 1 FROM incidents WHERE id = ?)`},
		{&q.countOpen, r, `SELECT severity, phase, n FROM open_counts WHERE n > 0`},

		{&q.readHead, w, `SELECT size, items FROM custody_heads WHERE case_id = ?`},
		{&q.writeHead, w, `INSERT INTO custody_heads (case_id, size, items) VALUES (?1, ?2, ?3)
			ON CONFLICT (case_id) DO UPDATE SET size = ?2, items = ?3`},
		{&q.insertItem, w, `INSERT INTO custody_items (case_id, item_id, ord, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (case_id, item_id) DO NOTHING`},
		{&q.insertRecord, w, `INSERT INTO custody_records (case_id, idx, item_id, data) VALUES (?, ?, ?, ?)`},
		{&q.insertHash, w, `INSERT INTO custody_hashes (case_id, idx, hash) VALUES (?, ?, ?)`},
		{&q.addCheckpoint, w, `INSERT INTO custody_checkpoints (case_id, note_sha256, origin, size, root, note)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM custody_heads WHERE case_id = ?1)
			ON CONFLICT (case_id, note_sha256) DO NOTHING`},
		{&q.caseExists, w, `SELECT EXISTS (SELECT 1 FROM custody_heads WHERE case_id = ?)`},
		{&q.size, r, `SELECT size FROM custody_heads WHERE case_id = ?`},
		{&q.logHead, r, `SELECT size, items,
			coalesce((SELECT max(idx) FROM custody_records WHERE case_id = ?1 AND item_id = ?2), -1)
			FROM custody_heads WHERE case_id = ?1`},
		{&q.records, r, `SELECT data FROM custody_records WHERE case_id = ? AND idx >= ? AND idx < ? ORDER BY idx`},
		{&q.lastRecord, r, `SELECT max(idx) FROM custody_records WHERE case_id = ? AND item_id = ?`},
		{&q.item, r, `SELECT doc FROM custody_items WHERE case_id = ? AND item_id = ?`},
		{&q.items, r, `SELECT doc FROM custody_items WHERE case_id = ? ORDER BY ord`},
		{&q.checkpoints, r, `SELECT origin, size, root, note FROM custody_checkpoints WHERE case_id = ? ORDER BY id`},

		// Due rows, oldest first: not held back by Retry, and not
		// claimed or with a lapsed claim.
		{&q.claim, w, `UPDATE outbox SET claimed_by = ?1, claimed_until = ?2, attempts = attempts + 1
			WHERE id IN (
				SELECT id FROM outbox
				WHERE available_at <= ?3 AND (claimed_until IS NULL OR claimed_until <= ?3)
				ORDER BY id LIMIT ?4)
			RETURNING id, key, incident_id, type, payload, created_at, attempts, last_error`},
		{&q.ack, w, `DELETE FROM outbox WHERE id = ? AND claimed_by = ?`},
		{&q.retry, w, `UPDATE outbox SET claimed_by = NULL, claimed_until = NULL, available_at = ?, last_error = ?
			WHERE id = ? AND claimed_by = ?`},
		{&q.outboxEntryExists, w, `SELECT EXISTS (SELECT 1 FROM outbox WHERE id = ?)`},
	} {
		st, err := s.db.PrepareContext(ctx, s.sql)
		if err != nil {
			return err
		}
		*s.dst = st
		q.all = append(q.all, st)
	}
	return nil
}

// incidentSelect reads an incident of the table incidents whole, in one
// statement and so from one snapshot: its document, and its observables
// and its tasks, each as a JSON array in the order of the list, or NULL
// if the list is empty. The entries are concatenated in the order the
// subquery reads them: SQLite does not flatten an ordered subquery into an
// aggregate, so that such concatenations keep its order, and the order is
// that of the primary key, so nothing is sorted.
const incidentSelect = `incidents.doc,
	(SELECT '[' || group_concat(doc, ',') || ']' FROM
		(SELECT doc FROM incident_observables WHERE incident_id = incidents.id ORDER BY pos)),
	(SELECT '[' || group_concat(doc, ',') || ']' FROM
		(SELECT doc FROM incident_tasks WHERE incident_id = incidents.id ORDER BY pos))`

// The statements of a change, by their index in applySQL. They run on the
// writing connection, through database/sql or on the driver's connection
// directly (see [Store.Apply]).
const (
	// stInsertIncident writes a new incident only if its ID is free.
	stInsertIncident = iota
	// stReadIncident reads the columns of indexed.
	stReadIncident
	// stPutObservable and stPutTask add or replace one entry of a list.
	stPutObservable
	stPutTask
	// stTrimObservables and stTrimTasks remove the entries of a list
	// from a position on.
	stTrimObservables
	stTrimTasks
	stInsertEvent
	stInsertOutbox
	// stUpdate is the first of the incident updates, one per mask of the
	// indexed columns they set (see stUpdateFor).
	stUpdate
	numApplyStatements = stUpdate + 1<<len(indexedColumns)
)

// applySQL returns the SQL of the change's statement i.
func applySQL(i int) string {
	switch i {
	case stInsertIncident:
		return `INSERT INTO incidents
			(id, version, phase, severity, open, opened_sec, opened_nsec, labels, event_count, doc,
				observable_count, task_count)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
			ON CONFLICT (id) DO NOTHING`
	case stReadIncident:
		return `SELECT ` + indexedSelect + ` FROM incidents WHERE id = ?`
	// The entries of an incident's lists, written one by one: added or
	// replaced in place.
	case stPutObservable:
		return `INSERT INTO incident_observables (incident_id, pos, doc) VALUES (?1, ?2, ?3)
			ON CONFLICT (incident_id, pos) DO UPDATE SET doc = ?3`
	case stPutTask:
		return `INSERT INTO incident_tasks (incident_id, pos, doc) VALUES (?1, ?2, ?3)
			ON CONFLICT (incident_id, pos) DO UPDATE SET doc = ?3`
	case stTrimObservables:
		return `DELETE FROM incident_observables WHERE incident_id = ? AND pos >= ?`
	case stTrimTasks:
		return `DELETE FROM incident_tasks WHERE incident_id = ? AND pos >= ?`
	case stInsertEvent:
		return `INSERT INTO events (incident_id, seq, version, type, at, doc) VALUES (?, ?, ?, ?, ?, ?)`
	case stInsertOutbox:
		return `INSERT INTO outbox (key, incident_id, type, payload, created_at, available_at)
			VALUES (?, ?, ?, ?, ?, ?)`
	}
	return updateSQL(i - stUpdate)
}

// indexedColumns are the incident columns that indexes and the labels
// trigger read, in the order of the bits of an update's mask.
var indexedColumns = [...]string{"phase", "severity", "open", "opened_sec", "opened_nsec", "labels"}

// stUpdateFor returns the index of the update of the indexed columns whose
// bits are set in mask.
func stUpdateFor(mask int) int { return stUpdate + mask }

// updateSQL returns the statement that updates an incident over the
// version before ?2: it sets the version to ?2, the event count to ?3, the
// document to ?4, the lengths of the observables and tasks to ?5 and ?6,
// and the indexed columns whose bits are set in mask, with one parameter
// each, in the order of indexedColumns. It changes no row if the incident
// is not at version ?2 - 1. SQLite rewrites the index entries of every
// column an UPDATE sets, changed or not, so an update sets only the
// indexed columns that changed: a transition writes the phase indexes, not
// the severity or time ones.
func updateSQL(mask int) string {
	var sb strings.Builder
	sb.WriteString("UPDATE incidents SET version = ?2, event_count = ?3, doc = ?4, observable_count = ?5, task_count = ?6")
	n := 6
	for i, c := range indexedColumns {
		if mask&(1<<i) != 0 {
			n++
			fmt.Fprintf(&sb, ", %s = ?%d", c, n)
		}
	}
	sb.WriteString(" WHERE id = ?1 AND version = ?2 - 1")
	return sb.String()
}

// close closes every statement prepared.
func (q *statements) close() {
	for _, st := range q.all {
		_ = st.Close() // only fails on a closed pool, which frees it anyway
	}
	q.all = nil
}

// rawStatements are the statements of a change prepared on the driver's
// writing connection, for the transactions that run on it directly (see
// [Store.Apply]). They are prepared on first use and belong to conn; only
// the holder of that connection uses them.
type rawStatements struct {
	conn                    *sqlite3.Conn
	begin, commit, rollback *sqlite3.Stmt
	apply                   [numApplyStatements]*sqlite3.Stmt
	deliveries              [numDeliveryStatements]*sqlite3.Stmt
}

// on returns the statements of conn, finalizing those of another
// connection that database/sql replaced it with.
func (q *rawStatements) on(conn *sqlite3.Conn) *rawStatements {
	if q.conn != conn {
		q.close()
		q.conn = conn
	}
	return q
}

// prepared returns *st, preparing sql on the connection first if needed.
func (q *rawStatements) prepared(st **sqlite3.Stmt, sql string) (*sqlite3.Stmt, error) {
	if *st != nil {
		return *st, nil
	}
	s, _, err := q.conn.Prepare(sql)
	if err != nil {
		return nil, err
	}
	*st = s
	return s, nil
}

// stmt returns the change's statement i.
func (q *rawStatements) stmt(i int) (*sqlite3.Stmt, error) {
	if st := q.apply[i]; st != nil {
		return st, nil
	}
	return q.prepared(&q.apply[i], applySQL(i))
}

// close finalizes every statement, which the connection needs before it
// closes.
func (q *rawStatements) close() {
	all := append([]*sqlite3.Stmt{q.begin, q.commit, q.rollback}, q.apply[:]...)
	for _, st := range append(all, q.deliveries[:]...) {
		_ = st.Close() // a failed statement reports its error again; finalizing frees it anyway
	}
	*q = rawStatements{}
}

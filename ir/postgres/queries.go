package postgres

import "strings"

// queries holds the store's SQL, with the schema's quoted name written
// into every table reference, so that no statement depends on the search
// path of a pooled connection.
type queries struct {
	schema string

	insertIncident, updateIncident, getIncident, countOpen, readLists string
	// incidentColumns is incidentSelect for this schema.
	incidentColumns                          string
	timelineUp, timelineDown, incidentExists string

	lockHead, createHead, insertItems, insertRecords, insertHashes, advanceHead string
	size, records, readHashes, lastRecord, item, items                          string
	logHead                                                                     string
	addCheckpoint, caseExists, checkpoints                                      string

	claim, ack, retry string
}

// newQueries writes the statements for the schema whose quoted identifier
// is schema.
func newQueries(schema string) queries {
	t := func(s string) string { return strings.ReplaceAll(s, "§.", schema+".") }
	return queries{
		schema: schema,

		// A change is one statement: the incident written with its
		// version check, and, from the row it returns, its events
		// (numbered after the timeline's last) and outbox messages. A
		// refused write returns no row, so nothing else is written; the
		// count tells the caller which happened.
		insertIncident: t(`WITH inc AS (
				INSERT INTO §.incidents
					(id, version, phase, severity, open, opened_sec, opened_nsec, labels, event_count, doc,
						observable_count, task_count)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $19, $20)
				ON CONFLICT (id) DO NOTHING
				RETURNING id, version, event_count)` + changeTail),
		updateIncident: t(`WITH inc AS (
				UPDATE §.incidents SET
					version = $2, phase = $3, severity = $4, open = $5, opened_sec = $6, opened_nsec = $7,
					labels = $8, event_count = event_count + $9, doc = $10,
					observable_count = $19, task_count = $20
				WHERE id = $1 AND version = $2 - 1 AND ($25 OR (
					observable_count <= $19 AND task_count <= $20
					AND (SELECT count(*) FROM unnest($21::bigint[]) AS x(pos) WHERE x.pos >= observable_count) = $19 - observable_count
					AND NOT EXISTS (SELECT 1 FROM unnest($21::bigint[]) AS x(pos) WHERE x.pos < observable_count)
					AND (SELECT count(*) FROM unnest($23::bigint[]) AS x(pos) WHERE x.pos >= task_count) = $20 - task_count))
				RETURNING id, version, event_count)` + changeTail),
		getIncident:     t(`SELECT ` + incidentSelect + ` FROM §.incidents WHERE id = $1`),
		readLists:       t(`SELECT version, observable_count, task_count FROM §.incidents WHERE id = $1`),
		incidentColumns: t(incidentSelect),
		// Pages of a timeline, either way, each one range of the events'
		// primary key.
		timelineUp: t(`SELECT seq, doc FROM §.events WHERE incident_id = $1 AND seq >= $2
			ORDER BY seq LIMIT $3`),
		timelineDown: t(`SELECT seq, doc FROM §.events WHERE incident_id = $1 AND seq <= $2
			ORDER BY seq DESC LIMIT $3`),
		incidentExists: t(`SELECT EXISTS (SELECT 1 FROM §.incidents WHERE id = $1)`),
		countOpen:      t(`SELECT severity, phase, n FROM §.open_counts WHERE n > 0`),

		createHead: t(`INSERT INTO §.custody_heads (case_id) VALUES ($1) ON CONFLICT (case_id) DO NOTHING`),
		lockHead:   t(`SELECT size, items FROM §.custody_heads WHERE case_id = $1 FOR UPDATE`),
		insertItems: t(`INSERT INTO §.custody_items (case_id, item_id, ord, doc)
			SELECT $1, i.id, $2 + i.ord, i.doc FROM unnest($3::text[], $4::json[]) WITH ORDINALITY AS i(id, doc, ord)
			ON CONFLICT (case_id, item_id) DO NOTHING`),
		insertRecords: t(`INSERT INTO §.custody_records (case_id, idx, item_id, data)
			SELECT $1, r.idx, r.item, r.data FROM unnest($2::bigint[], $3::text[], $4::bytea[]) AS r(idx, item, data)`),
		insertHashes: t(`INSERT INTO §.custody_hashes (case_id, idx, hash)
			SELECT $1, $2 + h.ord - 1, h.hash FROM unnest($3::bytea[]) WITH ORDINALITY AS h(hash, ord)`),
		advanceHead: t(`UPDATE §.custody_heads SET size = size + $2, items = items + $3 WHERE case_id = $1`),

		size: t(`SELECT size FROM §.custody_heads WHERE case_id = $1`),
		logHead: t(`SELECT size, items,
			coalesce((SELECT max(idx) FROM §.custody_records WHERE case_id = $1 AND item_id = $2), -1)
			FROM §.custody_heads WHERE case_id = $1`),
		records:    t(`SELECT data FROM §.custody_records WHERE case_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`),
		readHashes: t(`SELECT idx, hash FROM §.custody_hashes WHERE case_id = $1 AND idx = ANY($2::bigint[])`),
		lastRecord: t(`SELECT max(idx) FROM §.custody_records WHERE case_id = $1 AND item_id = $2`),
		item:       t(`SELECT doc FROM §.custody_items WHERE case_id = $1 AND item_id = $2`),
		items:      t(`SELECT doc FROM §.custody_items WHERE case_id = $1 ORDER BY ord`),
		addCheckpoint: t(`INSERT INTO §.custody_checkpoints (case_id, note_sha256, origin, size, root, note)
			SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM §.custody_heads WHERE case_id = $1)
			ON CONFLICT (case_id, note_sha256) DO NOTHING`),
		caseExists:  t(`SELECT EXISTS (SELECT 1 FROM §.custody_heads WHERE case_id = $1)`),
		checkpoints: t(`SELECT origin, size, root, note FROM §.custody_checkpoints WHERE case_id = $1 ORDER BY id`),

		// Due rows, oldest first; rows another claimer is claiming right
		// now are skipped rather than waited for.
		// $1 is the time now, or NULL for the server's; $4 the lease's
		// end, or NULL for the server's time plus $5 microseconds.
		claim: t(`WITH due AS (
				SELECT id FROM §.outbox
				WHERE available_at <= coalesce($1::timestamptz, statement_timestamp())
					AND (claimed_until IS NULL OR claimed_until <= coalesce($1::timestamptz, statement_timestamp()))
				ORDER BY id LIMIT $2
				FOR UPDATE SKIP LOCKED)
			UPDATE §.outbox o SET claimed_by = $3,
				claimed_until = coalesce($4::timestamptz, statement_timestamp() + $5::bigint * interval '1 microsecond'),
				attempts = o.attempts + 1
			FROM due WHERE o.id = due.id
			RETURNING o.id, o.key, o.incident_id, o.type, o.payload, o.created_at, o.attempts, o.last_error`),
		// The data-modifying CTE's effect is not visible to the outer
		// query, so "found" reports whether the row existed before it.
		ack: t(`WITH done AS (DELETE FROM §.outbox WHERE id = $1 AND claimed_by = $2 RETURNING 1)
			SELECT (SELECT count(*) FROM done), EXISTS (SELECT 1 FROM §.outbox WHERE id = $1)`),
		retry: t(`WITH back AS (
				UPDATE §.outbox SET claimed_by = NULL, claimed_until = NULL, available_at = $3, last_error = $4
				WHERE id = $1 AND claimed_by = $2 RETURNING 1)
			SELECT (SELECT count(*) FROM back), EXISTS (SELECT 1 FROM §.outbox WHERE id = $1)`),
	}
}

// t writes the schema's quoted name into the table references of query.
func (q queries) t(query string) string { return strings.ReplaceAll(query, "§.", q.schema+".") }

// incidentSelect reads an incident of the table incidents whole, in one
// statement and so from one snapshot: its document, and its observables
// and its tasks, each as a JSON array in the order of the list, or NULL
// if the list is empty.
const incidentSelect = `incidents.doc,
	(SELECT json_agg(o.doc ORDER BY o.pos) FROM §.incident_observables AS o WHERE o.incident_id = incidents.id),
	(SELECT json_agg(k.doc ORDER BY k.pos) FROM §.incident_tasks AS k WHERE k.incident_id = incidents.id)`

// changeTail follows the CTE "inc" that writes an incident: it writes the
// events and outbox messages of the change, and returns the number of
// incidents written and of notifications sent (reading it is what makes
// the notification happen). Its parameters follow those of the incident write: $9 is the
// number of events, $11 to $13 their types, times and JSON, $14 the
// outbox's creation time (NULL for the server's), $15 to $17 the messages' keys, types and
// payloads, and $18 the channel to notify of new messages, which is only
// notified when the change was written and left messages. $19 and $20 are
// the lengths of the incident's observables and tasks after the change,
// $21 and $22 the indexes and JSON of the observables it writes, $23 and
// $24 those of the tasks, and $25 whether it rewrites the lists whole, in
// which case entries past their new ends are removed. $26 and $27 say,
// for each message, where its payload holds the "0" that the Seq of the
// event it reports replaces (a position from 1, or 0 for none) and which
// of the change's events that is (from 1); both are NULL when no message
// carries a Seq.
const changeTail = `,
	obs AS (
		INSERT INTO §.incident_observables (incident_id, pos, doc)
		SELECT inc.id, o.pos, o.doc FROM inc, unnest($21::bigint[], $22::json[]) AS o(pos, doc)
		ON CONFLICT (incident_id, pos) DO UPDATE SET doc = excluded.doc),
	tsk AS (
		INSERT INTO §.incident_tasks (incident_id, pos, doc)
		SELECT inc.id, k.pos, k.doc FROM inc, unnest($23::bigint[], $24::json[]) AS k(pos, doc)
		ON CONFLICT (incident_id, pos) DO UPDATE SET doc = excluded.doc),
	obs_trim AS (
		DELETE FROM §.incident_observables AS d USING inc WHERE $25 AND d.incident_id = inc.id AND d.pos >= $19),
	tsk_trim AS (
		DELETE FROM §.incident_tasks AS d USING inc WHERE $25 AND d.incident_id = inc.id AND d.pos >= $20),
	ev AS (
		INSERT INTO §.events (incident_id, seq, version, type, at, doc)
		SELECT inc.id, inc.event_count - $9 + e.ord, inc.version, e.type, e.at, e.doc
		FROM inc, unnest($11::text[], $12::timestamptz[], $13::json[]) WITH ORDINALITY AS e(type, at, doc, ord)),
	ob AS (
		INSERT INTO §.outbox (key, incident_id, type, payload, created_at, available_at)
		SELECT m.key, inc.id, m.type,
			CASE WHEN coalesce(m.seq_at, 0) > 0
				THEN overlay(m.payload PLACING convert_to((inc.event_count - $9 + m.seq_event)::text, 'UTF8') FROM m.seq_at FOR 1)
				ELSE m.payload END,
			coalesce($14::timestamptz, statement_timestamp()), coalesce($14::timestamptz, statement_timestamp())
		FROM inc, unnest($15::text[], $16::text[], $17::bytea[], $26::integer[], $27::bigint[])
			WITH ORDINALITY AS m(key, type, payload, seq_at, seq_event, ord)
		ORDER BY m.ord),
	nt AS (
		SELECT pg_notify($18, '') FROM inc WHERE cardinality($15::text[]) > 0)
	SELECT count(*), (SELECT count(*) FROM nt) FROM inc`

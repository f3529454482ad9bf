-- The first schema of incidentkit's SQLite store.

-- Incidents: the whole incident as JSON, exactly as encoding/json wrote it
-- (times keep their nanoseconds and zone offsets), plus the columns that
-- listings and counts filter on. IDs compare with the BINARY collation,
-- bytewise as Go strings do, so that keyset paging agrees with ir.Query.
-- The opening time is kept as Unix seconds and nanoseconds, so that filters
-- agree with ir.Query.Matches to the nanosecond. labels is the incident's
-- labels as a JSON array, which triggers copy into incident_labels.
-- event_count is the length of the timeline, from which new events take
-- their Seq.
CREATE TABLE incidents (
	id          TEXT NOT NULL PRIMARY KEY,
	version     INTEGER NOT NULL CHECK (version >= 1),
	phase       TEXT NOT NULL,
	severity    TEXT NOT NULL,
	open        INTEGER NOT NULL CHECK (open IN (0, 1)),
	opened_sec  INTEGER NOT NULL,
	opened_nsec INTEGER NOT NULL CHECK (opened_nsec BETWEEN 0 AND 999999999),
	labels      TEXT NOT NULL,
	event_count INTEGER NOT NULL,
	doc         TEXT NOT NULL
);
-- Listing open (or closed) incidents by phase and severity, newest first:
-- the equality terms pick one range of this index, already in ID order,
-- so a page is read without sorting, and counts read the index alone.
CREATE INDEX incidents_status_phase_severity ON incidents (open, phase, severity, id);
-- Incidents of a phase, or of a severity, newest first.
CREATE INDEX incidents_phase ON incidents (phase, id);
CREATE INDEX incidents_severity ON incidents (severity, id);
-- Open or closed incidents, newest first.
CREATE INDEX incidents_status ON incidents (open, id);
-- Opening time ranges.
CREATE INDEX incidents_opened ON incidents (opened_sec, opened_nsec);

-- Every label of every incident, for label filters.
CREATE TABLE incident_labels (
	incident_id TEXT NOT NULL REFERENCES incidents (id),
	label       TEXT NOT NULL,
	PRIMARY KEY (incident_id, label)
) WITHOUT ROWID;
CREATE INDEX incident_labels_label ON incident_labels (label, incident_id);

CREATE TRIGGER incidents_labels_insert AFTER INSERT ON incidents
BEGIN
	INSERT OR IGNORE INTO incident_labels (incident_id, label)
		SELECT new.id, value FROM json_each(new.labels);
END;
CREATE TRIGGER incidents_labels_update AFTER UPDATE OF labels ON incidents
	WHEN old.labels IS NOT new.labels
BEGIN
	DELETE FROM incident_labels WHERE incident_id = new.id;
	INSERT OR IGNORE INTO incident_labels (incident_id, label)
		SELECT new.id, value FROM json_each(new.labels);
END;

-- Timeline events, numbered from 1 per incident. at is the event's time
-- in RFC 3339, for people reading the file; doc holds the event as JSON.
CREATE TABLE events (
	incident_id TEXT NOT NULL REFERENCES incidents (id),
	seq         INTEGER NOT NULL CHECK (seq >= 1),
	version     INTEGER NOT NULL,
	type        TEXT NOT NULL,
	at          TEXT NOT NULL,
	doc         TEXT NOT NULL,
	PRIMARY KEY (incident_id, seq)
);

-- Custody logs, one per case. Every append reads and writes the head row
-- of its case inside an immediate transaction, so appends from any number
-- of connections and processes follow one another and the log never
-- forks; size and items count what the case holds.
CREATE TABLE custody_heads (
	case_id TEXT NOT NULL PRIMARY KEY,
	size    INTEGER NOT NULL CHECK (size >= 0),
	items   INTEGER NOT NULL CHECK (items >= 0)
);

-- The encoded records, by index in the case's log.
CREATE TABLE custody_records (
	case_id TEXT NOT NULL REFERENCES custody_heads (case_id),
	idx     INTEGER NOT NULL CHECK (idx >= 0),
	item_id TEXT NOT NULL,
	data    BLOB NOT NULL,
	PRIMARY KEY (case_id, idx)
);
CREATE INDEX custody_records_item ON custody_records (case_id, item_id, idx);

-- The stored Merkle tree hashes (tlog.StoredHashIndex numbering).
CREATE TABLE custody_hashes (
	case_id TEXT NOT NULL REFERENCES custody_heads (case_id),
	idx     INTEGER NOT NULL CHECK (idx >= 0),
	hash    BLOB NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (case_id, idx)
) WITHOUT ROWID;

-- Evidence items, as JSON, numbered in the order they were stored.
CREATE TABLE custody_items (
	case_id TEXT NOT NULL REFERENCES custody_heads (case_id),
	item_id TEXT NOT NULL,
	ord     INTEGER NOT NULL,
	doc     TEXT NOT NULL,
	PRIMARY KEY (case_id, item_id),
	UNIQUE (case_id, ord)
);

-- Signed checkpoints, oldest first by id; a note is stored once.
CREATE TABLE custody_checkpoints (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id     TEXT NOT NULL REFERENCES custody_heads (case_id),
	note_sha256 BLOB NOT NULL,
	origin      TEXT NOT NULL,
	size        INTEGER NOT NULL,
	root        BLOB NOT NULL CHECK (length(root) = 32),
	note        BLOB NOT NULL,
	UNIQUE (case_id, note_sha256)
);

-- Timelines and custody logs are append-only in the file too: rows are
-- never changed or deleted.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'incidentkit: events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'incidentkit: events are append-only'); END;
CREATE TRIGGER custody_records_no_update BEFORE UPDATE ON custody_records
BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_records are append-only'); END;
CREATE TRIGGER custody_records_no_delete BEFORE DELETE ON custody_records
BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_records are append-only'); END;
CREATE TRIGGER custody_hashes_no_update BEFORE UPDATE ON custody_hashes
BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_hashes are append-only'); END;
CREATE TRIGGER custody_hashes_no_delete BEFORE DELETE ON custody_hashes
BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_hashes are append-only'); END;
CREATE TRIGGER custody_items_no_update BEFORE UPDATE ON custody_items
BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_items are append-only'); END;
CREATE TRIGGER custody_items_no_delete BEFORE DELETE ON custody_items
BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_items are append-only'); END;
CREATE TRIGGER custody_checkpoints_no_update BEFORE UPDATE ON custody_checkpoints
BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_checkpoints are append-only'); END;
CREATE TRIGGER custody_checkpoints_no_delete BEFORE DELETE ON custody_checkpoints
BEGIN SELECT RAISE(ABORT, 'incidentkit: custody_checkpoints are append-only'); END;

-- The outbox: messages waiting for delivery, oldest first by id
-- (AUTOINCREMENT: an acknowledged message's id is never reused, so a late
-- Ack of it cannot remove another). A message is due when available_at
-- has come and no claim holds it (claimed_until unset or passed);
-- claimed_by stays set after a claim lapses, so that the claimer can still
-- acknowledge it if nobody else took it. available_at and claimed_until
-- are Unix nanoseconds; created_at is RFC 3339 with nanoseconds and the
-- clock's zone offset.
CREATE TABLE outbox (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	key           TEXT NOT NULL,
	incident_id   TEXT NOT NULL,
	type          TEXT NOT NULL,
	payload       BLOB NOT NULL,
	created_at    TEXT NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	available_at  INTEGER NOT NULL,
	claimed_by    TEXT,
	claimed_until INTEGER,
	last_error    TEXT NOT NULL DEFAULT ''
);

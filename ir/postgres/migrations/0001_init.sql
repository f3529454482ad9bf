-- The first schema of incidentkit's PostgreSQL store. It runs with the
-- search path set to the store's schema, so names here are unqualified.

-- Incidents: the whole incident as JSON, exactly as encoding/json wrote it
-- (times keep their nanoseconds and zone offsets), plus the columns that
-- listings and counts filter on. IDs compare bytewise (COLLATE "C"), as
-- Go strings do, so that keyset paging agrees with ir.Query. The opening
-- time is kept as Unix seconds and nanoseconds, so that filters agree with
-- ir.Query.Matches to the nanosecond. event_count is the length of the
-- timeline, from which new events take their Seq.
CREATE TABLE incidents (
	id          text COLLATE "C" PRIMARY KEY,
	version     bigint NOT NULL CHECK (version >= 1),
	phase       text NOT NULL,
	severity    text NOT NULL,
	open        boolean NOT NULL,
	opened_sec  bigint NOT NULL,
	opened_nsec integer NOT NULL CHECK (opened_nsec BETWEEN 0 AND 999999999),
	labels      text[] NOT NULL,
	event_count bigint NOT NULL,
	doc         json NOT NULL
);
CREATE INDEX incidents_open_idx ON incidents (severity, phase) WHERE open;
CREATE INDEX incidents_phase_idx ON incidents (phase, id);
CREATE INDEX incidents_severity_idx ON incidents (severity, id);
CREATE INDEX incidents_opened_idx ON incidents (opened_sec, opened_nsec);
CREATE INDEX incidents_labels_idx ON incidents USING gin (labels);

-- Timeline events, numbered from 1 per incident.
CREATE TABLE events (
	incident_id text COLLATE "C" NOT NULL REFERENCES incidents (id),
	seq         bigint NOT NULL CHECK (seq >= 1),
	version     bigint NOT NULL,
	type        text NOT NULL,
	at          timestamptz NOT NULL,
	doc         json NOT NULL,
	PRIMARY KEY (incident_id, seq)
);

-- Custody logs, one per case. The head row of a case is locked by every
-- append, so that appends from any number of processes follow one another
-- and the log never forks; size and items count what the case holds.
CREATE TABLE custody_heads (
	case_id text COLLATE "C" PRIMARY KEY,
	size    bigint NOT NULL DEFAULT 0,
	items   integer NOT NULL DEFAULT 0
);

-- The encoded records, by index in the case's log.
CREATE TABLE custody_records (
	case_id text COLLATE "C" NOT NULL,
	idx     bigint NOT NULL CHECK (idx >= 0),
	item_id text COLLATE "C" NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (case_id, idx)
);
CREATE INDEX custody_records_item_idx ON custody_records (case_id, item_id, idx);

-- The stored Merkle tree hashes (tlog.StoredHashIndex numbering).
CREATE TABLE custody_hashes (
	case_id text COLLATE "C" NOT NULL,
	idx     bigint NOT NULL CHECK (idx >= 0),
	hash    bytea NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (case_id, idx)
);

-- Evidence items, as JSON, numbered in the order they were stored.
CREATE TABLE custody_items (
	case_id text COLLATE "C" NOT NULL,
	item_id text COLLATE "C" NOT NULL,
	ord     integer NOT NULL,
	doc     json NOT NULL,
	PRIMARY KEY (case_id, item_id),
	UNIQUE (case_id, ord)
);

-- Signed checkpoints, oldest first by id; a note is stored once.
CREATE TABLE custody_checkpoints (
	id          bigserial PRIMARY KEY,
	case_id     text COLLATE "C" NOT NULL,
	note_sha256 bytea NOT NULL,
	origin      text NOT NULL,
	size        bigint NOT NULL,
	root        bytea NOT NULL,
	note        bytea NOT NULL,
	UNIQUE (case_id, note_sha256)
);

-- Timelines and custody logs are append-only: rows are never changed or
-- deleted, and the tables are never truncated.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'incidentkit: % is append-only', TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER custody_records_append_only BEFORE UPDATE OR DELETE ON custody_records
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER custody_records_no_truncate BEFORE TRUNCATE ON custody_records
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER custody_hashes_append_only BEFORE UPDATE OR DELETE ON custody_hashes
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER custody_hashes_no_truncate BEFORE TRUNCATE ON custody_hashes
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER custody_items_append_only BEFORE UPDATE OR DELETE ON custody_items
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER custody_items_no_truncate BEFORE TRUNCATE ON custody_items
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER custody_checkpoints_append_only BEFORE UPDATE OR DELETE ON custody_checkpoints
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER custody_checkpoints_no_truncate BEFORE TRUNCATE ON custody_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The outbox: messages waiting for delivery, oldest first by id. A message
-- is due when available_at has come and no claim holds it (claimed_until
-- unset or passed); claimed_by stays set after a claim lapses, so that the
-- claimer can still acknowledge it if nobody else took it.
CREATE TABLE outbox (
	id            bigserial PRIMARY KEY,
	key           text NOT NULL,
	incident_id   text COLLATE "C" NOT NULL,
	type          text NOT NULL,
	payload       bytea NOT NULL,
	created_at    timestamptz NOT NULL,
	attempts      integer NOT NULL DEFAULT 0,
	available_at  timestamptz NOT NULL,
	claimed_by    text,
	claimed_until timestamptz,
	last_error    text NOT NULL DEFAULT ''
);

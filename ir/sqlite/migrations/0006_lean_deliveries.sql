-- Deliveries without what their writes paid for and no statement needs.
-- An id is the rowid: a delivery is never deleted, so an id is never
-- reused without AUTOINCREMENT's counter. A message's deliveries are
-- written once, in the transaction that removes it from the outbox
-- (fanned out, or recorded with their outcomes), so (outbox_id, channel)
-- is unique without an index to say so. And the claim walks
-- deliveries_pending stream by stream, so no index of the pending
-- deliveries in outbox order is read.
CREATE TABLE deliveries_lean (
	id             INTEGER PRIMARY KEY,
	outbox_id      INTEGER NOT NULL,
	key            TEXT NOT NULL,
	incident_id    TEXT NOT NULL,
	type           TEXT NOT NULL,
	channel        TEXT NOT NULL,
	route          TEXT NOT NULL,
	audience       TEXT NOT NULL,
	payload        BLOB NOT NULL,
	status         TEXT NOT NULL CHECK (status = 'pending' OR status = 'delivered' OR status = 'dead' OR status = 'held'),
	attempts       INTEGER NOT NULL DEFAULT 0,
	created_at     TEXT NOT NULL,
	next_at        INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	claimed_by     TEXT,
	claimed_until  INTEGER,
	last_error     TEXT NOT NULL DEFAULT '',
	receipt_id     TEXT NOT NULL DEFAULT '',
	receipt_status INTEGER NOT NULL DEFAULT 0
);
INSERT INTO deliveries_lean (id, outbox_id, key, incident_id, type, channel, route, audience, payload, status,
	attempts, created_at, next_at, updated_at, claimed_by, claimed_until, last_error, receipt_id, receipt_status)
SELECT id, outbox_id, key, incident_id, type, channel, route, audience, payload, status,
	attempts, created_at, next_at, updated_at, claimed_by, claimed_until, last_error, receipt_id, receipt_status
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_lean RENAME TO deliveries;
CREATE INDEX deliveries_pending ON deliveries (incident_id, channel, outbox_id) WHERE status = 'pending';
CREATE INDEX deliveries_incident ON deliveries (incident_id, outbox_id);
CREATE INDEX deliveries_dead ON deliveries (channel, id) WHERE status = 'dead';

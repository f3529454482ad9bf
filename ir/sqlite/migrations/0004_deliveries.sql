-- Deliveries: each outbox message, once a dispatcher has routed it, becomes
-- one row per channel it goes to, with its own state, in the transaction
-- that removes the message from the outbox. status is pending, delivered,
-- dead or held (the channel's TLP clearance refused the message; never
-- delivered). A pending delivery is due when next_at has come and no claim
-- holds it. An incident's deliveries to one channel are made in outbox_id
-- order. next_at, updated_at and claimed_until are Unix nanoseconds;
-- created_at is the outbox message's, RFC 3339 with nanoseconds.
CREATE TABLE deliveries (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	outbox_id      INTEGER NOT NULL,
	key            TEXT NOT NULL,
	incident_id    TEXT NOT NULL,
	type           TEXT NOT NULL,
	channel        TEXT NOT NULL,
	route          TEXT NOT NULL,
	audience       TEXT NOT NULL,
	payload        BLOB NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'held')),
	attempts       INTEGER NOT NULL DEFAULT 0,
	created_at     TEXT NOT NULL,
	next_at        INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	claimed_by     TEXT,
	claimed_until  INTEGER,
	last_error     TEXT NOT NULL DEFAULT '',
	receipt_id     TEXT NOT NULL DEFAULT '',
	receipt_status INTEGER NOT NULL DEFAULT 0,
	UNIQUE (outbox_id, channel)
);
CREATE INDEX deliveries_pending ON deliveries (incident_id, channel, outbox_id) WHERE status = 'pending';
CREATE INDEX deliveries_due ON deliveries (outbox_id, id) WHERE status = 'pending';
CREATE INDEX deliveries_incident ON deliveries (incident_id, outbox_id);
CREATE INDEX deliveries_dead ON deliveries (channel, id) WHERE status = 'dead';
-- A delivery waits for the earlier messages of its incident still in the
-- outbox.
CREATE INDEX outbox_incident ON outbox (incident_id, id);

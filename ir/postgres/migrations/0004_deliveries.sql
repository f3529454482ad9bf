-- Deliveries: each outbox message, once a dispatcher has routed it, becomes
-- one row per channel it goes to, with its own state, in the transaction
-- that removes the message from the outbox. status is pending, delivered,
-- dead or held (the channel's TLP clearance refused the message; never
-- delivered). A pending delivery is due when next_at has come and no claim
-- holds it. An incident's deliveries to one channel are made in outbox_id
-- order. created_at is the outbox message's.
CREATE TABLE deliveries (
	id             bigserial PRIMARY KEY,
	outbox_id      bigint NOT NULL,
	key            text NOT NULL,
	incident_id    text COLLATE "C" NOT NULL,
	type           text NOT NULL,
	channel        text COLLATE "C" NOT NULL,
	route          text NOT NULL,
	audience       text NOT NULL,
	payload        bytea NOT NULL,
	status         text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'held')),
	attempts       integer NOT NULL DEFAULT 0,
	created_at     timestamptz NOT NULL,
	next_at        timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL,
	claimed_by     text,
	claimed_until  timestamptz,
	last_error     text NOT NULL DEFAULT '',
	receipt_id     text NOT NULL DEFAULT '',
	receipt_status integer NOT NULL DEFAULT 0,
	UNIQUE (outbox_id, channel)
);
CREATE INDEX deliveries_pending ON deliveries (incident_id, channel, outbox_id) WHERE status = 'pending';
CREATE INDEX deliveries_due ON deliveries (outbox_id, id) WHERE status = 'pending';
CREATE INDEX deliveries_incident ON deliveries (incident_id, outbox_id);
CREATE INDEX deliveries_dead ON deliveries (channel, id) WHERE status = 'dead';
-- A delivery waits for the earlier messages of its incident still in the
-- outbox.
CREATE INDEX outbox_incident ON outbox (incident_id, id);

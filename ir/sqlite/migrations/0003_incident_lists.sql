-- The lists that grow with the work, an incident's observables and tasks,
-- move out of the incident's document into tables of their own, one row
-- per entry, keyed by the incident and the entry's index in its list. A
-- change then writes only the entries it adds or alters, and the document
-- it rewrites stays small however many entries the incident holds.
-- observable_count and task_count are the lists' lengths, which a change
-- that names its entries is checked against.
CREATE TABLE incident_observables (
	incident_id TEXT NOT NULL REFERENCES incidents (id),
	pos         INTEGER NOT NULL CHECK (pos >= 0),
	doc         TEXT NOT NULL,
	PRIMARY KEY (incident_id, pos)
) WITHOUT ROWID;
CREATE TABLE incident_tasks (
	incident_id TEXT NOT NULL REFERENCES incidents (id),
	pos         INTEGER NOT NULL CHECK (pos >= 0),
	doc         TEXT NOT NULL,
	PRIMARY KEY (incident_id, pos)
) WITHOUT ROWID;
ALTER TABLE incidents ADD COLUMN observable_count INTEGER NOT NULL DEFAULT 0 CHECK (observable_count >= 0);
ALTER TABLE incidents ADD COLUMN task_count INTEGER NOT NULL DEFAULT 0 CHECK (task_count >= 0);

-- The incidents already stored: their entries move, in order, and their
-- documents lose the lists.
INSERT INTO incident_observables (incident_id, pos, doc)
	SELECT incidents.id, e.key, e.value FROM incidents, json_each(incidents.doc, '$.observables') AS e;
INSERT INTO incident_tasks (incident_id, pos, doc)
	SELECT incidents.id, e.key, e.value FROM incidents, json_each(incidents.doc, '$.tasks') AS e;
UPDATE incidents SET
	observable_count = coalesce(json_array_length(doc, '$.observables'), 0),
	task_count = coalesce(json_array_length(doc, '$.tasks'), 0),
	doc = json_remove(doc, '$.observables', '$.tasks')
WHERE json_type(doc, '$.observables') IS NOT NULL OR json_type(doc, '$.tasks') IS NOT NULL;

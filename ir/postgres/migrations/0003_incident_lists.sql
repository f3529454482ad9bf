-- The lists that grow with the work, an incident's observables and tasks,
-- move out of the incident's document into tables of their own, one row
-- per entry, keyed by the incident and the entry's index in its list. A
-- change then writes only the entries it adds or alters, and the document
-- it rewrites stays small however many entries the incident holds.
-- observable_count and task_count are the lists' lengths, which a change
-- that names its entries is checked against.
CREATE TABLE incident_observables (
	incident_id text COLLATE "C" NOT NULL REFERENCES incidents (id),
	pos         integer NOT NULL CHECK (pos >= 0),
	doc         json NOT NULL,
	PRIMARY KEY (incident_id, pos)
);
CREATE TABLE incident_tasks (
	incident_id text COLLATE "C" NOT NULL REFERENCES incidents (id),
	pos         integer NOT NULL CHECK (pos >= 0),
	doc         json NOT NULL,
	PRIMARY KEY (incident_id, pos)
);
ALTER TABLE incidents
	ADD COLUMN observable_count integer NOT NULL DEFAULT 0 CHECK (observable_count >= 0),
	ADD COLUMN task_count integer NOT NULL DEFAULT 0 CHECK (task_count >= 0);

-- The incidents already stored: their entries move, in order, and their
-- documents lose the lists.
INSERT INTO incident_observables (incident_id, pos, doc)
	SELECT i.id, e.ord - 1, e.value
	FROM incidents i CROSS JOIN LATERAL json_array_elements(i.doc -> 'observables') WITH ORDINALITY AS e(value, ord)
	WHERE json_typeof(i.doc -> 'observables') = 'array';
INSERT INTO incident_tasks (incident_id, pos, doc)
	SELECT i.id, e.ord - 1, e.value
	FROM incidents i CROSS JOIN LATERAL json_array_elements(i.doc -> 'tasks') WITH ORDINALITY AS e(value, ord)
	WHERE json_typeof(i.doc -> 'tasks') = 'array';
UPDATE incidents SET
	observable_count = CASE WHEN json_typeof(doc -> 'observables') = 'array' THEN json_array_length(doc -> 'observables') ELSE 0 END,
	task_count = CASE WHEN json_typeof(doc -> 'tasks') = 'array' THEN json_array_length(doc -> 'tasks') ELSE 0 END,
	doc = (doc::jsonb - 'observables' - 'tasks')::json
WHERE doc -> 'observables' IS NOT NULL OR doc -> 'tasks' IS NOT NULL;

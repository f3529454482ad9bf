-- Open incidents counted by severity and phase, and every label of every
-- incident in a table of its own, both kept by a trigger in the
-- transaction of every incident write: counting reads a few rows, and a
-- label listing walks one range of the label index, newest first, however
-- many incidents there are. Both start from the incidents already stored.
CREATE TABLE open_counts (
	severity text NOT NULL,
	phase    text NOT NULL,
	n        bigint NOT NULL,
	PRIMARY KEY (severity, phase)
);
INSERT INTO open_counts (severity, phase, n)
	SELECT severity, phase, count(*) FROM incidents WHERE open GROUP BY severity, phase;

CREATE TABLE incident_labels (
	incident_id text COLLATE "C" NOT NULL REFERENCES incidents (id),
	label       text NOT NULL,
	PRIMARY KEY (incident_id, label)
);
CREATE INDEX incident_labels_label_idx ON incident_labels (label, incident_id);
INSERT INTO incident_labels (incident_id, label)
	SELECT DISTINCT i.id, l.label FROM incidents i CROSS JOIN unnest(i.labels) AS l(label);

-- The counts of one change are written in one statement, in key order, so
-- that two changes moving incidents between the same groups lock the
-- groups' rows in the same order and never deadlock. The function runs
-- with the search path it was created with, the store's schema.
CREATE FUNCTION incidents_keep_index() RETURNS trigger LANGUAGE plpgsql
	SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'INSERT' OR (OLD.open, OLD.severity, OLD.phase) IS DISTINCT FROM (NEW.open, NEW.severity, NEW.phase) THEN
		INSERT INTO open_counts AS c (severity, phase, n)
			SELECT d.severity, d.phase, sum(d.n) FROM (
				SELECT OLD.severity, OLD.phase, -1 WHERE TG_OP = 'UPDATE' AND OLD.open
				UNION ALL
				SELECT NEW.severity, NEW.phase, 1 WHERE NEW.open
			) AS d(severity, phase, n)
			GROUP BY d.severity, d.phase
			ORDER BY d.severity, d.phase
			ON CONFLICT (severity, phase) DO UPDATE SET n = c.n + excluded.n;
	END IF;
	IF TG_OP = 'INSERT' OR OLD.labels IS DISTINCT FROM NEW.labels THEN
		IF TG_OP = 'UPDATE' THEN
			DELETE FROM incident_labels WHERE incident_id = NEW.id AND NOT label = ANY (NEW.labels);
		END IF;
		INSERT INTO incident_labels (incident_id, label)
			SELECT NEW.id, l FROM unnest(NEW.labels) AS l
			ON CONFLICT DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;
-- An update that changes none of the columns kept runs no function.
CREATE TRIGGER incidents_keep_index_insert AFTER INSERT ON incidents
	FOR EACH ROW EXECUTE FUNCTION incidents_keep_index();
CREATE TRIGGER incidents_keep_index_update AFTER UPDATE ON incidents
	FOR EACH ROW
	WHEN ((OLD.open, OLD.severity, OLD.phase, OLD.labels) IS DISTINCT FROM (NEW.open, NEW.severity, NEW.phase, NEW.labels))
	EXECUTE FUNCTION incidents_keep_index();

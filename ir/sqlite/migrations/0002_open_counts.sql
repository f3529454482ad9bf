-- Open incidents counted by severity and phase. Triggers keep the counts
-- in the transaction of every incident write, so counting reads a few rows
-- whatever the number of incidents. The counts start from the incidents
-- already stored.
CREATE TABLE open_counts (
	severity TEXT NOT NULL,
	phase    TEXT NOT NULL,
	n        INTEGER NOT NULL CHECK (n >= 0),
	PRIMARY KEY (severity, phase)
) WITHOUT ROWID;
INSERT INTO open_counts (severity, phase, n)
	SELECT severity, phase, count(*) FROM incidents WHERE open = 1 GROUP BY severity, phase;

CREATE TRIGGER incidents_count_insert AFTER INSERT ON incidents
	WHEN new.open = 1
BEGIN
	INSERT INTO open_counts (severity, phase, n) VALUES (new.severity, new.phase, 1)
		ON CONFLICT (severity, phase) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER incidents_count_update AFTER UPDATE OF open, severity, phase ON incidents
	WHEN old.open IS NOT new.open OR old.severity IS NOT new.severity OR old.phase IS NOT new.phase
BEGIN
	UPDATE open_counts SET n = n - 1
		WHERE old.open = 1 AND severity = old.severity AND phase = old.phase;
	INSERT INTO open_counts (severity, phase, n) SELECT new.severity, new.phase, 1 WHERE new.open = 1
		ON CONFLICT (severity, phase) DO UPDATE SET n = n + 1;
END;

-- The incidents whose deadline clocks need attention, found by an index
-- of the time the incident's document gives for it (clock_due, in UTC to
-- the second, so that it sorts as text), over the incidents that have
-- one: the clock runner reads one range of it instead of every incident.
CREATE INDEX incidents_clock_due_idx ON incidents (((doc ->> 'clock_due') COLLATE "C"), id)
	WHERE doc ->> 'clock_due' IS NOT NULL;

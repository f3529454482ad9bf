package sqlite

import (
	"sync"

	"github.com/ncruces/go-sqlite3"
)

// indexed is what an incident's row holds at one version besides its
// document: the length of its timeline and of its lists, and the columns that indexes and
// the labels trigger read.
type indexed struct {
	version, eventCount   int64
	phase, severity       string
	open                  bool
	openedSec, openedNsec int64
	labels                string
	// observables and tasks are the lengths of the incident's lists.
	observables, tasks int64
}

// dests returns the destinations of a scan of the columns that
// indexedSelect lists.
func (x *indexed) dests() []any {
	return []any{&x.version, &x.eventCount, &x.phase, &x.severity, &x.open, &x.openedSec, &x.openedNsec, &x.labels,
		&x.observables, &x.tasks}
}

// scanRaw reads the columns that indexedSelect lists from the row st
// stands on.
func (x *indexed) scanRaw(st *sqlite3.Stmt) {
	*x = indexed{
		version: st.ColumnInt64(0), eventCount: st.ColumnInt64(1), phase: st.ColumnText(2), severity: st.ColumnText(3),
		open: st.ColumnInt64(4) != 0, openedSec: st.ColumnInt64(5), openedNsec: st.ColumnInt64(6), labels: st.ColumnText(7),
		observables: st.ColumnInt64(8), tasks: st.ColumnInt64(9),
	}
}

// indexedSelect lists the columns of indexed, in the order of its dests.
const indexedSelect = "version, event_count, phase, severity, open, opened_sec, opened_nsec, labels, observable_count, task_count"

// columnCacheSize bounds the incidents a columnCache remembers.
const columnCacheSize = 1024

// columnCache remembers, for the incidents a Store read or wrote last, the
// indexed columns of their row at the version it saw. A version of an
// incident is written once (every update checks the version it follows),
// so a remembered version is exactly what the row held at that version,
// whoever wrote it since: an update over that version may compare its new
// values with the remembered ones to learn which indexed columns change,
// and how long the timeline is, instead of reading the row again. It is safe for concurrent use.
type columnCache struct {
	mu sync.Mutex
	m  map[string]indexed
}

// get returns what the cache remembers of incident id.
func (c *columnCache) get(id string) (indexed, bool) {
	c.mu.Lock()
	x, ok := c.m[id]
	c.mu.Unlock()
	return x, ok
}

// put remembers x for incident id, unless the cache holds a later version
// already. A full cache forgets some other incident first.
func (c *columnCache) put(id string, x indexed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[id]
	if ok && old.version >= x.version {
		return
	}
	if c.m == nil {
		c.m = make(map[string]indexed)
	}
	if !ok && len(c.m) >= columnCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = x
}

package ir

import "sync"

// writtenCacheSize bounds the incidents a [writtenCache] keeps.
const writtenCacheSize = 256

// writtenCache keeps, for the incidents a [Responder] changed last, each
// incident as the Responder last wrote it, so that the next change to it
// starts from there instead of reading the whole incident back from the
// store: a change then costs what it touches, however many observables and
// tasks the incident holds. If another writer changed the incident since,
// the store's version check refuses the change and the Responder reads the
// incident again.
//
// The Responder takes an incident's entry while it holds the incident's
// turn (see [incidentLocks]) and puts the result back, so only one change
// uses an entry at a time. An entry owns the spare capacity of its lists:
// the next change appends into it, and the copies handed to callers are
// capped below it (see [Incident.shared]). It is safe for concurrent use.
type writtenCache struct {
	mu sync.Mutex
	m  map[ID]*Incident
}

// take removes and returns the incident kept for id, or nil.
func (c *writtenCache) take(id ID) *Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := c.m[id]
	delete(c.m, id)
	return inc
}

// put keeps inc, which the cache owns from now on. A full cache forgets
// some other incident first.
func (c *writtenCache) put(inc *Incident) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[ID]*Incident)
	}
	if _, ok := c.m[inc.ID]; !ok && len(c.m) >= writtenCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[inc.ID] = inc
}

package ir

import (
	"context"
	"sync"
)

// incidentLocks serialises the changes a [Responder] makes to one incident,
// so that its writers queue in the process instead of racing each other to
// the store's version check: only writers in other processes (or other
// Responders) can make a change conflict.
//
// Each incident being changed has one entry, counted by the callers that
// hold or wait for it and removed when the last of them is done, so the map
// holds only incidents being changed now, never every incident touched.
type incidentLocks struct {
	mu sync.Mutex
	m  map[ID]*incidentLock
}

// incidentLock is the lock of one incident. Holding it means having put
// the one token into slot; callers waiting for it are queued on the
// channel in the order they came, and a waiter can give up when its
// context ends.
type incidentLock struct {
	slot chan struct{}
	// users counts the callers holding or waiting for the lock; it is
	// guarded by incidentLocks.mu.
	users int
}

// incidentTurn is a caller's hold on an incident's lock.
type incidentTurn struct {
	locks *incidentLocks
	id    ID
	e     *incidentLock
}

// lock waits until the caller holds id's lock and returns its turn, to be
// released with [incidentTurn.release]. If ctx ends first, it returns
// ctx's error and holds nothing; a caller whose context has ended by the
// time it gets the lock gives it back at once and returns ctx's error too,
// so that nothing is written for it.
func (l *incidentLocks) lock(ctx context.Context, id ID) (*incidentTurn, error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[ID]*incidentLock)
	}
	e := l.m[id]
	if e == nil {
		e = &incidentLock{slot: make(chan struct{}, 1)}
		l.m[id] = e
	}
	e.users++
	l.mu.Unlock()

	select {
	case e.slot <- struct{}{}:
		if err := ctx.Err(); err != nil {
			<-e.slot
			l.leave(id, e)
			return nil, err
		}
		return &incidentTurn{locks: l, id: id, e: e}, nil
	case <-ctx.Done():
		l.leave(id, e)
		return nil, ctx.Err()
	}
}

// release gives the lock up.
func (t *incidentTurn) release() {
	<-t.e.slot
	t.locks.leave(t.id, t.e)
}

// leave counts one caller of e out, and removes e when no one holds or
// waits for it.
func (l *incidentLocks) leave(id ID, e *incidentLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.users--
	if e.users == 0 {
		delete(l.m, id)
	}
}

// len returns how many incidents have an entry: those being changed, or
// waited for, now.
func (l *incidentLocks) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

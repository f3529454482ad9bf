package ir

import (
	"context"
	"slices"
	"time"
)

var _ ClockIndex = (*MemoryStore)(nil)

// DueClocks implements [ClockIndex]. It looks at every incident the store
// holds, which suits the sizes a memory store is for.
func (s *MemoryStore) DueClocks(ctx context.Context, now time.Time, limit int) ([]ID, error) {
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: due clocks", err: err}
	}
	if limit <= 0 {
		return nil, invalid("limit", "", "must be positive")
	}
	s.mu.RLock()
	type due struct {
		id ID
		at time.Time
	}
	var all []due
	for id, inc := range s.incidents {
		if !inc.ClockDue.IsZero() && !inc.ClockDue.After(now) {
			all = append(all, due{id, inc.ClockDue})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b due) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return compareIDs(a.id, b.id)
	})
	out := make([]ID, 0, min(limit, len(all)))
	for _, d := range all[:min(limit, len(all))] {
		out = append(out, d.id)
	}
	return out, nil
}

// compareIDs orders IDs as strings.
func compareIDs(a, b ID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

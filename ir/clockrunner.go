package ir

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ClockIndex is implemented by stores that find the incidents whose clocks
// need attention without reading every incident: they index
// [Incident.ClockDue], which the Responder keeps. [NewMemoryStore] and the
// sqlite and postgres stores implement it; with a store that does not,
// [Responder.RunClocksOnce] reads the open incidents a page at a time.
type ClockIndex interface {
	// DueClocks returns the IDs of up to limit incidents whose ClockDue
	// is set and not after now, earliest due first.
	DueClocks(ctx context.Context, now time.Time, limit int) ([]ID, error)
}

// clockBatch is how many due incidents a pass of the clock runner checks
// at most, with a [ClockIndex]; the next pass checks those left.
const clockBatch = 1000

// RunClocksOnce checks the clocks of every incident whose clocks need
// attention now (see [Responder.CheckClocks]), as [ClockActor], and
// returns how many near and missed deadlines it recorded. With a
// [ClockIndex] it checks at most 1000 incidents; the next pass checks the
// rest. Several callers,
// in one process or in several sharing a store, may run it at once: each
// event is recorded once. An incident that cannot be checked (its
// change is refused) is skipped and its error returned, joined with the
// others, after the others are checked.
func (r *Responder) RunClocksOnce(ctx context.Context) (recorded int, err error) {
	ctx, span := r.tel.start(ctx, "run_clocks", "")
	defer func() { r.tel.end(ctx, span, err) }()
	now := r.clock.Now()
	ids, err := r.dueClocks(ctx, now)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, id := range ids {
		_, n, err := r.checkClocks(ctx, ClockActor, id)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil && ctx.Err() != nil:
			return recorded, err
		case err != nil:
			errs = append(errs, fmt.Errorf("ir: check clocks of %s: %w", id, err))
		}
		recorded += n
	}
	return recorded, errors.Join(errs...)
}

// dueClocks returns the incidents whose clocks need attention at now.
func (r *Responder) dueClocks(ctx context.Context, now time.Time) ([]ID, error) {
	if ix, ok := r.store.(ClockIndex); ok {
		ids, err := ix.DueClocks(ctx, now, clockBatch)
		if err != nil {
			return nil, fmt.Errorf("ir: find due clocks: %w", err)
		}
		return ids, nil
	}
	var out []ID
	// Closed incidents too: a regulator's clock runs on after the
	// incident closes.
	q := Query{Status: StatusAny, Limit: MaxPageSize}
	for {
		page, err := r.store.List(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("ir: find due clocks: %w", err)
		}
		for _, inc := range page.Incidents {
			if !inc.ClockDue.IsZero() && !inc.ClockDue.After(now) {
				out = append(out, inc.ID)
			}
		}
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}

// RunClocks runs [Responder.RunClocksOnce] every interval until ctx ends,
// and returns ctx's error. Errors of a pass are logged and the next pass
// runs. A service runs it beside its Responder, in a goroutine of its
// own; every instance of a service may run it.
func (r *Responder) RunClocks(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return invalid("clock interval", interval.String(), "must be positive")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.RunClocksOnce(ctx); err != nil && ctx.Err() == nil {
			r.logger.WarnContext(ctx, "ir: checking clocks failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

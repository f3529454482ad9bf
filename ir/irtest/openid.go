package irtest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
)

// TestOpenWithID checks [ir.Responder.OpenWithID] on the stores newStore
// makes: of many openers racing to open one ID, through two Responders
// sharing the store as two processes would, exactly one opens the incident
// and every other gets an error matching [ir.ErrConflict]; the incident has
// the ID given and one opened event; and IDs of the wrong form are refused
// with [ir.ErrInvalid] before anything is written. newStore must return a
// new, empty store each time it is called, and release it with t.Cleanup.
func TestOpenWithID(t *testing.T, newStore func(t *testing.T) ir.Store) {
	t.Run("race", func(t *testing.T) {
		ctx := context.Background()
		store := newStore(t)
		var responders [2]*ir.Responder
		for i := range responders {
			r, err := ir.NewResponder(ir.Config{Store: store})
			require.NoError(t, err)
			t.Cleanup(func() { _ = r.Shutdown(ctx) })
			responders[i] = r
		}
		const id = ir.ID("0190a5c0-0000-8000-8000-00000000a1e7")
		actor := ir.Actor{ID: "alertmanager", Kind: ir.ActorService}
		const openers = 16
		errs := make([]error, openers)
		var wg sync.WaitGroup
		for i := range openers {
			wg.Go(func() {
				_, errs[i] = responders[i%2].OpenWithID(ctx, actor, id, ir.NewIncident{Title: "Disk full on db-1", Severity: ir.SeverityHigh})
			})
		}
		wg.Wait()
		opened := 0
		for _, err := range errs {
			if err == nil {
				opened++
				continue
			}
			assert.ErrorIs(t, err, ir.ErrConflict)
		}
		assert.Equal(t, 1, opened, "openers that opened the incident")
		inc, err := store.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, id, inc.ID)
		assert.Equal(t, int64(1), inc.Version)
		page, err := store.Timeline(ctx, id, ir.TimelineQuery{})
		require.NoError(t, err)
		require.Len(t, page.Events, 1)
		assert.Equal(t, ir.EventOpened, page.Events[0].Type)
	})
	t.Run("invalid", func(t *testing.T) {
		ctx := context.Background()
		store := newStore(t)
		r, err := ir.NewResponder(ir.Config{Store: store})
		require.NoError(t, err)
		t.Cleanup(func() { _ = r.Shutdown(ctx) })
		long := make([]byte, ir.MaxShortText+1)
		for i := range long {
			long[i] = 'a'
		}
		for _, id := range []ir.ID{"", " padded", "tab\there", ir.ID(long), "\xff"} {
			_, err := r.OpenWithID(ctx, ir.Actor{ID: "alice"}, id, ir.NewIncident{Title: "t", Severity: ir.SeverityLow})
			var invalid *ir.InvalidError
			if assert.True(t, errors.As(err, &invalid), "ID %q: %v", id, err) {
				assert.ErrorIs(t, err, ir.ErrInvalid)
			}
		}
		page, err := store.List(ctx, ir.Query{})
		require.NoError(t, err)
		assert.Empty(t, page.Incidents)
	})
}

package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/notify"
)

// TestWaitWakesOnOutboxMessages checks that Wait returns once another
// store on the schema commits a change that leaves messages, and returns
// the context's error when nothing comes.
func TestWaitWakesOnOutboxMessages(t *testing.T) {
	t.Parallel()
	listener := newStore(t, nil)
	writer := newStoreInSchema(t, listener.Schema())

	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, listener.Wait(short), context.DeadlineExceeded, "nothing was written")

	// The writer keeps writing until the listener has seen one, since a
	// notification sent before Wait listens is not seen.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	woke := make(chan error, 1)
	go func() { woke <- listener.Wait(ctx) }()
	ch := irtest.OpenChange(irtest.Incident("INC-000001").Build())
	for {
		ch.Outbox = []notify.OutboxMessage{{Key: fmt.Sprintf("%s/%d/1", ch.Incident.ID, ch.Incident.Version),
			Incident: string(ch.Incident.ID), Type: string(ch.Events[0].Type)}}
		require.NoError(t, writer.Apply(ctx, ch))
		select {
		case err := <-woke:
			require.NoError(t, err)
			return
		case <-time.After(20 * time.Millisecond):
		}
		ch = irtest.NextChange(ch.Incident)
	}
}

package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir/sqlite"
)

func TestQuiet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t, nil)

	// An idle store is quiet once d has passed since its last write.
	require.NoError(t, st.Quiet(ctx, time.Millisecond))

	// While a write holds the writing connection, the store is never
	// quiet: Quiet waits until its context ends.
	release := sqlite.HoldWrite(ctx, st)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err := st.Quiet(short, time.Millisecond)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, release())

	// Once it ends, the store is quiet again after d.
	require.NoError(t, st.Quiet(ctx, time.Millisecond))

	// A context that has ended is reported at once.
	done, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, st.Quiet(done, time.Millisecond), context.Canceled)
}

package notifytest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

func TestRecorder(t *testing.T) {
	t.Parallel()
	var r notifytest.Recorder
	ctx := context.Background()
	rc, err := r.Notify(ctx, notify.Message{Key: "a", Incident: notify.Incident{Labels: []string{"x"}}})
	require.NoError(t, err)
	assert.Equal(t, "rec-1", rc.ID)
	_, err = r.Notify(ctx, notify.Message{Key: "b"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, r.Keys())
	got := r.Messages()
	got[0].Incident.Labels[0] = "changed"
	assert.Equal(t, "x", r.Messages()[0].Incident.Labels[0], "Messages returns copies")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = r.Notify(canceled, notify.Message{Key: "c"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, r.Given(), "a canceled call is not given")

	r.Reset()
	assert.Empty(t, r.Messages())
	assert.Equal(t, 0, r.Given())
}

func TestRecorderFails(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := notifytest.Recorder{Fail: func(_ notify.Message, n int) error {
		if n <= 2 {
			return notify.Retry(boom, 0)
		}
		return nil
	}}
	for range 2 {
		_, err := r.Notify(context.Background(), notify.Message{Key: "a"})
		assert.ErrorIs(t, err, boom)
		assert.ErrorIs(t, err, notify.ErrRetry)
	}
	_, err := r.Notify(context.Background(), notify.Message{Key: "a"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, r.Keys())
	assert.Equal(t, 3, r.Given())
}

func TestRecorderConcurrent(t *testing.T) {
	t.Parallel()
	var r notifytest.Recorder
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				_, err := r.Notify(context.Background(), notify.Message{Key: fmt.Sprintf("%d/%d", w, i)})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	keys := r.Keys()
	assert.Len(t, keys, workers*each)
	seen := make(map[string]bool)
	for _, k := range keys {
		assert.False(t, seen[k], "recorded once: %s", k)
		seen[k] = true
	}
	// Each worker's messages are recorded in the order it gave them.
	next := make(map[string]int)
	for _, k := range keys {
		var w, i int
		_, err := fmt.Sscanf(k, "%d/%d", &w, &i)
		require.NoError(t, err)
		assert.Equal(t, next[fmt.Sprint(w)], i, k)
		next[fmt.Sprint(w)]++
	}
}

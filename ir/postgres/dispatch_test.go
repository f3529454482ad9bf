package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/postgres"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// TestDispatcherWakes runs a dispatcher that polls once an hour and checks
// that a change committed through another Store wakes it: the store is a
// notify.Waiter.
func TestDispatcherWakes(t *testing.T) {
	testDSN(t)
	st := newStore(t, nil)
	var _ notify.Waiter = st
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "a"}},
		Routes: []notify.Route{{Channels: []string{"a"}}}})
	require.NoError(t, err)
	rec := &notifytest.Recorder{}
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: st, Deliveries: st, Router: router,
		Channels: map[string]notify.Notifier{"a": rec}, PollInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		assert.NoError(t, <-done)
	}()

	// A notification sent before the dispatcher listens is missed, so
	// the writer keeps writing until one is delivered.
	writer := irtest.OutboxStore(st)
	n := 0
	require.Eventually(t, func() bool {
		if len(rec.Keys()) > 0 {
			return true
		}
		n++
		msg := notify.OutboxMessage{Key: fmt.Sprintf("INC-%06d/1/1", n), Incident: fmt.Sprintf("INC-%06d", n),
			Type: "opened", Payload: []byte(`{"incident":{"tlp":"TLP:GREEN"},"event":{"type":"opened"}}`)}
		require.NoError(t, writer.Write(context.Background(), []notify.OutboxMessage{msg}))
		return false
	}, 20*time.Second, 50*time.Millisecond, "the dispatcher was not woken by a change")
}

// Environment of the dispatcher processes TestDispatcherProcesses starts.
const (
	dpSchemaEnv = "INCIDENTKIT_DP_SCHEMA"
	dpURLEnv    = "INCIDENTKIT_DP_URL"
	dpNameEnv   = "INCIDENTKIT_DP_NAME"
)

// TestDispatcherProcesses runs two dispatcher processes on one schema,
// delivering to a receiver in this process over loopback HTTP, and checks
// that they share the work through their claims: every message arrives
// exactly once, and each incident's in the order written.
func TestDispatcherProcesses(t *testing.T) {
	if os.Getenv(dpSchemaEnv) != "" {
		t.Skip("running as a dispatcher process")
	}
	dsn := testDSN(t)
	t.Parallel()
	schema := testSchema(t)
	st := newStoreInSchema(t, schema)
	const incidents, each = 6, 25
	writer := irtest.OutboxStore(st)
	var want []string
	for i := range incidents {
		for j := range each {
			inc := fmt.Sprintf("INC-%06d", i+1)
			key := fmt.Sprintf("%s/%03d", inc, j+1)
			require.NoError(t, writer.Write(context.Background(), []notify.OutboxMessage{{Key: key, Incident: inc, Type: "note_added",
				Payload: []byte(`{"incident":{"tlp":"TLP:GREEN"},"event":{"type":"note_added"}}`)}}))
			want = append(want, key)
		}
	}

	var (
		mu    sync.Mutex
		got   []string
		byWho = make(map[string]int)
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Key"))
		byWho[r.Header.Get("X-Dispatcher")]++
		mu.Unlock()
	}))
	defer receiver.Close()

	var (
		wg   sync.WaitGroup
		outs [2]bytes.Buffer
		ins  [2]io.WriteCloser
		errs [2]error
	)
	for p := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDispatcherProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), dsnEnv+"="+dsn, dpSchemaEnv+"="+schema, dpURLEnv+"="+receiver.URL,
			dpNameEnv+"="+fmt.Sprintf("process-%d", p+1))
		cmd.Stdout, cmd.Stderr = &outs[p], &outs[p]
		in, err := cmd.StdinPipe()
		require.NoError(t, err)
		ins[p] = in
		require.NoError(t, cmd.Start())
		wg.Go(func() { errs[p] = cmd.Wait() })
	}
	delivered := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	assert.Eventually(t, func() bool { return delivered() >= len(want) }, 60*time.Second, 10*time.Millisecond)
	for _, in := range ins {
		_ = in.Close() // the processes stop when their input ends
	}
	wg.Wait()
	for p, err := range errs {
		require.NoError(t, err, "process %d:\n%s", p+1, outs[p].String())
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("deliveries by process: %v", byWho)
	assert.ElementsMatch(t, want, got, "each message exactly once")
	last := make(map[string]string)
	for _, k := range got {
		inc := k[:len("INC-000001")]
		assert.Less(t, last[inc], k, "%s arrived after %s", k, last[inc])
		last[inc] = k
	}
}

// TestDispatcherProcess is a dispatcher process of TestDispatcherProcesses.
func TestDispatcherProcess(t *testing.T) {
	schema := os.Getenv(dpSchemaEnv)
	if schema == "" {
		t.Skip("runs as a process of TestDispatcherProcesses")
	}
	st, err := postgres.New(context.Background(), testPool(t), postgres.Config{Schema: schema})
	require.NoError(t, err)
	defer st.Close()
	name, url := os.Getenv(dpNameEnv), os.Getenv(dpURLEnv)
	post := notify.NotifierFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return notify.Receipt{}, notify.Permanent(err)
		}
		req.Header.Set("X-Key", m.Key)
		req.Header.Set("X-Dispatcher", name)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return notify.Receipt{}, err
		}
		_ = resp.Body.Close()
		return notify.Receipt{Status: resp.StatusCode}, notify.HTTPError(resp, time.Now())
	})
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "hook"}},
		Routes: []notify.Route{{Channels: []string{"hook"}}}})
	require.NoError(t, err)
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: st, Deliveries: st, Router: router, Owner: name,
		Channels: map[string]notify.Notifier{"hook": post}, Batch: 5, PollInterval: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	require.NoError(t, d.Run(ctx))
}

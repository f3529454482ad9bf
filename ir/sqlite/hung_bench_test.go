package sqlite_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// hungAttemptTimeout bounds each attempt to the hung channel in
// BenchmarkHungChannel: short, so that the dispatcher gives up on the
// channel, records the failure and claims again many times while the
// benchmark runs.
const hungAttemptTimeout = 200 * time.Millisecond

// BenchmarkHungChannel times each phase transition through a Responder
// writing the outbox (Config.Outbox) on a durable SQLite store, one after
// another as fast as they go. baseline runs no dispatcher; incidentkit runs
// one (Dispatcher.Run, with its default pacing) on the same store whose
// only channel hangs: every attempt blocks until its AttemptTimeout ends
// it, and every event of every incident is routed to it. Both report the
// 50th and 99th percentile, and the largest, of the transitions'
// latencies; the goal is an incidentkit p99 less than 5% above the
// baseline's. A run of 40,000 transitions lasts long enough (10 seconds
// or more) for the dispatcher to pass many times, give up on many
// attempts and open the channel's breaker. Single runs move by more than 5% on a busy machine,
// so run the two sides in turn several times and compare the medians:
//
//	for i in 1 2 3 4 5 6; do go test -run '^$' -bench BenchmarkHungChannel -benchtime 40000x ./ir/sqlite/; done
func BenchmarkHungChannel(b *testing.B) {
	b.Run("baseline", func(b *testing.B) { benchmarkHungChannel(b, false) })
	b.Run("incidentkit", func(b *testing.B) { benchmarkHungChannel(b, true) })
}

// hungNotifier is a channel that never answers: each attempt waits for its
// context to end.
func hungNotifier(ctx context.Context, _ notify.Message) (notify.Receipt, error) {
	<-ctx.Done()
	return notify.Receipt{}, notify.Retry(ctx.Err(), 0)
}

// benchmarkHungChannel times the transitions of storetest.BenchTransitions,
// with a dispatcher delivering to a hung channel if dispatch is set.
func benchmarkHungChannel(b *testing.B, dispatch bool) {
	ctx := context.Background()
	st := openStore(b, filepath.Join(b.TempDir(), "hung.db"), sqlite.Config{})
	r, err := ir.NewResponder(ir.Config{Store: st, Model: phases.SANS, Clock: irtest.NewClock(irtest.Epoch),
		IDs: &irtest.IDs{}, Outbox: true})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := r.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	}()
	if dispatch {
		stop := runHungDispatcher(b, st)
		defer stop()
	}
	latencies := storetest.TimedTransitions(b, r)
	b.StopTimer()
	reportPercentiles(b, latencies)
	if dispatch {
		// The dispatcher must have had work: the messages of the
		// incidents reached the deliveries, and the hung channel held
		// them pending.
		counts, err := st.CountDeliveries(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(counts) == 0 {
			b.Fatal("the dispatcher made no deliveries")
		}
	}
}

// runHungDispatcher starts a dispatcher on st whose only channel hangs,
// and returns the function that stops it and waits for it to return.
func runHungDispatcher(b *testing.B, st *sqlite.Store) (stop func()) {
	b.Helper()
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "hung", MaxTLP: notify.TLPRed}},
		Routes: []notify.Route{{Channels: []string{"hung"}}}})
	if err != nil {
		b.Fatal(err)
	}
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: st, Deliveries: st, Router: router,
		Channels:       map[string]notify.Notifier{"hung": notify.NotifierFunc(hungNotifier)},
		AttemptTimeout: hungAttemptTimeout, Lease: 10 * hungAttemptTimeout,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
		if err := d.Close(); err != nil {
			b.Error(err)
		}
	}
}

// reportPercentiles reports the 50th and 99th percentiles, and the
// largest, of latencies in microseconds.
func reportPercentiles(b *testing.B, latencies []time.Duration) {
	b.Helper()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	at := func(p float64) float64 {
		i := min(int(p*float64(len(latencies))), len(latencies)-1)
		return float64(latencies[i]) / float64(time.Microsecond)
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(float64(latencies[len(latencies)-1])/float64(time.Microsecond), "max-µs")
}

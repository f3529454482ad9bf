package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
)

// growthSizes are the store sizes the growth benchmarks compare: a read
// whose cost does not grow with the store takes about as long at both.
var growthSizes = []int{1_000, 100_000}

// growthStores returns a store of each of growthSizes incidents, seeded
// by seedIncidents, closed when b ends.
func growthStores(b *testing.B) map[int]growthStore {
	b.Helper()
	stores := make(map[int]growthStore)
	for _, n := range growthSizes {
		path := filepath.Join(b.TempDir(), "growth.db")
		st := openStore(b, path, sqlite.Config{})
		if err := seedIncidents(context.Background(), st, n); err != nil {
			b.Fatal(err)
		}
		stores[n] = growthStore{st: st, path: path}
	}
	return stores
}

// BenchmarkCountOpen counts the open incidents by severity and phase in
// stores of 1,000 and 100,000 incidents, a third of them open. The
// baseline is the GROUP BY over the incidents' index that CountOpen ran
// before it read counts kept with every write; it grows with the number
// of open incidents, and CountOpen does not.
//
//	go test -run '^$' -bench 'BenchmarkCountOpen|BenchmarkListByLabel' -count 6 ./ir/sqlite/
func BenchmarkCountOpen(b *testing.B) {
	ctx := context.Background()
	stores := growthStores(b)
	for _, n := range growthSizes {
		gs := stores[n]
		b.Run(fmt.Sprintf("incidents=%d/baseline", n), func(b *testing.B) {
			db := gs.reader(b)
			for b.Loop() {
				rows, err := db.QueryContext(ctx, `SELECT severity, phase, count(*) FROM incidents WHERE open = 1 GROUP BY phase, severity`)
				if err != nil {
					b.Fatal(err)
				}
				groups := 0
				for rows.Next() {
					groups++
				}
				if err := rows.Close(); err != nil || groups == 0 {
					b.Fatal(groups, err)
				}
			}
		})
		b.Run(fmt.Sprintf("incidents=%d/incidentkit", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				counts, err := gs.st.CountOpen(ctx)
				if err != nil || len(counts) == 0 {
					b.Fatal(len(counts), err)
				}
			}
		})
	}
}

// BenchmarkListByLabel lists the first page (50) of the incidents carrying
// a label that one incident in 10 carries, in stores of 1,000 and 100,000
// incidents. The baseline runs the statement List ran before it read the
// label index in ID order: SQLite gathers every incident carrying the
// label and sorts them, which grows with the store; List reads the page's
// matches newest first and stops.
func BenchmarkListByLabel(b *testing.B) {
	ctx := context.Background()
	q := ir.Query{Labels: []string{"rare"}}
	stores := growthStores(b)
	for _, n := range growthSizes {
		gs := stores[n]
		b.Run(fmt.Sprintf("incidents=%d/baseline", n), func(b *testing.B) {
			db := gs.reader(b)
			stmt, err := db.PrepareContext(ctx, `SELECT doc FROM incidents
				WHERE id IN (SELECT incident_id FROM incident_labels WHERE label = ?) ORDER BY id DESC LIMIT ?`)
			if err != nil {
				b.Fatal(err)
			}
			defer stmt.Close()
			for b.Loop() {
				m, err := rawList(ctx, stmt, "rare", ir.DefaultPageSize+1)
				if err != nil || m == 0 {
					b.Fatal(m, err)
				}
			}
		})
		b.Run(fmt.Sprintf("incidents=%d/incidentkit", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := gs.st.List(ctx, q)
				if err != nil || len(page.Incidents) == 0 {
					b.Fatal(len(page.Incidents), err)
				}
			}
		})
	}
}

// growthStore is one store of the growth benchmarks.
type growthStore struct {
	st   *sqlite.Store
	path string
}

// reader opens a connection pool on the store's file, closed when b ends.
func (gs growthStore) reader(b *testing.B) *sql.DB {
	b.Helper()
	db, err := sql.Open("sqlite3", sqlite.WriterDSN(gs.path))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}

// seedIncidents fills st with n incidents, spread at random (with a fixed
// seed) over the SANS phases and the severities, a third of them open, one
// in 10 labelled "rare", in batches of one transaction each.
func seedIncidents(ctx context.Context, st *sqlite.Store, n int) error {
	ps := phases.SANS.Phases()
	sevs := []ir.Severity{ir.SeverityLow, ir.SeverityMedium, ir.SeverityHigh, ir.SeverityCritical}
	rnd := rand.New(rand.NewPCG(1, 2))
	const batch = 10_000
	for from := 0; from < n; from += batch {
		changes := make([]ir.Change, 0, batch)
		for i := from; i < min(from+batch, n); i++ {
			opened := irtest.Epoch.Add(time.Duration(i) * time.Minute)
			labels := []string{"seed", fmt.Sprintf("team-%d", i%7)}
			if i%10 == 0 {
				labels = append(labels, "rare")
			}
			bl := irtest.Incident(ir.ID(fmt.Sprintf("INC-%07d", i))).
				Title(fmt.Sprintf("Incident %d", i)).
				Severity(sevs[rnd.IntN(len(sevs))]).
				Phase(ps[rnd.IntN(len(ps))].Name).
				Labels(labels...).
				Opened(opened)
			if rnd.IntN(3) != 0 {
				bl = bl.Closed(opened.Add(time.Hour))
			}
			changes = append(changes, irtest.OpenChange(bl.Build()))
		}
		if err := sqlite.ApplyAll(ctx, st, changes); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkTimelinePage reads the latest page (50 events, newest first) of
// timelines of 1,000 and 50,000 events. A page is one range of the events'
// primary key, so both take about as long.
func BenchmarkTimelinePage(b *testing.B) {
	ctx := context.Background()
	st := openStore(b, filepath.Join(b.TempDir(), "timeline.db"), sqlite.Config{})
	for _, n := range []int{1_000, 50_000} {
		id := ir.ID(fmt.Sprintf("INC-%07d", n))
		open := irtest.OpenChange(irtest.Incident(id).Build())
		data := make([]ir.EventData, n-1)
		for i := range data {
			data[i] = &ir.NoteAdded{Text: fmt.Sprintf("note %d", i)}
		}
		if err := sqlite.ApplyAll(ctx, st, []ir.Change{open, irtest.NextChange(open.Incident, data...)}); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := st.Timeline(ctx, id, ir.TimelineQuery{NewestFirst: true})
				if err != nil || len(page.Events) != ir.DefaultPageSize || page.Events[0].Seq != int64(n) {
					b.Fatal(len(page.Events), err)
				}
			}
		})
	}
}

// BenchmarkGrownIncident makes the same changes (a note and a severity
// change) to a fresh incident and to one of 5,000 observables and 1,000
// tasks: a change writes only the rows it touches, so both take about as
// long. The goal is grown/fresh at most 2.
//
//	go test -run '^$' -bench BenchmarkGrownIncident -count 10 ./ir/sqlite/
func BenchmarkGrownIncident(b *testing.B) {
	storetest.BenchGrowth(b, openStore(b, filepath.Join(b.TempDir(), "grown.db"), sqlite.Config{}))
}

package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/incidentkit/incidentkit/internal/storetest"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// BenchmarkDurableTransition compares one phase transition through the
// Responder on a Store with a raw pgx transaction doing the same writes to
// the same tables: the incident row updated with a version check, and the
// event inserted. Run both in one go and compare the medians:
//
//	INCIDENTKIT_TEST_POSTGRES_DSN=... go test -run '^$' -bench BenchmarkDurableTransition -count 6 ./ir/postgres/
func BenchmarkDurableTransition(b *testing.B) {
	testDSN(b)
	b.Run("baseline", benchmarkRawTransition)
	b.Run("incidentkit", benchmarkResponderTransition)
}

// benchmarkRawTransition writes what a transition writes, with JSON encoded
// beforehand and no read: the cost of the transaction itself.
func benchmarkRawTransition(b *testing.B) {
	ctx := context.Background()
	pool := testPool(b)
	st := newStore(b, nil)
	raw := storetest.NewRawTransition(ctx, b, storetest.BenchResponder(b, st), st)
	schema := pgx.Identifier{st.Schema()}.Sanitize()
	update := "UPDATE " + schema + ".incidents SET version = $2, phase = $3, doc = $4, event_count = event_count + 1" +
		" WHERE id = $1 AND version = $2 - 1"
	insert := "INSERT INTO " + schema + ".events (incident_id, seq, version, type, at, doc) VALUES ($1, $2, $3, $4, $5, $6)"
	version, seq := raw.Version, raw.Seq
	b.ReportAllocs()
	for b.Loop() {
		version++
		seq++
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, update, string(raw.ID), version, string(phases.Eradication), raw.Doc)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return ir.ErrConflict
			}
			_, err = tx.Exec(ctx, insert, string(raw.ID), seq, version, string(raw.Event.Type), raw.Event.At, raw.EventDoc)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkResponderTransition is storetest.BenchTransitions on a Store.
func benchmarkResponderTransition(b *testing.B) {
	storetest.BenchTransitions(b, storetest.BenchResponder(b, newStore(b, nil)))
}

// BenchmarkGrownIncident makes the same changes (a note and a severity
// change) to a fresh incident and to one of 5,000 observables and 1,000
// tasks: a change writes only the rows it touches, so both take about as
// long. The goal is grown/fresh at most 2.
//
//	INCIDENTKIT_TEST_POSTGRES_DSN=... go test -run '^$' -bench BenchmarkGrownIncident -count 10 ./ir/postgres/
func BenchmarkGrownIncident(b *testing.B) {
	storetest.BenchGrowth(b, newStore(b, nil))
}

package sqlite

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"

	"github.com/incidentkit/incidentkit/ir"
)

// ApplyAll writes changes in one transaction, as Apply writes each: tests
// and benchmarks seed large stores with it quickly.
func ApplyAll(ctx context.Context, s *Store, changes []ir.Change) error {
	encoded := make([]encodedChange, len(changes))
	for i, ch := range changes {
		if err := ch.Validate(); err != nil {
			return err
		}
		w, err := encodeChange(ch)
		if err != nil {
			return err
		}
		encoded[i] = w
	}
	return s.write(ctx, "apply all", func(tx *sql.Tx) error {
		for i, ch := range changes {
			if _, err := s.applyTx(ctx, changeTx{s: s, tx: tx}, ch, encoded[i], s.clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListPlan returns SQLite's plan of the statement List runs for q, one
// step a line.
func ListPlan(ctx context.Context, s *Store, q ir.Query) (string, error) {
	q, err := q.Normalize()
	if err != nil {
		return "", err
	}
	query, args := listQuery(q)
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return "", err
	}
	defer func() { _ = rows.Close() }()
	var steps []string
	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "\n"), rows.Err()
}

// DB returns the pool of the Store's writing connection.
func DB(s *Store) *sql.DB { return s.w }

// WriterDSN returns the data source name a Store's writing connection
// opens the file at path with: the same pragmas and transaction mode.
func WriterDSN(path string) string { return dsn(path, DefaultBusyTimeout, true) }

// HoldWrite begins a write on s that holds the writing connection until
// the returned function is called; that function waits for the write to
// end and returns its error.
func HoldWrite(ctx context.Context, s *Store) (release func() error) {
	began, hold, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.write(ctx, "hold", func(*sql.Tx) error {
			close(began)
			<-hold
			return nil
		})
	}()
	select {
	case <-began:
	case err := <-done:
		return func() error { return err }
	}
	return func() error {
		close(hold)
		return <-done
	}
}

// DeliveryPlans returns SQLite's plans of the statements of the
// dispatcher's passes, by name, one step a line.
func DeliveryPlans(ctx context.Context, s *Store) (map[string]string, error) {
	names := map[int]string{dsClaim: "claim", dsTake: "take", dsHoldUps: "hold-ups", dsDelivered: "delivered"}
	out := make(map[string]string, len(names))
	for i, name := range names {
		// Parameters are numbered (?N), or each is a plain ?.
		n := 0
		for _, m := range regexp.MustCompile(`\?(\d+)`).FindAllStringSubmatch(deliverySQL[i], -1) {
			k, _ := strconv.Atoi(m[1])
			n = max(n, k)
		}
		if n == 0 {
			n = strings.Count(deliverySQL[i], "?")
		}
		args := make([]any, n)
		for j := range args {
			args[j] = 1
		}
		rows, err := s.w.QueryContext(ctx, "EXPLAIN QUERY PLAN "+deliverySQL[i], args...)
		if err != nil {
			return nil, err
		}
		var steps []string
		for rows.Next() {
			var (
				id, parent, unused int
				detail             string
			)
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				_ = rows.Close()
				return nil, err
			}
			steps = append(steps, detail)
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out[name] = strings.Join(steps, "\n")
	}
	return out, nil
}

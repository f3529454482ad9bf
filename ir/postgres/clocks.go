package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/incidentkit/incidentkit/ir"
)

var _ ir.ClockIndex = (*Store)(nil)

// DueClocks implements ir.ClockIndex: it reads one range of an index of
// the incidents' clock due times.
func (s *Store) DueClocks(ctx context.Context, now time.Time, limit int) ([]ir.ID, error) {
	if err := ctxErr(ctx, "due clocks"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, &ir.InvalidError{Field: "limit", Reason: "must be positive"}
	}
	rows, err := s.pool.Query(ctx, s.q.t(`SELECT id FROM §.incidents
		WHERE doc ->> 'clock_due' IS NOT NULL AND (doc ->> 'clock_due') COLLATE "C" <= $1
		ORDER BY (doc ->> 'clock_due') COLLATE "C", id LIMIT $2`), now.UTC().Truncate(time.Second).Format(time.RFC3339), limit)
	if err != nil {
		return nil, wrap(ctx, "due clocks", err)
	}
	var (
		out []ir.ID
		id  string
	)
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		out = append(out, ir.ID(id))
		return nil
	}); err != nil {
		return nil, wrap(ctx, "due clocks", err)
	}
	return out, nil
}

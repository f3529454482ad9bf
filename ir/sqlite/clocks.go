package sqlite

import (
	"context"
	"time"

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
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM incidents
		WHERE json_extract(doc, '$.clock_due') IS NOT NULL AND json_extract(doc, '$.clock_due') <= ?
		ORDER BY json_extract(doc, '$.clock_due'), id LIMIT ?`, clockDueText(now), limit)
	if err != nil {
		return nil, wrap(ctx, "due clocks", err)
	}
	defer func() { _ = rows.Close() }()
	var out []ir.ID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(ctx, "due clocks", err)
		}
		out = append(out, ir.ID(id))
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "due clocks", err)
	}
	return out, nil
}

// clockDueText returns now as the incidents' documents write their clock
// due times: UTC, to the second, in RFC 3339, which sorts as text.
func clockDueText(now time.Time) string {
	return now.UTC().Truncate(time.Second).Format(time.RFC3339)
}

package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
)

// TestListPlans checks the plans SQLite makes for common listings: each
// reads an index, and most read the page in ID order without sorting. With
// several phases and severities, SQLite walks the open incidents newest
// first and filters them, or (once it has statistics showing that pays)
// looks up each phase and severity in the status index and sorts. With
// labels, the first label's range of the label index drives the listing,
// in ID order, whatever else the query selects.
func TestListPlans(t *testing.T) {
	t.Parallel()
	st := newStore(t, nil)
	tests := []struct {
		name  string
		q     ir.Query
		index string
		// sorted is whether the plan may sort the matches.
		sorted bool
	}{
		{"OpenByPhaseAndSeverity", ir.Query{Status: ir.StatusOpen, Phases: []phases.Phase{phases.Containment},
			Severities: []ir.Severity{ir.SeverityHigh}}, "incidents_status_phase_severity", false},
		{"OpenByPhasesAndSeverities", ir.Query{Status: ir.StatusOpen, Phases: []phases.Phase{phases.Containment, phases.Eradication},
			Severities: []ir.Severity{ir.SeverityHigh, ir.SeverityCritical}}, "incidents_status", true},
		{"Open", ir.Query{Status: ir.StatusOpen}, "incidents_status", false},
		{"ByPhase", ir.Query{Phases: []phases.Phase{phases.Containment}}, "incidents_phase", false},
		{"BySeverity", ir.Query{Severities: []ir.Severity{ir.SeverityHigh}}, "incidents_severity", false},
		{"ByLabel", ir.Query{Labels: []string{"team-3"}}, "incident_labels_label", false},
		{"ByLabels", ir.Query{Labels: []string{"team-3", "phishing"}}, "incident_labels_label", false},
		{"OpenByLabel", ir.Query{Status: ir.StatusOpen, Labels: []string{"team-3"}, After: "INC-0000500"},
			"incident_labels_label", false},
		{"All", ir.Query{}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := sqlite.ListPlan(context.Background(), st, tc.q)
			require.NoError(t, err)
			t.Log(plan)
			if tc.index != "" {
				assert.Regexp(t, "USING (COVERING )?INDEX "+tc.index+" ", plan)
			}
			assert.NotContains(t, plan, "USING TEMP B-TREE FOR GROUP BY")
			assert.NotContains(t, plan, "SCAN incidents\n", "no full scan of the table")
			if !tc.sorted {
				assert.NotContains(t, plan, "TEMP B-TREE", "no sort")
			}
		})
	}
}

// TestDeliveryPlans checks the plans of the statements of the
// dispatcher's passes: each reads the index made for it, none scans a
// table it does not walk in primary key order, and none but the claim
// sorts: the claim sorts the due heads of the streams, at most one per
// incident and channel, and never walks the deliveries queued behind them.
func TestDeliveryPlans(t *testing.T) {
	t.Parallel()
	st := newStore(t, nil)
	plans, err := sqlite.DeliveryPlans(context.Background(), st)
	require.NoError(t, err)
	want := map[string][]string{
		// The head of each stream, found by hopping along the pending
		// index to the next channel or the next incident, each checked
		// against the outbox messages of its incident.
		"claim": {"SCAN deliveries USING COVERING INDEX deliveries_pending\n",
			"USING COVERING INDEX deliveries_pending (incident_id=? AND channel>?)",
			"USING COVERING INDEX deliveries_pending (incident_id>?)",
			"SEARCH d USING INTEGER PRIMARY KEY (rowid=?)",
			"USING COVERING INDEX outbox_incident (incident_id=? AND id<?)"},
		// The oldest outbox rows, in primary key order.
		"take": {"SCAN outbox"},
		// One lookup per incident in each index.
		"hold-ups":  {"USING COVERING INDEX deliveries_pending (incident_id=?)", "USING COVERING INDEX outbox_incident (incident_id=?)"},
		"delivered": {"USING INTEGER PRIMARY KEY (rowid=?)"},
	}
	for name, steps := range want {
		plan := plans[name]
		t.Logf("%s:\n%s", name, plan)
		for _, step := range steps {
			assert.Contains(t, plan, step, name)
		}
		if name == "claim" {
			// Only the due heads are sorted into outbox order.
			assert.NotContains(t, plan, "SCAN d ", "claim scans the deliveries")
			assert.Equal(t, 1, strings.Count(plan, "TEMP B-TREE"), "claim sorts more than the due heads")
		} else {
			assert.NotContains(t, plan, "TEMP B-TREE", "%s sorts", name)
		}
		assert.NotContains(t, plan, "SCAN deliveries\n", "%s scans the deliveries", name)
	}
}

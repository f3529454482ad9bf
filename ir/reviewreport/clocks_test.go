package reviewreport_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/ir/reviewreport"
	"github.com/incidentkit/incidentkit/phases"
)

// TestDeadlines checks that both documents show the incident's deadline
// clocks and how each went, and leave the section out when there are
// none.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	inc := irtest.Incident("INC-000007").Title("Payroll export left public").Opened(t0).Build()
	inc.Clocks = []ir.ClockState{
		{Name: ir.ClockAcknowledge, Title: "Acknowledge", StartedAt: t0, Deadline: t0.Add(30 * time.Minute),
			Warned: true, Missed: true, StoppedAt: t0.Add(45 * time.Minute)},
		{Name: ir.ClockGDPR, Title: "GDPR art. 33: notify the supervisory authority", StartedAt: t0.Add(time.Hour),
			Deadline: t0.Add(73 * time.Hour), StoppedAt: t0.Add(30 * time.Hour), Met: true},
		{Name: ir.ClockSEC8K, Title: "SEC Form 8-K item 1.05: file the report", StartedAt: t0.Add(2 * time.Hour),
			Deadline: t0.Add(100 * time.Hour), Warned: true},
	}
	var md, html bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&md, reviewreport.Document{Incident: inc}))
	require.NoError(t, reviewreport.HTML(&html, reviewreport.Document{Incident: inc}))
	assert.Contains(t, md.String(), "## Deadlines\n\n| Clock | Started | Deadline | Stopped | Outcome |")
	assert.Contains(t, md.String(), "| Acknowledge | 2026-03-02 07:50:00 | 2026-03-02 08:20:00 | 2026-03-02 08:35:00 | missed by 15m |")
	assert.Contains(t, md.String(), "| GDPR art. 33: notify the supervisory authority | 2026-03-02 08:50:00 | 2026-03-05 08:50:00 | 2026-03-03 13:50:00 | met |")
	assert.Contains(t, md.String(), "still running | running, deadline near |")
	assert.Contains(t, html.String(), `id="deadlines"`)
	assert.Contains(t, html.String(), `<strong class="warn">missed by 15m</strong>`)

	inc.Clocks = nil
	md.Reset()
	html.Reset()
	require.NoError(t, reviewreport.Markdown(&md, reviewreport.Document{Incident: inc}))
	require.NoError(t, reviewreport.HTML(&html, reviewreport.Document{Incident: inc}))
	assert.NotContains(t, md.String(), "Deadlines")
	assert.NotContains(t, html.String(), `id="deadlines"`)
}

// TestDeadlinesInTheCourseChart checks that the picture of the incident's
// course marks each clock's deadline: inside its span as a line, with how
// it went, and after it in the list of what falls due later.
func TestDeadlinesInTheCourseChart(t *testing.T) {
	t.Parallel()
	inc := &ir.Incident{ID: "INC-8", Title: "Payroll export left public", Severity: ir.SeverityHigh, Model: phases.NIST.Name(),
		Phase: phases.DetectionAndAnalysis,
		PhaseHistory: []ir.PhaseInterval{
			{Phase: phases.Preparation, Entered: t0, Left: t0.Add(10 * time.Minute)},
			{Phase: phases.DetectionAndAnalysis, Action: phases.Detect, Entered: t0.Add(10 * time.Minute)},
		},
		Clocks: []ir.ClockState{
			{Name: ir.ClockAcknowledge, Title: "Acknowledge", StartedAt: t0, Deadline: t0.Add(30 * time.Minute),
				Missed: true, StoppedAt: t0.Add(45 * time.Minute)},
			{Name: ir.ClockGDPR, Title: "GDPR art. 33", StartedAt: t0, Deadline: t0.Add(72 * time.Hour)},
		},
		Times: ir.Lifecycle{Opened: t0}, OpenedBy: alice, Version: 3}
	var out bytes.Buffer
	require.NoError(t, reviewreport.HTML(&out, reviewreport.Document{Incident: inc, Model: phases.NIST, GeneratedAt: t0.Add(time.Hour)}))
	page := out.String()
	checkHTMLIsInert(t, page)
	assert.Contains(t, page, `>Acknowledge due</text>`)
	assert.Contains(t, page, `<title>Acknowledge: deadline 2026-03-02 08:20:00, missed by 15m</title>`)
	assert.Contains(t, page, ">Due after this span:</text>")
	assert.Contains(t, page, `>GDPR art. 33 2026-03-05<title>`)
}

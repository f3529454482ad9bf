package reviewreport_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir/reviewreport"
)

func TestReviewOfAnExerciseHasABanner(t *testing.T) {
	t.Parallel()
	s := runStory(t)
	doc, err := reviewreport.Gather(context.Background(), reviewreport.Sources{Responder: s.r, Locker: s.locker,
		Deliveries: storyDeliveries(t, s), Clock: s.clock}, s.id)
	require.NoError(t, err)
	var real, realHTML bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&real, doc))
	require.NoError(t, reviewreport.HTML(&realHTML, doc))
	assert.NotContains(t, real.String(), "EXERCISE")
	assert.NotContains(t, realHTML.String(), "EXERCISE")

	doc.Incident = doc.Incident.Clone()
	doc.Incident.Exercise = true
	var md, page bytes.Buffer
	require.NoError(t, reviewreport.Markdown(&md, doc))
	require.NoError(t, reviewreport.HTML(&page, doc))
	head, _, _ := strings.Cut(md.String(), "## Summary")
	assert.Contains(t, head, "**EXERCISE:** this incident was opened as an exercise, not a real incident.")
	assert.Contains(t, md.String(), "Time to contain", "an exercise's own review shows its response times")
	assert.Contains(t, page.String(), "<title>[EXERCISE] Post-incident review:")
	assert.Contains(t, page.String(), `<p><strong class="warn">EXERCISE:</strong> this incident was opened as an exercise`)
	assert.Contains(t, page.String(), "Time to contain")
	assert.Contains(t, md.String(), "held back: an exercise its route does not take, or above the channel's TLP clearance")
	assert.Contains(t, real.String(), "held back by the channel's TLP clearance")
	checkRendersNothingLive(t, md.String())
	checkHTMLIsInert(t, page.String())
}

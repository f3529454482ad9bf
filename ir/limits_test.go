package ir_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
)

// TestLimitsAreTheDocumentedOnes checks each exported limit is where the
// input is refused: at the limit it is taken, one above it refused.
func TestLimitsAreTheDocumentedOnes(t *testing.T) {
	t.Parallel()
	labels := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("label-", i)
		}
		return out
	}
	tests := []struct {
		name  string
		limit int
		do    func(h *harness, id ir.ID, n int) error
	}{
		{"title", ir.MaxShortText, func(h *harness, _ ir.ID, n int) error {
			_, err := h.r.Open(h.ctx, testAlice, ir.NewIncident{Title: strings.Repeat("t", n), Severity: ir.SeverityLow})
			return err
		}},
		{"labels", ir.MaxLabels, func(h *harness, _ ir.ID, n int) error {
			_, err := h.r.Open(h.ctx, testAlice, ir.NewIncident{Title: "t", Severity: ir.SeverityLow, Labels: labels(n)})
			return err
		}},
		{"reason", ir.MaxLongText, func(h *harness, id ir.ID, n int) error {
			_, err := h.r.SetSeverity(h.ctx, testAlice, id, ir.SeverityCritical, strings.Repeat("r", n))
			return err
		}},
		{"note", ir.MaxBodyText, func(h *harness, id ir.ID, n int) error {
			_, err := h.r.AddNote(h.ctx, testAlice, id, strings.Repeat("n", n))
			return err
		}},
		{"decision options", ir.MaxDecisionOptions, func(h *harness, id ir.ID, n int) error {
			_, err := h.r.Decide(h.ctx, testAlice, id, ir.Decision{Summary: "s", Options: labels(n)})
			return err
		}},
		{"review root cause", ir.MaxBodyText, func(h *harness, id ir.ID, n int) error {
			_, err := h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "s", RootCause: strings.Repeat("c", n)})
			return err
		}},
		{"review lessons", ir.MaxReviewItems, func(h *harness, id ir.ID, n int) error {
			_, err := h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "s", LessonsLearned: labels(n)})
			return err
		}},
		{"review lesson", ir.MaxLongText, func(h *harness, id ir.ID, n int) error {
			_, err := h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "s", WentWell: []string{strings.Repeat("w", n)}})
			return err
		}},
		{"review follow-ups", ir.MaxReviewItems, func(h *harness, id ir.ID, n int) error {
			fus := make([]ir.NewFollowUp, n)
			for i := range fus {
				fus[i].Title = fmt.Sprint("follow-up ", i)
			}
			_, err := h.r.RecordReview(h.ctx, testAlice, id, ir.NewReview{Summary: "s", FollowUps: fus})
			return err
		}},
		{"follow-up title", ir.MaxShortText, func(h *harness, id ir.ID, n int) error {
			_, err := h.r.AddFollowUp(h.ctx, testAlice, id, ir.NewFollowUp{Title: strings.Repeat("f", n)})
			return err
		}},
		{"follow-up reference", ir.MaxLongText, func(h *harness, id ir.ID, n int) error {
			_, err := h.r.AddFollowUp(h.ctx, testAlice, id, ir.NewFollowUp{Title: "f", Reference: strings.Repeat("r", n)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			inc := h.open(phishing())
			require.NoError(t, tt.do(h, inc.ID, tt.limit), "at the limit")
			before, events := h.snapshot(inc.ID)
			err := tt.do(h, inc.ID, tt.limit+1)
			assert.ErrorIs(t, err, ir.ErrInvalid, "one above the limit")
			assert.Contains(t, err.Error(), fmt.Sprint(tt.limit), "the message names the limit")
			h.assertUnchanged(t, before, events)
		})
	}
}

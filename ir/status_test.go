package ir_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
)

func TestPostStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOutbox)
	inc := h.open(phishing())
	h.claimAll()

	got, err := h.r.PostStatus(h.ctx, testAlice, inc.ID, notify.AudienceExecutives, "  Contained; next update at 14:00. ")
	require.NoError(t, err)
	assert.Equal(t, inc.Version+1, got.Version)

	events := h.timeline(inc.ID)
	last := events[len(events)-1]
	assert.Equal(t, ir.EventStatusUpdate, last.Type)
	assert.Equal(t, testAlice.ID, last.Actor.ID)
	assert.Equal(t, &ir.StatusUpdate{Audience: notify.AudienceExecutives, Text: "Contained; next update at 14:00."}, last.Data)

	msgs := h.claimAll()
	require.Len(t, msgs, 1)
	m, err := msgs[0].Message()
	require.NoError(t, err)
	assert.Equal(t, notify.AudienceExecutives, m.Audience, "the message is for the update's audience")
	assert.Equal(t, "status_update", m.Event.Type)
	assert.Equal(t, "posted a status update for executives: Contained; next update at 14:00.", m.Event.Summary)

	_, err = h.r.AddNote(h.ctx, testAlice, inc.ID, "not for anyone in particular")
	require.NoError(t, err)
	msgs = h.claimAll()
	require.Len(t, msgs, 1)
	m, err = msgs[0].Message()
	require.NoError(t, err)
	assert.Empty(t, m.Audience, "other events are for whoever the routes say")
}

func TestPostStatusRefusesBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	for name, tc := range map[string]struct {
		audience notify.Audience
		text     string
		field    string
	}{
		"no audience":          {"", "text", "audience"},
		"capitals":             {"Executives", "text", "audience"},
		"space":                {"law enforcement", "text", "audience"},
		"long audience":        {notify.Audience(strings.Repeat("a", 65)), "text", "audience"},
		"invalid UTF-8":        {"exec\xff", "text", "audience"},
		"no text":              {notify.AudienceLegal, "  ", "status update"},
		"text too long":        {notify.AudienceLegal, strings.Repeat("x", ir.MaxBodyText+1), "status update"},
		"NUL in the text":      {notify.AudienceLegal, "a\x00b", "status update"},
		"invalid UTF-8 text":   {notify.AudienceLegal, "a\xffb", "status update"},
		"unknown but valid ok": {"board_of_directors", "", "status update"},
	} {
		_, err := h.r.PostStatus(h.ctx, testAlice, inc.ID, tc.audience, tc.text)
		require.ErrorIs(t, err, ir.ErrInvalid, name)
		var inv *ir.InvalidError
		require.ErrorAs(t, err, &inv, name)
		assert.Equal(t, tc.field, inv.Field, name)
	}
	assert.Equal(t, inc.Version, h.stored(inc.ID).Version, "nothing was recorded")

	_, err := h.r.PostStatus(h.ctx, testAlice, inc.ID, "board_of_directors", "Briefed")
	require.NoError(t, err, "any audience of the right form is taken")
}

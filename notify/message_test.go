package notify_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

func TestEventSentence(t *testing.T) {
	t.Parallel()
	alice := notify.Actor{ID: "alice", Name: "Alice Moreau"}
	for name, tc := range map[string]struct {
		event notify.Event
		want  string
	}{
		"summary and reason": {notify.Event{Type: "phase_changed", Actor: alice, Reason: "account secured",
			Summary: "moved the incident from Containment to Eradication"},
			"Alice Moreau moved the incident from Containment to Eradication: account secured"},
		"no reason": {notify.Event{Type: "note_added", Actor: alice, Summary: "noted: hello"},
			"Alice Moreau noted: hello"},
		"no summary": {notify.Event{Type: "phase_changed", Actor: notify.Actor{ID: "svc-1"}, Reason: "auto"},
			"svc-1 recorded phase changed: auto"},
	} {
		assert.Equal(t, tc.want, tc.event.Sentence(), name)
	}
}

func TestDecodeMessage(t *testing.T) {
	t.Parallel()
	m, err := notify.DecodeMessage([]byte(`{"incident":{"id":"INC-1","tlp":"TLP:RED","open":true},` +
		`"event":{"type":"note_added","actor":{"id":"a"},"summary":"noted: x","data":{"text":"x"}}}`))
	require.NoError(t, err)
	assert.Equal(t, "INC-1", m.Incident.ID)
	assert.Equal(t, "TLP:RED", m.Incident.TLP)
	assert.Equal(t, `{"text":"x"}`, string(m.Event.Data))
	assert.Equal(t, "a noted: x", m.Event.Sentence())

	_, err = notify.DecodeMessage([]byte(`{"incident":`))
	assert.Error(t, err)
}

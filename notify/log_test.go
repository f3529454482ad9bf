package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

func sampleMessage() notify.Message {
	return notify.Message{
		Key: "INC-000001/4/1",
		Incident: notify.Incident{ID: "INC-000001", Title: "Phishing", Severity: "high", Priority: "P2",
			Category: "phishing", Phase: "eradication", TLP: "TLP:AMBER", Open: true, Version: 4},
		Event: notify.Event{IncidentID: "INC-000001", Version: 4, Type: "phase_changed",
			At: time.Date(2026, time.March, 2, 11, 40, 0, 0, time.UTC), Actor: notify.Actor{ID: "alice", Name: "Alice Moreau"},
			Reason: "account secured", Summary: "moved the incident from Containment to Eradication"},
		Audience: notify.AudienceExecutives,
		Links:    []notify.Link{{Rel: "incident", Title: "INC-000001", URL: "https://ir.example.org/incidents/INC-000001"}},
	}
}

func TestLogNotifier(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	n := notify.LogNotifier{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), Level: slog.LevelWarn}
	r, err := n.Notify(context.Background(), sampleMessage())
	require.NoError(t, err)
	assert.Equal(t, notify.Receipt{}, r)

	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	assert.Equal(t, "WARN", rec["level"])
	assert.Equal(t, "Alice Moreau moved the incident from Containment to Eradication: account secured", rec["msg"])
	assert.Equal(t, "INC-000001/4/1", rec["key"])
	assert.Equal(t, "executives", rec["audience"])
	assert.Equal(t, "https://ir.example.org/incidents/INC-000001", rec["link.incident"])
	inc := rec["incident"].(map[string]any)
	assert.Equal(t, "INC-000001", inc["id"])
	assert.Equal(t, "TLP:AMBER", inc["tlp"])
	assert.Equal(t, true, inc["open"])
	ev := rec["event"].(map[string]any)
	assert.Equal(t, "phase_changed", ev["type"])
	assert.Equal(t, "Alice Moreau", ev["actor"])
}

func TestLogNotifierCanceled(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	n := notify.LogNotifier{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := n.Notify(ctx, sampleMessage())
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, notify.ErrRetry)
	assert.Empty(t, buf.String(), "nothing written")
}

func TestLogNotifierDefaultLogger(t *testing.T) {
	// Not parallel: it reads slog.Default.
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	_, err := notify.LogNotifier{}.Notify(context.Background(), sampleMessage())
	require.NoError(t, err)
	assert.Contains(t, buf.String(), "level=INFO")
	assert.Contains(t, buf.String(), "incident.id=INC-000001")
}

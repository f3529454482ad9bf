package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestSpans checks that every request has a span named by its route, with
// no incident ID in the name, and its status code.
func TestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	s := newSQLiteServer(t, func(c *Config) { c.TracerProvider = tp })
	inc := s.open("Beaconing to a new domain")
	s.json("POST", "/v1/incidents/"+string(inc.ID)+"/notes", tokenResponder, NoteRequest{Text: "seen on 3 hosts"}, http.StatusOK, nil)
	s.do(request{method: "GET", path: "/v1/incidents/" + string(inc.ID), invalid: true})

	var names []string
	status := map[string]int64{}
	for _, sp := range rec.Ended() {
		names = append(names, sp.Name())
		for _, a := range sp.Attributes() {
			if a.Key == "http.response.status_code" {
				status[sp.Name()] = a.Value.AsInt64()
			}
		}
	}
	assert.Contains(t, names, "POST /v1/incidents")
	assert.Contains(t, names, "POST /v1/incidents/{id}/notes")
	assert.Contains(t, names, "GET /v1/incidents/{id}")
	for _, n := range names {
		assert.NotContains(t, n, string(inc.ID))
	}
	assert.Equal(t, int64(http.StatusUnauthorized), status["GET /v1/incidents/{id}"])
}

package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
)

// TestOpenExercise opens an incident as an exercise through the API, the
// request and the answer checked against the OpenAPI document, and finds
// it marked in the console.
func TestOpenExercise(t *testing.T) {
	s := newSQLiteServer(t, nil)
	var inc ir.Incident
	s.json("POST", "/v1/incidents", tokenResponder, NewIncidentRequest{Title: "Tabletop: phishing", Severity: "high", Exercise: true},
		http.StatusCreated, &inc)
	assert.True(t, inc.Exercise)
	var got ir.Incident
	s.json("GET", "/v1/incidents/"+string(inc.ID), tokenViewer, nil, http.StatusOK, &got)
	assert.True(t, got.Exercise)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(s.url+"/console/sign-in", url.Values{"token": {tokenViewer}})
	require.NoError(t, err)
	resp.Body.Close()
	for _, path := range []string{"/console/", "/console/incidents/" + string(inc.ID)} {
		resp, err = c.Get(s.url + path)
		require.NoError(t, err)
		assert.Contains(t, readAll(t, resp), `<span class="exercise">[EXERCISE]</span> `, path)
	}
}

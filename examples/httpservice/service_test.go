package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	router, err := spec()
	require.NoError(t, err)
	_ = router
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openAPI, &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	svc := &Service{}
	served := map[string]bool{"GET /openapi.json": true, "GET /healthz": true}
	for _, rt := range svc.routes() {
		served[rt.pattern] = true
	}
	for r := range served {
		assert.True(t, documented[r], "%s is served but not documented", r)
	}
	for r := range documented {
		assert.True(t, served[r], "%s is documented but not served", r)
	}
}

func TestOpenAPIServed(t *testing.T) {
	s := newMemoryServer(t, ir.NewMemoryStore())
	r := s.do(request{method: "GET", path: "/openapi.json"})
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, openAPI, r.body)
	r = s.do(request{method: "GET", path: "/healthz"})
	assert.Equal(t, http.StatusOK, r.status)
}

// open opens an incident as the commander.
func (s *server) open(title string) ir.Incident {
	var inc ir.Incident
	s.json("POST", "/v1/incidents", tokenCommander, NewIncidentRequest{Title: title, Severity: "high", Category: "phishing"}, http.StatusCreated, &inc)
	return inc
}

func TestWholeIncident(t *testing.T) {
	s := newSQLiteServer(t, nil)
	var inc ir.Incident
	r := s.json("POST", "/v1/incidents", tokenResponder, NewIncidentRequest{
		Title: "Credential phishing against finance", Severity: "high", Category: "phishing",
		Labels:      []string{"finance"},
		Observables: []ir.Observable{{Type: ir.ObservableDomain, Value: "examp1e.com", Malicious: true}},
	}, http.StatusCreated, &inc)
	base := "/v1/incidents/" + string(inc.ID)
	assert.Equal(t, base, r.header.Get("Location"))
	assert.Equal(t, phases.Preparation, inc.Phase)

	s.json("GET", base, tokenViewer, nil, http.StatusOK, &inc)
	assert.Equal(t, "Credential phishing against finance", inc.Title)

	s.json("POST", base+"/transitions", tokenResponder, TransitionRequest{Action: phases.Identify, Reason: "three reports of the same e-mail"}, http.StatusOK, &inc)
	assert.Equal(t, phases.Identification, inc.Phase)

	// Containment needs an incident commander: refused, with the guard's reason.
	p := s.do(request{method: "POST", path: base + "/transitions", token: tokenResponder, body: TransitionRequest{Action: phases.Contain, Reason: "one account"}})
	require.Equal(t, http.StatusConflict, p.status)
	prob := p.problem(t)
	assert.Equal(t, CodeRefused, prob.Code)
	require.Len(t, prob.Refusals, 1)
	assert.Contains(t, prob.Refusals[0].Guard, "role_assigned")

	var acts Actions
	s.json("GET", base+"/actions", tokenResponder, nil, http.StatusOK, &acts)
	i := slices.IndexFunc(acts.Actions, func(a Action) bool { return a.Action == phases.Contain })
	require.GreaterOrEqual(t, i, 0)
	assert.False(t, acts.Actions[i].Allowed)
	require.NotNil(t, acts.Actions[i].Refused)
	assert.Equal(t, CodeRefused, acts.Actions[i].Refused.Code)

	s.json("POST", base+"/assignments", tokenCommander, AssignRequest{Role: ir.RoleCommander, Actor: ir.Actor{ID: "alice", Name: "Alice Moreau"}}, http.StatusOK, &inc)
	s.json("POST", base+"/transitions", tokenResponder, TransitionRequest{Action: phases.Contain, Reason: "one account compromised"}, http.StatusOK, &inc)
	assert.Equal(t, phases.Containment, inc.Phase)

	s.json("POST", base+"/severity", tokenResponder, SeverityRequest{Severity: ir.SeverityCritical, Reason: "payroll data exposed"}, http.StatusOK, &inc)
	s.json("POST", base+"/priority", tokenResponder, PriorityRequest{Priority: ir.PriorityP1, Reason: "critical"}, http.StatusOK, &inc)
	s.json("POST", base+"/impact", tokenResponder, map[string]any{"functional": "low", "information": []string{"privacy_breach"}, "recoverability": "supplemented", "reason": "payroll"}, http.StatusOK, &inc)
	s.json("POST", base+"/assets", tokenResponder, ir.Asset{Kind: ir.AssetAccount, Name: "j.doe"}, http.StatusOK, &inc)
	s.json("POST", base+"/observables", tokenResponder, ir.Observable{Type: ir.ObservableIP, Value: "203.0.113.7"}, http.StatusOK, &inc)
	s.json("POST", base+"/tasks", tokenResponder, TaskRequest{Title: "Reset j.doe's password", Required: true}, http.StatusOK, &inc)
	require.Len(t, inc.Tasks, 1)
	s.json("POST", base+"/decisions", tokenCommander, DecisionRequest{Summary: "Reset rather than disable", Options: []string{"reset", "disable"}, Rationale: "payroll runs tomorrow"}, http.StatusOK, &inc)
	s.json("POST", base+"/notes", tokenResponder, NoteRequest{Text: "MFA was not enrolled"}, http.StatusOK, &inc)
	s.json("POST", base+"/status-updates", tokenCommander, StatusRequest{Audience: "executives", Text: "Contained; no payments affected."}, http.StatusOK, &inc)

	// Eradication waits for the required task.
	p = s.do(request{method: "POST", path: base + "/transitions", token: tokenResponder, body: TransitionRequest{Action: phases.Eradicate, Reason: "go"}})
	require.Equal(t, http.StatusConflict, p.status, "%s", p.body)
	s.json("POST", fmt.Sprintf("%s/tasks/%d/complete", base, inc.Tasks[0].ID), tokenResponder, OutcomeRequest{Outcome: "done at 10:02"}, http.StatusOK, &inc)

	// Evidence: streamed in, then its custody, the case verified, the bundle.
	content := make([]byte, 3<<20)
	_, _ = rand.Read(content)
	sum := sha256.Sum256(content)
	var item struct {
		ID      string `json:"id"`
		Exhibit string `json:"exhibit"`
		Size    int64  `json:"size"`
		Digests struct {
			SHA256 string `json:"sha256"`
		} `json:"digests"`
	}
	up := s.do(request{method: "POST", path: base + "/evidence?name=mail-gw.log&kind=log&reason=phishing+mail", token: tokenResponder,
		body: content, contentType: "application/octet-stream"})
	require.Equal(t, http.StatusCreated, up.status, "%s", up.body)
	up.json(t, &item)
	assert.Equal(t, hex.EncodeToString(sum[:]), item.Digests.SHA256)
	assert.Equal(t, int64(len(content)), item.Size)

	var list EvidenceList
	s.json("GET", base+"/evidence", tokenViewer, nil, http.StatusOK, &list)
	require.Len(t, list.Items, 1)
	var custody struct {
		Records []struct {
			Action string `json:"action"`
		} `json:"records"`
	}
	s.json("GET", base+"/evidence/"+item.ID+"/custody", tokenViewer, nil, http.StatusOK, &custody)
	require.NotEmpty(t, custody.Records)
	assert.Equal(t, "collected", custody.Records[0].Action)
	var ver Verification
	s.json("GET", base+"/custody/verification", tokenViewer, nil, http.StatusOK, &ver)
	assert.True(t, ver.OK, "%v", ver.Problems)
	assert.Equal(t, 1, ver.Items)

	b := s.do(request{method: "GET", path: base + "/bundle?content=true", token: tokenViewer})
	require.Equal(t, http.StatusOK, b.status, "%s", truncate(b.body))
	assert.Equal(t, "application/x-tar", b.header.Get("Content-Type"))
	names := tarNames(t, b.body)
	assert.Contains(t, names, "manifest.json")
	assert.Contains(t, names, "blobs/"+item.Digests.SHA256)

	for _, step := range []phases.Action{phases.Eradicate, phases.Recover, phases.Review} {
		s.json("POST", base+"/transitions", tokenResponder, TransitionRequest{Action: step, Reason: "next"}, http.StatusOK, &inc)
	}
	assert.Equal(t, phases.LessonsLearned, inc.Phase)

	// Closing needs a verdict, a review with a root cause, and a commander.
	p = s.do(request{method: "POST", path: base + "/close", token: tokenCommander, body: ReasonRequest{Reason: "done"}})
	require.Equal(t, http.StatusConflict, p.status, "%s", p.body)
	s.json("POST", base+"/verdict", tokenResponder, VerdictRequest{Verdict: ir.VerdictTruePositive, Resolution: "password reset, rule added"}, http.StatusOK, &inc)
	s.json("PUT", base+"/review", tokenResponder, ReviewRequest{
		Summary: "A phishing mail harvested one password.", RootCause: "No MFA on finance accounts",
		WentWell: []string{"Reported within minutes"}, LessonsLearned: []string{"Enrol MFA everywhere"},
		FollowUps: []FollowUpRequest{{Title: "Enrol finance in MFA", Owner: ir.Actor{ID: "bob"}, Due: time.Now().Add(14 * 24 * time.Hour).UTC().Truncate(time.Second)}},
	}, http.StatusOK, &inc)
	require.NotNil(t, inc.Review)
	s.json("POST", base+"/follow-ups", tokenResponder, FollowUpRequest{Title: "Phishing drill", Reference: "SEC-42"}, http.StatusOK, &inc)
	p = s.do(request{method: "POST", path: base + "/close", token: tokenResponder, body: ReasonRequest{Reason: "done"}})
	require.Equal(t, http.StatusForbidden, p.status, "%s", p.body)
	assert.Equal(t, CodeForbidden, p.problem(t).Code)
	s.json("POST", base+"/close", tokenCommander, ReasonRequest{Reason: "resolved"}, http.StatusOK, &inc)
	assert.Equal(t, phases.Closed, inc.Phase)
	// Follow-ups stay trackable after the close.
	s.json("POST", base+"/follow-ups/1/complete", tokenResponder, OutcomeRequest{Outcome: "all enrolled"}, http.StatusOK, &inc)

	// Notifications: deliver what the outbox holds, then read the record.
	ctx := context.Background()
	for {
		n, err := s.dispatcher.RunOnce(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	var dels Deliveries
	s.json("GET", base+"/deliveries", tokenViewer, nil, http.StatusOK, &dels)
	require.NotEmpty(t, dels.Deliveries)
	for _, d := range dels.Deliveries {
		assert.Equal(t, "delivered", string(d.Status), "%+v", d)
	}

	// The review document, in both formats.
	md := s.do(request{method: "GET", path: base + "/review-document?format=markdown", token: tokenViewer})
	require.Equal(t, http.StatusOK, md.status)
	assert.True(t, strings.HasPrefix(md.header.Get("Content-Type"), "text/markdown"))
	assert.Contains(t, string(md.body), "No MFA on finance accounts")
	html := s.do(request{method: "GET", path: base + "/review-document?format=html&check_content=true", token: tokenViewer})
	require.Equal(t, http.StatusOK, html.status)
	assert.True(t, strings.HasPrefix(html.header.Get("Content-Type"), "text/html"))
	assert.Contains(t, string(html.body), "<svg")

	// The timeline, a page at a time, newest first.
	var all []ir.Event
	from := int64(0)
	for {
		var page Timeline
		s.json("GET", fmt.Sprintf("%s/timeline?order=newest&limit=7&from=%d", base, from), tokenViewer, nil, http.StatusOK, &page)
		all = append(all, page.Events...)
		if page.Next == 0 {
			break
		}
		from = page.Next
	}
	require.NotEmpty(t, all)
	assert.Equal(t, ir.EventOpened, all[len(all)-1].Type)
	assert.Equal(t, inc.Version, all[0].Version)

	var metrics Metrics
	s.json("GET", "/v1/metrics?status=closed", tokenViewer, nil, http.StatusOK, &metrics)
	assert.Equal(t, 1, metrics.All.Incidents)
	assert.Equal(t, 1, metrics.All.TimeToResolve.Count)

	// Reopening is the commander's too.
	var perms Permissions
	s.json("GET", base+"/permissions", tokenResponder, nil, http.StatusOK, &perms)
	assert.Equal(t, RoleResponder, perms.Role)
	require.NotNil(t, perms.Reopen)
	assert.Equal(t, CodeForbidden, perms.Reopen.Code)
	var reopened ir.Incident
	s.json("POST", base+"/reopen", tokenCommander, ReasonRequest{Reason: "same sender again"}, http.StatusOK, &reopened)
	assert.True(t, reopened.IsOpen())
	assert.Equal(t, phases.Identification, reopened.Phase)
}

func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		require.NoError(t, err)
		names = append(names, h.Name)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	s := newMemoryServer(t, ir.NewMemoryStore())
	for i := range 7 {
		sev := ir.SeverityLow
		if i%2 == 0 {
			sev = ir.SeverityHigh
		}
		s.json("POST", "/v1/incidents", tokenResponder, NewIncidentRequest{Title: fmt.Sprintf("incident %d", i), Severity: string(sev), Labels: []string{fmt.Sprintf("n%d", i%3)}}, http.StatusCreated, nil)
	}
	var seen []string
	after := ""
	for {
		var page IncidentList
		s.json("GET", "/v1/incidents?severity=high&status=open&limit=2&after="+after, tokenViewer, nil, http.StatusOK, &page)
		for _, inc := range page.Incidents {
			assert.Equal(t, ir.SeverityHigh, inc.Severity)
			seen = append(seen, inc.Title)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	assert.Equal(t, []string{"incident 6", "incident 4", "incident 2", "incident 0"}, seen)
	var page IncidentList
	s.json("GET", "/v1/incidents?label=n1", tokenViewer, nil, http.StatusOK, &page)
	assert.Len(t, page.Incidents, 2)
	s.json("GET", "/v1/incidents?status=closed", tokenViewer, nil, http.StatusOK, &page)
	assert.Empty(t, page.Incidents)

	r := s.do(request{method: "GET", path: "/v1/incidents?status=sideways", token: tokenViewer, invalid: true})
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, CodeMalformed, r.problem(t).Code)
	r = s.do(request{method: "GET", path: "/v1/incidents?severity=dire", token: tokenViewer})
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Equal(t, CodeInvalid, r.problem(t).Code)
	r = s.do(request{method: "GET", path: "/v1/incidents/no-such-incident", token: tokenViewer})
	require.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, CodeNotFound, r.problem(t).Code)
}

func TestUnauthorizedAndForbidden(t *testing.T) {
	s := newSQLiteServer(t, nil)
	inc := s.open("Ransomware on a file server")
	base := "/v1/incidents/" + string(inc.ID)

	for _, c := range []struct {
		name   string
		header string
	}{
		{"no token", ""},
		{"a token not known", "Bearer not-a-token-anyone-has"},
		{"not a bearer token", "Basic YWxpY2U6c2VjcmV0"},
		{"an empty bearer token", "Bearer "},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", s.url+base, nil)
			require.NoError(t, err)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			r := response{status: resp.StatusCode, header: resp.Header, body: body}
			require.Equal(t, http.StatusUnauthorized, r.status)
			assert.Equal(t, CodeUnauthenticated, r.problem(t).Code)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
		})
	}
	// The same through the OpenAPI check: a request without a token breaks it.
	r := s.do(request{method: "GET", path: base, invalid: true})
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = s.do(request{method: "GET", path: base, token: "wrong-token-of-some-length"})
	require.Equal(t, http.StatusUnauthorized, r.status)

	// A viewer reads, and changes nothing.
	s.json("GET", base, tokenViewer, nil, http.StatusOK, nil)
	s.json("GET", base+"/timeline", tokenViewer, nil, http.StatusOK, nil)
	for _, c := range []struct {
		path string
		body any
	}{
		{base + "/notes", NoteRequest{Text: "hello"}},
		{base + "/transitions", TransitionRequest{Action: phases.Identify}},
		{"/v1/incidents", NewIncidentRequest{Title: "x", Severity: "low"}},
		{"/v1/alerts", GenericAlerts{Alerts: []Alert{{Key: "k", Title: "t"}}}},
	} {
		r := s.do(request{method: "POST", path: c.path, token: tokenViewer, body: c.body})
		require.Equal(t, http.StatusForbidden, r.status, "%s: %s", c.path, r.body)
		assert.Equal(t, CodeForbidden, r.problem(t).Code)
	}
	up := s.do(request{method: "POST", path: base + "/evidence?name=x.log", token: tokenViewer, body: []byte("log line\n"), contentType: "application/octet-stream"})
	require.Equal(t, http.StatusForbidden, up.status, "%s", up.body)

	// A responder may not appoint the incident commander.
	r = s.do(request{method: "POST", path: base + "/assignments", token: tokenResponder, body: AssignRequest{Role: ir.RoleCommander, Actor: ir.Actor{ID: "bob"}}})
	require.Equal(t, http.StatusForbidden, r.status)
	assert.Contains(t, r.problem(t).Detail, "only an incident commander")
	// But may assign a scribe.
	s.json("POST", base+"/assignments", tokenResponder, AssignRequest{Role: ir.RoleScribe, Actor: ir.Actor{ID: "bob"}}, http.StatusOK, nil)
	// Replaying deliveries is a commander's.
	r = s.do(request{method: "POST", path: "/v1/deliveries/1/replay", token: tokenResponder})
	require.Equal(t, http.StatusForbidden, r.status)
	r = s.do(request{method: "POST", path: "/v1/deliveries/999/replay", token: tokenCommander})
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.body)

	var inc2 ir.Incident
	s.json("GET", base, tokenViewer, nil, http.StatusOK, &inc2)
	assert.Equal(t, int64(2), inc2.Version, "only the scribe's assignment changed the incident")
}

func TestBadBodies(t *testing.T) {
	s := newSQLiteServer(t, func(c *Config) { c.MaxBody = 4 << 10; c.MaxEvidence = 64 << 10 })
	inc := s.open("Suspicious login")
	base := "/v1/incidents/" + string(inc.ID)
	cases := []struct {
		name, path, ct string
		body           []byte
		status         int
		code           string
	}{
		{"malformed JSON", base + "/notes", "application/json", []byte(`{"text": "unterminated`), 400, CodeMalformed},
		{"the wrong JSON type", base + "/notes", "application/json", []byte(`{"text": 42}`), 400, CodeMalformed},
		{"an unknown field", base + "/notes", "application/json", []byte(`{"text": "hi", "txet": "hi"}`), 400, CodeMalformed},
		{"two JSON values", base + "/notes", "application/json", []byte(`{"text": "a"} {"text": "b"}`), 400, CodeMalformed},
		{"an empty body", base + "/notes", "application/json", nil, 400, CodeMalformed},
		{"not JSON", base + "/notes", "text/plain", []byte(`hello`), 415, CodeUnsupportedMedia},
		{"too large", base + "/notes", "application/json", []byte(`{"text": "` + strings.Repeat("a", 8<<10) + `"}`), 413, CodeTooLarge},
		{"too large, in an alert", "/v1/alerts", "application/json", []byte(`{"alerts": [{"key": "` + strings.Repeat("k", 8<<10) + `"}]}`), 413, CodeTooLarge},
		{"an invalid severity", "/v1/incidents", "application/json", []byte(`{"title": "x", "severity": "dire"}`), 422, CodeInvalid},
		{"an empty title", "/v1/incidents", "application/json", []byte(`{"title": "", "severity": "high"}`), 422, CodeInvalid},
		{"an unknown action", base + "/transitions", "application/json", []byte(`{"action": "teleport"}`), 422, CodeInvalid},
		{"an alert without a key", "/v1/alerts", "application/json", []byte(`{"alerts": [{"title": "x"}]}`), 422, CodeInvalid},
		{"an Alertmanager payload of another version", "/v1/alerts/alertmanager", "application/json", []byte(`{"version": "3", "status": "firing", "alerts": []}`), 422, CodeInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := s.with(t)
			r := s.do(request{method: "POST", path: c.path, token: tokenResponder, body: c.body, contentType: c.ct,
				invalid: c.name != "an unknown action" && c.name != "two JSON values" && c.name != "too large"})
			require.Equal(t, c.status, r.status, "%s", truncate(r.body))
			p := r.problem(t)
			assert.Equal(t, c.code, p.Code)
			if c.code == CodeInvalid && c.path == "/v1/incidents" {
				require.NotEmpty(t, p.Errors)
			}
		})
	}
	t.Run("several bad fields at once", func(t *testing.T) {
		s := s.with(t)
		r := s.do(request{method: "POST", path: "/v1/incidents", token: tokenResponder, invalid: true,
			body: map[string]any{"title": "", "severity": "dire", "tlp": "TLP:PURPLE"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status)
		p := r.problem(t)
		var fields []string
		for _, e := range p.Errors {
			fields = append(fields, e.Field)
		}
		assert.Subset(t, fields, []string{"title", "severity", "tlp"}, "%s", r.body)
	})
	t.Run("evidence beyond the limit", func(t *testing.T) {
		s := s.with(t)
		r := s.do(request{method: "POST", path: base + "/evidence?name=big.bin", token: tokenResponder,
			body: make([]byte, 128<<10), contentType: "application/octet-stream"})
		require.Equal(t, http.StatusRequestEntityTooLarge, r.status, "%s", r.body)
		assert.Equal(t, CodeTooLarge, r.problem(t).Code)
		var list EvidenceList
		s.json("GET", base+"/evidence", tokenViewer, nil, http.StatusOK, &list)
		assert.Empty(t, list.Items)
	})
	t.Run("evidence without a name", func(t *testing.T) {
		s := s.with(t)
		r := s.do(request{method: "POST", path: base + "/evidence", token: tokenResponder, invalid: true,
			body: []byte("x"), contentType: "application/octet-stream"})
		require.Equal(t, http.StatusBadRequest, r.status)
	})
	t.Run("no such endpoint", func(t *testing.T) {
		resp, err := http.Get(s.url + "/v2/everything")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	})
	t.Run("a method the path does not take", func(t *testing.T) {
		req, err := http.NewRequest("DELETE", s.url+base, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := response{status: resp.StatusCode, header: resp.Header, body: body}
		require.Equal(t, http.StatusMethodNotAllowed, r.status)
		assert.Equal(t, CodeMethodNotAllowed, r.problem(t).Code)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	})
}

func TestConcurrentUpdates(t *testing.T) {
	s := newSQLiteServer(t, nil)
	inc := s.open("Data exfiltration over DNS")
	base := "/v1/incidents/" + string(inc.ID)
	const writers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			token := tokenResponder
			if w%2 == 0 {
				token = tokenCommander
			}
			for i := range each {
				var r response
				if i%2 == 0 {
					r = s.do(request{method: "POST", path: base + "/notes", token: token, body: NoteRequest{Text: fmt.Sprintf("writer %d note %d", w, i)}})
				} else {
					r = s.do(request{method: "POST", path: base + "/observables", token: token, body: ir.Observable{Type: ir.ObservableIP, Value: fmt.Sprintf("198.51.100.%d", w*each+i)}})
				}
				if r.status != http.StatusOK {
					errs <- fmt.Errorf("writer %d change %d: %d %s", w, i, r.status, r.body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var got ir.Incident
	s.json("GET", base, tokenViewer, nil, http.StatusOK, &got)
	assert.Equal(t, int64(1+writers*each), got.Version)
	assert.Len(t, got.Observables, writers*(each/2))
	var page Timeline
	s.json("GET", base+"/timeline?limit=1000", tokenViewer, nil, http.StatusOK, &page)
	assert.Len(t, page.Events, 1+writers*each)
	for i, e := range page.Events {
		assert.Equal(t, int64(i+1), e.Seq)
	}
}

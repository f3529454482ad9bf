package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// The tokens of the tests' actors.
const (
	tokenCommander = "commander-token-0123456789"
	tokenResponder = "responder-token-0123456789"
	tokenViewer    = "viewer-token-0123456789abc"
	tokenAlerts    = "alertmanager-token-0123456"
)

func testTokens() []TokenEntry {
	return []TokenEntry{
		{Token: tokenCommander, Actor: ir.Actor{ID: "alice", Name: "Alice Moreau"}, Role: RoleCommander},
		{Token: tokenResponder, Actor: ir.Actor{ID: "bob", Name: "Bob Okafor"}, Role: RoleResponder},
		{Token: tokenViewer, Actor: ir.Actor{ID: "carol", Name: "Carol Viewer"}, Role: RoleViewer},
		{Token: tokenAlerts, Actor: ir.Actor{ID: "alertmanager", Kind: ir.ActorService}, Role: RoleResponder},
	}
}

var discard = slog.New(slog.DiscardHandler)

// spec is the OpenAPI document, loaded once, with the router that finds
// each request's operation in it.
var spec = sync.OnceValues(func() (routers.Router, error) {
	for _, ct := range []string{"text/markdown", "text/html", "application/x-tar"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

// server is a service on loopback and the client that drives it.
type server struct {
	t   testing.TB
	url string
	svc *Service
	dir *sqlite.Dir
	// dispatcher delivers to one channel, "log", every event.
	dispatcher *notify.Dispatcher
}

// with returns s reporting to t, for a subtest.
func (s *server) with(t testing.TB) *server {
	c := *s
	c.t = t
	return &c
}

// newSQLiteServer serves a fresh SQLite data directory.
func newSQLiteServer(t testing.TB, mutate func(*Config)) *server {
	return newSQLiteServerAt(t, t.TempDir(), mutate)
}

// newSQLiteServerAt serves the SQLite data directory dir, as one of the
// service instances that may share it.
func newSQLiteServerAt(t testing.TB, dir string, mutate func(*Config)) *server {
	ctx := context.Background()
	auth, err := NewAuth(testTokens())
	require.NoError(t, err)
	d, err := sqlite.OpenDir(ctx, dir, sqlite.DirConfig{Responder: ir.Config{
		Model: phases.SANS, Policy: auth.Policy(phases.SANS), Outbox: true, Logger: discard}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "log", MaxTLP: notify.TLPRed}},
		Routes: []notify.Route{{Channels: []string{"log"}}}})
	require.NoError(t, err)
	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{Outbox: d.Store, Deliveries: d.Store, Router: router,
		Channels: map[string]notify.Notifier{"log": notify.LogNotifier{Logger: discard}}, Logger: discard})
	require.NoError(t, err)
	t.Cleanup(func() { _ = dispatcher.Close() })
	cfg := Config{Responder: d.Responder, Auth: auth, Locker: d.Locker, Blobs: d.Blobs, Deliveries: d.Store,
		Dispatcher: dispatcher, Logger: discard, TempDir: t.TempDir()}
	if mutate != nil {
		mutate(&cfg)
	}
	s := serve(t, cfg)
	s.dir, s.dispatcher = d, dispatcher
	return s
}

// newMemoryServer serves store, as one of several service instances
// sharing it: each has its own Responder, as separate processes would.
func newMemoryServer(t testing.TB, store *ir.MemoryStore) *server {
	auth, err := NewAuth(testTokens())
	require.NoError(t, err)
	r, err := ir.NewResponder(ir.Config{Store: store, Model: phases.SANS, Policy: auth.Policy(phases.SANS), Logger: discard})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return serve(t, Config{Responder: r, Auth: auth, Logger: discard})
}

func serve(t testing.TB, cfg Config) *server {
	svc, err := NewService(cfg)
	require.NoError(t, err)
	ts := httptest.NewServer(svc.Handler())
	t.Cleanup(ts.Close)
	return &server{t: t, url: ts.URL, svc: svc}
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v.
func (r response) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

// problem decodes a problem details body.
func (r response) problem(t testing.TB) Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "body: %s", r.body)
	var p Problem
	r.json(t, &p)
	require.Equal(t, r.status, p.Status)
	require.Equal(t, problemType(p.Code), p.Type)
	return p
}

// request is one request to make.
type request struct {
	method, path, token string
	// body is JSON-encoded unless it is a []byte or an io.Reader; raw
	// bodies have contentType.
	body        any
	contentType string
	// invalid says the request breaks the OpenAPI document on purpose:
	// its validation must fail. Otherwise it must pass.
	invalid bool
}

// do makes a request and checks it, and its response, against the
// OpenAPI document.
func (s *server) do(rq request) response {
	t := s.t
	t.Helper()
	var body []byte
	ct := rq.contentType
	switch b := rq.body.(type) {
	case nil:
	case []byte:
		body = b
	case io.Reader:
		var err error
		body, err = io.ReadAll(b)
		require.NoError(t, err)
	default:
		var err error
		body, err = json.Marshal(b)
		require.NoError(t, err)
		if ct == "" {
			ct = "application/json"
		}
	}
	newReq := func() *http.Request {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(rq.method, s.url+rq.path, rd)
		require.NoError(t, err)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if rq.token != "" {
			req.Header.Set("Authorization", "Bearer "+rq.token)
		}
		return req
	}
	router, err := spec()
	require.NoError(t, err)
	req := newReq()
	route, params, err := router.FindRoute(req)
	require.NoError(t, err, "%s %s is not in the OpenAPI document", rq.method, rq.path)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent, IncludeResponseStatus: true}}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	if rq.invalid {
		require.Error(t, err, "%s %s: the request was meant to break the OpenAPI document", rq.method, rq.path)
	} else {
		require.NoError(t, err, "%s %s: request", rq.method, rq.path)
	}
	resp, err := http.DefaultClient.Do(newReq())
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	in.Request = newReq()
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(got)), Options: in.Options}
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), "%s %s: response %d %s", rq.method, rq.path, resp.StatusCode, truncate(got))
	return response{status: resp.StatusCode, header: resp.Header, body: got}
}

// bearerPresent checks, for the OpenAPI validation, that a request sends
// a bearer token; whether it is valid is the service's to say.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return in.NewError(errNoBearer)
	}
	return nil
}

var errNoBearer = &Problem{Code: CodeUnauthenticated}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// json sends a JSON request that must follow the document, expects
// status, and decodes the answer into out (if not nil).
func (s *server) json(method, path, token string, body any, status int, out any) response {
	s.t.Helper()
	rq := request{method: method, path: path, token: token, body: body}
	if body != nil {
		rq.contentType = "application/json"
	}
	r := s.do(rq)
	require.Equal(s.t, status, r.status, "%s %s: %s", method, path, r.body)
	if out != nil {
		r.json(s.t, out)
	}
	return r
}

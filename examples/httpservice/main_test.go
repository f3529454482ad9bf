package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// started is the program running in the test.
type started struct {
	base, token string
	stop        func() error
}

// start runs the program with args and reads the address and the token it
// prints.
func start(t *testing.T, args ...string) started {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw)
		_ = pw.CloseWithError(err)
		done <- err
	}()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatal("run did not return after its context ended")
			return nil
		}
	}
	lines := bufio.NewScanner(pr)
	var out strings.Builder
	var s started
	for (s.base == "" || s.token == "") && lines.Scan() {
		line := lines.Text()
		out.WriteString(line + "\n")
		if m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line); m != nil {
			s.base = m[1]
		}
		if m := regexp.MustCompile(`export TOKEN=(\S+)`).FindStringSubmatch(line); m != nil {
			s.token = m[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if s.base == "" || s.token == "" {
		err := stop()
		t.Fatalf("no address and token printed: %s (%v)", out.String(), err)
	}
	s.stop = stop
	return s
}

// call makes a request with the token and returns the status and body.
func (s started) call(t *testing.T, method, path, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// TestRun starts the program as `go run` does on a fresh machine, with a
// new data directory: it prints its address and a token, serves with it,
// and stops cleanly when its context ends, as on SIGTERM.
func TestRun(t *testing.T) {
	data := filepath.Join(t.TempDir(), "incidentkit-data")
	s := start(t, "-data", data)
	st, err := os.Stat(filepath.Join(data, "tokens.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	status, body := s.call(t, "POST", "/v1/incidents", "application/json", `{"title": "Phishing", "severity": "high"}`)
	assert.Equal(t, http.StatusCreated, status, "%s", body)
	require.NoError(t, s.stop())
	_, err = http.Get(s.base + "/healthz")
	assert.Error(t, err, "the listener is closed")
}

// TestRunPostgres runs the program on PostgreSQL, with the evidence in the
// data directory.
func TestRunPostgres(t *testing.T) {
	dsn := os.Getenv("INCIDENTKIT_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set INCIDENTKIT_TEST_POSTGRES_DSN to run the service on PostgreSQL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ik_httpsvc_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	s := start(t, "-data", filepath.Join(t.TempDir(), "data"), "-postgres", dsn, "-schema", schema)
	defer func() { require.NoError(t, s.stop()) }()

	status, body := s.call(t, "POST", "/v1/incidents", "application/json", `{"title": "Web shell on the intranet", "severity": "critical"}`)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var inc struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &inc))
	status, body = s.call(t, "POST", "/v1/incidents/"+inc.ID+"/evidence?name=shell.php&kind=file", "application/octet-stream", "<?php system($_GET['c']); ?>\n")
	require.Equal(t, http.StatusCreated, status, "%s", body)
	status, body = s.call(t, "GET", "/v1/incidents/"+inc.ID+"/custody/verification", "", "")
	require.Equal(t, http.StatusOK, status, "%s", body)
	var ver Verification
	require.NoError(t, json.Unmarshal(body, &ver))
	assert.True(t, ver.OK, "%v", ver.Problems)
	status, body = s.call(t, "POST", "/v1/alerts", "application/json", `{"alerts": [{"key": "pg-1", "title": "CPU"}, {"key": "pg-1", "title": "CPU"}]}`)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Contains(t, string(body), `"outcome":"opened"`)
	assert.Contains(t, string(body), `"outcome":"appended"`)
}

// TestGrantKeepsTheTokensFilesRoles checks that a tokens file cannot give
// the service's own actor a role of its choosing, nor have it taken over.
func TestGrantKeepsTheTokensFilesRoles(t *testing.T) {
	t.Parallel()
	auth, err := NewAuth([]TokenEntry{{Token: "ik_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Actor: dispatcherActor, Role: RoleViewer}})
	require.NoError(t, err)
	require.Error(t, auth.grant(dispatcherActor.ID, RoleResponder))
	role, _ := auth.Role(dispatcherActor.ID)
	assert.Equal(t, RoleViewer, role)

	auth, err = NewAuth(nil)
	require.NoError(t, err)
	require.NoError(t, auth.grant(dispatcherActor.ID, RoleResponder))
	role, _ = auth.Role(dispatcherActor.ID)
	assert.Equal(t, RoleResponder, role)
}

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pattern is an endless reader of a repeated, non-trivial block.
type pattern struct {
	block []byte
	off   int
}

func (p *pattern) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		c := copy(b[n:], p.block[p.off:])
		n += c
		p.off = (p.off + c) % len(p.block)
	}
	return n, nil
}

// TestEvidenceUploadStreams uploads 128 MiB of evidence and checks that
// the process allocated a small fraction of it: the body is streamed into
// the locker, never held whole.
func TestEvidenceUploadStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 128 MiB")
	}
	s := newSQLiteServer(t, nil)
	inc := s.open("Memory image of a compromised host")
	const size = 128 << 20
	block := make([]byte, 64<<10)
	for i := range block {
		block[i] = byte(i*7 + i/256)
	}
	h := sha256.New()
	_, err := io.Copy(h, io.LimitReader(&pattern{block: block}, size))
	require.NoError(t, err)
	want := hex.EncodeToString(h.Sum(nil))

	path := "/v1/incidents/" + string(inc.ID) + "/evidence?name=host-7.mem&kind=memory_dump"
	req, err := http.NewRequest("POST", s.url+path, io.LimitReader(&pattern{block: block}, size))
	require.NoError(t, err)
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+tokenResponder)

	// The request is checked against the document without its body,
	// which the check would read whole.
	router, err := spec()
	require.NoError(t, err)
	route, params, err := router.FindRoute(req)
	require.NoError(t, err)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent, IncludeResponseStatus: true, ExcludeRequestBody: true}}
	require.NoError(t, openapi3filter.ValidateRequest(context.Background(), in))

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	runtime.ReadMemStats(&after)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)

	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: in.Options}
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), out))
	var item struct {
		Size    int64 `json:"size"`
		Digests struct {
			SHA256 string `json:"sha256"`
		} `json:"digests"`
	}
	response{status: resp.StatusCode, body: body}.json(t, &item)
	assert.Equal(t, int64(size), item.Size)
	assert.Equal(t, want, item.Digests.SHA256)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.1f MiB to upload %d MiB", float64(allocated)/(1<<20), size>>20)
	assert.Less(t, allocated, uint64(size/8), "the upload allocated %d bytes", allocated)
}

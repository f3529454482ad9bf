package notify_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

func TestCheckAddress(t *testing.T) {
	t.Parallel()
	for addr, blocked := range map[string]bool{
		"8.8.8.8": false, "1.1.1.1": false, "2606:4700:4700::1111": false, "93.184.216.34": false,
		"172.15.255.255": false, "172.32.0.1": false, "100.63.255.255": false, "100.128.0.1": false,
		"127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"10.1.2.3": true, "172.16.0.1": true, "172.31.255.255": true, "192.168.1.1": true, "fd12:3456::1": true,
		"169.254.1.1": true, "fe80::1": true, "fe80::1%eth0": true,
		"100.64.0.1": true, "100.127.255.255": true,
		"0.0.0.0": true, "0.1.2.3": true, "::": true,
		"169.254.169.254": true, "100.100.100.200": true, "fd00:ec2::254": true,
		"224.0.0.1": true, "ff02::1": true, "255.255.255.255": true, "240.0.0.1": true,
		"::ffff:127.0.0.1": true, "::ffff:10.0.0.1": true, "::ffff:169.254.169.254": true, "::ffff:8.8.8.8": false,
		"64:ff9b::7f00:1": true, "64:ff9b::a9fe:a9fe": true, "64:ff9b::808:808": false,
	} {
		err := notify.CheckAddress(netip.MustParseAddr(addr), nil)
		if !blocked {
			assert.NoError(t, err, addr)
			continue
		}
		assert.ErrorIs(t, err, notify.ErrBlockedAddress, addr)
		assert.ErrorIs(t, err, notify.ErrPermanent, addr)
		var be *notify.BlockedAddressError
		require.ErrorAs(t, err, &be, addr)
		assert.NotEmpty(t, be.What, addr)
	}
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.20.0.0/16")}
	for _, addr := range []string{"127.0.0.1", "::ffff:127.0.0.1", "10.20.3.4"} {
		assert.NoError(t, notify.CheckAddress(netip.MustParseAddr(addr), allow), "%s is allowed", addr)
	}
	assert.Error(t, notify.CheckAddress(netip.MustParseAddr("10.21.0.1"), allow), "only what is allowed")
	assert.Error(t, notify.CheckAddress(netip.MustParseAddr("::1"), allow), "IPv6 loopback is not IPv4's")
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func get(c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func TestHTTPClientRefusesLoopbackByDefault(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)

	err := get(notify.NewHTTPClient(notify.HTTPConfig{}), srv.URL)
	require.ErrorIs(t, err, notify.ErrBlockedAddress)
	assert.ErrorIs(t, err, notify.ErrPermanent)
	assert.Equal(t, notify.ErrPermanent, notify.Classify(err))

	u, perr := notify.ParseSecretURL(srv.URL + "/hooks/SECRET")
	require.NoError(t, perr)
	assert.ErrorIs(t, u.Redact(err), notify.ErrBlockedAddress, "redacting keeps the refusal")

	require.NoError(t, get(notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback}), srv.URL), "allowed")
	assert.Equal(t, int32(1), hits.Load(), "only the allowed request reached the server")
}

// TestHTTPClientChecksResolvedNames checks that a name is checked by the
// address it resolves to, as a name an attacker controls could resolve to
// an internal address.
func TestHTTPClientChecksResolvedNames(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	err = get(notify.NewHTTPClient(notify.HTTPConfig{}), "http://localhost:"+port)
	require.ErrorIs(t, err, notify.ErrBlockedAddress)
}

// TestHTTPClientChecksRedirects checks that a redirect to an address the
// client may not reach is refused though the first address was allowed.
func TestHTTPClientChecksRedirects(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address here: %v", err)
	}
	internal := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("instance credentials"))
	}))
	internal.Listener = l
	internal.Start()
	t.Cleanup(internal.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/latest/meta-data/", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)

	err = get(notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback}), redirector.URL)
	require.ErrorIs(t, err, notify.ErrBlockedAddress)
	var be *notify.BlockedAddressError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "127.0.0.2", be.Addr.String())
}

func TestHTTPClientRedirectLimits(t *testing.T) {
	t.Parallel()
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	}))
	t.Cleanup(loop.Close)
	err := get(notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback}), loop.URL+"/a")
	require.ErrorIs(t, err, notify.ErrPermanent)
	assert.ErrorContains(t, err, "stopped after 5 redirects")

	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL, http.StatusFound)
	}))
	t.Cleanup(secure.Close)
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate())
	err = get(notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback, RootCAs: pool}), secure.URL)
	require.ErrorIs(t, err, notify.ErrPermanent)
	assert.ErrorContains(t, err, "from HTTPS to plain HTTP")
}

func TestHTTPClientVerifiesCertificates(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	err := get(notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback}), srv.URL)
	require.Error(t, err, "a certificate no trusted authority signed is refused")
	var unknown x509.UnknownAuthorityError
	assert.True(t, errors.As(err, &unknown), "got %v", err)

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	require.NoError(t, get(notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback, RootCAs: pool}), srv.URL))
}

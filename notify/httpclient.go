package notify

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlockedAddress means an outbound connection was refused because the
// address it would reach is one a notification has no business reaching
// (see [CheckAddress]). Errors matching it match [ErrPermanent] too: the
// channel's address must change, or be allowed, before it can work.
var ErrBlockedAddress = errors.New("notify: address not allowed")

// blockedRanges are the addresses outbound connections refuse by default.
var blockedRanges = func() []struct {
	prefix netip.Prefix
	what   string
} {
	list := []struct{ cidr, what string }{
		{"0.0.0.0/8", "unspecified"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignment"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"fc00::/7", "private"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]struct {
		prefix netip.Prefix
		what   string
	}, len(list))
	for i, r := range list {
		out[i].prefix, out[i].what = netip.MustParsePrefix(r.cidr), r.what
	}
	return out
}()

// metadataAddresses are cloud instance-metadata services outside the
// ranges above.
var metadataAddresses = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, Azure, GCP, OpenStack (link-local too)
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud (CGNAT too)
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6 (private too)
}

// nat64 is the well-known NAT64 prefix, whose addresses reach the IPv4
// address in their last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// CheckAddress returns nil if an outbound connection may reach addr, and
// otherwise an error matching [ErrBlockedAddress] and [ErrPermanent] that
// says why. It refuses loopback, private, link-local, carrier-grade NAT,
// unspecified, multicast and reserved addresses and cloud metadata
// services, in IPv4 and IPv6, an IPv4 address mapped into IPv6 (or
// reached through the NAT64 prefix) as the IPv4 address itself; unless an
// allow prefix contains the address.
func CheckAddress(addr netip.Addr, allow []netip.Prefix) error {
	addr = addr.WithZone("")
	for _, p := range allow {
		if p.Contains(addr) || (addr.Is4In6() && p.Contains(addr.Unmap())) {
			return nil
		}
	}
	target := addr.Unmap()
	if nat64.Contains(target) {
		b := target.As16()
		target = netip.AddrFrom4([4]byte(b[12:]))
	}
	blocked := func(what string) error {
		return &DeliveryError{Class: ErrPermanent, Err: &BlockedAddressError{Addr: addr, What: what}}
	}
	for _, m := range metadataAddresses {
		if target == m {
			return blocked("cloud metadata service")
		}
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(target) {
			return blocked(r.what)
		}
	}
	if target.Is4() && target == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return blocked("broadcast")
	}
	if !target.IsValid() {
		return blocked("invalid")
	}
	return nil
}

// BlockedAddressError is the refusal of an address by [CheckAddress]. It
// matches [ErrBlockedAddress].
type BlockedAddressError struct {
	// Addr is the address refused.
	Addr netip.Addr
	// What says what kind of address it is, such as "loopback".
	What string
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("notify: refusing to connect to %s, a %s address; allow it in the HTTP configuration if it is meant", e.Addr, e.What)
}

// Is reports whether target is [ErrBlockedAddress].
func (e *BlockedAddressError) Is(target error) bool { return target == ErrBlockedAddress }

// HTTPConfig configures the client [NewHTTPClient] makes.
type HTTPConfig struct {
	// Allow opens addresses [CheckAddress] refuses, such as a webhook
	// receiver on the service's own network or, in tests, loopback.
	Allow []netip.Prefix
	// RootCAs, if set, are the certificate authorities TLS connections
	// trust instead of the system's. Certificates are always verified.
	RootCAs *x509.CertPool
	// Timeout bounds each request, redirects and reading the reply
	// included; zero means 30 seconds.
	Timeout time.Duration
}

// maxRedirects is how many redirects a client follows.
const maxRedirects = 5

// NewHTTPClient returns an HTTP client for channels: every connection it
// makes is checked with [CheckAddress] on the address actually dialled,
// after name resolution, so that neither a redirect nor a name that
// resolves to an internal address (DNS rebinding) gets round the check;
// it uses no proxy; TLS certificates are always verified (against
// RootCAs if set), with TLS 1.2 at least; it follows at most 5 redirects,
// never from HTTPS to HTTP; and each request is bounded by Timeout.
func NewHTTPClient(cfg HTTPConfig) *http.Client {
	allow := append([]netip.Prefix(nil), cfg.Allow...)
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &DeliveryError{Class: ErrPermanent, Err: fmt.Errorf("notify: cannot check the address %q: %w", address, err)}
			}
			return CheckAddress(ap.Addr(), allow)
		},
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return Permanent(fmt.Errorf("notify: stopped after %d redirects", maxRedirects))
			}
			if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return Permanent(errors.New("notify: refusing a redirect from HTTPS to plain HTTP"))
			}
			return nil
		},
	}
}

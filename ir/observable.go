package ir

import (
	"encoding/hex"
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// ObservableType is the kind of an observable (an indicator seen during the
// incident).
type ObservableType string

// Observable types. Values of the types with a syntax (addresses, domains,
// URLs, e-mail addresses, hashes) are checked and stored in a canonical
// form, so that the same indicator is recorded once.
const (
	ObservableIP        ObservableType = "ip"     // an IPv4 or IPv6 address, or a CIDR prefix
	ObservableDomain    ObservableType = "domain" // a DNS name
	ObservableURL       ObservableType = "url"    // an absolute URL
	ObservableEmail     ObservableType = "email"  // an e-mail address
	ObservableMD5       ObservableType = "md5"    // a file's MD5 digest in hex
	ObservableSHA1      ObservableType = "sha1"   // a file's SHA-1 digest in hex
	ObservableSHA256    ObservableType = "sha256" // a file's SHA-256 digest in hex
	ObservableHost      ObservableType = "host"   // a host name or asset tag
	ObservableAccount   ObservableType = "account"
	ObservableFileName  ObservableType = "file_name"
	ObservableProcess   ObservableType = "process"
	ObservableRegistry  ObservableType = "registry_key"
	ObservableUserAgent ObservableType = "user_agent"
	ObservableOther     ObservableType = "other"
)

var observableTypes = []ObservableType{
	ObservableIP, ObservableDomain, ObservableURL, ObservableEmail, ObservableMD5, ObservableSHA1,
	ObservableSHA256, ObservableHost, ObservableAccount, ObservableFileName, ObservableProcess,
	ObservableRegistry, ObservableUserAgent, ObservableOther,
}

// ParseObservableType returns the type s names, or an [*InvalidError].
func ParseObservableType(s string) (ObservableType, error) {
	return parseEnum("observable type", s, observableTypes)
}

// String returns the type's name.
func (t ObservableType) String() string { return string(t) }

// MarshalText encodes the type, refusing unknown values.
func (t ObservableType) MarshalText() ([]byte, error) {
	return marshalEnum("observable type", t, observableTypes)
}

// UnmarshalText decodes a type, refusing unknown values.
func (t *ObservableType) UnmarshalText(b []byte) error {
	return unmarshalEnum("observable type", t, b, observableTypes)
}

// Observable is an indicator seen during the incident: an address, a
// domain, a file hash, an account.
type Observable struct {
	Type        ObservableType `json:"type"`
	Value       string         `json:"value"`
	Description string         `json:"description,omitempty"`
	// Malicious records whether the indicator is known to be malicious.
	Malicious bool      `json:"malicious,omitempty"`
	AddedAt   time.Time `json:"added_at,omitzero"`
	AddedBy   Actor     `json:"added_by,omitzero"`
}

// normalize checks the observable and returns it with its type and value in
// canonical form.
func (o Observable) normalize() (Observable, error) {
	t, err := ParseObservableType(string(o.Type))
	if err != nil {
		return Observable{}, err
	}
	o.Type = t
	o.Value = strings.TrimSpace(o.Value)
	if o.Value == "" {
		return Observable{}, invalid("observable value", "", "must not be empty")
	}
	if err := checkText("observable value", o.Value, MaxLongText); err != nil {
		return Observable{}, err
	}
	if err := checkText("observable description", o.Description, MaxLongText); err != nil {
		return Observable{}, err
	}
	v, reason := canonicalObservable(t, o.Value)
	if reason != "" {
		return Observable{}, invalid(string(t)+" observable", o.Value, reason)
	}
	o.Value = v
	return o, nil
}

// canonicalObservable returns v in canonical form for type t, or the reason
// it is not a valid value of that type.
func canonicalObservable(t ObservableType, v string) (string, string) {
	switch t {
	case ObservableIP:
		if a, err := netip.ParseAddr(v); err == nil {
			return a.String(), ""
		}
		if p, err := netip.ParsePrefix(v); err == nil {
			return p.Masked().String(), ""
		}
		return "", "not an IP address or CIDR prefix"
	case ObservableDomain:
		d := strings.TrimSuffix(strings.ToLower(v), ".")
		if !validDomain(d) {
			return "", "not a domain name"
		}
		return d, ""
	case ObservableURL:
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return "", "not an absolute URL"
		}
		u.Host = strings.ToLower(u.Host)
		return u.String(), ""
	case ObservableEmail:
		a, err := mail.ParseAddress(v)
		if err != nil || a.Name != "" {
			return "", "not an e-mail address"
		}
		local, domain, _ := strings.Cut(a.Address, "@")
		return local + "@" + strings.ToLower(domain), ""
	case ObservableMD5:
		return hexDigest(v, 16)
	case ObservableSHA1:
		return hexDigest(v, 20)
	case ObservableSHA256:
		return hexDigest(v, 32)
	case ObservableHost:
		return strings.ToLower(v), ""
	default:
		return v, ""
	}
}

func hexDigest(v string, size int) (string, string) {
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != size {
		return "", "not a hex digest of the right length"
	}
	return hex.EncodeToString(b), ""
}

// validDomain reports whether d is a DNS name of letters, digits and
// hyphens (IDNs in their xn-- form), with at least two labels.
func validDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

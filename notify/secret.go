package notify

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
)

// Redacted is what a [Secret] or [SecretURL] shows instead of its value.
const Redacted = "[REDACTED]"

// minSecretPart is the shortest path segment or query value of a
// [SecretURL] that redaction takes out on its own.
const minSecretPart = 6

// Secret is a credential a channel needs (a routing key, a signing secret,
// a bot token, an SMTP password) that must never appear in a log, an
// error, a delivery record or a trace. It shows as [Redacted] in every fmt
// verb, in JSON and through log/slog, also when it is a field of a struct
// printed whole; only [Secret.Reveal] gives the value, for the one place
// that sends it. The zero Secret is empty.
type Secret struct {
	// v is a pointer, so that fmt, printing a struct that holds a Secret
	// in an unexported field (where it cannot call Format), shows an
	// address rather than the value.
	v *string
}

// NewSecret returns a Secret holding s.
func NewSecret(s string) Secret { return Secret{v: &s} }

// Reveal returns the secret's value.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// String returns [Redacted].
func (s Secret) String() string { return Redacted }

// GoString returns a redacted Go expression.
func (s Secret) GoString() string { return "notify.Secret(" + Redacted + ")" }

// Format writes [Redacted] for every verb.
func (s Secret) Format(f fmt.State, verb rune) { formatRedacted(f, verb) }

// LogValue returns [Redacted], for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes [Redacted].
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// MarshalText encodes [Redacted].
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// UnmarshalJSON reads the secret from a JSON string, as configuration
// loaded from JSON gives it.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return invalid("secret", "", "must be a JSON string")
	}
	*s = NewSecret(v)
	return nil
}

// Redact returns err with every occurrence of the secret in its message
// replaced by [Redacted], and its start where a quoted reply was cut
// short; see [SecretURL.Redact].
func (s Secret) Redact(err error) error { return redactError(err, s.Reveal()) }

// formatRedacted writes [Redacted] as verb asks, quoted for %q.
func formatRedacted(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", Redacted)
		return
	}
	_, _ = f.Write([]byte(Redacted))
}

// SecretURL is a URL that carries a credential (a Slack or Teams webhook
// with a token in its path, an endpoint with a key in its query or a
// password in its user information). It shows as its scheme and host
// followed by [Redacted] in every fmt verb, in JSON and through log/slog;
// [SecretURL.Reveal] gives the whole URL, for the request only, and
// [SecretURL.Redact] takes it out of the errors an HTTP client returns.
type SecretURL struct {
	// raw is the URL, parsed when used. It is a pointer to a string
	// because fmt, printing a struct that holds a SecretURL where it
	// cannot call Format (an unexported field) or with a verb it does not
	// know, dereferences pointers to structs but shows other pointers as
	// addresses.
	raw *string
}

// ParseSecretURL parses an absolute http or https URL. The error, which
// matches [ErrInvalid], never quotes the URL.
func ParseSecretURL(raw string) (SecretURL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return SecretURL{}, invalid("URL", "", "must be an absolute http or https URL")
	}
	s := u.String()
	return SecretURL{raw: &s}, nil
}

// Reveal returns the whole URL.
func (s SecretURL) Reveal() string {
	if s.raw == nil {
		return ""
	}
	return *s.raw
}

// IsZero reports whether the URL is empty.
func (s SecretURL) IsZero() bool { return s.raw == nil }

// URL returns the URL, to build a request with; nil if it is empty.
func (s SecretURL) URL() *url.URL {
	if s.raw == nil {
		return nil
	}
	u, _ := url.Parse(*s.raw) // parsed once already
	return u
}

// String returns the URL's scheme and host followed by [Redacted], such as
// "https://hooks.slack.com/[REDACTED]".
func (s SecretURL) String() string {
	u := s.URL()
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/" + Redacted
}

// GoString returns a redacted Go expression.
func (s SecretURL) GoString() string { return "notify.SecretURL(" + s.String() + ")" }

// Format writes [SecretURL.String] for every verb.
func (s SecretURL) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	_, _ = f.Write([]byte(s.String()))
}

// LogValue returns [SecretURL.String], for log/slog.
func (s SecretURL) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes [SecretURL.String].
func (s SecretURL) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText encodes [SecretURL.String].
func (s SecretURL) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalJSON reads the URL from a JSON string, as configuration loaded
// from JSON gives it; see [ParseSecretURL].
func (s *SecretURL) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return invalid("URL", "", "must be a JSON string")
	}
	u, err := ParseSecretURL(v)
	if err != nil {
		return err
	}
	*s = u
	return nil
}

// Redact returns err with the URL taken out: an *url.Error, as
// http.Client.Do returns, comes back as an *url.Error naming the URL as
// [SecretURL.String] does, and any other part of the URL that could hold a
// credential (the whole URL, its path, its query, its password, also as
// HTTP Basic authentication sends it, and each path segment and query
// value of six characters or more, escaped or not) is replaced by
// [Redacted] wherever the message quotes it, as is the start of any of
// them where a quoted reply was cut short (see [StatusError]). The result still
// matches, with [errors.Is], what err matched (context.DeadlineExceeded,
// a delivery class); it does not unwrap to the original *url.Error, which
// would give the URL back.
func (s SecretURL) Redact(err error) error {
	u := s.URL()
	if err == nil || u == nil {
		return err
	}
	secrets := []string{u.String(), u.Redacted()}
	if p := u.EscapedPath(); len(p) > 1 {
		secrets = append(secrets, p, u.Path)
	}
	if u.RawQuery != "" {
		secrets = append(secrets, u.RawQuery)
	}
	if pw, ok := u.User.Password(); ok {
		// The client sends the user information as HTTP Basic
		// authentication, which a reply may quote.
		secrets = append(secrets, pw, u.User.String(),
			base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
	}
	// A token is often one path segment or query value, which a peer's
	// reply may quote on its own.
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if len(seg) >= minSecretPart {
			secrets = append(secrets, seg)
			if unescaped, err := url.PathUnescape(seg); err == nil {
				secrets = append(secrets, unescaped)
			}
		}
	}
	for _, values := range u.Query() {
		for _, v := range values {
			if len(v) >= minSecretPart {
				secrets = append(secrets, v)
			}
		}
	}
	// A query value as it was sent, escaped.
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if _, v, ok := strings.Cut(kv, "="); ok && len(v) >= minSecretPart {
			secrets = append(secrets, v)
		}
	}
	// Longest first, so that a part is not replaced inside a whole that
	// would have been.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: s.String(), Err: redactError(ue.Err, secrets...)}
	}
	return redactError(err, secrets...)
}

// redactError returns err with every occurrence of secrets in its
// message replaced by [Redacted]. An error whose message holds none is
// returned as it is, unless its chain holds an *url.Error, which could give
// a URL back. A [*DeliveryError] keeps its class and wait, so that what
// the error matches and says about retrying is unchanged.
func redactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	if de, ok := err.(*DeliveryError); ok {
		return &DeliveryError{Class: de.Class, After: de.After, Err: redactError(de.Err, secrets...)}
	}
	msg := err.Error()
	clean := redactText(msg, secrets)
	var ue *url.Error
	if clean == msg && !errors.As(err, &ue) {
		return err
	}
	return &redactedError{msg: clean, err: err, secrets: &secrets}
}

// cutMark ends a text that was cut short, such as the start of a long
// reply's body that an error quotes.
const cutMark = "…"

// minCutPrefix is the shortest start of a secret that redaction takes out
// where a text was cut short.
const minCutPrefix = 4

// redactText replaces every occurrence of secrets in s by [Redacted], and
// the start of a secret (of at least minCutPrefix bytes) where s was cut
// short, just before a [cutMark].
func redactText(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, Redacted)
		}
	}
	if !strings.Contains(s, cutMark) {
		return s
	}
	var b strings.Builder
	for {
		head, rest, found := strings.Cut(s, cutMark)
		cut := 0
		for _, secret := range secrets {
			for k := min(len(secret)-1, len(head)); k >= minCutPrefix && k > cut; k-- {
				if strings.HasSuffix(head, secret[:k]) {
					cut = k
					break
				}
			}
		}
		if cut > 0 {
			head = head[:len(head)-cut] + Redacted
		}
		b.WriteString(head)
		if !found {
			return b.String()
		}
		b.WriteString(cutMark)
		s = rest
	}
}

// redactedError is an error whose message had secrets taken out. It
// matches what the original matched, and gives its [*DeliveryError] and
// [*StatusError] (redacted too), but does not unwrap to it.
type redactedError struct {
	msg string
	err error
	// secrets is a pointer so that fmt, printing a struct that holds
	// the error, shows an address rather than the secrets.
	secrets *[]string
}

func (e *redactedError) Error() string { return e.msg }

// Format writes the redacted message for every verb.
func (e *redactedError) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", e.msg)
		return
	}
	_, _ = f.Write([]byte(e.msg))
}

// Is reports whether the original error matches target.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// As finds the original's [*DeliveryError] or [*StatusError], and gives
// a redacted copy.
func (e *redactedError) As(target any) bool {
	switch t := target.(type) {
	case **DeliveryError:
		var de *DeliveryError
		if errors.As(e.err, &de) {
			*t = &DeliveryError{Class: de.Class, After: de.After, Err: redactError(de.Err, *e.secrets...)}
			return true
		}
	case **StatusError:
		var se *StatusError
		if errors.As(e.err, &se) {
			*t = &StatusError{Status: se.Status, Body: redactText(se.Body, *e.secrets)}
			return true
		}
	}
	return false
}

// Timeout reports whether the original error was a timeout, as net.Error
// does.
func (e *redactedError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

package webhook

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/notify"
)

// ErrUnverified means a request's signature did not verify: a header is
// missing, no signature matches any secret, or the timestamp is outside
// the tolerance window (an old request replayed, or a clock far off).
var ErrUnverified = errors.New("webhook: request not verified")

// Verifier checks the Standard Webhooks signatures of requests, for
// receivers written in Go. It is safe for concurrent use once set up.
type Verifier struct {
	keys      [][]byte
	tolerance time.Duration
	now       func() time.Time
}

// VerifierConfig configures a [Verifier].
type VerifierConfig struct {
	// Secrets are the secrets a request may be signed with, in the form
	// "whsec_<base64 key>"; a signature made with any of them verifies.
	Secrets []notify.Secret
	// Tolerance is how far a request's timestamp may be from now, either
	// way; zero means five minutes. Older requests are refused, so that
	// one captured cannot be replayed later.
	Tolerance time.Duration
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// NewVerifier checks cfg and returns its [Verifier], with the errors of
// [New] for bad secrets.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	v := &Verifier{tolerance: cfg.Tolerance, now: cfg.Now}
	var problems []error
	if len(cfg.Secrets) == 0 {
		problems = append(problems, &notify.InvalidError{Field: "webhook secrets", Reason: "at least one is required"})
	}
	for i, s := range cfg.Secrets {
		key, err := decodeSecret(s)
		if err != nil {
			problems = append(problems, &notify.InvalidError{Field: fmt.Sprintf("webhook secret %d", i+1), Reason: err.Error()})
			continue
		}
		v.keys = append(v.keys, key)
	}
	if len(problems) > 0 {
		return nil, &notify.InputError{Problems: problems}
	}
	if v.tolerance <= 0 {
		v.tolerance = 5 * time.Minute
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Verify checks the signature of a request with header and body. It
// returns nil if a signature in the webhook-signature header matches one
// of the secrets and the webhook-timestamp is within the tolerance, and
// otherwise an error matching [ErrUnverified] that says why.
func (v *Verifier) Verify(header http.Header, body []byte) error {
	id, tsText, sigs := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return fmt.Errorf("%w: the webhook-id, webhook-timestamp and webhook-signature headers are required", ErrUnverified)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: the webhook-timestamp is not a number of seconds", ErrUnverified)
	}
	now := v.now()
	at := time.Unix(ts, 0)
	if at.Before(now.Add(-v.tolerance)) {
		return fmt.Errorf("%w: the timestamp is more than %s old", ErrUnverified, v.tolerance)
	}
	if at.After(now.Add(v.tolerance)) {
		return fmt.Errorf("%w: the timestamp is more than %s ahead", ErrUnverified, v.tolerance)
	}
	for _, sig := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		for _, key := range v.keys {
			if hmac.Equal([]byte(value), []byte(signature(key, id, ts, body))) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no signature matches", ErrUnverified)
}

// MaxBody is the largest request body [Verifier.Middleware] reads.
const MaxBody = 1 << 20

// Middleware returns a handler that verifies each request before passing
// it on to next, with its body intact. It refuses requests that do not
// verify with 401 Unauthorized, and bodies over [MaxBody] with 413.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		if err != nil {
			http.Error(w, "cannot read the request", http.StatusBadRequest)
			return
		}
		if len(body) > MaxBody {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := v.Verify(r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxHTTPErrorBody is how much of a refusal's body an error quotes.
const maxHTTPErrorBody = 256

// HTTPError classifies an HTTP reply for channels over HTTP. It returns
// nil for a 2xx status, and otherwise an error of the class the status
// calls for:
//
//   - 408, 425, 429 and 5xx: worth retrying ([ErrRetry]; 429 is
//     [ErrRateLimited]), after the time the Retry-After header gives, in
//     seconds or as an HTTP date (measured from now);
//   - 401 and 403: [ErrUnauthorized];
//   - 410: [ErrGone];
//   - any other status (other 4xx, and 1xx and 3xx, which a client that
//     followed redirects would not see): [ErrPermanent].
//
// The error quotes the status and the start of the body, which HTTPError
// reads (at most 256 bytes); the caller still closes the body. The
// request's URL is never quoted, so that a token in it does not leak.
func HTTPError(resp *http.Response, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	err := &StatusError{Status: code, Body: readSnippet(resp.Body)}
	switch {
	case code == http.StatusTooManyRequests:
		return RateLimited(err, retryAfter(resp.Header.Get("Retry-After"), now))
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code >= 500 && code <= 599:
		return Retry(err, retryAfter(resp.Header.Get("Retry-After"), now))
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return Unauthorized(err)
	case code == http.StatusGone:
		return Gone(err)
	default:
		return Permanent(err)
	}
}

// StatusError is an HTTP reply that was not a success, as [HTTPError]
// reports it.
type StatusError struct {
	// Status is the reply's HTTP status code.
	Status int
	// Body is the start of the reply's body, made fit for logs (valid
	// UTF-8, no control characters), ending in "…" when the body was
	// longer or could not be read to its end.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// readSnippet reads the start of a body, made fit for an error message.
// A body longer than the snippet, or that could not be read to its end,
// is marked as cut ([cutMark]), so that redaction can take out a secret
// cut in two at the end.
func readSnippet(body io.Reader) string {
	if body == nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(body, maxHTTPErrorBody+1))
	cut := err != nil || len(b) > maxHTTPErrorBody
	if cut {
		b = b[:min(len(b), maxHTTPErrorBody-len(cutMark))]
	}
	s := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), "\uFFFD"))
	if cut {
		return strings.TrimLeftFunc(s, unicode.IsSpace) + cutMark
	}
	return strings.TrimSpace(s)
}

// retryAfter reads a Retry-After header: a number of seconds, or an HTTP
// date measured from now. It returns 0 for a missing, malformed or past
// value.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > maxRetryAfter/int64(time.Second) {
			return time.Duration(maxRetryAfter)
		}
		return time.Duration(secs) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(at.Sub(now), 0), time.Duration(maxRetryAfter))
}

// maxRetryAfter bounds the wait a Retry-After header asks for: a peer's
// reply must not hold a message back for longer than a day.
const maxRetryAfter = int64(24 * time.Hour)

// maxReplyBody is how much of a successful reply [HTTPPost.Send] reads.
const maxReplyBody = 1 << 16

// HTTPPost is one POST of a channel over HTTP, sent with [HTTPPost.Send]:
// what every HTTP channel does the same way, so that each only builds its
// body and headers.
type HTTPPost struct {
	// Client sends the request.
	Client *http.Client
	// URL is where to, with any token it holds.
	URL SecretURL
	// Header holds the request's headers, its Content-Type among them.
	Header http.Header
	// Body is the request's body.
	Body []byte
	// Redact takes the secrets of the request out of an error; nil means
	// URL.Redact. Every error Send returns went through it.
	Redact func(error) error
	// Reply, if set, reads the body of a successful reply (at most 64
	// KiB of it).
	Reply func(io.Reader)
}

// Send posts p.Body to p.URL and classifies the reply with [HTTPError]
// (now tells the time a Retry-After is counted from). It returns a
// receipt with the reply's status. A request that cannot be made fails
// with an error matching [ErrPermanent]; a request that fails in transit,
// with the client's error, which [Classify] treats as worth retrying. The
// reply's body is read to its end (up to 64 KiB) and closed, so that the
// connection can be used again.
func (p HTTPPost) Send(ctx context.Context, now func() time.Time) (Receipt, error) {
	redact := p.Redact
	if redact == nil {
		redact = p.URL.Redact
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL.Reveal(), bytes.NewReader(p.Body))
	if err != nil {
		return Receipt{}, Permanent(redact(err))
	}
	for k, v := range p.Header {
		req.Header[k] = v
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return Receipt{}, redact(err)
	}
	defer resp.Body.Close()
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReplyBody)) }()
	if err := HTTPError(resp, now()); err != nil {
		return Receipt{Status: resp.StatusCode}, redact(err)
	}
	if p.Reply != nil {
		p.Reply(io.LimitReader(resp.Body, maxReplyBody))
	}
	return Receipt{Status: resp.StatusCode}, nil
}

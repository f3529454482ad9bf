package email_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/email"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

const (
	user     = "ops@example.org"
	password = "SMTP-PASSWORD-7f3a9c"
)

// server is an SMTP server on loopback, with STARTTLS on a test
// certificate and AUTH PLAIN, that keeps what it receives.
type server struct {
	mu   sync.Mutex
	msgs []received
	host string
	port int
	pool *x509.CertPool
	// reject, if set, refuses every message with this error.
	reject atomic.Pointer[smtp.SMTPError]
}

// received returns the messages received so far.
func (s *server) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

type received struct {
	user, from string
	to         []string
	data       []byte
}

func newServer(t *testing.T, withTLS bool) *server {
	t.Helper()
	s := &server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }))
	srv.Domain = "localhost"
	if withTLS {
		// Borrow the test certificate of an HTTPS test server, made for
		// 127.0.0.1.
		h := httptest.NewUnstartedServer(http.NotFoundHandler())
		h.StartTLS()
		t.Cleanup(h.Close)
		srv.TLSConfig = &tls.Config{Certificates: h.TLS.Certificates}
		s.pool = x509.NewCertPool()
		s.pool.AddCert(h.Certificate())
	} else {
		srv.AllowInsecureAuth = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	host, port, _ := net.SplitHostPort(l.Addr().String())
	s.host = host
	s.port, _ = strconv.Atoi(port)
	return s
}

type session struct {
	srv  *server
	user string
	msg  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, pass string) error {
		if username != user || pass != password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.msg = received{user: s.user, from: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if reject := s.srv.reject.Load(); reject != nil {
		return reject
	}
	s.msg.data = data
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func (s *server) config() email.Config {
	return email.Config{
		Host: s.host, Port: s.port, Username: user, Password: notify.NewSecret(password),
		From: "incidentkit@example.org", To: []string{"responders@example.org", "ciso@example.org"},
		RootCAs: s.pool, Domain: "ir.example.org",
	}
}

func newNotifier(t *testing.T, cfg email.Config) *email.Notifier {
	t.Helper()
	n, err := email.New(cfg)
	require.NoError(t, err)
	return n
}

// bodies returns the plain-text and HTML parts of a received message.
func bodies(t *testing.T, msg *mail.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return text, html
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
}

func TestSendsThreadedMailOverSTARTTLS(t *testing.T) {
	t.Parallel()
	s := newServer(t, true)
	n := newNotifier(t, s.config())
	ctx := context.Background()

	opened := notifytest.Message()
	opened.Key, opened.Event.Type = "INC-000042/1/1", "opened"
	r1, err := n.Notify(ctx, opened)
	require.NoError(t, err)
	assert.Equal(t, "<incident.INC-000042@ir.example.org>", r1.ID, "the receipt is the Message-ID")
	r2, err := n.Notify(ctx, notifytest.Message())
	require.NoError(t, err)
	assert.Equal(t, "<INC-000042/7/1@ir.example.org>", r2.ID)

	require.Len(t, s.received(), 2)
	assert.Equal(t, user, s.received()[0].user, "authenticated")
	assert.Equal(t, []string{"responders@example.org", "ciso@example.org"}, s.received()[1].to)
	first, err := mail.ReadMessage(strings.NewReader(string(s.received()[0].data)))
	require.NoError(t, err)
	second, err := mail.ReadMessage(strings.NewReader(string(s.received()[1].data)))
	require.NoError(t, err)
	assert.Equal(t, r1.ID, first.Header.Get("Message-ID"))
	assert.Empty(t, first.Header.Get("In-Reply-To"))
	assert.Equal(t, r2.ID, second.Header.Get("Message-ID"))
	assert.Equal(t, r1.ID, second.Header.Get("In-Reply-To"), "later messages reply to the incident's first")
	assert.Equal(t, r1.ID, second.Header.Get("References"))
	subject, err := new(mime.WordDecoder).DecodeHeader(second.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "[HIGH] INC-000042: Credential phishing against the finance team", subject)

	text, html := bodies(t, second)
	assert.True(t, strings.HasPrefix(text, "Phase: eradication\r\nAlice Moreau moved the incident from Containment to Eradication") ||
		strings.HasPrefix(text, "Phase: eradication\nAlice Moreau moved the incident from Containment to Eradication"),
		"the phase change's template, then the details: %q", text)
	assert.Contains(t, html, "<p><strong>Phase: eradication</strong></p>")
	openText, _ := bodies(t, first)
	assert.True(t, strings.HasPrefix(openText, "New incident, high severity"), "the opened template: %q", openText)
	assert.Contains(t, text, "TLP:       TLP:AMBER")
	assert.Contains(t, text, "https://ir.example.org/incidents/INC-000042")
	assert.Contains(t, html, `<a href="https://ir.example.org/incidents/INC-000042">INC-000042</a>`)
}

func TestHTMLBodyEscapes(t *testing.T) {
	t.Parallel()
	s := newServer(t, true)
	n := newNotifier(t, s.config())
	m := notifytest.Message()
	m.Incident.Title = `<img src=x onerror=alert(1)>`
	_, err := n.Notify(context.Background(), m)
	require.NoError(t, err)
	msg, err := mail.ReadMessage(strings.NewReader(string(s.received()[0].data)))
	require.NoError(t, err)
	_, html := bodies(t, msg)
	assert.NotContains(t, html, "<img")
	assert.Contains(t, html, "&lt;img")
}

func TestSTARTTLSIsRequired(t *testing.T) {
	t.Parallel()
	s := newServer(t, false)
	cfg := s.config()
	_, err := newNotifier(t, cfg).Notify(context.Background(), notifytest.Message())
	require.ErrorIs(t, err, notify.ErrPermanent, "a server without STARTTLS is refused")
	assert.Empty(t, s.received())
	assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), password)

	cfg.AllowPlaintext = true
	_, err = newNotifier(t, cfg).Notify(context.Background(), notifytest.Message())
	require.NoError(t, err, "unless plaintext is allowed")
}

func TestUntrustedCertificateIsRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t, true)
	cfg := s.config()
	cfg.RootCAs = nil
	_, err := newNotifier(t, cfg).Notify(context.Background(), notifytest.Message())
	require.Error(t, err)
	assert.Empty(t, s.received())
}

func TestErrorsAreClassified(t *testing.T) {
	t.Parallel()
	s := newServer(t, true)
	cfg := s.config()
	cfg.Password = notify.NewSecret("wrong-" + password)
	_, err := newNotifier(t, cfg).Notify(context.Background(), notifytest.Message())
	require.ErrorIs(t, err, notify.ErrUnauthorized)
	for _, form := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(form, err), password, "the password is not shown")
	}

	for code, class := range map[int]error{451: notify.ErrRetry, 552: notify.ErrPermanent} {
		s.reject.Store(&smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "no"})
		_, err := newNotifier(t, s.config()).Notify(context.Background(), notifytest.Message())
		assert.ErrorIs(t, err, class, "%d: %v", code, err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	cfg = s.config()
	cfg.Port = port
	_, err = newNotifier(t, cfg).Notify(context.Background(), notifytest.Message())
	assert.Equal(t, notify.ErrRetry, notify.Classify(err), "a server that cannot be reached may be back: %v", err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = newNotifier(t, s.config()).Notify(ctx, notifytest.Message())
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := email.New(email.Config{From: "not an address", To: []string{"a@example.org", "nope"},
		TextTemplates: map[string]string{"default": "{{"}})
	require.ErrorIs(t, err, notify.ErrInvalid)
	for _, want := range []string{"SMTP host", "sender", "recipients", "does not parse"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	s := newServer(t, true)
	n := newNotifier(t, s.config())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m := notifytest.Message()
			m.Key = fmt.Sprintf("INC-000042/%d/1", i+10)
			_, err := n.Notify(context.Background(), m)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Len(t, s.received(), 8)
}

// hungServer accepts connections and says nothing until the test ends.
func hungServer(t *testing.T, greet bool) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); _ = l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				if greet {
					_, _ = io.WriteString(conn, "220 localhost ESMTP\r\n")
				}
				<-stop
			})
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestNotifyEndsWithItsContext(t *testing.T) {
	t.Parallel()
	for _, greet := range []bool{false, true} {
		cfg := (&server{host: "127.0.0.1"}).config()
		cfg.Port = hungServer(t, greet)
		n := newNotifier(t, cfg)

		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := n.Notify(ctx, notifytest.Message())
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "greeting %v", greet)
		assert.ErrorIs(t, err, notify.ErrRetry, "greeting %v", greet)

		ctx, cancel = context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := n.Notify(ctx, notifytest.Message())
			done <- err
		}()
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled, "greeting %v", greet)
	}
}

func TestErrorsShowNoPasswordInBase64(t *testing.T) {
	t.Parallel()
	blob := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	s := newServer(t, true)
	s.reject.Store(&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "refused for " + blob})
	_, err := newNotifier(t, s.config()).Notify(context.Background(), notifytest.Message())
	require.ErrorIs(t, err, notify.ErrPermanent)
	assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), blob)
}

func TestSubjectMarksExercises(t *testing.T) {
	t.Parallel()
	s := newServer(t, true)
	n := newNotifier(t, s.config())
	m := notifytest.Message()
	m.Incident.Exercise = true
	_, err := n.Notify(context.Background(), m)
	require.NoError(t, err)
	require.Len(t, s.received(), 1)
	msg, err := mail.ReadMessage(strings.NewReader(string(s.received()[0].data)))
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "[EXERCISE] [HIGH] INC-000042: Credential phishing against the finance team", subject)
	text, _ := bodies(t, msg)
	assert.True(t, strings.HasPrefix(text, "[EXERCISE] Phase: eradication"), "%q", text)
}

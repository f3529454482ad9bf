package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
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
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/webhook"
)

// The receivers below stand in for the systems a service notifies: a SOAR
// platform taking signed webhooks, a mail server, and Slack. Each runs in
// this process on loopback and keeps what it received, so that the program
// can show it.

// soarReceiver is a SOAR platform's webhook endpoint. It verifies the
// Standard Webhooks signature of every request with webhook.Verifier's
// middleware (a request that does not verify is refused with 401 before it
// reaches the handler), and can be made to fail as a platform down for
// maintenance does.
type soarReceiver struct {
	srv  *httptest.Server
	down atomic.Bool

	mu       sync.Mutex
	events   []webhook.Event
	ids      []string // webhook-id of each event, in order
	refused  []string // webhook-id of each request refused with 503
	verified int
}

// newSOARReceiver starts a receiver that verifies signatures made with
// signing.
func newSOARReceiver(signing notify.Secret) (*soarReceiver, error) {
	verifier, err := webhook.NewVerifier(webhook.VerifierConfig{Secrets: []notify.Secret{signing}})
	if err != nil {
		return nil, err
	}
	s := &soarReceiver{}
	s.srv = httptest.NewServer(verifier.Middleware(http.HandlerFunc(s.serve)))
	return s, nil
}

func (s *soarReceiver) serve(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("webhook-id")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verified++
	if s.down.Load() {
		s.refused = append(s.refused, id)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	var ev webhook.Event
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, "not a CloudEvent", http.StatusBadRequest)
		return
	}
	s.events = append(s.events, ev)
	s.ids = append(s.ids, id)
	w.WriteHeader(http.StatusAccepted)
}

// received returns the events received so far, with their webhook-ids.
func (s *soarReceiver) received() (events []webhook.Event, ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]webhook.Event(nil), s.events...), append([]string(nil), s.ids...)
}

// refusals returns the webhook-ids of the requests refused while down, and
// how many requests verified in all.
func (s *soarReceiver) refusals() (ids []string, verified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...), s.verified
}

func (s *soarReceiver) Close() { s.srv.Close() }

// slackPost is what Slack-like receiver got on one incoming webhook.
type slackPost struct {
	Channel string
	Text    string
	Colour  string
}

// slackReceiver is a stand-in for Slack: each incoming webhook is a path
// under /services/, and the receiver keeps the text and colour bar of each
// message posted to it.
type slackReceiver struct {
	srv      *httptest.Server
	channels map[string]string // path → channel name

	mu    sync.Mutex
	posts []slackPost
}

// newSlackReceiver starts a receiver with the incoming webhooks of
// channels, by path.
func newSlackReceiver(channels map[string]string) *slackReceiver {
	s := &slackReceiver{channels: channels}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *slackReceiver) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := s.channels[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	var p struct {
		Text        string `json:"text"`
		Attachments []struct {
			Color string `json:"color"`
		} `json:"attachments"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	post := slackPost{Channel: name, Text: p.Text}
	if len(p.Attachments) > 0 {
		post.Colour = p.Attachments[0].Color
	}
	s.mu.Lock()
	s.posts = append(s.posts, post)
	s.mu.Unlock()
	fmt.Fprint(w, "ok")
}

// received returns the messages posted so far.
func (s *slackReceiver) received() []slackPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackPost(nil), s.posts...)
}

// url returns the URL of the incoming webhook at path.
func (s *slackReceiver) url(path string) string { return s.srv.URL + path }

func (s *slackReceiver) Close() { s.srv.Close() }

// mailMessage is a message the SMTP server received.
type mailMessage struct {
	User, From string
	To         []string
	Subject    string
	MessageID  string
	InReplyTo  string
	Key        string
	Text       string
	// TLS is the TLS version the message came over.
	TLS string
}

// smtpServer is a mail server on loopback that offers STARTTLS with a
// certificate made for it at start, requires AUTH PLAIN, and keeps what it
// receives.
type smtpServer struct {
	srv      *smtp.Server
	host     string
	port     int
	roots    *x509.CertPool
	user     string
	password string

	mu   sync.Mutex
	msgs []mailMessage
	errs []error
}

// newSMTPServer starts a server that accepts user with password.
func newSMTPServer(user, password string) (*smtpServer, error) {
	cert, roots, err := loopbackCertificate()
	if err != nil {
		return nil, err
	}
	s := &smtpServer{roots: roots, user: user, password: password}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s, conn: c}, nil }))
	s.srv.Domain = "localhost"
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = s.srv.Serve(l) }()
	host, port, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		_ = s.srv.Close()
		return nil, err
	}
	s.host = host
	s.port, err = strconv.Atoi(port)
	if err != nil {
		_ = s.srv.Close()
		return nil, err
	}
	return s, nil
}

// received returns the messages received so far, and an error if one
// could not be read.
func (s *smtpServer) received() ([]mailMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mailMessage(nil), s.msgs...), errors.Join(s.errs...)
}

func (s *smtpServer) Close() { _ = s.srv.Close() }

// smtpSession is one SMTP connection. go-smtp offers AUTH only once the
// connection is under TLS, so a client that authenticates went through
// STARTTLS.
type smtpSession struct {
	srv  *smtpServer
	conn *smtp.Conn
	user string
	msg  mailMessage
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.srv.user || password != s.srv.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		s.user = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = mailMessage{User: s.user, From: from}
	if state, ok := s.conn.TLSConnectionState(); ok {
		s.msg.TLS = tls.VersionName(state.Version)
	}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err == nil {
		err = s.parse(msg)
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if err != nil {
		s.srv.errs = append(s.srv.errs, err)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "message not understood"}
	}
	s.srv.msgs = append(s.srv.msgs, s.msg)
	return nil
}

// parse reads the headers the program shows and the first line of the
// plain-text body.
func (s *smtpSession) parse(msg *mail.Message) error {
	h := msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		return err
	}
	s.msg.Subject, s.msg.MessageID, s.msg.InReplyTo, s.msg.Key = subject, h.Get("Message-ID"), h.Get("In-Reply-To"), h.Get("X-Incidentkit-Key")
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return err
	}
	if mt != "multipart/alternative" {
		return fmt.Errorf("content type %s, want multipart/alternative", mt)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return errors.New("no text/plain part")
		}
		if err != nil {
			return err
		}
		if ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct == "text/plain" {
			body, err := io.ReadAll(p)
			if err != nil {
				return err
			}
			// The text above the incident's details: a headline and
			// the event's sentence, on one line.
			text, _, _ := strings.Cut(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n\n")
			s.msg.Text = strings.ReplaceAll(text, "\n", " — ")
			return nil
		}
	}
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// loopbackCertificate makes a self-signed certificate for 127.0.0.1 valid
// for an hour, and a pool that trusts it.
func loopbackCertificate() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "incidentkit example SMTP server"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, roots, nil
}

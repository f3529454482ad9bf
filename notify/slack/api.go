package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentkit/incidentkit/notify"
)

// ThreadEventType is the event type of the message metadata the first
// message of an incident's thread carries, with the incident's ID as
// "incident_id" in its payload, so that the thread can be found again in
// the channel's history.
const ThreadEventType = "incidentkit_incident_thread"

// DefaultHistoryLimit is how many of a channel's latest messages a
// Notifier in bot-token mode reads, at most, to find an incident's thread
// that its [ThreadStore] does not know.
const DefaultHistoryLimit = 1000

// historyPage is how many messages one conversations.history call asks
// for (Slack's recommended page size).
const historyPage = 200

// messageTS is what a Slack message timestamp (ts) looks like.
var messageTS = regexp.MustCompile(`^[0-9]{1,20}\.[0-9]{1,20}$`)

// channelID is what a Slack conversation ID looks like.
var channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)

// ThreadStore remembers, per channel, the thread of each incident: the
// timestamp (ts) of the incident's first message, to which later messages
// reply. A Notifier in bot-token mode asks it first; what it does not know
// is looked up in the channel's history (see [Config.HistoryLimit]).
// Implementations must be safe for concurrent use.
type ThreadStore interface {
	// Thread returns the ts of incidentID's thread in channel, or "" if
	// it is not known.
	Thread(ctx context.Context, channel, incidentID string) (string, error)
	// SetThread records ts as incidentID's thread in channel; an empty
	// ts forgets the thread (its first message was deleted).
	SetThread(ctx context.Context, channel, incidentID, ts string) error
}

// MemoryThreads is a [ThreadStore] in memory: it forgets every thread
// when the process stops, after which they are found again in the
// channel's history. The zero MemoryThreads is ready to use.
type MemoryThreads struct {
	mu sync.Mutex
	m  map[[2]string]string
}

// Thread returns the thread recorded for incidentID in channel.
func (s *MemoryThreads) Thread(_ context.Context, channel, incidentID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[[2]string{channel, incidentID}], nil
}

// SetThread records ts as incidentID's thread in channel.
func (s *MemoryThreads) SetThread(_ context.Context, channel, incidentID, ts string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{channel, incidentID}
	if ts == "" {
		delete(s.m, k)
		return nil
	}
	if s.m == nil {
		s.m = make(map[[2]string]string)
	}
	s.m[k] = ts
	return nil
}

// api is the bot-token mode of a Notifier: the Slack Web API.
type api struct {
	token        notify.Secret
	channel      string
	client       *slack.Client
	threads      ThreadStore
	historyLimit int
	broadcast    []string
	// locks serialise the messages of one incident (hashed on its ID),
	// so that two of them cannot both start its thread. Each is a
	// one-slot semaphore, taken with a context.
	locks [64]chan struct{}
}

// newAPI returns the bot-token mode for cfg, which New checked.
func newAPI(cfg Config, client *http.Client, now func() time.Time) *api {
	a := &api{token: cfg.Token, channel: cfg.Channel, threads: cfg.Threads, historyLimit: cfg.HistoryLimit,
		broadcast: slices.Clone(cfg.Broadcast)}
	if a.threads == nil {
		a.threads = &MemoryThreads{}
	}
	if a.historyLimit == 0 {
		a.historyLimit = DefaultHistoryLimit
	}
	opts := []slack.Option{
		slack.OptionHTTPClient(doer{client: client, now: now}),
		slack.OptionLog(stdlog.New(io.Discard, "", 0)), // errors are returned, never printed
	}
	if cfg.APIURL != "" {
		u := cfg.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slack.OptionAPIURL(u))
	}
	a.client = slack.New(cfg.Token.Reveal(), opts...)
	for i := range a.locks {
		a.locks[i] = make(chan struct{}, 1)
	}
	return a
}

// lock takes the lock of incidentID's messages, or fails when ctx ends
// first.
func (a *api) lock(ctx context.Context, incidentID string) (unlock func(), err error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(incidentID))
	l := a.locks[h.Sum32()%uint32(len(a.locks))]
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, notify.Retry(ctx.Err(), 0)
	}
}

// notify posts m to the incident's thread, starting the thread if it has
// none.
func (a *api) notify(ctx context.Context, n *Notifier, m notify.Message) (notify.Receipt, error) {
	unlock, err := a.lock(ctx, m.Incident.ID)
	if err != nil {
		return notify.Receipt{}, err
	}
	defer unlock()
	var r reply
	ctx = context.WithValue(ctx, replyKey{}, &r)
	thread, err := a.thread(ctx, n.log(), m.Incident.ID, &r)
	if err != nil {
		return notify.Receipt{Status: r.status}, err
	}
	ts, err := a.post(ctx, n, m, thread, &r)
	if thread != "" && threadGone(err) {
		// The thread's first message was deleted: start a new thread.
		if err := a.threads.SetThread(ctx, a.channel, m.Incident.ID, ""); err != nil {
			return notify.Receipt{}, fmt.Errorf("slack: forget the incident's thread: %w", a.token.Redact(err))
		}
		thread = ""
		ts, err = a.post(ctx, n, m, "", &r)
	}
	if err != nil {
		return notify.Receipt{Status: r.status}, err
	}
	if thread == "" {
		if err := a.threads.SetThread(ctx, a.channel, m.Incident.ID, ts); err != nil {
			// The message is delivered; the next one finds the thread
			// in the channel's history.
			n.log().WarnContext(ctx, "slack: the incident's thread was not recorded",
				"incident", m.Incident.ID, "ts", ts, "error", a.token.Redact(err))
		}
	}
	return notify.Receipt{ID: ts, Status: r.status}, nil
}

// thread returns the ts of the incident's thread: from the ThreadStore,
// or else from the channel's history; "" if it has none yet.
func (a *api) thread(ctx context.Context, log *slog.Logger, incidentID string, r *reply) (string, error) {
	ts, err := a.threads.Thread(ctx, a.channel, incidentID)
	if err != nil {
		return "", notify.Retry(fmt.Errorf("slack: read the incident's thread: %w", a.token.Redact(err)), 0)
	}
	if ts != "" || a.historyLimit < 0 {
		return ts, nil
	}
	params := &slack.GetConversationHistoryParameters{ChannelID: a.channel, Limit: min(historyPage, a.historyLimit), IncludeAllMetadata: true}
	for read := 0; read < a.historyLimit; {
		h, err := a.client.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return "", a.classify("conversations.history", err, r)
		}
		for _, msg := range h.Messages {
			if msg.Metadata.EventType != ThreadEventType || !messageTS.MatchString(msg.Timestamp) ||
				(msg.ThreadTimestamp != "" && msg.ThreadTimestamp != msg.Timestamp) {
				continue
			}
			if id, _ := msg.Metadata.EventPayload["incident_id"].(string); id == incidentID {
				if err := a.threads.SetThread(ctx, a.channel, incidentID, msg.Timestamp); err != nil {
					// This message replies in the thread all the same;
					// the next one searches the history again.
					log.WarnContext(ctx, "slack: the incident's thread was not recorded",
						"incident", incidentID, "ts", msg.Timestamp, "error", a.token.Redact(err))
				}
				return msg.Timestamp, nil
			}
		}
		read += len(h.Messages)
		if !h.HasMore || h.ResponseMetaData.NextCursor == "" || len(h.Messages) == 0 {
			break
		}
		params.Cursor = h.ResponseMetaData.NextCursor
	}
	return "", nil
}

// post posts m with chat.postMessage, as a reply in thread unless thread
// is "", and returns the message's ts.
func (a *api) post(ctx context.Context, n *Notifier, m notify.Message, thread string, r *reply) (string, error) {
	p := n.Payload(ctx, m)
	var attachments []slack.Attachment
	b, err := json.Marshal(p["attachments"])
	if err == nil {
		err = json.Unmarshal(b, &attachments)
	}
	if err != nil {
		return "", notify.Permanent(fmt.Errorf("slack: encode message: %w", err))
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(p["text"].(string), false),
		slack.MsgOptionAttachments(attachments...),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
		if slices.Contains(a.broadcast, m.Event.Type) {
			opts = append(opts, slack.MsgOptionBroadcast())
		}
	} else {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    ThreadEventType,
			EventPayload: map[string]any{"incident_id": m.Incident.ID},
		}))
	}
	_, ts, err := a.client.PostMessageContext(ctx, a.channel, opts...)
	if err != nil {
		return "", a.classify("chat.postMessage", err, r)
	}
	if !messageTS.MatchString(ts) {
		// A ts is kept, logged and sent back as a thread's: one that is
		// not a timestamp is not taken, whatever it holds.
		return "", notify.Retry(errors.New("slack: chat.postMessage: the reply has no valid message timestamp"), 0)
	}
	return ts, nil
}

// check calls auth.test, to find a token Slack refuses before any
// message is sent.
func (a *api) check(ctx context.Context) error {
	var r reply
	if _, err := a.client.AuthTestContext(context.WithValue(ctx, replyKey{}, &r)); err != nil {
		return a.classify("auth.test", err, &r)
	}
	return nil
}

// Slack's error codes, by class. Codes not listed are permanent.
var (
	unauthorizedCodes = codes("invalid_auth", "not_authed", "account_inactive", "token_revoked",
		"token_expired", "no_permission", "missing_scope", "not_allowed_token_type",
		"not_in_channel", "restricted_action", "ekm_access_denied", "team_access_not_granted",
		"org_login_required", "two_factor_setup_required")
	goneCodes   = codes("channel_not_found", "is_archived", "team_not_found", "enterprise_is_restricted")
	retryCodes  = codes("internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org")
	threadCodes = codes("thread_not_found", "message_not_found", "invalid_thread_ts")
)

func codes(c ...string) map[string]bool {
	m := make(map[string]bool, len(c))
	for _, s := range c {
		m[s] = true
	}
	return m
}

// threadGone reports whether err says that a reply's thread does not
// exist.
func threadGone(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && threadCodes[se.Err]
}

// classify returns err, from the Web API's method, classified with
// notify's classes and with the token taken out.
func (a *api) classify(method string, err error, r *reply) error {
	wrapped := a.token.Redact(fmt.Errorf("slack: %s: %w", method, err))
	var (
		de *notify.DeliveryError
		rl *slack.RateLimitedError
		se slack.SlackErrorResponse
	)
	switch {
	case errors.As(err, &de):
		return wrapped // classified from the HTTP status
	case errors.As(err, &rl):
		return notify.RateLimited(wrapped, rl.RetryAfter)
	case errors.As(err, &se):
		switch c := se.Err; {
		case c == "ratelimited" || c == "rate_limited":
			return notify.RateLimited(wrapped, r.retryAfter())
		case unauthorizedCodes[c]:
			return notify.Unauthorized(wrapped)
		case goneCodes[c]:
			return notify.Gone(wrapped)
		case retryCodes[c]:
			return notify.Retry(wrapped, r.retryAfter())
		case threadCodes[c]:
			return wrapped // threadGone reads it; the caller starts a new thread
		default:
			return notify.Permanent(wrapped)
		}
	}
	return wrapped // a network failure, a context ended: worth retrying
}

// replyKey is the context key of a call's *reply.
type replyKey struct{}

// reply is what the HTTP layer saw of the last reply of a call.
type reply struct {
	status int
	header http.Header
	now    time.Time
}

// retryAfter returns the wait the reply's Retry-After header asks for, in
// seconds or as an HTTP date; 0 if none.
func (r *reply) retryAfter() time.Duration {
	v := strings.TrimSpace(r.header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(min(max(s, 0), int64(24*time.Hour/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return min(max(at.Sub(r.now), 0), 24*time.Hour)
	}
	return 0
}

// doer is the HTTP client the Web API client uses: it classifies replies
// that are not a success with notify.HTTPError, and records what the
// reply said for the call.
type doer struct {
	client *http.Client
	now    func() time.Time
}

// Do sends req.
func (d doer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	now := d.now()
	if r, ok := req.Context().Value(replyKey{}).(*reply); ok {
		r.status, r.header, r.now = resp.StatusCode, resp.Header, now
	}
	if err := notify.HTTPError(resp, now); err != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		_ = resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

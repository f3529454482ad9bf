package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
	"github.com/incidentkit/incidentkit/notify/slack"
)

// botToken is the bot token the fake Web API accepts.
const botToken = "xoxb-1111-2222-SECRETbottoken"

// posted is a message the fake Web API holds.
type apiMessage struct {
	TS        string
	Thread    string
	Broadcast bool
	Text      string
	Metadata  map[string]any
	Attach    []map[string]any
}

// fakeAPI is a loopback fake of Slack's Web API: chat.postMessage,
// conversations.history (newest first, paged, metadata only when asked
// for) and auth.test, with the token in the form as slack-go sends it.
type fakeAPI struct {
	mu       sync.Mutex
	srv      *httptest.Server
	channel  string
	next     int
	messages []apiMessage // oldest first
	calls    map[string]int
	// dropReplies is how many of the next posts are kept but never
	// answered: the connection breaks first.
	dropReplies int
	// fail, when set, answers a call to a method instead of the fake.
	fail func(w http.ResponseWriter, method string, form map[string][]string) bool
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{channel: "C0123ABCD", calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || r.ParseForm() != nil {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	if f.fail != nil && f.fail(w, method, r.PostForm) {
		return
	}
	reply := func(v map[string]any) {
		v["ok"] = true
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	refuse := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": code})
	}
	if r.PostForm.Get("token") != botToken {
		refuse("invalid_auth")
		return
	}
	switch method {
	case "auth.test":
		reply(map[string]any{"user_id": "U0BOT", "team_id": "T0001"})
	case "chat.postMessage":
		if r.PostForm.Get("channel") != f.channel {
			refuse("channel_not_found")
			return
		}
		m := apiMessage{Thread: r.PostForm.Get("thread_ts"), Text: r.PostForm.Get("text"), Broadcast: r.PostForm.Get("reply_broadcast") == "true"}
		if m.Thread != "" && !slices.ContainsFunc(f.messages, func(p apiMessage) bool { return p.TS == m.Thread }) {
			refuse("thread_not_found")
			return
		}
		if md := r.PostForm.Get("metadata"); md != "" {
			if json.Unmarshal([]byte(md), &m.Metadata) != nil {
				refuse("invalid_metadata_format")
				return
			}
		}
		if json.Unmarshal([]byte(r.PostForm.Get("attachments")), &m.Attach) != nil {
			refuse("invalid_attachments")
			return
		}
		f.next++
		m.TS = fmt.Sprintf("1700000000.%06d", f.next)
		f.messages = append(f.messages, m)
		if f.dropReplies > 0 {
			f.dropReplies--
			panic(http.ErrAbortHandler)
		}
		reply(map[string]any{"channel": f.channel, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS}})
	case "conversations.history":
		limit, _ := strconv.Atoi(r.PostForm.Get("limit"))
		start, _ := strconv.Atoi(r.PostForm.Get("cursor"))
		var roots []map[string]any
		for i := len(f.messages) - 1; i >= 0; i-- {
			m := f.messages[i]
			if m.Thread != "" && !m.Broadcast {
				continue // replies are not in the history, unless broadcast
			}
			v := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
			if m.Thread != "" {
				v["thread_ts"] = m.Thread
			}
			if m.Metadata != nil && r.PostForm.Get("include_all_metadata") == "1" {
				v["metadata"] = m.Metadata
			}
			roots = append(roots, v)
		}
		end := min(start+limit, len(roots))
		page := roots[min(start, len(roots)):end]
		more := end < len(roots)
		cursor := ""
		if more {
			cursor = strconv.Itoa(end)
		}
		reply(map[string]any{"messages": page, "has_more": more, "response_metadata": map[string]any{"next_cursor": cursor}})
	default:
		refuse("unknown_method")
	}
}

// message returns the i-th message posted.
func (f *fakeAPI) message(i int) apiMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.messages[i]
}

func (f *fakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.messages)
}

// filler posts n messages without metadata, as people do.
func (f *fakeAPI) filler(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.next++
		f.messages = append(f.messages, apiMessage{TS: fmt.Sprintf("1700000000.%06d", f.next), Text: "chatter"})
	}
}

func newBot(t *testing.T, f *fakeAPI, cfg slack.Config) *slack.Notifier {
	t.Helper()
	cfg.Token = notify.NewSecret(botToken)
	if cfg.Channel == "" {
		cfg.Channel = f.channel
	}
	cfg.APIURL = f.srv.URL + "/api/"
	cfg.Client = notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback})
	n, err := slack.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// event returns the message of the seq-th event of incident id.
func event(id string, seq int64) notify.Message {
	m := notifytest.Message()
	m.Incident.ID = id
	m.Event.IncidentID = id
	m.Event.Seq = seq
	m.Key = fmt.Sprintf("%s/%d", id, seq)
	return m
}

func TestAPIBroadcastsChosenEvents(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	ctx := context.Background()
	n := newBot(t, f, slack.Config{Broadcast: []string{"severity_changed"}})
	for i, typ := range []string{"opened", "severity_changed", "note_added"} {
		m := event("INC-6", int64(i+1))
		m.Event.Type = typ
		_, err := n.Notify(ctx, m)
		require.NoError(t, err)
	}
	assert.Equal(t, []bool{false, true, false}, []bool{f.message(0).Broadcast, f.message(1).Broadcast, f.message(2).Broadcast})
	// A broadcast reply, in the history, is not taken for the thread.
	_, err := newBot(t, f, slack.Config{}).Notify(ctx, event("INC-6", 4))
	require.NoError(t, err)
	assert.Equal(t, f.message(0).TS, f.message(3).Thread)
}

func TestAPIThreadsEachIncident(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	n := newBot(t, f, slack.Config{})
	ctx := context.Background()
	var receipts []notify.Receipt
	for _, m := range []notify.Message{event("INC-1", 1), event("INC-2", 1), event("INC-1", 2), event("INC-2", 2), event("INC-1", 3)} {
		r, err := n.Notify(ctx, m)
		require.NoError(t, err)
		receipts = append(receipts, r)
	}
	require.Equal(t, 5, f.count())
	for i, r := range receipts {
		assert.Equal(t, f.message(i).TS, r.ID, "the receipt is the message's ts")
		assert.Equal(t, http.StatusOK, r.Status)
		assert.NotContains(t, r.String(), "SECRET")
	}
	first1, first2 := f.message(0), f.message(1)
	assert.Empty(t, first1.Thread, "an incident's first message starts its thread")
	assert.Equal(t, map[string]any{"event_type": slack.ThreadEventType, "event_payload": map[string]any{"incident_id": "INC-1"}}, first1.Metadata)
	assert.Empty(t, first2.Thread)
	assert.Equal(t, receipts[0].ID, f.message(2).Thread, "later events reply in the thread")
	assert.Equal(t, receipts[0].ID, f.message(4).Thread)
	assert.Equal(t, receipts[1].ID, f.message(3).Thread)
	assert.Nil(t, f.message(2).Metadata, "only the first message marks the thread")
	// The Block Kit message is the incoming webhook's.
	require.Len(t, first1.Attach, 1)
	assert.Equal(t, "#E01E5A", first1.Attach[0]["color"])
	assert.Contains(t, first1.Text, "INC-1")
	assert.Equal(t, 2, f.calls["conversations.history"], "the history is read once per incident, for its first message")
}

func TestAPIFindsThreadsAfterRestart(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	ctx := context.Background()
	r, err := newBot(t, f, slack.Config{}).Notify(ctx, event("INC-7", 1))
	require.NoError(t, err)
	f.filler(450) // the first message is on the third page of the history

	// A new process, whose thread store is empty, finds the thread.
	n := newBot(t, f, slack.Config{})
	r2, err := n.Notify(ctx, event("INC-7", 2))
	require.NoError(t, err)
	assert.Equal(t, r.ID, f.message(f.count()-1).Thread)
	history := f.calls["conversations.history"]
	_, err = n.Notify(ctx, event("INC-7", 3))
	require.NoError(t, err)
	assert.Equal(t, r.ID, f.message(f.count()-1).Thread)
	assert.Equal(t, history, f.calls["conversations.history"], "a thread found is remembered")
	assert.NotEqual(t, r.ID, r2.ID)

	// Beyond the history limit, or with the search off, a new thread starts.
	for _, limit := range []int{300, -1} {
		_, err = newBot(t, f, slack.Config{HistoryLimit: limit}).Notify(ctx, event("INC-7", 4))
		require.NoError(t, err)
		assert.Empty(t, f.message(f.count()-1).Thread, "history limit %d", limit)
	}
}

// recordingStore is a ThreadStore that counts what it is told.
type recordingStore struct {
	slack.MemoryThreads
	mu   sync.Mutex
	sets []string
	err  error
}

func (s *recordingStore) SetThread(ctx context.Context, channel, id, ts string) error {
	s.mu.Lock()
	s.sets = append(s.sets, channel+" "+id+" "+ts)
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.MemoryThreads.SetThread(ctx, channel, id, ts)
}

func TestAPIRetryOfFirstMessageKeepsOneThread(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.dropReplies = 1
	ctx := context.Background()
	n := newBot(t, f, slack.Config{})
	_, err := n.Notify(ctx, event("INC-8", 1))
	require.Error(t, err, "the reply was lost")
	assert.Equal(t, notify.ErrRetry, notify.Classify(err))
	require.Equal(t, 1, f.count(), "but the message was posted")
	// The retry finds the thread the lost reply started, rather than
	// starting a second one.
	_, err = n.Notify(ctx, event("INC-8", 1))
	require.NoError(t, err)
	assert.Equal(t, f.message(0).TS, f.message(1).Thread)
}

func TestAPIUsesThreadStore(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	ctx := context.Background()
	store := &recordingStore{}
	n := newBot(t, f, slack.Config{Threads: store, HistoryLimit: -1})
	r, err := n.Notify(ctx, event("INC-3", 1))
	require.NoError(t, err)
	assert.Equal(t, []string{"C0123ABCD INC-3 " + r.ID}, store.sets)
	// Another process sharing the store replies in the thread.
	_, err = newBot(t, f, slack.Config{Threads: store, HistoryLimit: -1}).Notify(ctx, event("INC-3", 2))
	require.NoError(t, err)
	assert.Equal(t, r.ID, f.message(1).Thread)

	// A store that fails to record does not undo a delivery, and its
	// error is logged without the token.
	var logs strings.Builder
	failing := &recordingStore{err: errors.New("disk full writing " + botToken)}
	n = newBot(t, f, slack.Config{Threads: failing, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r, err = n.Notify(ctx, event("INC-4", 1))
	require.NoError(t, err)
	assert.NotEmpty(t, r.ID)
	assert.Contains(t, logs.String(), "not recorded")
	assert.NotContains(t, logs.String(), "SECRET")
	_, err = n.Notify(ctx, event("INC-4", 2))
	require.NoError(t, err)
	assert.Equal(t, r.ID, f.message(f.count()-1).Thread, "found again in the history")
}

func TestAPIStartsNewThreadWhenFirstMessageDeleted(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	ctx := context.Background()
	store := &recordingStore{}
	require.NoError(t, store.MemoryThreads.SetThread(ctx, f.channel, "INC-5", "1600000000.000001"))
	n := newBot(t, f, slack.Config{Threads: store})
	r, err := n.Notify(ctx, event("INC-5", 9))
	require.NoError(t, err)
	require.Equal(t, 1, f.count(), "the reply refused is not a message")
	assert.Empty(t, f.message(0).Thread)
	assert.Equal(t, []string{"C0123ABCD INC-5 ", "C0123ABCD INC-5 " + r.ID}, store.sets)
	_, err = n.Notify(ctx, event("INC-5", 10))
	require.NoError(t, err)
	assert.Equal(t, r.ID, f.message(1).Thread)
}

func TestAPIOneThreadUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	n := newBot(t, f, slack.Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			_, err := n.Notify(context.Background(), event(fmt.Sprintf("INC-%d", i%2), int64(i)))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	roots := map[string]int{}
	for i := range f.count() {
		m := f.message(i)
		if m.Thread == "" {
			roots[m.Metadata["event_payload"].(map[string]any)["incident_id"].(string)]++
		}
	}
	assert.Equal(t, map[string]int{"INC-0": 1, "INC-1": 1}, roots, "each incident has one thread")
}

func TestAPIClassifiesErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   string
		status int
		header string
		class  error
		after  time.Duration
	}{
		{"ratelimited", http.StatusTooManyRequests, "30", notify.ErrRateLimited, 30 * time.Second},
		{"ratelimited", http.StatusOK, "12", notify.ErrRateLimited, 12 * time.Second},
		{"invalid_auth", http.StatusOK, "", notify.ErrUnauthorized, 0},
		{"not_authed", http.StatusOK, "", notify.ErrUnauthorized, 0},
		{"token_revoked", http.StatusOK, "", notify.ErrUnauthorized, 0},
		{"missing_scope", http.StatusOK, "", notify.ErrUnauthorized, 0},
		{"not_in_channel", http.StatusOK, "", notify.ErrUnauthorized, 0},
		{"channel_not_found", http.StatusOK, "", notify.ErrGone, 0},
		{"is_archived", http.StatusOK, "", notify.ErrGone, 0},
		{"internal_error", http.StatusOK, "", notify.ErrRetry, 0},
		{"service_unavailable", http.StatusOK, "", notify.ErrRetry, 0},
		{"msg_too_long", http.StatusOK, "", notify.ErrPermanent, 0},
		{"invalid_blocks", http.StatusOK, "", notify.ErrPermanent, 0},
		{"fatal_error", http.StatusServiceUnavailable, "5", notify.ErrRetry, 5 * time.Second},
		{"invalid_auth", http.StatusUnauthorized, "", notify.ErrUnauthorized, 0},
	} {
		for _, method := range []string{"chat.postMessage", "conversations.history"} {
			name := fmt.Sprintf("%s %d from %s", tc.code, tc.status, method)
			f := newFakeAPI(t)
			f.fail = func(w http.ResponseWriter, m string, _ map[string][]string) bool {
				if m != method {
					return false
				}
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				// A peer quoting the request must not pass the token on.
				_, _ = fmt.Fprintf(w, `{"ok":false,"error":%q,"echo":"token=%s"}`, tc.code, botToken)
				return true
			}
			_, err := newBot(t, f, slack.Config{}).Notify(context.Background(), event("INC-9", 1))
			require.Error(t, err, name)
			assert.Equal(t, tc.class, notify.Classify(err), "%s: %v", name, err)
			after, _ := notify.RetryAfter(err)
			assert.Equal(t, tc.after, after, name)
			text := fmt.Sprintf("%v %+v %#v %q", err, err, err, err)
			assert.NotContains(t, text, "SECRET", name)
			assert.NotContains(t, text, "2222", name)
			assert.Zero(t, f.count(), name)
			if method == "conversations.history" {
				assert.Zero(t, f.calls["chat.postMessage"], "%s: no new thread is started when the history cannot be read", name)
			}
		}
	}
}

func TestAPICheck(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	require.NoError(t, newBot(t, f, slack.Config{}).Check(context.Background()))
	n, err := slack.New(slack.Config{Token: notify.NewSecret("xoxb-wrong-SECRET"), Channel: "C0123ABCD", APIURL: f.srv.URL + "/api",
		Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback})})
	require.NoError(t, err)
	err = n.Check(context.Background())
	assert.ErrorIs(t, err, notify.ErrUnauthorized)
	assert.NotContains(t, fmt.Sprintf("%+v", err), "SECRET")
	assert.Zero(t, f.count(), "Check posts nothing")
	assert.Equal(t, "slack channel C0123ABCD", n.String())
}

func TestAPIConfigRefused(t *testing.T) {
	t.Parallel()
	url, err := notify.ParseSecretURL("https://hooks.slack.com/services/T0/B0/XXXXXXXX")
	require.NoError(t, err)
	tok := notify.NewSecret(botToken)
	for name, cfg := range map[string]slack.Config{
		"nothing":          {},
		"both":             {URL: url, Token: tok, Channel: "C0123ABCD"},
		"no channel":       {Token: tok},
		"channel by name":  {Token: tok, Channel: "#incidents"},
		"relative API URL": {Token: tok, Channel: "C0123ABCD", APIURL: "/api/"},
	} {
		_, err := slack.New(cfg)
		assert.ErrorIs(t, err, notify.ErrInvalid, name)
		assert.NotContains(t, fmt.Sprint(err), "SECRET", name)
	}
}

func TestAPIConformance(t *testing.T) {
	accept := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/conversations.history") {
			_, _ = w.Write([]byte(`{"ok":true,"messages":[],"has_more":false}`))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true,"channel":"C0123ABCD","ts":"1700000000.000100"}`))
	}
	bot := func(t *testing.T, peer notifytest.HTTPPeer, cfg slack.Config) notify.Notifier {
		t.Helper()
		cfg.Token = notify.NewSecret(peer.Secret)
		cfg.Channel = "C0123ABCD"
		cfg.APIURL = strings.Split(peer.URL, "/hooks/")[0] + "/api/"
		cfg.Client = notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback})
		n, err := slack.New(cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		return n
	}
	t.Run("FirstMessages", func(t *testing.T) {
		notifytest.TestHTTPNotifier(t, notifytest.HTTPNotifierSuite{
			New: func(t *testing.T, peer notifytest.HTTPPeer) notify.Notifier {
				return bot(t, peer, slack.Config{HistoryLimit: -1})
			},
			Accept: accept,
		})
	})
	t.Run("Replies", func(t *testing.T) {
		notifytest.TestHTTPNotifier(t, notifytest.HTTPNotifierSuite{
			New: func(t *testing.T, peer notifytest.HTTPPeer) notify.Notifier {
				threads := &slack.MemoryThreads{}
				for i := range 9 {
					id := fmt.Sprintf("INC-%06d", i)
					if i == 0 {
						id = notifytest.Message().Incident.ID
					}
					require.NoError(t, threads.SetThread(context.Background(), "C0123ABCD", id, "1700000000.000001"))
				}
				return bot(t, peer, slack.Config{Threads: threads})
			},
			Accept: accept,
		})
	})
}

func TestAPIRefusesATimestampThatIsNone(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.fail = func(w http.ResponseWriter, method string, _ map[string][]string) bool {
		if method != "chat.postMessage" {
			return false
		}
		// A reply that quotes the token where the message's ts goes.
		_, _ = w.Write([]byte(`{"ok":true,"channel":"C0123ABCD","ts":"` + botToken + `"}`))
		return true
	}
	n, err := slack.New(slack.Config{Token: notify.NewSecret(botToken), Channel: f.channel, APIURL: f.srv.URL + "/api/",
		Client: notify.NewHTTPClient(notify.HTTPConfig{Allow: loopback})})
	require.NoError(t, err)
	r, err := n.Notify(context.Background(), notifytest.Message())
	require.ErrorIs(t, err, notify.ErrRetry)
	assert.Empty(t, r.ID)
	assert.NotContains(t, fmt.Sprint(err), "SECRET")
}

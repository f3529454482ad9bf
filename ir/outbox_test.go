package ir_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// withOutbox makes the harness's Responder leave outbox messages.
func withOutbox(cfg *ir.Config) { cfg.Outbox = true }

// claimAll claims every due message of the harness's store.
func (h *harness) claimAll() []notify.OutboxEntry {
	h.t.Helper()
	got, err := h.store.Claim(h.ctx, "test", ir.MaxPageSize, time.Hour)
	require.NoError(h.t, err)
	return got
}

func TestOutboxLeavesANoticePerEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOutbox)
	inc := h.open(phishing())
	h.transition(inc.ID, phases.Identify)
	got := h.claimAll()

	events := h.timeline(inc.ID)
	require.Len(t, got, len(events), "one message per timeline event")
	for i, e := range got {
		ev := events[i]
		assert.Equal(t, string(inc.ID), e.Incident)
		assert.Equal(t, string(ev.Type), e.Type)
		assert.Equal(t, fmt.Sprintf("%s/%d/%d", inc.ID, ev.Version, 1), e.Key)
		n, err := e.Message()
		require.NoError(t, err)
		assert.Equal(t, e.Key, n.Key, "the message's key is its outbox key")
		assert.Equal(t, string(ev.Type), n.Event.Type)
		typed, err := ir.EventOf(n)
		require.NoError(t, err)
		assert.Equal(t, ev.Data, typed.Data, "the message carries the event's data")
		assert.Equal(t, ir.Describe(h.r.Model(), ev), n.Event.Summary, "and its words")
		assert.Equal(t, ev.Version, n.Incident.Version, "and the incident as the change left it")
		assert.Equal(t, inc.Title, n.Incident.Title)
		assert.True(t, n.Incident.Open)
	}
	last, err := notify.DecodeMessage(got[len(got)-1].Payload)
	require.NoError(t, err)
	assert.Equal(t, string(phases.Identification), last.Incident.Phase)
}

func TestOutboxMessagesOnlyWithTheChange(t *testing.T) {
	t.Parallel()
	wrapped := &alwaysConflictStore{}
	h := newHarness(t, withOutbox, func(cfg *ir.Config) {
		wrapped.Store = cfg.Store
		cfg.Store = struct {
			*alwaysConflictStore
			notify.Outbox
		}{wrapped, cfg.Store.(notify.Outbox)}
	})
	inc := h.open(phishing())
	require.Len(t, h.claimAll(), 1)
	wrapped.conflicting.Store(true)
	_, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Identify, "")
	require.ErrorIs(t, err, ir.ErrConflict)
	assert.Empty(t, h.claimAll(), "a change that failed left no message")
}

func TestOutboxNeedsAnOutboxStore(t *testing.T) {
	t.Parallel()
	_, err := ir.NewResponder(ir.Config{Store: struct{ ir.Store }{ir.NewMemoryStore()}, Outbox: true})
	require.ErrorIs(t, err, ir.ErrInvalid)
	assert.Contains(t, err.Error(), "Outbox")
}

func TestNoOutboxByDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inc := h.open(phishing())
	h.transition(inc.ID, phases.Identify)
	assert.Empty(t, h.claimAll())
}

func TestChangeValidateOutboxAndCustody(t *testing.T) {
	t.Parallel()
	inc := &ir.Incident{ID: "INC-1", Version: 2}
	ev := ir.Event{IncidentID: "INC-1", Version: 2, Type: ir.EventNoteAdded, Data: &ir.NoteAdded{Text: "x"}}
	msg := notify.OutboxMessage{Key: "INC-1/2/1", Incident: "INC-1", Type: string(ir.EventNoteAdded), Payload: []byte("seq=0")}
	app := custodyAppend(t, "INC-1", 0, "item-1", nil)
	ok := ir.Change{Incident: inc, Events: []ir.Event{ev}, Outbox: []notify.OutboxMessage{msg}, Custody: []evidence.Append{app},
		OutboxSeqs: []ir.OutboxSeq{{Message: 0, Event: 0, Offset: 4}}}
	require.NoError(t, ok.Validate())
	for name, edit := range map[string]func(*ir.Change){
		"message for another incident": func(c *ir.Change) { c.Outbox[0].Incident = "INC-2" },
		"message without key":          func(c *ir.Change) { c.Outbox[0].Key = "" },
		"message with a huge key":      func(c *ir.Change) { c.Outbox[0].Key = strings.Repeat("k", notify.MaxOutboxKey+1) },
		"message without type":         func(c *ir.Change) { c.Outbox[0].Type = "" },
		"repeated key":                 func(c *ir.Change) { c.Outbox = append(c.Outbox, c.Outbox[0]) },
		"custody in another case":      func(c *ir.Change) { c.Custody[0].Case = "INC-2" },
		"custody without data":         func(c *ir.Change) { c.Custody[0].Data = nil },
		"custody without item":         func(c *ir.Change) { c.Custody[0].Item = "" },
		"custody of another's record":  func(c *ir.Change) { c.Custody[0].Item = "item-2" },
		"custody at a negative index":  func(c *ir.Change) { c.Custody[0].Index = -1 },
		"custody without its hashes":   func(c *ir.Change) { c.Custody[0].Hashes = nil },
		"custody with extra hashes":    func(c *ir.Change) { c.Custody[0].Hashes = make([]evidence.Hash, 2) },
		"custody with another item": func(c *ir.Change) {
			c.Custody[0].NewItem = &evidence.Item{ID: "item-2", CaseID: "INC-1"}
		},
		"custody with an item of another case": func(c *ir.Change) {
			c.Custody[0].NewItem = &evidence.Item{ID: "item-1", CaseID: "INC-2"}
		},
		"key with a NUL byte":     func(c *ir.Change) { c.Outbox[0].Key = "INC-1/2/\x00" },
		"seq of no message":       func(c *ir.Change) { c.OutboxSeqs[0].Message = 1 },
		"seq of no event":         func(c *ir.Change) { c.OutboxSeqs[0].Event = 1 },
		"seq of a negative event": func(c *ir.Change) { c.OutboxSeqs[0].Event = -1 },
		"seq past the payload":    func(c *ir.Change) { c.OutboxSeqs[0].Offset = 5 },
		"seq not on a 0":          func(c *ir.Change) { c.OutboxSeqs[0].Offset = 3 },
		"two seqs for a message":  func(c *ir.Change) { c.OutboxSeqs = append(c.OutboxSeqs, c.OutboxSeqs[0]) },
		"custody out of order": func(c *ir.Change) {
			next := c.Custody[0]
			next.Index += 2
			c.Custody = append(c.Custody, next)
		},
	} {
		ch := ok
		ch.Outbox = append([]notify.OutboxMessage(nil), ok.Outbox...)
		ch.Custody = append([]evidence.Append(nil), ok.Custody...)
		ch.OutboxSeqs = append([]ir.OutboxSeq(nil), ok.OutboxSeqs...)
		edit(&ch)
		assert.ErrorIs(t, ch.Validate(), ir.ErrInvalid, name)
	}
}

func TestMemoryStoreRefusesPartialCustody(t *testing.T) {
	t.Parallel()
	// A change whose second custody append would fail writes nothing.
	st := ir.NewMemoryStore()
	ctx := context.Background()
	inc := &ir.Incident{ID: "INC-1", Title: "t", Version: 1}
	open := ir.Change{Incident: inc, Events: []ir.Event{{IncidentID: "INC-1", Version: 1, Type: ir.EventOpened, Data: &ir.Opened{}}}}
	require.NoError(t, st.Apply(ctx, open))
	it := evidence.Item{ID: "item-1", CaseID: "INC-1", Name: "x", Kind: evidence.KindFile,
		Digests: evidence.Digests{SHA256: strings.Repeat("ab", 32)}, CollectedBy: evidence.Party{ID: "alice"}, CollectedAt: time.Unix(1e9, 0).UTC()}
	next := inc.Clone()
	next.Version = 2
	ch := ir.Change{Incident: next, Events: []ir.Event{{IncidentID: "INC-1", Version: 2, Type: ir.EventNoteAdded, Data: &ir.NoteAdded{Text: "x"}}},
		Custody: []evidence.Append{
			custodyAppend(t, "INC-1", 0, "item-1", &it),
			custodyAppend(t, "INC-1", 1, "item-1", &it),
		}}
	require.ErrorIs(t, st.Apply(ctx, ch), ir.ErrConflict)
	n, err := st.Size(ctx, "INC-1")
	require.NoError(t, err)
	assert.Equal(t, int64(0), n)
	got, err := st.Get(ctx, "INC-1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Version)
}

// custodyAppend returns an append of a record about item at index of case
// c: its collection of it if it is not nil, else an access. Its tree
// hashes are made up, but as many as at that index.
func custodyAppend(t *testing.T, c evidence.CaseID, index int64, item evidence.ItemID, it *evidence.Item) evidence.Append {
	t.Helper()
	r := evidence.Record{Case: c, Index: index, Item: item, Prev: -1, Action: evidence.ActionAccessed,
		Actor: evidence.Party{ID: "alice"}, At: time.Unix(1e9, 0).UTC()}
	if it != nil {
		r.Action, r.Snapshot = evidence.ActionCollected, it
	}
	data, err := r.Encode()
	require.NoError(t, err)
	return evidence.Append{Case: c, Index: index, Item: item, Data: data, NewItem: it,
		Hashes: make([]evidence.Hash, tlog.StoredHashCount(index+1)-tlog.StoredHashCount(index))}
}

// withSharedLocker gives the harness's Responder an evidence locker whose
// ledger keeps its logs in the store the Responder is given, so collecting
// writes the custody record and the incident change together. The locker
// is put in *locker.
func withSharedLocker(t *testing.T, locker **evidence.Locker) func(*ir.Config) {
	return func(cfg *ir.Config) {
		key, _, err := evidence.GenerateKey("custody.test")
		require.NoError(t, err)
		ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: cfg.Store.(evidence.LedgerStore), Key: key})
		require.NoError(t, err)
		var n atomic.Int64
		l, err := evidence.NewLocker(evidence.LockerConfig{
			Ledger: ledger, Blobs: evidence.NewMemoryBlobs(), Now: cfg.Clock.Now,
			NewID: func() evidence.ItemID { return evidence.ItemID(fmt.Sprintf("ITEM-%d", n.Add(1))) },
		})
		require.NoError(t, err)
		cfg.Evidence, cfg.AtomicCustody, *locker = l, true, l
	}
}

func TestCollectEvidenceInOneChange(t *testing.T) {
	t.Parallel()
	var locker *evidence.Locker
	h := newHarness(t, withOutbox, withSharedLocker(t, &locker))
	inc := h.open(phishing())
	before := inc.Version
	item, err := h.r.CollectEvidence(h.ctx, testAlice, inc.ID, evidence.Collection{
		Name: "mail-gw.log", Kind: evidence.KindLog, Content: strings.NewReader("Mar  2 07:50 accepted"),
	})
	require.NoError(t, err)
	assert.Equal(t, "EX-001", item.Exhibit)

	got := h.stored(inc.ID)
	assert.Equal(t, before+1, got.Version)
	require.Len(t, got.Evidence, 1)
	assert.Equal(t, item.ID, got.Evidence[0].Item)
	n, err := h.store.Size(h.ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	msgs := h.claimAll()
	require.Len(t, msgs, 2)
	assert.Equal(t, string(ir.EventEvidenceCollected), msgs[1].Type, "the event's message went in with it")

	_, err = h.r.CollectEvidence(h.ctx, testBob, inc.ID, evidence.Collection{
		Name: "proxy.log", Content: strings.NewReader("GET /payload"),
	})
	require.NoError(t, err)
	rep, err := locker.Verify(h.ctx, inc.ID.Case())
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	items, err := locker.Items(h.ctx, inc.ID.Case())
	require.NoError(t, err)
	require.Len(t, items, 2)
	assert.Equal(t, "EX-002", items[1].Exhibit)
	assert.Len(t, h.stored(inc.ID).Evidence, 2)
}

func TestCollectEvidenceInOneChangeWritesNothingOnFailure(t *testing.T) {
	t.Parallel()
	wrapped := &alwaysConflictStore{}
	var locker *evidence.Locker
	h := newHarness(t, func(cfg *ir.Config) {
		// The ledger is kept in the same wrapped store as the incidents.
		wrapped.Store = cfg.Store
		cfg.Store = struct {
			*alwaysConflictStore
			evidence.LedgerStore
		}{wrapped, cfg.Store.(evidence.LedgerStore)}
		// Conflicts are retried until this runs out: the store never
		// stops refusing.
		cfg.CustodyTimeout = 2 * time.Second
	}, withSharedLocker(t, &locker))
	inc := h.open(phishing())
	wrapped.conflicting.Store(true)
	_, err := h.r.CollectEvidence(h.ctx, testAlice, inc.ID, evidence.Collection{
		Name: "mail-gw.log", Content: strings.NewReader("accepted"),
	})
	require.ErrorIs(t, err, ir.ErrConflict)
	assert.Contains(t, err.Error(), "not recorded")
	assert.Greater(t, wrapped.refused.Load(), int64(1), "a change carrying custody is retried until its timeout")
	n, err := h.store.Size(h.ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "no custody record without the incident change")
	assert.Equal(t, inc.Version, h.stored(inc.ID).Version)
}

func TestTextMustBeValid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for name, n := range map[string]ir.NewIncident{
		"NUL in the title":         {Title: "a\x00b", Severity: ir.SeverityLow},
		"invalid UTF-8 in a label": {Title: "t", Severity: ir.SeverityLow, Labels: []string{"bad\xff"}},
		"NUL in the summary":       {Title: "t", Summary: "x\x00", Severity: ir.SeverityLow},
	} {
		_, err := h.r.Open(h.ctx, testAlice, n)
		assert.ErrorIs(t, err, ir.ErrInvalid, name)
	}
	inc := h.open(phishing())
	_, err := h.r.AddNote(h.ctx, testAlice, inc.ID, "bad \xff note")
	assert.ErrorIs(t, err, ir.ErrInvalid)
	_, err = h.r.AddNote(h.ctx, ir.Actor{ID: "a\x00", Name: "A"}, inc.ID, "note")
	assert.ErrorIs(t, err, ir.ErrInvalid)
	_, err = h.store.Claim(h.ctx, "owner\x00", 1, time.Minute)
	assert.ErrorIs(t, err, notify.ErrInvalid, "the outbox's contract is package notify's")
}

// valueStore is a store passed by value whose fields cannot be compared.
type valueStore struct {
	*ir.MemoryStore
	hook any
}

// lockerOn returns an in-memory locker whose ledger keeps its logs in st.
func lockerOn(t *testing.T, st evidence.LedgerStore) *evidence.Locker {
	t.Helper()
	key, _, err := evidence.GenerateKey("custody.test")
	require.NoError(t, err)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: st, Key: key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: evidence.NewMemoryBlobs()})
	require.NoError(t, err)
	return locker
}

// wrappedStore is a store wrapped for metrics or tracing: it forwards
// every call to the store it wraps.
type wrappedStore struct{ *ir.MemoryStore }

func TestNewResponderAtomicCustody(t *testing.T) {
	t.Parallel()
	mem := ir.NewMemoryStore()
	unc := valueStore{MemoryStore: ir.NewMemoryStore(), hook: func() {}}
	wrapped := wrappedStore{mem}
	tests := []struct {
		name   string
		store  ir.Store
		locker *evidence.Locker
		atomic bool
		ok     bool
	}{
		{"the ledger on the store", mem, lockerOn(t, mem), true, true},
		{"a wrapped store, the ledger on the wrapper too", wrapped, lockerOn(t, wrapped), true, true},
		{"a wrapped store, the ledger on the store underneath", wrapped, lockerOn(t, mem), true, false},
		{"the ledger on another store", mem, lockerOn(t, ir.NewMemoryStore()), true, false},
		{"the ledger on a store of its own", mem, lockerOn(t, evidence.NewMemoryLedgerStore()), true, false},
		{"no locker", mem, nil, true, false},
		{"a store whose values cannot be compared", unc, lockerOn(t, unc), true, false},
		{"two steps, asked for", mem, lockerOn(t, evidence.NewMemoryLedgerStore()), false, true},
		{"two steps on one store, asked for", mem, lockerOn(t, mem), false, true},
		{"two steps, uncomparable store", unc, lockerOn(t, unc), false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := ir.NewResponder(ir.Config{Store: tc.store, Evidence: tc.locker, AtomicCustody: tc.atomic})
			if !tc.ok {
				require.ErrorIs(t, err, ir.ErrInvalid)
				assert.Contains(t, err.Error(), "AtomicCustody")
				assert.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.NoError(t, r.Shutdown(context.Background()))
		})
	}
}

// TestCollectEvidenceInTwoSteps checks the two-step path, asked for on a
// store that could have written both together: the custody record is
// appended first, then the incident linked to the item.
func TestCollectEvidenceInTwoSteps(t *testing.T) {
	t.Parallel()
	var locker *evidence.Locker
	counting := &applyCountingStore{}
	h := newHarness(t, func(cfg *ir.Config) {
		counting.MemoryStore = cfg.Store.(*ir.MemoryStore)
		cfg.Store = counting
	}, withSharedLocker(t, &locker), func(cfg *ir.Config) { cfg.AtomicCustody = false })
	inc := h.open(phishing())
	item, err := h.r.CollectEvidence(h.ctx, testAlice, inc.ID, evidence.Collection{
		Name: "mail-gw.log", Content: strings.NewReader("accepted"),
	})
	require.NoError(t, err)
	assert.Zero(t, counting.custody.Load(), "no change carried a custody record")
	n, err := locker.Ledger().Store().Size(h.ctx, inc.ID.Case())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the custody record was appended")
	stored := h.stored(inc.ID)
	require.Len(t, stored.Evidence, 1)
	assert.Equal(t, item.ID, stored.Evidence[0].Item)
}

// applyCountingStore counts the changes it applies that carry custody
// records.
type applyCountingStore struct {
	*ir.MemoryStore
	custody atomic.Int64
}

func (s *applyCountingStore) Apply(ctx context.Context, ch ir.Change) error {
	if len(ch.Custody) > 0 {
		s.custody.Add(1)
	}
	return s.MemoryStore.Apply(ctx, ch)
}

// TestOutboxPayloadFormat checks that the messages the Responder leaves
// keep the shape earlier versions wrote, an incident summary and the typed
// event, so that a reader of that shape still reads them; the message's key
// and the event's summary are the fields added since.
func TestOutboxPayloadFormat(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withOutbox)
	inc := h.open(phishing())
	h.transition(inc.ID, phases.Identify)
	got := h.claimAll()
	events := h.timeline(inc.ID)
	require.Len(t, got, len(events))
	stored, err := h.store.Get(h.ctx, inc.ID)
	require.NoError(t, err)
	type summary struct {
		ID       ir.ID        `json:"id"`
		Title    string       `json:"title"`
		Severity ir.Severity  `json:"severity"`
		Priority ir.Priority  `json:"priority"`
		Category ir.Category  `json:"category"`
		TLP      ir.TLP       `json:"tlp"`
		Model    string       `json:"model"`
		Phase    phases.Phase `json:"phase"`
		Open     bool         `json:"open"`
		Labels   []string     `json:"labels,omitempty"`
		Version  int64        `json:"version"`
	}
	for i, e := range got {
		ev := events[i]
		want := summary{stored.ID, stored.Title, stored.Severity, stored.Priority, stored.Category, stored.TLP,
			stored.Model, phases.Preparation, true, stored.Labels, ev.Version}
		if ev.Version == stored.Version {
			want.Phase = stored.Phase
		}
		var earlier struct {
			Incident summary  `json:"incident"`
			Event    ir.Event `json:"event"`
		}
		require.NoError(t, json.Unmarshal(e.Payload, &earlier))
		assert.Equal(t, want, earlier.Incident)
		assert.Equal(t, ev, earlier.Event)

		var fields struct {
			Key      string                     `json:"key"`
			Incident map[string]json.RawMessage `json:"incident"`
			Event    map[string]json.RawMessage `json:"event"`
		}
		require.NoError(t, json.Unmarshal(e.Payload, &fields))
		assert.Equal(t, e.Key, fields.Key)
		wantFields := 10
		if len(stored.Labels) > 0 {
			wantFields++
		}
		assert.Len(t, fields.Incident, wantFields, "the incident's fields, none added")
		assert.Contains(t, fields.Event, "summary")
	}
}

// TestDecodeEarlierMessage checks that a message an earlier version left in
// an outbox decodes, with its typed event.
func TestDecodeEarlierMessage(t *testing.T) {
	t.Parallel()
	payload := `{"incident":{"id":"INC-000001","title":"Phishing","severity":"high","priority":"p2",` +
		`"category":"phishing","tlp":"TLP:AMBER","model":"nist-800-61r2","phase":"identification","open":true,"version":2},` +
		`"event":{"incident_id":"INC-000001","seq":0,"version":2,"type":"phase_changed","at":"2026-03-02T09:00:00Z",` +
		`"actor":{"id":"alice","name":"Alice","kind":"human"},"reason":"confirmed",` +
		`"data":{"action":"identify","from":"preparation","to":"identification"}}}`
	m, err := notify.DecodeMessage([]byte(payload))
	require.NoError(t, err)
	assert.Equal(t, "INC-000001", m.Incident.ID)
	assert.Equal(t, "identification", m.Incident.Phase)
	assert.Equal(t, "Alice", m.Event.Actor.String())
	ev, err := ir.EventOf(m)
	require.NoError(t, err)
	assert.Equal(t, &ir.PhaseChanged{Action: phases.Identify, From: phases.Preparation, To: phases.Identification}, ev.Data)
	assert.Equal(t, ir.ID("INC-000001"), ev.IncidentID)

	m.Event.Type = "no_such_event"
	_, err = ir.EventOf(m)
	assert.ErrorIs(t, err, ir.ErrInvalid)
}

// TestOutboxCarriesTheTraceContext checks that each message carries the
// trace context of the span of the change that wrote it, so that its
// delivery can link to it, and none when the change was not traced.
func TestOutboxCarriesTheTraceContext(t *testing.T) {
	t.Parallel()
	th := newTelemetryHarness(t, withOutbox)
	inc := th.open(phishing())
	_, err := th.r.AddNote(th.ctx, testAlice, inc.ID, "traced")
	require.NoError(t, err)
	msgs := th.claimAll()
	require.Len(t, msgs, 2)
	for i, span := range []string{"ir.open", "ir.add_note"} {
		m, err := msgs[i].Message()
		require.NoError(t, err)
		sc := th.onlySpan(t, span).SpanContext()
		want := fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID())
		assert.Equal(t, map[string]string{"traceparent": want}, m.Trace, "the message of %s", span)
	}

	h := newHarness(t, withOutbox) // a no-op tracer provider
	h.open(phishing())
	m, err := h.claimAll()[0].Message()
	require.NoError(t, err)
	assert.Nil(t, m.Trace, "an untraced change leaves no trace context")
}

func TestChangeNumberOutbox(t *testing.T) {
	t.Parallel()
	inc := &ir.Incident{ID: "INC-1", Version: 2}
	note := func(text string) ir.Event {
		return ir.Event{IncidentID: "INC-1", Version: 2, Type: ir.EventNoteAdded, Data: &ir.NoteAdded{Text: text}}
	}
	msg := func(n int, payload string) notify.OutboxMessage {
		return notify.OutboxMessage{Key: fmt.Sprintf("INC-1/2/%d", n), Incident: "INC-1", Type: string(ir.EventNoteAdded), Payload: []byte(payload)}
	}
	ch := ir.Change{Incident: inc, Events: []ir.Event{note("a"), note("b")},
		Outbox:     []notify.OutboxMessage{msg(1, `{"seq":0}`), msg(2, "0 stays"), msg(3, "[0]")},
		OutboxSeqs: []ir.OutboxSeq{{Message: 0, Event: 0, Offset: 7}, {Message: 2, Event: 1, Offset: 1}}}
	require.NoError(t, ch.Validate())

	got := ch.NumberOutbox(9)
	assert.Equal(t, `{"seq":9}`, string(got[0].Payload))
	assert.Equal(t, "0 stays", string(got[1].Payload))
	assert.Equal(t, "[10]", string(got[2].Payload))
	assert.Equal(t, `{"seq":0}`, string(ch.Outbox[0].Payload), "the change's own messages are left as they are")
	assert.Equal(t, `{"seq":12345678901}`, string(ch.NumberOutbox(12345678901)[0].Payload))

	ch.OutboxSeqs = nil
	assert.Equal(t, ch.Outbox, ch.NumberOutbox(9), "without seqs the messages are written as they are")
}

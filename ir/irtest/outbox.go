package irtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/notifytest"
)

// OutboxStore returns st as notifytest.TestOutbox checks it: its outbox,
// written to by changes that carry the messages (the one that opens the
// incident, if st does not hold it yet, or one that adds a note). Each
// store runs the suite from its tests:
//
//	func TestOutbox(t *testing.T) {
//		notifytest.TestOutbox(t, func(_ *testing.T, clock *notifytest.Clock) notifytest.OutboxStore {
//			return irtest.OutboxStore(ir.NewMemoryStore(ir.MemoryClock(clock)))
//		})
//		irtest.TestOutboxChanges(t, func(*testing.T) ir.OutboxStore { return ir.NewMemoryStore() })
//	}
func OutboxStore(st ir.OutboxStore) notifytest.OutboxStore {
	return notifytest.OutboxStore{Outbox: st, Write: func(ctx context.Context, msgs []notify.OutboxMessage) error {
		if len(msgs) == 0 {
			return errors.New("irtest: no outbox messages to write")
		}
		id := ir.ID(msgs[0].Incident)
		var ch ir.Change
		switch inc, err := st.Get(ctx, id); {
		case errors.Is(err, ir.ErrNotFound):
			ch = OpenChange(Incident(id).Opened(Epoch).Build())
		case err != nil:
			return err
		default:
			ch = NextChange(inc)
		}
		ch.Outbox = msgs
		return st.Apply(ctx, ch)
	}}
}

// TestOutboxChanges checks that the stores newStore makes write outbox
// messages with the change that carries them, and only then: a change
// without messages leaves none, and a change that is refused or loses a
// race leaves none either; and that each message carries the Seq its event
// got, as [ir.Change.NumberOutbox] writes it, for hand-made changes and
// for every kind of message a Responder leaves. It complements notifytest.TestOutbox, which
// checks the outbox itself; see [OutboxStore]. newStore must return a new,
// empty store and release it with t.Cleanup. Subtests run in parallel.
func TestOutboxChanges(t *testing.T, newStore func(t *testing.T) ir.OutboxStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, st ir.OutboxStore)
	}{
		{"WrittenWithChange", testWrittenWithChange},
		{"NotWrittenWithFailedChange", testNotWrittenWithFailedChange},
		{"NumberedWithChange", testNumberedWithChange},
		{"ResponderMessagesCarrySeqs", testResponderMessagesCarrySeqs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			require.NotNil(t, st, "newStore returned nil")
			tc.run(t, st)
		})
	}
}

// lease is the claim lease of the outbox tests.
const lease = time.Minute

// messages returns one outbox message per event of ch, keyed as the
// Responder keys them, with a payload that is not text.
func messages(ch ir.Change) []notify.OutboxMessage {
	msgs := make([]notify.OutboxMessage, len(ch.Events))
	for i, e := range ch.Events {
		key := fmt.Sprintf("%s/%d/%d", ch.Incident.ID, ch.Incident.Version, i+1)
		msgs[i] = notify.OutboxMessage{Key: key, Incident: string(ch.Incident.ID), Type: string(e.Type),
			Payload: append([]byte{0, 0xff, '\n'}, key...)}
	}
	return msgs
}

// withMessages returns ch carrying its messages.
func withMessages(ch ir.Change) ir.Change {
	ch.Outbox = messages(ch)
	return ch
}

// claim claims up to limit messages for owner and fails the test on error.
func claim(t *testing.T, o notify.Outbox, owner string, limit int) []notify.OutboxEntry {
	t.Helper()
	got, err := o.Claim(context.Background(), owner, limit, lease)
	require.NoError(t, err)
	return got
}

// keys returns the keys of entries.
func keys(entries []notify.OutboxEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Key
	}
	return out
}

// messageKeys returns the keys of msgs.
func messageKeys(msgs []notify.OutboxMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Key
	}
	return out
}

func testWrittenWithChange(t *testing.T, st ir.OutboxStore) {
	open := OpenChange(Incident("INC-000001").Opened(t0).Build())
	require.NoError(t, st.Apply(context.Background(), open))
	assert.Empty(t, claim(t, st, "worker-1", 10), "a change without messages leaves none")

	next := NextChange(open.Incident, &ir.NoteAdded{Text: "one"}, &ir.NoteAdded{Text: "two"})
	next.Outbox = messages(next)
	require.NoError(t, st.Apply(context.Background(), next))

	got := claim(t, st, "worker-1", 10)
	assert.Equal(t, messageKeys(next.Outbox), keys(got), "the change's messages, in order")
	for i, e := range got {
		assert.Equal(t, next.Outbox[i].Payload, e.Payload, "payloads are kept byte for byte")
	}
}

func testNotWrittenWithFailedChange(t *testing.T, st ir.OutboxStore) {
	ctx := context.Background()
	open := withMessages(OpenChange(Incident("INC-000001").Opened(t0).Build()))
	require.NoError(t, st.Apply(ctx, open))
	done := claim(t, st, "worker-1", 10)
	require.Len(t, done, 1)
	require.NoError(t, st.Ack(ctx, "worker-1", done[0].ID))

	stale := withMessages(NextChange(open.Incident))
	stale.Incident.Version++ // skips a version
	for i := range stale.Events {
		stale.Events[i].Version = stale.Incident.Version
	}
	err := st.Apply(ctx, stale)
	require.ErrorIs(t, err, ir.ErrConflict)

	invalid := withMessages(NextChange(open.Incident))
	invalid.Outbox = append(invalid.Outbox, notify.OutboxMessage{Key: "other", Incident: "INC-000002", Type: string(ir.EventNoteAdded)})
	require.ErrorIs(t, st.Apply(ctx, invalid), ir.ErrInvalid)

	again := withMessages(NextChange(open.Incident))
	again.Outbox = append(again.Outbox, again.Outbox[0])
	require.ErrorIs(t, st.Apply(ctx, again), ir.ErrInvalid, "keys repeat")

	assert.Empty(t, claim(t, st, "worker-1", 10), "a change that was not written leaves no message")
	inc, err := st.Get(ctx, "INC-000001")
	require.NoError(t, err)
	assert.Equal(t, int64(1), inc.Version)
}

// seqMessages returns one outbox message per event of ch, each with a
// payload holding a "0" for the event's Seq between bytes that are not
// text, and the OutboxSeqs that say so.
func seqMessages(ch ir.Change) ([]notify.OutboxMessage, []ir.OutboxSeq) {
	msgs := messages(ch)
	seqs := make([]ir.OutboxSeq, len(msgs))
	for i := range msgs {
		prefix := []byte{0, 0xff, '0', '"'}
		msgs[i].Payload = append(append(prefix, '0', '\n'), msgs[i].Key...)
		seqs[i] = ir.OutboxSeq{Message: i, Event: i, Offset: len(prefix)}
	}
	return msgs, seqs
}

func testNumberedWithChange(t *testing.T, st ir.OutboxStore) {
	ctx := context.Background()
	open := OpenChange(Incident("INC-000001").Opened(t0).Build())
	open.Outbox, open.OutboxSeqs = seqMessages(open)
	require.NoError(t, st.Apply(ctx, open))

	next := NextChange(open.Incident, &ir.NoteAdded{Text: "one"}, &ir.NoteAdded{Text: "two"}, &ir.NoteAdded{Text: "three"})
	next.Outbox, next.OutboxSeqs = seqMessages(next)
	// The second event's message carries no Seq; the third carries the
	// first event's.
	next.OutboxSeqs = []ir.OutboxSeq{next.OutboxSeqs[0], {Message: 2, Event: 0, Offset: next.OutboxSeqs[2].Offset}}
	require.NoError(t, st.Apply(ctx, next))

	got := claim(t, st, "worker-1", 10)
	require.Len(t, got, 4)
	want := append(open.NumberOutbox(1), next.NumberOutbox(2)...)
	for i, e := range got {
		assert.Equal(t, want[i].Key, e.Key)
		assert.Equal(t, want[i].Payload, e.Payload,
			"message %s must carry the Seq of its event: write what Change.NumberOutbox returns for the change's first Seq", e.Key)
	}
	assert.Equal(t, byte('2'), got[1].Payload[4], "the first event of the second change is the timeline's second")
	assert.Equal(t, byte('0'), got[2].Payload[4], "a message OutboxSeqs does not name is written as it is")
	assert.Equal(t, byte('2'), got[3].Payload[4])

	bad := NextChange(next.Incident)
	bad.Outbox, bad.OutboxSeqs = seqMessages(bad)
	bad.OutboxSeqs[0].Offset = 0 // not a "0"
	require.ErrorIs(t, st.Apply(ctx, bad), ir.ErrInvalid)
	assert.Empty(t, claim(t, st, "worker-1", 10), "a refused change leaves no message")
}

// testResponderMessagesCarrySeqs drives a Responder on st through every
// kind of change that leaves messages, several events to a change
// included, and checks each message reports its event as the timeline
// holds it.
func testResponderMessagesCarrySeqs(t *testing.T, st ir.OutboxStore) {
	ctx := context.Background()
	r, err := ir.NewResponder(ir.Config{Store: st, Outbox: true, Clock: NewClock(Epoch), IDs: &IDs{}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Shutdown(context.Background())) })

	var ids []ir.ID
	for range 2 { // two incidents, so that Seqs are per incident
		// Opening with observables and assets writes several events in
		// one change.
		// The title and labels, which come before the event in a
		// message, hold what a Seq of 0 looks like in one.
		inc, err := r.Open(ctx, Analyst, ir.NewIncident{Title: `Seq check "seq":0,`, Labels: []string{`"seq":0,`}, Severity: ir.SeverityHigh,
			Observables: []ir.Observable{{Type: ir.ObservableIP, Value: "203.0.113.7"}, {Type: ir.ObservableDomain, Value: "evil.example"}},
			Assets:      []ir.Asset{{Kind: ir.AssetHost, Name: "laptop-17"}}})
		require.NoError(t, err)
		ids = append(ids, inc.ID)
	}
	for _, id := range ids {
		for i := range 4 { // Seqs of two digits
			_, err = r.AddNote(ctx, Analyst, id, fmt.Sprintf("note %d", i))
			require.NoError(t, err)
		}
		_, err = r.Assign(ctx, Analyst, id, ir.RoleCommander, Analyst)
		require.NoError(t, err)
		_, err = r.PostStatus(ctx, Analyst, id, notify.AudienceExecutives, "Contained to one host.")
		require.NoError(t, err)
		_, err = r.RecordNotificationFailed(ctx, Analyst, notify.Delivery{ID: 7, Incident: string(id), Channel: "mail",
			Key: string(id) + "/1/1", Type: string(ir.EventOpened), Attempts: 3, LastError: "refused"})
		require.NoError(t, err)
	}

	var entries []notify.OutboxEntry
	for {
		got := claim(t, st, "worker-1", 100)
		if len(got) == 0 {
			break
		}
		entries = append(entries, got...)
	}
	byIncident := map[string][]notify.Message{}
	for _, e := range entries {
		m, err := e.Message()
		require.NoError(t, err)
		byIncident[m.Incident.ID] = append(byIncident[m.Incident.ID], m)
	}
	for _, id := range ids {
		page, err := st.Timeline(ctx, id, ir.TimelineQuery{Limit: ir.MaxPageSize})
		require.NoError(t, err)
		msgs := byIncident[string(id)]
		require.Len(t, msgs, len(page.Events), "one message per event of %s", id)
		for i, e := range page.Events {
			m := msgs[i]
			assert.Equal(t, string(e.Type), m.Event.Type, "message %s", m.Key)
			assert.Equal(t, e.Version, m.Event.Version, "message %s", m.Key)
			assert.Equal(t, e.Seq, m.Event.Seq,
				"message %s must carry the Seq its event got: write what Change.NumberOutbox returns for the change's first Seq", m.Key)
		}
	}
}

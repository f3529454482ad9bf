package ir_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// withLocker gives the harness's Responder an in-memory evidence locker on
// the harness's clock, and a SANS model that needs preserved evidence
// before eradication.
func withLocker(t *testing.T) func(*ir.Config) {
	return func(cfg *ir.Config) {
		key, _, err := evidence.GenerateKey("custody.test")
		require.NoError(t, err)
		ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
		require.NoError(t, err)
		n := 0
		locker, err := evidence.NewLocker(evidence.LockerConfig{
			Ledger: ledger, Blobs: evidence.NewMemoryBlobs(), Now: cfg.Clock.Now,
			NewID: func() evidence.ItemID { n++; return evidence.ItemID(fmt.Sprintf("ITEM-%d", n)) },
		})
		require.NoError(t, err)
		model, err := phases.WithEvidencePreserved(phases.SANS)
		require.NoError(t, err)
		cfg.Evidence, cfg.Model = locker, model
	}
}

func TestCollectEvidenceLinksTheItem(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withLocker(t))
	inc := h.open(ir.NewIncident{Title: "Phishing", Severity: ir.SeverityHigh})
	before := inc.Version

	item, err := h.r.CollectEvidence(h.ctx, testAlice, inc.ID, evidence.Collection{
		Name: "mail-gw.log", Kind: evidence.KindLog, Content: strings.NewReader("Mar  2 07:50 accepted"),
		Reason: "the phishing e-mail's delivery", SHA1: true,
	})
	require.NoError(t, err)
	assert.Equal(t, evidence.CaseID(inc.ID), item.CaseID, "the incident's ID is the evidence case")
	assert.Equal(t, "EX-001", item.Exhibit)
	assert.Equal(t, testAlice.ID, item.CollectedBy.ID, "the collector defaults to the actor")
	assert.NotEmpty(t, item.Digests.SHA1)

	got := h.stored(inc.ID)
	assert.Equal(t, before+1, got.Version)
	require.Len(t, got.Evidence, 1)
	ref := got.Evidence[0]
	assert.Equal(t, item.ID, ref.Item)
	assert.Equal(t, item.Digests.SHA256, ref.SHA256)
	assert.True(t, got.HasEvidence())

	events := h.timeline(inc.ID)
	last := events[len(events)-1]
	require.Equal(t, ir.EventEvidenceCollected, last.Type)
	data, ok := last.Data.(*ir.EvidenceCollected)
	require.True(t, ok)
	assert.Equal(t, item.ID, data.Evidence.Item)
	assert.Equal(t, item.Digests.SHA256, data.Evidence.SHA256, "the event carries the digest")
}

func TestEvidencePreservedGuardsEradication(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withLocker(t))
	inc := h.open(ir.NewIncident{Title: "Ransomware on a file server", Severity: ir.SeverityCritical})
	h.transition(inc.ID, phases.Identify)
	h.assign(inc.ID, ir.RoleCommander, testAlice)
	h.transition(inc.ID, phases.Contain)

	_, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Eradicate, "wipe and rebuild")
	require.ErrorIs(t, err, phases.ErrGuardFailed)
	assert.Contains(t, err.Error(), "no evidence has been preserved")

	_, err = h.r.CollectEvidence(h.ctx, testAlice, inc.ID, evidence.Collection{
		Name: "fs01-memory.raw", Kind: evidence.KindMemoryDump, Content: strings.NewReader("memory image"),
	})
	require.NoError(t, err)
	got, err := h.r.Transition(h.ctx, testAlice, inc.ID, phases.Eradicate, "wipe and rebuild")
	require.NoError(t, err)
	assert.Equal(t, phases.Eradication, got.Phase)
}

func TestCollectEvidenceNeedsALockerAndAnIncident(t *testing.T) {
	t.Parallel()
	plain := newHarness(t)
	inc := plain.open(ir.NewIncident{Title: "Phishing", Severity: ir.SeverityLow})
	_, err := plain.r.CollectEvidence(plain.ctx, testAlice, inc.ID, evidence.Collection{Name: "x", Content: strings.NewReader("x")})
	require.ErrorIs(t, err, ir.ErrInvalid)

	h := newHarness(t, withLocker(t))
	_, err = h.r.CollectEvidence(h.ctx, testAlice, "INC-404", evidence.Collection{Name: "x", Content: strings.NewReader("x")})
	require.ErrorIs(t, err, ir.ErrNotFound)

	inc = h.open(ir.NewIncident{Title: "Phishing", Severity: ir.SeverityLow})
	before, events := h.snapshot(inc.ID)
	_, err = h.r.CollectEvidence(h.ctx, testAlice, inc.ID, evidence.Collection{Name: "", Content: strings.NewReader("x")})
	require.ErrorIs(t, err, evidence.ErrInvalid)
	h.assertUnchanged(t, before, events)
}

func TestCollectEvidenceIsAuthorised(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withLocker(t), func(cfg *ir.Config) {
		cfg.Policy = ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
			if req.Operation == ir.OpCollectEvidence && req.Actor.ID != testAlice.ID {
				return errors.New("only the commander collects evidence")
			}
			return nil
		})
	})
	inc := h.open(ir.NewIncident{Title: "Phishing", Severity: ir.SeverityLow})
	before, events := h.snapshot(inc.ID)
	var read bool
	_, err := h.r.CollectEvidence(h.ctx, testBob, inc.ID, evidence.Collection{Name: "x", Content: readerFunc(func(p []byte) (int, error) {
		read = true
		return 0, io.EOF
	})})
	require.ErrorIs(t, err, ir.ErrUnauthorized)
	assert.False(t, read, "a refused collection reads nothing")
	h.assertUnchanged(t, before, events)
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestCollectEvidenceRefusesOversizedText collects evidence with a 2 MiB
// name, with 200,000 labels, and with text over the incident's own limits
// though within the locker's: each is refused with the Responder's own
// *ir.InvalidError before the locker is reached or any content read, and
// nothing is written, so the case stays exportable.
func TestCollectEvidenceRefusesOversizedText(t *testing.T) {
	t.Parallel()
	var g guardedLocker
	h := newHarness(t, withGuardedLocker(t, true, &g))
	inc := h.open(phishing())
	before, events := h.snapshot(inc.ID)
	over := func(n int) string { return strings.Repeat("x", n+1) }
	for name, c := range map[string]evidence.Collection{
		"a 2 MiB name":              {Name: strings.Repeat("n", 2<<20)},
		"200,000 labels":            {Name: "x", Labels: make([]string, 200_000)},
		"a NUL in a name":           {Name: "x\x00.log"},
		"a name over MaxShortText":  {Name: over(ir.MaxShortText)},
		"65 labels":                 {Name: "x", Labels: make([]string, ir.MaxLabels+1)},
		"a label over MaxShortText": {Name: "x", Labels: []string{over(ir.MaxShortText)}},
		"a collector's name over MaxShortText": {Name: "x",
			CollectedBy: evidence.Party{ID: "carol", Name: over(ir.MaxShortText)}},
		"a reason over MaxLongText": {Name: "x", Reason: over(ir.MaxLongText)},
		"notes over MaxBodyText":    {Name: "x", Notes: over(ir.MaxBodyText)},
	} {
		c.Content = unreadContent(t)
		_, err := h.r.CollectEvidence(h.ctx, testAlice, inc.ID, c)
		require.ErrorIs(t, err, ir.ErrInvalid, name)
		var ie *ir.InvalidError
		require.ErrorAs(t, err, &ie, name)
		assert.NotErrorIs(t, err, evidence.ErrInvalid, "%s: refused by the Responder, not the locker", name)
		assert.Empty(t, g.requests(), "%s: the locker is not reached", name)
		h.assertUnchanged(t, before, events)
		n, err := h.store.Size(h.ctx, inc.ID.Case())
		require.NoError(t, err)
		assert.Zero(t, n, "%s: no custody record", name)
	}
}

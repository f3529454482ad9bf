package ir_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
	"github.com/incidentkit/incidentkit/ir"
)

var testMallory = ir.Actor{ID: "mallory", Name: "Mallory", Kind: ir.ActorHuman}

// guardedLocker is an evidence locker whose access policy refuses Mallory
// everything and lets only its delegate (Bob unless set) take evidence in
// on someone else's behalf, keeping every request it was asked.
type guardedLocker struct {
	delegate string
	locker   *evidence.Locker
	ledger   *evidence.Ledger
	blobs    evidence.BlobStore
	vkey     string
	mu       sync.Mutex
	asked    []evidence.AccessRequest
}

func (g *guardedLocker) requests() []evidence.AccessRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]evidence.AccessRequest(nil), g.asked...)
}

// withGuardedLocker gives the Responder a guardedLocker, writing custody
// in one change with the incident if atomic, in two steps otherwise.
func withGuardedLocker(t *testing.T, oneChange bool, g *guardedLocker) func(*ir.Config) {
	return func(cfg *ir.Config) {
		key, vkey, err := evidence.GenerateKey("custody.test")
		require.NoError(t, err)
		var store evidence.LedgerStore = evidence.NewMemoryLedgerStore()
		if oneChange {
			store = cfg.Store.(evidence.LedgerStore)
		}
		g.ledger, err = evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: key})
		require.NoError(t, err)
		g.blobs, g.vkey = evidence.NewMemoryBlobs(), vkey
		if g.delegate == "" {
			g.delegate = testBob.ID
		}
		var n atomic.Int64
		g.locker, err = evidence.NewLocker(evidence.LockerConfig{
			Ledger: g.ledger, Blobs: g.blobs, Now: cfg.Clock.Now,
			NewID: func() evidence.ItemID { return evidence.ItemID(fmt.Sprintf("ITEM-%d", n.Add(1))) },
			Policy: evidence.AccessPolicyFunc(func(_ context.Context, req evidence.AccessRequest) error {
				g.mu.Lock()
				defer g.mu.Unlock()
				g.asked = append(g.asked, req)
				switch {
				case req.Actor.ID == testMallory.ID:
					return errors.New("mallory is not on the case")
				case !req.OnBehalfOf.IsZero() && req.Actor.ID != g.delegate:
					return errors.New("only bob takes evidence in for others")
				}
				return nil
			}),
			Refused: func(context.Context, evidence.Refusal) {},
		})
		require.NoError(t, err)
		cfg.Evidence, cfg.AtomicCustody = g.locker, oneChange
	}
}

// TestCollectEvidenceChecksTheCallingActor has Mallory, whom the locker's
// policy refuses (the Responder's allows everyone), collect evidence
// naming Alice as its collector: the locker is asked about Mallory and
// refuses, nothing is read or written. Naming Alice as the collection's
// actor is refused as bad input. Bob, whom the locker lets take evidence
// in for others, does so for Alice, and both are recorded. Both ways of
// writing custody are checked.
func TestCollectEvidenceChecksTheCallingActor(t *testing.T) {
	t.Parallel()
	for _, oneChange := range []bool{false, true} {
		t.Run(fmt.Sprintf("one change %v", oneChange), func(t *testing.T) {
			t.Parallel()
			var g guardedLocker
			h := newHarness(t, withGuardedLocker(t, oneChange, &g))
			inc := h.open(phishing())
			before, events := h.snapshot(inc.ID)
			alice := evidence.Party{ID: testAlice.ID, Name: testAlice.Name}

			_, err := h.r.CollectEvidence(h.ctx, testMallory, inc.ID, evidence.Collection{Name: "mail-gw.log",
				Content: unreadContent(t), CollectedBy: alice})
			require.ErrorIs(t, err, ir.ErrUnauthorized)
			require.ErrorIs(t, err, evidence.ErrDenied)
			asked := g.requests()
			require.Len(t, asked, 1)
			assert.Equal(t, testMallory.ID, asked[0].Actor.ID, "the locker is asked about the caller")
			assert.Equal(t, alice, asked[0].OnBehalfOf)

			_, err = h.r.CollectEvidence(h.ctx, testMallory, inc.ID, evidence.Collection{Name: "mail-gw.log",
				Content: unreadContent(t), Actor: alice})
			require.ErrorIs(t, err, ir.ErrInvalid, "a collection's actor must be the caller")
			var ie *ir.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Len(t, g.requests(), 1, "the locker is not reached")

			h.assertUnchanged(t, before, events)
			n, err := g.ledger.Store().Size(h.ctx, inc.ID.Case())
			require.NoError(t, err)
			assert.Zero(t, n, "no custody record")

			it, err := h.r.CollectEvidence(h.ctx, testBob, inc.ID, evidence.Collection{Name: "mail-gw.log",
				Content: strings.NewReader("accepted"), CollectedBy: alice})
			require.NoError(t, err)
			asked = g.requests()
			assert.Equal(t, evidence.Party{ID: testBob.ID, Name: testBob.Name}, asked[len(asked)-1].Actor)
			assert.Equal(t, alice, asked[len(asked)-1].OnBehalfOf)
			recs, err := g.ledger.Records(h.ctx, inc.ID.Case(), 0, 1)
			require.NoError(t, err)
			assert.Equal(t, testBob.ID, recs[0].Actor.ID, "the record's actor is the caller")
			assert.Equal(t, alice, recs[0].Snapshot.CollectedBy, "the item's collector is who it was collected by")
			assert.Equal(t, alice, it.CollectedBy)
			got := h.stored(inc.ID)
			require.Len(t, got.Evidence, 1)
			assert.Equal(t, testAlice.ID, got.Evidence[0].CollectedBy.ID)

			// Alice collecting for herself is asked about as herself only.
			_, err = h.r.CollectEvidence(h.ctx, testAlice, inc.ID, evidence.Collection{Name: "b.log", Content: strings.NewReader("b")})
			require.NoError(t, err)
			asked = g.requests()
			assert.Equal(t, alice, asked[len(asked)-1].Actor)
			assert.True(t, asked[len(asked)-1].OnBehalfOf.IsZero())
		})
	}
}

func unreadContent(t *testing.T) readerFunc {
	return readerFunc(func([]byte) (int, error) {
		t.Error("content read")
		return 0, errors.New("read")
	})
}

// TestCollectEvidenceAtEveryMaximumExports collects evidence through the
// Responder with every field at the largest the Responder accepts, in the
// character JSON escapes the most, on someone's behalf: the case exports
// to a bundle that bundle.Read accepts with its default limits, and it
// verifies.
func TestCollectEvidenceAtEveryMaximumExports(t *testing.T) {
	t.Parallel()
	worst := func(n int) string { return strings.Repeat("<", n) }
	list := func(n, each int) []string {
		v := make([]string, n)
		for i := range v {
			v[i] = worst(each)
		}
		return v
	}
	bob := ir.Actor{ID: worst(ir.MaxShortText), Name: worst(ir.MaxShortText)}
	g := guardedLocker{delegate: bob.ID}
	h := newHarness(t, withGuardedLocker(t, true, &g))
	inc, err := h.r.Open(h.ctx, testAlice, phishing())
	require.NoError(t, err)
	c := evidence.Collection{
		Name: worst(ir.MaxShortText), Kind: evidence.KindLog, MediaType: worst(evidence.MaxNameLen),
		Content: strings.NewReader("accepted"),
		Source: evidence.Source{Host: worst(evidence.MaxNameLen), Path: worst(evidence.MaxTextLen),
			SerialNumber: worst(evidence.MaxNameLen), Network: list(evidence.MaxNetwork, evidence.MaxNameLen),
			Description: worst(evidence.MaxTextLen)},
		CollectedBy: evidence.Party{ID: worst(ir.MaxShortText), Name: worst(ir.MaxShortText), Organization: worst(evidence.MaxNameLen)},
		Location:    worst(evidence.MaxNameLen), Labels: list(ir.MaxLabels, ir.MaxShortText),
		Authority: worst(ir.MaxLongText), Reason: worst(ir.MaxLongText), Tool: worst(evidence.MaxNameLen),
		Notes: worst(ir.MaxBodyText), SHA1: true, MD5: true,
	}
	it, err := h.r.CollectEvidence(h.ctx, bob, inc.ID, c)
	require.NoError(t, err)
	assert.Equal(t, c.Name, it.Name)

	var tarball bytes.Buffer
	require.NoError(t, bundle.Export(h.ctx, &tarball, g.ledger, g.blobs, inc.ID.Case(), bundle.Options{Checkpoint: true, IncludeBlobs: true}))
	b, err := bundle.Read(h.ctx, bytes.NewReader(tarball.Bytes()), evidence.NewMemoryBlobs(), bundle.Limits{})
	require.NoError(t, err, "bundle.Read with its default limits")
	rep, err := b.Verify(bundle.Trust{VerifierKey: g.vkey})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
}

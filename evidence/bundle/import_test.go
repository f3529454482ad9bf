package bundle_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// importVictim is a custodian's store holding the fixture's genuine case,
// imported with its content into a directory of blobs.
type importVictim struct {
	store *evidence.MemoryLedgerStore
	blobs *evidence.DirBlobs
}

func newImportVictim(t *testing.T, fx *bundleFixture) *importVictim {
	t.Helper()
	v := &importVictim{store: evidence.NewMemoryLedgerStore()}
	var err error
	v.blobs, err = evidence.NewDirBlobs(filepath.Join(t.TempDir(), "blobs"))
	require.NoError(t, err)
	_, err = bundle.Import(t.Context(), bytes.NewReader(fx.export(t, bundle.Options{IncludeBlobs: true})), v.store, v.blobs, fx.trust(), bundle.Limits{})
	require.NoError(t, err)
	return v
}

// state returns everything the victim holds: the case's log and every
// file under the blob directory, temporary files included.
func (v *importVictim) state(t *testing.T) string {
	t.Helper()
	return bundleLogJSON(t, v.store) + "\n" + strings.Join(importDirFiles(t, v.blobs.Dir()), "\n")
}

// importDirFiles lists the files under dir with their sizes.
func importDirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, fmt.Sprintf("%s %v %d", rel, fi.Mode(), fi.Size()))
		return nil
	})
	require.NoError(t, err)
	sort.Strings(files)
	return files
}

// requireVerifiesWithCustodianKey checks the victim's case still verifies
// against the key of the ledger that made it, content included.
func (v *importVictim) requireVerifiesWithCustodianKey(t *testing.T, fx *bundleFixture) {
	t.Helper()
	rep := evidence.VerifyLog(bundleCaseLog(t, v.store), fx.vkey)
	require.True(t, rep.OK(), "%v", rep.Err())
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: v.store, Key: fx.key})
	require.NoError(t, err)
	locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: ledger, Blobs: v.blobs})
	require.NoError(t, err)
	verified, err := locker.Verify(t.Context(), bundleCase)
	require.NoError(t, err)
	require.True(t, verified.OK(), "%v", verified.Err())
}

// importResigned returns the fixture's case signed again by another key of
// the same name, with, if forge, a "disposed" record of the disk image and
// a planted item appended, with the content of every item.
func importResigned(t *testing.T, fx *bundleFixture, forge bool) (data []byte, forgerKey string, planted string) {
	t.Helper()
	ctx := t.Context()
	key, vkey := bundleKey(t, "custody.example.org", 66)
	forger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	recs, err := fx.ledger.Records(ctx, bundleCase, 0, 7)
	require.NoError(t, err)
	for _, r := range recs {
		_, err := forger.Append(ctx, r)
		require.NoError(t, err)
	}
	blobs := evidence.NewMemoryBlobs()
	for _, it := range fx.items {
		rc, err := fx.blobs.Open(ctx, it.Digests.SHA256)
		require.NoError(t, err)
		_, err = evidence.Ingest(ctx, blobs, rc, evidence.IngestOptions{})
		require.NoError(t, err)
		require.NoError(t, rc.Close())
	}
	if forge {
		locker, err := evidence.NewLocker(evidence.LockerConfig{Ledger: forger, Blobs: blobs,
			Now: func() time.Time { return bundleT0.Add(48 * time.Hour) }})
		require.NoError(t, err)
		_, err = locker.Record(ctx, evidence.Record{Case: bundleCase, Item: fx.items[0].ID, Action: evidence.ActionDisposed,
			Actor: bundleBob, Reason: "destroyed at the end of the case", At: bundleT0.Add(47 * time.Hour)})
		require.NoError(t, err)
		content := []byte("content planted by the forger")
		it, err := locker.Collect(ctx, evidence.Collection{Case: bundleCase, Name: "planted.log", Kind: evidence.KindLog,
			Content: bytes.NewReader(content), CollectedBy: bundleBob, CollectedAt: bundleT0.Add(47 * time.Hour)})
		require.NoError(t, err)
		planted = it.Digests.SHA256
	}
	var buf bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &buf, forger, blobs, bundleCase, bundle.Options{IncludeBlobs: true, Checkpoint: true}))
	return buf.Bytes(), vkey, planted
}

func TestImportRefusesCaseSignedByAnotherKey(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	for name, forge := range map[string]bool{"forged records appended": true, "nothing added": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			data, forgerKey, planted := importResigned(t, fx, forge)
			v := newImportVictim(t, fx)
			before := v.state(t)

			// On its own, the bundle verifies with its own key: only the
			// case the store holds tells it apart.
			b, err := bundle.Read(ctx, bytes.NewReader(data), nil, bundle.Limits{})
			require.NoError(t, err)
			own, err := b.Verify(bundle.Trust{})
			require.NoError(t, err)
			require.True(t, own.OK(), "%v", own.Err())

			rep, err := bundle.Import(ctx, bytes.NewReader(data), v.store, v.blobs, bundle.Trust{}, bundle.Limits{})
			require.ErrorIs(t, err, evidence.ErrConflict)
			assert.NotErrorIs(t, err, evidence.ErrInvalid)
			assert.Nil(t, rep, "refused before the content is read")
			var conflict *bundle.CaseConflictError
			require.ErrorAs(t, err, &conflict)
			assert.Equal(t, bundleCase, conflict.Case)
			assert.Equal(t, 0, conflict.Checkpoint)
			assert.Equal(t, int64(-1), conflict.Record)
			custodian := strings.Join(strings.SplitN(fx.vkey, "+", 3)[:2], "+")
			forger := strings.Join(strings.SplitN(forgerKey, "+", 3)[:2], "+")
			require.NotEqual(t, custodian, forger)
			assert.Equal(t, custodian, conflict.StoreKey, "the key that signed the stored checkpoints")
			assert.Equal(t, forgerKey, conflict.BundleKey)
			assert.Contains(t, err.Error(), "signed by "+custodian, "the error says which key signed the stored case")
			assert.Contains(t, err.Error(), forger, "and which key the bundle is verified with")
			assert.Contains(t, err.Error(), evidence.KeyFingerprint(forgerKey))
			assert.True(t, strings.HasPrefix(err.Error(), "bundle: import case "+string(bundleCase)), err.Error())

			assert.Equal(t, before, v.state(t), "the refused import changed the store")
			if planted != "" {
				_, err := v.blobs.Stat(ctx, planted)
				assert.ErrorIs(t, err, evidence.ErrNotFound, "the planted content was stored")
			}
			v.requireVerifiesWithCustodianKey(t, fx)

			// Trusting the forger's key explicitly makes no difference:
			// the stored case is not signed by it.
			_, err = bundle.Import(ctx, bytes.NewReader(data), v.store, v.blobs, bundle.Trust{VerifierKey: forgerKey}, bundle.Limits{})
			require.ErrorAs(t, err, &conflict)
			assert.Equal(t, before, v.state(t))
		})
	}
}

func TestImportExtendsStoredCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	v := newImportVictim(t, fx)

	// The custodian's later bundle of the case, with one more record,
	// extends it, with the default trust.
	_, err := fx.locker.Record(ctx, evidence.Record{Case: bundleCase, Item: fx.items[1].ID, Action: evidence.ActionVerified,
		Actor: bundleBob, At: bundleT0.Add(5 * time.Hour)})
	require.NoError(t, err)
	later := fx.export(t, bundle.Options{IncludeBlobs: true, Checkpoint: true})
	rep, err := bundle.Import(ctx, bytes.NewReader(later), v.store, v.blobs, bundle.Trust{}, bundle.Limits{})
	require.NoError(t, err)
	assert.Equal(t, int64(8), rep.Size)
	assert.Equal(t, bundleLogJSON(t, fx.store), bundleLogJSON(t, v.store))
	v.requireVerifiesWithCustodianKey(t, fx)

	// A fork of the case signed by the same key, that rewrites a record
	// the store's second checkpoint signs, does not extend the case.
	forked := evidence.NewMemoryLedgerStore()
	fork, err := evidence.NewLedger(evidence.LedgerConfig{Store: forked, Key: fx.key})
	require.NoError(t, err)
	recs, err := fx.ledger.Records(ctx, bundleCase, 0, 8)
	require.NoError(t, err)
	recs[5].Reason = "rewritten after the fact"
	for _, r := range append(recs, evidence.Record{Case: bundleCase, Item: fx.items[0].ID, Action: evidence.ActionAccessed,
		Actor: bundleBob, At: bundleT0.Add(6 * time.Hour)}) {
		_, err := fork.Append(ctx, r)
		require.NoError(t, err)
	}
	_, err = fork.Checkpoint(ctx, bundleCase)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &buf, fork, fx.blobs, bundleCase, bundle.Options{IncludeBlobs: true}))
	before := v.state(t)
	_, err = bundle.Import(ctx, bytes.NewReader(buf.Bytes()), v.store, v.blobs, bundle.Trust{}, bundle.Limits{})
	require.ErrorIs(t, err, evidence.ErrConflict)
	var conflict *bundle.CaseConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, 1, conflict.Checkpoint, "the store's checkpoint of 7 records")
	assert.Empty(t, conflict.StoreKey, "not a conflict of keys")
	assert.ErrorContains(t, err, "does not extend the store's checkpoint 1")
	assert.Equal(t, before, v.state(t))
	v.requireVerifiesWithCustodianKey(t, fx)
}

func TestImportIntoUnsignedRecords(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{})

	// Records of the case, but no checkpoint: no key is known to extend
	// them, so only a key the caller names may.
	store := evidence.NewMemoryLedgerStore()
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: store, Key: fx.key})
	require.NoError(t, err)
	recs, err := fx.ledger.Records(ctx, bundleCase, 0, 4)
	require.NoError(t, err)
	for _, r := range recs {
		_, err := ledger.Append(ctx, r)
		require.NoError(t, err)
	}
	before := bundleLogJSON(t, store)
	_, err = bundle.Import(ctx, bytes.NewReader(data), store, nil, bundle.Trust{}, bundle.Limits{})
	var conflict *bundle.CaseConflictError
	require.ErrorAs(t, err, &conflict)
	assert.ErrorIs(t, err, evidence.ErrConflict)
	assert.ErrorContains(t, err, "no checkpoint")
	assert.ErrorContains(t, err, "give the case's key in the trust")
	assert.Equal(t, before, bundleLogJSON(t, store))

	_, err = bundle.Import(ctx, bytes.NewReader(data), store, nil, bundle.Trust{Fingerprint: evidence.KeyFingerprint(fx.vkey)}, bundle.Limits{})
	require.NoError(t, err)
	assert.Equal(t, bundleLogJSON(t, fx.store), bundleLogJSON(t, store))
}

// importRefusals are bundles Import refuses, made from the fixture's
// bundle, with the error they are refused with.
func importRefusals() []struct {
	name string
	make func(t *testing.T, fx *bundleFixture, data []byte) []byte
	// want is the error importing into a new case, wantHeld into the
	// case held.
	want, wantHeld error
} {
	return []struct {
		name string
		make func(t *testing.T, fx *bundleFixture, data []byte) []byte
		// want is the error importing into a new case, wantHeld into
		// the case held.
		want, wantHeld error
	}{
		{"bad signature", func(t *testing.T, fx *bundleFixture, data []byte) []byte {
			entries := readBundleEntries(t, data)
			editBundleManifest(t, entries, func(m *bundle.Manifest) {
				last := &m.Checkpoints[len(m.Checkpoints)-1]
				last.Note = bytes.Clone(last.Note)
				i := bytes.LastIndexByte(last.Note[:len(last.Note)-2], ' ') + 5
				last.Note[i] ^= 'A' ^ 'B'
				if last.Note[i] == '+' || last.Note[i] == '/' {
					last.Note[i] = 'Q'
				}
			})
			return writeBundleEntries(t, entries)
		}, evidence.ErrTampered, evidence.ErrTampered},
		{"bad blob hash", func(t *testing.T, fx *bundleFixture, data []byte) []byte {
			// The second blob holds other bytes than its name says; the
			// first is genuine.
			entries := readBundleEntries(t, data)
			entries[3].body = bytes.Clone(entries[3].body)
			entries[3].body[10] ^= 1
			return writeBundleEntries(t, entries)
		}, evidence.ErrTampered, evidence.ErrTampered},
		{"truncated", func(t *testing.T, fx *bundleFixture, data []byte) []byte {
			// Cut in the middle of the second blob, after the first.
			entries := readBundleEntries(t, data)
			whole := writeBundleEntries(t, entries)
			return whole[:len(whole)-1024-len(entries[3].body)/2]
		}, evidence.ErrInvalid, evidence.ErrInvalid},
		{"not the trusted key", func(t *testing.T, fx *bundleFixture, data []byte) []byte {
			forged, _ := bundleForgery(t)
			return forged
		}, evidence.ErrTampered, evidence.ErrTampered},
		{"signed by another key", func(t *testing.T, fx *bundleFixture, data []byte) []byte {
			forged, _, _ := importResigned(t, fx, true)
			return forged
		}, nil, evidence.ErrConflict},
	}
}

func TestImportRefusedLeavesNothing(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{IncludeBlobs: true})
	for _, tc := range importRefusals() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hostile := tc.make(t, fx, data)
			for _, into := range []string{"a new case", "the case held"} {
				t.Run(into, func(t *testing.T) {
					ctx := t.Context()
					v := &importVictim{store: evidence.NewMemoryLedgerStore()}
					var err error
					v.blobs, err = evidence.NewDirBlobs(filepath.Join(t.TempDir(), "blobs"))
					require.NoError(t, err)
					trust, want := fx.trust(), tc.want
					if into == "the case held" {
						// A store holding the first records and checkpoint
						// of the case, but none of its content.
						_, err := bundle.Import(ctx, bytes.NewReader(importFirstCheckpoint(t, fx)), v.store, nil, fx.trust(), bundle.Limits{})
						require.NoError(t, err)
						want = tc.wantHeld
					}
					if want == nil {
						t.Skip("imports into a new case")
					}
					if tc.name == "signed by another key" {
						trust = bundle.Trust{}
					}
					before := v.state(t)
					_, err = bundle.Import(ctx, bytes.NewReader(hostile), v.store, v.blobs, trust, bundle.Limits{})
					require.ErrorIs(t, err, want)
					assert.Equal(t, before, v.state(t), "the refused import left something")
					for _, it := range fx.items {
						_, err := v.blobs.Stat(ctx, it.Digests.SHA256)
						assert.ErrorIs(t, err, evidence.ErrNotFound, "content of %s stored", it.ID)
					}

					// The genuine bundle still imports, content and all.
					_, err = bundle.Import(ctx, bytes.NewReader(data), v.store, v.blobs, fx.trust(), bundle.Limits{})
					require.NoError(t, err)
					v.requireVerifiesWithCustodianKey(t, fx)
				})
			}
		})
	}
}

// importFirstCheckpoint returns the fixture's case up to its first
// checkpoint, without content.
func importFirstCheckpoint(t *testing.T, fx *bundleFixture) []byte {
	t.Helper()
	entries := readBundleEntries(t, fx.export(t, bundle.Options{}))
	editBundleRecords(t, entries, true, func(lines [][]byte) [][]byte { return lines[:3] })
	editBundleManifest(t, entries, func(m *bundle.Manifest) {
		m.Checkpoints, m.ConsistencyProofs = m.Checkpoints[:1], [][]evidence.Hash{nil}
		m.Items = m.Items[:2]
	})
	return writeBundleEntries(t, entries)
}

func TestImportMemoryBlobsRefusedLeavesNothing(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{IncludeBlobs: true})
	for _, tc := range importRefusals()[:3] {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			blobs, store := evidence.NewMemoryBlobs(), evidence.NewMemoryLedgerStore()
			_, err := bundle.Import(t.Context(), bytes.NewReader(tc.make(t, fx, data)), store, blobs, fx.trust(), bundle.Limits{})
			require.ErrorIs(t, err, tc.want)
			requireEmptyStore(t, store)
			for _, it := range fx.items {
				_, err := blobs.Stat(t.Context(), it.Digests.SHA256)
				assert.ErrorIs(t, err, evidence.ErrNotFound, "content of %s stored", it.ID)
			}
		})
	}
}

func TestImportDefaultLimits(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	entries := readBundleEntries(t, fx.export(t, bundle.Options{IncludeBlobs: true}))
	// A manifest declaring content over the import's default total is
	// refused before anything is read or staged, though Read would admit
	// it.
	editBundleManifest(t, entries, func(m *bundle.Manifest) {
		m.Blobs[0].Size = bundle.DefaultImportMaxBlobSize
		m.Blobs[1].Size = bundle.DefaultImportMaxBlobSize
		m.Blobs = append(m.Blobs, bundle.Blob{SHA256: strings.Repeat("0", 64), Size: bundle.DefaultImportMaxTotalSize - 2*bundle.DefaultImportMaxBlobSize + 1})
	})
	data := writeBundleEntries(t, entries)
	blobs, store := evidence.NewMemoryBlobs(), evidence.NewMemoryLedgerStore()
	_, err := bundle.Import(t.Context(), bytes.NewReader(data), store, blobs, fx.trust(), bundle.Limits{})
	require.ErrorIs(t, err, evidence.ErrInvalid)
	assert.ErrorContains(t, err, fmt.Sprintf("in all, more than the limit of %d", bundle.DefaultImportMaxTotalSize))
	requireEmptyStore(t, store)
	_, err = bundle.Read(t.Context(), bytes.NewReader(data), nil, bundle.Limits{})
	assert.NotContains(t, err.Error(), fmt.Sprintf("in all, more than the limit of %d", bundle.DefaultImportMaxTotalSize), "Read's own limits are larger")

	// Limits given are used as they are.
	_, err = bundle.Import(t.Context(), bytes.NewReader(data), store, blobs, fx.trust(), bundle.Limits{MaxBlobSize: 100})
	assert.ErrorContains(t, err, "more than the limit of 100")
	_, err = bundle.Import(t.Context(), bytes.NewReader(data), store, blobs, fx.trust(), bundle.Limits{MaxTotalSize: -1})
	assert.ErrorIs(t, err, evidence.ErrInvalid)
}

// importCountingBlobs counts the blobs started in it.
type importCountingBlobs struct {
	*evidence.MemoryBlobs
	created atomic.Int64
}

func (b *importCountingBlobs) Create(ctx context.Context) (evidence.BlobWriter, error) {
	b.created.Add(1)
	return b.MemoryBlobs.Create(ctx)
}

func TestImportRefusesBeforeReadingContent(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{IncludeBlobs: true})
	for _, tc := range importRefusals() {
		if tc.name == "bad blob hash" || tc.name == "truncated" {
			continue // refused on reading the content
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			store := evidence.NewMemoryLedgerStore()
			trust := fx.trust()
			if tc.wantHeld == evidence.ErrConflict {
				_, err := bundle.Import(ctx, bytes.NewReader(importFirstCheckpoint(t, fx)), store, nil, fx.trust(), bundle.Limits{})
				require.NoError(t, err)
				trust = bundle.Trust{}
			}
			blobs := &importCountingBlobs{MemoryBlobs: evidence.NewMemoryBlobs()}
			_, err := bundle.Import(ctx, bytes.NewReader(tc.make(t, fx, data)), store, blobs, trust, bundle.Limits{})
			require.Error(t, err)
			assert.Zero(t, blobs.created.Load(), "content was written before the bundle was refused")
		})
	}
}

// importCancellingReader cancels its context once it has given n bytes.
type importCancellingReader struct {
	r      *bytes.Reader
	n      int
	cancel context.CancelFunc
}

func (c *importCancellingReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	p = p[:min(len(p), max(c.n, 1))]
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func TestImportCancelledLeavesNothing(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{IncludeBlobs: true})
	entries := readBundleEntries(t, data)
	// Cancelled in the middle of the second blob, after the first was
	// staged.
	at := len(writeBundleEntries(t, entries)) - 1024 - len(entries[3].body)/2
	v := &importVictim{store: evidence.NewMemoryLedgerStore()}
	var err error
	v.blobs, err = evidence.NewDirBlobs(filepath.Join(t.TempDir(), "blobs"))
	require.NoError(t, err)
	before := v.state(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err = bundle.Import(ctx, &importCancellingReader{r: bytes.NewReader(data), n: at, cancel: cancel}, v.store, v.blobs, fx.trust(), bundle.Limits{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, before, v.state(t), "the cancelled import left something")
}

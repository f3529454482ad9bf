package bundle_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// readAndVerify is what VerifyStream stands for: Read, then Verify.
func readAndVerify(ctx context.Context, data []byte, blobs evidence.BlobStore, trust bundle.Trust, limits bundle.Limits) (*bundle.Bundle, *bundle.Report, error) {
	b, err := bundle.Read(ctx, bytes.NewReader(data), blobs, limits)
	if err != nil {
		return nil, nil, err
	}
	rep, err := b.Verify(trust)
	if err != nil {
		return nil, nil, err
	}
	return b, rep, nil
}

// requireSameAsStream requires VerifyStream to refuse data as Read and
// Verify do, with the same error, or to report what they report, and to
// store the same blobs; it returns VerifyStream's report.
func requireSameAsStream(t testing.TB, data []byte, trust bundle.Trust, limits bundle.Limits) *bundle.Report {
	t.Helper()
	ctx := context.Background()
	wantBlobs, gotBlobs := evidence.NewMemoryBlobs(), evidence.NewMemoryBlobs()
	want, wantRep, wantErr := readAndVerify(ctx, data, wantBlobs, trust, limits)
	got, gotRep, gotErr := bundle.VerifyStream(ctx, bytes.NewReader(data), gotBlobs, trust, limits)
	if wantErr != nil {
		require.Error(t, gotErr, "Read and Verify refuse it with %v", wantErr)
		require.Equal(t, wantErr.Error(), gotErr.Error())
		require.Equal(t, errors.Is(wantErr, evidence.ErrInvalid), errors.Is(gotErr, evidence.ErrInvalid))
		var wantIE, gotIE *evidence.InvalidError
		require.Equal(t, errors.As(wantErr, &wantIE), errors.As(gotErr, &gotIE))
		require.Nil(t, got)
		require.Nil(t, gotRep)
	} else {
		require.NoError(t, gotErr)
		require.Equal(t, wantRep.Err() == nil, gotRep.Err() == nil)
		if wantRep.Err() != nil {
			require.Equal(t, wantRep.Err().Error(), gotRep.Err().Error())
		}
		require.Equal(t, wantRep, gotRep)
		require.Equal(t, want.Manifest, got.Manifest)
		require.Equal(t, want.Blobs, got.Blobs)
		require.Nil(t, got.Records, "no record is kept")
	}
	// The same blobs stored, of those the bundle's entries name.
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		sha, ok := strings.CutPrefix(hdr.Name, "blobs/")
		if !ok {
			continue
		}
		wantSize, wantErr := wantBlobs.Stat(ctx, sha)
		gotSize, gotErr := gotBlobs.Stat(ctx, sha)
		require.Equal(t, wantErr == nil, gotErr == nil, "blob %s stored by one and not the other", sha)
		require.Equal(t, wantSize, gotSize)
	}
	return gotRep
}

// VerifyStream reports what Read and Verify report, or refuses with the
// same error, on every hostile bundle, with the trusted key, without it,
// and with malformed trust.
func TestVerifyStreamMatchesReadAndVerify(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	clean := fx.export(t, bundle.Options{IncludeBlobs: true})
	earlier, err := fx.store.Checkpoints(t.Context(), bundleCase)
	require.NoError(t, err)
	trusts := map[string]bundle.Trust{
		"own key":                  {},
		"trusted key":              fx.trust(),
		"fingerprint":              {Fingerprint: evidence.KeyFingerprint(fx.vkey)},
		"earlier checkpoint":       {VerifierKey: fx.vkey, Checkpoints: [][]byte{earlier[0].Note}},
		"checkpoint of a stranger": {VerifierKey: fx.vkey, Checkpoints: [][]byte{bundleForeignCheckpoint(t)}},
		"malformed":                {VerifierKey: "not a key"},
	}
	cases := append(hostileBundles(), hostileBundle{name: "clean",
		make: func(*testing.T, *bundleFixture, []bundleEntry) []byte { return clean }})
	cases = append(cases, hostileBundle{name: "without blobs",
		make: func(t *testing.T, fx *bundleFixture, _ []bundleEntry) []byte { return fx.export(t, bundle.Options{}) }})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.make(t, fx, readBundleEntries(t, clean))
			for name, trust := range trusts {
				t.Run(name, func(t *testing.T) {
					rep := requireSameAsStream(t, data, trust, tc.limits)
					if tc.name == "clean" && name == "trusted key" {
						require.True(t, rep.OK(), "%v", rep.Err())
					}
				})
			}
		})
	}
}

// A line refused in records.jsonl is refused as Read refuses it: as the
// first line refused, or as a truncated entry if the entry is cut short,
// whatever its lines; and a record longer than any buffer is read whole.
func TestVerifyStreamRecordLines(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	clean := fx.export(t, bundle.Options{})
	long := func(t *testing.T, size int) []bundleEntry {
		e := readBundleEntries(t, clean)
		editBundleRecord(t, e, 6, func(r *evidence.Record) { r.Notes = strings.Repeat("n", size) })
		return e
	}
	cutInRecords := func(t *testing.T, e []bundleEntry) []byte {
		data := writeBundleEntries(t, e)
		at := bytes.Index(data, e[1].body[:40]) + len(e[1].body)/2
		return data[:at]
	}
	for _, tc := range []struct {
		name   string
		data   func(t *testing.T) []byte
		limits bundle.Limits
		says   string
	}{
		{name: "record longer than the read buffer", data: func(t *testing.T) []byte { return writeBundleEntries(t, long(t, 200<<10)) },
			says: "tampered checkpoint"},
		{name: "record over the limit, longer than the read buffer", limits: bundle.Limits{MaxRecordSize: 100 << 10},
			data: func(t *testing.T) []byte { return writeBundleEntries(t, long(t, 200<<10)) },
			says: "record 6 of 205"},
		{name: "empty line, then the entry cut short", data: func(t *testing.T) []byte {
			e := readBundleEntries(t, clean)
			editBundleRecords(t, e, false, func(l [][]byte) [][]byte { l[1] = nil; return l })
			return cutInRecords(t, e)
		}, says: "truncated"},
		{name: "record over the limit, then the entry cut short", limits: bundle.Limits{MaxRecordSize: 100},
			data: func(t *testing.T) []byte { return cutInRecords(t, readBundleEntries(t, clean)) },
			says: "truncated"},
		{name: "empty line, then a record over the limit", limits: bundle.Limits{MaxRecordSize: 100 << 10},
			data: func(t *testing.T) []byte {
				e := long(t, 200<<10)
				editBundleRecords(t, e, false, func(l [][]byte) [][]byte { l[2] = nil; return l })
				return writeBundleEntries(t, e)
			}, says: "record 2 is an empty line"},
		{name: "two empty lines", data: func(t *testing.T) []byte {
			e := readBundleEntries(t, clean)
			editBundleRecords(t, e, false, func(l [][]byte) [][]byte { l[3], l[5] = nil, nil; return l })
			return writeBundleEntries(t, e)
		}, says: "record 3 is an empty line"},
		{name: "an unended record over the limit", limits: bundle.Limits{MaxRecordSize: 100 << 10},
			data: func(t *testing.T) []byte {
				e := long(t, 200<<10)
				e[1].body = bytes.TrimSuffix(e[1].body, []byte("\n"))
				return writeBundleEntries(t, e)
			}, says: "record 6 of 205"},
		{name: "no record", data: func(t *testing.T) []byte {
			e := readBundleEntries(t, clean)
			editBundleRecords(t, e, true, func([][]byte) [][]byte { return nil })
			return writeBundleEntries(t, e)
		}, says: "3 items for 0 records"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.data(t)
			ctx := t.Context()
			_, _, err := bundle.VerifyStream(ctx, bytes.NewReader(data), nil, fx.trust(), tc.limits)
			_, rep, _ := readAndVerify(ctx, data, nil, fx.trust(), tc.limits)
			if err == nil {
				err = rep.Err()
			}
			require.ErrorContains(t, err, tc.says)
			requireSameAsStream(t, data, fx.trust(), tc.limits)
		})
	}
}

// The errors of the reader, a cancelled context and a failing blob store
// are those Read returns.
func TestVerifyStreamErrors(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	data := fx.export(t, bundle.Options{IncludeBlobs: true})
	broken := errors.New("disk on fire")
	for _, at := range []int{100, 3000, len(data) - 2000} {
		_, _, err := bundle.VerifyStream(t.Context(), &bundleFailingReader{r: bytes.NewReader(data[:at]), err: broken}, nil, bundle.Trust{}, bundle.Limits{})
		_, want := bundle.Read(t.Context(), &bundleFailingReader{r: bytes.NewReader(data[:at]), err: broken}, nil, bundle.Limits{})
		require.ErrorIs(t, err, broken)
		require.Equal(t, want.Error(), err.Error())
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := bundle.VerifyStream(cancelled, bytes.NewReader(data), nil, bundle.Trust{}, bundle.Limits{})
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = bundle.VerifyStream(t.Context(), nil, nil, bundle.Trust{}, bundle.Limits{})
	require.ErrorIs(t, err, evidence.ErrInvalid)
	_, _, err = bundle.VerifyStream(t.Context(), bytes.NewReader(data), nil, bundle.Trust{}, bundle.Limits{MaxItems: -1})
	require.ErrorIs(t, err, evidence.ErrInvalid)
	_, _, err = bundle.VerifyStream(t.Context(), bytes.NewReader(data), bundleFailingBlobs{err: broken}, bundle.Trust{}, bundle.Limits{})
	require.ErrorIs(t, err, broken)
}

// The bundle VerifyStream returns keeps no record, and cannot be verified
// again as if it had none.
func TestVerifyStreamBundleRefusesVerify(t *testing.T) {
	t.Parallel()
	fx := newBundleFixture(t)
	b, rep, err := bundle.VerifyStream(t.Context(), bytes.NewReader(fx.export(t, bundle.Options{})), nil, fx.trust(), bundle.Limits{})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Err())
	require.Nil(t, b.Records)
	_, err = b.Verify(fx.trust())
	require.ErrorIs(t, err, evidence.ErrInvalid)
	assert.ErrorContains(t, err, "VerifyStream")
}

// VerifyStream holds one record at a time: verifying a bundle of large
// records takes a small part of their size, where Read holds them all.
// The collector runs often, so that the peak heap is what is held, not
// what awaits collection. It does not run in parallel, so that it measures
// only its own heap.
func TestVerifyStreamHoldsNoRecords(t *testing.T) {
	w := worstBundle{records: 1 << 12, recordSize: 16 << 10}
	data := w.build(t)
	records := uint64(w.records * (w.recordSize + 1))
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	var rep *bundle.Report
	streamed := peakHeap(func() {
		var err error
		_, rep, err = bundle.VerifyStream(t.Context(), bytes.NewReader(data), nil, bundle.Trust{}, bundle.Limits{})
		require.NoError(t, err)
	})
	require.False(t, rep.OK(), "the records collect items the manifest does not list")
	assert.Equal(t, int64(w.records), rep.Size)
	whole := peakHeap(func() {
		_, _, err := readAndVerify(t.Context(), data, nil, bundle.Trust{}, bundle.Limits{})
		require.NoError(t, err)
	})
	runtime.KeepAlive(data)
	t.Logf("peak heap for %d KiB of records: %d KiB streamed, %d KiB read whole", records>>10, streamed>>10, whole>>10)
	assert.Greater(t, whole, records, "Read holds every record")
	assert.Less(t, streamed, records/4, "VerifyStream holds no record")
}

// FuzzVerifyStream checks that VerifyStream refuses what Read and Verify
// refuse, with the same errors, and reports what they report, on any
// bundle, with and without a trusted key.
func FuzzVerifyStream(f *testing.F) {
	for _, withBlob := range []bool{false, true} {
		for _, checkpoints := range []int{0, 1, 2} {
			f.Add(smallBundle(f, withBlob, checkpoints))
		}
	}
	f.Add(exhaustingBundle(f, 5, 2))
	_, vkey := bundleKey(f, "custody.example.org", 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, trust := range []bundle.Trust{{}, {VerifierKey: vkey}} {
			requireSameAsStream(t, data, trust, bundleFuzzLimits)
		}
	})
}

// Each record of a bundle is given to the verifier once, in order: a
// bundle whose records are each a line of their own index is checked as
// the same bundle read whole.
func TestVerifyStreamManyRecords(t *testing.T) {
	t.Parallel()
	var body strings.Builder
	const n = 5000
	for i := range n {
		fmt.Fprintf(&body, "%d\n", i)
	}
	e := readBundleEntries(t, exhaustingBundle(t, n, 0))
	e[1] = bundleEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "records.jsonl", Mode: 0o644}, body: []byte(body.String())}
	data := writeBundleEntries(t, e)
	rep := requireSameAsStream(t, data, bundle.Trust{}, bundle.Limits{MaxProblems: n + 10})
	require.Equal(t, int64(n), rep.Size)
	require.Equal(t, n+1, rep.ProblemCount())
}

// mutate returns data with a few random bytes changed, inserted or
// removed, drawn from rng.
func mutate(rng *rand.Rand, data []byte) []byte {
	out := bytes.Clone(data)
	for range 1 + rng.IntN(4) {
		if len(out) == 0 {
			return append(out, byte(rng.IntN(256)))
		}
		at := rng.IntN(len(out))
		switch rng.IntN(4) {
		case 0:
			out[at] = byte(rng.IntN(256))
		case 1:
			out[at] = "\n0{}\"x"[rng.IntN(6)]
		case 2:
			out = append(out[:at], out[at+1:]...)
		default:
			out = append(out[:at], append([]byte{out[at]}, out[at:]...)...)
		}
	}
	return out
}

// VerifyStream refuses and reports as Read and Verify do on thousands of
// bundles changed at random, from a fixed seed: the fuzz target's check,
// run on every test run.
func TestVerifyStreamMutatedBundles(t *testing.T) {
	t.Parallel()
	var seeds [][]byte
	for _, withBlob := range []bool{false, true} {
		for _, checkpoints := range []int{0, 1, 2} {
			seeds = append(seeds, smallBundle(t, withBlob, checkpoints))
		}
	}
	_, vkey := bundleKey(t, "custody.example.org", 1)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		seed := seeds[i%len(seeds)]
		data := mutate(rng, seed)
		if i%3 != 0 {
			// The manifest or the records changed, in a well-formed tar
			// stream.
			e := readBundleEntries(t, seed)
			k := rng.IntN(2)
			e[k].body = mutate(rng, e[k].body)
			data = writeBundleEntries(t, e)
		}
		trust := bundle.Trust{}
		if i%2 == 1 {
			trust.VerifierKey = vkey
		}
		requireSameAsStream(t, data, trust, bundleFuzzLimits)
	}
}

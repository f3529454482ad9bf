package bundle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
)

// bundleFuzzLimits are the limits the fuzz test reads with: small, so that
// the fuzzer reaches them.
var bundleFuzzLimits = bundle.Limits{
	MaxEntries:      16,
	MaxManifestSize: 64 << 10,
	MaxRecordSize:   8 << 10,
	MaxRecords:      256,
	MaxRecordsSize:  256 << 10,
	MaxBlobSize:     1 << 20,
	MaxTotalSize:    2 << 20,
	MaxItems:        8,
	MaxCheckpoints:  8,
	MaxProblems:     4,
}

// bundleFuzzAllocBound is the most Read may allocate reading data
// within bundleFuzzLimits: fixed buffers, and a multiple of what it read,
// never what a bundle declares.
func bundleFuzzAllocBound(data []byte) uint64 { return 4<<20 + 32*uint64(len(data)) }

// smallBundle returns a small bundle of one item collected and sealed,
// signed by the fixture's key in checkpoints checkpoints: few bytes for the
// fuzzer to work on.
func smallBundle(t testing.TB, withBlob bool, checkpoints int) []byte {
	t.Helper()
	ctx := context.Background()
	key, _ := bundleKey(t, "custody.example.org", 1)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	blobs := evidence.NewMemoryBlobs()
	locker, err := evidence.NewLocker(evidence.LockerConfig{
		Ledger: ledger, Blobs: blobs,
		Now:   func() time.Time { return bundleT0 },
		NewID: func() evidence.ItemID { return "I1" },
	})
	require.NoError(t, err)
	const c evidence.CaseID = "C1"
	it, err := locker.Collect(ctx, evidence.Collection{Case: c, Name: "a.log", Kind: evidence.KindLog,
		Content: bytes.NewReader([]byte("GET /\n")), CollectedBy: evidence.Party{ID: "a"}, MD5: true})
	require.NoError(t, err)
	for i := range checkpoints {
		if i > 0 {
			_, err = locker.Record(ctx, evidence.Record{Case: c, Item: it.ID, Action: evidence.ActionSealed, Actor: evidence.Party{ID: "b"}})
			require.NoError(t, err)
		}
		_, err = ledger.Checkpoint(ctx, c)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	require.NoError(t, bundle.Export(ctx, &buf, ledger, blobs, c, bundle.Options{IncludeBlobs: withBlob}))
	return buf.Bytes()
}

// FuzzRead checks that Read never panics, never allocates
// according to what a bundle declares rather than what it holds, refuses
// what it refuses as invalid, and that whatever it accepts is either
// verified and imports into a store that then verifies, or is reported as
// failing and imports nothing.
func FuzzRead(f *testing.F) {
	for _, withBlob := range []bool{false, true} {
		for _, checkpoints := range []int{0, 1, 2} {
			f.Add(smallBundle(f, withBlob, checkpoints))
		}
	}
	_, vkey := bundleKey(f, "custody.example.org", 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		blobs := evidence.NewMemoryBlobs()
		before := bundleAllocated()
		b, err := bundle.Read(ctx, bytes.NewReader(data), blobs, bundleFuzzLimits)
		if allocated := bundleAllocated() - before; allocated > bundleFuzzAllocBound(data) {
			t.Fatalf("read %d bytes, allocated %d", len(data), allocated)
		}
		if err != nil {
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Fatalf("refused with %v, which is not ErrInvalid", err)
			}
			var ie *evidence.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("refused with %v, which is not an *InvalidError", err)
			}
			return
		}
		checkBundleWithinLimits(t, ctx, b, blobs)
		for _, trust := range []bundle.Trust{{}, {VerifierKey: vkey}} {
			checkBundleImport(t, ctx, data, b, trust)
		}
	})
}

// checkBundleWithinLimits checks a bundle Read accepted is within
// the limits and as its manifest declares.
func checkBundleWithinLimits(t *testing.T, ctx context.Context, b *bundle.Bundle, blobs *evidence.MemoryBlobs) {
	t.Helper()
	m := b.Manifest
	if m.Format != bundle.Format || m.Version != bundle.Version {
		t.Fatalf("accepted format %q version %d", m.Format, m.Version)
	}
	if int64(len(b.Records)) != m.Records || m.Records > bundleFuzzLimits.MaxRecords {
		t.Fatalf("accepted %d records, declared %d", len(b.Records), m.Records)
	}
	for i, r := range b.Records {
		if int64(len(r)) > bundleFuzzLimits.MaxRecordSize || len(r) == 0 || bytes.IndexByte(r, '\n') >= 0 {
			t.Fatalf("accepted record %d of %d bytes: %q", i, len(r), r)
		}
	}
	if len(m.Items) > bundleFuzzLimits.MaxItems || int64(len(m.Items)) > m.Records {
		t.Fatalf("accepted %d items for %d records", len(m.Items), m.Records)
	}
	if len(m.Checkpoints) > bundleFuzzLimits.MaxCheckpoints || int64(len(m.Checkpoints)) > m.Records || len(m.ConsistencyProofs) != len(m.Checkpoints) {
		t.Fatalf("accepted %d checkpoints and %d proofs for %d records", len(m.Checkpoints), len(m.ConsistencyProofs), m.Records)
	}
	if len(b.Blobs) != len(m.Blobs) {
		t.Fatalf("accepted %d blobs, declared %d", len(b.Blobs), len(m.Blobs))
	}
	for i, bc := range b.Blobs {
		if bc.SHA256 != m.Blobs[i].SHA256 || bc.Size != m.Blobs[i].Size {
			t.Fatalf("blob %d read as %+v, declared %+v", i, bc, m.Blobs[i])
		}
		if bc.Stored != (bc.Digests.SHA256 == bc.SHA256) {
			t.Fatalf("blob %d stored=%v with digest %s", i, bc.Stored, bc.Digests.SHA256)
		}
		if size, err := blobs.Stat(ctx, bc.SHA256); bc.Stored && (err != nil || size != bc.Size) {
			t.Fatalf("blob %d stored as %d bytes, %v", i, size, err)
		}
	}
}

// checkBundleImport checks a bundle verified with trust imports into a
// store that verifies, and one that failed imports nothing.
func checkBundleImport(t *testing.T, ctx context.Context, data []byte, b *bundle.Bundle, trust bundle.Trust) {
	t.Helper()
	rep, err := b.Verify(trust)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(rep.Problems) > bundleFuzzLimits.MaxProblems || rep.Omitted > 0 && len(rep.Problems) != bundleFuzzLimits.MaxProblems {
		t.Fatalf("listed %d problems and omitted %d, with a limit of %d", len(rep.Problems), rep.Omitted, bundleFuzzLimits.MaxProblems)
	}
	store := evidence.NewMemoryLedgerStore()
	imported, err := bundle.Import(ctx, bytes.NewReader(data), store, nil, trust, bundleFuzzLimits)
	if !rep.OK() {
		if rep.Err() == nil || err == nil {
			t.Fatalf("failed with %d problems, yet imported: %v", len(rep.Problems), err)
		}
		if n, _ := store.Size(ctx, b.Manifest.Case); n != 0 {
			t.Fatalf("a bundle that failed wrote %d records", n)
		}
		return
	}
	if err != nil || !imported.OK() {
		t.Fatalf("verified, but import failed: %v", err)
	}
	n, err := store.Size(ctx, b.Manifest.Case)
	if err != nil {
		t.Fatal(err)
	}
	log := evidence.CaseLog{Case: b.Manifest.Case, Origin: b.Manifest.Origin}
	if log.Records, err = store.Records(ctx, log.Case, 0, n); err != nil {
		t.Fatal(err)
	}
	if log.Items, err = store.Items(ctx, log.Case); err != nil {
		t.Fatal(err)
	}
	if log.Checkpoints, err = store.Checkpoints(ctx, log.Case); err != nil {
		t.Fatal(err)
	}
	again := evidence.VerifyLog(log, rep.VerifierKey)
	if !again.OK() || again.Root != rep.Root {
		t.Fatalf("imported log does not verify: %v", again.Err())
	}
	want, _ := json.Marshal(b.Records)
	got, _ := json.Marshal(log.Records)
	if !bytes.Equal(want, got) {
		t.Fatal("imported records differ from the bundle's")
	}
}

package evidence

import (
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// ingestBenchSize is the size of the content each benchmark operation
// ingests.
const ingestBenchSize = 64 << 20

// ingestBenchSeed makes every operation's content new, so that every
// ingest writes a new blob.
var ingestBenchSeed atomic.Uint64

// BenchmarkIngestSHA256 compares ingesting into a DirBlobs, SHA-256 only,
// with hashing the same bytes, read the same way, with crypto/sha256
// alone. The goal is at least 0.6 times the baseline's throughput.
func BenchmarkIngestSHA256(b *testing.B) {
	b.Run("baseline", benchmarkRawSHA256)
	b.Run("incidentkit", func(b *testing.B) { benchmarkIngest(b, IngestOptions{}) })
}

// BenchmarkIngestAllDigests compares ingesting into a DirBlobs with
// SHA-256, SHA-1 and MD5 with hashing the same bytes with crypto/sha256
// alone. The goal is at least 0.38 times the baseline's throughput.
func BenchmarkIngestAllDigests(b *testing.B) {
	b.Run("baseline", benchmarkRawSHA256)
	b.Run("incidentkit", func(b *testing.B) { benchmarkIngest(b, IngestOptions{SHA1: true, MD5: true}) })
}

// benchmarkRawSHA256 hashes generated content with crypto/sha256, reading
// it a chunk at a time into one buffer as Ingest does.
func benchmarkRawSHA256(b *testing.B) {
	b.SetBytes(ingestBenchSize)
	buf := make([]byte, ingestChunkSize)
	var sum [sha256.Size]byte
	for b.Loop() {
		r := newIngestTestReader(ingestBenchSize, ingestBenchSeed.Add(1))
		h := sha256.New()
		for {
			n, err := io.ReadFull(r, buf)
			h.Write(buf[:n])
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		h.Sum(sum[:0])
	}
}

// benchmarkIngest ingests generated content into a DirBlobs, durably:
// each blob is synced to disk before Ingest returns.
func benchmarkIngest(b *testing.B, opts IngestOptions) {
	store, err := NewDirBlobs(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(ingestBenchSize)
	for b.Loop() {
		r := newIngestTestReader(ingestBenchSize, ingestBenchSeed.Add(1))
		res, err := Ingest(b.Context(), store, r, opts)
		if err != nil {
			b.Fatal(err)
		}
		removeBenchBlob(b, store, res.Digests.SHA256)
	}
}

// removeBenchBlob deletes a blob the benchmark wrote, without timing it,
// so that the disk space and page cache in use stay the same from one
// operation to the next. Otherwise the later operations also pay for
// growing the page cache, which on a virtual machine may mean the host
// handing it fresh memory, and which has nothing to do with ingest.
func removeBenchBlob(b *testing.B, store *DirBlobs, digest string) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	path := filepath.Join(store.dir, blobName(digest))
	if err := os.Chmod(path, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIngestMemory ingests 1 GiB into a DirBlobs with every digest
// and reports the bytes of heap allocated while doing it, in MiB per
// operation, as heap-MiB: a bound on how much ingest makes the heap grow.
func BenchmarkIngestMemory(b *testing.B) {
	const size = 1 << 30
	store, err := NewDirBlobs(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	var allocated uint64
	ops := 0
	for b.Loop() {
		a, digest := ingestAllocated(b, store, size)
		allocated += a
		ops++
		removeBenchBlob(b, store, digest)
	}
	b.ReportMetric(float64(allocated)/float64(ops)/(1<<20), "heap-MiB")
}

package evidence_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"

	"github.com/incidentkit/incidentkit/evidence"
)

// Two blobs are written and prepared, unseen by readers, while a decision
// is pending: the first is then kept and the second discarded, leaving
// nothing of it in the store.
func ExampleBlobPreparer() {
	ctx := context.Background()
	blobs := evidence.NewMemoryBlobs()
	prepare := func(content string) (evidence.BlobPreparer, string) {
		w, err := blobs.Create(ctx)
		if err != nil {
			log.Fatal(err)
		}
		p, ok := w.(evidence.BlobPreparer)
		if !ok {
			log.Fatal("the store cannot prepare blobs")
		}
		if _, err := p.Write([]byte(content)); err != nil {
			log.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		digest := hex.EncodeToString(sum[:])
		if err := p.Prepare(ctx, digest); err != nil {
			log.Fatal(err)
		}
		return p, digest
	}
	kept, keptDigest := prepare("mail-gw 2026-03-02T08:59:12Z accepted payroll.xlsm")
	dropped, droppedDigest := prepare("content of a bundle that was refused")

	_, err := blobs.Stat(ctx, keptDigest)
	fmt.Println("prepared, not yet visible:", errors.Is(err, evidence.ErrNotFound))

	if err := kept.Commit(ctx, keptDigest); err != nil {
		log.Fatal(err)
	}
	if err := dropped.Abort(); err != nil {
		log.Fatal(err)
	}
	size, err := blobs.Stat(ctx, keptDigest)
	fmt.Println("committed:", size, err)
	_, err = blobs.Stat(ctx, droppedDigest)
	fmt.Println("aborted, gone:", errors.Is(err, evidence.ErrNotFound))
	// Output:
	// prepared, not yet visible: true
	// committed: 50 <nil>
	// aborted, gone: true
}

package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// CaseLog is everything needed to check one case's chain of custody
// offline: the encoded records in log order, the items and the signed
// checkpoints.
type CaseLog struct {
	Case        CaseID
	Origin      string
	Records     [][]byte
	Items       []Item
	Checkpoints []Checkpoint
}

// Report is the outcome of checking a case's chain of custody.
type Report struct {
	Case CaseID
	// Size and Root are the size and Merkle root of the log as checked.
	Size int64
	Root Hash
	// Items and Checkpoints count what was checked.
	Items, Checkpoints int
	// Problems lists every problem found, each a [*TamperError] or an
	// error explaining why a check could not be made.
	Problems []error
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Err returns nil if no problem was found, or all problems joined; the
// result matches [ErrTampered] if any problem is a tampering.
func (r *Report) Err() error { return errors.Join(r.Problems...) }

// VerifyLog checks a case's chain of custody offline, touching no store and
// no network: it decodes every record and checks it is canonical and in its
// place, rebuilds the Merkle tree, follows every item's links, compares each
// item with the copy in its collected record, and checks every checkpoint's
// signature against vkey and its root against the rebuilt tree. It reports
// every problem, not only the first. Blob contents are checked separately
// (see [Locker.Verify]).
func VerifyLog(log CaseLog, vkey string) *Report {
	rep, _ := verifyLog(log, vkey)
	return rep
}

// verifyLog is VerifyLog, also returning the tree hashes it rebuilt, in
// stored-hash order.
func verifyLog(log CaseLog, vkey string) (*Report, []Hash) {
	rep := &Report{Case: log.Case, Size: int64(len(log.Records)), Items: len(log.Items), Checkpoints: len(log.Checkpoints)}
	problem := func(item ItemID, index int64, what, expected, found string) {
		rep.Problems = append(rep.Problems, &TamperError{Case: log.Case, Item: item, Record: index,
			What: what, Expected: expected, Found: found})
	}
	hashes := make([]Hash, 0, tlog.StoredHashCount(rep.Size))
	// tlog uses what ReadHashes returns before it reads again, so one
	// scratch slice serves every read.
	var scratch []Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		scratch = scratch[:0]
		for _, x := range indexes {
			scratch = append(scratch, hashes[x])
		}
		return scratch, nil
	})
	last := make(map[ItemID]int64)
	snapshots := make(map[ItemID]*Item)
	collectedAt := make(map[ItemID]int64)
	var collectedOrder []ItemID
	batch := make([]decodedRecord, min(len(log.Records), decodeChunk))
	for i := range log.Records {
		if i%decodeChunk == 0 {
			end := min(i+decodeChunk, len(log.Records))
			decodeRecords(log.Records[i:end], batch[:end-i])
		}
		n := int64(i)
		d := &batch[i%decodeChunk]
		stored, err := tlog.StoredHashesForRecordHash(n, d.leaf, reader)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Errorf("evidence: rebuild tree at record %d: %w", n, err))
			return rep, nil
		}
		hashes = append(hashes, stored...)
		r, err := d.r, d.err
		if err != nil {
			problem("", n, "record", "a canonical record", err.Error())
			continue
		}
		if r.Index != n {
			problem(r.Item, n, "record", "index "+strconv.FormatInt(n, 10), "index "+strconv.FormatInt(r.Index, 10))
		}
		if r.Case != log.Case {
			problem(r.Item, n, "record", "case "+string(log.Case), "case "+string(r.Case))
		}
		want, seen := last[r.Item]
		if !seen {
			want = -1
		}
		if r.Prev != want {
			problem(r.Item, n, "item link", "previous record "+strconv.FormatInt(want, 10), "previous record "+strconv.FormatInt(r.Prev, 10))
		} else if want >= 0 {
			if ph := hashes[tlog.StoredHashIndex(0, want)]; !d.prevOK || d.prev != ph {
				problem(r.Item, n, "item link", "previous record hash "+ph.String(), "previous record hash "+r.PrevHash)
			}
		}
		if !seen && r.Action != ActionCollected {
			problem(r.Item, n, "item link", "a collected record first", string(r.Action))
		}
		if !seen && r.PrevHash != "" {
			problem(r.Item, n, "item link", "no previous record hash on an item's first record", r.PrevHash)
		}
		if seen && r.Action == ActionCollected {
			problem(r.Item, n, "record", "one collected record per item", "a second collected record")
		}
		if d.checkErr != nil {
			problem(r.Item, n, "record", "a valid custody record", d.checkErr.Error())
		}
		if r.Snapshot != nil && snapshots[r.Item] == nil {
			snapshots[r.Item] = r.Snapshot
			collectedAt[r.Item] = n
			collectedOrder = append(collectedOrder, r.Item)
		}
		last[r.Item] = n
	}
	if root, err := tlog.TreeHash(rep.Size, reader); err == nil {
		rep.Root = root
	}
	listed := make(map[ItemID]bool, len(log.Items))
	for _, it := range log.Items {
		listed[it.ID] = true
		snap := snapshots[it.ID]
		switch {
		case snap == nil:
			problem(it.ID, -1, "item", "a collected record", "none")
		case !sameItem(it, *snap):
			problem(it.ID, collectedAt[it.ID], "item", "the item as collected", "a changed description")
		}
	}
	for _, id := range collectedOrder {
		if !listed[id] {
			problem(id, collectedAt[id], "item", "the item its collected record describes", "no such item")
		}
	}
	for _, cp := range log.Checkpoints {
		checkCheckpoint(rep, log, cp, vkey, reader)
	}
	return rep, hashes
}

// decodeChunk is how many records verifyLog decodes at a time.
const decodeChunk = 4096

// decodedRecord is what can be learnt of one record on its own, in
// parallel with the others: its leaf hash, the record, whether it is valid,
// and the previous record hash it names.
type decodedRecord struct {
	leaf     Hash
	r        Record
	err      error
	checkErr error
	prev     Hash
	prevOK   bool
}

// decodeOne fills d from one encoded record.
func (d *decodedRecord) decodeOne(data []byte) {
	*d = decodedRecord{leaf: tlog.RecordHash(data)}
	if d.r, d.err = DecodeRecord(data); d.err != nil {
		return
	}
	d.checkErr = checkRecord(d.r)
	if d.r.PrevHash != "" {
		h, err := tlog.ParseHash(d.r.PrevHash)
		d.prev, d.prevOK = h, err == nil
	}
}

// decodeRecords decodes records into out, which has the same length,
// spreading the work over GOMAXPROCS goroutines.
func decodeRecords(records [][]byte, out []decodedRecord) {
	workers := min(runtime.GOMAXPROCS(0), (len(records)+255)/256)
	if workers <= 1 {
		for i, data := range records {
			out[i].decodeOne(data)
		}
		return
	}
	per := (len(records) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(records); lo += per {
		hi := min(lo+per, len(records))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				out[i].decodeOne(records[i])
			}
		})
	}
	wg.Wait()
}

// checkCheckpoint checks one checkpoint against the rebuilt tree.
func checkCheckpoint(rep *Report, log CaseLog, cp Checkpoint, vkey string, tree tlog.HashReader) {
	opened, err := OpenCheckpoint(cp.Note, vkey)
	if err != nil {
		var te *TamperError
		if errors.As(err, &te) {
			te.Case = log.Case
		}
		rep.Problems = append(rep.Problems, err)
		return
	}
	bad := func(expected, found string) {
		rep.Problems = append(rep.Problems, &TamperError{Case: log.Case, Record: -1, What: "checkpoint", Expected: expected, Found: found})
	}
	if opened.Origin != log.Origin {
		bad("origin "+log.Origin, "origin "+opened.Origin)
		return
	}
	if opened.Size != cp.Size || opened.Root != cp.Root {
		bad("the signed size and root", "a stored copy that differs")
	}
	if opened.Size > rep.Size {
		bad(fmt.Sprintf("at least %d records", opened.Size), fmt.Sprintf("%d records", rep.Size))
		return
	}
	root, err := tlog.TreeHash(opened.Size, tree)
	if err != nil {
		rep.Problems = append(rep.Problems, fmt.Errorf("evidence: tree hash at %d: %w", opened.Size, err))
		return
	}
	if root != opened.Root {
		bad(fmt.Sprintf("root %s at size %d", opened.Root, opened.Size), "root "+root.String())
	}
}

// exportAttempts bounds how often Export re-reads a log that is growing
// while it reads.
const exportAttempts = 10

// Export reads everything about case c needed by [VerifyLog], as one
// consistent snapshot: if records are appended while it reads, it reads
// again, and at last keeps only the checkpoints the records it read cover.
func (l *Ledger) Export(ctx context.Context, c CaseID) (CaseLog, error) {
	var log CaseLog
	for range exportAttempts {
		var err error
		if log, err = l.exportOnce(ctx, c); err != nil {
			return CaseLog{}, err
		}
		n, err := l.store.Size(ctx, c)
		if err != nil {
			return CaseLog{}, fmt.Errorf("evidence: export case %s: %w", c, err)
		}
		if n == int64(len(log.Records)) {
			return log, nil
		}
	}
	cps := log.Checkpoints[:0]
	for _, cp := range log.Checkpoints {
		if cp.Size <= int64(len(log.Records)) {
			cps = append(cps, cp)
		}
	}
	log.Checkpoints = cps
	return log, nil
}

func (l *Ledger) exportOnce(ctx context.Context, c CaseID) (CaseLog, error) {
	n, err := l.store.Size(ctx, c)
	if err != nil {
		return CaseLog{}, fmt.Errorf("evidence: export case %s: %w", c, err)
	}
	log := CaseLog{Case: c, Origin: l.Origin(c)}
	if log.Records, err = l.store.Records(ctx, c, 0, n); err != nil {
		return CaseLog{}, fmt.Errorf("evidence: export case %s: %w", c, err)
	}
	if log.Items, err = l.store.Items(ctx, c); err != nil {
		return CaseLog{}, fmt.Errorf("evidence: export case %s: %w", c, err)
	}
	if log.Checkpoints, err = l.store.Checkpoints(ctx, c); err != nil {
		return CaseLog{}, fmt.Errorf("evidence: export case %s: %w", c, err)
	}
	return log, nil
}

// Verify checks case c's log as stored: everything [VerifyLog] checks, and
// that the store's tree hashes match the tree rebuilt from the records (so
// the proofs it serves are sound).
func (l *Ledger) Verify(ctx context.Context, c CaseID) (*Report, error) {
	log, err := l.Export(ctx, c)
	if err != nil {
		return nil, err
	}
	rep, rebuilt := verifyLog(log, l.vkey)
	if rebuilt == nil {
		return rep, nil
	}
	if err := l.compareHashes(ctx, c, rep, rebuilt); err != nil {
		return nil, err
	}
	return rep, nil
}

// compareHashes checks every tree hash the store holds for the records
// checked against the hashes rebuilt from them, since inclusion and
// consistency proofs are served from the stored ones.
func (l *Ledger) compareHashes(ctx context.Context, c CaseID, rep *Report, rebuilt []Hash) error {
	const batch = 4096
	indexes := make([]int64, 0, batch)
	for start := int64(0); start < int64(len(rebuilt)); start += batch {
		indexes = indexes[:0]
		for i := start; i < min(start+batch, int64(len(rebuilt))); i++ {
			indexes = append(indexes, i)
		}
		stored, err := l.store.ReadHashes(ctx, c, indexes)
		if err != nil {
			return fmt.Errorf("evidence: verify case %s: %w", c, err)
		}
		for j, h := range stored {
			i := indexes[j]
			if h != rebuilt[i] {
				level, n := tlog.SplitStoredHashIndex(i)
				rep.Problems = append(rep.Problems, &TamperError{Case: c, Record: -1, What: "tree",
					Expected: fmt.Sprintf("stored hash %d (level %d, node %d) %s", i, level, n, rebuilt[i]), Found: h.String()})
			}
		}
	}
	return nil
}

// sameItem compares items by their encoding, which keeps a time's zone
// offset: an item must come back from its store exactly as collected,
// zone included, since the zone is part of the record.
func sameItem(a, b Item) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

package evidence

import (
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// verifyLogReference is verifyLog as it was written first: one record at a
// time, decoding with DecodeRecord and validating with checkRecord. Tests
// check verifyLog gives the same reports.
func verifyLogReference(log CaseLog, vkey string) (*Report, []Hash) {
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
	for i, data := range log.Records {
		n := int64(i)
		d := &decodedRecord{leaf: tlog.RecordHash(data)}
		if d.r, d.err = DecodeRecord(data); d.err == nil {
			d.checkErr = checkRecord(d.r)
			if d.r.PrevHash != "" {
				h, err := tlog.ParseHash(d.r.PrevHash)
				d.prev, d.prevOK = h, err == nil
			}
		}
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

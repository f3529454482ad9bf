package evidence

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// verifyLogReference walks a log as verifyLog does, without its pipeline:
// one record at a time, decoding with DecodeRecord and validating with
// checkRecord, and checking each with the same recordChecker. Tests check
// that verifyLog's chunked, parallel walk gives the same reports; what the
// check itself finds is checked against independent oracles (see
// TestVerifyLogAgainstOracle) and the tamper tests.
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
	tree := (*hashList)(&hashes)
	chk := newRecordChecker(log.Case, log.Items, problem)
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
		chk.check(n, d, tree)
	}
	chk.finish(rep, log, vkey, reader, tree)
	return rep, hashes
}

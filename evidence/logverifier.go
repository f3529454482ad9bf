package evidence

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// LogVerifier checks a case's chain of custody as [VerifyLogWith] does,
// from records given one at a time in log order, so that the records need
// not all be in memory at once: a reader of a large log checks each record
// as it reads it and keeps none. It makes exactly the report
// [VerifyLogWith] makes of the same log: the same problems, in the same
// order, and the same counts.
//
// What it keeps is what the checks need: the rebuilt tree's hashes (64
// bytes a record), the latest record of each item, the snapshots of the
// items listed, and the problems listed. [VerifyLogWith] is quicker on a
// log already in memory, as it decodes several chunks of records at once.
//
// A LogVerifier is not safe for concurrent use.
type LogVerifier struct {
	log    CaseLog
	vkey   string
	rep    *Report
	hashes chunkList[Hash]
	reader tlog.HashReader
	chk    *recordChecker
	dec    *recordDecoder
	d      decodedRecord
	// failed reports that the tree could not be rebuilt, which ends the
	// checks; finished that Finish was called.
	failed, finished bool
}

// NewLogVerifier returns a LogVerifier of the log of case c, whose
// checkpoints have the given origin, listing items and signed by
// checkpoints, to be checked against the verifier key vkey: the
// [CaseLog] but for its records, which [LogVerifier.Add] takes one by one.
// A malformed key is reported in the report, as [VerifyLogWith] reports it.
func NewLogVerifier(c CaseID, origin, vkey string, items []Item, checkpoints []Checkpoint, opts VerifyOptions) *LogVerifier {
	v := &LogVerifier{
		log:  CaseLog{Case: c, Origin: origin, Items: items, Checkpoints: checkpoints},
		vkey: vkey,
		rep: &Report{Case: c, Items: len(items), Checkpoints: len(checkpoints),
			maxProblems: max(opts.MaxProblems, 0)},
		dec: newRecordDecoder(),
	}
	var scratch []Hash
	v.reader = tlog.HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		scratch = scratch[:0]
		for _, x := range indexes {
			if x < 0 || x >= v.hashes.len() {
				return nil, fmt.Errorf("evidence: tree hash %d of %d", x, v.hashes.len())
			}
			scratch = append(scratch, v.hashes.at(x))
		}
		return scratch, nil
	})
	rep := v.rep
	v.chk = newRecordChecker(c, items, func(item ItemID, index int64, what, expected, found string) {
		if rep.full() {
			rep.Omitted++
			return
		}
		rep.Add(&TamperError{Case: c, Item: item, Record: index, What: what, Expected: expected, Found: found})
	})
	return v
}

// Add checks the next record of the log, encoded as stored. It keeps
// nothing of record, which the caller may reuse once Add returns. Records
// added after [LogVerifier.Finish] are ignored.
func (v *LogVerifier) Add(record []byte) {
	if v.finished {
		return
	}
	n := v.rep.Size
	v.rep.Size++
	if v.failed {
		return
	}
	d := &v.d
	d.decodeOne(v.dec, record)
	v.dec.data = nil
	stored, err := tlog.StoredHashesForRecordHash(n, d.leaf, v.reader)
	if err != nil {
		v.rep.Add(fmt.Errorf("evidence: rebuild tree at record %d: %w", n, err))
		v.failed = true
		return
	}
	for _, h := range stored {
		v.hashes.push(h)
	}
	v.chk.check(n, d, &v.hashes)
}

// Size returns how many records were added.
func (v *LogVerifier) Size() int64 { return v.rep.Size }

// Finish makes the checks of the whole log, once every record was added:
// its root, its items, its checkpoints. It returns the report, the same
// each time it is called.
func (v *LogVerifier) Finish() *Report {
	if v.finished {
		return v.rep
	}
	v.finished = true
	if !v.failed {
		v.chk.finish(v.rep, v.log, v.vkey, v.reader, &v.hashes)
	}
	v.d = decodedRecord{}
	return v.rep
}

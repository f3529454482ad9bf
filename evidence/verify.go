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

// DefaultMaxProblems is how many problems a [Report] lists unless
// [VerifyOptions.MaxProblems] says otherwise. A log altered throughout
// has a problem in every record, and listing each would take memory in
// proportion to the log; the first thousand say what is wrong, and
// [Report.Omitted] counts the rest.
const DefaultMaxProblems = 1000

// Report is the outcome of checking a case's chain of custody.
type Report struct {
	Case CaseID
	// Size and Root are the size and Merkle root of the log as checked.
	Size int64
	Root Hash
	// Items and Checkpoints count what was checked.
	Items, Checkpoints int
	// Problems lists the problems found, in the order found, each a
	// [*TamperError] or an error explaining why a check could not be
	// made: all of them, or the first [VerifyOptions.MaxProblems]
	// ([DefaultMaxProblems] by default) when there are more.
	Problems []error
	// Omitted counts the problems found beyond those Problems lists.
	Omitted int
	// maxProblems bounds Problems; zero means DefaultMaxProblems.
	maxProblems int
	// signed holds, for each checkpoint checked, what its signature
	// shows, without its note; signedOK whether the signature is sound.
	signed   []Checkpoint
	signedOK []bool
}

// SignedCheckpoint returns what the signature of checkpoint i of the log
// checked shows, its origin, size and root (without its note), and
// whether that signature is sound: what verification found of it, so that
// a caller checking more of the checkpoints need not check their
// signatures again. It returns false for an index out of range.
func (r *Report) SignedCheckpoint(i int) (Checkpoint, bool) {
	if i < 0 || i >= len(r.signedOK) || !r.signedOK[i] {
		return Checkpoint{}, false
	}
	return r.signed[i], true
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.Omitted == 0 }

// ProblemCount returns how many problems were found: those Problems lists
// and those it leaves out.
func (r *Report) ProblemCount() int { return len(r.Problems) + r.Omitted }

// Add adds a problem to the report: to Problems while it lists fewer than
// its limit, and to the count of Omitted problems after that.
func (r *Report) Add(problem error) {
	if r.full() {
		r.Omitted++
		return
	}
	r.Problems = append(r.Problems, problem)
}

// full reports whether Problems holds as many problems as it may.
func (r *Report) full() bool {
	limit := r.maxProblems
	if limit <= 0 {
		limit = DefaultMaxProblems
	}
	return len(r.Problems) >= limit
}

// Err returns nil if no problem was found, or all problems listed joined,
// with a last error counting those omitted; the result matches
// [ErrTampered] if any problem listed is a tampering.
func (r *Report) Err() error {
	if r.Omitted == 0 {
		return errors.Join(r.Problems...)
	}
	return errors.Join(append(r.Problems[:len(r.Problems):len(r.Problems)],
		fmt.Errorf("evidence: %d more %s not listed", r.Omitted, plural(r.Omitted, "problem")))...)
}

// plural returns word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// VerifyOptions tunes [VerifyLogWith]. The zero value is what
// [VerifyLog] uses.
type VerifyOptions struct {
	// MaxProblems bounds how many problems the report lists; those
	// beyond it are counted in [Report.Omitted]. Zero means
	// [DefaultMaxProblems]; it must not be negative.
	MaxProblems int
}

// VerifyLog checks a case's chain of custody offline, touching no store and
// no network: it decodes every record and checks it is canonical and in its
// place, rebuilds the Merkle tree, follows every item's links, compares each
// item with the copy in its collected record, and checks every checkpoint's
// signature against vkey and its root against the rebuilt tree. It finds
// every problem, not only the first. When a record's link to the previous
// record of its item does not hold that record's leaf hash, and a signed
// checkpoint shows the link holds the hash that record had when signed,
// it also reports the record linked to as changed, so the problem names
// the record that was altered, not only the record after it. Blob contents are checked separately
// (see [Locker.Verify]). The report lists the first [DefaultMaxProblems]
// problems and counts the rest; see [VerifyLogWith] to list more.
//
// The key is parsed once, whatever the number of checkpoints; the memory
// VerifyLog takes beyond the log given is about 64 bytes a record for the
// rebuilt tree, a few dozen for each item, and a bounded amount for the
// problems.
func VerifyLog(log CaseLog, vkey string) *Report {
	return VerifyLogWith(log, vkey, VerifyOptions{})
}

// VerifyLogWith is [VerifyLog] with options: how many problems the report
// lists. A negative MaxProblems counts as zero: the default.
func VerifyLogWith(log CaseLog, vkey string, opts VerifyOptions) *Report {
	rep, _ := verifyLog(log, vkey, max(opts.MaxProblems, 0))
	return rep
}

// verifyLog is VerifyLog, listing at most maxProblems problems (zero
// for the default), also returning the tree hashes it rebuilt, in
// stored-hash order.
func verifyLog(log CaseLog, vkey string, maxProblems int) (*Report, []Hash) {
	rep := &Report{Case: log.Case, Size: int64(len(log.Records)), Items: len(log.Items), Checkpoints: len(log.Checkpoints),
		maxProblems: maxProblems}
	problem := func(item ItemID, index int64, what, expected, found string) {
		if rep.full() {
			rep.Omitted++ // not even built: a hostile log has a problem a record
			return
		}
		rep.Add(&TamperError{Case: log.Case, Item: item, Record: index, What: what, Expected: expected, Found: found})
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
	chunks := newChunkDecoder(log.Records)
	defer chunks.wait()
	for i := range log.Records {
		if i%decodeChunk == 0 {
			// The chunk's tree hashes that need no earlier chunk.
			hashes = append(hashes, chunks.next().hashes...)
		}
		n := int64(i)
		c := chunks.current()
		d := &c.recs[i%decodeChunk]
		if i%decodeChunk == c.errAt {
			rep.Add(fmt.Errorf("evidence: rebuild tree at record %d: %w", n, c.err))
			return rep, nil
		}
		if i%decodeChunk == decodeChunk-1 {
			stored, err := tlog.StoredHashesForRecordHash(n, d.leaf, reader)
			if err != nil {
				rep.Add(fmt.Errorf("evidence: rebuild tree at record %d: %w", n, err))
				return rep, nil
			}
			hashes = append(hashes, stored...)
		}
		chk.check(n, d, tree)
	}
	chk.finish(rep, log, vkey, reader, tree)
	return rep, hashes
}

// recordChecker checks the records of one log in order, each against the
// records before it, and then what the whole log must hold. It is the one
// check of a log's records, whatever walks them.
type recordChecker struct {
	caseID  CaseID
	problem func(item ItemID, index int64, what, expected, found string)
	// last holds the latest record of each item so far.
	last map[ItemID]int64
	// listed holds the items the log lists. Only their snapshots are
	// kept, to compare with them: a log of a million collected records
	// of items it does not list must not hold a million items.
	listed         map[ItemID]bool
	snapshots      map[ItemID]*Item
	collectedAt    map[ItemID]int64
	collectedOrder []ItemID
	// broken holds the links that name another leaf hash than their
	// record's.
	broken []brokenLink
}

func newRecordChecker(c CaseID, items []Item, problem func(item ItemID, index int64, what, expected, found string)) *recordChecker {
	listed := make(map[ItemID]bool, len(items))
	for _, it := range items {
		listed[it.ID] = true
	}
	return &recordChecker{caseID: c, problem: problem, last: make(map[ItemID]int64), listed: listed,
		snapshots: make(map[ItemID]*Item), collectedAt: make(map[ItemID]int64)}
}

// treeHashes holds a tree's hashes, in stored-hash order.
type treeHashes interface {
	// at returns stored hash i, which must be held.
	at(i int64) Hash
}

// hashList is a tree's hashes in one slice.
type hashList []Hash

func (h *hashList) at(i int64) Hash { return (*h)[i] }

// check checks record n, decoded as d: its index and case, its link to its
// item's previous record (hashes holds the tree hashes up to at least that
// record), that an item starts with its collection and is collected once,
// and that the record is valid.
func (k *recordChecker) check(n int64, d *decodedRecord, hashes treeHashes) {
	problem := k.problem
	r, err := d.r, d.err
	if err != nil {
		problem("", n, "record", "a canonical record", err.Error())
		return
	}
	if r.Index != n {
		problem(r.Item, n, "record", "index "+strconv.FormatInt(n, 10), "index "+strconv.FormatInt(r.Index, 10))
	}
	if r.Case != k.caseID {
		problem(r.Item, n, "record", "case "+string(k.caseID), "case "+string(r.Case))
	}
	want, seen := k.last[r.Item]
	if !seen {
		want = -1
	}
	if r.Prev != want {
		problem(r.Item, n, "item link", "previous record "+strconv.FormatInt(want, 10), "previous record "+strconv.FormatInt(r.Prev, 10))
	} else if want >= 0 {
		if ph := hashes.at(tlog.StoredHashIndex(0, want)); !d.prevOK || d.prev != ph {
			problem(r.Item, n, "item link", "previous record hash "+ph.String(), "previous record hash "+r.PrevHash)
			if d.prevOK {
				k.broken = append(k.broken, brokenLink{item: r.Item, from: n, to: want, linked: d.prev})
			}
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
	if _, done := k.collectedAt[r.Item]; r.Snapshot != nil && !done {
		if k.listed[r.Item] {
			k.snapshots[r.Item] = r.Snapshot
		}
		k.collectedAt[r.Item] = n
		k.collectedOrder = append(k.collectedOrder, r.Item)
	}
	k.last[r.Item] = n
}

// finish checks what the whole log must hold, once every record was
// checked: its root, that its items are the items its records collected,
// its checkpoints, and which record a broken link shows was changed.
func (k *recordChecker) finish(rep *Report, log CaseLog, vkey string, reader tlog.HashReader, hashes treeHashes) {
	problem := k.problem
	if root, err := tlog.TreeHash(rep.Size, reader); err == nil {
		rep.Root = root
	}
	for _, it := range log.Items {
		snap := k.snapshots[it.ID]
		switch {
		case snap == nil:
			problem(it.ID, -1, "item", "a collected record", "none")
		case !sameItem(it, *snap):
			problem(it.ID, k.collectedAt[it.ID], "item", "the item as collected", "a changed description")
		}
	}
	for _, id := range k.collectedOrder {
		if !k.listed[id] {
			problem(id, k.collectedAt[id], "item", "the item its collected record describes", "no such item")
		}
	}
	var signed []Checkpoint
	if len(log.Checkpoints) > 0 {
		// The key is parsed once for every checkpoint.
		cv, err := NewCheckpointVerifier(vkey)
		if err != nil {
			rep.Add(err)
		}
		rep.signed, rep.signedOK = make([]Checkpoint, len(log.Checkpoints)), make([]bool, len(log.Checkpoints))
		for i, cp := range log.Checkpoints {
			if cv == nil {
				break
			}
			opened, sound, ok := checkCheckpoint(rep, log, cp, cv, reader)
			if sound {
				rep.signed[i] = Checkpoint{Origin: opened.Origin, Size: opened.Size, Root: opened.Root}
				rep.signedOK[i] = true
			}
			if ok {
				signed = append(signed, opened)
			}
		}
	}
	for _, bl := range k.broken {
		if te := changedRecord(log.Case, bl, reader, hashes, signed); te != nil {
			rep.Add(te)
		}
	}
}

// brokenLink is a record whose link to the previous record of its item
// names another leaf hash than that record's.
type brokenLink struct {
	item ItemID
	// from links to record to with the leaf hash linked.
	from, to int64
	linked   Hash
}

// changedRecord names the record a broken link points at as the one
// changed, when that can be known: when a signed checkpoint signs the tree
// in which that record has the leaf hash the link holds (its inclusion
// proof from the rebuilt tree, which does not depend on the leaf itself,
// leads from that hash to the signed root). The link is then the
// original, and the record it points at was changed after both were
// signed. It returns nil if no checkpoint says so.
func changedRecord(c CaseID, bl brokenLink, tree tlog.HashReader, hashes treeHashes, signed []Checkpoint) *TamperError {
	for _, cp := range signed {
		if cp.Size <= bl.to {
			continue
		}
		proof, err := tlog.ProveRecord(cp.Size, bl.to, tree)
		if err != nil || tlog.CheckRecord(proof, cp.Size, cp.Root, bl.to, bl.linked) != nil {
			continue
		}
		return &TamperError{Case: c, Item: bl.item, Record: bl.to, What: "record",
			Expected: fmt.Sprintf("leaf hash %s, as record %d links to it and the checkpoint of size %d signs it", bl.linked, bl.from, cp.Size),
			Found:    "leaf hash " + hashes.at(tlog.StoredHashIndex(0, bl.to)).String()}
	}
	return nil
}

// decodeChunk is how many records verifyLog decodes at a time. It is a
// power of two, so that a chunk's records, but for its last, complete only
// subtrees of the chunk's own records.
const decodeChunk = 1 << 12

// logChunk is one chunk of a log, decoded.
type logChunk struct {
	recs []decodedRecord
	// hashes are the stored tree hashes of the chunk's records, in
	// order; for a full chunk they leave out its last record's, which
	// need earlier chunks' hashes.
	hashes []Hash
	// err is the error rebuilding the hashes of record errAt of the
	// chunk; errAt is -1 if there was none.
	err   error
	errAt int
	dec   *recordDecoder
	wg    sync.WaitGroup
}

// fill decodes chunk k of records into c and computes its own tree
// hashes.
func (c *logChunk) fill(records [][]byte, k int) {
	lo := k * decodeChunk
	hi := min(lo+decodeChunk, len(records))
	if c.recs == nil {
		c.recs = make([]decodedRecord, decodeChunk)
		c.dec = newRecordDecoder()
	}
	c.hashes, c.err, c.errAt = c.hashes[:0], nil, -1
	base := tlog.StoredHashIndex(0, int64(lo))
	var scratch []Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]Hash, error) {
		scratch = scratch[:0]
		for _, x := range indexes {
			if x < base || x-base >= int64(len(c.hashes)) {
				return nil, fmt.Errorf("evidence: hash %d outside chunk %d", x, k)
			}
			scratch = append(scratch, c.hashes[x-base])
		}
		return scratch, nil
	})
	for j := range hi - lo {
		d := &c.recs[j]
		d.decodeOne(c.dec, records[lo+j])
		if j == decodeChunk-1 {
			break
		}
		stored, err := tlog.StoredHashesForRecordHash(int64(lo+j), d.leaf, reader)
		if err != nil {
			c.err, c.errAt = err, j
			return
		}
		c.hashes = append(c.hashes, stored...)
	}
}

// chunkDecoder decodes a log's chunks in order, several ahead of the one
// in use, each by its own goroutine.
type chunkDecoder struct {
	records [][]byte
	slots   []logChunk
	k       int // the chunk in use, or -1
}

func newChunkDecoder(records [][]byte) *chunkDecoder {
	n := (len(records) + decodeChunk - 1) / decodeChunk
	cd := &chunkDecoder{records: records, slots: make([]logChunk, min(n, runtime.GOMAXPROCS(0)+1)), k: -1}
	for k := range cd.slots {
		cd.start(k)
	}
	return cd
}

func (cd *chunkDecoder) start(k int) {
	c := &cd.slots[k%len(cd.slots)]
	c.wg.Go(func() { c.fill(cd.records, k) })
}

// next releases the chunk in use and returns the next one, once decoded.
func (cd *chunkDecoder) next() *logChunk {
	if cd.k >= 0 && (cd.k+len(cd.slots))*decodeChunk < len(cd.records) {
		cd.start(cd.k + len(cd.slots))
	}
	cd.k++
	c := cd.current()
	c.wg.Wait()
	return c
}

// current returns the chunk in use.
func (cd *chunkDecoder) current() *logChunk { return &cd.slots[cd.k%len(cd.slots)] }

// wait waits for every goroutine started.
func (cd *chunkDecoder) wait() {
	for i := range cd.slots {
		cd.slots[i].wg.Wait()
	}
}

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

// decodeOne fills d from one encoded record, decoding it with dec.
func (d *decodedRecord) decodeOne(dec *recordDecoder, data []byte) {
	d.leaf, d.err, d.checkErr, d.prev, d.prevOK = tlog.RecordHash(data), nil, nil, Hash{}, false
	if !dec.decode(data, &d.r) {
		// Not canonical: let the reference decoder say why.
		if d.r, d.err = DecodeRecord(data); d.err != nil {
			return
		}
		d.checkErr = checkRecord(d.r)
	} else {
		d.checkErr = dec.validate(&d.r, data)
	}
	if d.r.PrevHash != "" {
		d.prev, d.prevOK = parseHash(d.r.PrevHash)
	}
}

// checkCheckpoint checks one checkpoint against the rebuilt tree. It
// returns the checkpoint as signed, whether its signature is sound, and
// whether its origin is the log's and its size within the log too,
// whatever its root.
func checkCheckpoint(rep *Report, log CaseLog, cp Checkpoint, cv *CheckpointVerifier, tree tlog.HashReader) (opened Checkpoint, sound, ok bool) {
	opened, err := cv.Open(cp.Note)
	if err != nil {
		var te *TamperError
		if errors.As(err, &te) {
			te.Case = log.Case
		}
		rep.Add(err)
		return Checkpoint{}, false, false
	}
	bad := func(expected, found string) {
		rep.Add(&TamperError{Case: log.Case, Record: -1, What: "checkpoint", Expected: expected, Found: found})
	}
	if opened.Origin != log.Origin {
		bad("origin "+log.Origin, "origin "+opened.Origin)
		return opened, true, false
	}
	if opened.Size != cp.Size || opened.Root != cp.Root {
		bad("the signed size and root", "a stored copy that differs")
	}
	if opened.Size > rep.Size {
		bad(fmt.Sprintf("at least %d records", opened.Size), fmt.Sprintf("%d records", rep.Size))
		return opened, true, false
	}
	root, err := tlog.TreeHash(opened.Size, tree)
	if err != nil {
		rep.Add(fmt.Errorf("evidence: tree hash at %d: %w", opened.Size, err))
		return opened, true, false
	}
	if root != opened.Root {
		bad(fmt.Sprintf("root %s at size %d", opened.Root, opened.Size), "root "+root.String())
	}
	return opened, true, true
}

// Export reads everything about case c needed by [VerifyLog], as one
// consistent snapshot of the log at one size, however fast others append
// to it meanwhile: it reads the checkpoints first, then the log's size and
// the records up to that size, then the items. Every checkpoint was
// signed for a size the log had reached when it was stored, so none read
// first can be of a longer log than the size read after it, unless the
// store lost records. Items collected by records appended after that size
// are left out with their records; any other item is kept, for
// [VerifyLog] to report if no record collected it. Nothing is trimmed
// that could hide a problem, and nothing appended meanwhile shows as one.
func (l *Ledger) Export(ctx context.Context, c CaseID) (CaseLog, error) {
	fail := func(err error) (CaseLog, error) {
		return CaseLog{}, fmt.Errorf("evidence: export case %s: %w", c, err)
	}
	log := CaseLog{Case: c, Origin: l.Origin(c)}
	var err error
	if log.Checkpoints, err = l.store.Checkpoints(ctx, c); err != nil {
		return fail(err)
	}
	n, err := l.store.Size(ctx, c)
	if err != nil {
		return fail(err)
	}
	if log.Records, err = l.store.Records(ctx, c, 0, n); err != nil {
		return fail(err)
	}
	if log.Items, err = l.store.Items(ctx, c); err != nil {
		return fail(err)
	}
	later, err := collectedSince(ctx, l.store, c, n)
	if err != nil {
		return fail(err)
	}
	if len(later) > 0 {
		items := log.Items[:0]
		for _, it := range log.Items {
			if !later[it.ID] {
				items = append(items, it)
			}
		}
		log.Items = items
	}
	return log, nil
}

// collectedSince returns the items that records of case c from index n on
// collect, as store holds them now: the items an export of the log at size
// n, which read the store's items after its records, leaves out. A record
// that does not decode collects nothing.
func collectedSince(ctx context.Context, store LedgerStore, c CaseID, n int64) (map[ItemID]bool, error) {
	m, err := store.Size(ctx, c)
	if err != nil {
		return nil, err
	}
	later := make(map[ItemID]bool)
	const batch = 1024
	for start := n; start < m; start += batch {
		raw, err := store.Records(ctx, c, start, min(start+batch, m))
		if err != nil {
			return nil, err
		}
		for _, data := range raw {
			if r, err := DecodeRecord(data); err == nil && r.Action == ActionCollected {
				later[r.Item] = true
			}
		}
	}
	return later, nil
}

// Verify checks case c's log as stored: everything [VerifyLog] checks, and
// that the store's tree hashes match the tree rebuilt from the records (so
// the proofs it serves are sound).
//
// With a witness ([LedgerConfig.Witness]), it also checks the log against
// the latest checkpoint witnessed: a log with fewer records than it, or
// whose tree at its size has another root, was rolled back, and is
// reported as a [*TamperError] whose What is "rollback". A log found sound
// and longer than the witnessed checkpoint is then witnessed, so that
// records whose witnessing failed are covered from now on; a failure to
// read or update the witness is reported as a problem.
func (l *Ledger) Verify(ctx context.Context, c CaseID) (*Report, error) {
	log, err := l.Export(ctx, c)
	if err != nil {
		return nil, err
	}
	rep, rebuilt := verifyLog(log, l.vkey, 0)
	if rebuilt != nil {
		if err := l.compareHashes(ctx, c, rep, rebuilt); err != nil {
			return nil, err
		}
	}
	if l.witness != nil {
		l.checkWitnessed(ctx, c, rep, rebuilt)
	}
	return rep, nil
}

// ExportVerified exports case c ([Ledger.Export]) and checks that export
// as [Ledger.Verify] checks the stored log, so that the log and its
// verification describe the same records even while others append: what
// a report on the case shows. It fails with an error matching
// [ErrNotFound] if the case has no custody record.
func (l *Ledger) ExportVerified(ctx context.Context, c CaseID) (CaseLog, *Report, error) {
	log, err := l.Export(ctx, c)
	if err != nil {
		return CaseLog{}, nil, err
	}
	if len(log.Records) == 0 {
		return CaseLog{}, nil, fmt.Errorf("evidence: export case %s: no custody record: %w", c, ErrNotFound)
	}
	rep, rebuilt := verifyLog(log, l.vkey, 0)
	if rebuilt != nil {
		if err := l.compareHashes(ctx, c, rep, rebuilt); err != nil {
			return CaseLog{}, nil, err
		}
	}
	if l.witness != nil {
		l.checkWitnessed(ctx, c, rep, rebuilt)
	}
	return log, rep, nil
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
				// A leaf hash stored at append is the record's as it
				// was then: the record at that index changed since.
				record := int64(-1)
				if level == 0 {
					record = n
				}
				rep.Add(&TamperError{Case: c, Record: record, What: "tree",
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

package bundle

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
)

// Trust is what the verifier of a bundle trusts, obtained out of
// band: not from the bundle, since whoever alters a bundle can sign it
// again with a key of their own and put that key in the manifest.
//
// The zero value trusts the key the bundle carries. The bundle is then only
// shown consistent with itself and signed by whoever holds that key, which
// could be anyone; the [Report] says so with KeyTrusted false.
type Trust struct {
	// VerifierKey is the ledger's public key. Every checkpoint must be
	// signed by it, and the bundle must carry it.
	VerifierKey string
	// Fingerprint is the [evidence.KeyFingerprint] of the ledger's public key, a
	// shorter value to compare by eye or read over the phone: the key
	// the bundle carries must have it. Upper-case hex is accepted.
	Fingerprint string
	// Checkpoints are signed checkpoint notes of the case's log that the
	// verifier kept from earlier. Each must be signed by the trusted key
	// and sign a prefix of the bundle's log, which shows that the log was
	// not rewritten since, even by the key's holder.
	Checkpoints [][]byte
}

// Validate returns an [*evidence.InvalidError] if the trust is malformed: a key
// that is not a verifier key, a fingerprint that is not 64 hex digits, or
// both given and not matching. [Bundle.Verify] and [Import] refuse
// such trust.
func (t Trust) Validate() error {
	_, err := t.validate()
	return err
}

// validate checks the trust is well formed, and returns it with the
// fingerprint in lower case.
func (t Trust) validate() (Trust, error) {
	if t.VerifierKey != "" {
		if _, err := note.NewVerifier(t.VerifierKey); err != nil {
			return t, invalid("trusted verifier key", err.Error())
		}
	}
	if t.Fingerprint != "" {
		t.Fingerprint = strings.ToLower(t.Fingerprint)
		if !isHex(t.Fingerprint, sha256.Size) {
			return t, invalid("trusted key fingerprint", "want 64 hex digits")
		}
		if t.VerifierKey != "" && evidence.KeyFingerprint(t.VerifierKey) != t.Fingerprint {
			return t, invalid("trusted key fingerprint", "not the fingerprint of the trusted verifier key")
		}
	}
	return t, nil
}

// Report is the outcome of verifying a custody bundle: the
// [evidence.Report] on its custody log, with what is particular to a bundle.
type Report struct {
	evidence.Report
	// Origin is the log's checkpoint origin.
	Origin string
	// VerifierKey is the key the checkpoints were checked with, and
	// KeyFingerprint its fingerprint.
	VerifierKey, KeyFingerprint string
	// KeyTrusted reports whether the key was compared with a key or a
	// fingerprint the caller obtained out of band. If false, the
	// bundle's own key was trusted.
	KeyTrusted bool
	// TrustedCheckpoints counts the caller's own checkpoints checked
	// against the log; Report.Checkpoints counts the bundle's.
	TrustedCheckpoints int
	// Signed is how many records the bundle's latest checkpoint covers.
	Signed int64
	// BlobsIncluded reports whether the bundle holds the items' content;
	// BlobsChecked counts the items whose content was found and checked.
	BlobsIncluded bool
	BlobsChecked  int
}

// Verdict returns a one-line verdict: "VERIFIED: " and what was verified,
// or "FAILED: " and the number of problems, which Problems lists (the
// first [Limits.MaxProblems] of them, and how many more there are).
func (r *Report) Verdict() string {
	if !r.OK() {
		n := r.ProblemCount()
		if r.Omitted > 0 {
			return fmt.Sprintf("FAILED: %d %s, the first %d listed", n, bundlePlural(n, "problem"), len(r.Problems))
		}
		return fmt.Sprintf("FAILED: %d %s", n, bundlePlural(n, "problem"))
	}
	content := "content not included"
	if r.BlobsIncluded {
		content = fmt.Sprintf("content of %d %s checked", r.BlobsChecked, bundlePlural(r.BlobsChecked, "item"))
	}
	key := "key given by the caller"
	if !r.KeyTrusted {
		key = "the bundle's own key trusted"
	}
	return fmt.Sprintf("VERIFIED: case %s, %d %s, %d %s, %d %s, %s, %s", r.Case,
		r.Size, bundlePlural(r.Size, "record"), r.Items, bundlePlural(r.Items, "item"),
		r.Checkpoints, bundlePlural(r.Checkpoints, "checkpoint"), content, key)
}

func bundlePlural[N int | int64](n N, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// CaseLog returns the custody log the bundle holds, for [evidence.VerifyLog].
func (b *Bundle) CaseLog() evidence.CaseLog {
	m := b.Manifest
	return evidence.CaseLog{Case: m.Case, Origin: m.Origin, Records: b.Records, Items: m.Items, Checkpoints: m.Checkpoints}
}

// Verify checks a bundle offline: everything [evidence.VerifyLog] checks, with the
// key trust names or, if trust is the zero value, the key the bundle
// carries; that the bundle carries the trusted key; that a checkpoint
// covers all its records; every consistency proof of the manifest; each of
// the caller's own checkpoints; and, if the bundle includes content, that
// each item's content is there, hashes to its digests and has its size.
// It lists the problems found in the report, each a [*evidence.TamperError] or an
// error saying why a check could not be made: all of them, or the first
// [Limits.MaxProblems] the bundle was read with and a count of the rest.
// It returns an error only if trust is malformed (see [Trust.Validate]),
// or if the bundle is one [VerifyStream] returned, whose records it did
// not keep.
//
// The key is parsed once, and each checkpoint's signature checked once,
// whatever the number of checkpoints.
func (b *Bundle) Verify(trust Trust) (*Report, error) {
	if b.streamed {
		return nil, invalid("verify bundle", "its records were checked as they were read and not kept: VerifyStream's report is its verification")
	}
	return b.verify(trust, evidence.VerifyLogWith)
}

// verify is Verify, checking the custody log with checkLog: the records
// of the log it is given, or those it reads.
func (b *Bundle) verify(trust Trust, checkLog func(evidence.CaseLog, string, evidence.VerifyOptions) *evidence.Report) (*Report, error) {
	trust, err := trust.validate()
	if err != nil {
		return nil, err
	}
	lim, err := b.limits.withDefaults()
	if err != nil {
		return nil, err
	}
	m := b.Manifest
	rep := &Report{Origin: m.Origin, VerifierKey: m.VerifierKey, KeyFingerprint: evidence.KeyFingerprint(m.VerifierKey),
		BlobsIncluded: m.BlobsIncluded, TrustedCheckpoints: len(trust.Checkpoints)}
	var keyProblems []error
	keyProblem := func(expected, found string) {
		keyProblems = append(keyProblems, &evidence.TamperError{Case: m.Case, Record: -1, What: "verifier key", Expected: expected, Found: found})
	}
	switch {
	case trust.VerifierKey != "":
		rep.KeyTrusted = true
		if m.VerifierKey != trust.VerifierKey {
			keyProblem("the trusted key "+trust.VerifierKey, "the key "+m.VerifierKey)
		}
		rep.VerifierKey, rep.KeyFingerprint = trust.VerifierKey, evidence.KeyFingerprint(trust.VerifierKey)
	case trust.Fingerprint != "":
		rep.KeyTrusted = true
		if rep.KeyFingerprint != trust.Fingerprint {
			keyProblem("a key of fingerprint "+trust.Fingerprint, "the key "+m.VerifierKey+" of fingerprint "+rep.KeyFingerprint)
		}
	}
	// The key is parsed once; a malformed one is VerifyLog's to report.
	cv, _ := evidence.NewCheckpointVerifier(rep.VerifierKey)
	log := b.CaseLog()
	log.Checkpoints = append(append([]evidence.Checkpoint(nil), m.Checkpoints...), bundleTrustedCheckpoints(m.Case, trust.Checkpoints, cv, &keyProblems)...)
	rep.Report = *checkLog(log, rep.VerifierKey, evidence.VerifyOptions{MaxProblems: lim.MaxProblems})
	rep.Checkpoints = len(m.Checkpoints)
	// The key's problems come first, within the limit.
	all := append(keyProblems, rep.Problems...)
	keep := min(len(all), lim.MaxProblems)
	rep.Problems, rep.Omitted = all[:keep:keep], rep.Omitted+len(all)-keep
	opened := b.signedCheckpoints(&rep.Report)
	b.checkSigned(rep, opened)
	b.checkProofs(rep, opened)
	b.checkBlobs(rep)
	return rep, nil
}

// size returns how many records the bundle holds.
func (b *Bundle) size() int64 {
	if b.streamed {
		return b.streamedRecords
	}
	return int64(len(b.Records))
}

// bundleTrustedCheckpoints opens the caller's checkpoint notes, so that VerifyLog
// checks them with the bundle's.
func bundleTrustedCheckpoints(c evidence.CaseID, notes [][]byte, cv *evidence.CheckpointVerifier, problems *[]error) []evidence.Checkpoint {
	if cv == nil {
		return nil // VerifyLog reports the key
	}
	var out []evidence.Checkpoint
	for _, n := range notes {
		cp, err := cv.Open(n)
		if err != nil {
			var te *evidence.TamperError
			if errors.As(err, &te) {
				te.Case, te.What = c, "trusted checkpoint"
			}
			*problems = append(*problems, err)
			continue
		}
		out = append(out, cp)
	}
	return out
}

// openedCheckpoint is a checkpoint of the manifest as its signature
// shows it, if signed (its signature is sound); ok if it is also of the
// bundle's log.
type openedCheckpoint struct {
	evidence.Checkpoint
	signed, ok bool
}

// signedCheckpoints returns each checkpoint of the manifest as VerifyLog
// found its signature, for checkSigned and checkProofs: its signature is
// checked once. Those whose signature or origin is not sound are not ok,
// as VerifyLog reported. The manifest's checkpoints come first in the log
// VerifyLog checked.
func (b *Bundle) signedCheckpoints(rep *evidence.Report) []openedCheckpoint {
	out := make([]openedCheckpoint, len(b.Manifest.Checkpoints))
	for i := range out {
		cp, signed := rep.SignedCheckpoint(i)
		out[i] = openedCheckpoint{Checkpoint: cp, signed: signed, ok: signed && cp.Origin == b.Manifest.Origin}
	}
	return out
}

// checkSigned checks a checkpoint signed by the key covers every record.
func (b *Bundle) checkSigned(rep *Report, opened []openedCheckpoint) {
	m := b.Manifest
	latest := -1
	for i, cp := range opened {
		if !cp.ok {
			continue // VerifyLog reported it
		}
		if latest < 0 || cp.Size >= rep.Signed {
			latest, rep.Signed = i, cp.Size
		}
	}
	n := b.size()
	switch {
	case latest < 0:
		rep.Add(&evidence.TamperError{Case: m.Case, Record: -1, What: "checkpoint",
			Expected: "a checkpoint signed by the key", Found: "none: the records are signed by no one"})
	case rep.Signed < n:
		rep.Add(&evidence.TamperError{Case: m.Case, Record: rep.Signed, What: "checkpoint",
			Expected: fmt.Sprintf("a checkpoint signing all %d records", n), Found: fmt.Sprintf("the latest signs %d; records from %d on are signed by no one", rep.Signed, rep.Signed)})
	}
}

// checkProofs checks each consistency proof of the manifest.
func (b *Bundle) checkProofs(rep *Report, opened []openedCheckpoint) {
	m := b.Manifest
	if len(m.ConsistencyProofs) != len(m.Checkpoints) {
		rep.Add(&evidence.TamperError{Case: m.Case, Record: -1, What: "consistency proof",
			Expected: fmt.Sprintf("%d proofs", len(m.Checkpoints)), Found: fmt.Sprintf("%d", len(m.ConsistencyProofs))})
		return
	}
	latest := bundleLatestCheckpoint(m.Checkpoints)
	if latest < 0 {
		return
	}
	// The latest as stored, checked against its signature: the proofs
	// were made to it.
	newer := opened[latest]
	if !newer.signed {
		return // VerifyLog reported it
	}
	for i, older := range opened {
		if !older.signed || older.Size < 1 {
			continue // VerifyLog reported it; an empty log proves nothing
		}
		err := evidence.CheckConsistency(m.ConsistencyProofs[i], newer.Size, newer.Root, older.Size, older.Root)
		var te *evidence.TamperError
		if errors.As(err, &te) {
			te.Case = m.Case
			te.What = fmt.Sprintf("consistency proof of checkpoint %d", i)
		}
		if err != nil {
			rep.Add(err)
		}
	}
}

// checkBlobs checks the content the bundle includes against the items.
func (b *Bundle) checkBlobs(rep *Report) {
	m := b.Manifest
	if !m.BlobsIncluded {
		return
	}
	problem := func(item evidence.ItemID, expected, found string) {
		rep.Add(&evidence.TamperError{Case: m.Case, Item: item, Record: -1, What: "blob", Expected: expected, Found: found})
	}
	owned := make(map[string]bool, len(m.Items))
	for _, it := range m.Items {
		owned[it.Digests.SHA256] = true
	}
	read := make(map[string]BlobCheck, len(b.Blobs))
	for _, bc := range b.Blobs {
		if !owned[bc.SHA256] {
			problem("", "only content of the case's items", "content "+bc.SHA256+" of no item")
			continue
		}
		read[bc.SHA256] = bc
	}
	for _, it := range m.Items {
		bc, ok := read[it.Digests.SHA256]
		switch {
		case !ok:
			problem(it.ID, "content "+it.Digests.SHA256, "no content in the bundle")
			continue
		case bc.Digests.SHA256 != bc.SHA256:
			problem(it.ID, "content "+bc.SHA256, "content "+bc.Digests.SHA256)
			continue
		}
		ok = true
		for _, d := range []struct{ name, want, got string }{
			{"SHA-1", it.Digests.SHA1, bc.Digests.SHA1},
			{"MD5", it.Digests.MD5, bc.Digests.MD5},
		} {
			if d.want != "" && d.want != d.got {
				problem(it.ID, d.name+" "+d.want, d.name+" "+d.got)
				ok = false
			}
		}
		if bc.Size != it.Size {
			problem(it.ID, fmt.Sprintf("%d bytes", it.Size), fmt.Sprintf("%d bytes", bc.Size))
			ok = false
		}
		if ok {
			rep.BlobsChecked++
		}
	}
}

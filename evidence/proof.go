package evidence

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// CheckInclusion checks an inclusion proof: that data is record index of a
// log of the given size and root. It returns an error matching
// [ErrTampered] if not.
func CheckInclusion(proof []Hash, size int64, root Hash, index int64, data []byte) error {
	if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(data)); err != nil {
		return &TamperError{Record: index, What: "inclusion proof", Expected: "record in tree " + root.String(), Found: err.Error()}
	}
	return nil
}

// CheckConsistency checks a consistency proof: that the log of newSize with
// newRoot extends the log of oldSize with oldRoot, so nothing recorded by
// oldSize was changed or removed. It returns an error matching
// [ErrTampered] if not.
func CheckConsistency(proof []Hash, newSize int64, newRoot Hash, oldSize int64, oldRoot Hash) error {
	if oldSize == 0 && len(proof) == 0 && newSize >= 0 {
		return nil // the empty log is a prefix of every log (RFC 9162, 2.1.4)
	}
	if err := tlog.CheckTree(proof, newSize, newRoot, oldSize, oldRoot); err != nil {
		return &TamperError{Record: -1, What: "consistency proof",
			Expected: fmt.Sprintf("size %d extending size %d (%s)", newSize, oldSize, oldRoot), Found: err.Error()}
	}
	return nil
}

package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a signed statement of a custody log's size and Merkle root,
// in the C2SP tlog-checkpoint format
// (https://github.com/C2SP/C2SP/blob/main/tlog-checkpoint.md) inside a C2SP
// signed note. Anyone holding the ledger's public key can check it offline,
// and a later checkpoint must be consistent with every earlier one.
type Checkpoint struct {
	// Origin names the log: the ledger's origin and the case ID.
	Origin string `json:"origin"`
	Size   int64  `json:"size"`
	Root   Hash   `json:"root"`
	// Note is the whole signed note, as signed.
	Note []byte `json:"note"`
}

// checkpointText formats the body of a checkpoint note.
func checkpointText(origin string, size int64, root Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, root)
}

// signCheckpoint makes a signed checkpoint.
func signCheckpoint(signer note.Signer, origin string, size int64, root Hash) (Checkpoint, error) {
	msg, err := note.Sign(&note.Note{Text: checkpointText(origin, size, root)}, signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("evidence: sign checkpoint: %w", err)
	}
	return Checkpoint{Origin: origin, Size: size, Root: root, Note: msg}, nil
}

// OpenCheckpoint checks a signed checkpoint note against the verifier key
// vkey and returns what it states. It fails with [ErrTampered] if the note
// is not signed by that key, or its signature or body is malformed.
func OpenCheckpoint(signed []byte, vkey string) (Checkpoint, error) {
	cv, err := NewCheckpointVerifier(vkey)
	if err != nil {
		return Checkpoint{}, err
	}
	return cv.Open(signed)
}

// CheckpointVerifier opens checkpoints signed by one key, which it parses
// once: what checks many checkpoints uses rather than [OpenCheckpoint],
// which parses the key each time. It is safe for concurrent use.
type CheckpointVerifier struct {
	v note.Verifier
}

// NewCheckpointVerifier parses vkey, a verifier key as [SigningKey.VerifierKey]
// returns, or returns an [*InvalidError] saying why it is not one.
func NewCheckpointVerifier(vkey string) (*CheckpointVerifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, invalid("verifier key", err.Error())
	}
	return &CheckpointVerifier{v: v}, nil
}

// Open checks a signed checkpoint note as [OpenCheckpoint] does, with the
// verifier's key.
func (cv *CheckpointVerifier) Open(signed []byte) (Checkpoint, error) {
	v := cv.v
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		found := "an invalid signature"
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			found = "no signature by that key"
		}
		return Checkpoint{}, &TamperError{What: "checkpoint signature", Record: -1,
			Expected: "a signature by " + v.Name(), Found: found}
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, &TamperError{What: "checkpoint", Record: -1, Expected: "origin, size and root lines", Found: "a malformed body"}
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, &TamperError{What: "checkpoint", Record: -1, Expected: "a tree size", Found: strconv.Quote(lines[1])}
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return Checkpoint{}, &TamperError{What: "checkpoint", Record: -1, Expected: "a root hash", Found: strconv.Quote(lines[2])}
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: root, Note: bytes.Clone(signed)}, nil
}

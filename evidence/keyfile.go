package evidence

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeyFileMode is the mode [SaveSigningKey] gives a key file, and the only
// permissions [LoadSigningKey] accepts: readable and writable by its owner
// alone.
const KeyFileMode fs.FileMode = 0o600

// maxKeyFile bounds what [LoadSigningKey] reads: a signing key is about a
// hundred bytes.
const maxKeyFile = 4 << 10

// KeyFileError says why a key file cannot be saved or loaded. It matches
// [ErrInvalid] when the file is there but unfit (permissions, content, not
// a regular file), and whatever Err matches (such as fs.ErrExist or
// fs.ErrNotExist) otherwise. Its text never shows the key.
type KeyFileError struct {
	// Path is the key file.
	Path string
	// Problem says what is wrong, for a file that is there but unfit;
	// empty otherwise.
	Problem string
	// Err is the underlying error, if any.
	Err error
}

func (e *KeyFileError) Error() string {
	msg := "evidence: key file " + e.Path
	if e.Problem != "" {
		msg += ": " + e.Problem
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is [ErrInvalid], for a file that is unfit.
func (e *KeyFileError) Is(target error) bool { return target == ErrInvalid && e.Problem != "" }

// Unwrap returns the underlying error.
func (e *KeyFileError) Unwrap() error { return e.Err }

// SaveSigningKey writes key to a new file at path, with mode [KeyFileMode],
// as one line of text (the signed-note form of the key). The file is
// written and synced under a temporary name in the same directory, then
// linked into place, so that path holds either nothing or the whole key,
// also after a crash. It never overwrites: if path exists it returns a
// [*KeyFileError] matching fs.ErrExist and leaves the file as it is. The
// directory must exist.
func SaveSigningKey(path string, key SigningKey) error {
	if _, _, err := key.keys(); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return &KeyFileError{Path: path, Err: err}
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString(key.Reveal() + "\n")
	if err == nil {
		err = f.Chmod(KeyFileMode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &KeyFileError{Path: path, Err: err}
	}
	// A hard link, unlike a rename, fails if path exists: two processes
	// saving a key at once never replace each other's.
	if err := os.Link(tmp, path); err != nil {
		if _, serr := os.Lstat(path); serr == nil {
			err = fs.ErrExist
		}
		return &KeyFileError{Path: path, Err: err}
	}
	if err := syncBlobDir(dir); err != nil {
		return &KeyFileError{Path: path, Err: err}
	}
	return nil
}

// LoadSigningKey reads the signing key [SaveSigningKey] wrote to path. It
// refuses, with a [*KeyFileError] matching [ErrInvalid], a file that is not
// a regular file, that others than its owner may read or write (on
// systems with Unix permissions), or that does not hold exactly one valid
// key (one line, a trailing newline allowed). A missing file gives an
// error matching fs.ErrNotExist.
func LoadSigningKey(path string) (SigningKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return SigningKey{}, &KeyFileError{Path: path, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return SigningKey{}, &KeyFileError{Path: path, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return SigningKey{}, &KeyFileError{Path: path, Problem: "not a regular file"}
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&^KeyFileMode != 0 {
		return SigningKey{}, &KeyFileError{Path: path, Problem: fmt.Sprintf("mode %04o lets others than its owner at the key; want %04o: run chmod 600 %s, and replace the key if others may have read it", perm, KeyFileMode, path)}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return SigningKey{}, &KeyFileError{Path: path, Err: err}
	}
	if len(b) > maxKeyFile {
		return SigningKey{}, &KeyFileError{Path: path, Problem: "too large to hold a signing key"}
	}
	text := strings.TrimSuffix(string(b), "\n")
	if strings.ContainsAny(text, "\r\n") {
		return SigningKey{}, &KeyFileError{Path: path, Problem: "want one line holding a signing key"}
	}
	key, err := ParseSigningKey(text)
	if err != nil {
		var ie *InvalidError
		problem := "not a signing key"
		if errors.As(err, &ie) {
			problem += ": " + ie.Reason
		}
		return SigningKey{}, &KeyFileError{Path: path, Problem: problem}
	}
	return key, nil
}

// VerifierKey returns the public key that checks what k signs, or an error
// matching [ErrInvalid] if k is not a valid signing key.
func (k SigningKey) VerifierKey() (string, error) {
	_, vkey, err := k.keys()
	return vkey, err
}

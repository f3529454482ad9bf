package evidence

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/mod/sumdb/note"
)

// SigningKey is an Ed25519 private key in the signed-note format
// ("PRIVATE+KEY+name+hash+data", see golang.org/x/mod/sumdb/note), used to
// sign custody log checkpoints. It prints as "[redacted]" so that it never
// reaches a log line or an error by accident, and refuses to be marshalled
// (JSON, XML, text or binary encodings, gob) with an error matching
// [ErrInvalid], so that a key is never saved as "[redacted]" and lost. Save
// and load it with [SaveSigningKey] and [LoadSigningKey], or convert it to
// a string explicitly to keep it in a secret store.
type SigningKey string

// String returns "[redacted]".
func (SigningKey) String() string { return "[redacted]" }

// GoString returns "[redacted]".
func (SigningKey) GoString() string { return "[redacted]" }

// errKeyMarshal is the error marshalling a signing key returns.
var errKeyMarshal = invalid("signing key", "a signing key is never marshalled: save it with SaveSigningKey, or store string(key) in a secret store")

// MarshalText returns an error matching [ErrInvalid]: a key inside a
// struct neither leaks through JSON, XML or another text encoding nor is
// silently replaced by "[redacted]".
func (SigningKey) MarshalText() ([]byte, error) { return nil, errKeyMarshal }

// MarshalJSON returns an error matching [ErrInvalid], as MarshalText does.
func (SigningKey) MarshalJSON() ([]byte, error) { return nil, errKeyMarshal }

// MarshalBinary returns an error matching [ErrInvalid], so that
// encoding/gob and binary encodings refuse a key too.
func (SigningKey) MarshalBinary() ([]byte, error) { return nil, errKeyMarshal }

// Format prints "[redacted]" whatever the verb, so that no format string,
// not even a mistaken %d or %x, prints the key.
func (SigningKey) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(`"[redacted]"`))
		return
	}
	_, _ = f.Write([]byte("[redacted]"))
}

// GenerateKey makes a new signing key named name (such as
// "custody.example.org") and returns it with its public verifier key, which
// auditors use to check checkpoints.
func GenerateKey(name string) (SigningKey, string, error) {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r == '+' || unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return "", "", invalid("key name", "must be non-empty, printable, without spaces or '+'")
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("evidence: generate key: %w", err)
	}
	return SigningKey(skey), vkey, nil
}

// keys parses a signing key into its signer and the matching verifier key.
func (k SigningKey) keys() (note.Signer, string, error) {
	signer, err := note.NewSigner(string(k))
	if err != nil {
		// The note package's error text does not contain the key.
		return nil, "", invalid("signing key", err.Error())
	}
	// PRIVATE+KEY+name+hash+base64(alg || seed)
	parts := strings.SplitN(string(k), "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return nil, "", invalid("signing key", "not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return nil, "", invalid("signing key", err.Error())
	}
	return signer, vkey, nil
}

// KeyFingerprint returns the SHA-256 of a verifier key's text, in hex: a
// short value an auditor can compare by eye or read over the phone.
func KeyFingerprint(vkey string) string {
	sum := sha256.Sum256([]byte(vkey))
	return hex.EncodeToString(sum[:])
}

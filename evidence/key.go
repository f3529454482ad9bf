package evidence

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"unicode"

	"golang.org/x/mod/sumdb/note"
)

// redacted is what a [SigningKey] prints as, whatever the format.
const redacted = "[redacted]"

// SigningKey is an Ed25519 private key that signs custody log checkpoints.
// Its text form is the signed-note format ("PRIVATE+KEY+name+hash+data",
// see golang.org/x/mod/sumdb/note).
//
// A SigningKey is opaque: it holds the key behind an unexported pointer,
// so that no formatting path prints it. It prints as "[redacted]" with
// every verb, also as a field of another struct, exported or not (fmt
// prints a pointer inside a struct as its address, never what it points
// to), through log/slog's handlers and inside errors. It refuses to be
// marshalled (JSON, XML, text or binary encodings, gob) with an error
// matching [ErrInvalid], so that a key is never saved as "[redacted]" and
// lost.
//
// Make one with [GenerateKey] or [ParseSigningKey]; save and load it with
// [SaveSigningKey] and [LoadSigningKey], or keep its text, from
// [SigningKey.Reveal], in a secret store. The zero SigningKey holds no
// key ([SigningKey.IsZero]); compare keys with [SigningKey.Equal], as two
// parses of one text are not ==.
type SigningKey struct {
	k *signingKey
}

// signingKey is the parsed key. The text of the key is only reachable
// through a function, so that even tools that dump memory through
// reflection and follow pointers (spew, pretty-printers) find nothing to
// print.
type signingKey struct {
	text   func() string
	signer note.Signer
	vkey   string
}

// ParseSigningKey parses a signing key from its text form, as
// [SigningKey.Reveal] returns it and [SaveSigningKey] writes it. Text that
// is not a valid Ed25519 signed-note key gives an error matching
// [ErrInvalid] that never shows the text.
func ParseSigningKey(text string) (SigningKey, error) {
	signer, err := note.NewSigner(text)
	if err != nil {
		// The note package's error text does not contain the key.
		return SigningKey{}, invalid("signing key", err.Error())
	}
	// PRIVATE+KEY+name+hash+base64(alg || seed)
	parts := strings.SplitN(text, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return SigningKey{}, invalid("signing key", "not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return SigningKey{}, invalid("signing key", err.Error())
	}
	return SigningKey{k: &signingKey{text: func() string { return text }, signer: signer, vkey: vkey}}, nil
}

// Reveal returns the key's text form, for keeping it in a secret store;
// [ParseSigningKey] reads it back. It is the only way to get the key out
// of a SigningKey: never log or print what it returns. The zero key
// reveals "".
func (k SigningKey) Reveal() string {
	if k.k == nil {
		return ""
	}
	return k.k.text()
}

// IsZero reports whether k holds no key.
func (k SigningKey) IsZero() bool { return k.k == nil }

// Equal reports whether k and other hold the same key, in constant time.
// Two zero keys are equal.
func (k SigningKey) Equal(other SigningKey) bool {
	if k.k == nil || other.k == nil {
		return k.k == nil && other.k == nil
	}
	return subtle.ConstantTimeCompare([]byte(k.k.text()), []byte(other.k.text())) == 1
}

// Name returns the key's name, as it appears in the signature lines of
// what it signs; "" for the zero key.
func (k SigningKey) Name() string {
	if k.k == nil {
		return ""
	}
	return k.k.signer.Name()
}

// String returns "[redacted]".
func (SigningKey) String() string { return redacted }

// GoString returns "[redacted]".
func (SigningKey) GoString() string { return redacted }

// LogValue returns "[redacted]", so that log/slog handlers print that
// rather than an error for a key.
func (SigningKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// errKeyMarshal is the error marshalling a signing key returns.
var errKeyMarshal = invalid("signing key", "a signing key is never marshalled: save it with SaveSigningKey, or keep key.Reveal() in a secret store")

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
		_, _ = f.Write([]byte(`"` + redacted + `"`))
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// GenerateKey makes a new signing key named name (such as
// "custody.example.org") and returns it with its public verifier key, which
// auditors use to check checkpoints.
func GenerateKey(name string) (SigningKey, string, error) {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r == '+' || unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return SigningKey{}, "", invalid("key name", "must be non-empty, printable, without spaces or '+'")
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return SigningKey{}, "", fmt.Errorf("evidence: generate key: %w", err)
	}
	key, err := ParseSigningKey(skey)
	if err != nil {
		return SigningKey{}, "", err
	}
	return key, vkey, nil
}

// keys returns the signer of a signing key and the matching verifier key,
// or an error matching [ErrInvalid] for the zero key.
func (k SigningKey) keys() (note.Signer, string, error) {
	if k.k == nil {
		return nil, "", invalid("signing key", "no key: make one with GenerateKey or ParseSigningKey")
	}
	return k.k.signer, k.k.vkey, nil
}

// KeyFingerprint returns the SHA-256 of a verifier key's text, in hex: a
// short value an auditor can compare by eye or read over the phone.
func KeyFingerprint(vkey string) string {
	sum := sha256.Sum256([]byte(vkey))
	return hex.EncodeToString(sum[:])
}

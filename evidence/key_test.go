package evidence_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
)

// requireNoSecret checks that out shows no part of the signing key's
// secret: neither the key nor any 8 characters of its base64 seed.
func requireNoSecret(t *testing.T, key evidence.SigningKey, out string) {
	t.Helper()
	require.NotContains(t, out, string(key))
	// A signed-note key is PRIVATE+KEY+<name>+<hash>+<base64 of the
	// algorithm byte and seed>; the name holds no '+', the base64 may.
	// Malformed keys are checked too: their last field stands for the
	// secret.
	fields := strings.SplitN(string(key), "+", 5)
	secret := fields[len(fields)-1]
	if f := strings.Fields(secret); len(f) > 0 {
		secret = f[len(f)-1]
	}
	encodings := []string{secret}
	if raw, err := base64.StdEncoding.DecodeString(secret); err == nil && len(raw) > 1 {
		seed := raw[1:]
		encodings = append(encodings, hex.EncodeToString(seed), base64.StdEncoding.EncodeToString(seed),
			base64.RawURLEncoding.EncodeToString(seed), string(seed))
	}
	for _, enc := range encodings {
		for i := 0; i+8 <= len(enc); i++ {
			require.NotContains(t, out, enc[i:i+8], "output shows part of the key's seed")
		}
	}
}

func TestSigningKeyRedacted(t *testing.T) {
	t.Parallel()
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	type holder struct {
		Name string
		Key  evidence.SigningKey
	}
	cfg := evidence.LedgerConfig{Key: key, Origin: "custody.example.org"}
	tests := []struct {
		name   string
		format string
		arg    any
		want   string // the whole output, if known
	}{
		{"%v", "%v", key, "[redacted]"},
		{"%s", "%s", key, "[redacted]"},
		{"%#v", "%#v", key, "[redacted]"},
		{"%+v", "%+v", key, "[redacted]"},
		{"%q", "%q", key, `"[redacted]"`},
		{"%x", "%x", key, ""},
		{"%10s", "%10s", key, "[redacted]"},
		{"Sprint", "", key, "[redacted]"},
		{"pointer", "%v", &key, ""},
		{"%v in a struct", "%v", holder{"k", key}, "{k [redacted]}"},
		{"%+v in a struct", "%+v", holder{"k", key}, "{Name:k Key:[redacted]}"},
		{"%#v in a struct", "%#v", holder{"k", key}, ""},
		{"%+v in a pointer to a struct", "%+v", &holder{"k", key}, "&{Name:k Key:[redacted]}"},
		{"%+v of a LedgerConfig", "%+v", cfg, ""},
		{"%#v of a LedgerConfig", "%#v", &cfg, ""},
		{"%v in a slice", "%v", []evidence.SigningKey{key, key}, "[[redacted] [redacted]]"},
		{"%v in a map", "%v", map[string]evidence.SigningKey{"k": key}, "map[k:[redacted]]"},
		{"wrapped in an error", "%v", fmt.Errorf("load %v: %w", key, evidence.ErrInvalid), ""},
		{"%d, a mistaken verb", "%d", key, ""},
		{"%t, a mistaken verb", "%t", key, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out string
			if tc.format == "" {
				out = fmt.Sprint(tc.arg)
			} else {
				out = fmt.Sprintf(tc.format, tc.arg)
			}
			requireNoSecret(t, key, out)
			if tc.want != "" {
				assert.Equal(t, tc.want, out)
			}
		})
	}

	t.Run("marshalling fails", func(t *testing.T) {
		t.Parallel()
		for _, v := range []any{key, holder{"k", key}, &cfg, map[string]evidence.SigningKey{"k": key}, []evidence.SigningKey{key}} {
			out, err := json.Marshal(v)
			require.ErrorIs(t, err, evidence.ErrInvalid, "json.Marshal(%T)", v)
			assert.Empty(t, out)
			requireNoSecret(t, key, err.Error())
			_, err = xml.Marshal(holder{"k", key})
			assert.ErrorIs(t, err, evidence.ErrInvalid, "xml")
			var buf bytes.Buffer
			err = gob.NewEncoder(&buf).Encode(v)
			require.Error(t, err, "gob.Encode(%T)", v)
			requireNoSecret(t, key, err.Error()+buf.String())
		}
	})

	t.Run("slog", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
			logger := slog.New(h)
			logger.Info("ledger", "key", key, "config", cfg, slog.Any("holder", holder{"k", key}))
			logger.Error("ledger failed", "err", fmt.Errorf("key %s: %w", key, evidence.ErrInvalid))
		}
		requireNoSecret(t, key, buf.String())
		assert.Contains(t, buf.String(), "[redacted]")
	})

	t.Run("explicit conversion", func(t *testing.T) {
		t.Parallel()
		assert.True(t, strings.HasPrefix(string(key), "PRIVATE+KEY+custody.example.org+"), "string(key) is the key, for storing it")
	})
}

func TestNewLedgerKeyErrorsHideKey(t *testing.T) {
	t.Parallel()
	key, vkey := custodyKey(t, "custody.example.org", 7)
	parts := strings.Split(string(key), "+") // PRIVATE KEY name hash data
	require.Len(t, parts, 5)
	seed, err := base64.StdEncoding.DecodeString(parts[4])
	require.NoError(t, err)
	with := func(i int, v string) evidence.SigningKey {
		p := append([]string(nil), parts...)
		p[i] = v
		return evidence.SigningKey(strings.Join(p, "+"))
	}
	tests := []struct {
		name string
		key  evidence.SigningKey
	}{
		{"another prefix", with(1, "KEX")},
		{"lower-case prefix", with(0, "private")},
		{"name with a space", with(2, "custody example")},
		{"empty name", with(2, "")},
		{"wrong key hash", with(3, "00000000")},
		{"key hash not hex", with(3, "zzzzzzzz")},
		{"key hash too short", with(3, parts[3][:6])},
		{"seed not base64", with(4, parts[4][:20]+"!"+parts[4][21:])},
		{"seed too short", with(4, base64.StdEncoding.EncodeToString(seed[:31]))},
		{"seed too long", with(4, base64.StdEncoding.EncodeToString(append(seed, 0)))},
		{"unknown algorithm", with(4, base64.StdEncoding.EncodeToString(append([]byte{2}, seed[1:]...)))},
		{"trailing text", key + "+extra"},
		{"surrounding space", " " + key + "\n"},
		{"no prefix", evidence.SigningKey(strings.Join(parts[2:], "+"))},
		{"verifier key", evidence.SigningKey(vkey)},
		{"seed alone", evidence.SigningKey(parts[4])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.NotEqual(t, key, tc.key)
			_, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: tc.key})
			require.ErrorIs(t, err, evidence.ErrInvalid)
			for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				requireNoSecret(t, key, out)
				requireNoSecret(t, tc.key, out)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	l, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
	require.NoError(t, err)
	assert.Equal(t, vkey, l.VerifierKey(), "the ledger derives the verifier key GenerateKey returned")
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	assert.Equal(t, "custody.example.org", v.Name())

	again, vkey2, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	assert.NotEqual(t, key, again, "every key is new")
	assert.NotEqual(t, vkey, vkey2)

	// Whatever name GenerateKey accepts, the key it makes must work.
	for _, name := range []string{"", "custody example", "custody+example", "custody\nexample"} {
		key, _, err := evidence.GenerateKey(name)
		if err != nil {
			require.ErrorIs(t, err, evidence.ErrInvalid, "GenerateKey(%q)", name)
			continue
		}
		_, err = evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key})
		assert.NoError(t, err, "NewLedger with the key GenerateKey(%q) made", name)
	}
}

func TestKeyFingerprint(t *testing.T) {
	t.Parallel()
	_, vkey := custodyKey(t, "custody.example.org", 1)
	_, other := custodyKey(t, "custody.example.org", 2)
	fp := evidence.KeyFingerprint(vkey)
	sum := sha256.Sum256([]byte(vkey))
	assert.Equal(t, hex.EncodeToString(sum[:]), fp, "the SHA-256 of the verifier key's text")
	assert.Equal(t, fp, evidence.KeyFingerprint(vkey), "the same every time")
	assert.Equal(t, custodyKeyFingerprint, fp, "the same in every version: auditors keep it")
	assert.NotEqual(t, fp, evidence.KeyFingerprint(other))
	assert.Regexp(t, `^[0-9a-f]{64}$`, fp)
}

// custodyKeyFingerprint is the fingerprint of the verifier key custodyKey
// makes from seed 1 with the name custody.example.org:
// custody.example.org+974f02b4+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c.
const custodyKeyFingerprint = "4cdce41735180a9532e99d9b3a0a1e5120060bad3493abd09bd381d1ae308208"

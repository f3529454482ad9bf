package evidence_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/incidentkit/incidentkit/evidence"
)

// requireNoSecret checks that out shows no part of a signing key's
// secret text: neither the text nor any 8 characters of its base64 seed.
func requireNoSecret(t *testing.T, text, out string) {
	t.Helper()
	require.NotContains(t, out, text)
	// A signed-note key is PRIVATE+KEY+<name>+<hash>+<base64 of the
	// algorithm byte and seed>; the name holds no '+', the base64 may.
	// Malformed keys are checked too: their last field stands for the
	// secret.
	fields := strings.SplitN(text, "+", 5)
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

// keyHolder holds a key in an exported field and in an unexported one:
// fmt calls the key's Format method for the first and cannot for the
// second, which it prints through reflection.
type keyHolder struct {
	Name   string
	Key    evidence.SigningKey
	hidden evidence.SigningKey
}

// unexportedKeyHolder holds a key in unexported fields only, as a program's
// own configuration would.
type unexportedKeyHolder struct {
	name string
	key  evidence.SigningKey
	cfg  evidence.LedgerConfig
	ptr  *evidence.SigningKey
}

func TestSigningKeyRedacted(t *testing.T) {
	t.Parallel()
	key, _, err := evidence.GenerateKey("custody.example.org")
	require.NoError(t, err)
	text := key.Reveal()
	type holder struct {
		Name string
		Key  evidence.SigningKey
	}
	cfg := evidence.LedgerConfig{Key: key, Origin: "custody.example.org"}
	both := keyHolder{Name: "k", Key: key, hidden: key}
	unexported := unexportedKeyHolder{name: "k", key: key, cfg: cfg, ptr: &key}
	anonymous := struct {
		k evidence.SigningKey
		m map[string]evidence.SigningKey
		s []evidence.SigningKey
		a any
	}{key, map[string]evidence.SigningKey{"k": key}, []evidence.SigningKey{key}, key}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%p", "%T", "%10s", "%-20v", "%.3s", "% x", "%#x", "%U", "%c", "%e", "%b", "%o", "%w", "%!"}
	args := []struct {
		name string
		arg  any
	}{
		{"key", key},
		{"pointer to the key", &key},
		{"reflect.Value of the key", reflect.ValueOf(key)},
		{"reflect.Value of a struct of unexported fields", reflect.ValueOf(unexported)},
		{"exported field", holder{"k", key}},
		{"exported and unexported fields", both},
		{"pointer to exported and unexported fields", &both},
		{"unexported fields", unexported},
		{"pointer to unexported fields", &unexported},
		{"anonymous struct of unexported fields", anonymous},
		{"LedgerConfig", cfg},
		{"pointer to a LedgerConfig", &cfg},
		{"slice", []evidence.SigningKey{key, key}},
		{"map", map[string]evidence.SigningKey{"k": key}},
		{"map key", map[evidence.SigningKey]int{key: 1}},
		{"error", fmt.Errorf("load %v: %w", key, evidence.ErrInvalid)},
		{"error of an unexported field", fmt.Errorf("load %+v: %w", unexported, evidence.ErrInvalid)},
		{"joined errors", errors.Join(fmt.Errorf("%v", both), fmt.Errorf("%#v", unexported))},
	}
	for _, a := range args {
		for _, verb := range verbs {
			t.Run(a.name+"/"+verb, func(t *testing.T) {
				t.Parallel()
				requireNoSecret(t, text, fmt.Sprintf(verb, a.arg))
			})
		}
		t.Run(a.name+"/Sprint", func(t *testing.T) {
			t.Parallel()
			requireNoSecret(t, text, fmt.Sprint(a.arg)+fmt.Sprintln(a.arg))
		})
	}

	// The exact output, where fmt calls the key's methods.
	exact := []struct {
		format string
		arg    any
		want   string
	}{
		{"%v", key, "[redacted]"},
		{"%s", key, "[redacted]"},
		{"%#v", key, "[redacted]"},
		{"%+v", key, "[redacted]"},
		{"%q", key, `"[redacted]"`},
		{"%x", key, "[redacted]"},
		{"%d", key, "[redacted]"},
		{"%10s", key, "[redacted]"},
		{"%v", &key, "[redacted]"},
		{"%v", holder{"k", key}, "{k [redacted]}"},
		{"%+v", holder{"k", key}, "{Name:k Key:[redacted]}"},
		{"%+v", &holder{"k", key}, "&{Name:k Key:[redacted]}"},
		{"%v", []evidence.SigningKey{key, key}, "[[redacted] [redacted]]"},
		{"%v", map[string]evidence.SigningKey{"k": key}, "map[k:[redacted]]"},
	}
	for _, tc := range exact {
		assert.Equal(t, tc.want, fmt.Sprintf(tc.format, tc.arg), "Sprintf(%q, %T)", tc.format, tc.arg)
	}

	t.Run("marshalling fails", func(t *testing.T) {
		t.Parallel()
		for _, v := range []any{key, holder{"k", key}, &cfg, map[string]evidence.SigningKey{"k": key}, []evidence.SigningKey{key}} {
			out, err := json.Marshal(v)
			require.ErrorIs(t, err, evidence.ErrInvalid, "json.Marshal(%T)", v)
			assert.Empty(t, out)
			requireNoSecret(t, text, err.Error())
			_, err = xml.Marshal(holder{"k", key})
			assert.ErrorIs(t, err, evidence.ErrInvalid, "xml")
			var buf bytes.Buffer
			err = gob.NewEncoder(&buf).Encode(v)
			require.Error(t, err, "gob.Encode(%T)", v)
			requireNoSecret(t, text, err.Error()+buf.String())
		}
		// Unexported fields are not marshalled at all.
		//lint:ignore SA9005 marshalling a struct of unexported fields is what is tested
		out, err := json.Marshal(unexported)
		require.NoError(t, err)
		requireNoSecret(t, text, string(out))
	})

	t.Run("slog", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"text", "json"} {
			var buf bytes.Buffer
			h := slog.Handler(slog.NewTextHandler(&buf, nil))
			if name == "json" {
				h = slog.NewJSONHandler(&buf, nil)
			}
			logger := slog.New(h)
			logger.Info("ledger", "key", key, "pointer", &key, "config", cfg, slog.Any("holder", holder{"k", key}),
				"both", both, "unexported", unexported, "pointer to unexported", &unexported, "anonymous", anonymous)
			logger.Error("ledger failed", "err", fmt.Errorf("key %s: %w", key, evidence.ErrInvalid),
				"wrapped", fmt.Errorf("%v", unexported))
			logger.With("key", key).WithGroup("g").Info("grouped", "key", key, slog.Group("inner", "key", key))
			requireNoSecret(t, text, buf.String())
			// A key logs as [redacted], not as a marshalling error; a
			// struct holding one in an exported field is refused by the
			// JSON handler, which the key's MarshalJSON makes fail.
			want := `key=[redacted]`
			if name == "json" {
				want = `"key":"[redacted]"`
			}
			assert.Contains(t, buf.String(), want, name)
		}
	})

	t.Run("revealed on purpose", func(t *testing.T) {
		t.Parallel()
		assert.True(t, strings.HasPrefix(text, "PRIVATE+KEY+custody.example.org+"), "Reveal returns the key, for storing it")
		again, err := evidence.ParseSigningKey(text)
		require.NoError(t, err)
		assert.True(t, again.Equal(key))
		assert.Equal(t, "custody.example.org", again.Name())
	})
}

func TestSigningKeyZeroAndEqual(t *testing.T) {
	t.Parallel()
	key, vkey := custodyKey(t, "custody.example.org", 1)
	same, _ := custodyKey(t, "custody.example.org", 1)
	other, _ := custodyKey(t, "custody.example.org", 2)
	var zero evidence.SigningKey

	assert.True(t, zero.IsZero())
	assert.False(t, key.IsZero())
	assert.True(t, key.Equal(same), "two parses of one key")
	assert.False(t, key.Equal(other))
	assert.False(t, key.Equal(zero))
	assert.False(t, zero.Equal(key))
	assert.True(t, zero.Equal(evidence.SigningKey{}))
	assert.Empty(t, zero.Reveal())
	assert.Empty(t, zero.Name())

	got, err := key.VerifierKey()
	require.NoError(t, err)
	assert.Equal(t, vkey, got)
	_, err = zero.VerifierKey()
	require.ErrorIs(t, err, evidence.ErrInvalid)
	_, err = evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore()})
	require.ErrorIs(t, err, evidence.ErrInvalid)
	err = evidence.SaveSigningKey(t.TempDir()+"/key", zero)
	require.ErrorIs(t, err, evidence.ErrInvalid)
}

func TestParseSigningKeyErrorsHideKey(t *testing.T) {
	t.Parallel()
	key, vkey := custodyKey(t, "custody.example.org", 7)
	text := key.Reveal()
	parts := strings.Split(text, "+") // PRIVATE KEY name hash data
	require.Len(t, parts, 5)
	seed, err := base64.StdEncoding.DecodeString(parts[4])
	require.NoError(t, err)
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "+")
	}
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
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
		{"trailing text", text + "+extra"},
		{"surrounding space", " " + text + "\n"},
		{"no prefix", strings.Join(parts[2:], "+")},
		{"verifier key", vkey},
		{"seed alone", parts[4]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := evidence.ParseSigningKey(tc.text)
			require.ErrorIs(t, err, evidence.ErrInvalid)
			assert.True(t, got.IsZero())
			for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				requireNoSecret(t, text, out)
				if tc.text != "" {
					requireNoSecret(t, tc.text, out)
				}
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

func ExampleParseSigningKey() {
	key, vkey, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		panic(err)
	}
	// Reveal is the one way to get the key's text out, to keep it in a
	// secret store; ParseSigningKey reads it back.
	text := key.Reveal()
	again, err := evidence.ParseSigningKey(text)
	if err != nil {
		panic(err)
	}
	againV, _ := again.VerifierKey()
	fmt.Println("same key:", again.Equal(key), againV == vkey)
	// Printed or logged, a key shows nothing of itself.
	fmt.Printf("%v %s %q %x\n", again, again, again, again)
	fmt.Printf("%+v\n", struct{ Key evidence.SigningKey }{again})
	// Output:
	// same key: true true
	// [redacted] [redacted] "[redacted]" [redacted]
	// {Key:[redacted]}
}

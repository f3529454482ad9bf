package stix

import "testing"

// TestCanonicalJSON checks the encoding against RFC 8785: sorted members,
// no white space, only the escapes JSON requires, lower-case hex.
func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   any
		want string
	}{
		{map[string]any{"value": "a"}, `{"value":"a"}`},
		{map[string]any{"b": "1", "a": map[string]string{"y": "2", "x": "3"}}, `{"a":{"x":"3","y":"2"},"b":"1"}`},
		{"q\"b\\s/\b\f\n\r\t\x01\x1f\x7f<>&\u2028é", "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f<>&\u2028é\""},
	} {
		if got := canonicalJSON(tc.in); got != tc.want {
			t.Errorf("canonicalJSON(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`plain`:       `'plain'`,
		`it's`:        `'it\'s'`,
		`C:\dir`:      `'C:\\dir'`,
		`\'`:          `'\\\''`,
		"line\nbreak": "'line\nbreak'",
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

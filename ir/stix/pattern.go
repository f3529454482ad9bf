package stix

import "strings"

// quote returns s as a STIX patterning string literal: in single quotes,
// with each quote and backslash escaped by a backslash, the only escapes
// the grammar has.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// comparison returns the pattern [path op 'value'].
func comparison(path, op, value string) string {
	return "[" + path + " " + op + " " + quote(value) + "]"
}

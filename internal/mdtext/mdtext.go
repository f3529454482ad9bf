// Package mdtext writes text from anywhere into Markdown documents so that
// no GitHub-flavoured Markdown renderer makes anything live of it: no
// link, image, raw HTML, table break or emphasis, and no character that
// would not show as itself. The custody report and the incident review
// document use it for every text they did not write themselves.
package mdtext

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	// shownDefanged finds text Text defanged, in Markdown.
	shownDefanged = regexp.MustCompile(`\\\[(://|@)\\\]|(?i:www)\\\[\.\\\]`)
	// shownEscaped finds a character or byte Text or Verbatim wrote as
	// an escape, in Markdown.
	shownEscaped = regexp.MustCompile(`\\(u[0-9A-F]{4}|U[0-9A-F]{8}|x[0-9A-F]{2})`)
)

// ShowsDefanged reports whether md, Markdown written with [Text], holds
// text Text defanged ("[://]", "www[.]", "[@]"), so that a document can
// say how it shows such text.
func ShowsDefanged(md []byte) bool { return shownDefanged.Match(md) }

// ShowsEscaped reports whether md, Markdown written with [Text] or
// [Verbatim], holds a character or byte written as an escape such as
// \u202E or \xFF.
func ShowsEscaped(md []byte) bool { return shownEscaped.Match(md) }

// Text escapes text for a line of Markdown, a table cell included, so
// that no GitHub-flavoured Markdown renderer makes anything live of it.
// Nothing in it can end a cell or a row, open a code
// span, emphasis, a link, an image or math, or reach the reader as HTML or
// as an HTML entity: line breaks become <br>, Markdown punctuation is
// backslash-escaped and <, > and & become entities. Nothing in it is left
// for an autolink: "://" shows as "[://]", the dot of "www." as "[.]" and
// "@" (of an e-mail address or a mention) as "[@]", the way
// incident responders defang an indicator, since some renderers find
// autolinks in text after undoing backslash escapes. Control and
// formatting characters (bidirectional overrides among them, which can make
// text read differently from what it is) and bytes that are not UTF-8 show
// as escapes such as \u202E and \xFF (see [visibleRune]).
func Text(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\\\x%02X", s[i]) // \\ so the escape shows as written
		case r == ':' && strings.HasPrefix(s[i:], "://"):
			b.WriteString("\\[://\\]")
			size = len("://")
		case (r == 'w' || r == 'W') && len(s) >= i+4 && strings.EqualFold(s[i:i+4], "www."):
			b.WriteString(s[i:i+3] + "\\[.\\]")
			size = len("www.")
		case r == '@':
			b.WriteString("\\[@\\]")
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			b.WriteString("<br>")
		case r == '\t':
			b.WriteByte(' ')
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case strings.ContainsRune("\\`*_~[]|$#", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case !visibleRune(r):
			b.WriteByte('\\') // \\ so the escape shows as written
			b.WriteString(runeEscape(r))
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// visibleRune reports whether r shows as itself, rather than moving,
// hiding or restyling the text around it: control characters (C0, DEL
// and C1, terminal escape sequences start with one), formatting
// characters (bidirectional overrides and isolates, zero-width characters)
// and line or paragraph separators are not.
func visibleRune(r rune) bool {
	return !unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// runeEscape writes r as a Go escape: \u202E, or \U000E0001 beyond the
// Basic Multilingual Plane.
func runeEscape(r rune) string {
	if r > 0xFFFF {
		return fmt.Sprintf("\\U%08X", r)
	}
	return fmt.Sprintf("\\u%04X", r)
}

// Verbatim returns s for a fenced code block: as it is, line feeds
// included, but with every character that does not show as itself (see
// [visibleRune]), tabs and carriage returns included, written as an escape
// such as \u001B, and every byte that is not UTF-8 as one such as \xFF.
// A terminal showing the report, or an editor, then shows what the text
// holds instead of obeying it.
func Verbatim(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02X", s[i])
		case r == '\n' || visibleRune(r):
			b.WriteRune(r)
		default:
			b.WriteString(runeEscape(r))
		}
		i += size
	}
	return b.String()
}

// Code shows a value such as a digest in a code span if it is made only
// of characters that are inert there (hex, base64 and the like), and as
// escaped text otherwise.
func Code(s string) string {
	if s == "" {
		return "—"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+/=._:-", r)) {
			return Text(s)
		}
	}
	return "`" + s + "`"
}

// Fenced writes s in a fenced code block, as [Verbatim] shows it, fenced
// with more backticks than any run of backticks in s, so that s cannot
// close it. No renderer makes a link of what a code block holds.
func Fenced(b *bytes.Buffer, info, s string) {
	s = Verbatim(s)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	b.WriteString(fence + info + "\n")
	b.WriteString(s)
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	b.WriteString(fence + "\n\n")
}

// TableHead writes the head of a table of the cells given, already
// escaped, and the line under it.
func TableHead(b *bytes.Buffer, cells ...string) {
	TableRow(b, cells...)
	b.WriteString("|")
	for range cells {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
}

// TableRow writes a row of cells already escaped.
func TableRow(b *bytes.Buffer, cells ...string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n")
}

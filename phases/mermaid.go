package phases

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mermaid renders the model as a Mermaid state diagram
// (https://mermaid.js.org/syntax/stateDiagram.html): each phase with its
// display name, each action as an edge labelled with its name, an entry
// into the initial phase and an exit from each terminal phase. The output is
// the same for the same model, every time.
//
// Phases are drawn as states named s0, s1… in the order of the model, each
// labelled with its display name, so that no phase name can be read as a
// Mermaid keyword (state, class, note, style, default…). Every character of
// a label other than letters, digits, spaces and . , - _ ( ) / ' is
// written as a Mermaid entity code (#quot; for ", #35; for #, #60; for <),
// so it shows as written; a line break shows as a space. The model's title is a comment.
func (m *Model) Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	if m.def.Title != "" {
		b.WriteString("    %% ")
		b.WriteString(mermaidComment(m.def.Title))
		b.WriteString("\n")
	}
	ids := make(map[Phase]string, len(m.def.Phases))
	for i, p := range m.def.Phases {
		ids[p.Name] = "s" + strconv.Itoa(i)
	}
	for _, p := range m.def.Phases {
		title := p.Title
		if title == "" {
			title = string(p.Name)
		}
		b.WriteString("    state \"")
		b.WriteString(mermaidLabel(title))
		b.WriteString("\" as ")
		b.WriteString(ids[p.Name])
		b.WriteString("\n")
	}
	b.WriteString("    [*] --> " + ids[m.def.Initial] + "\n")
	for _, a := range m.def.Actions {
		for _, from := range a.From {
			b.WriteString("    " + ids[from] + " --> " + ids[a.To] + ": " + mermaidLabel(string(a.Name)) + "\n")
		}
	}
	for _, p := range m.def.Phases {
		if p.Terminal {
			b.WriteString("    " + ids[p.Name] + " --> [*]\n")
		}
	}
	return b.String()
}

// mermaidPlain reports whether c shows as written in a Mermaid label.
func mermaidPlain(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune(" .,-_()/'", c)
}

// mermaidLabel writes s for a quoted Mermaid label: every character but
// the plain ones as its entity code, line breaks and other control
// characters as a space, and invalid UTF-8 as U+FFFD.
func mermaidLabel(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case mermaidPlain(c):
			b.WriteRune(c)
		case c < ' ' || c == 0x7f || 0x80 <= c && c < 0xa0 || c == '\u2028' || c == '\u2029':
			b.WriteByte(' ')
		case c == '"':
			b.WriteString("#quot;")
		default:
			b.WriteString("#" + strconv.Itoa(int(c)) + ";")
		}
	}
	return b.String()
}

// mermaidComment makes s fit a Mermaid comment: one line, which cannot be
// read as a directive.
func mermaidComment(s string) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	return strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '%' || c == '{' || c == '}' {
			return ' '
		}
		return c
	}, s)
}

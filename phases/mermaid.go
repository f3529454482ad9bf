package phases

import (
	"fmt"
	"strings"
)

// Mermaid renders the model as a Mermaid state diagram
// (https://mermaid.js.org/syntax/stateDiagram.html): each phase with its
// display name, each action as an edge labelled with its name, an entry
// into the initial phase and an exit from each terminal phase. The output is
// the same for the same model, every time.
func (m *Model) Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	if m.def.Title != "" {
		fmt.Fprintf(&b, "    %%%% %s\n", mermaidText(m.def.Title))
	}
	for _, p := range m.def.Phases {
		title := p.Title
		if title == "" {
			title = string(p.Name)
		}
		fmt.Fprintf(&b, "    state \"%s\" as %s\n", mermaidText(title), p.Name)
	}
	fmt.Fprintf(&b, "    [*] --> %s\n", m.def.Initial)
	for _, a := range m.def.Actions {
		for _, from := range a.From {
			fmt.Fprintf(&b, "    %s --> %s: %s\n", from, a.To, a.Name)
		}
	}
	for _, p := range m.def.Phases {
		if p.Terminal {
			fmt.Fprintf(&b, "    %s --> [*]\n", p.Name)
		}
	}
	return b.String()
}

// mermaidText makes a display name safe inside a quoted Mermaid label.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", " ", "\r", " ").Replace(s)
}

package phases

import (
	"fmt"
	"slices"
)

// validate returns every problem in def, in a stable order, up to
// maxProblems and then a count of the rest. Its time is linear in the size
// of def.
func validate(def Definition) []string {
	var problems []string
	more := 0
	add := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf(format, args...))
		} else {
			more++
		}
	}

	if def.Name == "" {
		add("the model has no name")
	}
	if len(def.Phases) == 0 {
		add("the model has no phases")
	}
	known := make(map[Phase]bool, len(def.Phases))
	terminal := false
	for i, p := range def.Phases {
		switch {
		case p.Name == "":
			add("phase %d has no name", i+1)
		case known[p.Name]:
			add("phase %q is defined twice", p.Name)
		case !validName(string(p.Name)):
			add("phase name %q must be lower-case letters, digits and underscores, starting with a letter", p.Name)
		}
		if p.Name != "" {
			known[p.Name] = true
		}
		terminal = terminal || p.Terminal
		for _, ms := range p.Marks {
			if !slices.Contains(milestones, ms) {
				add("phase %q marks unknown milestone %q", p.Name, ms)
			}
		}
	}
	if len(def.Phases) > 0 && !terminal {
		add("the model has no terminal phase")
	}
	switch {
	case def.Initial == "":
		add("the model has no initial phase")
	case !known[def.Initial]:
		add("initial phase %q is not a phase of the model", def.Initial)
	}

	seen := make(map[Action]bool, len(def.Actions))
	for i, a := range def.Actions {
		name := a.Name
		switch {
		case name == "":
			add("action %d has no name", i+1)
			name = Action(fmt.Sprintf("#%d", i+1))
		case seen[name]:
			add("action %q is defined twice", name)
		case !validName(string(name)):
			add("action name %q must be lower-case letters, digits and underscores, starting with a letter", name)
		}
		seen[name] = true
		if len(a.From) == 0 {
			add("action %q leaves from no phase", name)
		}
		// A set, not a search of the entries before: a long list must not
		// take quadratic time.
		listed := make(map[Phase]bool, len(a.From))
		for _, from := range a.From {
			if listed[from] {
				add("action %q leaves from %q twice", name, from)
			}
			listed[from] = true
			if !known[from] {
				add("action %q leaves from unknown phase %q", name, from)
			}
			if from == a.To {
				add("action %q leads from %q to itself", name, from)
			}
		}
		switch {
		case a.To == "":
			add("action %q leads to no phase", name)
		case !known[a.To]:
			add("action %q leads to unknown phase %q", name, a.To)
		}
		for _, g := range a.Guards {
			if _, problem := g.guard(); problem != "" {
				add("action %q: %s", name, problem)
			}
		}
	}

	for _, p := range graphProblems(def, known) {
		add("%s", p)
	}
	if more > 0 {
		problems = append(problems, fmt.Sprintf("and %d more problems", more))
	}
	return problems
}

// graphProblems finds phases that cannot be reached from the initial phase,
// and phases that are not terminal but have no way out.
func graphProblems(def Definition, known map[Phase]bool) []string {
	if !known[def.Initial] {
		return nil
	}
	out := make(map[Phase][]Phase)
	for _, a := range def.Actions {
		for _, from := range a.From {
			out[from] = append(out[from], a.To)
		}
	}
	reached := map[Phase]bool{def.Initial: true}
	queue := []Phase{def.Initial}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, next := range out[p] {
			if !reached[next] {
				reached[next] = true
				queue = append(queue, next)
			}
		}
	}
	var problems []string
	for _, p := range def.Phases {
		if p.Name == "" {
			continue
		}
		if !reached[p.Name] {
			problems = append(problems, fmt.Sprintf("phase %q cannot be reached from the initial phase %q", p.Name, def.Initial))
		}
		if !p.Terminal && len(out[p.Name]) == 0 {
			problems = append(problems, fmt.Sprintf("phase %q is not terminal but no action leaves it", p.Name))
		}
	}
	return problems
}

// validName reports whether s is a safe phase or action name: it is used as
// an identifier in diagrams and storage.
func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

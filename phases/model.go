package phases

import (
	"fmt"
	"slices"

	"github.com/looplab/fsm"
)

// Definition is a phase model written as data. Build it in Go or load it
// from JSON with [Load], then turn it into a [Model] with [New], which
// validates it.
type Definition struct {
	// Name identifies the model; incidents record it.
	Name string `json:"name"`
	// Title is the display name.
	Title string `json:"title,omitempty"`
	// Description says what the model is for.
	Description string `json:"description,omitempty"`
	// Initial is the phase new incidents start in.
	Initial Phase `json:"initial"`
	// Phases lists the phases in display order.
	Phases []PhaseDef `json:"phases"`
	// Actions lists the transitions in display order; [Model.Available]
	// keeps this order.
	Actions []ActionDef `json:"actions"`
}

// PhaseDef defines one phase of a model.
type PhaseDef struct {
	Name        Phase  `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Terminal marks a phase in which the incident is closed. A model has
	// at least one. A terminal phase may still have actions leaving it,
	// such as [Reopen].
	Terminal bool `json:"terminal,omitempty"`
	// Marks lists the milestones reached on entering the phase.
	Marks []Milestone `json:"marks,omitempty"`
}

// ActionDef defines one named transition.
type ActionDef struct {
	Name  Action `json:"name"`
	Title string `json:"title,omitempty"`
	// From lists the phases the action may leave from.
	From []Phase `json:"from"`
	// To is the phase the action enters.
	To Phase `json:"to"`
	// Guards names built-in guards that must allow the action.
	Guards []GuardSpec `json:"guards,omitempty"`
}

func (d Definition) clone() Definition {
	d.Phases = slices.Clone(d.Phases)
	for i := range d.Phases {
		d.Phases[i].Marks = slices.Clone(d.Phases[i].Marks)
	}
	d.Actions = slices.Clone(d.Actions)
	for i := range d.Actions {
		d.Actions[i] = d.Actions[i].clone()
	}
	return d
}

func (a ActionDef) clone() ActionDef {
	a.From = slices.Clone(a.From)
	a.Guards = slices.Clone(a.Guards)
	for i := range a.Guards {
		a.Guards[i].Verdicts = slices.Clone(a.Guards[i].Verdicts)
	}
	return a
}

// Model is a validated, immutable phase model. It is safe for concurrent
// use. Build one with [New] or [Load], or use a built-in model such as
// [SANS].
type Model struct {
	def       Definition
	phases    map[Phase]int
	actions   map[Action]int
	guards    map[Action][]Guard
	available map[Phase][]Action
	// events holds, for each action, the one-event transition table a
	// throwaway fsm that takes that action is built from, so that a
	// transition costs the same in a model of any size.
	events map[Action][]fsm.EventDesc
}

// New validates def and builds a model from it. On failure it returns a
// [*LimitError] if def is beyond one of the size limits ([MaxPhases] and
// the others), and otherwise a [*ValidationError] listing every problem
// found. Its time is linear in the size of def.
func New(def Definition) (*Model, error) {
	if err := checkLimits(def); err != nil {
		return nil, err
	}
	def = def.clone()
	if problems := validate(def); len(problems) > 0 {
		return nil, &ValidationError{Model: def.Name, Problems: problems}
	}
	m := &Model{
		def:       def,
		phases:    make(map[Phase]int, len(def.Phases)),
		actions:   make(map[Action]int, len(def.Actions)),
		guards:    make(map[Action][]Guard),
		available: make(map[Phase][]Action),
		events:    make(map[Action][]fsm.EventDesc, len(def.Actions)),
	}
	for i, p := range def.Phases {
		m.phases[p.Name] = i
	}
	for i, a := range def.Actions {
		m.actions[a.Name] = i
		for _, spec := range a.Guards {
			g, _ := spec.guard() // validated above
			m.guards[a.Name] = append(m.guards[a.Name], g)
		}
		for _, from := range a.From {
			m.available[from] = append(m.available[from], a.Name)
		}
		src := make([]string, len(a.From))
		for j, from := range a.From {
			src[j] = string(from)
		}
		m.events[a.Name] = []fsm.EventDesc{{Name: string(a.Name), Src: src, Dst: string(a.To)}}
	}
	return m, nil
}

// MustNew is like [New] but panics on an invalid definition. It is meant for
// package-level variables holding models written in Go.
func MustNew(def Definition) *Model {
	m, err := New(def)
	if err != nil {
		panic(err)
	}
	return m
}

// WithGuards returns a copy of m in which action also requires guards, after
// the guards it already has. It fails with [ErrUnknownAction] if m has no such
// action. m itself is not changed.
func (m *Model) WithGuards(action Action, guards ...Guard) (*Model, error) {
	if _, ok := m.actions[action]; !ok {
		return nil, fmt.Errorf("phases: %s: add guards to %q: %w", m.def.Name, action, ErrUnknownAction)
	}
	for i, g := range guards {
		if isNilGuard(g) {
			return nil, fmt.Errorf("phases: %s: add guards to %q: guard %d is nil", m.def.Name, action, i)
		}
	}
	c := *m
	c.guards = make(map[Action][]Guard, len(m.guards)+1)
	for a, gs := range m.guards {
		c.guards[a] = slices.Clone(gs)
	}
	c.guards[action] = append(c.guards[action], guards...)
	return &c, nil
}

// Name returns the model's name.
func (m *Model) Name() string { return m.def.Name }

// Title returns the model's display name, or its name if it has none.
func (m *Model) Title() string {
	if m.def.Title != "" {
		return m.def.Title
	}
	return m.def.Name
}

// Initial returns the phase new incidents start in.
func (m *Model) Initial() Phase { return m.def.Initial }

// Definition returns a copy of the definition the model was built from.
// Guards added with [Model.WithGuards] are not part of it.
func (m *Model) Definition() Definition { return m.def.clone() }

// Phases returns the model's phases in display order.
func (m *Model) Phases() []PhaseDef { return m.Definition().Phases }

// Actions returns the model's actions in display order.
func (m *Model) Actions() []ActionDef { return m.Definition().Actions }

// Phase returns the definition of phase p.
func (m *Model) Phase(p Phase) (PhaseDef, bool) {
	i, ok := m.phases[p]
	if !ok {
		return PhaseDef{}, false
	}
	d := m.def.Phases[i]
	d.Marks = slices.Clone(d.Marks)
	return d, true
}

// Action returns the definition of action a.
func (m *Model) Action(a Action) (ActionDef, bool) {
	i, ok := m.actions[a]
	if !ok {
		return ActionDef{}, false
	}
	return m.def.Actions[i].clone(), true
}

// PhaseTitle returns the display name of p, or its name if it has none.
func (m *Model) PhaseTitle(p Phase) string {
	if d, ok := m.Phase(p); ok && d.Title != "" {
		return d.Title
	}
	return string(p)
}

// IsTerminal reports whether p is a terminal phase of the model.
func (m *Model) IsTerminal(p Phase) bool {
	i, ok := m.phases[p]
	return ok && m.def.Phases[i].Terminal
}

// Terminal returns the model's terminal phases in display order.
func (m *Model) Terminal() []Phase {
	var out []Phase
	for _, p := range m.def.Phases {
		if p.Terminal {
			out = append(out, p.Name)
		}
	}
	return out
}

// Available returns the actions that leave from phase p, in the order the
// model defines them. Guards are not consulted: an available action may
// still be refused.
func (m *Model) Available(p Phase) []Action { return slices.Clone(m.available[p]) }

// Target returns the phase action a leads to from phase from, and whether
// the action may be taken from there at all.
func (m *Model) Target(from Phase, a Action) (Phase, bool) {
	i, ok := m.actions[a]
	if !ok {
		return "", false
	}
	d := m.def.Actions[i]
	if !slices.Contains(d.From, from) {
		return "", false
	}
	return d.To, true
}

// ClosingAction returns the first action, in model order, that leads from
// phase from into a terminal phase.
func (m *Model) ClosingAction(from Phase) (Action, bool) {
	return m.firstAction(from, func(to Phase) bool { return m.IsTerminal(to) })
}

// ReopeningAction returns the first action, in model order, that leads from
// the terminal phase from back into a phase that is not terminal. It
// returns false if from is not terminal: only a closed incident reopens.
func (m *Model) ReopeningAction(from Phase) (Action, bool) {
	if !m.IsTerminal(from) {
		return "", false
	}
	return m.firstAction(from, func(to Phase) bool { return !m.IsTerminal(to) })
}

func (m *Model) firstAction(from Phase, ok func(to Phase) bool) (Action, bool) {
	for _, a := range m.available[from] {
		if ok(m.def.Actions[m.actions[a]].To) {
			return a, true
		}
	}
	return "", false
}

// GuardNames returns the names of the guards action a requires, in the order
// they run.
func (m *Model) GuardNames(a Action) []string {
	var names []string
	for _, g := range m.guards[a] {
		names = append(names, guardName(g))
	}
	return names
}

// isNilGuard reports whether g is nil or wraps a nil function, which would
// refuse every transition.
func isNilGuard(g Guard) bool {
	switch g := g.(type) {
	case nil:
		return true
	case GuardFunc:
		return g == nil
	case namedGuard:
		return isNilGuard(g.Guard)
	}
	return false
}

package phases

import (
	"fmt"
	"strconv"
)

// Limits on what [New] and [Load] accept, so that a hostile or broken
// definition cannot exhaust memory or time: every check [New] makes is
// linear in the size of the definition, and these bound that size. Text
// is measured in bytes of UTF-8; the text limits are those of an
// incident's short and long text. A definition beyond a limit is refused
// with a [*LimitError] (matching [ErrInvalidModel] and [ErrModelTooLarge])
// that names the limit; nothing else is checked.
const (
	// MaxDefinitionBytes bounds the JSON definition [Load] reads; it
	// stops reading there.
	MaxDefinitionBytes = 1 << 20
	// MaxPhases is the most phases a model has.
	MaxPhases = 10000
	// MaxActions is the most actions a model has.
	MaxActions = 10000
	// MaxFrom is the most phases one action leaves from: a phase may be
	// listed once, so MaxPhases is also the most a valid model can use.
	MaxFrom = MaxPhases
	// MaxGuards is the most guards one action names.
	MaxGuards = 64
	// MaxVerdicts is the most verdicts one guard accepts.
	MaxVerdicts = 64
	// MaxMarks is the most milestones one phase marks.
	MaxMarks = 64
	// MaxNameLen bounds the name of the model, of a phase and of an
	// action, a guard's role and each verdict it accepts.
	MaxNameLen = 200
	// MaxTitleLen bounds the title of the model, of a phase and of an
	// action.
	MaxTitleLen = 200
	// MaxDescriptionLen bounds the description of the model and of a
	// phase.
	MaxDescriptionLen = 4096
	// maxProblems is the most problems a [ValidationError] lists; it
	// counts the rest.
	maxProblems = 100
)

// LimitError reports a model definition beyond one of the size limits of
// [New] and [Load] (see [MaxDefinitionBytes] and the limits after it). It
// matches [ErrInvalidModel] and [ErrModelTooLarge].
type LimitError struct {
	// Model is the model's name, if it was read before the limit was
	// found and is itself within its limit.
	Model string
	// Limit names the limit exceeded, as its constant is named, such as
	// "MaxFrom".
	Limit string
	// What says which part of the definition is too large, such as
	// `action "close": from`.
	What string
	// Unit is what Got and Max count: "bytes" or "entries".
	Unit string
	// Got is the size found. For [MaxDefinitionBytes] it is
	// MaxDefinitionBytes+1: [Load] reads no further.
	Got int
	// Max is the limit.
	Max int
}

func (e *LimitError) Error() string {
	name := e.Model
	if name == "" {
		name = "(unnamed)"
	}
	if e.Limit == "MaxDefinitionBytes" {
		return fmt.Sprintf("phases: invalid model definition: it is larger than %d bytes, the limit (phases.%s); shorten it",
			e.Max, e.Limit)
	}
	return fmt.Sprintf("phases: invalid model %s: %s has %d %s, more than the limit of %d (phases.%s); shorten it",
		name, e.What, e.Got, e.Unit, e.Max, e.Limit)
}

// Is reports whether target is [ErrInvalidModel] or [ErrModelTooLarge].
func (e *LimitError) Is(target error) bool {
	return target == ErrInvalidModel || target == ErrModelTooLarge
}

// checkLimits returns the first limit def is beyond, or nil. It looks at
// each list's length before its entries, so its time is linear in what it
// accepts.
func checkLimits(def Definition) *LimitError {
	name := ""
	if len(def.Name) <= MaxNameLen {
		name = def.Name
	}
	entries := func(what, limit string, got, max int) *LimitError {
		if got <= max {
			return nil
		}
		return &LimitError{Model: name, Limit: limit, What: what, Unit: "entries", Got: got, Max: max}
	}
	text := func(what, limit string, s string, max int) *LimitError {
		if len(s) <= max {
			return nil
		}
		return &LimitError{Model: name, Limit: limit, What: what, Unit: "bytes", Got: len(s), Max: max}
	}
	first := func(errs ...*LimitError) *LimitError {
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := first(
		text("the model's name", "MaxNameLen", def.Name, MaxNameLen),
		text("the model's title", "MaxTitleLen", def.Title, MaxTitleLen),
		text("the model's description", "MaxDescriptionLen", def.Description, MaxDescriptionLen),
		text("the initial phase's name", "MaxNameLen", string(def.Initial), MaxNameLen),
		entries("the list of phases", "MaxPhases", len(def.Phases), MaxPhases),
		entries("the list of actions", "MaxActions", len(def.Actions), MaxActions),
	); err != nil {
		return err
	}
	for i, p := range def.Phases {
		what := "phase " + strconv.Itoa(i+1)
		if err := first(
			text(what+": name", "MaxNameLen", string(p.Name), MaxNameLen),
			text(what+": title", "MaxTitleLen", p.Title, MaxTitleLen),
			text(what+": description", "MaxDescriptionLen", p.Description, MaxDescriptionLen),
			entries(what+": marks", "MaxMarks", len(p.Marks), MaxMarks),
		); err != nil {
			return err
		}
		for j, ms := range p.Marks {
			if err := text(what+": mark "+strconv.Itoa(j+1), "MaxNameLen", string(ms), MaxNameLen); err != nil {
				return err
			}
		}
	}
	for i, a := range def.Actions {
		what := "action " + strconv.Itoa(i+1)
		if err := first(
			text(what+": name", "MaxNameLen", string(a.Name), MaxNameLen),
			text(what+": title", "MaxTitleLen", a.Title, MaxTitleLen),
			text(what+": to", "MaxNameLen", string(a.To), MaxNameLen),
			entries(what+": from", "MaxFrom", len(a.From), MaxFrom),
			entries(what+": guards", "MaxGuards", len(a.Guards), MaxGuards),
		); err != nil {
			return err
		}
		for j, from := range a.From {
			if err := text(what+": from "+strconv.Itoa(j+1), "MaxNameLen", string(from), MaxNameLen); err != nil {
				return err
			}
		}
		for j, g := range a.Guards {
			gwhat := what + ": guard " + strconv.Itoa(j+1)
			if err := first(
				text(gwhat+": type", "MaxNameLen", string(g.Type), MaxNameLen),
				text(gwhat+": role", "MaxNameLen", g.Role, MaxNameLen),
				entries(gwhat+": verdicts", "MaxVerdicts", len(g.Verdicts), MaxVerdicts),
			); err != nil {
				return err
			}
			for k, v := range g.Verdicts {
				if err := text(gwhat+": verdict "+strconv.Itoa(k+1), "MaxNameLen", v, MaxNameLen); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

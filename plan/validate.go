package plan

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// ErrInvalidPlan is matched (with errors.Is) by every error reporting a plan
// that is not valid, or a file that does not hold one.
var ErrInvalidPlan = errors.New("invalid response plan")

// Limits on a plan, so that a hostile or broken file cannot exhaust memory
// or time: [Load] reads at most MaxPlanBytes, and [Plan.Validate] refuses a
// list longer than its limit (reporting it as a problem) and looks no
// further into it. Text is measured in bytes of UTF-8.
const (
	// MaxPlanBytes bounds the file [Load] reads; it stops reading there.
	MaxPlanBytes = 1 << 20
	// MaxMembers, MaxContacts, MaxDecisions, MaxEscalationLevels and
	// MaxPlaybooks bound the plan's lists.
	MaxMembers          = 1000
	MaxContacts         = 1000
	MaxDecisions        = 1000
	MaxEscalationLevels = 100
	MaxPlaybooks        = 1000
	// MaxSteps bounds a playbook's steps.
	MaxSteps = 1000
	// MaxEntries bounds the small lists: a member's roles, a contact's
	// channels, a rule's roles, a level's contacts.
	MaxEntries = 64
	// MaxNameLen bounds names, keys and titles ([ir.MaxShortText]).
	MaxNameLen = ir.MaxShortText
	// MaxTextLen bounds descriptions, sources and notes
	// ([ir.MaxLongText]).
	MaxTextLen = ir.MaxLongText
	// maxProblems is the most problems a ValidationError lists; it
	// counts the rest.
	maxProblems = 100
)

// Options are what validating a plan may check it against.
type Options struct {
	// Models are the custom phase models a plan file may name, beside the
	// built-in ones.
	Models []*phases.Model
	// Channels, if set, are the notify channels the service runs (the
	// names of its notify.ChannelRules): a contact naming another channel
	// is a problem. Unset, channel names are only checked for form.
	Channels []string
}

// Problem is one thing wrong with a plan, and where.
type Problem struct {
	// Path locates the problem in the plan, as a JSON pointer into its
	// file form: "/contacts/2/channels", "/playbooks/0/steps/3/phase".
	Path string
	// Line and Column locate it in the file it was loaded from, when
	// known (from 1); zero for plans defined in Go.
	Line, Column int
	// Message says what is wrong.
	Message string
}

// String returns the problem as "path (line:column): message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Path)
	if p.Path == "" {
		b.WriteString("/")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, " (%d:%d)", p.Line, p.Column)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a plan. It matches
// [ErrInvalidPlan].
type ValidationError struct {
	// Plan is the plan's name, if it has one; File the file it was
	// loaded from, if known.
	Plan, File string
	// Problems lists the problems, in the order of the plan, at most
	// 100 of them.
	Problems []Problem
	// More counts the problems found beyond those listed.
	More int
}

// Error lists the problems, one per line after the first.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("plan")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if e.Plan != "" {
		b.WriteString(" " + strconv.Quote(e.Plan))
	}
	n := len(e.Problems) + e.More
	if n == 1 {
		b.WriteString(": 1 problem")
	} else {
		fmt.Fprintf(&b, ": %d problems", n)
	}
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n\tand %d more", e.More)
	}
	return b.String()
}

// Is reports whether target is [ErrInvalidPlan].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidPlan }

// problems collects the problems of a plan.
type problems struct {
	list []Problem
	more int
}

func (ps *problems) add(path, format string, args ...any) {
	if len(ps.list) >= maxProblems {
		ps.more++
		return
	}
	ps.list = append(ps.list, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Validate checks the plan and returns a [*ValidationError] listing every
// problem, or nil. It checks that every name is given, well formed and
// unique where it must be (members, contacts, decision kinds, escalation
// levels, playbooks, step keys), every role and category is known, every
// contact can be reached, every playbook step belongs to a phase of the
// plan's model (and not its terminal phase), every escalation level names
// known contacts, in order, at most one playbook per category and one
// member on duty per role, someone in the team able to be incident
// commander, and the limits.
func (p *Plan) Validate(o Options) error {
	var ps problems
	p.validate(&ps, o)
	if len(ps.list) == 0 {
		return nil
	}
	return &ValidationError{Plan: p.Name, Problems: ps.list, More: ps.more}
}

func (p *Plan) validate(ps *problems, o Options) {
	name(ps, "/name", p.Name, true)
	model := p.resolveModel(ps, o)
	phaseOK := func(ph phases.Phase) bool {
		if model == nil {
			return true // the model's own problem is reported
		}
		_, ok := model.Phase(ph)
		return ok
	}

	// The team.
	if len(p.Team) == 0 {
		ps.add("/team", "the plan has no team")
	}
	onDuty := make(map[ir.Role]string)
	if limit(ps, "/team", len(p.Team), MaxMembers) {
		ids := make(map[string]int)
		for i, m := range p.Team {
			at := "/team/" + strconv.Itoa(i)
			if name(ps, at+"/id", m.ID, false) {
				if j, dup := ids[m.ID]; dup {
					ps.add(at+"/id", "member %q is already listed at /team/%d", m.ID, j)
				} else {
					ids[m.ID] = i
				}
			}
			text(ps, at+"/name", m.Name, MaxNameLen)
			if len(m.Roles) == 0 {
				ps.add(at+"/roles", "member %q fills no role", m.ID)
			}
			if limit(ps, at+"/roles", len(m.Roles), MaxEntries) {
				for j, r := range m.Roles {
					role(ps, at+"/roles/"+strconv.Itoa(j), r)
				}
			}
			if limit(ps, at+"/on_duty", len(m.OnDuty), MaxEntries) {
				for j, r := range m.OnDuty {
					rat := at + "/on_duty/" + strconv.Itoa(j)
					if !role(ps, rat, r) {
						continue
					}
					if !slices.Contains(m.Roles, r) {
						ps.add(rat, "member %q is on duty as %s, a role not among theirs", m.ID, r)
					}
					if other, dup := onDuty[r]; dup {
						ps.add(rat, "member %q is on duty as %s, as %q already is", m.ID, r, other)
					} else {
						onDuty[r] = m.ID
					}
				}
			}
		}
	}
	if len(p.Team) > 0 {
		if _, ok := onDuty[ir.RoleCommander]; !ok && !teamHas(p.Team, ir.RoleCommander) {
			ps.add("/team", "nobody in the team can be incident commander")
		}
	}

	// The contacts.
	contacts := make(map[string]int)
	if limit(ps, "/contacts", len(p.Contacts), MaxContacts) {
		for i, c := range p.Contacts {
			at := "/contacts/" + strconv.Itoa(i)
			if name(ps, at+"/name", c.Name, false) {
				if j, dup := contacts[c.Name]; dup {
					ps.add(at+"/name", "contact %q is already listed at /contacts/%d", c.Name, j)
				} else {
					contacts[c.Name] = i
				}
			}
			if !slices.Contains(contactKinds, c.Kind) {
				ps.add(at+"/kind", "unknown kind of contact %q (want one of %s)", c.Kind, joinKinds())
			}
			if len(c.Channels) == 0 && c.Audience == "" {
				ps.add(at, "contact %q has no way to be reached: give channels or an audience", c.Name)
			}
			if limit(ps, at+"/channels", len(c.Channels), MaxEntries) {
				seen := make(map[string]bool)
				for j, ch := range c.Channels {
					cat := at + "/channels/" + strconv.Itoa(j)
					switch {
					case !isName(ch):
						ps.add(cat, "channel %q is not a channel name (lower case letters, digits and underscores)", ch)
					case len(o.Channels) > 0 && !slices.Contains(o.Channels, ch):
						ps.add(cat, "unknown channel %q", ch)
					case seen[ch]:
						ps.add(cat, "channel %q is listed twice", ch)
					}
					seen[ch] = true
				}
			}
			if c.Audience != "" && !isName(string(c.Audience)) {
				ps.add(at+"/audience", "audience %q is not an audience name (lower case letters, digits and underscores)", c.Audience)
			}
			text(ps, at+"/notes", c.Notes, MaxTextLen)
		}
	}

	// Decisions.
	if limit(ps, "/decisions", len(p.Decisions), MaxDecisions) {
		kinds := make(map[string]int)
		for i, d := range p.Decisions {
			at := "/decisions/" + strconv.Itoa(i)
			switch {
			case !isName(d.Kind) || len(d.Kind) > MaxNameLen:
				ps.add(at+"/kind", "decision kind %q must be lower case letters, digits and underscores, at most %d bytes", d.Kind, MaxNameLen)
			default:
				if j, dup := kinds[d.Kind]; dup {
					ps.add(at+"/kind", "decision %q is already listed at /decisions/%d", d.Kind, j)
				} else {
					kinds[d.Kind] = i
				}
			}
			text(ps, at+"/description", d.Description, MaxTextLen)
			if len(d.Roles) == 0 {
				ps.add(at+"/roles", "nobody may take decision %q: name the roles that may", d.Kind)
			}
			if limit(ps, at+"/roles", len(d.Roles), MaxEntries) {
				for j, r := range d.Roles {
					role(ps, at+"/roles/"+strconv.Itoa(j), r)
				}
			}
		}
	}

	// The escalation path.
	if limit(ps, "/escalation", len(p.Escalation), MaxEscalationLevels) {
		levels := make(map[string]int)
		for i, l := range p.Escalation {
			at := "/escalation/" + strconv.Itoa(i)
			if name(ps, at+"/name", l.Name, false) {
				if j, dup := levels[l.Name]; dup {
					ps.add(at+"/name", "escalation level %q is already listed at /escalation/%d", l.Name, j)
				} else {
					levels[l.Name] = i
				}
			}
			switch {
			case l.After < 0:
				ps.add(at+"/after", "must not be negative")
			case i > 0 && l.After < p.Escalation[i-1].After:
				ps.add(at+"/after", "level %q comes after %s, sooner than the level before it (%s)", l.Name, l.After, p.Escalation[i-1].After)
			}
			if len(l.Contacts) == 0 {
				ps.add(at+"/contacts", "escalation level %q reaches nobody", l.Name)
			}
			if limit(ps, at+"/contacts", len(l.Contacts), MaxEntries) {
				for j, c := range l.Contacts {
					if _, ok := contacts[c]; !ok {
						ps.add(at+"/contacts/"+strconv.Itoa(j), "escalation to unknown contact %q", c)
					}
				}
			}
		}
	}

	// Playbooks.
	if limit(ps, "/playbooks", len(p.Playbooks), MaxPlaybooks) {
		names := make(map[string]int)
		cats := make(map[ir.Category]int)
		for i, pb := range p.Playbooks {
			at := "/playbooks/" + strconv.Itoa(i)
			if name(ps, at+"/name", pb.Name, true) {
				if j, dup := names[pb.Name]; dup {
					ps.add(at+"/name", "playbook %q is already listed at /playbooks/%d", pb.Name, j)
				} else {
					names[pb.Name] = i
				}
			}
			if c, err := ir.ParseCategory(string(pb.Category)); err != nil || c != pb.Category {
				ps.add(at+"/category", "unknown incident category %q", pb.Category)
			} else if j, dup := cats[pb.Category]; dup {
				ps.add(at+"/category", "category %s already has the playbook at /playbooks/%d", pb.Category, j)
			} else {
				cats[pb.Category] = i
			}
			text(ps, at+"/description", pb.Description, MaxTextLen)
			text(ps, at+"/source", pb.Source, MaxTextLen)
			if len(pb.Steps) == 0 {
				ps.add(at+"/steps", "playbook %q has no steps", pb.Name)
			}
			if !limit(ps, at+"/steps", len(pb.Steps), MaxSteps) {
				continue
			}
			keys := make(map[string]int)
			for j, s := range pb.Steps {
				sat := at + "/steps/" + strconv.Itoa(j)
				if name(ps, sat+"/key", s.Key, true) {
					if k, dup := keys[s.Key]; dup {
						ps.add(sat+"/key", "step %q is already listed at %s/steps/%d", s.Key, at, k)
					} else {
						keys[s.Key] = j
					}
				}
				if len(pb.Name)+1+len(s.Key) > ir.MaxShortText {
					ps.add(sat+"/key", "the task key %q is longer than %d bytes", pb.TaskKey(s), ir.MaxShortText)
				}
				switch {
				case s.Phase == "":
					ps.add(sat+"/phase", "a step needs a phase")
				case !phaseOK(s.Phase):
					ps.add(sat+"/phase", "playbook for unknown phase %q: %s has no such phase", s.Phase, model.Name())
				case model != nil && model.IsTerminal(s.Phase):
					ps.add(sat+"/phase", "phase %q ends the incident: a task there could never be done", s.Phase)
				}
				if strings.TrimSpace(s.Title) == "" {
					ps.add(sat+"/title", "a step needs a title")
				} else {
					text(ps, sat+"/title", s.Title, MaxNameLen)
				}
				if s.Role != "" {
					role(ps, sat+"/role", s.Role)
				}
			}
		}
	}

	// Upkeep.
	if p.Upkeep.ReviewEvery < 0 {
		ps.add("/upkeep/review_every", "must not be negative")
	}
	if p.Upkeep.ExerciseEvery < 0 {
		ps.add("/upkeep/exercise_every", "must not be negative")
	}
}

// resolveModel returns the plan's phase model, or nil after reporting why
// there is none.
func (p *Plan) resolveModel(ps *problems, o Options) *phases.Model {
	if p.CustomModel != nil {
		if p.Model != "" && p.Model != p.CustomModel.Name() {
			ps.add("/model", "model %q is not the custom model %q", p.Model, p.CustomModel.Name())
			return nil
		}
		return p.CustomModel
	}
	if p.Model == "" {
		ps.add("/model", "the plan names no phase model")
		return nil
	}
	if m, ok := phases.Lookup(p.Model); ok {
		return m
	}
	for _, m := range o.Models {
		if m != nil && m.Name() == p.Model {
			return m
		}
	}
	var known []string
	for _, m := range phases.Builtin() {
		known = append(known, m.Name())
	}
	for _, m := range o.Models {
		if m != nil {
			known = append(known, m.Name())
		}
	}
	ps.add("/model", "unknown phase model %q (known: %s)", p.Model, strings.Join(known, ", "))
	return nil
}

// teamHas reports whether some member can fill role.
func teamHas(team []Member, role ir.Role) bool {
	for _, m := range team {
		if slices.Contains(m.Roles, role) {
			return true
		}
	}
	return false
}

// name checks a name: given (if required), within MaxNameLen, valid text;
// keys (key) are also limited to lower case letters, digits, '-' and '_'.
// It reports whether the name is fit to compare.
func name(ps *problems, path, s string, key bool) bool {
	switch {
	case strings.TrimSpace(s) == "":
		ps.add(path, "must not be empty")
		return false
	case !text(ps, path, s, MaxNameLen):
		return false
	case key && !isKey(s):
		ps.add(path, "%q must be lower case letters, digits, '-' and '_'", s)
		return false
	}
	return true
}

// text checks that s is valid UTF-8 without NUL bytes, at most max bytes.
func text(ps *problems, path, s string, max int) bool {
	switch {
	case len(s) > max:
		ps.add(path, "must be at most %d bytes", max)
	case !utf8.ValidString(s):
		ps.add(path, "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		ps.add(path, "must not contain a NUL byte")
	default:
		return true
	}
	return false
}

// limit reports whether a list of n entries is within max, reporting it
// if not.
func limit(ps *problems, path string, n, max int) bool {
	if n > max {
		ps.add(path, "%d entries: at most %d", n, max)
		return false
	}
	return true
}

// role checks that r is a role of package ir.
func role(ps *problems, path string, r ir.Role) bool {
	if got, err := ir.ParseRole(string(r)); err != nil || got != r {
		ps.add(path, "unknown role %q", r)
		return false
	}
	return true
}

func isKey(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return s != ""
}

func isName(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return s != "" && len(s) <= MaxNameLen
}

func joinKinds() string {
	s := make([]string, len(contactKinds))
	for i, k := range contactKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

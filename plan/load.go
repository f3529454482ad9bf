package plan

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Format is the form of a plan file.
type Format string

// Formats of plan files.
const (
	JSON Format = "json"
	YAML Format = "yaml"
)

// file is a plan as its file holds it. Every value is read as text and
// checked afterwards, so that one wrong value does not hide the others.
type file struct {
	Name       string         `yaml:"name"`
	Model      string         `yaml:"model"`
	Team       []fileMember   `yaml:"team"`
	Contacts   []fileContact  `yaml:"contacts"`
	Decisions  []fileDecision `yaml:"decisions"`
	Escalation []fileLevel    `yaml:"escalation"`
	Playbooks  []filePlaybook `yaml:"playbooks"`
	Upkeep     fileUpkeep     `yaml:"upkeep"`
}

type fileMember struct {
	ID     string   `yaml:"id"`
	Name   string   `yaml:"name"`
	Roles  []string `yaml:"roles"`
	OnDuty []string `yaml:"on_duty"`
}

type fileContact struct {
	Name     string   `yaml:"name"`
	Kind     string   `yaml:"kind"`
	Channels []string `yaml:"channels"`
	Audience string   `yaml:"audience"`
	Notes    string   `yaml:"notes"`
}

type fileDecision struct {
	Kind        string   `yaml:"kind"`
	Description string   `yaml:"description"`
	Roles       []string `yaml:"roles"`
}

type fileLevel struct {
	Name     string   `yaml:"name"`
	After    string   `yaml:"after"`
	Contacts []string `yaml:"contacts"`
}

type filePlaybook struct {
	Name        string     `yaml:"name"`
	Category    string     `yaml:"category"`
	Description string     `yaml:"description"`
	Source      string     `yaml:"source"`
	Steps       []fileStep `yaml:"steps"`
}

type fileStep struct {
	Key      string `yaml:"key"`
	Phase    string `yaml:"phase"`
	Title    string `yaml:"title"`
	Required bool   `yaml:"required"`
	Role     string `yaml:"role"`
}

type fileUpkeep struct {
	LastReviewed  string `yaml:"last_reviewed"`
	ReviewEvery   string `yaml:"review_every"`
	LastExercised string `yaml:"last_exercised"`
	ExerciseEvery string `yaml:"exercise_every"`
}

// LoadFile loads the plan in the named file, JSON if its name ends in
// ".json", YAML otherwise, as [Load] does.
func LoadFile(path string, o Options) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	defer f.Close()
	format := YAML
	if strings.EqualFold(filepath.Ext(path), ".json") {
		format = JSON
	}
	p, err := Load(f, format, o)
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		ve.File = path
	}
	return p, err
}

// Load reads a plan in the given format (JSON or YAML, in the same
// fields) and validates it against o, as [Plan.Validate] does. Every
// problem, in the file's structure (an unknown field, a list where a text
// belongs) or in the plan, is listed in a [*ValidationError], each with
// its path and its line and column in the file; the plan is returned
// only when there is none.
//
// It reads at most [MaxPlanBytes] and refuses a longer file; YAML anchors
// and aliases are refused, so that nothing is expanded beyond what the
// file holds. Durations are Go durations ("90m", "4h") or whole days and
// weeks ("30d", "2w"); dates are "2006-01-02" or RFC 3339.
//
// In a file:
//
//	name: acme-security
//	model: sans-picerl
//	team:
//	  - {id: alice, name: Alice Moreau, roles: [incident_commander], on_duty: [incident_commander]}
//	contacts:
//	  - {name: Legal counsel, kind: legal, channels: [legal_mail]}
//	decisions:
//	  - {kind: take_production_offline, roles: [incident_commander]}
//	escalation:
//	  - {name: executives, after: 4h, contacts: [Legal counsel]}
//	playbooks:
//	  - name: phishing
//	    category: phishing
//	    steps:
//	      - {key: block-sender, phase: containment, title: Block the sender, required: true, role: analyst}
//	upkeep: {last_reviewed: 2026-09-01, review_every: 180d, last_exercised: 2026-06-15, exercise_every: 365d}
func Load(r io.Reader, format Format, o Options) (*Plan, error) {
	if format != JSON && format != YAML {
		return nil, fmt.Errorf("plan: unknown format %q (want json or yaml): %w", format, ErrInvalidPlan)
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("plan: read: %w", err)
	}
	if len(b) > MaxPlanBytes {
		return nil, &ValidationError{Problems: []Problem{{Message: fmt.Sprintf("the file is larger than %d bytes", MaxPlanBytes)}}}
	}
	if format == JSON {
		// A tab is whitespace in JSON but not always in YAML, which reads
		// the file; JSON strings hold no raw tab, so replacing each with a
		// space keeps every position.
		b = bytes.ReplaceAll(b, []byte{'\t'}, []byte{' '})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, &ValidationError{Problems: []Problem{syntaxProblem(err)}}
	}
	var ps problems
	pos := make(map[string][2]int)
	var f file
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == 0 {
		ps.add("", "the file holds no plan")
	} else {
		bad := make(map[string]bool)
		walk(&ps, pos, bad, root, reflect.TypeFor[file](), "")
		if len(ps.list) == 0 || !anyPrefix(bad, "") {
			// Decode what is well formed; the rest was reported.
			var te *yaml.TypeError
			if err := root.Decode(&f); err != nil && !errors.As(err, &te) {
				ps.add("", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			}
		}
		p := f.plan(&ps, bad)
		var vs problems
		p.validate(&vs, o)
		for _, v := range vs.list {
			if !anyPrefix(bad, v.Path) {
				ps.add(v.Path, "%s", v.Message)
			}
		}
		ps.more += vs.more
		if len(ps.list) == 0 && ps.more == 0 {
			return p, nil
		}
		locate(ps.list, pos)
		slices.SortStableFunc(ps.list, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, &ValidationError{Plan: p.Name, Problems: ps.list, More: ps.more}
	}
	return nil, &ValidationError{Problems: ps.list}
}

// walk checks node against the file form t, at path: every mapping key
// must be a field, every value of the kind its field holds. It records the
// position of every node by its path in pos, and the paths of the nodes
// of the wrong kind in bad.
func walk(ps *problems, pos map[string][2]int, bad map[string]bool, n *yaml.Node, t reflect.Type, path string) {
	pos[path] = [2]int{n.Line, n.Column}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		ps.add(path, "anchors and aliases are not allowed in a plan")
		bad[path] = true
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value: the field's zero value
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			ps.add(path, "want an object of fields, not %s", describe(n))
			bad[path] = true
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByTag(t, k.Value)
			at := path + "/" + escapePointer(k.Value)
			if !ok || k.Kind != yaml.ScalarNode {
				pos[at] = [2]int{k.Line, k.Column}
				ps.add(at, "unknown field %q", k.Value)
				bad[at] = true
				continue
			}
			walk(ps, pos, bad, v, f.Type, at)
			pos[at] = [2]int{v.Line, v.Column}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			ps.add(path, "want a list, not %s", describe(n))
			bad[path] = true
			return
		}
		for i, e := range n.Content {
			walk(ps, pos, bad, e, t.Elem(), path+"/"+strconv.Itoa(i))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			ps.add(path, "want true or false, not %s", describe(n))
			bad[path] = true
		}
	default: // text
		if n.Kind != yaml.ScalarNode {
			ps.add(path, "want a text, not %s", describe(n))
			bad[path] = true
		}
	}
}

// fieldByTag returns the field of t whose yaml name is name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// describe names the kind of n for a message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "this"
}

// escapePointer escapes a JSON pointer token.
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// anyPrefix reports whether path is, or is within, one of the paths in bad.
func anyPrefix(bad map[string]bool, path string) bool {
	for p := path; ; {
		if bad[p] {
			return true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// locate gives each problem the position of its path, or of the nearest
// enclosing path the file has.
func locate(list []Problem, pos map[string][2]int) {
	for i := range list {
		for p := list[i].Path; ; {
			if lc, ok := pos[p]; ok {
				list[i].Line, list[i].Column = lc[0], lc[1]
				break
			}
			j := strings.LastIndexByte(p, '/')
			if j < 0 {
				break
			}
			p = p[:j]
		}
	}
}

var lineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxProblem makes a problem of the parser's error, with its line.
func syntaxProblem(err error) Problem {
	msg := err.Error()
	p := Problem{Message: strings.TrimPrefix(msg, "yaml: ")}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = msg[len(m[0]):]
	}
	return p
}

// plan converts the file form, reporting values that do not parse.
func (f *file) plan(ps *problems, bad map[string]bool) *Plan {
	fail := func(path string, err error) {
		ps.add(path, "%v", err)
		bad[path] = true
	}
	p := &Plan{Name: f.Name, Model: f.Model}
	for _, m := range f.Team {
		p.Team = append(p.Team, Member{ID: m.ID, Name: m.Name, Roles: roles(m.Roles), OnDuty: roles(m.OnDuty)})
	}
	for _, c := range f.Contacts {
		p.Contacts = append(p.Contacts, Contact{Name: c.Name, Kind: ContactKind(c.Kind), Channels: c.Channels,
			Audience: notify.Audience(c.Audience), Notes: c.Notes})
	}
	for _, d := range f.Decisions {
		p.Decisions = append(p.Decisions, DecisionRule{Kind: d.Kind, Description: d.Description, Roles: roles(d.Roles)})
	}
	for i, l := range f.Escalation {
		after, err := ParseDuration(l.After)
		if err != nil {
			fail("/escalation/"+strconv.Itoa(i)+"/after", err)
		}
		p.Escalation = append(p.Escalation, EscalationLevel{Name: l.Name, After: after, Contacts: l.Contacts})
	}
	for _, pb := range f.Playbooks {
		b := Playbook{Name: pb.Name, Category: ir.Category(pb.Category), Description: pb.Description, Source: pb.Source}
		for _, s := range pb.Steps {
			b.Steps = append(b.Steps, Step{Key: s.Key, Phase: phases.Phase(s.Phase), Title: s.Title, Required: s.Required, Role: ir.Role(s.Role)})
		}
		p.Playbooks = append(p.Playbooks, b)
	}
	var err error
	u := f.Upkeep
	if p.Upkeep.LastReviewed, err = parseDate(u.LastReviewed); err != nil {
		fail("/upkeep/last_reviewed", err)
	}
	if p.Upkeep.LastExercised, err = parseDate(u.LastExercised); err != nil {
		fail("/upkeep/last_exercised", err)
	}
	if u.ReviewEvery != "" {
		if p.Upkeep.ReviewEvery, err = ParseDuration(u.ReviewEvery); err != nil {
			fail("/upkeep/review_every", err)
		}
	}
	if u.ExerciseEvery != "" {
		if p.Upkeep.ExerciseEvery, err = ParseDuration(u.ExerciseEvery); err != nil {
			fail("/upkeep/exercise_every", err)
		}
	}
	return p
}

func roles(s []string) []ir.Role {
	if s == nil {
		return nil
	}
	out := make([]ir.Role, len(s))
	for i, r := range s {
		out[i] = ir.Role(r)
	}
	return out
}

// ParseDuration parses a Go duration ("90m", "4h30m") or a whole number of
// days or weeks ("30d", "2w").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "0123456789"); len(s) > 1 && (unit == "d" || unit == "w") && n != "" {
		v, err := strconv.Atoi(n)
		days := v
		if unit == "w" {
			days = v * 7
		}
		if err == nil && v >= 0 && v <= 100*366 && days <= 100*366 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 4h, 30d or 2w", s)
	}
	return d, nil
}

// parseDate parses a date ("2006-01-02") or an RFC 3339 time; empty means
// never.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date such as 2026-09-01", s)
}

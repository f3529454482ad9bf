package plan_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
	"github.com/incidentkit/incidentkit/plan"
)

// problem is a problem a test expects: its path, where it is in the file,
// and a part of its message.
type problem struct {
	path         string
	line, column int
	says         string
}

// The mistakes in testdata/bad.yaml and testdata/bad.json, which hold the
// same plan, in file order.
var badYAML = []problem{
	{"/team/0/roles/1", 5, 33, `unknown role "chief_of_everything"`},
	{"/team/1/id", 7, 9, `member "alice" is already listed at /team/0`},
	{"/team/1/on_duty/0", 9, 15, "a role not among theirs"},
	{"/team/1/on_duty/0", 9, 15, `as "alice" already is`},
	{"/contacts/0", 11, 5, `contact "Legal counsel" has no way to be reached`},
	{"/contacts/1/name", 12, 12, `contact "Legal counsel" is already listed at /contacts/0`},
	{"/contacts/1/kind", 12, 33, `unknown kind of contact "lawyer"`},
	{"/contacts/2/channels/0", 13, 46, `channel "Press Desk" is not a channel name`},
	{"/decisions/0/roles/0", 15, 45, `unknown role "ceo"`},
	{"/escalation/0/contacts/0", 17, 46, `escalation to unknown contact "Board"`},
	{"/escalation/1/after", 18, 26, `level "early" comes after 1h0m0s, sooner than the level before it`},
	{"/escalation/2/after", 19, 26, `"soon" is not a duration`},
	{"/playbooks/0/steps/0/phase", 24, 29, `playbook for unknown phase "contaiment"`},
	{"/playbooks/0/steps/1/key", 25, 15, `step "block" is already listed at /playbooks/0/steps/0`},
	{"/playbooks/0/steps/1/title", 25, 46, "a step needs a title"},
	{"/playbooks/1/category", 27, 15, `unknown incident category "phising"`},
	{"/playbooks/1/colour", 28, 5, `unknown field "colour"`},
	{"/playbooks/1/steps/0/phase", 30, 25, `phase "closed" ends the incident`},
	{"/playbooks/1/steps/0/required", 30, 60, `want true or false, not "yes please"`},
	{"/upkeep/last_reviewed", 32, 18, `"last spring" is not a date`},
}

var badJSON = []problem{
	{"/team/0/roles/1", 5, 51, `unknown role "chief_of_everything"`},
	{"/team/1/id", 6, 10, `member "alice" is already listed at /team/0`},
	{"/team/1/on_duty/0", 6, 53, "a role not among theirs"},
	{"/team/1/on_duty/0", 6, 53, `as "alice" already is`},
	{"/contacts/0", 9, 3, `contact "Legal counsel" has no way to be reached`},
	{"/contacts/1/name", 10, 12, `contact "Legal counsel" is already listed at /contacts/0`},
	{"/contacts/1/kind", 10, 37, `unknown kind of contact "lawyer"`},
	{"/contacts/2/channels/0", 11, 54, `channel "Press Desk" is not a channel name`},
	{"/decisions/0/roles/0", 13, 62, `unknown role "ceo"`},
	{"/escalation/0/contacts/0", 15, 54, `escalation to unknown contact "Board"`},
	{"/escalation/1/after", 16, 30, `level "early" comes after 1h0m0s, sooner than the level before it`},
	{"/escalation/2/after", 17, 30, `"soon" is not a duration`},
	{"/playbooks/0/steps/0/phase", 21, 30, `playbook for unknown phase "contaiment"`},
	{"/playbooks/0/steps/1/key", 22, 12, `step "block" is already listed at /playbooks/0/steps/0`},
	{"/playbooks/0/steps/1/title", 22, 51, "a step needs a title"},
	{"/playbooks/1/category", 24, 35, `unknown incident category "phising"`},
	{"/playbooks/1/colour", 24, 46, `unknown field "colour"`},
	{"/playbooks/1/steps/0/phase", 25, 26, `phase "closed" ends the incident`},
	{"/playbooks/1/steps/0/required", 25, 69, `want true or false, not "yes please"`},
	{"/upkeep/last_reviewed", 28, 30, `"last spring" is not a date`},
}

func TestLoadListsEveryProblemWithItsPlace(t *testing.T) {
	t.Parallel()
	for file, want := range map[string][]problem{"testdata/bad.yaml": badYAML, "testdata/bad.json": badJSON} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			p, err := plan.LoadFile(file, plan.Options{})
			require.Error(t, err)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, plan.ErrInvalidPlan)
			ve, ok := errors.AsType[*plan.ValidationError](err)
			require.True(t, ok, "%T", err)
			assert.Equal(t, file, ve.File)
			assert.Equal(t, "acme-security", ve.Plan)
			var got []problem
			for _, pr := range ve.Problems {
				got = append(got, problem{pr.Path, pr.Line, pr.Column, pr.Message})
			}
			require.Len(t, got, len(want), "%v", err)
			for i := range want {
				assert.Equal(t, want[i].path, got[i].path, "problem %d", i)
				assert.Equal(t, [2]int{want[i].line, want[i].column}, [2]int{got[i].line, got[i].column}, "problem %d: %s", i, got[i].says)
				assert.Contains(t, got[i].says, want[i].says, "problem %d", i)
			}
			assert.Contains(t, err.Error(), file+` "acme-security": 20 problems`)
			assert.Contains(t, err.Error(), "\n\t/contacts/1/kind (")
		})
	}
}

func TestLoadYAMLAndJSONGiveTheSamePlan(t *testing.T) {
	t.Parallel()
	y, err := plan.LoadFile("testdata/plan.yaml", plan.Options{})
	require.NoError(t, err)
	j, err := plan.LoadFile("testdata/plan.json", plan.Options{})
	require.NoError(t, err)
	assert.Equal(t, y, j)

	assert.Equal(t, "acme-security", y.Name)
	m, err := y.PhaseModel()
	require.NoError(t, err)
	assert.Same(t, phases.SANS, m)
	commander, ok := y.OnDuty(ir.RoleCommander)
	require.True(t, ok)
	assert.Equal(t, ir.Actor{ID: "alice", Name: "Alice Moreau"}, commander.Actor())
	assert.Equal(t, []ir.Role{ir.RoleCommander, ir.RoleLegal}, y.Deciders("notify_regulator"))
	assert.Nil(t, y.Deciders("buy_bitcoin"))
	assert.Equal(t, 4*time.Hour, y.Escalation[1].After)
	assert.Equal(t, 24*time.Hour, y.Escalation[2].After)
	assert.Len(t, y.Escalations(5*time.Hour), 2)
	assert.Equal(t, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), y.Upkeep.LastReviewed)
	assert.Equal(t, 180*24*time.Hour, y.Upkeep.ReviewEvery)
	assert.Equal(t, 26*7*24*time.Hour, y.Upkeep.ExerciseEvery)
	pb, ok := y.Playbook(ir.CategoryPhishing)
	require.True(t, ok)
	assert.Equal(t, plan.Step{Key: "block-sender", Phase: phases.Containment, Title: "Block the sender at the mail gateway",
		Required: true, Role: ir.RoleTechnicalLead}, pb.Steps[1])
}

func TestLoadChecksChannelsAndModelsItIsGiven(t *testing.T) {
	t.Parallel()
	_, err := plan.LoadFile("testdata/plan.yaml", plan.Options{Channels: []string{"pager", "legal_mail", "status_page"}})
	ve, ok := errors.AsType[*plan.ValidationError](err)
	require.True(t, ok, "%v", err)
	require.Len(t, ve.Problems, 1)
	assert.Equal(t, "/contacts/6/channels/0", ve.Problems[0].Path)
	assert.Equal(t, `unknown channel "vendor_mail"`, ve.Problems[0].Message)

	custom, err := phases.New(phases.Definition{
		Name: "triage", Initial: "open",
		Phases:  []phases.PhaseDef{{Name: "open"}, {Name: "done", Terminal: true}},
		Actions: []phases.ActionDef{{Name: "finish", From: []phases.Phase{"open"}, To: "done"}},
	})
	require.NoError(t, err)
	src := "name: small\nmodel: triage\nteam: [{id: alice, roles: [incident_commander]}]\n" +
		"playbooks: [{name: p, category: other, steps: [{key: a, phase: open, title: Look}]}]\n"
	_, err = plan.Load(strings.NewReader(src), plan.YAML, plan.Options{})
	ve, ok = errors.AsType[*plan.ValidationError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "/model", ve.Problems[0].Path)
	assert.Equal(t, 2, ve.Problems[0].Line)
	p, err := plan.Load(strings.NewReader(src), plan.YAML, plan.Options{Models: []*phases.Model{custom}})
	require.NoError(t, err)
	p.CustomModel = custom
	m, err := p.PhaseModel()
	require.NoError(t, err)
	assert.Same(t, custom, m)
}

func TestLoadRefusesWhatCouldExhaustIt(t *testing.T) {
	t.Parallel()
	t.Run("too large", func(t *testing.T) {
		big := "name: x\n#" + strings.Repeat("x", plan.MaxPlanBytes) + "\n"
		_, err := plan.Load(strings.NewReader(big), plan.YAML, plan.Options{})
		assert.ErrorIs(t, err, plan.ErrInvalidPlan)
		assert.ErrorContains(t, err, fmt.Sprintf("larger than %d bytes", plan.MaxPlanBytes))
	})
	t.Run("aliases", func(t *testing.T) {
		// A "billion laughs" of aliases is refused before anything expands them.
		var b strings.Builder
		b.WriteString("name: x\nmodel: sans-picerl\na0: &a0 [lol]\n")
		for i := 1; i < 30; i++ {
			fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1)
		}
		b.WriteString("team: *a29\n")
		_, err := plan.Load(strings.NewReader(b.String()), plan.YAML, plan.Options{})
		assert.ErrorIs(t, err, plan.ErrInvalidPlan)
	})
	t.Run("long lists", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"name": "x", "model": "sans-picerl", "team": [`)
		for i := range plan.MaxMembers + 1 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id": "m%d", "roles": ["incident_commander"]}`, i)
		}
		b.WriteString("]}")
		_, err := plan.Load(strings.NewReader(b.String()), plan.JSON, plan.Options{})
		ve, ok := errors.AsType[*plan.ValidationError](err)
		require.True(t, ok, "%v", err)
		require.Len(t, ve.Problems, 1)
		assert.Equal(t, "/team", ve.Problems[0].Path)
		assert.Contains(t, ve.Problems[0].Message, "at most 1000")
	})
	t.Run("syntax", func(t *testing.T) {
		_, err := plan.Load(strings.NewReader("name: x\nteam: [\n"), plan.YAML, plan.Options{})
		ve, ok := errors.AsType[*plan.ValidationError](err)
		require.True(t, ok, "%v", err)
		require.Len(t, ve.Problems, 1)
		assert.Positive(t, ve.Problems[0].Line)
	})
	t.Run("empty", func(t *testing.T) {
		_, err := plan.Load(strings.NewReader(""), plan.YAML, plan.Options{})
		assert.ErrorIs(t, err, plan.ErrInvalidPlan)
	})
	t.Run("format", func(t *testing.T) {
		_, err := plan.Load(strings.NewReader("{}"), "toml", plan.Options{})
		assert.ErrorIs(t, err, plan.ErrInvalidPlan)
	})
}

func TestValidatePlanDefinedInGo(t *testing.T) {
	t.Parallel()
	p := &plan.Plan{
		Name:  "go",
		Model: phases.NIST.Name(),
		Team:  []plan.Member{{ID: "alice", Roles: []ir.Role{ir.RoleCommander}}},
		Playbooks: []plan.Playbook{
			plan.Phishing(),          // written for SANS: its phases are not NIST's
			plan.Malware().ForNIST(), // moved onto NIST
			plan.Ransomware().ForNIST(),
		},
	}
	err := p.Validate(plan.Options{})
	ve, ok := errors.AsType[*plan.ValidationError](err)
	require.True(t, ok, "%v", err)
	for _, pr := range ve.Problems {
		assert.True(t, strings.HasPrefix(pr.Path, "/playbooks/0/steps/"), "%s", pr)
		assert.Zero(t, pr.Line)
		assert.Contains(t, pr.Message, "playbook for unknown phase")
	}
	p.Playbooks[0] = plan.Phishing().ForNIST()
	require.NoError(t, p.Validate(plan.Options{}))

	// The empty plan says what it lacks.
	err = (&plan.Plan{}).Validate(plan.Options{})
	assert.ErrorContains(t, err, "/name: must not be empty")
	assert.ErrorContains(t, err, "/model: the plan names no phase model")
	assert.ErrorContains(t, err, "/team: the plan has no team")
}

func TestBuiltinPlaybooksValidate(t *testing.T) {
	t.Parallel()
	team := []plan.Member{{ID: "alice", Roles: []ir.Role{ir.RoleCommander}}}
	cats := make(map[ir.Category]bool)
	for _, pb := range plan.Builtin() {
		assert.NotEmpty(t, pb.Source, pb.Name)
		assert.NotEmpty(t, pb.Description, pb.Name)
		assert.False(t, cats[pb.Category], "two playbooks for %s", pb.Category)
		cats[pb.Category] = true
		required := 0
		for _, s := range pb.Steps {
			if s.Required {
				required++
			}
			assert.NotEmpty(t, s.Role, "%s/%s has no owner", pb.Name, s.Key)
		}
		assert.Positive(t, required, pb.Name)
	}
	assert.Len(t, cats, 6)
	for _, m := range []*phases.Model{phases.SANS, phases.NIST} {
		p := &plan.Plan{Name: "builtin", Model: m.Name(), Team: team}
		for _, pb := range plan.Builtin() {
			if m == phases.NIST {
				pb = pb.ForNIST()
			}
			p.Playbooks = append(p.Playbooks, pb)
		}
		assert.NoError(t, p.Validate(plan.Options{}), m.Name())
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"90m": 90 * time.Minute, "4h30m": 4*time.Hour + 30*time.Minute, "30d": 30 * 24 * time.Hour,
		"2w": 14 * 24 * time.Hour, "0m": 0, " 1d ": 24 * time.Hour, "5228w": 5228 * 7 * 24 * time.Hour,
	} {
		got, err := plan.ParseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "soon", "1y", "99999999999d", "-d", "5229w", "20000w", "36600w", "1317624576693539401w"} {
		_, err := plan.ParseDuration(in)
		assert.Error(t, err, in)
	}
}

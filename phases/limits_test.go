package phases_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/phases"
)

// chainDefinition returns a valid model of n phases, p0 to p(n-1), all
// terminal: action i leads from p(i-1) to p(i), and action "back" leads
// from every phase but p0 back to p0, so its From list has n-1 entries.
func chainDefinition(n int) phases.Definition {
	def := phases.Definition{Name: "chain", Initial: "p0"}
	back := phases.ActionDef{Name: "back", To: "p0"}
	for i := range n {
		p := phases.Phase("p" + strconv.Itoa(i))
		def.Phases = append(def.Phases, phases.PhaseDef{Name: p, Terminal: true})
		if i > 0 {
			def.Actions = append(def.Actions, phases.ActionDef{Name: phases.Action("a" + strconv.Itoa(i)),
				From: []phases.Phase{phases.Phase("p" + strconv.Itoa(i-1))}, To: p})
			back.From = append(back.From, p)
		}
	}
	def.Actions = append(def.Actions, back)
	return def
}

func marshalDefinition(t testing.TB, def phases.Definition) []byte {
	t.Helper()
	data, err := json.Marshal(def)
	require.NoError(t, err)
	return data
}

// hugeFromModel returns a definition of about size bytes whose one action
// leaves from as many distinct phases, none of them defined, as fit.
func hugeFromModel(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"name":"huge","initial":"a","phases":[{"name":"a"},{"name":"b","terminal":true}],` +
		`"actions":[{"name":"go","to":"b","from":["a"`)
	for i := 0; b.Len() < size-100; i++ {
		fmt.Fprintf(&b, `,"x%d"`, i)
	}
	b.WriteString(`]}]}`)
	return b.Bytes()
}

// TestLoadRefusesAHugeFromList loads a 1 MiB model whose one action leaves
// from more than a hundred thousand phases: it is refused at once, by the
// limit on an action's From list, rather than checked entry against
// entry.
func TestLoadRefusesAHugeFromList(t *testing.T) {
	t.Parallel()
	data := hugeFromModel(phases.MaxDefinitionBytes)
	require.LessOrEqual(t, len(data), phases.MaxDefinitionBytes)

	m, err := phases.Load(bytes.NewReader(data))
	require.Nil(t, m)
	var limit *phases.LimitError
	require.ErrorAs(t, err, &limit)
	assert.Equal(t, "MaxFrom", limit.Limit)
	assert.Equal(t, "action 1: from", limit.What)
	assert.Equal(t, phases.MaxFrom, limit.Max)
	assert.Greater(t, limit.Got, 100_000)
	assert.ErrorIs(t, err, phases.ErrInvalidModel)
	assert.ErrorIs(t, err, phases.ErrModelTooLarge)
	assert.Contains(t, err.Error(), "phases.MaxFrom")
	assert.Contains(t, err.Error(), "huge")
}

// TestLoadAcceptsAModelAtTheLimits loads a valid model of MaxPhases
// phases, one of whose actions leaves from all but one of them.
func TestLoadAcceptsAModelAtTheLimits(t *testing.T) {
	t.Parallel()
	def := chainDefinition(phases.MaxPhases)
	data := marshalDefinition(t, def)
	require.LessOrEqual(t, len(data), phases.MaxDefinitionBytes)

	m, err := phases.Load(bytes.NewReader(data))
	require.NoError(t, err)
	assert.Len(t, m.Phases(), phases.MaxPhases)
	back, ok := m.Action("back")
	require.True(t, ok)
	assert.Len(t, back.From, phases.MaxPhases-1)
	to, err := m.Fire(t.Context(), permissiveSubject{}, "p9999", "back")
	require.NoError(t, err)
	assert.Equal(t, phases.Phase("p0"), to)
}

// TestNewRefusesDefinitionsBeyondLimits checks each limit, through [New]
// and [Load] alike: one entry or byte beyond it is refused with a
// [*phases.LimitError] naming it, and the definition at the limit is not.
func TestNewRefusesDefinitionsBeyondLimits(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("x", n) }
	base := func() phases.Definition { return phases.SANS.Definition() }
	tests := []struct {
		limit string
		// at sets the field to its limit, and over one beyond.
		at, over func(*phases.Definition)
	}{
		{"MaxNameLen",
			func(d *phases.Definition) { d.Name = long(phases.MaxNameLen) },
			func(d *phases.Definition) { d.Name = long(phases.MaxNameLen + 1) }},
		{"MaxTitleLen",
			func(d *phases.Definition) { d.Title = long(phases.MaxTitleLen) },
			func(d *phases.Definition) { d.Title = long(phases.MaxTitleLen + 1) }},
		{"MaxDescriptionLen",
			func(d *phases.Definition) { d.Phases[2].Description = long(phases.MaxDescriptionLen) },
			func(d *phases.Definition) { d.Phases[2].Description = long(phases.MaxDescriptionLen + 1) }},
		{"MaxTitleLen",
			func(d *phases.Definition) { d.Actions[1].Title = long(phases.MaxTitleLen) },
			func(d *phases.Definition) { d.Actions[1].Title = long(phases.MaxTitleLen + 1) }},
		{"MaxNameLen",
			func(d *phases.Definition) {
				d.Actions[0].Guards = []phases.GuardSpec{{Type: phases.GuardVerdictSet, Verdicts: []string{long(phases.MaxNameLen)}}}
			},
			func(d *phases.Definition) {
				d.Actions[0].Guards = []phases.GuardSpec{{Type: phases.GuardVerdictSet, Verdicts: []string{long(phases.MaxNameLen + 1)}}}
			}},
		{"MaxVerdicts",
			func(d *phases.Definition) {
				d.Actions[0].Guards = []phases.GuardSpec{{Type: phases.GuardVerdictSet, Verdicts: make([]string, phases.MaxVerdicts)}}
			},
			func(d *phases.Definition) {
				d.Actions[0].Guards = []phases.GuardSpec{{Type: phases.GuardVerdictSet, Verdicts: make([]string, phases.MaxVerdicts+1)}}
			}},
		{"MaxGuards",
			func(d *phases.Definition) {
				d.Actions[0].Guards = make([]phases.GuardSpec, phases.MaxGuards)
				for i := range d.Actions[0].Guards {
					d.Actions[0].Guards[i].Type = phases.GuardTasksDone
				}
			},
			func(d *phases.Definition) {
				d.Actions[0].Guards = make([]phases.GuardSpec, phases.MaxGuards+1)
			}},
		{"MaxMarks",
			func(d *phases.Definition) {
				d.Phases[1].Marks = slicesRepeat(phases.MilestoneAcknowledged, phases.MaxMarks)
			},
			func(d *phases.Definition) {
				d.Phases[1].Marks = slicesRepeat(phases.MilestoneAcknowledged, phases.MaxMarks+1)
			}},
		{"MaxPhases",
			func(d *phases.Definition) { *d = chainDefinition(phases.MaxPhases) },
			func(d *phases.Definition) { *d = chainDefinition(phases.MaxPhases + 1) }},
		{"MaxActions",
			func(d *phases.Definition) {
				*d = chainDefinition(phases.MaxPhases)
				d.Actions = d.Actions[:phases.MaxActions]
			},
			func(d *phases.Definition) {
				*d = chainDefinition(phases.MaxPhases)
				d.Actions = append(d.Actions, make([]phases.ActionDef, phases.MaxActions+1-len(d.Actions))...)
			}},
		{"MaxFrom",
			func(d *phases.Definition) {
				d.Actions[0].From = make([]phases.Phase, phases.MaxFrom)
			},
			func(d *phases.Definition) {
				d.Actions[0].From = make([]phases.Phase, phases.MaxFrom+1)
			}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d_%s", i, tt.limit), func(t *testing.T) {
			t.Parallel()
			at, over := base(), base()
			tt.at(&at)
			tt.over(&over)

			_, err := phases.New(at)
			var limit *phases.LimitError
			assert.False(t, errors.As(err, &limit), "at the limit: %v", err)

			for name, load := range map[string]func() error{
				"New": func() error { _, err := phases.New(over); return err },
				"Load": func() error {
					_, err := phases.Load(bytes.NewReader(marshalDefinition(t, over)))
					return err
				},
			} {
				err := load()
				require.ErrorAs(t, err, &limit, name)
				assert.Equal(t, tt.limit, limit.Limit, name)
				assert.Greater(t, limit.Got, limit.Max, name)
				assert.ErrorIs(t, err, phases.ErrModelTooLarge, name)
				assert.ErrorIs(t, err, phases.ErrInvalidModel, name)
				assert.Contains(t, err.Error(), "phases."+tt.limit, name)
			}
		})
	}
}

func slicesRepeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestValidationErrorCountsWhatItDoesNotList checks a definition with
// thousands of problems gets an error listing a hundred and counting the
// rest, not an error as large as the definition.
func TestValidationErrorCountsWhatItDoesNotList(t *testing.T) {
	t.Parallel()
	def := phases.SANS.Definition()
	for i := range 5000 {
		def.Actions[0].From = append(def.Actions[0].From, phases.Phase("ghost_"+strconv.Itoa(i)))
	}
	_, err := phases.New(def)
	var verr *phases.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Len(t, verr.Problems, 101)
	assert.Equal(t, `action "identify" leaves from unknown phase "ghost_0"`, verr.Problems[0])
	assert.Equal(t, "and 4900 more problems", verr.Problems[100])
	assert.Less(t, len(err.Error()), 10_000)
}

// BenchmarkLoadFrom loads a valid model of n phases, one of whose actions
// leaves from n-1 of them: the time per load grows linearly with n.
func BenchmarkLoadFrom(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			data := marshalDefinition(b, chainDefinition(n))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := phases.Load(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadHugeFrom loads the 1 MiB model whose one action leaves
// from more than a hundred thousand phases, which is refused.
func BenchmarkLoadHugeFrom(b *testing.B) {
	data := hugeFromModel(phases.MaxDefinitionBytes)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := phases.Load(bytes.NewReader(data)); !errors.Is(err, phases.ErrModelTooLarge) {
			b.Fatal(err)
		}
	}
}

// BenchmarkFireInLargeModel fires one action of a model of n phases and
// as many actions: the time per transition does not grow with the model.
func BenchmarkFireInLargeModel(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			m, err := phases.New(chainDefinition(n))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if to, err := m.Fire(b.Context(), permissiveSubject{}, "p0", "a1"); err != nil || to != "p1" {
					b.Fatal(to, err)
				}
			}
		})
	}
}

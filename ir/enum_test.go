package ir_test

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
)

// enumType is what every enumeration of package ir offers.
type enumType interface {
	~string
	fmt.Stringer
	encoding.TextMarshaler
}

// enumSpec describes one enumeration through closures over plain strings,
// so that one table can test them all.
type enumSpec struct {
	name string
	// values are every constant, in the order the error message lists them.
	values []string
	// unknown is a value that is not one of them.
	unknown   string
	parse     func(string) (string, error)
	str       func(string) string
	marshal   func(string) ([]byte, error)
	unmarshal func([]byte) (string, error)
	// encodeJSON and decodeJSON round-trip the value as a struct field.
	encodeJSON func(string) ([]byte, error)
	decodeJSON func([]byte) (string, error)
}

func newEnumSpec[T enumType, PT interface {
	*T
	encoding.TextUnmarshaler
}](name, unknown string, parse func(string) (T, error), values ...T) enumSpec {
	type doc struct {
		V T `json:"v"`
	}
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return enumSpec{
		name:    name,
		values:  names,
		unknown: unknown,
		parse: func(s string) (string, error) {
			v, err := parse(s)
			return string(v), err
		},
		str:     func(s string) string { return T(s).String() },
		marshal: func(s string) ([]byte, error) { return T(s).MarshalText() },
		unmarshal: func(b []byte) (string, error) {
			var v T
			err := PT(&v).UnmarshalText(b)
			return string(v), err
		},
		encodeJSON: func(s string) ([]byte, error) { return json.Marshal(doc{V: T(s)}) },
		decodeJSON: func(b []byte) (string, error) {
			var d doc
			err := json.Unmarshal(b, &d)
			return string(d.V), err
		},
	}
}

func allEnums() []enumSpec {
	return []enumSpec{
		newEnumSpec("severity", "severe", ir.ParseSeverity,
			ir.SeverityLow, ir.SeverityMedium, ir.SeverityHigh, ir.SeverityCritical),
		newEnumSpec("priority", "P5", ir.ParsePriority,
			ir.PriorityP1, ir.PriorityP2, ir.PriorityP3, ir.PriorityP4),
		newEnumSpec("category", "alien_invasion", ir.ParseCategory,
			ir.CategoryPhishing, ir.CategoryMalware, ir.CategoryRansomware, ir.CategoryAccountCompromise,
			ir.CategoryUnauthorizedAccess, ir.CategoryDataBreach, ir.CategoryDenialOfService,
			ir.CategoryWebAttack, ir.CategoryExploitation, ir.CategoryInsiderThreat,
			ir.CategoryLostDevice, ir.CategoryPolicyViolation, ir.CategoryOther),
		newEnumSpec("tlp", "TLP:WHITE", ir.ParseTLP,
			ir.TLPClear, ir.TLPGreen, ir.TLPAmber, ir.TLPAmberStrict, ir.TLPRed),
		newEnumSpec("functional impact", "catastrophic", ir.ParseFunctionalImpact,
			ir.FunctionalNone, ir.FunctionalLow, ir.FunctionalMedium, ir.FunctionalHigh),
		newEnumSpec("information impact", "leaky", ir.ParseInformationImpact,
			ir.InformationNone, ir.InformationPrivacyBreach, ir.InformationProprietaryBreach,
			ir.InformationIntegrityLoss),
		newEnumSpec("recoverability", "maybe", ir.ParseRecoverability,
			ir.RecoverabilityRegular, ir.RecoverabilitySupplemented, ir.RecoverabilityExtended,
			ir.RecoverabilityNotRecoverable),
		newEnumSpec("verdict", "guilty", ir.ParseVerdict,
			ir.VerdictTruePositive, ir.VerdictBenign, ir.VerdictFalsePositive, ir.VerdictInconclusive),
		newEnumSpec("role", "janitor", ir.ParseRole,
			ir.RoleCommander, ir.RoleDeputy, ir.RoleScribe, ir.RoleCommunications,
			ir.RoleTechnicalLead, ir.RoleAnalyst, ir.RoleLegal, ir.RoleObserver),
		newEnumSpec("actor kind", "robot", ir.ParseActorKind, ir.ActorHuman, ir.ActorService),
		newEnumSpec("observable type", "fingerprint", ir.ParseObservableType,
			ir.ObservableIP, ir.ObservableDomain, ir.ObservableURL, ir.ObservableEmail,
			ir.ObservableMD5, ir.ObservableSHA1, ir.ObservableSHA256, ir.ObservableHost,
			ir.ObservableAccount, ir.ObservableFileName, ir.ObservableProcess,
			ir.ObservableRegistry, ir.ObservableUserAgent, ir.ObservableOther),
		newEnumSpec("asset kind", "toaster", ir.ParseAssetKind,
			ir.AssetHost, ir.AssetAccount, ir.AssetApplication, ir.AssetDatabase,
			ir.AssetNetwork, ir.AssetCloudResource, ir.AssetData, ir.AssetOther),
	}
}

func TestEnumConstantsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range allEnums() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			require.NotEmpty(t, e.values)
			seen := make(map[string]bool)
			for _, v := range e.values {
				assert.Falsef(t, seen[v], "%q listed twice", v)
				seen[v] = true

				for _, spelling := range []string{v, strings.ToUpper(v), strings.ToLower(v), " " + v + "\t"} {
					got, err := e.parse(spelling)
					if assert.NoErrorf(t, err, "parse %q", spelling) {
						assert.Equalf(t, v, got, "parse %q", spelling)
					}
				}
				assert.Equal(t, v, e.str(v), "String")

				text, err := e.marshal(v)
				require.NoError(t, err)
				assert.Equal(t, v, string(text), "MarshalText")
				back, err := e.unmarshal(text)
				require.NoError(t, err)
				assert.Equal(t, v, back, "UnmarshalText")

				back, err = e.unmarshal([]byte(strings.ToUpper(v)))
				require.NoError(t, err)
				assert.Equal(t, v, back, "UnmarshalText of the upper-case name")

				doc, err := e.encodeJSON(v)
				require.NoError(t, err)
				assert.JSONEq(t, `{"v":`+jsonString(t, v)+`}`, string(doc))
				back, err = e.decodeJSON(doc)
				require.NoError(t, err)
				assert.Equal(t, v, back, "JSON round trip")
			}
		})
	}
}

func TestEnumMarshalTextWritesOnlyConstants(t *testing.T) {
	t.Parallel()
	for _, e := range allEnums() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			// A value spelled in another case is either refused or written
			// in canonical form: text is only ever one of the constants.
			for _, v := range e.values {
				for _, spelling := range []string{strings.ToUpper(v), strings.ToLower(v)} {
					if spelling == v {
						continue
					}
					if text, err := e.marshal(spelling); err == nil {
						assert.Equalf(t, v, string(text), "MarshalText of %q", spelling)
					}
				}
			}
		})
	}
}

func TestEnumUnknownValuesRejected(t *testing.T) {
	t.Parallel()
	for _, e := range allEnums() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			wantList := "want one of " + strings.Join(e.values, ", ")

			checkInvalid := func(t *testing.T, what string, err error) {
				t.Helper()
				require.Errorf(t, err, "%s accepted %q", what, e.unknown)
				assert.ErrorIsf(t, err, ir.ErrInvalid, "%s", what)
				var inv *ir.InvalidError
				if assert.ErrorAsf(t, err, &inv, "%s", what) {
					assert.Equal(t, e.name, inv.Field, what)
					assert.Equal(t, e.unknown, inv.Value, what)
				}
				assert.Containsf(t, err.Error(), wantList, "%s: the message lists every valid value", what)
				assert.Containsf(t, err.Error(), e.unknown, "%s: the message names the rejected value", what)
			}

			got, err := e.parse(e.unknown)
			checkInvalid(t, "Parse", err)
			assert.Empty(t, got, "Parse returns the empty value on error")

			_, err = e.unmarshal([]byte(e.unknown))
			checkInvalid(t, "UnmarshalText", err)

			_, err = e.decodeJSON([]byte(`{"v":` + jsonString(t, e.unknown) + `}`))
			checkInvalid(t, "JSON decoding", err)

			_, err = e.marshal(e.unknown)
			checkInvalid(t, "MarshalText", err)
			_, err = e.encodeJSON(e.unknown)
			assert.Error(t, err, "JSON encoding of an unknown value")

			_, err = e.parse("")
			assert.ErrorIs(t, err, ir.ErrInvalid, "Parse of the empty string")
		})
	}
}

func TestEnumEmptyValueMeansUnset(t *testing.T) {
	t.Parallel()
	for _, e := range allEnums() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			text, err := e.marshal("")
			require.NoError(t, err)
			assert.Empty(t, text, "MarshalText of the empty value")

			back, err := e.unmarshal(nil)
			require.NoError(t, err)
			assert.Empty(t, back, "UnmarshalText of empty text")

			doc, err := e.encodeJSON("")
			require.NoError(t, err)
			assert.JSONEq(t, `{"v":""}`, string(doc))
			back, err = e.decodeJSON(doc)
			require.NoError(t, err)
			assert.Empty(t, back)
		})
	}
}

func TestParseTLPAcceptsShortAndPrefixedNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ir.TLP
	}{
		{"amber", ir.TLPAmber},
		{"AMBER", ir.TLPAmber},
		{"TLP:AMBER", ir.TLPAmber},
		{"tlp:amber", ir.TLPAmber},
		{"amber+strict", ir.TLPAmberStrict},
		{"TLP:AMBER+STRICT", ir.TLPAmberStrict},
		{"clear", ir.TLPClear},
		{"Green", ir.TLPGreen},
		{"red", ir.TLPRed},
		{" TLP:RED ", ir.TLPRed},
	}
	for _, tt := range tests {
		got, err := ir.ParseTLP(tt.in)
		if assert.NoErrorf(t, err, "ParseTLP(%q)", tt.in) {
			assert.Equalf(t, tt.want, got, "ParseTLP(%q)", tt.in)
		}
		var v ir.TLP
		if assert.NoErrorf(t, v.UnmarshalText([]byte(tt.in)), "UnmarshalText(%q)", tt.in) {
			assert.Equalf(t, tt.want, v, "UnmarshalText(%q)", tt.in)
		}
	}
	for _, bad := range []string{"white", "TLP:WHITE", "TLP:", "TLP:TLP:AMBER", "amber strict"} {
		_, err := ir.ParseTLP(bad)
		assert.ErrorIsf(t, err, ir.ErrInvalid, "ParseTLP(%q)", bad)
	}
}

func TestParseTLPIgnoresSurroundingSpace(t *testing.T) {
	t.Parallel()
	for _, in := range []string{" amber ", "\tred", "clear\n"} {
		_, err := ir.ParseTLP(in)
		assert.NoErrorf(t, err, "ParseTLP(%q): the short name ignores surrounding space as the prefixed one does", in)
	}
}

func TestSeverityRankOrdersSeverities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    ir.Severity
		want int
	}{
		{ir.SeverityLow, 1},
		{ir.SeverityMedium, 2},
		{ir.SeverityHigh, 3},
		{ir.SeverityCritical, 4},
		{"", 0},
		{"catastrophic", 0},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, tt.s.Rank(), "Rank of %q", tt.s)
	}

	all := ir.Severities()
	assert.Equal(t, []ir.Severity{ir.SeverityLow, ir.SeverityMedium, ir.SeverityHigh, ir.SeverityCritical}, all)
	for i := 1; i < len(all); i++ {
		assert.Less(t, all[i-1].Rank(), all[i].Rank(), "%s ranks below %s", all[i-1], all[i])
	}
	all[0] = "changed"
	assert.Equal(t, ir.SeverityLow, ir.Severities()[0], "Severities returns a copy")
}

func TestDefaultPriorityFollowsSeverity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    ir.Severity
		want ir.Priority
	}{
		{ir.SeverityCritical, ir.PriorityP1},
		{ir.SeverityHigh, ir.PriorityP2},
		{ir.SeverityMedium, ir.PriorityP3},
		{ir.SeverityLow, ir.PriorityP4},
		{"", ir.PriorityP3},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, ir.DefaultPriority(tt.s), "DefaultPriority(%q)", tt.s)
	}
}

func TestRoleExclusive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role ir.Role
		want bool
	}{
		{ir.RoleCommander, true},
		{ir.RoleScribe, true},
		{ir.RoleCommunications, true},
		{ir.RoleDeputy, false},
		{ir.RoleTechnicalLead, false},
		{ir.RoleAnalyst, false},
		{ir.RoleLegal, false},
		{ir.RoleObserver, false},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, tt.role.Exclusive(), "%s.Exclusive()", tt.role)
	}
}

func TestActorString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "Alice Moreau", testAlice.String())
	assert.Equal(t, "dave", ir.Actor{ID: "dave"}.String())
	assert.True(t, ir.Actor{}.IsZero())
	assert.False(t, ir.Actor{ID: "dave"}.IsZero())
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

func TestInvalidErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := ir.ParseSeverity("severe")
	require.Error(t, err)
	assert.Equal(t, `ir: invalid severity "severe": unknown severity; want one of low, medium, high, critical`, err.Error())
	assert.False(t, errors.Is(err, ir.ErrNotFound))
}

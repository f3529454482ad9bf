package stix_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/stix"
	"github.com/incidentkit/incidentkit/phases"
)

// What the incident core extension requires and allows, from the OASIS
// repository cti-stix-common-objects, folder
// extension-definition-specifications/incident-ef7 (the folder the
// published extension-definition object names as its schema):
//
//   - "Incident Extension Suite.adoc" (Incident Core Extension version 2.1,
//     draft of 20 February 2024): section 2.1 (the property table, the
//     extension ID), 3.4 (incident-score), 4.2 (detection-methods-ov), 4.4
//     (event-type-ov), 4.6 (incident-investigation-ov), 5.5
//     (incident-determination-enum), 5.8 (recoverability-enum) and
//     Appendix B (criticality mapping);
//   - extension-definition--ef765651-680c-498d-9894-99799f2fa126.json, the
//     extension's JSON schema: its required list, its closed property list
//     (additionalProperties false), the determination enum and the
//     criticality bounds.
var (
	coreExtensionID = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
	// coreRequiredProps: section 2.1 and the schema's "required".
	coreRequiredProps = []string{"extension_type", "determination", "investigation_status"}
	// coreProps: every property of section 2.1's table; the schema allows
	// no others.
	coreProps = []string{
		"criticality", "detection_methods", "determination", "events", "extension_type", "impact_refs",
		"impacted_entity_counts", "incident_types", "investigation_status", "recoverability", "scores", "tasks",
	}
	// determinationEnum: section 5.5 and the schema's enum.
	determinationEnum = []string{"blocked", "confirmed", "failed-attempt", "false-positive", "suspected"}
	// investigationOV: section 4.6.
	investigationOV = []string{"closed", "new", "open"}
	// recoverabilityEnum: section 5.8 and the schema's Recoverability.
	recoverabilityEnum = []string{"extended", "not-applicable", "not-recoverable", "regular", "supplemented"}
	// detectionMethodsOV: section 4.2.
	detectionMethodsOV = []string{
		"automated-tool", "commercial-solution", "external-notification", "human-review",
		"message-from-attacker", "propriety-solution", "system-outage", "user-reporting",
	}
	// criticality5Qualitative: Appendix B, the "5 Qualitative" table
	// (False Positive, Low, Moderate, High, Extreme).
	criticality5Qualitative = []float64{0, 15, 40, 70, 95}
	// scoreRequired: section 3.4.
	scoreRequired = []string{"name", "value"}
	// eventTypeOV: section 4.4, which section 2.1 names as the vocabulary
	// of incident_types.
	eventTypeOV = []string{
		"aggregation-information-phishing-schemes", "benign", "blocked", "brute-force-attempt",
		"c&c-server-hosting", "compromised-system", "confirmed", "connection-malware-port",
		"connection-malware-system", "content-forbidden-by-law", "control-system-bypass",
		"copyrighted-content", "data-exfiltration", "deferred", "deletion-information",
		"denial-of-service", "destruction", "dictionary-attack-attempt", "discarded",
		"disruption-data-transmission", "dissemination-malware-email", "dissemination-phishing-emails",
		"dns-cache-poisoning", "dns-local-resolver-hijacking", "dns-spoofing-registered", "dns-rebinding",
		"dns-server-compromise", "dns-spoofing-unregistered", "dns-stub-resolver-hijacking",
		"dns-zone-transfer", "domain-name-compromise", "duplicate", "email-flooding", "equipment-loss",
		"equipment-theft", "exploit", "exploit-attempt", "exploit-framework-exhausting-resources",
		"exploit-tool-exhausting-resources", "failed", "file-inclusion", "file-inclusion-attempt",
		"hosting-malware-webpage", "hosting-phishing-sites", "illegitimate-use-name",
		"illegitimate-use-resources", "infected-by-known-malware", "insufficient-data", "known-malware",
		"lame-delegations", "major", "modification-information", "misconfiguration", "natural",
		"negotiation", "network-scanning", "no-apt", "packet-flood", "password-cracking-attempt",
		"policy-violation", "ransomware", "ransomware-payment", "refuted", "scan-probe",
		"silently-discarded", "supply-chain-customer", "supply-chain-vendor", "spam", "sql-injection",
		"sql-injection-attempt", "successful", "system-probe", "theft-access-credentials", "unattributed",
		"unauthorized-access-information", "unauthorized-access-system", "unauthorized-equipment",
		"unauthorized-release", "unauthorized-use", "undetermined", "unintentional", "unknown-apt",
		"unspecified", "vandalism", "wiretapping", "worm-spreading", "xss", "xss-attempt",
	}
	// extensionPropertyRE is the rule for property names of STIX 2.1
	// stix-2.1/schemas/common/properties.json, which every extension's
	// properties follow (common/extension.json).
	extensionPropertyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{2,249}$`)
)

// incidentCore returns the incident core extension of an incident object
// as a consumer reads it.
func incidentCore(t *testing.T, o map[string]any) map[string]any {
	t.Helper()
	exts, ok := o["extensions"].(map[string]any)
	require.True(t, ok, "%s has no extensions", o["id"])
	ext, ok := exts[coreExtensionID].(map[string]any)
	require.True(t, ok, "%s lacks the incident core extension", o["id"])
	return ext
}

// checkIncidentCore checks the incident core extension of an incident
// object against what the extension's specification requires.
func checkIncidentCore(t *testing.T, o map[string]any) {
	t.Helper()
	assert.Len(t, o["extensions"], 1, "the incident has one extension")
	ext := incidentCore(t, o)
	for _, p := range coreRequiredProps {
		assert.Contains(t, ext, p)
	}
	for p := range ext {
		assert.Contains(t, coreProps, p, "the extension defines no property %s", p)
		assert.Regexp(t, extensionPropertyRE, p)
	}
	assert.Equal(t, "property-extension", ext["extension_type"])
	assert.Contains(t, determinationEnum, ext["determination"])
	assert.Contains(t, investigationOV, ext["investigation_status"])
	if c, ok := ext["criticality"]; ok {
		assert.Contains(t, criticality5Qualitative, c)
	}
	if r, ok := ext["recoverability"]; ok {
		assert.Contains(t, recoverabilityEnum, r)
	}
	for _, p := range []string{"incident_types", "detection_methods"} {
		if v, ok := ext[p]; ok {
			// The schema gives both lists at least one item.
			assert.NotEmpty(t, v, "%s is empty", p)
		}
	}
	if v, ok := ext["incident_types"].([]any); ok {
		for _, s := range v {
			assert.Contains(t, eventTypeOV, s)
		}
	}
	if v, ok := ext["detection_methods"].([]any); ok {
		for _, s := range v {
			assert.Contains(t, detectionMethodsOV, s)
		}
	}
	if v, ok := ext["scores"]; ok {
		for _, s := range v.([]any) {
			score := s.(map[string]any)
			for _, p := range scoreRequired {
				assert.Contains(t, score, p)
			}
			assert.IsType(t, "", score["name"])
			assert.IsType(t, float64(0), score["value"])
		}
	}
}

func TestIncidentCoreExtensionID(t *testing.T) {
	t.Parallel()
	assert.Equal(t, coreExtensionID, stix.IncidentCoreExtensionID)
	assert.Regexp(t, identifierRE, stix.IncidentCoreExtensionID)
}

// exportCore exports inc and returns its incident's core extension, after
// checking the whole bundle.
func exportCore(t *testing.T, inc *ir.Incident) map[string]any {
	t.Helper()
	b, err := stix.Marshal(inc, stix.Options{})
	require.NoError(t, err)
	objs := checkBundle(t, b)
	incs := ofType(objs, "incident")
	require.Len(t, incs, 1)
	return incidentCore(t, incs[0])
}

func TestIncidentCoreOfTheSample(t *testing.T) {
	t.Parallel()
	assert.Equal(t, map[string]any{
		"extension_type":       "property-extension",
		"determination":        "suspected",
		"investigation_status": "open",
		"criticality":          float64(70),
		"incident_types":       []any{"dissemination-phishing-emails"},
		"scores": []any{
			map[string]any{
				"name": "incidentkit priority", "value": float64(2),
				"description": "How soon the incident must be worked: 1 (P1, the most urgent) to 4 (P4).",
			},
			map[string]any{
				"name": "incidentkit functional impact", "value": float64(1),
				"description": "The NIST SP 800-61 functional impact: 0 (none), 1 (low), 2 (medium) or 3 (high).",
			},
		},
	}, exportCore(t, sample()))
}

func TestIncidentCoreDetermination(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		verdict     ir.Verdict
		want        string
		criticality any // for a high-severity incident
	}{
		{"", "suspected", float64(70)},
		{ir.VerdictInconclusive, "suspected", float64(70)},
		{ir.VerdictTruePositive, "confirmed", float64(70)},
		{ir.VerdictFalsePositive, "false-positive", float64(0)},
		{ir.VerdictBenign, "false-positive", float64(0)},
	} {
		t.Run(string(tc.verdict), func(t *testing.T) {
			t.Parallel()
			inc := sample()
			inc.Verdict = tc.verdict
			ext := exportCore(t, inc)
			assert.Equal(t, tc.want, ext["determination"])
			assert.Equal(t, tc.criticality, ext["criticality"])
		})
	}
}

func TestIncidentCoreInvestigationStatus(t *testing.T) {
	t.Parallel()
	fresh := func() *ir.Incident {
		inc := sample()
		inc.Phase = phases.DetectionAndAnalysis
		inc.PhaseHistory = []ir.PhaseInterval{{Phase: phases.DetectionAndAnalysis, Entered: at(0)}}
		inc.Times = ir.Lifecycle{Opened: at(0)}
		return inc
	}
	for _, tc := range []struct {
		name   string
		change func(*ir.Incident)
		want   string
	}{
		{"just opened", func(*ir.Incident) {}, "new"},
		{"acknowledged", func(inc *ir.Incident) { inc.Times.Acknowledged = at(3) }, "open"},
		{"moved on", func(inc *ir.Incident) {
			inc.PhaseHistory[0].Left = at(30)
			inc.Phase = phases.ContainmentEradicationRecovery
			inc.PhaseHistory = append(inc.PhaseHistory, ir.PhaseInterval{Phase: inc.Phase, Entered: at(30)})
		}, "open"},
		{"resolved", func(inc *ir.Incident) { inc.Times.Acknowledged, inc.Times.Resolved = at(3), at(40) }, "open"},
		{"closed", func(inc *ir.Incident) { inc.Times.Acknowledged, inc.Times.Closed = at(3), at(45) }, "closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inc := fresh()
			tc.change(inc)
			assert.Equal(t, tc.want, exportCore(t, inc)["investigation_status"])
		})
	}
}

func TestIncidentCoreCriticality(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		severity ir.Severity
		want     any
	}{
		{"", nil},
		{ir.SeverityLow, float64(15)},
		{ir.SeverityMedium, float64(40)},
		{ir.SeverityHigh, float64(70)},
		{ir.SeverityCritical, float64(95)},
	} {
		inc := sample()
		inc.Severity = tc.severity
		ext := exportCore(t, inc)
		assert.Equal(t, tc.want, ext["criticality"], "severity %q", tc.severity)
		if tc.want == nil {
			assert.NotContains(t, ext, "criticality")
		}
	}
}

// TestIncidentCoreTypes maps every category the library has.
func TestIncidentCoreTypes(t *testing.T) {
	t.Parallel()
	want := map[ir.Category]string{
		ir.CategoryPhishing:           "dissemination-phishing-emails",
		ir.CategoryMalware:            "infected-by-known-malware",
		ir.CategoryRansomware:         "ransomware",
		ir.CategoryAccountCompromise:  "theft-access-credentials",
		ir.CategoryUnauthorizedAccess: "unauthorized-access-system",
		ir.CategoryDataBreach:         "unauthorized-release",
		ir.CategoryDenialOfService:    "denial-of-service",
		ir.CategoryWebAttack:          "",
		ir.CategoryExploitation:       "exploit",
		ir.CategoryInsiderThreat:      "",
		ir.CategoryLostDevice:         "equipment-loss",
		ir.CategoryPolicyViolation:    "policy-violation",
		ir.CategoryOther:              "unspecified",
	}
	for c, typ := range want {
		_, err := ir.ParseCategory(string(c))
		require.NoError(t, err)
		inc := sample()
		inc.Category = c
		ext := exportCore(t, inc)
		if typ == "" {
			assert.NotContains(t, ext, "incident_types", "category %s", c)
			continue
		}
		assert.Contains(t, eventTypeOV, typ)
		assert.Equal(t, []any{typ}, ext["incident_types"], "category %s", c)
	}
}

func TestIncidentCoreRecoverability(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r    ir.Recoverability
		want any
	}{
		{"", nil},
		{ir.RecoverabilityRegular, "regular"},
		{ir.RecoverabilitySupplemented, "supplemented"},
		{ir.RecoverabilityExtended, "extended"},
		{ir.RecoverabilityNotRecoverable, "not-recoverable"},
	} {
		inc := sample()
		inc.Impact.Recoverability = tc.r
		assert.Equal(t, tc.want, exportCore(t, inc)["recoverability"], "recoverability %q", tc.r)
	}
}

func TestIncidentCoreDetectionMethods(t *testing.T) {
	t.Parallel()
	inc := sample()
	assert.NotContains(t, exportCore(t, inc), "detection_methods", "a person opened it")
	inc.OpenedBy = ir.Actor{ID: "siem", Name: "SIEM", Kind: ir.ActorService}
	assert.Equal(t, []any{"automated-tool"}, exportCore(t, inc)["detection_methods"])
}

func TestIncidentCoreScores(t *testing.T) {
	t.Parallel()
	scores := func(ext map[string]any) map[string]any {
		out := map[string]any{}
		if v, ok := ext["scores"].([]any); ok {
			for _, s := range v {
				s := s.(map[string]any)
				out[s["name"].(string)] = s["value"]
			}
		}
		return out
	}
	for i, p := range []ir.Priority{ir.PriorityP1, ir.PriorityP2, ir.PriorityP3, ir.PriorityP4} {
		inc := sample()
		inc.Priority = p
		assert.Equal(t, float64(i+1), scores(exportCore(t, inc))["incidentkit priority"], "%s", p)
	}
	for i, f := range []ir.FunctionalImpact{ir.FunctionalNone, ir.FunctionalLow, ir.FunctionalMedium, ir.FunctionalHigh} {
		inc := sample()
		inc.Impact.Functional = f
		assert.Equal(t, float64(i), scores(exportCore(t, inc))["incidentkit functional impact"], "%s", f)
	}
	inc := sample()
	inc.Priority, inc.Impact = "", ir.Impact{}
	assert.NotContains(t, exportCore(t, inc), "scores", "nothing to score")
}

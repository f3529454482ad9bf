package stix

import (
	"strings"

	"github.com/incidentkit/incidentkit/ir"
)

// IncidentCoreExtensionID is the identifier of the extension-definition
// object of the incident core extension, published by OASIS in its STIX
// common objects repository; the extension is keyed by it in the
// incident's extensions.
const IncidentCoreExtensionID = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"

// Values of the incident core extension's determination
// (incident-determination-enum) and investigation_status
// (incident-investigation-ov) that the export writes.
const (
	determinationConfirmed     = "confirmed"
	determinationFalsePositive = "false-positive"
	determinationSuspected     = "suspected"

	investigationNew    = "new"
	investigationOpen   = "open"
	investigationClosed = "closed"
)

// incidentCore returns the incident core extension of inc, as listed in
// the package documentation.
func incidentCore(inc *ir.Incident) *IncidentCore {
	c := &IncidentCore{
		ExtensionType:       "property-extension",
		Determination:       determination(inc.Verdict),
		InvestigationStatus: investigationStatus(inc),
		Criticality:         criticality(inc.Severity, inc.Verdict),
		Recoverability:      recoverability(inc.Impact.Recoverability),
	}
	if inc.OpenedBy.Kind == ir.ActorService {
		c.DetectionMethods = []string{"automated-tool"}
	}
	if t := incidentType(inc.Category); t != "" {
		c.IncidentTypes = []string{t}
	}
	if s, ok := priorityScore(inc.Priority); ok {
		c.Scores = append(c.Scores, s)
	}
	if s, ok := functionalImpactScore(inc.Impact.Functional); ok {
		c.Scores = append(c.Scores, s)
	}
	return c
}

// determination maps the verdict: a true positive is confirmed, a false
// positive and a benign finding are false positives, and no verdict or an
// inconclusive one leaves the incident suspected.
func determination(v ir.Verdict) string {
	switch v {
	case ir.VerdictTruePositive:
		return determinationConfirmed
	case ir.VerdictFalsePositive, ir.VerdictBenign:
		return determinationFalsePositive
	default:
		return determinationSuspected
	}
}

// investigationStatus is closed for a closed incident, new for one still
// in the phase it was opened in that nobody has acknowledged, and open
// otherwise.
func investigationStatus(inc *ir.Incident) string {
	switch {
	case !inc.IsOpen():
		return investigationClosed
	case inc.Times.Acknowledged.IsZero() && stillInFirstPhase(inc):
		return investigationNew
	default:
		return investigationOpen
	}
}

func stillInFirstPhase(inc *ir.Incident) bool {
	return len(inc.PhaseHistory) == 0 ||
		len(inc.PhaseHistory) == 1 && inc.Phase == inc.PhaseHistory[0].Phase
}

// criticality maps the severity onto the "5 Qualitative" scale of the
// extension's criticality mapping: low is Low (15), medium Moderate (40),
// high High (70) and critical Extreme (95); an incident found to be a
// false positive is False Positive (0). An incident without a severity
// has no criticality.
func criticality(s ir.Severity, v ir.Verdict) *int {
	var n int
	switch {
	case determination(v) == determinationFalsePositive:
		n = 0
	case s == ir.SeverityLow:
		n = 15
	case s == ir.SeverityMedium:
		n = 40
	case s == ir.SeverityHigh:
		n = 70
	case s == ir.SeverityCritical:
		n = 95
	default:
		return nil
	}
	return &n
}

// incidentTypes maps each category onto the event-type-ov value that
// describes it; web_attack and insider_threat have none.
var incidentTypes = map[ir.Category]string{
	ir.CategoryPhishing:           "dissemination-phishing-emails",
	ir.CategoryMalware:            "infected-by-known-malware",
	ir.CategoryRansomware:         "ransomware",
	ir.CategoryAccountCompromise:  "theft-access-credentials",
	ir.CategoryUnauthorizedAccess: "unauthorized-access-system",
	ir.CategoryDataBreach:         "unauthorized-release",
	ir.CategoryDenialOfService:    "denial-of-service",
	ir.CategoryExploitation:       "exploit",
	ir.CategoryLostDevice:         "equipment-loss",
	ir.CategoryPolicyViolation:    "policy-violation",
	ir.CategoryOther:              "unspecified",
}

func incidentType(c ir.Category) string { return incidentTypes[c] }

// recoverability writes the NIST SP 800-61 level in the extension's
// recoverability-enum, which has the same levels with hyphens.
func recoverability(r ir.Recoverability) string {
	return strings.ReplaceAll(string(r), "_", "-")
}

var (
	priorityScores = map[ir.Priority]float64{ir.PriorityP1: 1, ir.PriorityP2: 2, ir.PriorityP3: 3, ir.PriorityP4: 4}

	functionalImpactScores = map[ir.FunctionalImpact]float64{
		ir.FunctionalNone: 0, ir.FunctionalLow: 1, ir.FunctionalMedium: 2, ir.FunctionalHigh: 3,
	}
)

// priorityScore is the incident's priority as a score: 1 for P1 (the most
// urgent) to 4 for P4.
func priorityScore(p ir.Priority) (IncidentScore, bool) {
	n, ok := priorityScores[p]
	if !ok {
		return IncidentScore{}, false
	}
	return IncidentScore{
		Name: "incidentkit priority", Value: n,
		Description: "How soon the incident must be worked: 1 (P1, the most urgent) to 4 (P4).",
	}, true
}

// functionalImpactScore is the NIST SP 800-61 functional impact as a
// score: 0 for none to 3 for high.
func functionalImpactScore(f ir.FunctionalImpact) (IncidentScore, bool) {
	n, ok := functionalImpactScores[f]
	if !ok {
		return IncidentScore{}, false
	}
	return IncidentScore{
		Name: "incidentkit functional impact", Value: n,
		Description: "The NIST SP 800-61 functional impact: 0 (none), 1 (low), 2 (medium) or 3 (high).",
	}, true
}

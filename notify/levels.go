package notify

import "strings"

// TLP is a Traffic Light Protocol (FIRST TLP 2.0) label: how far
// information about an incident may be shared.
type TLP string

// TLP labels, from the least to the most restricted.
const (
	TLPClear       TLP = "TLP:CLEAR"
	TLPGreen       TLP = "TLP:GREEN"
	TLPAmber       TLP = "TLP:AMBER"
	TLPAmberStrict TLP = "TLP:AMBER+STRICT"
	TLPRed         TLP = "TLP:RED"
)

var tlps = []TLP{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}

// ParseTLP returns the label s names, ignoring case, with or without the
// "TLP:" prefix ("amber" and "TLP:AMBER" both work), or an error matching
// [ErrInvalid].
func ParseTLP(s string) (TLP, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(t, "TLP:") {
		t = "TLP:" + t
	}
	for _, v := range tlps {
		if string(v) == t {
			return v, nil
		}
	}
	return "", invalid("tlp", s, "want one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED")
}

// rank orders labels from 1 (CLEAR) to 5 (RED); an unknown label ranks
// as RED, so that a message whose marking cannot be read is shared least.
func (t TLP) rank() int {
	if p, err := ParseTLP(string(t)); err == nil {
		for i, v := range tlps {
			if v == p {
				return i + 1
			}
		}
	}
	return len(tlps)
}

// Severities, from least to most severe, as [Incident.Severity] holds
// them.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

var severities = []string{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// severityRank orders severities from 1 (low) to 4 (critical); 0 for an
// unset or unknown one.
func severityRank(s string) int {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, v := range severities {
		if v == s {
			return i + 1
		}
	}
	return 0
}

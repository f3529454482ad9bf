package ir

import "github.com/incidentkit/incidentkit/phases"

// Verdict is the conclusion about what an incident was. Its zero value
// means "not set yet"; the built-in phase models require one before closing.
type Verdict string

// Verdicts.
const (
	// VerdictTruePositive: malicious or harmful activity really happened.
	VerdictTruePositive Verdict = "true_positive"
	// VerdictBenign: the activity was real but harmless (an authorised
	// test, an administrator at work).
	VerdictBenign Verdict = phases.VerdictBenign
	// VerdictFalsePositive: the alert was wrong; nothing happened.
	VerdictFalsePositive Verdict = phases.VerdictFalsePositive
	// VerdictInconclusive: the evidence does not support a conclusion.
	VerdictInconclusive Verdict = "inconclusive"
)

var verdicts = []Verdict{VerdictTruePositive, VerdictBenign, VerdictFalsePositive, VerdictInconclusive}

// ParseVerdict returns the verdict s names, or an [*InvalidError].
func ParseVerdict(s string) (Verdict, error) { return parseEnum("verdict", s, verdicts) }

// String returns the verdict's name.
func (v Verdict) String() string { return string(v) }

// MarshalText encodes the verdict, refusing unknown values.
func (v Verdict) MarshalText() ([]byte, error) { return marshalEnum("verdict", v, verdicts) }

// UnmarshalText decodes a verdict, refusing unknown values.
func (v *Verdict) UnmarshalText(b []byte) error { return unmarshalEnum("verdict", v, b, verdicts) }

package ir

// Severity is how bad an incident is. Its zero value means "not set".
type Severity string

// Severities, from least to most severe.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

var severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Severities returns every severity, from least to most severe.
func Severities() []Severity { return append([]Severity(nil), severities...) }

// ParseSeverity returns the severity s names, ignoring case, or an
// [*InvalidError] for an unknown name.
func ParseSeverity(s string) (Severity, error) { return parseEnum("severity", s, severities) }

// String returns the severity's name.
func (s Severity) String() string { return string(s) }

// Rank orders severities: 1 for low up to 4 for critical, 0 if unset or
// unknown.
func (s Severity) Rank() int {
	for i, v := range severities {
		if v == s {
			return i + 1
		}
	}
	return 0
}

// MarshalText encodes the severity, refusing unknown values.
func (s Severity) MarshalText() ([]byte, error) { return marshalEnum("severity", s, severities) }

// UnmarshalText decodes a severity, refusing unknown values.
func (s *Severity) UnmarshalText(b []byte) error {
	return unmarshalEnum("severity", s, b, severities)
}

// Priority is how soon an incident must be worked, P1 first. Its zero value
// means "not set"; opening an incident without one derives it from the
// severity.
type Priority string

// Priorities, most urgent first.
const (
	PriorityP1 Priority = "P1"
	PriorityP2 Priority = "P2"
	PriorityP3 Priority = "P3"
	PriorityP4 Priority = "P4"
)

var priorities = []Priority{PriorityP1, PriorityP2, PriorityP3, PriorityP4}

// ParsePriority returns the priority s names, ignoring case, or an
// [*InvalidError] for an unknown name.
func ParsePriority(s string) (Priority, error) { return parseEnum("priority", s, priorities) }

// String returns the priority's name.
func (p Priority) String() string { return string(p) }

// MarshalText encodes the priority, refusing unknown values.
func (p Priority) MarshalText() ([]byte, error) { return marshalEnum("priority", p, priorities) }

// UnmarshalText decodes a priority, refusing unknown values.
func (p *Priority) UnmarshalText(b []byte) error {
	return unmarshalEnum("priority", p, b, priorities)
}

// DefaultPriority returns the priority an incident of severity s gets when
// none is given: critical P1, high P2, medium P3, low P4.
func DefaultPriority(s Severity) Priority {
	switch s {
	case SeverityCritical:
		return PriorityP1
	case SeverityHigh:
		return PriorityP2
	case SeverityLow:
		return PriorityP4
	default:
		return PriorityP3
	}
}

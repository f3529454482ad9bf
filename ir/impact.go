package ir

import "slices"

// Impact is the NIST SP 800-61r2 (section 3.2.6) assessment of an incident:
// its effect on the business, on information, and how hard recovery is.
type Impact struct {
	Functional     FunctionalImpact    `json:"functional,omitempty"`
	Information    []InformationImpact `json:"information,omitempty"`
	Recoverability Recoverability      `json:"recoverability,omitempty"`
}

// FunctionalImpact is the effect on the organisation's ability to provide
// its services (NIST SP 800-61r2 table 3-2).
type FunctionalImpact string

// Functional impact levels.
const (
	FunctionalNone   FunctionalImpact = "none"
	FunctionalLow    FunctionalImpact = "low"
	FunctionalMedium FunctionalImpact = "medium"
	FunctionalHigh   FunctionalImpact = "high"
)

var functionalImpacts = []FunctionalImpact{FunctionalNone, FunctionalLow, FunctionalMedium, FunctionalHigh}

// ParseFunctionalImpact returns the level s names, or an [*InvalidError].
func ParseFunctionalImpact(s string) (FunctionalImpact, error) {
	return parseEnum("functional impact", s, functionalImpacts)
}

// String returns the level's name.
func (f FunctionalImpact) String() string { return string(f) }

// MarshalText encodes the level, refusing unknown values.
func (f FunctionalImpact) MarshalText() ([]byte, error) {
	return marshalEnum("functional impact", f, functionalImpacts)
}

// UnmarshalText decodes a level, refusing unknown values.
func (f *FunctionalImpact) UnmarshalText(b []byte) error {
	return unmarshalEnum("functional impact", f, b, functionalImpacts)
}

// InformationImpact is the effect on information (NIST SP 800-61r2 table
// 3-3). Several may apply at once.
type InformationImpact string

// Information impacts.
const (
	InformationNone              InformationImpact = "none"
	InformationPrivacyBreach     InformationImpact = "privacy_breach"
	InformationProprietaryBreach InformationImpact = "proprietary_breach"
	InformationIntegrityLoss     InformationImpact = "integrity_loss"
)

var informationImpacts = []InformationImpact{
	InformationNone, InformationPrivacyBreach, InformationProprietaryBreach, InformationIntegrityLoss,
}

// ParseInformationImpact returns the impact s names, or an [*InvalidError].
func ParseInformationImpact(s string) (InformationImpact, error) {
	return parseEnum("information impact", s, informationImpacts)
}

// String returns the impact's name.
func (i InformationImpact) String() string { return string(i) }

// MarshalText encodes the impact, refusing unknown values.
func (i InformationImpact) MarshalText() ([]byte, error) {
	return marshalEnum("information impact", i, informationImpacts)
}

// UnmarshalText decodes an impact, refusing unknown values.
func (i *InformationImpact) UnmarshalText(b []byte) error {
	return unmarshalEnum("information impact", i, b, informationImpacts)
}

// Recoverability is how much effort recovery takes (NIST SP 800-61r2 table
// 3-4).
type Recoverability string

// Recoverability levels.
const (
	RecoverabilityRegular        Recoverability = "regular"
	RecoverabilitySupplemented   Recoverability = "supplemented"
	RecoverabilityExtended       Recoverability = "extended"
	RecoverabilityNotRecoverable Recoverability = "not_recoverable"
)

var recoverabilities = []Recoverability{
	RecoverabilityRegular, RecoverabilitySupplemented, RecoverabilityExtended, RecoverabilityNotRecoverable,
}

// ParseRecoverability returns the level s names, or an [*InvalidError].
func ParseRecoverability(s string) (Recoverability, error) {
	return parseEnum("recoverability", s, recoverabilities)
}

// String returns the level's name.
func (r Recoverability) String() string { return string(r) }

// MarshalText encodes the level, refusing unknown values.
func (r Recoverability) MarshalText() ([]byte, error) {
	return marshalEnum("recoverability", r, recoverabilities)
}

// UnmarshalText decodes a level, refusing unknown values.
func (r *Recoverability) UnmarshalText(b []byte) error {
	return unmarshalEnum("recoverability", r, b, recoverabilities)
}

// normalize checks every part of the impact and returns it with canonical
// values and no repeated information impacts.
func (im Impact) normalize() (Impact, error) {
	var out Impact
	var err error
	if im.Functional != "" {
		if out.Functional, err = ParseFunctionalImpact(string(im.Functional)); err != nil {
			return Impact{}, err
		}
	}
	if im.Recoverability != "" {
		if out.Recoverability, err = ParseRecoverability(string(im.Recoverability)); err != nil {
			return Impact{}, err
		}
	}
	for _, i := range im.Information {
		v, err := ParseInformationImpact(string(i))
		if err != nil {
			return Impact{}, err
		}
		if !slices.Contains(out.Information, v) {
			out.Information = append(out.Information, v)
		}
	}
	return out, nil
}

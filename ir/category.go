package ir

import "strings"

// Category is the kind of incident.
type Category string

// Categories of incident.
const (
	CategoryPhishing           Category = "phishing"
	CategoryMalware            Category = "malware"
	CategoryRansomware         Category = "ransomware"
	CategoryAccountCompromise  Category = "account_compromise"
	CategoryUnauthorizedAccess Category = "unauthorized_access"
	CategoryDataBreach         Category = "data_breach"
	CategoryDenialOfService    Category = "denial_of_service"
	CategoryWebAttack          Category = "web_attack"
	CategoryExploitation       Category = "exploitation"
	CategoryInsiderThreat      Category = "insider_threat"
	CategoryLostDevice         Category = "lost_device"
	CategoryPolicyViolation    Category = "policy_violation"
	// CategoryOther is given to incidents opened without a category.
	CategoryOther Category = "other"
)

var categories = []Category{
	CategoryPhishing, CategoryMalware, CategoryRansomware, CategoryAccountCompromise,
	CategoryUnauthorizedAccess, CategoryDataBreach, CategoryDenialOfService, CategoryWebAttack,
	CategoryExploitation, CategoryInsiderThreat, CategoryLostDevice, CategoryPolicyViolation,
	CategoryOther,
}

// ParseCategory returns the category s names, ignoring case, or an
// [*InvalidError] for an unknown name.
func ParseCategory(s string) (Category, error) { return parseEnum("category", s, categories) }

// String returns the category's name.
func (c Category) String() string { return string(c) }

// MarshalText encodes the category, refusing unknown values.
func (c Category) MarshalText() ([]byte, error) { return marshalEnum("category", c, categories) }

// UnmarshalText decodes a category, refusing unknown values.
func (c *Category) UnmarshalText(b []byte) error {
	return unmarshalEnum("category", c, b, categories)
}

// TLP is the Traffic Light Protocol (FIRST TLP 2.0) label that says how far
// information about the incident may be shared.
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
// "TLP:" prefix ("amber" and "TLP:AMBER" both work), or an [*InvalidError].
func ParseTLP(s string) (TLP, error) {
	s = strings.TrimSpace(s)
	if t, err := parseEnum("tlp", s, tlps); err == nil {
		return t, nil
	}
	if t, err := parseEnum("tlp", "TLP:"+s, tlps); err == nil {
		return t, nil
	}
	return parseEnum("tlp", s, tlps)
}

// String returns the label, such as "TLP:AMBER".
func (t TLP) String() string { return string(t) }

// MarshalText encodes the label, refusing unknown values.
func (t TLP) MarshalText() ([]byte, error) { return marshalEnum("tlp", t, tlps) }

// UnmarshalText decodes a label as [ParseTLP] does.
func (t *TLP) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = ""
		return nil
	}
	v, err := ParseTLP(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

package stix

// SpecVersion is the STIX version of every object in the bundle.
const SpecVersion = "2.1"

// Bundle is a STIX 2.1 bundle. It is a plain value, safe to share once
// built.
type Bundle struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	// Objects holds *Identity, *MarkingDefinition, *Incident,
	// *Observable, *ObservedData, *Indicator, *Relationship and *Note
	// values, in the order described in the package documentation.
	Objects []any `json:"objects"`
}

// Identity is a STIX identity object.
type Identity struct {
	Type          string `json:"type"`
	SpecVersion   string `json:"spec_version"`
	ID            string `json:"id"`
	Created       string `json:"created"`
	Modified      string `json:"modified"`
	Name          string `json:"name"`
	IdentityClass string `json:"identity_class,omitempty"`
}

// MarkingDefinition is a STIX marking-definition object: a TLP 1.0
// marking or a statement.
type MarkingDefinition struct {
	Type           string            `json:"type"`
	SpecVersion    string            `json:"spec_version"`
	ID             string            `json:"id"`
	Created        string            `json:"created"`
	Name           string            `json:"name,omitempty"`
	DefinitionType string            `json:"definition_type"`
	Definition     map[string]string `json:"definition"`
}

// ExternalReference is a STIX external reference.
type ExternalReference struct {
	SourceName string `json:"source_name"`
	ExternalID string `json:"external_id,omitempty"`
	URL        string `json:"url,omitempty"`
}

// Incident is a STIX incident object.
type Incident struct {
	Type               string              `json:"type"`
	SpecVersion        string              `json:"spec_version"`
	ID                 string              `json:"id"`
	CreatedByRef       string              `json:"created_by_ref"`
	Created            string              `json:"created"`
	Modified           string              `json:"modified"`
	Name               string              `json:"name"`
	Description        string              `json:"description,omitempty"`
	Labels             []string            `json:"labels,omitempty"`
	ExternalReferences []ExternalReference `json:"external_references"`
	ObjectMarkingRefs  []string            `json:"object_marking_refs,omitempty"`
}

// Observable is a STIX Cyber-observable Object (SCO) of one of the types
// this package writes; only the properties of its type are set.
type Observable struct {
	Type        string `json:"type"`
	SpecVersion string `json:"spec_version"`
	ID          string `json:"id"`
	// Value is set for ipv4-addr, ipv6-addr, domain-name, url and
	// email-addr.
	Value string `json:"value,omitempty"`
	// Hashes or Name are set for file.
	Hashes map[string]string `json:"hashes,omitempty"`
	Name   string            `json:"name,omitempty"`
	// UserID is set for user-account.
	UserID string `json:"user_id,omitempty"`
	// Key is set for windows-registry-key.
	Key               string   `json:"key,omitempty"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
}

// ObservedData is a STIX observed-data object.
type ObservedData struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	CreatedByRef      string   `json:"created_by_ref"`
	Created           string   `json:"created"`
	Modified          string   `json:"modified"`
	FirstObserved     string   `json:"first_observed"`
	LastObserved      string   `json:"last_observed"`
	NumberObserved    int      `json:"number_observed"`
	ObjectRefs        []string `json:"object_refs"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
}

// Indicator is a STIX indicator object.
type Indicator struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	CreatedByRef      string   `json:"created_by_ref"`
	Created           string   `json:"created"`
	Modified          string   `json:"modified"`
	Name              string   `json:"name"`
	Description       string   `json:"description,omitempty"`
	IndicatorTypes    []string `json:"indicator_types"`
	Pattern           string   `json:"pattern"`
	PatternType       string   `json:"pattern_type"`
	PatternVersion    string   `json:"pattern_version"`
	ValidFrom         string   `json:"valid_from"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
}

// Relationship is a STIX relationship object.
type Relationship struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	CreatedByRef      string   `json:"created_by_ref"`
	Created           string   `json:"created"`
	Modified          string   `json:"modified"`
	RelationshipType  string   `json:"relationship_type"`
	SourceRef         string   `json:"source_ref"`
	TargetRef         string   `json:"target_ref"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
}

// Note is a STIX note object.
type Note struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	CreatedByRef      string   `json:"created_by_ref"`
	Created           string   `json:"created"`
	Modified          string   `json:"modified"`
	Abstract          string   `json:"abstract"`
	Content           string   `json:"content"`
	ObjectRefs        []string `json:"object_refs"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
}

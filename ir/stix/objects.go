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
	// Extensions holds the incident core extension.
	Extensions *IncidentExtensions `json:"extensions,omitempty"`
}

// IncidentExtensions is the extensions property of an incident: the
// incident core extension, under its extension definition's identifier
// ([IncidentCoreExtensionID]).
type IncidentExtensions struct {
	Core *IncidentCore `json:"extension-definition--ef765651-680c-498d-9894-99799f2fa126,omitempty"`
}

// IncidentCore is the incident core extension of an incident object, a
// property extension: what the investigation concluded, where it stands,
// how critical the incident is and what kind it is. The package
// documentation says where each value comes from.
type IncidentCore struct {
	// ExtensionType is always "property-extension".
	ExtensionType string `json:"extension_type"`
	// Determination comes from the incident-determination-enum.
	Determination string `json:"determination"`
	// InvestigationStatus comes from the incident-investigation-ov.
	InvestigationStatus string `json:"investigation_status"`
	// Criticality is 0 to 100; nil when the incident has no severity.
	Criticality *int `json:"criticality,omitempty"`
	// DetectionMethods come from the detection-methods-ov.
	DetectionMethods []string `json:"detection_methods,omitempty"`
	// IncidentTypes come from the event-type-ov.
	IncidentTypes []string `json:"incident_types,omitempty"`
	// Recoverability comes from the recoverability-enum.
	Recoverability string `json:"recoverability,omitempty"`
	// Scores are the incident's numeric assessments.
	Scores []IncidentScore `json:"scores,omitempty"`
}

// IncidentScore is an incident-score of the incident core extension: a
// named number and how it was arrived at.
type IncidentScore struct {
	Name        string  `json:"name"`
	Value       float64 `json:"value"`
	Description string  `json:"description,omitempty"`
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

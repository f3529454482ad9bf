package stix

import "github.com/incidentkit/incidentkit/ir"

// The TLP 1.0 marking-definition objects STIX 2.1 (section 7.2.1.4)
// defines, with their fixed identifiers.
const (
	TLPWhiteID = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	TLPGreenID = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	TLPAmberID = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	TLPRedID   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

// tlpCreated is the created time STIX gives every TLP marking-definition.
const tlpCreated = "2017-01-20T00:00:00.000Z"

// amberStrictStatement is the statement that marks TLP:AMBER+STRICT
// content beside the TLP:AMBER marking.
const amberStrictStatement = "TLP:AMBER+STRICT: recipients may share this information only with members of their own organisation who need to know it, and not with their clients."

func tlpMarking(id, color string) *MarkingDefinition {
	return &MarkingDefinition{
		Type: "marking-definition", SpecVersion: SpecVersion, ID: id, Created: tlpCreated,
		Name: "TLP:" + upper(color), DefinitionType: "tlp", Definition: map[string]string{"tlp": color},
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// markings returns the marking-definition objects for t, as described in
// the package documentation. An unset TLP has none.
func markings(t ir.TLP) []*MarkingDefinition {
	switch t {
	case ir.TLPClear:
		return []*MarkingDefinition{tlpMarking(TLPWhiteID, "white")}
	case ir.TLPGreen:
		return []*MarkingDefinition{tlpMarking(TLPGreenID, "green")}
	case ir.TLPAmber:
		return []*MarkingDefinition{tlpMarking(TLPAmberID, "amber")}
	case ir.TLPAmberStrict:
		return []*MarkingDefinition{
			tlpMarking(TLPAmberID, "amber"),
			{
				Type: "marking-definition", SpecVersion: SpecVersion,
				ID: objectID("marking-definition", amberStrictStatement), Created: epoch,
				Name: "TLP:AMBER+STRICT", DefinitionType: "statement",
				Definition: map[string]string{"statement": amberStrictStatement},
			},
		}
	case ir.TLPRed:
		return []*MarkingDefinition{tlpMarking(TLPRedID, "red")}
	default:
		return nil
	}
}

package caseuco_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/caseuco"
)

// caseDoc is a CASE export, decoded.
type caseDoc struct {
	Context map[string]string `json:"@context"`
	Graph   []map[string]any  `json:"@graph"`
}

func exportCASE(t *testing.T, log evidence.CaseLog) ([]byte, caseDoc) {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, caseuco.Write(&out, log))
	require.True(t, json.Valid(out.Bytes()), "the export is JSON")
	var doc caseDoc
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	return out.Bytes(), doc
}

// caseTypes returns a node's types.
func caseTypes(n map[string]any) []string {
	switch t := n["@type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

// caseNodesOf returns the top-level nodes of a type, in graph order.
func caseNodesOf(doc caseDoc, typ string) []map[string]any {
	var out []map[string]any
	for _, n := range doc.Graph {
		if slices.Contains(caseTypes(n), typ) {
			out = append(out, n)
		}
	}
	return out
}

// caseIDs walks a JSON-LD value and collects the @id of every node it
// defines (an object with @id and more) and of every node it refers to
// (an object with @id alone).
func caseIDs(v any, defined map[string]int, referenced map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := x["@id"].(string); ok {
			if len(x) == 1 {
				referenced[id] = true
			} else {
				defined[id]++
			}
		}
		for k, child := range x {
			if k != "@context" {
				caseIDs(child, defined, referenced)
			}
		}
	case []any:
		for _, child := range x {
			caseIDs(child, defined, referenced)
		}
	case []map[string]any:
		for _, child := range x {
			caseIDs(child, defined, referenced)
		}
	}
}

// caseRefs returns the @ids a property refers to, whether it holds one
// reference or a list.
func caseRefs(v any) []string {
	switch x := v.(type) {
	case map[string]any:
		return []string{x["@id"].(string)}
	case []any:
		var out []string
		for _, r := range x {
			out = append(out, r.(map[string]any)["@id"].(string))
		}
		return out
	}
	return nil
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	out, _ := exportCASE(t, log)
	custodyGolden(t, filepath.Join("testdata", "case.jsonld"), out)
}

func TestWriteGraph(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	_, doc := exportCASE(t, log)

	for prefix, iri := range map[string]string{
		"case-investigation": "https://ontology.caseontology.org/case/investigation/",
		"uco-core":           "https://ontology.unifiedcyberontology.org/uco/core/",
		"uco-observable":     "https://ontology.unifiedcyberontology.org/uco/observable/",
		"uco-action":         "https://ontology.unifiedcyberontology.org/uco/action/",
		"uco-types":          "https://ontology.unifiedcyberontology.org/uco/types/",
		"uco-identity":       "https://ontology.unifiedcyberontology.org/uco/identity/",
		"uco-location":       "https://ontology.unifiedcyberontology.org/uco/location/",
		"xsd":                "http://www.w3.org/2001/XMLSchema#",
		"kb":                 "urn:incidentkit:incidentkit/custody/INC-2026-0042/",
	} {
		assert.Equal(t, iri, doc.Context[prefix], "prefix %s", prefix)
	}

	t.Run("every @id referenced is defined, once", func(t *testing.T) {
		defined, referenced := make(map[string]int), make(map[string]bool)
		caseIDs(doc.Graph, defined, referenced)
		require.NotEmpty(t, referenced)
		for id := range referenced {
			assert.Contains(t, defined, id, "reference to %s", id)
		}
		for id, n := range defined {
			assert.Equal(t, 1, n, "%s is defined once", id)
			assert.True(t, strings.HasPrefix(id, "kb:"), "%s is in the case's namespace", id)
		}
	})

	t.Run("one investigation holding everything", func(t *testing.T) {
		inv := caseNodesOf(doc, "case-investigation:Investigation")
		require.Len(t, inv, 1)
		assert.Equal(t, doc.Graph[0], inv[0])
		assert.Equal(t, "INC-2026-0042", inv[0]["uco-core:name"])
		var want []string
		for _, n := range doc.Graph[1:] {
			want = append(want, n["@id"].(string))
		}
		assert.Equal(t, want, caseRefs(inv[0]["uco-core:object"]))
		auths := caseRefs(inv[0]["case-investigation:relevantAuthorization"])
		assert.Len(t, auths, 2, "a warrant and an approval")
		for _, n := range caseNodesOf(doc, "case-investigation:Authorization") {
			assert.Contains(t, auths, n["@id"])
		}
	})

	t.Run("one file per item, with its digests", func(t *testing.T) {
		files := caseNodesOf(doc, "uco-observable:File")
		require.Len(t, files, len(log.Items))
		assert.Equal(t, []string{"uco-observable:File", "uco-observable:Image"}, caseTypes(files[0]), "a disk image")
		for i, it := range log.Items {
			f := files[i]
			assert.Equal(t, "kb:item/"+string(it.ID), f["@id"])
			assert.Equal(t, it.Name, f["uco-core:name"])
			facets := f["uco-core:hasFacet"].([]any)
			require.Len(t, facets, 2)
			file, content := facets[0].(map[string]any), facets[1].(map[string]any)
			assert.Equal(t, "uco-observable:FileFacet", file["@type"])
			assert.Equal(t, it.Name, file["uco-observable:fileName"])
			assert.Equal(t, map[string]any{"@type": "xsd:integer", "@value": strconv.FormatInt(it.Size, 10)}, file["uco-observable:sizeInBytes"])
			assert.Equal(t, "uco-observable:ContentDataFacet", content["@type"])
			want := map[string]string{"SHA256": it.Digests.SHA256, "SHA1": it.Digests.SHA1, "MD5": it.Digests.MD5}
			hashes := content["uco-observable:hash"].([]any)
			for _, h := range hashes {
				h := h.(map[string]any)
				assert.Equal(t, "uco-types:Hash", h["@type"])
				method, ok := h["uco-types:hashMethod"].(string)
				require.True(t, ok, "the hash method is an xsd:string: %v", h["uco-types:hashMethod"])
				value := h["uco-types:hashValue"].(map[string]any)
				assert.Equal(t, "xsd:hexBinary", value["@type"])
				assert.Equal(t, want[method], value["@value"])
			}
		}
		assert.Len(t, files[0]["uco-core:hasFacet"].([]any)[1].(map[string]any)["uco-observable:hash"], 3, "SHA-256, SHA-1 and MD5")
		assert.Len(t, files[1]["uco-core:hasFacet"].([]any)[1].(map[string]any)["uco-observable:hash"], 1, "SHA-256 only")
	})

	t.Run("one action per record, keeping its time zone", func(t *testing.T) {
		actions := caseNodesOf(doc, "case-investigation:InvestigativeAction")
		require.Len(t, actions, len(log.Records))
		for i, data := range log.Records {
			r, err := evidence.DecodeRecord(data)
			require.NoError(t, err)
			a := actions[i]
			assert.Equal(t, "kb:record/"+strconv.Itoa(i), a["@id"])
			assert.Equal(t, string(r.Action), a["uco-core:name"])
			assert.Equal(t, []string{"kb:item/" + string(r.Item)}, caseRefs(a["uco-action:object"]))
			assert.Equal(t, "kb:party/"+r.Actor.ID, caseRefs(a["uco-action:performer"])[0])
			start := a["uco-action:startTime"].(map[string]any)
			assert.Equal(t, "xsd:dateTime", start["@type"])
			assert.Equal(t, r.At.Format(time.RFC3339Nano), start["@value"])
			at, err := time.Parse(time.RFC3339Nano, start["@value"].(string))
			require.NoError(t, err)
			_, want := r.At.Zone()
			_, got := at.Zone()
			assert.Equal(t, want, got, "record %d keeps its zone offset", i)
		}
		offsets := []string{"+01:00", "-05:00", "+01:00", "-05:00", "Z", "-05:00"}
		for i, a := range actions {
			assert.True(t, strings.HasSuffix(a["uco-action:startTime"].(map[string]any)["@value"].(string), offsets[i]), "record %d", i)
		}
		assert.Equal(t, "Fail", actions[4]["uco-action:actionStatus"], "the refused access, as an xsd:string")
		assert.Equal(t, []string{"kb:party/alice", "kb:party/carol"}, caseRefs(actions[2]["uco-action:participant"]), "the transfer's parties")
		assert.Len(t, caseRefs(actions[0]["uco-action:instrument"]), 1)
		assert.Len(t, caseRefs(actions[0]["uco-action:location"]), 1)
	})

	t.Run("a provenance record per collection", func(t *testing.T) {
		prov := caseNodesOf(doc, "case-investigation:ProvenanceRecord")
		require.Len(t, prov, 2)
		for i, p := range prov {
			assert.Equal(t, log.Items[i].Exhibit, p["case-investigation:exhibitNumber"])
			assert.Equal(t, []string{"kb:item/" + string(log.Items[i].ID)}, caseRefs(p["uco-core:object"]))
		}
		actions := caseNodesOf(doc, "case-investigation:InvestigativeAction")
		assert.Equal(t, []string{"kb:record/0/provenance"}, caseRefs(actions[0]["uco-action:result"]))
		assert.Equal(t, []string{"kb:record/5/content"}, caseRefs(actions[5]["uco-action:result"]), "the digest the verifier observed")
	})

	t.Run("one identity per party", func(t *testing.T) {
		var names []string
		for _, n := range caseNodesOf(doc, "uco-identity:Identity") {
			names = append(names, n["uco-core:name"].(string))
		}
		assert.Equal(t, []string{"Alice Moreau", "Bob Ndiaye", "Carol Lindqvist", "Mallory Quinn"}, names)
		assert.Len(t, caseNodesOf(doc, "uco-identity:Organization"), 4)
		assert.Len(t, caseNodesOf(doc, "uco-core:Relationship"), 4, "each party's affiliation")
	})

	t.Run("sources", func(t *testing.T) {
		devices := caseNodesOf(doc, "uco-observable:Device")
		require.Len(t, devices, 2)
		assert.Equal(t, "fin-laptop-07", devices[0]["uco-core:name"])
		facet := devices[0]["uco-core:hasFacet"].([]any)[0].(map[string]any)
		assert.Equal(t, "S4EWNX0R812345", facet["uco-observable:serialNumber"])
		rels := caseNodesOf(doc, "uco-observable:ObservableRelationship")
		require.Len(t, rels, 2)
		assert.Equal(t, "Extracted_From", rels[0]["uco-core:kindOfRelationship"])
	})
}

func TestWriteStable(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	first, doc := exportCASE(t, log)
	again, _ := exportCASE(t, log)
	assert.Equal(t, first, again, "the same log exports the same bytes")

	other := newReportCase(t, evidence.NewMemoryBlobs())
	otherLog, err := other.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	fromOther, _ := exportCASE(t, otherLog)
	assert.Equal(t, first, fromOther, "the same case in another ledger exports the same bytes")

	rc.Record(t, evidence.Record{Item: rc.Items[1].ID, Action: evidence.ActionCheckedIn, Actor: reportBob,
		At: time.Date(2026, time.March, 4, 17, 0, 0, 0, reportZoneBoston), Location: "Evidence server"})
	grown, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	_, later := exportCASE(t, grown)
	before, after := make(map[string]int), make(map[string]int)
	caseIDs(doc.Graph, before, map[string]bool{})
	caseIDs(later.Graph, after, map[string]bool{})
	for id := range before {
		assert.Contains(t, after, id, "appending a record keeps %s", id)
	}
	assert.Contains(t, after, "kb:record/6")
}

func TestWriteEscapesIDs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	key, _ := reportSigningKey(t)
	ledger, err := evidence.NewLedger(evidence.LedgerConfig{Store: evidence.NewMemoryLedgerStore(), Key: key, Origin: "custody.example.org/lyon"})
	require.NoError(t, err)
	odd := evidence.ItemID("item 1/../#frag?q=\"x\"<y>")
	actor := evidence.Party{ID: "dupont@example.org/α β", Name: "J. \"Dupont\" <jd>"}
	item := evidence.Item{ID: odd, CaseID: reportCaseID, Name: "a \"quoted\"\nname", Kind: evidence.KindScreenshot,
		Digests: evidence.Digests{SHA256: strings.Repeat("ef", 32)}, CollectedBy: actor, CollectedAt: reportT0}
	_, err = ledger.Append(ctx, evidence.Record{Case: reportCaseID, Item: odd, Action: evidence.ActionCollected, Actor: actor,
		At: reportT0, Snapshot: &item, Location: "room \"7\"", Tool: "x</script>"})
	require.NoError(t, err)
	// The same party ID under another name is another identity.
	_, err = ledger.Append(ctx, evidence.Record{Case: reportCaseID, Item: odd, Action: evidence.ActionAccessed,
		Actor: evidence.Party{ID: actor.ID, Name: "Jean Dupont"}, At: reportT0})
	require.NoError(t, err)
	log, err := ledger.Export(ctx, reportCaseID)
	require.NoError(t, err)
	_, doc := exportCASE(t, log)

	assert.Equal(t, "urn:incidentkit:custody.example.org/lyon/INC-2026-0042/", doc.Context["kb"])
	iri := regexp.MustCompile(`^kb:[A-Za-z0-9%/._~:@!$&'()*+,;=-]+$`)
	defined := make(map[string]int)
	caseIDs(doc.Graph, defined, map[string]bool{})
	for id := range defined {
		assert.Regexp(t, iri, id)
	}
	assert.Contains(t, defined, "kb:item/item%201%2F..%2F%23frag%3Fq=%22x%22%3Cy%3E")
	assert.Contains(t, defined, "kb:party/dupont@example.org%2F%CE%B1%20%CE%B2")
	assert.Contains(t, defined, "kb:party/dupont@example.org%2F%CE%B1%20%CE%B2/2")
	files := caseNodesOf(doc, "uco-observable:RasterPicture")
	require.Len(t, files, 1)
	assert.Equal(t, "a \"quoted\"\nname", files[0]["uco-core:name"])
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	log.Records[2] = append([]byte(" "), log.Records[2]...)
	err = caseuco.Write(&bytes.Buffer{}, log)
	assert.ErrorIs(t, err, evidence.ErrInvalid)
	assert.ErrorContains(t, err, "record 2")

	log, err = rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	assert.Error(t, caseuco.Write(reportFailingWriter{assert.AnError}, log))
}

// TestWriteInconsistentItems exports a log whose item list was
// tampered with: an item listed twice, another missing. Each item is still
// one node, and every reference resolves.
func TestWriteInconsistentItems(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	log.Items = []evidence.Item{log.Items[0], log.Items[0]}
	_, doc := exportCASE(t, log)

	files := caseNodesOf(doc, "uco-observable:File")
	require.Len(t, files, 2)
	assert.Equal(t, "kb:item/ITEM-2", files[1]["@id"], "known from its collected record")
	assert.Equal(t, "mail-gw.log", files[1]["uco-core:name"])
	defined, referenced := make(map[string]int), make(map[string]bool)
	caseIDs(doc.Graph, defined, referenced)
	for id := range referenced {
		assert.Contains(t, defined, id)
	}
	for id, n := range defined {
		assert.Equal(t, 1, n, id)
	}
}

// caseLiteralTypes are the datatypes UCO 1.4 and CASE 1.4 give the typed
// literals the export writes; every other literal it writes is a plain
// string (xsd:string) or a boolean.
var caseLiteralTypes = map[string]string{
	"uco-observable:sizeInBytes": "xsd:integer",
	"uco-types:hashValue":        "xsd:hexBinary",
	"uco-action:startTime":       "xsd:dateTime",
}

// caseStringVocabularies are properties whose values are xsd:string
// members of a UCO vocabulary.
var caseStringVocabularies = map[string][]string{
	"uco-types:hashMethod":        {"MD5", "MD6", "SHA1", "SHA224", "SHA256", "SHA3-224", "SHA3-256", "SHA3-384", "SHA3-512", "SHA384", "SHA512", "SSDEEP"},
	"uco-action:actionStatus":     {"Complete/Finish", "Error", "Fail", "Ongoing", "Pending", "Success", "Unknown"},
	"uco-core:isDirectional":      nil,
	"uco-core:kindOfRelationship": nil,
}

// TestWriteDatatypes checks every literal of an export has the
// datatype the ontology gives its property.
func TestWriteDatatypes(t *testing.T) {
	t.Parallel()
	rc := newReportCase(t, evidence.NewMemoryBlobs())
	log, err := rc.Ledger.Export(t.Context(), reportCaseID)
	require.NoError(t, err)
	_, doc := exportCASE(t, log)
	seen := map[string]int{}
	var walk func(prop string, v any)
	walk = func(prop string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if value, ok := x["@value"]; ok {
				seen[prop]++
				assert.Equal(t, caseLiteralTypes[prop], x["@type"], "datatype of %s", prop)
				assert.IsType(t, "", value, "%s is written as a string", prop)
				return
			}
			for k, child := range x {
				if !strings.HasPrefix(k, "@") {
					walk(k, child)
				}
			}
		case []any:
			for _, child := range x {
				walk(prop, child)
			}
		case string:
			seen[prop]++
			if vocab := caseStringVocabularies[prop]; vocab != nil {
				assert.Contains(t, vocab, x, "%s is a member of its vocabulary", prop)
			}
			assert.NotContains(t, caseLiteralTypes, prop, "%s is written as a typed literal", prop)
		case bool:
			assert.Equal(t, "uco-core:isDirectional", prop)
		}
	}
	for _, n := range doc.Graph {
		walk("", n)
	}
	for _, prop := range []string{"uco-types:hashMethod", "uco-action:actionStatus", "uco-types:hashValue", "uco-observable:sizeInBytes", "uco-action:startTime"} {
		assert.Positive(t, seen[prop], "the export writes %s", prop)
	}
}

package caseuco

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/incidentkit/incidentkit/evidence"
)

// The export keeps to classes and properties of CASE 1.x and UCO 1.x as the
// CASE examples (github.com/casework/CASE-Examples) use them. Where CASE has
// no term for something a custody record holds, the export chooses, and
// these choices are the ones a CASE reviewer may want otherwise:
//
//   - the parties of a transfer are the action's uco-action:participant
//     values, From first: CASE has no from and to of a transfer;
//   - a party's organisation is a uco-identity:Organization linked by a
//     uco-core:Relationship of kind "Affiliated_With", an open-vocabulary
//     string that no UCO vocabulary lists;
//   - authorities are case-investigation:Authorization nodes listed by the
//     investigation's relevantAuthorization, since no property links an
//     authorisation to one action; each action's description names its
//     authority in words, as it does its reason and notes;
//   - the digest an actor observed is a uco-observable:ContentData, the
//     action's result, holding one uco-types:Hash;
//   - sizes are xsd:integer literals written as strings, so that no JSON
//     reader rounds a large size;
//   - a hash method and an action status are plain strings (xsd:string)
//     from UCO's vocabularies (HashNameVocab, ActionStatusTypeVocab), as
//     UCO 1.4 asks and UCO 2.0 requires, not literals typed with the
//     vocabulary.

// The namespaces of CASE 1.x and UCO 1.x, as the CASE examples declare
// them.
var caseContextPrefixes = map[string]string{
	"case-investigation": "https://ontology.caseontology.org/case/investigation/",
	"uco-action":         "https://ontology.unifiedcyberontology.org/uco/action/",
	"uco-core":           "https://ontology.unifiedcyberontology.org/uco/core/",
	"uco-identity":       "https://ontology.unifiedcyberontology.org/uco/identity/",
	"uco-location":       "https://ontology.unifiedcyberontology.org/uco/location/",
	"uco-observable":     "https://ontology.unifiedcyberontology.org/uco/observable/",
	"uco-tool":           "https://ontology.unifiedcyberontology.org/uco/tool/",
	"uco-types":          "https://ontology.unifiedcyberontology.org/uco/types/",
	"xsd":                "http://www.w3.org/2001/XMLSchema#",
}

// Write writes a case's items and custody actions to w as JSON-LD in
// the vocabulary of the CASE 1.x and UCO 1.x ontologies
// (https://caseontology.org), for forensic tools that exchange
// investigations in that form. The graph holds:
//
//   - a case-investigation:Investigation for the case, whose uco-core:object
//     lists every other node, and whose relevantAuthorization lists a
//     case-investigation:Authorization for each distinct authority named;
//   - for each item a uco-observable:File (also a uco-observable:Image for
//     a disk image and a uco-observable:RasterPicture for a screenshot)
//     with a FileFacet (file name, size) and a ContentDataFacet (size, media
//     type, and a uco-types:Hash for each digest: SHA256, SHA1, MD5 as
//     xsd:hexBinary), and, if its source is known, the uco-observable:Device
//     it was extracted from;
//   - for each custody record a case-investigation:InvestigativeAction named
//     after the action, with its time (xsd:dateTime, keeping the actor's
//     zone offset), its performer and the parties of a transfer as
//     uco-identity:Identity nodes (one per distinct party, each linked to a
//     uco-identity:Organization), the item as its object, its tool as
//     instrument and its place as uco-location:Location; a collected record
//     results in a case-investigation:ProvenanceRecord carrying the
//     exhibit number, and a record with an observed digest results in a
//     uco-observable:ContentData holding it. A refused access has the
//     action status "Fail".
//
// Every node has an @id under the namespace urn:incidentkit:<origin>/
// (prefix "kb"), where origin is the case's checkpoint origin, derived from
// what the node stands for: an item's ID, a record's index, a party's ID,
// the text of a location, tool, organisation or authority. So the same log
// always exports the same bytes, and two exports of a growing log name the
// same things alike.
// Each action's description gives its record's index and leaf hash, to tie
// the graph back to the signed log.
//
// Write does not verify the log (see [evidence.VerifyLog]); it fails with an
// error matching [evidence.ErrInvalid] if a record cannot be decoded.
func Write(w io.Writer, log evidence.CaseLog) error {
	x := newExport(log)
	if err := x.build(); err != nil {
		return err
	}
	out, err := json.MarshalIndent(map[string]any{"@context": x.context(), "@graph": x.graph}, "", "  ")
	if err != nil {
		return fmt.Errorf("caseuco: export of case %s: %w", log.Case, err)
	}
	if _, err := w.Write(append(out, '\n')); err != nil {
		return fmt.Errorf("caseuco: write export of case %s: %w", log.Case, err)
	}
	return nil
}

// caseNode is a node of the JSON-LD graph. encoding/json writes its keys
// sorted, which puts "@id" and "@type" first.
type caseNode = map[string]any

// caseExport builds the graph of one case.
type caseExport struct {
	log evidence.CaseLog
	// graph is the graph's top-level nodes in order, the investigation
	// first; shared holds the nodes that records share (parties,
	// organisations, locations, tools, authorisations), appended to the
	// graph last.
	graph, shared []caseNode
	// defined holds the @id of every shared node.
	defined map[string]bool
	// parties gives each distinct party its @id; partyVariants counts the
	// distinct parties seen per party ID.
	parties        map[evidence.Party]string
	partyVariants  map[string]int
	authorizations []any
}

func newExport(log evidence.CaseLog) *caseExport {
	if log.Origin == "" {
		log.Origin = evidence.DefaultOrigin + "/" + string(log.Case)
	}
	return &caseExport{log: log, defined: make(map[string]bool), parties: make(map[evidence.Party]string), partyVariants: make(map[string]int)}
}

func (x *caseExport) context() map[string]string {
	ctx := make(map[string]string, len(caseContextPrefixes)+1)
	for k, v := range caseContextPrefixes {
		ctx[k] = v
	}
	segments := strings.Split(x.log.Origin, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	ctx["kb"] = "urn:incidentkit:" + strings.Join(segments, "/") + "/"
	return ctx
}

func (x *caseExport) build() error {
	records := make([]evidence.Record, len(x.log.Records))
	for i, data := range x.log.Records {
		r, err := evidence.DecodeRecord(data)
		if err != nil {
			return fmt.Errorf("caseuco: export of case %s: record %d: %w", x.log.Case, i, err)
		}
		records[i] = r
	}
	investigation := caseNode{
		"@id":                  "kb:investigation",
		"@type":                "case-investigation:Investigation",
		"uco-core:name":        string(x.log.Case),
		"uco-core:description": fmt.Sprintf("Chain of custody of case %s: custody log %s, %d records, %d items.", x.log.Case, x.log.Origin, len(records), len(x.log.Items)),
	}
	x.graph = append(x.graph, investigation)

	items := x.items(records)
	collected := make(map[evidence.ItemID]string)
	for _, it := range items {
		collected[it.ID] = it.Digests.SHA256
	}
	for _, r := range records {
		if r.Snapshot != nil {
			collected[r.Item] = r.Snapshot.Digests.SHA256
		}
	}
	for _, it := range items {
		x.addItem(it)
	}
	for i, r := range records {
		x.addRecord(int64(i), r, tlog.RecordHash(x.log.Records[i]), collected[r.Item])
	}
	x.graph = append(x.graph, x.shared...)

	objects := make([]any, 0, len(x.graph)-1)
	for _, n := range x.graph[1:] {
		objects = append(objects, caseRef(n["@id"].(string)))
	}
	investigation["uco-core:object"] = objects
	if len(x.authorizations) > 0 {
		investigation["case-investigation:relevantAuthorization"] = x.authorizations
	}
	return nil
}

// items returns the log's items, then any item known only from its
// records: from the snapshot of its collected record, or by its ID alone.
func (x *caseExport) items(records []evidence.Record) []evidence.Item {
	var items []evidence.Item
	seen := make(map[evidence.ItemID]bool)
	for _, it := range x.log.Items {
		if !seen[it.ID] { // an item listed twice is exported once
			seen[it.ID] = true
			items = append(items, it)
		}
	}
	for _, r := range records {
		if seen[r.Item] {
			continue
		}
		seen[r.Item] = true
		it := evidence.Item{ID: r.Item, CaseID: r.Case}
		if r.Snapshot != nil {
			it = r.Snapshot.Clone()
		}
		items = append(items, it)
	}
	return items
}

func (x *caseExport) itemID(id evidence.ItemID) string {
	return "kb:item/" + url.PathEscape(string(id))
}

func (x *caseExport) recordID(i int64) string { return "kb:record/" + strconv.FormatInt(i, 10) }

func (x *caseExport) addItem(it evidence.Item) {
	id := x.itemID(it.ID)
	n := caseNode{"@id": id, "@type": caseItemTypes(it.Kind)}
	if it.Name != "" {
		n["uco-core:name"] = it.Name
	}
	var tags []string
	if it.Kind != "" {
		tags = append(tags, string(it.Kind))
	}
	if tags = append(tags, it.Labels...); len(tags) > 0 {
		n["uco-core:tag"] = tags
	}
	file := caseNode{"@id": id + "/file-facet", "@type": "uco-observable:FileFacet", "uco-observable:sizeInBytes": caseInteger(it.Size)}
	if it.Name != "" {
		file["uco-observable:fileName"] = it.Name
	}
	n["uco-core:hasFacet"] = []any{file, caseContentFacet(id, it.Size, it.MediaType, it.Digests)}
	x.graph = append(x.graph, n)
	x.addSource(id, it.Source)
}

// caseItemTypes types an item by its kind: all are files, some of them
// more specifically disk images or pictures.
func caseItemTypes(k evidence.Kind) any {
	switch k {
	case evidence.KindDiskImage:
		return []string{"uco-observable:File", "uco-observable:Image"}
	case evidence.KindScreenshot:
		return []string{"uco-observable:File", "uco-observable:RasterPicture"}
	}
	return "uco-observable:File"
}

// caseContentFacet describes content by its size, media type and digests.
// size < 0 leaves the size out.
func caseContentFacet(id string, size int64, mediaType string, d evidence.Digests) caseNode {
	facet := caseNode{"@id": id + "/content-facet", "@type": "uco-observable:ContentDataFacet"}
	if size >= 0 {
		facet["uco-observable:sizeInBytes"] = caseInteger(size)
	}
	if mediaType != "" {
		facet["uco-observable:mimeType"] = mediaType
	}
	var hashes []any
	for _, h := range []struct{ method, value string }{{"SHA256", d.SHA256}, {"SHA1", d.SHA1}, {"MD5", d.MD5}} {
		if h.value == "" {
			continue
		}
		hashes = append(hashes, caseNode{
			"@id":                  id + "/hash/" + strings.ToLower(h.method),
			"@type":                "uco-types:Hash",
			"uco-types:hashMethod": h.method,
			"uco-types:hashValue":  caseTyped("xsd:hexBinary", h.value),
		})
	}
	if len(hashes) > 0 {
		facet["uco-observable:hash"] = hashes
	}
	return facet
}

// addSource adds the device an item was taken from, and the relationship
// saying so.
func (x *caseExport) addSource(itemID string, s evidence.Source) {
	if s.Host == "" && s.SerialNumber == "" && s.Path == "" && len(s.Network) == 0 && s.Description == "" {
		return
	}
	device := caseNode{"@id": itemID + "/source", "@type": "uco-observable:Device"}
	if s.Host != "" {
		device["uco-core:name"] = s.Host
	}
	var about []string
	if len(s.Network) > 0 {
		about = append(about, "Network identifiers: "+strings.Join(s.Network, ", ")+".")
	}
	if s.Description != "" {
		about = append(about, s.Description)
	}
	if len(about) > 0 {
		device["uco-core:description"] = strings.Join(about, "\n")
	}
	if s.SerialNumber != "" {
		device["uco-core:hasFacet"] = []any{caseNode{"@id": itemID + "/source/device-facet", "@type": "uco-observable:DeviceFacet", "uco-observable:serialNumber": s.SerialNumber}}
	}
	rel := caseNode{
		"@id":                         itemID + "/extracted-from",
		"@type":                       "uco-observable:ObservableRelationship",
		"uco-core:source":             caseRef(itemID),
		"uco-core:target":             caseRef(itemID + "/source"),
		"uco-core:kindOfRelationship": "Extracted_From",
		"uco-core:isDirectional":      true,
	}
	if s.Path != "" {
		rel["uco-core:hasFacet"] = []any{caseNode{"@id": itemID + "/extracted-from/path-facet", "@type": "uco-observable:PathRelationFacet", "uco-observable:path": s.Path}}
	}
	x.graph = append(x.graph, device, rel)
}

// addRecord adds the action of the custody record at index, and what it
// resulted in.
func (x *caseExport) addRecord(index int64, r evidence.Record, leaf evidence.Hash, collectedSHA256 string) {
	id := x.recordID(index)
	item := x.itemID(r.Item)
	action := caseNode{
		"@id":                  id,
		"@type":                "case-investigation:InvestigativeAction",
		"uco-core:name":        string(r.Action),
		"uco-core:description": x.describe(index, r, leaf, collectedSHA256),
		"uco-action:object":    []any{caseRef(item)},
	}
	if !r.At.IsZero() {
		action["uco-action:startTime"] = caseTyped("xsd:dateTime", r.At.Format(time.RFC3339Nano))
	}
	if !r.Actor.IsZero() {
		action["uco-action:performer"] = caseRef(x.party(r.Actor))
	}
	var participants []any
	for _, p := range []evidence.Party{r.From, r.To} {
		if !p.IsZero() {
			participants = append(participants, caseRef(x.party(p)))
		}
	}
	if len(participants) > 0 {
		action["uco-action:participant"] = participants
	}
	if r.Tool != "" {
		action["uco-action:instrument"] = []any{caseRef(x.named("tool", "uco-tool:Tool", r.Tool))}
	}
	if r.Location != "" {
		action["uco-action:location"] = []any{caseRef(x.named("location", "uco-location:Location", r.Location))}
	}
	if r.Authority != "" {
		x.authorization(r.Authority)
	}
	if r.Action == evidence.ActionAccessDenied {
		action["uco-action:actionStatus"] = "Fail"
	}
	var results []any
	var produced []caseNode
	if r.Snapshot != nil {
		exhibit := r.Snapshot.Exhibit
		prov := caseNode{
			"@id":                  id + "/provenance",
			"@type":                "case-investigation:ProvenanceRecord",
			"uco-core:description": x.provenance(*r.Snapshot),
			"uco-core:object":      []any{caseRef(item)},
		}
		if exhibit != "" {
			prov["case-investigation:exhibitNumber"] = exhibit
		}
		results = append(results, caseRef(id+"/provenance"))
		produced = append(produced, prov)
	} else if r.Digest != "" {
		content := caseNode{
			"@id":                  id + "/content",
			"@type":                "uco-observable:ContentData",
			"uco-core:description": fmt.Sprintf("The content of item %s as hashed in custody record %d.", r.Item, index),
			"uco-core:hasFacet":    []any{caseContentFacet(id+"/content", -1, "", evidence.Digests{SHA256: r.Digest})},
		}
		results = append(results, caseRef(id+"/content"))
		produced = append(produced, content)
	}
	if len(results) > 0 {
		action["uco-action:result"] = results
	}
	x.graph = append(x.graph, action)
	x.graph = append(x.graph, produced...)
}

// describe says in words what the graph has no property for: the record's
// place in the signed log, its authority, reason and notes, and whether
// the digest observed matches the one collected.
func (x *caseExport) describe(index int64, r evidence.Record, leaf evidence.Hash, collectedSHA256 string) string {
	lines := []string{fmt.Sprintf("Custody record %d of log %s; RFC 6962 leaf hash %s (hex).", index, x.log.Origin, hex.EncodeToString(leaf[:]))}
	if r.Prev >= 0 {
		lines = append(lines, fmt.Sprintf("Previous record of the same item: %d.", r.Prev))
	}
	if !r.From.IsZero() || !r.To.IsZero() {
		lines = append(lines, fmt.Sprintf("Transferred from %s to %s.", caseParty(r.From), caseParty(r.To)))
	}
	if r.Authority != "" {
		lines = append(lines, "Authority: "+r.Authority)
	}
	if r.Reason != "" {
		lines = append(lines, "Reason: "+r.Reason)
	}
	if r.Digest != "" {
		verdict := "matching the SHA-256 recorded at collection"
		switch {
		case collectedSHA256 == "":
			verdict = "with no SHA-256 recorded at collection to compare with"
		case r.Digest != collectedSHA256:
			verdict = "DIFFERING from the SHA-256 recorded at collection, " + collectedSHA256
		}
		lines = append(lines, "SHA-256 observed: "+r.Digest+", "+verdict+".")
	}
	if r.Notes != "" {
		lines = append(lines, "Notes: "+r.Notes)
	}
	return strings.Join(lines, "\n")
}

// provenance describes an item as collected.
func (x *caseExport) provenance(it evidence.Item) string {
	lines := []string{fmt.Sprintf("Exhibit %s of case %s: %s, collected by %s at %s.", it.Exhibit, x.log.Case, it.Name,
		caseParty(it.CollectedBy), it.CollectedAt.Format(time.RFC3339Nano))}
	if it.Location != "" {
		lines = append(lines, "Kept at: "+it.Location)
	}
	return strings.Join(lines, "\n")
}

// party returns the @id of a party's identity, adding the identity (and
// its organisation) the first time the party is seen. Parties that share
// an ID but differ in name or organisation get an identity each.
func (x *caseExport) party(p evidence.Party) string {
	if id, ok := x.parties[p]; ok {
		return id
	}
	id := "kb:party/" + url.PathEscape(p.ID)
	x.partyVariants[p.ID]++
	if n := x.partyVariants[p.ID]; n > 1 {
		id += "/" + strconv.Itoa(n)
	}
	x.parties[p] = id
	name := p.Name
	if name == "" {
		name = p.ID
	}
	x.shared = append(x.shared, caseNode{
		"@id":                  id,
		"@type":                "uco-identity:Identity",
		"uco-core:name":        name,
		"uco-core:description": "Party " + strconv.Quote(p.ID) + " in the custody log.",
	})
	if p.Organization != "" {
		org := x.named("organization", "uco-identity:Organization", p.Organization)
		x.shared = append(x.shared, caseNode{
			"@id":                         id + "/affiliation",
			"@type":                       "uco-core:Relationship",
			"uco-core:source":             caseRef(id),
			"uco-core:target":             caseRef(org),
			"uco-core:kindOfRelationship": "Affiliated_With",
			"uco-core:isDirectional":      true,
		})
	}
	return id
}

// named returns the @id of a node of the given type named name, adding the
// node the first time the name is seen. The @id is derived from the name,
// so it does not depend on where in the log the name first appears.
func (x *caseExport) named(kind, typ, name string) string {
	sum := sha256.Sum256([]byte(name))
	id := "kb:" + kind + "/" + hex.EncodeToString(sum[:8])
	if !x.defined[id] {
		x.defined[id] = true
		x.shared = append(x.shared, caseNode{"@id": id, "@type": typ, "uco-core:name": name})
	}
	return id
}

// authorization adds the authority a record names, once.
func (x *caseExport) authorization(text string) {
	sum := sha256.Sum256([]byte(text))
	id := "kb:authorization/" + hex.EncodeToString(sum[:8])
	if x.defined[id] {
		return
	}
	x.defined[id] = true
	x.shared = append(x.shared, caseNode{
		"@id":   id,
		"@type": "case-investigation:Authorization",
		"case-investigation:authorizationIdentifier": []string{text},
	})
	x.authorizations = append(x.authorizations, caseRef(id))
}

// caseParty names a party in a description.
func caseParty(p evidence.Party) string {
	if p.IsZero() {
		return "nobody"
	}
	s := p.String()
	if p.Organization != "" {
		s += " (" + p.Organization + ")"
	}
	return s
}

func caseRef(id string) caseNode { return caseNode{"@id": id} }

func caseTyped(typ, value string) caseNode { return caseNode{"@type": typ, "@value": value} }

func caseInteger(n int64) caseNode { return caseTyped("xsd:integer", strconv.FormatInt(n, 10)) }

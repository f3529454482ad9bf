package ocsf_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/ocsf"
	"github.com/incidentkit/incidentkit/phases"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var opts = ocsf.Options{ProductVersion: "v0.0.0-test", VendorName: "Example Corp", Team: "Example Corp CSIRT"}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	require.True(t, json.Valid(b), "the finding is not valid JSON")
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func marshal(t *testing.T, inc *ir.Incident) map[string]any {
	t.Helper()
	b, err := ocsf.Marshal(inc, opts)
	require.NoError(t, err)
	return decode(t, b)
}

func TestMarshalGolden(t *testing.T) {
	t.Parallel()
	got, err := ocsf.Marshal(sample(), opts)
	require.NoError(t, err)
	golden := filepath.Join("testdata", "incident.ocsf.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func TestMarshalIsDeterministic(t *testing.T) {
	t.Parallel()
	a, err := ocsf.Marshal(sample(), ocsf.Options{})
	require.NoError(t, err)
	b, err := ocsf.Marshal(sample().Clone(), ocsf.Options{})
	require.NoError(t, err)
	assert.True(t, bytes.Equal(a, b), "two exports of one incident differ")
}

// The requirements below are written from the OCSF 1.8.0 schema:
// events/findings/incident_finding.json (the class, uid 5 in category
// findings = 2 of categories.json), events/base_event.json (what it
// extends), objects/metadata.json, objects/product.json (with
// objects/_entity.json), objects/finding_info.json, objects/observable.json,
// objects/user.json and objects/group.json.
var (
	// requiredAttrs are the attributes whose requirement is "required".
	requiredAttrs = map[string][]string{
		"event":        {"activity_id", "category_uid", "class_uid", "finding_info_list", "metadata", "severity_id", "status_id", "time", "type_uid"},
		"metadata":     {"product", "version"},
		"finding_info": {"uid"},
		"observable":   {"type_id"},
	}
	// atLeastOne are the "at_least_one" constraints.
	atLeastOne = map[string][]string{
		"event":          {"assignee", "assignee_group"},
		"product":        {"name", "uid"},
		"user":           {"account", "name", "uid"},
		"assignee_group": {"name", "uid"},
	}
	// classAttrs is every attribute the class has: those of base_event.json
	// and incident_finding.json (the incident profile's are among them).
	classAttrs = []string{
		"activity_id", "activity_name", "category_name", "category_uid", "class_name", "class_uid", "count",
		"duration", "end_time", "enrichments", "message", "metadata", "observables", "raw_data", "raw_data_hash",
		"raw_data_size", "severity", "severity_id", "start_time", "status", "status_code", "status_detail",
		"status_id", "time", "timezone_offset", "type_name", "type_uid", "unmapped",
		"assignee", "assignee_group", "attacks", "comment", "confidence", "confidence_id", "confidence_score",
		"desc", "finding_info_list", "impact", "impact_id", "impact_score", "is_suspected_breach", "priority",
		"priority_id", "src_url", "ticket", "tickets", "vendor_attributes", "verdict", "verdict_id",
	}
	// recommendedAttrs are the class's "recommended" attributes.
	recommendedAttrs = []string{
		"message", "observables", "status", "timezone_offset", "confidence_id", "desc", "impact", "impact_id",
		"priority_id", "verdict", "verdict_id",
	}
)

// Enumerations with their captions: activity_id and status_id from
// events/findings/incident_finding.json, the others from dictionary.json
// (severity_id, priority_id, impact_id, verdict_id, confidence_id, and
// the observable type_id values of the dictionary's types and observable
// attributes and objects), user type_id from objects/user.json.
var enums = map[string]map[int]string{
	"activity_id": {1: "Create", 2: "Update", 3: "Close"},
	"status_id":   {1: "New", 2: "In Progress", 3: "On Hold", 4: "Resolved", 5: "Closed"},
	"severity_id": {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal", 99: "Other"},
	"priority_id": {0: "Unknown", 1: "Low", 2: "Medium", 3: "High", 4: "Critical", 99: "Other"},
	"impact_id":   {0: "Unknown", 1: "Low", 2: "Medium", 3: "High", 4: "Critical", 99: "Other"},
	"verdict_id": {0: "Unknown", 1: "False Positive", 2: "True Positive", 3: "Disregard", 4: "Suspicious", 5: "Benign",
		6: "Test", 7: "Insufficient Data", 8: "Security Risk", 9: "Managed Externally", 10: "Duplicate", 99: "Other"},
	"confidence_id": {0: "Unknown", 1: "Low", 2: "Medium", 3: "High", 99: "Other"},
	"observable.type_id": {0: "Unknown", 1: "Hostname", 2: "IP Address", 3: "MAC Address", 4: "User Name",
		5: "Email Address", 6: "URL String", 7: "File Name", 8: "Hash", 9: "Process Name", 10: "Resource UID",
		11: "Port", 12: "Subnet", 13: "Command Line", 14: "Country", 15: "Process ID", 16: "HTTP User-Agent",
		19: "User Credential ID", 20: "Endpoint", 21: "User", 22: "Email", 23: "Uniform Resource Locator", 24: "File",
		25: "Process", 26: "Geo Location", 27: "Container", 30: "Fingerprint", 36: "Script Content",
		37: "Serial Number", 42: "Message UID", 45: "File Path", 99: "Other",
		// Observable attributes of objects (objects/cwe.json, cve.json,
		// user.json, group.json, account.json, resource_details.json,
		// process_entity.json, email.json, advisory.json, device.json,
		// network_endpoint.json): their captions are built by the schema
		// server, not written in the schema, so only the values are
		// listed.
		17: "", 18: "", 31: "", 32: "", 33: "", 34: "", 35: "", 38: "", 39: "", 40: "", 41: "", 44: "", 47: "", 48: ""},
	"user.type_id": {0: "Unknown", 1: "User", 2: "Admin", 3: "System", 4: "Service", 99: "Other"},
}

// siblings are the caption attributes of the enumerated ones.
var siblings = map[string]string{
	"activity_id": "activity_name", "status_id": "status", "severity_id": "severity", "priority_id": "priority",
	"impact_id": "impact", "verdict_id": "verdict", "confidence_id": "confidence",
}

func checkEnum(t *testing.T, name string, obj map[string]any, idAttr, captionAttr string) {
	t.Helper()
	raw, ok := obj[idAttr].(float64)
	require.True(t, ok, "%s is not a number", idAttr)
	id := int(raw)
	caption, known := enums[name][id]
	require.True(t, known, "%s %d is not a value OCSF defines", name, id)
	if id != 99 && caption != "" {
		assert.Equal(t, caption, obj[captionAttr], "%s %d caption", name, id)
	} else {
		assert.NotEmpty(t, obj[captionAttr], "%s Other needs the source's caption", name)
	}
}

func checkFinding(t *testing.T, f map[string]any) {
	t.Helper()
	for _, a := range requiredAttrs["event"] {
		assert.Contains(t, f, a)
	}
	for a := range f {
		assert.Contains(t, classAttrs, a, "attribute %s is not in the class", a)
	}
	assert.True(t, slices.ContainsFunc(atLeastOne["event"], func(a string) bool { return f[a] != nil }))
	assert.EqualValues(t, 2005, f["class_uid"])
	assert.Equal(t, "Incident Finding", f["class_name"])
	assert.EqualValues(t, 2, f["category_uid"])
	assert.Equal(t, "Findings", f["category_name"])
	assert.EqualValues(t, 2005*100+f["activity_id"].(float64), f["type_uid"])
	assert.Equal(t, "Incident Finding: "+f["activity_name"].(string), f["type_name"])
	for id, caption := range siblings {
		checkEnum(t, id, f, id, caption)
	}
	for _, a := range []string{"time", "start_time", "end_time"} {
		if v, ok := f[a]; ok {
			ms := v.(float64)
			assert.Equal(t, float64(int64(ms)), ms, "%s is not an integer", a)
			assert.Greater(t, ms, 1e12, "%s is not in milliseconds", a)
		}
	}
	md := f["metadata"].(map[string]any)
	for _, a := range requiredAttrs["metadata"] {
		assert.Contains(t, md, a)
	}
	assert.Equal(t, "1.8.0", md["version"])
	assert.Contains(t, md["profiles"], "incident", "incident_finding.json asks for the incident profile")
	product := md["product"].(map[string]any)
	assert.True(t, slices.ContainsFunc(atLeastOne["product"], func(a string) bool { return product[a] != "" && product[a] != nil }))
	infos := f["finding_info_list"].([]any)
	require.NotEmpty(t, infos)
	for _, i := range infos {
		for _, a := range requiredAttrs["finding_info"] {
			assert.NotEmpty(t, i.(map[string]any)[a])
		}
	}
	if u, ok := f["assignee"].(map[string]any); ok {
		assert.True(t, slices.ContainsFunc(atLeastOne["user"], func(a string) bool { return u[a] != nil }))
		checkEnum(t, "user.type_id", u, "type_id", "type")
	}
	if g, ok := f["assignee_group"].(map[string]any); ok {
		assert.True(t, slices.ContainsFunc(atLeastOne["assignee_group"], func(a string) bool { return g[a] != nil }))
	}
	obs, _ := f["observables"].([]any)
	for _, o := range obs {
		o := o.(map[string]any)
		for _, a := range requiredAttrs["observable"] {
			assert.Contains(t, o, a)
		}
		checkEnum(t, "observable.type_id", o, "type_id", "type")
	}
}

func TestFindingHasWhatOCSFRequires(t *testing.T) {
	t.Parallel()
	f := marshal(t, sample())
	checkFinding(t, f)
	for _, a := range recommendedAttrs {
		assert.Contains(t, f, a, "recommended attribute %s", a)
	}
	assert.EqualValues(t, 2, f["activity_id"])
	assert.Equal(t, "In Progress", f["status"])
	assert.Equal(t, "High", f["severity"])
	assert.Equal(t, "High", f["priority"])
	assert.Equal(t, "Low", f["impact"])
	assert.Equal(t, true, f["is_suspected_breach"])
	assert.EqualValues(t, at(50).UnixMilli(), f["time"])
	assert.EqualValues(t, at(-20).UnixMilli(), f["start_time"])
	assert.Equal(t, map[string]any{"uid": "bob", "name": "Bob Boss", "type_id": 1.0, "type": "User"}, f["assignee"])
	obs := f["observables"].([]any)
	require.Len(t, obs, len(sample().Observables))
	assert.Equal(t, map[string]any{"name": "unmapped.observables[2].value", "type_id": 12.0, "type": "Subnet", "value": "203.0.113.0/24"}, obs[2])
	unmapped := f["unmapped"].(map[string]any)["observables"].([]any)
	assert.Equal(t, "203.0.113.0/24", unmapped[2].(map[string]any)["value"])
}

func TestObservableTypes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		o    ir.Observable
		id   int
		name string
	}{
		{ir.Observable{Type: ir.ObservableIP, Value: "198.51.100.7"}, 2, "IP Address"},
		{ir.Observable{Type: ir.ObservableIP, Value: "2001:db8::/32"}, 12, "Subnet"},
		{ir.Observable{Type: ir.ObservableDomain, Value: "example.com"}, 1, "Hostname"},
		{ir.Observable{Type: ir.ObservableHost, Value: "ws-1"}, 1, "Hostname"},
		{ir.Observable{Type: ir.ObservableURL, Value: "https://example.com/"}, 6, "URL String"},
		{ir.Observable{Type: ir.ObservableEmail, Value: "a@example.com"}, 5, "Email Address"},
		{ir.Observable{Type: ir.ObservableMD5}, 8, "Hash"},
		{ir.Observable{Type: ir.ObservableSHA1}, 8, "Hash"},
		{ir.Observable{Type: ir.ObservableSHA256}, 8, "Hash"},
		{ir.Observable{Type: ir.ObservableAccount}, 4, "User Name"},
		{ir.Observable{Type: ir.ObservableFileName}, 7, "File Name"},
		{ir.Observable{Type: ir.ObservableProcess}, 9, "Process Name"},
		{ir.Observable{Type: ir.ObservableUserAgent}, 16, "HTTP User-Agent"},
		{ir.Observable{Type: ir.ObservableRegistry}, 99, "Registry Key"},
		{ir.Observable{Type: ir.ObservableOther}, 99, "Other"},
	} {
		id, name := ocsf.ObservableTypeID(tc.o)
		assert.Equal(t, tc.id, id, "%s", tc.o.Type)
		assert.Equal(t, tc.name, name, "%s", tc.o.Type)
		if id != 99 {
			assert.Equal(t, enums["observable.type_id"][id], name)
		}
	}
}

func TestStatusVerdictAndActivity(t *testing.T) {
	t.Parallel()
	newInc := func() *ir.Incident {
		inc := sample()
		inc.Version = 1
		inc.Phase = phases.DetectionAndAnalysis
		inc.PhaseHistory = []ir.PhaseInterval{{Phase: phases.DetectionAndAnalysis, Entered: at(0)}}
		inc.Times = ir.Lifecycle{Detected: at(-20), Reported: at(-5), Opened: at(0)}
		inc.Participants = nil
		return inc
	}
	for _, tc := range []struct {
		name     string
		change   func(*ir.Incident)
		activity int
		status   string
		verdict  string
	}{
		{"new", func(*ir.Incident) {}, 1, "New", "Unknown"},
		{"acknowledged", func(i *ir.Incident) { i.Version = 2; i.Times.Acknowledged = at(3) }, 2, "In Progress", "Unknown"},
		{"in a later phase", func(i *ir.Incident) {
			i.Version = 3
			i.Phase = phases.ContainmentEradicationRecovery
			i.PhaseHistory = append(i.PhaseHistory, ir.PhaseInterval{Phase: i.Phase, Entered: at(9)})
		}, 2, "In Progress", "Unknown"},
		{"resolved", func(i *ir.Incident) { i.Version = 9; i.Times.Resolved = at(40); i.Verdict = ir.VerdictTruePositive }, 2, "Resolved", "True Positive"},
		{"closed benign", func(i *ir.Incident) { i.Version = 9; i.Times.Closed = at(40); i.Verdict = ir.VerdictBenign }, 3, "Closed", "Benign"},
		{"false positive", func(i *ir.Incident) { i.Version = 2; i.Verdict = ir.VerdictFalsePositive }, 2, "New", "False Positive"},
		{"inconclusive", func(i *ir.Incident) { i.Version = 2; i.Verdict = ir.VerdictInconclusive }, 2, "New", "Insufficient Data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inc := newInc()
			tc.change(inc)
			f := marshal(t, inc)
			checkFinding(t, f)
			assert.EqualValues(t, tc.activity, f["activity_id"])
			assert.Equal(t, tc.status, f["status"])
			assert.Equal(t, tc.verdict, f["verdict"])
			assert.Nil(t, f["assignee"])
			assert.Equal(t, map[string]any{"name": "Example Corp CSIRT"}, f["assignee_group"])
		})
	}
}

func TestSeverityPriorityImpact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sev      ir.Severity
		prio     ir.Priority
		impact   ir.FunctionalImpact
		sevCap   string
		prioCap  string
		impactID int
	}{
		{"", "", "", "Unknown", "Unknown", 0},
		{ir.SeverityLow, ir.PriorityP4, ir.FunctionalNone, "Low", "Low", 99},
		{ir.SeverityMedium, ir.PriorityP3, ir.FunctionalLow, "Medium", "Medium", 1},
		{ir.SeverityHigh, ir.PriorityP2, ir.FunctionalMedium, "High", "High", 2},
		{ir.SeverityCritical, ir.PriorityP1, ir.FunctionalHigh, "Critical", "Critical", 3},
	} {
		inc := sample()
		inc.Severity, inc.Priority, inc.Impact.Functional = tc.sev, tc.prio, tc.impact
		f := marshal(t, inc)
		checkFinding(t, f)
		assert.Equal(t, tc.sevCap, f["severity"])
		assert.Equal(t, tc.prioCap, f["priority"])
		assert.EqualValues(t, tc.impactID, f["impact_id"])
	}
}

func TestHostileText(t *testing.T) {
	t.Parallel()
	hostile := "it's a \"test\" \\ back\\slash ' \n\r\t\x01\x1f \u2028\u2029 <script>&amp; é 🙂"
	inc := sample()
	inc.Title, inc.Summary, inc.Resolution = hostile, hostile, hostile
	inc.Observables = []ir.Observable{
		{Type: ir.ObservableOther, Value: hostile, Description: hostile, AddedAt: at(1)},
		{Type: ir.ObservableProcess, Value: hostile, Malicious: true, AddedAt: at(2)},
	}
	f := marshal(t, inc)
	checkFinding(t, f)
	assert.Equal(t, hostile, f["message"])
	assert.Equal(t, hostile, f["desc"])
	assert.Equal(t, hostile, f["observables"].([]any)[1].(map[string]any)["value"])
	assert.Equal(t, hostile, f["finding_info_list"].([]any)[0].(map[string]any)["title"])
}

func TestExportRefusesWhatIsNotAnIncident(t *testing.T) {
	t.Parallel()
	for _, inc := range []*ir.Incident{nil, {}} {
		_, err := ocsf.Export(inc, ocsf.Options{})
		assert.True(t, errors.Is(err, ir.ErrInvalid), "%v", err)
	}
}

package stix_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/stix"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// decode returns the bundle's JSON as generic values, the way a consumer
// that knows nothing of this package reads it.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	require.True(t, json.Valid(b), "the bundle is not valid JSON")
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func objects(t *testing.T, bundle map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, o := range bundle["objects"].([]any) {
		out = append(out, o.(map[string]any))
	}
	return out
}

func ofType(objs []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		if o["type"] == typ {
			out = append(out, o)
		}
	}
	return out
}

func TestMarshalGolden(t *testing.T) {
	t.Parallel()
	got, err := stix.Marshal(sample(), stix.Options{Creator: "Example Corp CSIRT"})
	require.NoError(t, err)
	golden := filepath.Join("testdata", "incident.stix.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func TestMarshalIsDeterministic(t *testing.T) {
	t.Parallel()
	a, err := stix.Marshal(sample(), stix.Options{})
	require.NoError(t, err)
	b, err := stix.Marshal(sample().Clone(), stix.Options{})
	require.NoError(t, err)
	assert.True(t, bytes.Equal(a, b), "two exports of one incident differ")

	// A later version of the incident keeps every object's identity.
	later := sample()
	later.Version++
	later.UpdatedAt = later.UpdatedAt.Add(time.Minute)
	c, err := stix.Marshal(later, stix.Options{})
	require.NoError(t, err)
	ids := func(b []byte) []string {
		var out []string
		for _, o := range objects(t, decode(t, b)) {
			out = append(out, o["id"].(string))
		}
		return out
	}
	assert.Equal(t, ids(a), ids(c))
	assert.NotEqual(t, decode(t, a)["id"], decode(t, c)["id"], "a new version is a new bundle")
}

// The expressions below come from the STIX 2.1 JSON schemas
// (stix-2.1/schemas/common/identifier.json and timestamp.json, and the
// millisecond rule of common/core.json for created and modified).
var (
	identifierRE = regexp.MustCompile(`^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)
	timestampRE  = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?Z$`)
	millisRE     = regexp.MustCompile(`T\d{2}:\d{2}:\d{2}\.\d{3,}Z$`)
)

// required lists the properties each object type must have, from
// stix-2.1/schemas: common/core.json (every SDO and SRO), sdos/*.json,
// sros/relationship.json, common/marking-definition.json (TLP form),
// common/cyber-observable-core.json and observables/*.json, and
// common/bundle.json.
var (
	coreRequired = []string{"type", "spec_version", "id", "created", "modified"}
	required     = map[string][]string{
		"bundle":               {"type", "id", "objects"},
		"identity":             {"name"},
		"incident":             {"name"},
		"indicator":            {"pattern", "pattern_type", "valid_from"},
		"observed-data":        {"first_observed", "last_observed", "number_observed", "object_refs"},
		"relationship":         {"relationship_type", "source_ref", "target_ref"},
		"note":                 {"content", "object_refs"},
		"marking-definition":   {"id", "type", "spec_version", "created", "definition", "definition_type"},
		"ipv4-addr":            {"type", "id", "value"},
		"ipv6-addr":            {"type", "id", "value"},
		"domain-name":          {"type", "id", "value"},
		"url":                  {"type", "id", "value"},
		"email-addr":           {"type", "id", "value"},
		"file":                 {"type", "id"},
		"user-account":         {"type", "id"},
		"windows-registry-key": {"type", "id"},
	}
	scoTypes = []string{"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file", "user-account", "windows-registry-key"}
)

// Vocabularies, from stix-2.1/schemas: sdos/indicator.json
// (indicator-type-ov, pattern-type-ov), sdos/identity.json
// (identity-class-ov), and the STIX 2.1 TLP marking definitions of
// common/marking-definition.json.
var (
	indicatorTypeOV = []string{"anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity", "attribution", "unknown"}
	patternTypeOV   = []string{"stix", "pcre", "sigma", "snort", "suricata", "yara"}
	identityClassOV = []string{"individual", "group", "system", "organization", "class", "unknown"}
	tlpMarkings     = map[string][2]string{
		"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": {"TLP:WHITE", "white"},
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": {"TLP:GREEN", "green"},
		"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": {"TLP:AMBER", "amber"},
		"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": {"TLP:RED", "red"},
	}
	// hashPatterns are the hash formats of common/hashes-type.json.
	hashPatterns = map[string]*regexp.Regexp{
		"MD5":     regexp.MustCompile(`^[a-fA-F0-9]{32}$`),
		"SHA-1":   regexp.MustCompile(`^[a-fA-F0-9]{40}$`),
		"SHA-256": regexp.MustCompile(`^[a-fA-F0-9]{64}$`),
	}
	ipv4RE = regexp.MustCompile(`^(([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\.){3}([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])(\/(3[0-2]|[1-2][0-9]|[0-9]))?$`)
	// registryAbbrevRE is what observables/windows-registry-key.json
	// forbids in a key.
	registryAbbrevRE = regexp.MustCompile(`^HKLM|HKCC|HKCR|HKCU|HKU|hklm|hkcc|hkcr|hkcu|hku`)
)

// checkBundle checks everything the STIX 2.1 schemas require of the
// bundle, and that every reference resolves within it.
func checkBundle(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	bundle := decode(t, b)
	for _, p := range required["bundle"] {
		assert.Contains(t, bundle, p)
	}
	assert.Equal(t, "bundle", bundle["type"])
	assert.Regexp(t, `^bundle--`, bundle["id"])
	assert.Regexp(t, identifierRE, bundle["id"])
	objs := objects(t, bundle)
	require.NotEmpty(t, objs)
	ids := map[string]bool{}
	for _, o := range objs {
		typ, _ := o["type"].(string)
		id, _ := o["id"].(string)
		assert.False(t, ids[id], "duplicate object %s", id)
		ids[id] = true
		assert.Regexp(t, identifierRE, id)
		assert.True(t, strings.HasPrefix(id, typ+"--"), "%s does not start with its type %s", id, typ)
		assert.Equal(t, "2.1", o["spec_version"], "%s", id)
		want, known := required[typ]
		require.True(t, known, "unexpected object type %s", typ)
		for _, p := range want {
			assert.Contains(t, o, p, "%s lacks %s", id, p)
		}
		isSCO := slices.Contains(scoTypes, typ)
		if !isSCO && typ != "marking-definition" {
			for _, p := range coreRequired {
				assert.Contains(t, o, p, "%s lacks %s", id, p)
			}
			assert.Regexp(t, millisRE, o["created"], "%s created", id)
			assert.Regexp(t, millisRE, o["modified"], "%s modified", id)
			assert.LessOrEqual(t, o["created"], o["modified"], "%s created after modified", id)
		}
		for _, p := range []string{"created", "modified", "first_observed", "last_observed", "valid_from"} {
			if v, ok := o[p]; ok {
				assert.Regexp(t, timestampRE, v, "%s %s", id, p)
			}
		}
		checkObject(t, typ, o)
	}
	// Every reference names an object of the bundle.
	for _, o := range objs {
		var refs []any
		for _, p := range []string{"created_by_ref", "source_ref", "target_ref"} {
			if v, ok := o[p]; ok {
				refs = append(refs, v)
			}
		}
		for _, p := range []string{"object_refs", "object_marking_refs"} {
			if v, ok := o[p].([]any); ok {
				refs = append(refs, v...)
			}
		}
		for _, r := range refs {
			assert.True(t, ids[r.(string)], "%s refers to %s, which is not in the bundle", o["id"], r)
		}
	}
	return objs
}

func checkObject(t *testing.T, typ string, o map[string]any) {
	t.Helper()
	switch typ {
	case "marking-definition":
		if o["definition_type"] == "tlp" {
			want, ok := tlpMarkings[o["id"].(string)]
			require.True(t, ok, "unknown TLP marking %s", o["id"])
			assert.Equal(t, want[0], o["name"])
			assert.Equal(t, map[string]any{"tlp": want[1]}, o["definition"])
			assert.Equal(t, "2017-01-20T00:00:00.000Z", o["created"])
			assert.Len(t, o, 7, "a TLP marking has exactly the properties STIX gives it")
		} else {
			assert.Equal(t, "statement", o["definition_type"])
			assert.NotEmpty(t, o["definition"].(map[string]any)["statement"])
		}
	case "identity":
		assert.Contains(t, identityClassOV, o["identity_class"])
	case "incident":
		checkIncidentCore(t, o)
	case "indicator":
		for _, v := range o["indicator_types"].([]any) {
			assert.Contains(t, indicatorTypeOV, v)
		}
		assert.Contains(t, patternTypeOV, o["pattern_type"])
		_, _, _, err := parsePattern(o["pattern"].(string))
		assert.NoError(t, err, "pattern %s", o["pattern"])
	case "observed-data":
		n := o["number_observed"].(float64)
		assert.True(t, n >= 1 && n <= 999999999)
		assert.LessOrEqual(t, o["first_observed"], o["last_observed"])
		for _, r := range o["object_refs"].([]any) {
			typ, _, _ := strings.Cut(r.(string), "--")
			assert.Contains(t, scoTypes, typ, "observed-data refers to %s", r)
		}
	case "relationship":
		src, _, _ := strings.Cut(o["source_ref"].(string), "--")
		dst, _, _ := strings.Cut(o["target_ref"].(string), "--")
		// STIX 2.1 section 4.7 (indicator) defines indicator based-on
		// observed-data; related-to joins any two objects.
		ok := o["relationship_type"] == "related-to" ||
			o["relationship_type"] == "based-on" && src == "indicator" && dst == "observed-data"
		assert.True(t, ok, "relationship %s %s %s is not one STIX defines", src, o["relationship_type"], dst)
	case "ipv4-addr":
		assert.Regexp(t, ipv4RE, o["value"])
	case "file":
		if h, ok := o["hashes"].(map[string]any); ok {
			for k, v := range h {
				require.Contains(t, hashPatterns, k)
				assert.Regexp(t, hashPatterns[k], v)
			}
		} else {
			assert.NotEmpty(t, o["name"])
		}
	case "windows-registry-key":
		assert.NotRegexp(t, registryAbbrevRE, o["key"])
	}
}

func TestBundleHasWhatSTIXRequires(t *testing.T) {
	t.Parallel()
	b, err := stix.Marshal(sample(), stix.Options{})
	require.NoError(t, err)
	objs := checkBundle(t, b)

	count := map[string]int{}
	for _, o := range objs {
		count[o["type"].(string)]++
	}
	assert.Equal(t, map[string]int{
		"identity": 1, "marking-definition": 1, "incident": 1,
		"ipv4-addr": 2, "ipv6-addr": 1, "domain-name": 2, "url": 1, "email-addr": 1,
		"file": 4, "user-account": 1, "windows-registry-key": 1,
		"observed-data": 1, "indicator": 12, "relationship": 1 + 10 + 12, "note": 1,
	}, count)

	inc := ofType(objs, "incident")[0]
	assert.Equal(t, "Phishing wave against finance", inc["name"])
	assert.Equal(t, []any{"phishing", "finance", "o365"}, inc["labels"])
	assert.Equal(t, "2026-03-02T09:00:00.000Z", inc["created"])
	assert.Equal(t, "2026-03-02T09:50:00.000Z", inc["modified"])
	assert.Equal(t, []any{stix.TLPAmberID}, inc["object_marking_refs"])

	patterns := map[string]bool{}
	for _, ind := range ofType(objs, "indicator") {
		patterns[ind["pattern"].(string)] = true
	}
	for _, p := range []string{
		`[ipv4-addr:value = '198.51.100.7']`,
		`[ipv4-addr:value ISSUBSET '203.0.113.0/24']`,
		`[domain-name:value = 'login-finance.example.net']`,
		`[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']`,
		`[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run']`,
		`[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/5.0 (X11; Linux) "evil"']`,
		`[process:image_ref.name = 'invoice.pdf.exe']`,
	} {
		assert.True(t, patterns[p], "no indicator with pattern %s", p)
	}
	note := ofType(objs, "note")[0]
	assert.Contains(t, note["content"], "host: asset-7731")
	assert.Contains(t, note["content"], "other: beacon every 60s")
	assert.NotContains(t, note["content"], "ws-0142", "a DNS host name has its domain-name")
}

// SCO identifiers, computed independently of this package as STIX 2.1
// section 2.9 describes: UUIDv5 in namespace
// 00abedb4-aa42-466c-9c01-fed23315a9b7 over the RFC 8785 JSON of the ID
// contributing properties.
func TestSCOIdentifiers(t *testing.T) {
	t.Parallel()
	b, err := stix.Marshal(sample(), stix.Options{})
	require.NoError(t, err)
	got := map[string]bool{}
	for _, o := range objects(t, decode(t, b)) {
		got[o["id"].(string)] = true
	}
	for _, v := range scoVectors {
		assert.True(t, got[v.id], "no SCO %s for %s", v.id, v.props)
	}
}

// scoVectors were computed with Python's uuid.uuid5 over
// json.dumps(props, sort_keys=True, separators=(",", ":"),
// ensure_ascii=False).
var scoVectors = []struct{ props, id string }{
	{`{"value":"198.51.100.7"}`, "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db"},
	{`{"value":"203.0.113.0/24"}`, "ipv4-addr--a0895f10-d89d-56ad-a4a4-dc873ee08b8c"},
	{`{"value":"2001:db8::7"}`, "ipv6-addr--9ed76cd5-ab3b-55a5-b6ec-b55c3efb0be2"},
	{`{"value":"login-finance.example.net"}`, "domain-name--11b493ca-1823-5845-86a5-ec832c16c97d"},
	{`{"value":"https://login-finance.example.net/o365/?u=1"}`, "url--ddd735d4-4689-5463-85ea-50b0bfa05799"},
	{`{"value":"billing@example.org"}`, "email-addr--94c9df9e-7880-5c98-ab11-048ff8d53ee9"},
	{`{"hashes":{"SHA-256":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}`, "file--00f91c70-2975-500a-919c-fe3a0d6c125a"},
	{`{"hashes":{"MD5":"44d88612fea8a8f36de82e1278abb02f"}}`, "file--5a0c55a1-48a3-5003-9776-42946d1054cb"},
	{`{"name":"invoice.pdf.exe"}`, "file--41883eb8-7b16-5ed5-8ead-dc4f90cb6e42"},
	{`{"user_id":"CORP\\jdoe"}`, "user-account--e757bec9-357d-57f6-b4bc-5ac81d52c927"},
	{`{"key":"HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"}`, "windows-registry-key--5ec275bf-1edc-5245-b6b6-b2ec319e552f"},
}

func TestTLPMarkings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tlp  ir.TLP
		want []string
	}{
		{ir.TLPClear, []string{stix.TLPWhiteID}},
		{ir.TLPGreen, []string{stix.TLPGreenID}},
		{ir.TLPAmber, []string{stix.TLPAmberID}},
		{ir.TLPAmberStrict, []string{stix.TLPAmberID, "statement"}},
		{ir.TLPRed, []string{stix.TLPRedID}},
	} {
		t.Run(string(tc.tlp), func(t *testing.T) {
			t.Parallel()
			inc := sample()
			inc.TLP = tc.tlp
			b, err := stix.Marshal(inc, stix.Options{})
			require.NoError(t, err)
			objs := checkBundle(t, b)
			marks := ofType(objs, "marking-definition")
			require.Len(t, marks, len(tc.want))
			var refs []any
			for i, m := range marks {
				if tc.want[i] == "statement" {
					assert.Equal(t, "statement", m["definition_type"])
					assert.Contains(t, m["definition"].(map[string]any)["statement"], "TLP:AMBER+STRICT")
				} else {
					assert.Equal(t, tc.want[i], m["id"])
				}
				refs = append(refs, m["id"])
			}
			for _, o := range objs {
				if o["type"] != "marking-definition" && o["type"] != "identity" {
					assert.Equal(t, refs, o["object_marking_refs"], "%s", o["id"])
				}
			}
		})
	}
}

func TestHostileText(t *testing.T) {
	t.Parallel()
	hostile := "it's a \"test\" \\ back\\slash ' \n\r\t\x01\x1f \u2028\u2029 <script>&amp; é 🙂"
	inc := sample()
	inc.Title = hostile
	inc.Summary = hostile
	inc.Labels = []string{hostile}
	inc.Observables = []ir.Observable{
		{Type: ir.ObservableFileName, Value: hostile, Malicious: true, Description: hostile, AddedAt: at(1)},
		{Type: ir.ObservableAccount, Value: `DOMAIN\user'1`, Malicious: true, AddedAt: at(2)},
		{Type: ir.ObservableURL, Value: `https://example.com/a'b\c"d`, Malicious: true, AddedAt: at(3)},
		{Type: ir.ObservableUserAgent, Value: hostile, Malicious: true, AddedAt: at(4)},
		{Type: ir.ObservableOther, Value: hostile, AddedAt: at(5)},
		{Type: ir.ObservableIP, Value: hostile, Malicious: true, AddedAt: at(6)},
	}
	b, err := stix.Marshal(inc, stix.Options{Creator: hostile})
	require.NoError(t, err)
	objs := checkBundle(t, b)
	assert.Equal(t, hostile, ofType(objs, "incident")[0]["name"])
	values := map[string]bool{}
	for _, ind := range ofType(objs, "indicator") {
		_, _, v, err := parsePattern(ind["pattern"].(string))
		require.NoError(t, err, "pattern %s", ind["pattern"])
		values[v] = true
	}
	assert.Contains(t, ofType(objs, "note")[0]["content"], "ip: "+hostile)
	for _, o := range inc.Observables[:4] {
		assert.True(t, values[o.Value], "no pattern matches %q", o.Value)
	}
}

func TestExportRefusesWhatIsNotAnIncident(t *testing.T) {
	t.Parallel()
	for _, inc := range []*ir.Incident{nil, {}, {ID: "INC-1"}} {
		_, err := stix.Export(inc, stix.Options{})
		assert.True(t, errors.Is(err, ir.ErrInvalid), "%v", err)
		var ie *ir.InvalidError
		assert.True(t, errors.As(err, &ie))
	}
}

// parsePattern parses a pattern of one comparison, [path op 'literal'],
// as the STIX 2.1 patterning grammar (section 9) defines it: the literal is
// in single quotes, and a backslash inside escapes only a quote or a
// backslash. It returns the path, the operator and the literal's value.
func parsePattern(p string) (path, op, value string, err error) {
	if !strings.HasPrefix(p, "[") || !strings.HasSuffix(p, "]") {
		return "", "", "", errors.New("not in brackets")
	}
	body := p[1 : len(p)-1]
	path, rest, ok := strings.Cut(body, " ")
	if !ok {
		return "", "", "", errors.New("no operator")
	}
	if !regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9_.'-]+$`).MatchString(path) {
		return "", "", "", errors.New("bad object path " + path)
	}
	op, lit, ok := strings.Cut(rest, " ")
	if !ok || (op != "=" && op != "ISSUBSET") {
		return "", "", "", errors.New("bad operator " + op)
	}
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", "", "", errors.New("literal not quoted")
	}
	var b strings.Builder
	inner := lit[1 : len(lit)-1]
	for i := 0; i < len(inner); i++ {
		switch c := inner[i]; c {
		case '\\':
			if i+1 >= len(inner) || (inner[i+1] != '\\' && inner[i+1] != '\'') {
				return "", "", "", errors.New("bad escape")
			}
			i++
			b.WriteByte(inner[i])
		case '\'':
			return "", "", "", errors.New("unescaped quote")
		default:
			b.WriteByte(c)
		}
	}
	return path, op, b.String(), nil
}

func TestObservableForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		o       ir.Observable
		typ     string // the SCO's type; "" for none (the observable goes to the note)
		value   string // the SCO's value or key
		pattern string
	}{
		{ir.Observable{Type: ir.ObservableIP, Value: "::ffff:1.2.3.4"}, "ipv6-addr", "0000:0000:0000:0000:0000:ffff:0102:0304",
			`[ipv6-addr:value = '0000:0000:0000:0000:0000:ffff:0102:0304']`},
		{ir.Observable{Type: ir.ObservableIP, Value: "2001:db8::/32"}, "ipv6-addr", "2001:db8::/32", `[ipv6-addr:value ISSUBSET '2001:db8::/32']`},
		{ir.Observable{Type: ir.ObservableRegistry, Value: `hklm\Software\Run`}, "windows-registry-key", `HKEY_LOCAL_MACHINE\Software\Run`,
			`[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\Software\\Run']`},
		{ir.Observable{Type: ir.ObservableRegistry, Value: `HKEY_USERS\S-1\HKUtil`}, "", "", ""},
		{ir.Observable{Type: ir.ObservableHost, Value: "ws-1"}, "", "", ""},
		{ir.Observable{Type: ir.ObservableHost, Value: "ws-1.corp.example"}, "domain-name", "ws-1.corp.example", `[domain-name:value = 'ws-1.corp.example']`},
		{ir.Observable{Type: ir.ObservableEmail, Value: "o'brien@example.com"}, "email-addr", "o'brien@example.com", `[email-addr:value = 'o\'brien@example.com']`},
	} {
		t.Run(tc.o.Value, func(t *testing.T) {
			t.Parallel()
			inc := sample()
			tc.o.Malicious = true
			tc.o.AddedAt = at(1)
			inc.Observables = []ir.Observable{tc.o}
			b, err := stix.Marshal(inc, stix.Options{})
			require.NoError(t, err)
			objs := checkBundle(t, b)
			if tc.typ == "" {
				assert.Empty(t, ofType(objs, "observed-data"))
				assert.Contains(t, ofType(objs, "note")[0]["content"], tc.o.Value)
				return
			}
			scos := ofType(objs, tc.typ)
			require.Len(t, scos, 1)
			v := scos[0]["value"]
			if tc.typ == "windows-registry-key" {
				v = scos[0]["key"]
			}
			assert.Equal(t, tc.value, v)
			inds := ofType(objs, "indicator")
			require.Len(t, inds, 1)
			assert.Equal(t, tc.pattern, inds[0]["pattern"])
		})
	}
}

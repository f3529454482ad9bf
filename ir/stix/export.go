package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/ir"
)

// Options says who exports. The zero value is ready to use.
type Options struct {
	// Creator names the identity that creates the objects; it defaults
	// to "incidentkit".
	Creator string
	// CreatorClass is the creator's identity_class, from the STIX
	// identity-class vocabulary (individual, group, system, organization,
	// class, unknown); it defaults to "system" for the default creator
	// and "organization" otherwise.
	CreatorClass string
}

// epoch is the created and modified time of the objects that are the same
// in every bundle.
const epoch = "1970-01-01T00:00:00.000Z"

// Export returns inc as a STIX 2.1 bundle. It reports an
// [*ir.InvalidError] for a nil incident, one without an ID, or one that
// was never stored (no update time).
func Export(inc *ir.Incident, opts Options) (*Bundle, error) {
	if inc == nil || inc.ID == "" || inc.UpdatedAt.IsZero() {
		return nil, fmt.Errorf("stix: export: %w", &ir.InvalidError{Field: "incident", Reason: "a stored incident, with an ID and an update time, is needed"})
	}
	e := newExporter(inc, opts)
	return e.bundle(), nil
}

// Marshal returns inc as a STIX 2.1 bundle in indented JSON, ending with a
// newline. See [Export].
func Marshal(inc *ir.Incident, opts Options) ([]byte, error) {
	b, err := Export(inc, opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("stix: encode bundle: %w", err)
	}
	return buf.Bytes(), nil
}

// exporter builds one incident's bundle.
type exporter struct {
	inc      *ir.Incident
	identity *Identity
	marks    []*MarkingDefinition
	markRefs []string
	modified time.Time
}

func newExporter(inc *ir.Incident, opts Options) *exporter {
	name, class := opts.Creator, opts.CreatorClass
	if name == "" {
		name = "incidentkit"
		if class == "" {
			class = "system"
		}
	}
	if class == "" {
		class = "organization"
	}
	e := &exporter{
		inc: inc,
		identity: &Identity{
			Type: "identity", SpecVersion: SpecVersion, ID: objectID("identity", class+"|"+name),
			Created: epoch, Modified: epoch, Name: name, IdentityClass: class,
		},
		marks:    markings(inc.TLP),
		modified: inc.UpdatedAt,
	}
	for _, m := range e.marks {
		e.markRefs = append(e.markRefs, m.ID)
	}
	return e
}

// stamp formats t as a STIX timestamp to the millisecond, in UTC.
func stamp(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// created returns the created time of an object that came to be at t (the
// incident's opening if t is unknown), never after the incident's last
// change.
func (e *exporter) created(t time.Time) time.Time {
	if t.IsZero() {
		t = e.inc.Times.Opened
	}
	if t.IsZero() || t.After(e.modified) {
		t = e.modified
	}
	return t
}

// sco is an observable's STIX form: its SCO (nil if STIX has none) and
// the pattern that detects it ("" if none).
type sco struct {
	obj     *Observable
	pattern string
}

func (e *exporter) bundle() *Bundle {
	inc := e.inc
	b := &Bundle{Type: "bundle", ID: objectID("bundle", string(inc.ID)+"|"+strconv.FormatInt(inc.Version, 10))}
	b.Objects = append(b.Objects, e.identity)
	for _, m := range e.marks {
		b.Objects = append(b.Objects, m)
	}
	incident := e.incident()
	b.Objects = append(b.Objects, incident)

	var (
		refs          []string
		first, last   time.Time
		indicators    []*Indicator
		indicatorAt   []time.Time
		indicatorSCOs []bool
		unmapped      []ir.Observable
	)
	for _, o := range inc.Observables {
		s := e.sco(o)
		if s.obj != nil {
			if !slices.Contains(refs, s.obj.ID) {
				refs = append(refs, s.obj.ID)
				b.Objects = append(b.Objects, s.obj)
			}
			at := e.created(o.AddedAt)
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
		} else {
			unmapped = append(unmapped, o)
		}
		if o.Malicious && s.pattern != "" {
			ind := e.indicator(o, s.pattern)
			if !slices.ContainsFunc(indicators, func(i *Indicator) bool { return i.ID == ind.ID }) {
				indicators = append(indicators, ind)
				indicatorAt = append(indicatorAt, e.created(o.AddedAt))
				indicatorSCOs = append(indicatorSCOs, s.obj != nil)
			}
		}
	}
	var observed *ObservedData
	if len(refs) > 0 {
		observed = &ObservedData{
			Type: "observed-data", SpecVersion: SpecVersion, ID: objectID("observed-data", string(inc.ID)),
			CreatedByRef: e.identity.ID, Created: stamp(first), Modified: stamp(e.modified),
			FirstObserved: stamp(first), LastObserved: stamp(last), NumberObserved: 1,
			ObjectRefs: refs, ObjectMarkingRefs: e.markRefs,
		}
		b.Objects = append(b.Objects, observed)
	}
	for _, ind := range indicators {
		b.Objects = append(b.Objects, ind)
	}
	if observed != nil {
		b.Objects = append(b.Objects, e.relationship(observed.ID, "related-to", incident.ID, first))
	}
	for i, ind := range indicators {
		if indicatorSCOs[i] {
			b.Objects = append(b.Objects, e.relationship(ind.ID, "based-on", observed.ID, indicatorAt[i]))
		}
		b.Objects = append(b.Objects, e.relationship(ind.ID, "related-to", incident.ID, indicatorAt[i]))
	}
	if len(unmapped) > 0 {
		b.Objects = append(b.Objects, e.note(unmapped, incident.ID))
	}
	return b
}

func (e *exporter) incident() *Incident {
	inc := e.inc
	var labels []string
	if inc.Category != "" {
		labels = append(labels, string(inc.Category))
	}
	for _, l := range inc.Labels {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	name := inc.Title
	if name == "" {
		name = string(inc.ID)
	}
	return &Incident{
		Type: "incident", SpecVersion: SpecVersion, ID: objectID("incident", string(inc.ID)),
		CreatedByRef: e.identity.ID, Created: stamp(e.created(inc.Times.Opened)), Modified: stamp(e.modified),
		Name: name, Description: inc.Summary, Labels: labels,
		ExternalReferences: []ExternalReference{{SourceName: "incidentkit", ExternalID: string(inc.ID)}},
		ObjectMarkingRefs:  e.markRefs,
		Extensions:         &IncidentExtensions{Core: incidentCore(inc)},
	}
}

// sco returns o's SCO and pattern, as listed in the package documentation.
func (e *exporter) sco(o ir.Observable) sco {
	v := o.Value
	switch o.Type {
	case ir.ObservableIP:
		return e.ipSCO(v)
	case ir.ObservableDomain:
		return e.valueSCO("domain-name", v)
	case ir.ObservableHost:
		if isHostName(v) {
			return e.valueSCO("domain-name", v)
		}
	case ir.ObservableURL:
		return e.valueSCO("url", v)
	case ir.ObservableEmail:
		return e.valueSCO("email-addr", v)
	case ir.ObservableMD5:
		return e.hashSCO("MD5", v)
	case ir.ObservableSHA1:
		return e.hashSCO("SHA-1", v)
	case ir.ObservableSHA256:
		return e.hashSCO("SHA-256", v)
	case ir.ObservableFileName:
		return sco{
			obj:     e.observable(&Observable{Type: "file", Name: v}, map[string]any{"name": v}),
			pattern: comparison("file:name", "=", v),
		}
	case ir.ObservableAccount:
		return sco{
			obj:     e.observable(&Observable{Type: "user-account", UserID: v}, map[string]any{"user_id": v}),
			pattern: comparison("user-account:user_id", "=", v),
		}
	case ir.ObservableRegistry:
		if key, ok := registryKey(v); ok {
			return sco{
				obj:     e.observable(&Observable{Type: "windows-registry-key", Key: key}, map[string]any{"key": key}),
				pattern: comparison("windows-registry-key:key", "=", key),
			}
		}
	case ir.ObservableUserAgent:
		return sco{pattern: comparison("network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'", "=", v)}
	case ir.ObservableProcess:
		return sco{pattern: comparison("process:image_ref.name", "=", v)}
	}
	return sco{}
}

func (e *exporter) observable(o *Observable, idProps map[string]any) *Observable {
	o.SpecVersion = SpecVersion
	o.ID = scoID(o.Type, idProps)
	o.ObjectMarkingRefs = e.markRefs
	return o
}

func (e *exporter) valueSCO(typ, v string) sco {
	return sco{
		obj:     e.observable(&Observable{Type: typ, Value: v}, map[string]any{"value": v}),
		pattern: comparison(typ+":value", "=", v),
	}
}

func (e *exporter) hashSCO(algo, v string) sco {
	return sco{
		obj:     e.observable(&Observable{Type: "file", Hashes: map[string]string{algo: v}}, map[string]any{"hashes": map[string]string{algo: v}}),
		pattern: comparison("file:hashes.'"+algo+"'", "=", v),
	}
}

// ipSCO returns the ipv4-addr or ipv6-addr of an address or CIDR prefix;
// nothing for a value that is neither, which a stored incident never has.
// An IPv4 address embedded in IPv6 is written in hex, the form the STIX
// schema accepts.
func (e *exporter) ipSCO(v string) sco {
	typ, op := "ipv4-addr", "="
	if p, err := netip.ParsePrefix(v); err == nil {
		op = "ISSUBSET"
		if p.Addr().Is6() {
			typ = "ipv6-addr"
		}
	} else if a, err := netip.ParseAddr(v); err != nil {
		return sco{}
	} else if a.Is6() {
		typ = "ipv6-addr"
		if a.Is4In6() {
			v = a.WithZone("").StringExpanded()
			if z := a.Zone(); z != "" {
				v += "%" + z
			}
		}
	}
	return sco{
		obj:     e.observable(&Observable{Type: typ, Value: v}, map[string]any{"value": v}),
		pattern: comparison(typ+":value", op, v),
	}
}

func (e *exporter) indicator(o ir.Observable, pattern string) *Indicator {
	at := e.created(o.AddedAt)
	return &Indicator{
		Type: "indicator", SpecVersion: SpecVersion, ID: objectID("indicator", string(e.inc.ID)+"|"+pattern),
		CreatedByRef: e.identity.ID, Created: stamp(at), Modified: stamp(e.modified),
		Name: string(o.Type) + " " + o.Value, Description: o.Description,
		IndicatorTypes: []string{"malicious-activity"},
		Pattern:        pattern, PatternType: "stix", PatternVersion: SpecVersion,
		ValidFrom: stamp(at), ObjectMarkingRefs: e.markRefs,
	}
}

func (e *exporter) relationship(source, typ, target string, at time.Time) *Relationship {
	return &Relationship{
		Type: "relationship", SpecVersion: SpecVersion, ID: objectID("relationship", source+"|"+typ+"|"+target),
		CreatedByRef: e.identity.ID, Created: stamp(e.created(at)), Modified: stamp(e.modified),
		RelationshipType: typ, SourceRef: source, TargetRef: target, ObjectMarkingRefs: e.markRefs,
	}
}

func (e *exporter) note(unmapped []ir.Observable, incidentID string) *Note {
	var b strings.Builder
	first := time.Time{}
	for _, o := range unmapped {
		fmt.Fprintf(&b, "%s: %s", o.Type, o.Value)
		if o.Malicious {
			b.WriteString(" (malicious)")
		}
		if o.Description != "" {
			b.WriteString(" — " + o.Description)
		}
		b.WriteByte('\n')
		if at := e.created(o.AddedAt); first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return &Note{
		Type: "note", SpecVersion: SpecVersion, ID: objectID("note", string(e.inc.ID)),
		CreatedByRef: e.identity.ID, Created: stamp(first), Modified: stamp(e.modified),
		Abstract: "Observables without a STIX Cyber-observable Object", Content: b.String(),
		ObjectRefs: []string{incidentID}, ObjectMarkingRefs: e.markRefs,
	}
}

// isHostName reports whether h is a DNS host name: two or more labels of
// letters, digits and inner hyphens.
func isHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// hives are the abbreviated registry hive names and the full names STIX
// requires in their place.
var hives = []struct{ short, full string }{
	{"HKLM", "HKEY_LOCAL_MACHINE"},
	{"HKCU", "HKEY_CURRENT_USER"},
	{"HKCR", "HKEY_CLASSES_ROOT"},
	{"HKCC", "HKEY_CURRENT_CONFIG"},
	{"HKU", "HKEY_USERS"},
}

// registryKey returns k with an abbreviated hive written out, and whether
// the result is a key STIX accepts: one without an abbreviated hive name
// anywhere in it.
func registryKey(k string) (string, bool) {
	for _, h := range hives {
		if len(k) >= len(h.short) && strings.EqualFold(k[:len(h.short)], h.short) &&
			(len(k) == len(h.short) || k[len(h.short)] == '\\') {
			k = h.full + k[len(h.short):]
			break
		}
	}
	for _, h := range hives {
		if strings.Contains(k, h.short) || strings.Contains(k, strings.ToLower(h.short)) {
			return "", false
		}
	}
	return k, true
}

package ocsf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/incidentkit/incidentkit/ir"
)

// SchemaVersion is the OCSF version the finding follows; it is the
// finding's metadata.version.
const SchemaVersion = "1.8.0"

// The class and category of an Incident Finding.
const (
	ClassUID        = 2005
	ClassName       = "Incident Finding"
	CategoryUID     = 2
	CategoryName    = "Findings"
	IncidentProfile = "incident"
)

// Options says who exports and how to point back at the incident. The zero
// value is ready to use.
type Options struct {
	// ProductName names the product that reports the finding
	// (metadata.product.name); it defaults to "incidentkit".
	ProductName string
	// VendorName names its vendor (metadata.product.vendor_name); it
	// defaults to "incidentkit".
	VendorName string
	// ProductVersion is the product's version (metadata.product.version);
	// it defaults to the version of this module the program was built
	// with, when the build records one.
	ProductVersion string
	// Team names the group responsible for incidents (assignee_group);
	// it defaults to "Incident response team".
	Team string
	// LogName, if set, is metadata.log_name: where the consumer keeps the
	// finding, such as a SIEM index.
	LogName string
	// TenantUID, if set, is metadata.tenant_uid.
	TenantUID string
	// IncidentURL, if set, returns the address at which the incident can
	// be opened (src_url and finding_info.src_url).
	IncidentURL func(ir.ID) string
}

// IncidentFinding is an OCSF 1.8.0 Incident Finding event. Its fields are in
// the order they are encoded. It is a plain value, safe to share once
// built.
type IncidentFinding struct {
	ActivityID        int           `json:"activity_id"`
	ActivityName      string        `json:"activity_name"`
	CategoryUID       int           `json:"category_uid"`
	CategoryName      string        `json:"category_name"`
	ClassUID          int           `json:"class_uid"`
	ClassName         string        `json:"class_name"`
	TypeUID           int64         `json:"type_uid"`
	TypeName          string        `json:"type_name"`
	SeverityID        int           `json:"severity_id"`
	Severity          string        `json:"severity"`
	StatusID          int           `json:"status_id"`
	Status            string        `json:"status"`
	StatusCode        string        `json:"status_code,omitempty"`
	StatusDetail      string        `json:"status_detail,omitempty"`
	VerdictID         int           `json:"verdict_id"`
	Verdict           string        `json:"verdict"`
	PriorityID        int           `json:"priority_id"`
	Priority          string        `json:"priority"`
	ImpactID          int           `json:"impact_id"`
	Impact            string        `json:"impact"`
	ConfidenceID      int           `json:"confidence_id"`
	Confidence        string        `json:"confidence"`
	IsSuspectedBreach *bool         `json:"is_suspected_breach,omitempty"`
	Time              int64         `json:"time"`
	StartTime         int64         `json:"start_time,omitempty"`
	EndTime           int64         `json:"end_time,omitempty"`
	TimezoneOffset    int           `json:"timezone_offset"`
	Message           string        `json:"message"`
	Desc              string        `json:"desc,omitempty"`
	Comment           string        `json:"comment,omitempty"`
	SrcURL            string        `json:"src_url,omitempty"`
	Assignee          *User         `json:"assignee,omitempty"`
	AssigneeGroup     *Group        `json:"assignee_group,omitempty"`
	FindingInfoList   []FindingInfo `json:"finding_info_list"`
	Observables       []Observable  `json:"observables,omitempty"`
	Metadata          Metadata      `json:"metadata"`
	Unmapped          *Unmapped     `json:"unmapped,omitempty"`
}

// Metadata is the OCSF metadata object.
type Metadata struct {
	Version      string    `json:"version"`
	Product      Product   `json:"product"`
	Profiles     []string  `json:"profiles"`
	UID          string    `json:"uid"`
	LogName      string    `json:"log_name,omitempty"`
	OriginalTime string    `json:"original_time"`
	TenantUID    string    `json:"tenant_uid,omitempty"`
	Reporter     *Reporter `json:"reporter,omitempty"`
}

// Reporter is the OCSF reporter object: who opened the incident.
type Reporter struct {
	UID  string `json:"uid"`
	Name string `json:"name"`
}

// Product is the OCSF product object: what reports the finding.
type Product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// FindingInfo is the OCSF finding_info object.
type FindingInfo struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Desc          string   `json:"desc,omitempty"`
	Types         []string `json:"types,omitempty"`
	CreatedTime   int64    `json:"created_time,omitempty"`
	ModifiedTime  int64    `json:"modified_time,omitempty"`
	FirstSeenTime int64    `json:"first_seen_time,omitempty"`
	SrcURL        string   `json:"src_url,omitempty"`
}

// User is the OCSF user object, for the incident's assignee.
type User struct {
	UID    string `json:"uid"`
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// Group is the OCSF group object, for the team the incident is assigned
// to.
type Group struct {
	Name string `json:"name"`
}

// Observable is the OCSF observable object.
type Observable struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	Value  string `json:"value"`
}

// Unmapped holds what OCSF has no attribute for: the incident's
// observables in the library's own form.
type Unmapped struct {
	Observables []UnmappedObservable `json:"observables,omitempty"`
}

// UnmappedObservable is an incident observable as the library records it.
type UnmappedObservable struct {
	Type        ir.ObservableType `json:"type"`
	Value       string            `json:"value"`
	Description string            `json:"description,omitempty"`
	Malicious   bool              `json:"malicious,omitempty"`
}

// Export returns inc as an Incident Finding. It reports an
// [*ir.InvalidError] for a nil incident or one without an ID.
func Export(inc *ir.Incident, opts Options) (*IncidentFinding, error) {
	if inc == nil || inc.ID == "" {
		return nil, fmt.Errorf("ocsf: export: %w", &ir.InvalidError{Field: "incident", Reason: "an incident with an ID is needed"})
	}
	opts = opts.withDefaults()
	f := &IncidentFinding{
		CategoryUID:    CategoryUID,
		CategoryName:   CategoryName,
		ClassUID:       ClassUID,
		ClassName:      ClassName,
		Time:           millis(inc.UpdatedAt),
		StartTime:      millis(firstNonZero(inc.Times.Occurred, inc.Times.Detected, inc.Times.Reported, inc.Times.Opened)),
		EndTime:        millis(inc.Times.Closed),
		TimezoneOffset: 0,
		Message:        inc.Title,
		Desc:           inc.Summary,
		Comment:        inc.Resolution,
		Metadata: Metadata{
			Version:      SchemaVersion,
			Product:      Product{Name: opts.ProductName, VendorName: opts.VendorName, Version: opts.ProductVersion},
			Profiles:     []string{IncidentProfile},
			UID:          string(inc.ID) + "/" + strconv.FormatInt(inc.Version, 10),
			LogName:      opts.LogName,
			OriginalTime: inc.UpdatedAt.UTC().Format(time.RFC3339Nano),
			TenantUID:    opts.TenantUID,
		},
		AssigneeGroup: &Group{Name: opts.Team},
	}
	f.ActivityID, f.ActivityName = activity(inc)
	f.TypeUID = ClassUID*100 + int64(f.ActivityID)
	f.TypeName = ClassName + ": " + f.ActivityName
	f.SeverityID, f.Severity = severity(inc.Severity)
	f.StatusID, f.Status = status(inc)
	if inc.Phase != "" {
		f.StatusCode = string(inc.Phase)
		f.StatusDetail = "In phase " + string(inc.Phase) + " of the " + inc.Model + " model"
	}
	if !inc.OpenedBy.IsZero() {
		f.Metadata.Reporter = &Reporter{UID: inc.OpenedBy.ID, Name: inc.OpenedBy.String()}
	}
	f.VerdictID, f.Verdict = verdict(inc.Verdict)
	f.PriorityID, f.Priority = priority(inc.Priority)
	f.ImpactID, f.Impact = impact(inc.Impact.Functional)
	f.ConfidenceID, f.Confidence = 0, "Unknown"
	if suspected := suspectedBreach(inc); suspected {
		f.IsSuspectedBreach = &suspected
	}
	if opts.IncidentURL != nil {
		f.SrcURL = opts.IncidentURL(inc.ID)
	}
	if holders := inc.Holders(ir.RoleCommander); len(holders) > 0 {
		f.Assignee = user(holders[0])
	}
	info := FindingInfo{
		UID:           string(inc.ID),
		Title:         inc.Title,
		Desc:          inc.Summary,
		CreatedTime:   millis(inc.Times.Opened),
		ModifiedTime:  millis(inc.UpdatedAt),
		FirstSeenTime: f.StartTime,
		SrcURL:        f.SrcURL,
	}
	if inc.Category != "" {
		info.Types = []string{string(inc.Category)}
	}
	f.FindingInfoList = []FindingInfo{info}
	var unmapped []UnmappedObservable
	for i, o := range inc.Observables {
		unmapped = append(unmapped, UnmappedObservable{Type: o.Type, Value: o.Value, Description: o.Description, Malicious: o.Malicious})
		id, caption := ObservableTypeID(o)
		f.Observables = append(f.Observables, Observable{
			Name:   "unmapped.observables[" + strconv.Itoa(i) + "].value",
			TypeID: id,
			Type:   caption,
			Value:  o.Value,
		})
	}
	if len(inc.Observables) > 0 {
		f.Unmapped = &Unmapped{Observables: unmapped}
	}
	return f, nil
}

// Marshal returns inc as an Incident Finding in indented JSON, ending with
// a newline. See [Export].
func Marshal(inc *ir.Incident, opts Options) ([]byte, error) {
	f, err := Export(inc, opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("ocsf: encode finding: %w", err)
	}
	return buf.Bytes(), nil
}

func (o Options) withDefaults() Options {
	if o.ProductName == "" {
		o.ProductName = "incidentkit"
	}
	if o.VendorName == "" {
		o.VendorName = "incidentkit"
	}
	if o.ProductVersion == "" {
		o.ProductVersion = moduleVersion()
	}
	if o.Team == "" {
		o.Team = "Incident response team"
	}
	return o
}

// moduleVersion returns the version of this module the program was built
// with, or "" when the build does not record one.
func moduleVersion() string {
	const path = "github.com/incidentkit/incidentkit"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	if bi.Main.Path == path && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return ""
}

// millis returns t as an OCSF timestamp, milliseconds since the Unix epoch;
// 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func user(a ir.Actor) *User {
	u := &User{UID: a.ID, Name: a.String(), TypeID: 1, Type: "User"}
	if a.Kind == ir.ActorService {
		u.TypeID, u.Type = 4, "Service"
	}
	return u
}

// suspectedBreach reports whether the incident is a data breach or its
// information impact includes a privacy or proprietary breach.
func suspectedBreach(inc *ir.Incident) bool {
	if inc.Category == ir.CategoryDataBreach {
		return true
	}
	for _, i := range inc.Impact.Information {
		if i == ir.InformationPrivacyBreach || i == ir.InformationProprietaryBreach {
			return true
		}
	}
	return false
}

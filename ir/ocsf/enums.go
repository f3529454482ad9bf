package ocsf

import (
	"net/netip"

	"github.com/incidentkit/incidentkit/ir"
)

// activity returns the activity_id and its caption: Create for a new
// incident, Close for a closed one, Update otherwise.
func activity(inc *ir.Incident) (int, string) {
	switch {
	case !inc.IsOpen():
		return 3, "Close"
	case inc.Version <= 1:
		return 1, "Create"
	default:
		return 2, "Update"
	}
}

// status returns the Incident Finding status_id and its caption.
func status(inc *ir.Incident) (int, string) {
	switch {
	case !inc.IsOpen():
		return 5, "Closed"
	case !inc.Times.Resolved.IsZero():
		return 4, "Resolved"
	case inc.Times.Acknowledged.IsZero() && stillInFirstPhase(inc):
		return 1, "New"
	default:
		return 2, "In Progress"
	}
}

func stillInFirstPhase(inc *ir.Incident) bool {
	if len(inc.PhaseHistory) == 0 {
		return true
	}
	return len(inc.PhaseHistory) == 1 && inc.Phase == inc.PhaseHistory[0].Phase
}

func severity(s ir.Severity) (int, string) {
	switch s {
	case ir.SeverityLow:
		return 2, "Low"
	case ir.SeverityMedium:
		return 3, "Medium"
	case ir.SeverityHigh:
		return 4, "High"
	case ir.SeverityCritical:
		return 5, "Critical"
	default:
		return 0, "Unknown"
	}
}

func verdict(v ir.Verdict) (int, string) {
	switch v {
	case ir.VerdictFalsePositive:
		return 1, "False Positive"
	case ir.VerdictTruePositive:
		return 2, "True Positive"
	case ir.VerdictBenign:
		return 5, "Benign"
	case ir.VerdictInconclusive:
		return 7, "Insufficient Data"
	default:
		return 0, "Unknown"
	}
}

func priority(p ir.Priority) (int, string) {
	switch p {
	case ir.PriorityP4:
		return 1, "Low"
	case ir.PriorityP3:
		return 2, "Medium"
	case ir.PriorityP2:
		return 3, "High"
	case ir.PriorityP1:
		return 4, "Critical"
	default:
		return 0, "Unknown"
	}
}

func impact(f ir.FunctionalImpact) (int, string) {
	switch f {
	case ir.FunctionalLow:
		return 1, "Low"
	case ir.FunctionalMedium:
		return 2, "Medium"
	case ir.FunctionalHigh:
		return 3, "High"
	case ir.FunctionalNone:
		return 99, "None"
	default:
		return 0, "Unknown"
	}
}

// ObservableTypeID returns the OCSF observable type_id for o and its
// caption, from the OCSF 1.8.0 dictionary's data types and observable
// objects:
//
//	ip            IP Address (2), or Subnet (12) for a CIDR prefix
//	domain, host  Hostname (1)
//	url           URL String (6)
//	email         Email Address (5)
//	md5, sha1,
//	sha256        Hash (8)
//	account       User Name (4)
//	file_name     File Name (7)
//	process       Process Name (9)
//	user_agent    HTTP User-Agent (16)
//	registry_key,
//	other         Other (99), with type "Registry Key" or "Other"
func ObservableTypeID(o ir.Observable) (int, string) {
	switch o.Type {
	case ir.ObservableIP:
		if _, err := netip.ParsePrefix(o.Value); err == nil {
			return 12, "Subnet"
		}
		return 2, "IP Address"
	case ir.ObservableDomain, ir.ObservableHost:
		return 1, "Hostname"
	case ir.ObservableURL:
		return 6, "URL String"
	case ir.ObservableEmail:
		return 5, "Email Address"
	case ir.ObservableMD5, ir.ObservableSHA1, ir.ObservableSHA256:
		return 8, "Hash"
	case ir.ObservableAccount:
		return 4, "User Name"
	case ir.ObservableFileName:
		return 7, "File Name"
	case ir.ObservableProcess:
		return 9, "Process Name"
	case ir.ObservableUserAgent:
		return 16, "HTTP User-Agent"
	case ir.ObservableRegistry:
		return 99, "Registry Key"
	default:
		return 99, "Other"
	}
}

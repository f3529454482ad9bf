// Package exportcase holds the incident the tests of the export packages
// share: one incident in containment with an observable of every type.
package exportcase

import (
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// At returns a fixed moment, minutes after 2026-03-02 09:00 UTC.
func At(minutes int) time.Time {
	return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

var (
	// Ana and Bob are the analyst and the incident commander of [Sample].
	Ana = ir.Actor{ID: "ana", Name: "Ana Lyst", Kind: ir.ActorHuman}
	Bob = ir.Actor{ID: "bob", Name: "Bob Boss", Kind: ir.ActorHuman}
)

// Sample returns an incident in containment with one observable of every
// type, malicious and not.
func Sample() *ir.Incident {
	obs := func(t ir.ObservableType, v string, malicious bool, min int) ir.Observable {
		return ir.Observable{Type: t, Value: v, Malicious: malicious, AddedAt: At(min), AddedBy: Ana}
	}
	return &ir.Incident{
		ID:       "INC-20260302-0900-3fa2c",
		Title:    "Phishing wave against finance",
		Summary:  "Credential-harvesting e-mails reached 40 mailboxes; two users entered their password.",
		Severity: ir.SeverityHigh,
		Priority: ir.PriorityP2,
		Category: ir.CategoryPhishing,
		TLP:      ir.TLPAmber,
		Model:    "nist",
		Phase:    phases.ContainmentEradicationRecovery,
		PhaseHistory: []ir.PhaseInterval{
			{Phase: phases.DetectionAndAnalysis, Entered: At(0), Left: At(30)},
			{Phase: phases.ContainmentEradicationRecovery, Action: "contain", Entered: At(30)},
		},
		Impact: ir.Impact{Functional: ir.FunctionalLow, Information: []ir.InformationImpact{ir.InformationPrivacyBreach}},
		Observables: []ir.Observable{
			obs(ir.ObservableIP, "198.51.100.7", true, 5),
			obs(ir.ObservableIP, "2001:db8::7", false, 6),
			obs(ir.ObservableIP, "203.0.113.0/24", true, 7),
			obs(ir.ObservableDomain, "login-finance.example.net", true, 8),
			obs(ir.ObservableURL, "https://login-finance.example.net/o365/?u=1", true, 9),
			obs(ir.ObservableEmail, "billing@example.org", true, 10),
			obs(ir.ObservableMD5, "44d88612fea8a8f36de82e1278abb02f", true, 11),
			obs(ir.ObservableSHA1, "3395856ce81f2b7382dee72602f798b642f14140", true, 12),
			obs(ir.ObservableSHA256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", true, 13),
			obs(ir.ObservableHost, "ws-0142.corp.example.com", false, 14),
			obs(ir.ObservableHost, "asset-7731", false, 15),
			obs(ir.ObservableAccount, "CORP\\jdoe", false, 16),
			obs(ir.ObservableFileName, "invoice.pdf.exe", true, 17),
			obs(ir.ObservableProcess, "invoice.pdf.exe", true, 18),
			obs(ir.ObservableRegistry, `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`, true, 19),
			obs(ir.ObservableUserAgent, "Mozilla/5.0 (X11; Linux) \"evil\"", true, 20),
			obs(ir.ObservableOther, "beacon every 60s", false, 21),
		},
		Participants: []ir.Participant{{Actor: Bob, Role: ir.RoleCommander, AssignedAt: At(3), AssignedBy: Ana}},
		Labels:       []string{"finance", "o365"},
		Times: ir.Lifecycle{
			Detected: At(-20), Reported: At(-5), Opened: At(0), Acknowledged: At(3), Contained: At(45),
		},
		OpenedBy:  Ana,
		UpdatedAt: At(50),
		Version:   24,
	}
}

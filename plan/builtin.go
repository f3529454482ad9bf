package plan

import (
	"slices"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// The built-in playbooks are written for the SANS PICERL model
// (phases.SANS): their steps belong to identification, containment,
// eradication, recovery and lessons learned. Each one's documentation names
// the published guidance its steps follow; they are summaries for a team
// to start from and adapt, not the guidance itself. Use them as they are
// (they are values: changing one's copy changes nothing else), or with
// [Playbook.ForNIST] on the NIST model.

// short names for the phases and roles the playbooks use.
const (
	ident    = phases.Identification
	contain  = phases.Containment
	eradic   = phases.Eradication
	recover  = phases.Recovery
	lessons  = phases.LessonsLearned
	analyst  = ir.RoleAnalyst
	techLead = ir.RoleTechnicalLead
	commsRol = ir.RoleCommunications
	legalRol = ir.RoleLegal
	cmdr     = ir.RoleCommander
)

func req(key string, ph phases.Phase, role ir.Role, title string) Step {
	return Step{Key: key, Phase: ph, Title: title, Required: true, Role: role}
}

func opt(key string, ph phases.Phase, role ir.Role, title string) Step {
	return Step{Key: key, Phase: ph, Title: title, Role: role}
}

// Phishing is the playbook for phishing e-mail reaching users. Its steps
// follow Microsoft's incident response playbook "Phishing investigation"
// (learn.microsoft.com/security/operations/incident-response-playbook-phishing)
// and the incident response checklist of CISA's "Federal Government
// Cybersecurity Incident and Vulnerability Response Playbooks" (November
// 2021, appendix B), on the phases of NIST SP 800-61r2.
func Phishing() Playbook {
	return Playbook{
		Name: "phishing", Category: ir.CategoryPhishing,
		Description: "A phishing e-mail reached users: find who received it and who acted on it, remove it, block it, and reset what was given away.",
		Source:      "Microsoft incident response playbook: Phishing investigation; CISA Federal Government Cybersecurity Incident and Vulnerability Response Playbooks (2021), appendix B",
		Steps: []Step{
			req("collect-message", ident, analyst, "Collect the reported message with its full headers"),
			req("find-recipients", ident, analyst, "Find every recipient, and who clicked, opened an attachment or replied"),
			req("record-indicators", ident, analyst, "Record the sender, links and attachment hashes as observables"),
			req("block-indicators", contain, techLead, "Block the sender, links and attachments at the mail and web gateways"),
			req("purge-message", contain, techLead, "Remove the message from every mailbox"),
			req("reset-credentials", contain, techLead, "Reset passwords and revoke sessions of users who entered credentials"),
			req("check-mailbox-rules", eradic, analyst, "Look for forwarding rules, delegates and app consents the attacker added, and remove them"),
			req("scan-endpoints", eradic, analyst, "Scan the devices of users who opened attachments"),
			req("watch-accounts", recover, analyst, "Watch the affected accounts' sign-ins for reuse of what was stolen"),
			opt("tell-recipients", recover, commsRol, "Tell the recipients what happened and how to report the next one"),
			opt("feed-defences", lessons, cmdr, "Feed the indicators and the lure into mail filtering and awareness training"),
		},
	}
}

// Ransomware is the playbook for ransomware and data extortion. Its steps
// follow part 2, the "Ransomware and Data Extortion Response Checklist", of
// the #StopRansomware Guide by CISA, the FBI, the NSA and MS-ISAC (2023; it
// updates the CISA and MS-ISAC Ransomware Guide of September 2020).
func Ransomware() Playbook {
	return Playbook{
		Name: "ransomware", Category: ir.CategoryRansomware,
		Description: "Systems were encrypted or data stolen for ransom: isolate, preserve, protect the backups, then rebuild and restore.",
		Source:      "CISA, FBI, NSA and MS-ISAC: #StopRansomware Guide (2023), part 2: Ransomware and Data Extortion Response Checklist",
		Steps: []Step{
			req("scope-systems", ident, analyst, "Determine which systems and data are affected"),
			req("triage-restoration", ident, techLead, "Triage the affected systems for restoration and recovery, critical ones first"),
			opt("identify-variant", ident, analyst, "Identify the ransomware variant and the initial access"),
			req("isolate", contain, techLead, "Isolate affected systems; power down only those that cannot be disconnected"),
			req("image-memory", contain, analyst, "Take a system image and memory capture of a sample of affected devices"),
			req("secure-backups", contain, techLead, "Take backups offline and check they are intact and free of malware"),
			req("contact-law-enforcement", contain, legalRol, "Report to law enforcement and ask about available decryptors"),
			opt("out-of-band", contain, commsRol, "Move the response's communication out of band, away from affected systems"),
			req("reset-credentials", eradic, techLead, "Reset the credentials of affected accounts, administrator and service accounts first"),
			req("remove-persistence", eradic, analyst, "Remove the attacker's persistence, tools and accounts"),
			req("rebuild-restore", recover, techLead, "Rebuild affected systems from clean images and restore data from backups"),
			req("watch-reinfection", recover, analyst, "Watch restored systems for signs of reinfection"),
			opt("update-plan", lessons, cmdr, "Record the lessons learned and update the plan and its playbooks"),
		},
	}
}

// AccountCompromise is the playbook for an account used by someone other
// than its owner. Its steps follow Microsoft's incident response playbook
// "Password spray investigation"
// (learn.microsoft.com/security/operations/incident-response-playbook-password-spray)
// and the incident response checklist of CISA's "Federal Government
// Cybersecurity Incident and Vulnerability Response Playbooks" (November
// 2021, appendix B).
func AccountCompromise() Playbook {
	return Playbook{
		Name: "account-compromise", Category: ir.CategoryAccountCompromise,
		Description: "An account is used by someone other than its owner: cut them off, undo what they changed, and find the other accounts they reached.",
		Source:      "Microsoft incident response playbook: Password spray investigation; CISA Federal Government Cybersecurity Incident and Vulnerability Response Playbooks (2021), appendix B",
		Steps: []Step{
			req("review-sign-ins", ident, analyst, "Review the account's sign-ins, MFA events, locations and devices"),
			req("find-activity", ident, analyst, "Find what the account did: mail, files, administrative changes"),
			req("revoke-access", contain, techLead, "Reset the password and revoke the account's sessions and tokens"),
			req("reset-mfa", contain, techLead, "Check the account's MFA methods and remove any the owner did not add"),
			req("undo-changes", eradic, analyst, "Remove rules, app consents, keys and roles the attacker added"),
			req("related-accounts", eradic, analyst, "Check other accounts for the same sign-in pattern"),
			req("restore-owner", recover, techLead, "Give the owner back their access, with MFA enforced"),
			req("watch-account", recover, analyst, "Watch the account for further suspicious sign-ins"),
			opt("review-policy", lessons, cmdr, "Review sign-in policies: MFA, lockout and conditional access"),
		},
	}
}

// DataExposure is the playbook for personal or confidential data exposed
// to people who should not have it. Its steps follow the FTC's "Data
// Breach Response: A Guide for Business" (secure your operations, fix
// vulnerabilities, notify appropriate parties) and articles 33 and 34 of
// the GDPR (Regulation (EU) 2016/679): notifying the supervisory
// authority within 72 hours of becoming aware of a personal data breach,
// and the people concerned when it is likely to result in a high risk to
// them.
func DataExposure() Playbook {
	return Playbook{
		Name: "data-exposure", Category: ir.CategoryDataBreach,
		Description: "Data was exposed or taken: stop the loss, find out whose data and what, fix the cause, and notify those the law and the people concerned require.",
		Source:      "FTC: Data Breach Response: A Guide for Business; GDPR (Regulation (EU) 2016/679) articles 33 and 34",
		Steps: []Step{
			req("scope-data", ident, analyst, "Determine what data was exposed, whose, how much, and since when"),
			req("assess-notification", ident, legalRol, "Decide with counsel who must be notified and by when (GDPR art. 33: 72 hours)"),
			req("stop-loss", contain, techLead, "Stop further loss: close the exposure, take affected equipment offline without turning it off"),
			req("preserve-evidence", contain, analyst, "Preserve evidence; change nothing that would destroy it"),
			opt("remove-posted", contain, commsRol, "Remove data posted online and ask search engines and other sites to remove copies"),
			req("fix-cause", eradic, techLead, "Fix the vulnerability that exposed the data, including service providers' access"),
			req("notify-authorities", eradic, legalRol, "Notify the supervisory authority, law enforcement and affected businesses as required"),
			req("notify-people", recover, commsRol, "Notify the people concerned where required (GDPR art. 34), saying what they can do"),
			opt("watch-misuse", recover, analyst, "Watch for misuse of the exposed data"),
			opt("review-handling", lessons, cmdr, "Review how the data was held: access, segmentation, retention"),
		},
	}
}

// DenialOfService is the playbook for a denial-of-service attack. Its steps
// follow "Understanding and Responding to Distributed Denial-of-Service
// Attacks" by CISA, the FBI and MS-ISAC (first published October 2022):
// its "during" and "after" an attack recommendations.
func DenialOfService() Playbook {
	return Playbook{
		Name: "denial-of-service", Category: ir.CategoryDenialOfService,
		Description: "A service is overwhelmed on purpose: confirm it, mitigate with the upstream providers, keep records, and check it did not cover something else.",
		Source:      "CISA, FBI and MS-ISAC: Understanding and Responding to Distributed Denial-of-Service Attacks (2022)",
		Steps: []Step{
			req("confirm-attack", ident, analyst, "Confirm an attack rather than an outage: which services, and which kind (volumetric, protocol, application)"),
			req("contact-provider", ident, techLead, "Contact the network provider or DDoS protection service"),
			req("mitigate", contain, techLead, "Apply mitigations: filtering, rate limiting, routing through the protection service"),
			req("keep-records", contain, analyst, "Keep traffic samples, logs and a timeline of the attack"),
			opt("tell-users", contain, commsRol, "Tell users and stakeholders about the degraded service"),
			req("check-diversion", eradic, analyst, "Check whether the attack covered other activity, such as an intrusion"),
			req("restore-service", recover, techLead, "Restore the service and watch for the attack's return"),
			opt("report-attack", recover, legalRol, "Report the attack to law enforcement or the national CSIRT"),
			opt("review-capacity", lessons, cmdr, "Review capacity, the protection service and the continuity plan"),
		},
	}
}

// Malware is the playbook for malware on the organisation's hosts. Its
// steps follow section 4, "Incident Response", of NIST SP 800-83 Rev. 1,
// "Guide to Malware Incident Prevention and Handling for Desktops and
// Laptops" (July 2013): identification of infected hosts, containment,
// eradication and recovery.
func Malware() Playbook {
	return Playbook{
		Name: "malware", Category: ir.CategoryMalware,
		Description: "Malware runs on hosts: find every infected host, stop it spreading, remove it, and restore the hosts.",
		Source:      "NIST SP 800-83 Rev. 1: Guide to Malware Incident Prevention and Handling for Desktops and Laptops (2013), section 4",
		Steps: []Step{
			req("identify-hosts", ident, analyst, "Identify the infected hosts and the malware's behaviour"),
			opt("record-sample", ident, analyst, "Collect a sample and record its hashes as observables"),
			req("isolate-hosts", contain, techLead, "Isolate infected hosts and block the malware's network traffic"),
			req("block-indicators", contain, techLead, "Block the malware's indicators in mail, web and endpoint defences"),
			opt("disable-services", contain, techLead, "Disable services the malware uses to spread, where the business allows"),
			req("remove-malware", eradic, techLead, "Remove the malware: disinfect the hosts, or rebuild them"),
			req("fix-entry", eradic, techLead, "Fix the vulnerabilities or settings the malware used"),
			req("restore-hosts", recover, techLead, "Restore data and services, and lift temporary containment measures"),
			req("watch-return", recover, analyst, "Watch for the malware's return"),
			opt("update-defences", lessons, cmdr, "Update prevention measures and the playbook from what was learned"),
		},
	}
}

// Builtin returns the built-in playbooks, one per category they cover.
func Builtin() []Playbook {
	return []Playbook{Phishing(), Ransomware(), AccountCompromise(), DataExposure(), DenialOfService(), Malware()}
}

// nistPhases maps the SANS PICERL phases of the built-in playbooks onto the
// NIST SP 800-61r2 model.
var nistPhases = map[phases.Phase]phases.Phase{
	phases.Preparation:    phases.Preparation,
	phases.Identification: phases.DetectionAndAnalysis,
	phases.Containment:    phases.ContainmentEradicationRecovery,
	phases.Eradication:    phases.ContainmentEradicationRecovery,
	phases.Recovery:       phases.ContainmentEradicationRecovery,
	phases.LessonsLearned: phases.PostIncidentActivity,
}

// ForNIST returns the playbook with its steps moved from the SANS PICERL
// phases onto those of the NIST SP 800-61r2 model (phases.NIST):
// identification to detection and analysis, containment, eradication and
// recovery to their one phase, lessons learned to post-incident activity.
// Steps keep their keys. A step in a phase SANS does not have keeps it.
func (p Playbook) ForNIST() Playbook {
	return p.MapPhases(nistPhases)
}

// MapPhases returns the playbook with each step's phase replaced by what m
// maps it to, if anything.
func (p Playbook) MapPhases(m map[phases.Phase]phases.Phase) Playbook {
	p.Steps = slices.Clone(p.Steps)
	for i, s := range p.Steps {
		if to, ok := m[s.Phase]; ok {
			p.Steps[i].Phase = to
		}
	}
	return p
}

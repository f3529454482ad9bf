// Package stix exports an [ir.Incident] as a STIX 2.1 bundle, the form
// threat-intelligence platforms exchange.
//
// [Export] builds the bundle as typed values, [Marshal] as JSON. The bundle
// holds, in this order:
//
//   - an identity for whoever exports ([Options.Creator]), the
//     created_by_ref of every other object;
//   - the TLP marking-definition objects for the incident's TLP (see
//     below), which mark every other object;
//   - the incident object: the title as name, the summary as
//     description, the category and the incident's labels as labels, the
//     incident's ID as an external reference, and the incident core
//     extension (see below);
//   - one Cyber-observable Object (SCO) per distinct observable that has
//     one: ip as ipv4-addr or ipv6-addr (CIDR prefixes included), domain as
//     domain-name, a host that is a DNS name as domain-name, url as url,
//     email as email-addr, md5, sha1 and sha256 as file with hashes MD5,
//     SHA-1 and SHA-256, file_name as file with name, account as
//     user-account with user_id, registry_key as windows-registry-key
//     (abbreviated hives written out, as STIX requires);
//   - one observed-data object referring to those SCOs, observed between
//     the first and the last time an observable was added;
//   - one indicator per malicious observable that a STIX pattern can
//     express (every SCO above, and user_agent and process as HTTP request
//     header and process image name), with pattern_type "stix",
//     indicator_types ["malicious-activity"] and valid_from the time the
//     observable was added;
//   - relationships: observed-data related-to the incident, each indicator
//     based-on the observed-data when its observable has an SCO, and each
//     indicator related-to the incident (STIX 2.1 defines no relationship
//     of an indicator to an incident, so related-to is the one that fits);
//   - a note on the incident listing the observables STIX has no object
//     for (process, user_agent, other, hosts that are not DNS names).
//
// # Incident core extension
//
// STIX 2.1 defines the incident object as a stub (name and description).
// The incident core extension, published by the OASIS CTI technical
// committee (Incident Core Extension version 2.1, draft of 20 February
// 2024, whose extension-definition object is
// [IncidentCoreExtensionID], version 2.0.0), adds what an investigation
// knows. The incident carries it as a property extension, under
// extensions, keyed by that identifier, with extension_type
// "property-extension" and:
//
//   - determination (required, incident-determination-enum): "confirmed"
//     for a true positive; "false-positive" for a false positive and for
//     a benign finding (the extension's schema counts a benign
//     determination as a false positive); "suspected" for an inconclusive
//     verdict or none yet. The library records neither "blocked" nor
//     "failed-attempt", so it never writes them.
//   - investigation_status (required, incident-investigation-ov): "closed"
//     once the incident is closed; "new" while it is still in the phase
//     it was opened in and nobody has acknowledged it; "open" otherwise
//     (a resolved incident not yet closed is still open).
//   - criticality (0 to 100): the severity on the extension's "5
//     Qualitative" criticality scale: low is 15 (Low), medium 40
//     (Moderate), high 70 (High), critical 95 (Extreme); 0 (False
//     Positive) when the determination is "false-positive"; absent when
//     the incident has no severity.
//   - incident_types (event-type-ov, the vocabulary the extension names
//     for it): phishing is dissemination-phishing-emails, malware
//     infected-by-known-malware, ransomware ransomware, account_compromise
//     theft-access-credentials, unauthorized_access
//     unauthorized-access-system, data_breach unauthorized-release,
//     denial_of_service denial-of-service, exploitation exploit,
//     lost_device equipment-loss, policy_violation policy-violation, and
//     other unspecified. No value describes web_attack or insider_threat,
//     so those incidents have no incident_types (their category is still
//     in labels).
//   - detection_methods (detection-methods-ov): "automated-tool" when a
//     service opened the incident; absent when a person did, as the
//     library does not record how that person learnt of it.
//   - recoverability (recoverability-enum): the NIST SP 800-61
//     recoverability, whose levels the enumeration shares (regular,
//     supplemented, extended, not-recoverable); absent when not assessed.
//   - scores: "incidentkit priority", 1 (P1) to 4 (P4), and
//     "incidentkit functional impact", the NIST SP 800-61 functional
//     impact from 0 (none) to 3 (high), each when set.
//
// The extension-definition object is not in the bundle. STIX 2.1 (section
// 7.3) lets a producer leave it out, consumers then resolving the
// identifier as for any other reference; OASIS publishes it, with its
// creator's identity, in its common objects repository, and a copy in
// every bundle would be a version of an object this package does not own,
// stale once OASIS revises it.
//
// The extension's companion objects (the event, impact and task
// objects, and the events, tasks, impact_refs and impacted_entity_counts
// properties that point to them or count what was hit) are left out: they
// are new object types that STIX tools without the extension cannot read,
// and the incident's information impact, tasks and assets would fit them
// only by guessing at values the library does not record (how much data
// was lost, how many entities of each kind were hit). The information
// impact is therefore not carried (the ocsf package's finding marks a
// privacy or proprietary breach as a suspected breach).
//
// # Markings
//
// The STIX 2.1 specification gives marking-definition objects, with fixed
// IDs, for TLP 1.0 only. The incident's TLP 2.0 label maps onto them:
// TLP:CLEAR is TLP:WHITE, TLP:GREEN, TLP:AMBER and TLP:RED are themselves,
// and TLP:AMBER+STRICT is TLP:AMBER together with a statement marking that
// says sharing is limited to the recipient's own organisation.
//
// # Identifiers
//
// Exporting an incident twice yields the same bundle, byte for byte. SCO
// identifiers are UUIDv5 in the STIX namespace
// 00abedb4-aa42-466c-9c01-fed23315a9b7 over the object's ID contributing
// properties in canonical JSON (RFC 8785), as STIX 2.1 section 2.9
// requires, so the same address gets the same identifier in every bundle
// from every producer. Every other object's identifier is UUIDv5 in
// [ObjectNamespace] over a name made of the object's type and what it
// stands for: "incident|" and the incident ID; "observed-data|" and the
// incident ID; "indicator|", the incident ID, "|" and the pattern;
// "relationship|", source ID, "|", type, "|", target ID; "note|" and the
// incident ID; "identity|", identity class, "|", name;
// "marking-definition|" and the statement; "bundle|", the incident ID,
// "|" and its version. An object's created is when the thing it stands
// for came to be (the incident opened, the observable added); modified is
// when the incident last changed. The identity and the statement marking
// are the same in every bundle: their created time is the Unix epoch.
package stix

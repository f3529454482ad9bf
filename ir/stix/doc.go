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
//     description, the category and the incident's labels as labels, and
//     the incident's ID as an external reference;
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
// STIX 2.1 defines the incident object as a stub (name and description).
// The incident core extension, which adds the incident's status,
// severity, impact and times, is not part of the STIX 2.1 schemas this
// package is written from, so it is not used; the incident's severity and
// phase are not carried in the bundle. Use the ocsf package for a record
// that holds them.
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

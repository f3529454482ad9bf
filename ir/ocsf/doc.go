// Package ocsf exports an [ir.Incident] as an OCSF 1.8.0 Incident Finding
// (class_uid 2005 in the Findings category, category_uid 2), the event
// security data lakes and SIEMs that speak the Open Cybersecurity Schema
// Framework read.
//
// [Export] builds the finding as a typed value, [Marshal] as JSON. The
// output is a function of the incident and the [Options] alone: exporting
// one incident twice yields the same bytes.
//
// What the finding holds, and where it comes from:
//
//   - activity_id: Create (1) for an incident at version 1, Close (3) for a
//     closed one, Update (2) otherwise; type_uid is 200500 plus it.
//   - status_id: New (1) while the incident is still in the phase it was
//     opened in and nobody has acknowledged it; Closed (5) once it is
//     closed; Resolved (4) once it is resolved but not yet closed; In
//     Progress (2) otherwise. The library has no waiting state, so On Hold
//     (3) is never used.
//   - status_code is the incident's phase, and status_detail names the
//     phase and the phase model.
//   - verdict_id: true_positive is True Positive (2), false_positive False
//     Positive (1), benign Benign (5), inconclusive Insufficient Data (7);
//     no verdict yet is Unknown (0).
//   - severity_id: low, medium, high and critical are Low (2) to Critical
//     (5); unset is Unknown (0).
//   - priority_id: P1 is Critical (4), P2 High (3), P3 Medium (2), P4 Low
//     (1); unset is Unknown (0).
//   - impact_id: the NIST functional impact low, medium and high is Low (1),
//     Medium (2) and High (3); "none" has no OCSF level and is Other (99)
//     with impact "None"; unset is Unknown (0).
//   - confidence_id: the library records no confidence, so Unknown (0).
//   - message is the title, desc the summary, comment the resolution.
//   - is_suspected_breach is true for a data breach, or an incident whose
//     information impact is a privacy or proprietary breach; it is left
//     out otherwise.
//   - metadata.reporter: who opened the incident; metadata.uid the
//     incident ID and version.
//   - assignee: the incident commander; assignee_group: [Options.Team]. The
//     class requires at least one of them, so the group is always given.
//   - observables: one OCSF observable per incident observable, with the
//     type_id of the OCSF data type or object that fits it (see
//     [ObservableTypeID]). The incident's own form of each observable (its
//     type, value and description) is kept under unmapped.observables, and
//     each observable's name points there.
//   - finding_info_list: one finding_info for the incident (uid the
//     incident ID, title, description, category as its type, created,
//     modified and first-seen times).
//   - times: OCSF timestamps, milliseconds since the Unix epoch, in UTC
//     (timezone_offset 0). time is when the incident last changed,
//     start_time when it began (or was detected), end_time when it closed.
//
// Every string and number that has an OCSF caption sibling gets it
// (activity_name, category_name, class_name, type_name, severity, status,
// verdict, priority, impact, confidence, observable type).
package ocsf

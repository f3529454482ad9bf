// Package phases describes incident-response processes as data and moves
// incidents through them safely.
//
// A [Model] is a list of phases and named transitions between them (each an
// [Action]), with one initial phase and one or more terminal phases. Models
// are immutable once built: [New] validates a [Definition] and reports every
// problem at once as a [*ValidationError]; [Load] does the same for a model
// written in JSON.
//
// Both bound what they accept, so that a definition from anywhere can be
// loaded safely: at most [MaxDefinitionBytes] of JSON, [MaxPhases] phases,
// [MaxActions] actions, [MaxFrom] phases an action leaves from, and limits
// on guards, marks and the length of every name and text. A definition
// beyond one is refused with a [*LimitError] naming it (matching
// [ErrModelTooLarge]), and every check is linear in the definition's size.
//
// Four built-in models cover the processes responders use most:
//
//   - [SANS]: Preparation, Identification, Containment, Eradication,
//     Recovery, Lessons Learned (SANS PICERL);
//   - [NIST]: Preparation; Detection and Analysis; Containment, Eradication
//     and Recovery; Post-Incident Activity (NIST SP 800-61r2);
//   - [DACER]: Detection, Analysis, Containment, Eradication, Recovery;
//   - [ICARP]: Identification, Containment, Assessment, Remediation,
//     Post-Incident Review.
//
// Each carries the loops real incidents take: back to containment on
// reinfection ([ReturnToContainment]), closing a false positive from triage
// ([Dismiss]) and reopening a closed incident ([Reopen]), and each ends in
// [Closed].
//
// [Guard]s decide whether a transition may happen and say why not. Built-in
// guards check that a role is assigned ([RoleAssigned]), that the required
// tasks of the phase being left are done ([TasksDone]), that a verdict is
// set ([VerdictSet]), that evidence is preserved ([EvidencePreserved]) and
// that a post-incident review with a root cause is recorded
// ([ReviewRecorded]), which the built-in models with a review phase
// ([SANS], [NIST], [ICARP]) need before they close from it. Guards see the incident through the small [Subject]
// interface, so this package never depends on a particular incident type.
// [Model.WithGuards] attaches guards of your own to any action.
//
// [Model.Fire] performs one transition. It is built on
// github.com/looplab/fsm, but no fsm type or error crosses this package's
// API: every call builds a throwaway machine from the stored phase, so a
// cancelled context or a panicking guard can never leave a machine stuck, and
// every failure is one of this package's typed errors ([ErrInvalidTransition],
// [ErrGuardFailed], [ErrUnknownAction], [ErrUnknownPhase]).
//
// [Model.Mermaid] renders any model as a Mermaid state diagram.
package phases

package phases

import "fmt"

// Roles the built-in models' guards ask for. They match the role names of
// incident records (github.com/incidentkit/incidentkit/ir).
const (
	// RoleCommander is the incident commander, who must be assigned before
	// containment starts in every built-in model.
	RoleCommander = "incident_commander"
)

// Verdicts the built-in [Dismiss] actions accept.
const (
	VerdictFalsePositive = "false_positive"
	VerdictBenign        = "benign"
)

var (
	commanderAndTasks = []GuardSpec{{Type: GuardRoleAssigned, Role: RoleCommander}, {Type: GuardTasksDone}}
	tasksDone         = []GuardSpec{{Type: GuardTasksDone}}
	verdictAndTasks   = []GuardSpec{{Type: GuardVerdictSet}, {Type: GuardTasksDone}}
	reviewed          = []GuardSpec{{Type: GuardVerdictSet}, {Type: GuardTasksDone}, {Type: GuardReviewRecorded}}
	dismissable       = []GuardSpec{{Type: GuardVerdictSet, Verdicts: []string{VerdictFalsePositive, VerdictBenign}}}
)

// SANS is the SANS PICERL process: Preparation, Identification,
// Containment, Eradication, Recovery, Lessons Learned, then Closed.
// Communication runs throughout and is not a phase.
//
// Incidents open in Preparation and start identification with [Identify].
// [Contain] needs an incident commander; every forward action needs the
// required tasks of the phase being left; [Close] needs a verdict and a
// post-incident review with a root cause ([ReviewRecorded]).
// Reinfection during eradication or recovery goes back with
// [ReturnToContainment]; a false positive closes from triage with [Dismiss]
// (verdict false_positive or benign); [Reopen] reopens into Identification.
var SANS = MustNew(Definition{
	Name:        "sans-picerl",
	Title:       "SANS PICERL",
	Description: "Preparation, Identification, Containment, Eradication, Recovery, Lessons Learned.",
	Initial:     Preparation,
	Phases: []PhaseDef{
		{Name: Preparation, Title: "Preparation", Description: "Responders gather, confirm the playbook and who is on call."},
		{Name: Identification, Title: "Identification", Description: "Confirm the incident, scope it and record what is known.", Marks: []Milestone{MilestoneAcknowledged}},
		{Name: Containment, Title: "Containment", Description: "Stop the threat from spreading; preserve evidence."},
		{Name: Eradication, Title: "Eradication", Description: "Remove the cause.", Marks: []Milestone{MilestoneContained}},
		{Name: Recovery, Title: "Recovery", Description: "Restore affected systems and watch for reinfection.", Marks: []Milestone{MilestoneContained, MilestoneEradicated}},
		{Name: LessonsLearned, Title: "Lessons Learned", Description: "Review what happened and what to improve.", Marks: []Milestone{MilestoneContained, MilestoneEradicated, MilestoneRecovered, MilestoneResolved}},
		{Name: Closed, Title: "Closed", Terminal: true, Marks: []Milestone{MilestoneResolved, MilestoneClosed}},
	},
	Actions: []ActionDef{
		{Name: Identify, Title: "Start identification", From: []Phase{Preparation}, To: Identification},
		{Name: Contain, Title: "Start containment", From: []Phase{Identification}, To: Containment, Guards: commanderAndTasks},
		{Name: Eradicate, Title: "Start eradication", From: []Phase{Containment}, To: Eradication, Guards: tasksDone},
		{Name: Recover, Title: "Start recovery", From: []Phase{Eradication}, To: Recovery, Guards: tasksDone},
		{Name: ReturnToContainment, Title: "Return to containment", From: []Phase{Eradication, Recovery}, To: Containment},
		{Name: Review, Title: "Hold the lessons-learned review", From: []Phase{Recovery}, To: LessonsLearned, Guards: tasksDone},
		{Name: Close, Title: "Close", From: []Phase{LessonsLearned}, To: Closed, Guards: reviewed},
		{Name: Dismiss, Title: "Dismiss as false positive", From: []Phase{Preparation, Identification}, To: Closed, Guards: dismissable},
		{Name: Reopen, Title: "Reopen", From: []Phase{Closed}, To: Identification},
	},
})

// NIST is the incident-handling process of NIST SP 800-61r2: Preparation;
// Detection and Analysis; Containment, Eradication and Recovery;
// Post-Incident Activity; then Closed.
//
// Incidents open in Preparation and start with [Detect]. [Contain] needs an
// incident commander; forward actions need the required tasks of the phase
// being left; [Close] needs a verdict and a post-incident review with a
// root cause ([ReviewRecorded]). The model keeps NIST's cycle from
// containment back to analysis ([ReturnToAnalysis]), goes back to
// containment from post-incident activity on reinfection
// ([ReturnToContainment]), dismisses false positives from triage ([Dismiss])
// and reopens into Detection and Analysis ([Reopen]). Because containment,
// eradication and recovery are one phase here, all three milestones are
// marked when it ends.
var NIST = MustNew(Definition{
	Name:        "nist-800-61r2",
	Title:       "NIST SP 800-61r2",
	Description: "Preparation; Detection and Analysis; Containment, Eradication and Recovery; Post-Incident Activity.",
	Initial:     Preparation,
	Phases: []PhaseDef{
		{Name: Preparation, Title: "Preparation", Description: "Responders gather, confirm the playbook and who is on call."},
		{Name: DetectionAndAnalysis, Title: "Detection and Analysis", Description: "Confirm the incident, scope it and prioritise it.", Marks: []Milestone{MilestoneAcknowledged}},
		{Name: ContainmentEradicationRecovery, Title: "Containment, Eradication and Recovery", Description: "Contain the threat, remove it and restore systems."},
		{Name: PostIncidentActivity, Title: "Post-Incident Activity", Description: "Lessons learned, evidence retention, reporting.", Marks: []Milestone{MilestoneContained, MilestoneEradicated, MilestoneRecovered, MilestoneResolved}},
		{Name: Closed, Title: "Closed", Terminal: true, Marks: []Milestone{MilestoneResolved, MilestoneClosed}},
	},
	Actions: []ActionDef{
		{Name: Detect, Title: "Start detection and analysis", From: []Phase{Preparation}, To: DetectionAndAnalysis},
		{Name: Contain, Title: "Start containment, eradication and recovery", From: []Phase{DetectionAndAnalysis}, To: ContainmentEradicationRecovery, Guards: commanderAndTasks},
		{Name: ReturnToAnalysis, Title: "Return to detection and analysis", From: []Phase{ContainmentEradicationRecovery}, To: DetectionAndAnalysis},
		{Name: Review, Title: "Start post-incident activity", From: []Phase{ContainmentEradicationRecovery}, To: PostIncidentActivity, Guards: tasksDone},
		{Name: ReturnToContainment, Title: "Return to containment", From: []Phase{PostIncidentActivity}, To: ContainmentEradicationRecovery},
		{Name: Close, Title: "Close", From: []Phase{PostIncidentActivity}, To: Closed, Guards: reviewed},
		{Name: Dismiss, Title: "Dismiss as false positive", From: []Phase{Preparation, DetectionAndAnalysis}, To: Closed, Guards: dismissable},
		{Name: Reopen, Title: "Reopen", From: []Phase{Closed}, To: DetectionAndAnalysis},
	},
})

// DACER is the five-step process Detection, Analysis, Containment,
// Eradication, Recovery, then Closed.
//
// Incidents open in Detection and move to Analysis with [Analyze]. [Contain]
// needs an incident commander; forward actions need the required tasks of
// the phase being left; [Close] from Recovery needs a verdict. Reinfection
// goes back with [ReturnToContainment]; false positives close with
// [Dismiss]; [Reopen] reopens into Analysis. The model has no review
// phase, so closing does not wait for a post-incident review; to make it,
// add [ReviewRecorded] to [Close] with [Model.WithGuards].
var DACER = MustNew(Definition{
	Name:        "dacer",
	Title:       "Detection, Analysis, Containment, Eradication, Recovery",
	Description: "The five-step detection-to-recovery process.",
	Initial:     Detection,
	Phases: []PhaseDef{
		{Name: Detection, Title: "Detection", Description: "An alert or report has raised a possible incident."},
		{Name: Analysis, Title: "Analysis", Description: "Confirm the incident and scope it.", Marks: []Milestone{MilestoneAcknowledged}},
		{Name: Containment, Title: "Containment", Description: "Stop the threat from spreading; preserve evidence."},
		{Name: Eradication, Title: "Eradication", Description: "Remove the cause.", Marks: []Milestone{MilestoneContained}},
		{Name: Recovery, Title: "Recovery", Description: "Restore affected systems and watch for reinfection.", Marks: []Milestone{MilestoneContained, MilestoneEradicated}},
		{Name: Closed, Title: "Closed", Terminal: true, Marks: []Milestone{MilestoneRecovered, MilestoneResolved, MilestoneClosed}},
	},
	Actions: []ActionDef{
		{Name: Analyze, Title: "Start analysis", From: []Phase{Detection}, To: Analysis},
		{Name: Contain, Title: "Start containment", From: []Phase{Analysis}, To: Containment, Guards: commanderAndTasks},
		{Name: Eradicate, Title: "Start eradication", From: []Phase{Containment}, To: Eradication, Guards: tasksDone},
		{Name: Recover, Title: "Start recovery", From: []Phase{Eradication}, To: Recovery, Guards: tasksDone},
		{Name: ReturnToContainment, Title: "Return to containment", From: []Phase{Eradication, Recovery}, To: Containment},
		{Name: Close, Title: "Close", From: []Phase{Recovery}, To: Closed, Guards: verdictAndTasks},
		{Name: Dismiss, Title: "Dismiss as false positive", From: []Phase{Detection, Analysis}, To: Closed, Guards: dismissable},
		{Name: Reopen, Title: "Reopen", From: []Phase{Closed}, To: Analysis},
	},
})

// ICARP is the process Identification, Containment, Assessment,
// Remediation, Post-Incident Review, then Closed.
//
// Incidents open in Identification. [Contain] needs an incident commander;
// forward actions need the required tasks of the phase being left; [Close]
// needs a verdict and a post-incident review with a root cause
// ([ReviewRecorded]). If assessment or remediation finds the threat active
// again, [ReturnToContainment] goes back; false positives close from
// Identification with [Dismiss]; [Reopen] reopens into Identification.
var ICARP = MustNew(Definition{
	Name:        "icarp",
	Title:       "Identification, Containment, Assessment, Remediation, Post-Incident Review",
	Description: "Contain first, then assess the damage and remediate.",
	Initial:     Identification,
	Phases: []PhaseDef{
		{Name: Identification, Title: "Identification", Description: "Confirm the incident and scope it."},
		{Name: Containment, Title: "Containment", Description: "Stop the threat from spreading; preserve evidence.", Marks: []Milestone{MilestoneAcknowledged}},
		{Name: Assessment, Title: "Assessment", Description: "Assess what was affected and how badly.", Marks: []Milestone{MilestoneContained}},
		{Name: Remediation, Title: "Remediation", Description: "Remove the cause and restore systems.", Marks: []Milestone{MilestoneContained}},
		{Name: PostIncidentReview, Title: "Post-Incident Review", Description: "Review what happened and what to improve.", Marks: []Milestone{MilestoneContained, MilestoneEradicated, MilestoneRecovered, MilestoneResolved}},
		{Name: Closed, Title: "Closed", Terminal: true, Marks: []Milestone{MilestoneResolved, MilestoneClosed}},
	},
	Actions: []ActionDef{
		{Name: Contain, Title: "Start containment", From: []Phase{Identification}, To: Containment, Guards: commanderAndTasks},
		{Name: Assess, Title: "Start assessment", From: []Phase{Containment}, To: Assessment, Guards: tasksDone},
		{Name: Remediate, Title: "Start remediation", From: []Phase{Assessment}, To: Remediation, Guards: tasksDone},
		{Name: ReturnToContainment, Title: "Return to containment", From: []Phase{Assessment, Remediation}, To: Containment},
		{Name: Review, Title: "Start the post-incident review", From: []Phase{Remediation}, To: PostIncidentReview, Guards: tasksDone},
		{Name: Close, Title: "Close", From: []Phase{PostIncidentReview}, To: Closed, Guards: reviewed},
		{Name: Dismiss, Title: "Dismiss as false positive", From: []Phase{Identification}, To: Closed, Guards: dismissable},
		{Name: Reopen, Title: "Reopen", From: []Phase{Closed}, To: Identification},
	},
})

// eradicationActions names, for each built-in model that has one, the
// action that starts eradication: the work that destroys what an examiner
// would need.
var eradicationActions = map[*Model]Action{
	SANS:  Eradicate,
	DACER: Eradicate,
	ICARP: Remediate,
}

// WithEvidencePreserved returns a copy of the built-in model m in which
// starting eradication needs preserved evidence ([EvidencePreserved]):
// [Eradicate] in SANS and DACER, [Remediate] in ICARP. NIST has no
// transition into eradication of its own (containment, eradication and
// recovery are one phase, and evidence is gathered during containment), so
// for NIST, as for models of your own, choose the action and use
// [Model.WithGuards]. It fails with [ErrInvalidModel] for any other model.
func WithEvidencePreserved(m *Model) (*Model, error) {
	a, ok := eradicationActions[m]
	if !ok {
		return nil, fmt.Errorf("phases: %s: no built-in eradication action; add EvidencePreserved with WithGuards: %w", m.Name(), ErrInvalidModel)
	}
	return m.WithGuards(a, EvidencePreserved())
}

// Builtin returns the built-in models: [SANS], [NIST], [DACER], [ICARP].
func Builtin() []*Model { return []*Model{SANS, NIST, DACER, ICARP} }

// Lookup returns the built-in model with the given name.
func Lookup(name string) (*Model, bool) {
	for _, m := range Builtin() {
		if m.Name() == name {
			return m, true
		}
	}
	return nil, false
}

package phases

// Phase names a phase of an incident-response process, such as [Containment].
// Phases are compared by name; a [Model] gives each a display title.
type Phase string

// String returns the phase name.
func (p Phase) String() string { return string(p) }

// Action names a transition between phases, such as [Contain]. One action may
// leave from several phases but always arrives in one.
type Action string

// String returns the action name.
func (a Action) String() string { return string(a) }

// Milestone is a point in an incident's life that entering a phase marks,
// such as [MilestoneContained]. Incident records turn milestones into
// lifecycle timestamps; entering a phase never moves a milestone that is
// already set.
type Milestone string

// The milestones a phase can mark.
const (
	// MilestoneAcknowledged: a responder has started working the incident.
	MilestoneAcknowledged Milestone = "acknowledged"
	// MilestoneContained: the threat can no longer spread.
	MilestoneContained Milestone = "contained"
	// MilestoneEradicated: the cause has been removed.
	MilestoneEradicated Milestone = "eradicated"
	// MilestoneRecovered: affected systems are back in normal operation.
	MilestoneRecovered Milestone = "recovered"
	// MilestoneResolved: the incident needs no further response work.
	MilestoneResolved Milestone = "resolved"
	// MilestoneClosed: the record is closed.
	MilestoneClosed Milestone = "closed"
)

var milestones = []Milestone{
	MilestoneAcknowledged, MilestoneContained, MilestoneEradicated,
	MilestoneRecovered, MilestoneResolved, MilestoneClosed,
}

// String returns the milestone name.
func (m Milestone) String() string { return string(m) }

// Phases of the built-in models. A phase name used by several models means
// the same thing in each.
const (
	Preparation                    Phase = "preparation"
	Identification                 Phase = "identification"
	Containment                    Phase = "containment"
	Eradication                    Phase = "eradication"
	Recovery                       Phase = "recovery"
	LessonsLearned                 Phase = "lessons_learned"
	DetectionAndAnalysis           Phase = "detection_and_analysis"
	ContainmentEradicationRecovery Phase = "containment_eradication_recovery"
	PostIncidentActivity           Phase = "post_incident_activity"
	Detection                      Phase = "detection"
	Analysis                       Phase = "analysis"
	Assessment                     Phase = "assessment"
	Remediation                    Phase = "remediation"
	PostIncidentReview             Phase = "post_incident_review"
	// Closed is the terminal phase of every built-in model.
	Closed Phase = "closed"
)

// Actions of the built-in models.
const (
	// Identify starts identification (SANS).
	Identify Action = "identify"
	// Detect starts detection and analysis (NIST).
	Detect Action = "detect"
	// Analyze moves from detection to analysis.
	Analyze Action = "analyze"
	// Contain starts containment once the incident is confirmed.
	Contain Action = "contain"
	// Eradicate starts removing the cause once the threat is contained.
	Eradicate Action = "eradicate"
	// Recover starts restoring affected systems.
	Recover Action = "recover"
	// Assess starts assessing the damage once the threat is contained.
	Assess Action = "assess"
	// Remediate starts fixing what the assessment found.
	Remediate Action = "remediate"
	// Review starts the lessons-learned or post-incident review.
	Review Action = "review"
	// ReturnToContainment goes back to containment, for example on
	// reinfection during recovery.
	ReturnToContainment Action = "return_to_containment"
	// ReturnToAnalysis goes back from containment, eradication and recovery
	// to detection and analysis (NIST's cycle).
	ReturnToAnalysis Action = "return_to_analysis"
	// Close closes a resolved incident.
	Close Action = "close"
	// Dismiss closes an incident from triage, as a false positive or benign.
	Dismiss Action = "dismiss"
	// Reopen reopens a closed incident.
	Reopen Action = "reopen"
)

package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// incidentID is the request's {id}.
func incidentID(r *http.Request) ir.ID { return ir.ID(r.PathValue("id")) }

// badQuery is the problem of a query parameter that cannot be read.
func badQuery(name, value, reason string) error {
	p := newProblem(http.StatusBadRequest, CodeMalformed, "query parameter "+name+" "+reason)
	p.Errors = []FieldError{{Field: name, Value: value, Reason: reason}}
	return p
}

// queryInt reads an integer query parameter, zero if absent.
func queryInt(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badQuery(name, v, "is not an integer")
	}
	return n, nil
}

// queryTime reads an RFC 3339 query parameter, zero if absent.
func queryTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badQuery(name, v, "is not an RFC 3339 time")
	}
	return t, nil
}

// splitList reads a repeatable, comma-separated query parameter.
func splitList(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// incidentQuery reads the incident filters of a listing or of metrics.
func incidentQuery(q url.Values) (ir.Query, error) {
	var query ir.Query
	for _, p := range splitList(q, "phase") {
		query.Phases = append(query.Phases, phases.Phase(p))
	}
	for _, sev := range splitList(q, "severity") {
		query.Severities = append(query.Severities, ir.Severity(sev))
	}
	query.Labels = q["label"]
	switch v := q.Get("status"); v {
	case "", "any":
		query.Status = ir.StatusAny
	case "open":
		query.Status = ir.StatusOpen
	case "closed":
		query.Status = ir.StatusClosed
	default:
		return query, badQuery("status", v, "is not open, closed or any")
	}
	var err error
	if query.OpenedAfter, err = queryTime(q, "opened_after"); err != nil {
		return query, err
	}
	if query.OpenedBefore, err = queryTime(q, "opened_before"); err != nil {
		return query, err
	}
	limit, err := queryInt(q, "limit")
	if err != nil {
		return query, err
	}
	query.Limit = int(limit)
	query.After = q.Get("after")
	return query, nil
}

// IncidentList is a page of incidents.
type IncidentList struct {
	Incidents []*ir.Incident `json:"incidents"`
	// Next, if set, is the after parameter of the next page.
	Next string `json:"next,omitempty"`
}

func (s *Service) listIncidents(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := incidentQuery(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := s.Responder.List(r.Context(), q)
	if err != nil {
		return err
	}
	if page.Incidents == nil {
		page.Incidents = []*ir.Incident{}
	}
	return writeJSON(w, http.StatusOK, IncidentList{Incidents: page.Incidents, Next: page.Next})
}

// NewIncidentRequest is the body of POST /v1/incidents.
type NewIncidentRequest struct {
	Title   string `json:"title"`
	Summary string `json:"summary,omitempty"`
	// Severity, Priority, Category and TLP are strings here, so that the
	// Responder checks them with every other field and reports every
	// problem at once.
	Severity    string          `json:"severity"`
	Priority    string          `json:"priority,omitempty"`
	Category    string          `json:"category,omitempty"`
	TLP         string          `json:"tlp,omitempty"`
	Impact      ir.Impact       `json:"impact,omitzero"`
	Labels      []string        `json:"labels,omitempty"`
	Observables []ir.Observable `json:"observables,omitempty"`
	Assets      []ir.Asset      `json:"assets,omitempty"`
	OccurredAt  time.Time       `json:"occurred_at,omitzero"`
	DetectedAt  time.Time       `json:"detected_at,omitzero"`
	ReportedAt  time.Time       `json:"reported_at,omitzero"`
}

func (s *Service) openIncident(w http.ResponseWriter, r *http.Request, p principal) error {
	var req NewIncidentRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	inc, err := s.Responder.Open(r.Context(), p.actor, ir.NewIncident{
		Title: req.Title, Summary: req.Summary, Severity: ir.Severity(req.Severity), Priority: ir.Priority(req.Priority),
		Category: ir.Category(req.Category), TLP: ir.TLP(req.TLP), Impact: req.Impact, Labels: req.Labels,
		Observables: req.Observables, Assets: req.Assets,
		OccurredAt: req.OccurredAt, DetectedAt: req.DetectedAt, ReportedAt: req.ReportedAt,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/incidents/"+url.PathEscape(string(inc.ID)))
	return writeJSON(w, http.StatusCreated, inc)
}

func (s *Service) getIncident(w http.ResponseWriter, r *http.Request, _ principal) error {
	inc, err := s.Responder.Get(r.Context(), incidentID(r))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(inc.Version, 10)))
	return writeJSON(w, http.StatusOK, inc)
}

// Timeline is a page of an incident's timeline.
type Timeline struct {
	Events []ir.Event `json:"events"`
	// Next, if not zero, is the from parameter of the next page in the
	// same direction.
	Next int64 `json:"next,omitempty"`
}

func (s *Service) timeline(w http.ResponseWriter, r *http.Request, _ principal) error {
	q := r.URL.Query()
	from, err := queryInt(q, "from")
	if err != nil {
		return err
	}
	limit, err := queryInt(q, "limit")
	if err != nil {
		return err
	}
	var newest bool
	switch v := q.Get("order"); v {
	case "", "oldest":
	case "newest":
		newest = true
	default:
		return badQuery("order", v, "is not oldest or newest")
	}
	page, err := s.Responder.Timeline(r.Context(), incidentID(r), ir.TimelineQuery{From: from, NewestFirst: newest, Limit: int(limit)})
	if err != nil {
		return err
	}
	if page.Events == nil {
		page.Events = []ir.Event{}
	}
	return writeJSON(w, http.StatusOK, Timeline{Events: page.Events, Next: page.Next})
}

// Refusal says why something may not be done now: a stable code, the
// message, and the guards that refused.
type Refusal struct {
	Code     string         `json:"code"`
	Message  string         `json:"message"`
	Refusals []GuardRefusal `json:"refusals,omitempty"`
}

// refusal describes err, nil if err is.
func refusal(err error) *Refusal {
	if err == nil {
		return nil
	}
	p := problemOf(err)
	return &Refusal{Code: p.Code, Message: err.Error(), Refusals: p.Refusals}
}

// Action is a phase action open, or refused, to the actor.
type Action struct {
	Action  phases.Action `json:"action"`
	Title   string        `json:"title"`
	To      phases.Phase  `json:"to"`
	Allowed bool          `json:"allowed"`
	Refused *Refusal      `json:"refused,omitempty"`
}

// actionsOf converts the Responder's action options.
func actionsOf(opts []ir.ActionOption) []Action {
	out := make([]Action, 0, len(opts))
	for _, o := range opts {
		out = append(out, Action{Action: o.Action, Title: o.Title, To: o.To, Allowed: o.Err == nil, Refused: refusal(o.Err)})
	}
	return out
}

// Actions lists the phase actions from an incident's phase.
type Actions struct {
	Phase   phases.Phase `json:"phase"`
	Actions []Action     `json:"actions"`
}

func (s *Service) actions(w http.ResponseWriter, r *http.Request, p principal) error {
	perms, err := s.Responder.Allowed(r.Context(), p.actor, incidentID(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Actions{Phase: perms.Incident.Phase, Actions: actionsOf(perms.Actions)})
}

// Change is whether the actor may make one kind of change.
type Change struct {
	Operation ir.Operation `json:"operation"`
	Role      ir.Role      `json:"role,omitempty"`
	Allowed   bool         `json:"allowed"`
	Refused   *Refusal     `json:"refused,omitempty"`
}

// Permissions says what the actor may do to an incident now.
type Permissions struct {
	Actor   ir.Actor     `json:"actor"`
	Role    Role         `json:"role"`
	Phase   phases.Phase `json:"phase"`
	Version int64        `json:"version"`
	Actions []Action     `json:"actions"`
	Changes []Change     `json:"changes"`
	Close   *Refusal     `json:"close_refused,omitempty"`
	Reopen  *Refusal     `json:"reopen_refused,omitempty"`
}

func (s *Service) permissions(w http.ResponseWriter, r *http.Request, p principal) error {
	perms, err := s.Responder.Allowed(r.Context(), p.actor, incidentID(r))
	if err != nil {
		return err
	}
	out := Permissions{Actor: p.actor, Role: p.role, Phase: perms.Incident.Phase, Version: perms.Incident.Version,
		Actions: actionsOf(perms.Actions), Changes: []Change{}, Close: refusal(perms.Close), Reopen: refusal(perms.Reopen)}
	for _, c := range perms.Changes {
		out.Changes = append(out.Changes, Change{Operation: c.Operation, Role: c.Role, Allowed: c.Err == nil, Refused: refusal(c.Err)})
	}
	return writeJSON(w, http.StatusOK, out)
}

// change decodes the body into a T and writes the incident that apply
// returns.
func change[T any](s *Service, w http.ResponseWriter, r *http.Request, apply func(T) (*ir.Incident, error)) error {
	var req T
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	inc, err := apply(req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, inc)
}

// TransitionRequest takes a phase action.
type TransitionRequest struct {
	Action phases.Action `json:"action"`
	Reason string        `json:"reason"`
}

func (s *Service) transition(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req TransitionRequest) (*ir.Incident, error) {
		return s.Responder.Transition(r.Context(), p.actor, incidentID(r), req.Action, req.Reason)
	})
}

// ReasonRequest gives a reason.
type ReasonRequest struct {
	Reason string `json:"reason"`
}

func (s *Service) closeIncident(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req ReasonRequest) (*ir.Incident, error) {
		return s.Responder.Close(r.Context(), p.actor, incidentID(r), req.Reason)
	})
}

func (s *Service) reopenIncident(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req ReasonRequest) (*ir.Incident, error) {
		return s.Responder.Reopen(r.Context(), p.actor, incidentID(r), req.Reason)
	})
}

// SeverityRequest changes the severity.
type SeverityRequest struct {
	Severity ir.Severity `json:"severity"`
	Reason   string      `json:"reason"`
}

func (s *Service) setSeverity(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req SeverityRequest) (*ir.Incident, error) {
		return s.Responder.SetSeverity(r.Context(), p.actor, incidentID(r), req.Severity, req.Reason)
	})
}

// PriorityRequest changes the priority.
type PriorityRequest struct {
	Priority ir.Priority `json:"priority"`
	Reason   string      `json:"reason"`
}

func (s *Service) setPriority(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req PriorityRequest) (*ir.Incident, error) {
		return s.Responder.SetPriority(r.Context(), p.actor, incidentID(r), req.Priority, req.Reason)
	})
}

// ImpactRequest assesses the impact.
type ImpactRequest struct {
	ir.Impact
	Reason string `json:"reason"`
}

func (s *Service) setImpact(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req ImpactRequest) (*ir.Incident, error) {
		return s.Responder.SetImpact(r.Context(), p.actor, incidentID(r), req.Impact, req.Reason)
	})
}

// VerdictRequest sets the verdict.
type VerdictRequest struct {
	Verdict    ir.Verdict `json:"verdict"`
	Resolution string     `json:"resolution,omitempty"`
}

func (s *Service) setVerdict(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req VerdictRequest) (*ir.Incident, error) {
		return s.Responder.SetVerdict(r.Context(), p.actor, incidentID(r), req.Verdict, req.Resolution)
	})
}

// AssignRequest assigns, or unassigns, a role.
type AssignRequest struct {
	Role   ir.Role  `json:"role"`
	Actor  ir.Actor `json:"actor"`
	Reason string   `json:"reason,omitempty"`
}

func (s *Service) assign(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req AssignRequest) (*ir.Incident, error) {
		return s.Responder.Assign(r.Context(), p.actor, incidentID(r), req.Role, req.Actor)
	})
}

func (s *Service) unassign(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req AssignRequest) (*ir.Incident, error) {
		return s.Responder.Unassign(r.Context(), p.actor, incidentID(r), req.Role, req.Actor, req.Reason)
	})
}

// TaskRequest adds a task.
type TaskRequest struct {
	Title    string       `json:"title"`
	Phase    phases.Phase `json:"phase,omitempty"`
	Required bool         `json:"required,omitempty"`
	Assignee ir.Actor     `json:"assignee,omitzero"`
}

func (s *Service) addTask(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req TaskRequest) (*ir.Incident, error) {
		return s.Responder.AddTask(r.Context(), p.actor, incidentID(r), ir.NewTask{Title: req.Title, Phase: req.Phase, Required: req.Required, Assignee: req.Assignee})
	})
}

// OutcomeRequest completes a task or a follow-up.
type OutcomeRequest struct {
	Outcome string `json:"outcome,omitempty"`
}

// pathNumber reads a numeric path value.
func pathNumber(r *http.Request, name string) (int, error) {
	v := r.PathValue(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		p := newProblem(http.StatusNotFound, CodeNotFound, name+" "+strconv.Quote(v)+" is not a number")
		return 0, p
	}
	return n, nil
}

func (s *Service) completeTask(w http.ResponseWriter, r *http.Request, p principal) error {
	id, err := pathNumber(r, "task")
	if err != nil {
		return err
	}
	return change(s, w, r, func(req OutcomeRequest) (*ir.Incident, error) {
		return s.Responder.CompleteTask(r.Context(), p.actor, incidentID(r), id, req.Outcome)
	})
}

func (s *Service) addObservable(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req ir.Observable) (*ir.Incident, error) {
		if !req.AddedAt.IsZero() || !req.AddedBy.IsZero() {
			return nil, newProblem(http.StatusUnprocessableEntity, CodeInvalid, "added_at and added_by are set by the service")
		}
		return s.Responder.AddObservable(r.Context(), p.actor, incidentID(r), req)
	})
}

func (s *Service) addAsset(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req ir.Asset) (*ir.Incident, error) {
		if !req.AddedAt.IsZero() || !req.AddedBy.IsZero() {
			return nil, newProblem(http.StatusUnprocessableEntity, CodeInvalid, "added_at and added_by are set by the service")
		}
		return s.Responder.AddAsset(r.Context(), p.actor, incidentID(r), req)
	})
}

// NoteRequest adds a note.
type NoteRequest struct {
	Text string `json:"text"`
}

func (s *Service) addNote(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req NoteRequest) (*ir.Incident, error) {
		return s.Responder.AddNote(r.Context(), p.actor, incidentID(r), req.Text)
	})
}

// DecisionRequest records a decision.
type DecisionRequest struct {
	Summary   string   `json:"summary"`
	Options   []string `json:"options,omitempty"`
	Rationale string   `json:"rationale,omitempty"`
}

func (s *Service) decide(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req DecisionRequest) (*ir.Incident, error) {
		return s.Responder.Decide(r.Context(), p.actor, incidentID(r), ir.Decision{Summary: req.Summary, Options: req.Options, Rationale: req.Rationale})
	})
}

// StatusRequest posts a status update for an audience.
type StatusRequest struct {
	Audience notify.Audience `json:"audience"`
	Text     string          `json:"text"`
}

func (s *Service) postStatus(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req StatusRequest) (*ir.Incident, error) {
		return s.Responder.PostStatus(r.Context(), p.actor, incidentID(r), req.Audience, req.Text)
	})
}

// FollowUpRequest adds a follow-up action.
type FollowUpRequest struct {
	Title     string    `json:"title"`
	Owner     ir.Actor  `json:"owner,omitzero"`
	Due       time.Time `json:"due,omitzero"`
	Reference string    `json:"reference,omitempty"`
}

func (f FollowUpRequest) followUp() ir.NewFollowUp {
	return ir.NewFollowUp{Title: f.Title, Owner: f.Owner, Due: f.Due, Reference: f.Reference}
}

// ReviewRequest records the post-incident review.
type ReviewRequest struct {
	Summary             string            `json:"summary"`
	RootCause           string            `json:"root_cause,omitempty"`
	ContributingFactors []string          `json:"contributing_factors,omitempty"`
	WentWell            []string          `json:"went_well,omitempty"`
	WentPoorly          []string          `json:"went_poorly,omitempty"`
	LessonsLearned      []string          `json:"lessons_learned,omitempty"`
	FollowUps           []FollowUpRequest `json:"follow_ups,omitempty"`
}

func (s *Service) recordReview(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req ReviewRequest) (*ir.Incident, error) {
		n := ir.NewReview{Summary: req.Summary, RootCause: req.RootCause, ContributingFactors: req.ContributingFactors,
			WentWell: req.WentWell, WentPoorly: req.WentPoorly, LessonsLearned: req.LessonsLearned}
		for _, f := range req.FollowUps {
			n.FollowUps = append(n.FollowUps, f.followUp())
		}
		return s.Responder.RecordReview(r.Context(), p.actor, incidentID(r), n)
	})
}

func (s *Service) addFollowUp(w http.ResponseWriter, r *http.Request, p principal) error {
	return change(s, w, r, func(req FollowUpRequest) (*ir.Incident, error) {
		return s.Responder.AddFollowUp(r.Context(), p.actor, incidentID(r), req.followUp())
	})
}

func (s *Service) completeFollowUp(w http.ResponseWriter, r *http.Request, p principal) error {
	id, err := pathNumber(r, "followup")
	if err != nil {
		return err
	}
	return change(s, w, r, func(req OutcomeRequest) (*ir.Incident, error) {
		return s.Responder.CompleteFollowUp(r.Context(), p.actor, incidentID(r), id, req.Outcome)
	})
}

// Duration is a statistic of durations, in seconds.
type Duration struct {
	Count  int     `json:"count"`
	Mean   float64 `json:"mean_seconds"`
	Median float64 `json:"median_seconds"`
	P90    float64 `json:"p90_seconds"`
}

func durationOf(s ir.Stats) Duration {
	return Duration{Count: s.Count, Mean: s.Mean.Seconds(), Median: s.Median.Seconds(), P90: s.P90.Seconds()}
}

// ResponseTimes are the response metrics of a set of incidents.
type ResponseTimes struct {
	Incidents         int                       `json:"incidents"`
	TimeToDetect      Duration                  `json:"time_to_detect"`
	TimeToAcknowledge Duration                  `json:"time_to_acknowledge"`
	TimeToContain     Duration                  `json:"time_to_contain"`
	TimeToResolve     Duration                  `json:"time_to_resolve"`
	TimeInPhase       map[phases.Phase]Duration `json:"time_in_phase"`
}

func responseTimesOf(rt ir.ResponseTimes) ResponseTimes {
	out := ResponseTimes{Incidents: rt.Incidents, TimeToDetect: durationOf(rt.TimeToDetect),
		TimeToAcknowledge: durationOf(rt.TimeToAcknowledge), TimeToContain: durationOf(rt.TimeToContain),
		TimeToResolve: durationOf(rt.TimeToResolve), TimeInPhase: map[phases.Phase]Duration{}}
	for p, st := range rt.TimeInPhase {
		out.TimeInPhase[p] = durationOf(st)
	}
	return out
}

// Metrics are the response metrics over all incidents and per severity.
type Metrics struct {
	All        ResponseTimes                 `json:"all"`
	BySeverity map[ir.Severity]ResponseTimes `json:"by_severity"`
}

func (s *Service) metrics(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := incidentQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if q.Limit != 0 || q.After != "" {
		return badQuery("limit", "", "and after do not apply to metrics")
	}
	m, err := s.Responder.Metrics(r.Context(), q)
	if err != nil {
		return err
	}
	out := Metrics{All: responseTimesOf(m.All), BySeverity: map[ir.Severity]ResponseTimes{}}
	for sev, rt := range m.BySeverity {
		out.BySeverity[sev] = responseTimesOf(rt)
	}
	return writeJSON(w, http.StatusOK, out)
}

// errNotConfigured is the problem of a part the service runs without.
func errNotConfigured(what string) error {
	return newProblem(http.StatusNotImplemented, CodeUnavailable, "this service keeps no "+what)
}

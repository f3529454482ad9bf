package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Drill is the script of an exercise of a plan: an incident opened as an
// exercise and taken through the steps a team would take, on a clock the
// script advances. [RunDrill] runs it.
type Drill struct {
	// Name names the drill in its report.
	Name string
	// Steps are the steps, in order. The first opens the incident
	// ([DrillOpen]); the steps before it, and all of them if none does,
	// are skipped.
	Steps []DrillStep
	// Actor takes the steps that name nobody. Zero means the member on
	// duty as incident commander, or else a service actor named "drill".
	Actor ir.Actor
	// Start is when the drill's clock starts. Zero means the present
	// moment, to the second. Only [DrillAdvance] moves the clock.
	Start time.Time
	// Router routes the notifications the drill's events would send, to
	// show which channels each would have reached. Nil routes none: the
	// report lists the notifications without channels. Nothing is ever
	// delivered, whatever the routes say.
	Router *notify.Router
	// Store keeps the drill's incident. Nil means a new memory store. The
	// drill writes nothing to a store's outbox, so a dispatcher reading
	// it sends nothing about the drill.
	Store ir.Store
	// Policy decides who may take which step, as in the Responder it
	// drills for. Nil means ir.AllowAll.
	Policy ir.Policy
	// Configure, if set, changes the configuration of the drill's
	// Responder before the plan configures it ([Plan.Configure]): to
	// give it what the Responder it drills for has, such as its logger
	// or its deadline clocks. The drill then sets the store and the
	// clock above, and the policy if set, and leaves no outbox messages,
	// whatever Configure set.
	Configure func(cfg *ir.Config)
	// Deadlines says which deadlines the drill's incident carries, when
	// the drill ends: it is called once, with the incident as the drill
	// left it and the drill's clock, and the report lists what it
	// returns, missed ones first. Nil means [ClockDeadlines]: the
	// deadline clocks the incident carries (time to acknowledge, to
	// contain, regulators' notification deadlines), as the clocks that
	// Configure gives the drill's Responder started and stopped them.
	Deadlines DeadlineFunc
}

// The drill has the incident package's Responder check its deadlines as
// its clock advances.
var _ DeadlineChecker = (*ir.Responder)(nil)

// ClockDeadlines returns the deadlines of the clocks incident inc carries
// ([ir.Incident].Clocks), in the order they started: the default
// [Drill].Deadlines.
func ClockDeadlines(inc *ir.Incident, _ time.Time) []Deadline {
	out := make([]Deadline, 0, len(inc.Clocks))
	for _, c := range inc.Clocks {
		out = append(out, Deadline{Name: c.Name, Title: c.Title, Due: c.Deadline, StoppedAt: c.StoppedAt})
	}
	return out
}

// DeadlineChecker is a Responder that records the deadlines of an
// incident that are near or missed, as timeline events. When the drill's
// Responder is one, the drill has it check the incident's deadlines each
// time the drill's clock advances, so that the events it records (and the
// notifications they would send) are in the report.
type DeadlineChecker interface {
	CheckClocks(ctx context.Context, actor ir.Actor, id ir.ID) (*ir.Incident, error)
}

// DeadlineFunc returns the deadlines incident inc carries at now.
type DeadlineFunc func(inc *ir.Incident, now time.Time) []Deadline

// Deadline is a deadline an incident carries, as a drill reports it.
type Deadline struct {
	// Name identifies it; Title says it in words.
	Name, Title string
	// Due is when it runs out.
	Due time.Time
	// StoppedAt is when what the deadline waits for happened, such as
	// containment or the notification of a regulator; zero if it has not.
	StoppedAt time.Time
}

// Missed reports whether the deadline was missed by now: what it waits for
// happened after it, or has not happened and it has passed.
func (d Deadline) Missed(now time.Time) bool {
	if d.StoppedAt.IsZero() {
		return now.After(d.Due)
	}
	return d.StoppedAt.After(d.Due)
}

// DrillStepKind names what a step of a drill does.
type DrillStepKind string

// Kinds of drill step.
const (
	StepOpen             DrillStepKind = "open"
	StepTransition       DrillStepKind = "transition"
	StepCompleteTask     DrillStepKind = "complete_task"
	StepCompleteRequired DrillStepKind = "complete_required"
	StepAssign           DrillStepKind = "assign"
	StepPostStatus       DrillStepKind = "post_status"
	StepNote             DrillStepKind = "note"
	StepAdvance          DrillStepKind = "advance"
)

var stepKinds = []DrillStepKind{
	StepOpen, StepTransition, StepCompleteTask, StepCompleteRequired, StepAssign, StepPostStatus, StepNote, StepAdvance,
}

// DrillStep is one step of a drill. Make one with the function of its
// kind, such as [DrillTransition]; [DrillStep.By] names who takes it.
type DrillStep struct {
	Kind DrillStepKind
	// Actor takes the step; zero means the drill's Actor.
	Actor ir.Actor
	// Incident is the incident a StepOpen opens; the drill marks it as
	// an exercise.
	Incident ir.NewIncident
	// Action is the action a StepTransition takes.
	Action phases.Action
	// Task names the task a StepCompleteTask completes: its key (such as
	// "phishing/purge-message"), its playbook step's key
	// ("purge-message") or its title.
	Task string
	// Role and Assignee are the role a StepAssign fills and who fills it.
	Role     ir.Role
	Assignee ir.Actor
	// Audience is who a StepPostStatus writes to.
	Audience notify.Audience
	// Text is a StepPostStatus's update, a StepNote's note, a
	// StepCompleteTask's outcome, or a StepTransition's reason.
	Text string
	// Advance is how far a StepAdvance moves the drill's clock.
	Advance time.Duration
}

// DrillOpen opens the drill's incident: an exercise, with the title,
// severity and category given.
func DrillOpen(title string, sev ir.Severity, cat ir.Category) DrillStep {
	return DrillStep{Kind: StepOpen, Incident: ir.NewIncident{Title: title, Severity: sev, Category: cat}}
}

// DrillOpenIncident opens the drill's incident as n describes it, as an
// exercise.
func DrillOpenIncident(n ir.NewIncident) DrillStep { return DrillStep{Kind: StepOpen, Incident: n} }

// DrillTransition takes action, giving reason.
func DrillTransition(action phases.Action, reason string) DrillStep {
	return DrillStep{Kind: StepTransition, Action: action, Text: reason}
}

// DrillCompleteTask completes the task named task: by its key, its
// playbook step's key, or its title.
func DrillCompleteTask(task, outcome string) DrillStep {
	return DrillStep{Kind: StepCompleteTask, Task: task, Text: outcome}
}

// DrillCompleteRequired completes every required task of the incident's
// phase that is not done.
func DrillCompleteRequired() DrillStep { return DrillStep{Kind: StepCompleteRequired} }

// DrillAssign gives who the role.
func DrillAssign(role ir.Role, who ir.Actor) DrillStep {
	return DrillStep{Kind: StepAssign, Role: role, Assignee: who}
}

// DrillPostStatus posts a status update for audience.
func DrillPostStatus(audience notify.Audience, text string) DrillStep {
	return DrillStep{Kind: StepPostStatus, Audience: audience, Text: text}
}

// DrillNote adds a note to the timeline.
func DrillNote(text string) DrillStep { return DrillStep{Kind: StepNote, Text: text} }

// DrillAdvance moves the drill's clock on by d.
func DrillAdvance(d time.Duration) DrillStep { return DrillStep{Kind: StepAdvance, Advance: d} }

// By returns the step taken by a.
func (s DrillStep) By(a ir.Actor) DrillStep {
	s.Actor = a
	return s
}

// String says what the step does, in words.
func (s DrillStep) String() string {
	switch s.Kind {
	case StepOpen:
		return fmt.Sprintf("open %q (%s, %s) as an exercise", s.Incident.Title, s.Incident.Severity, words(string(s.Incident.Category)))
	case StepTransition:
		return "take action " + string(s.Action)
	case StepCompleteTask:
		return fmt.Sprintf("complete task %q", s.Task)
	case StepCompleteRequired:
		return "complete the phase's required tasks"
	case StepAssign:
		return fmt.Sprintf("make %s %s", actorName(s.Assignee), words(string(s.Role)))
	case StepPostStatus:
		return "post a status update for " + words(string(s.Audience))
	case StepNote:
		return "add a note"
	case StepAdvance:
		return "wait " + s.Advance.String()
	}
	return "unknown step " + string(s.Kind)
}

// DrillReport is how a drill went: each step's outcome (blocked steps with
// the reasons), the tasks the playbook added, the roles its tasks name
// that nobody held, the notifications the drill would have sent and to
// which channels, and the deadlines the incident carried.
type DrillReport struct {
	// Drill and Plan name the drill and the plan.
	Drill, Plan string
	// Incident is the drill's incident as the drill left it; nil if it
	// was never opened.
	Incident *ir.Incident
	// Start and End are the drill's clock when it began and ended.
	Start, End time.Time
	// Steps are the steps' outcomes, in order.
	Steps []StepResult
	// Tasks are the tasks the playbook added, in the order added.
	Tasks []DrillTask
	// Notifications are the notifications the drill's events would have
	// sent, in order.
	Notifications []DrillNotification
	// Deadlines are the deadlines the incident carried when the drill
	// ended (see [Drill].Deadlines), missed ones first.
	Deadlines []Deadline
}

// StepOutcome says how a step went.
type StepOutcome string

// Step outcomes.
const (
	// StepDone is a step taken.
	StepDone StepOutcome = "done"
	// StepBlocked is a step the workflow refused: a guard (such as
	// required tasks not done, or a role nobody holds), the phase model
	// or the policy.
	StepBlocked StepOutcome = "blocked"
	// StepFailed is a step that could not be taken as written, such as
	// completing a task the incident does not have.
	StepFailed StepOutcome = "failed"
	// StepSkipped is a step with no incident to act on.
	StepSkipped StepOutcome = "skipped"
)

// StepResult is how one step went.
type StepResult struct {
	// N numbers the steps from 1.
	N    int
	Step DrillStep
	// At is the drill's clock when the step was taken.
	At      time.Time
	Outcome StepOutcome
	// Reasons say why a step was blocked, failed or skipped: one for
	// each guard that refused it.
	Reasons []string
	// Err is the error the step met, if any.
	Err error
}

// DrillTask is a task a playbook added during a drill.
type DrillTask struct {
	// Step is the number of the step that added it.
	Step int
	Task ir.Task
	// Unowned is set when the task has a role that nobody held, so
	// nobody was assigned to it.
	Unowned bool
}

// DrillNotification is a notification one of the drill's events would
// have sent.
type DrillNotification struct {
	// Step is the number of the step whose event it reports.
	Step    int
	Message notify.Message
	// Deliver are the channels the routes would have delivered it to;
	// Held those they named and held back (by TLP, or because the route
	// does not take exercises).
	Deliver []notify.Target
	Held    []notify.Held
}

// MissingRoles returns the roles the playbook's tasks name that nobody
// held when they were added, each once, in the order met.
func (r *DrillReport) MissingRoles() []ir.Role {
	var out []ir.Role
	for _, t := range r.Tasks {
		if t.Unowned && !slices.Contains(out, t.Task.Role) {
			out = append(out, t.Task.Role)
		}
	}
	return out
}

// Blocked returns the results of the steps that were blocked.
func (r *DrillReport) Blocked() []StepResult {
	var out []StepResult
	for _, s := range r.Steps {
		if s.Outcome == StepBlocked {
			out = append(out, s)
		}
	}
	return out
}

// Missed returns the deadlines that were missed by the drill's end.
func (r *DrillReport) Missed() []Deadline {
	var out []Deadline
	for _, d := range r.Deadlines {
		if d.Missed(r.End) {
			out = append(out, d)
		}
	}
	return out
}

// drillClock is the drill's clock: it moves only when a step advances it.
type drillClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *drillClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *drillClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// drillActor is who takes a drill's steps when neither the step nor the
// drill names anyone, and the plan has no commander on duty.
var drillActor = ir.Actor{ID: "drill", Name: "Drill", Kind: ir.ActorService}

// RunDrill runs d against plan p: it opens the drill's incident as an
// exercise in a Responder configured by [Plan.Configure] (the plan's phase
// model and playbooks, its on-duty members in their roles), takes each
// step in turn on the drill's own clock, and reports how it went. A step
// the workflow refuses is recorded as blocked, with the guards' reasons,
// and the drill goes on. The notifications the drill's events would send
// are routed by d.Router and delivered to nothing: a drill pages no one.
//
// It fails, with nothing run, on a plan that is not valid (its
// [*ValidationError]) or a drill step of unknown kind, and otherwise only
// when ctx ends or the store fails.
func RunDrill(ctx context.Context, p *Plan, d Drill) (*DrillReport, error) {
	if p == nil {
		return nil, fmt.Errorf("plan: drill %q: no plan: %w", d.Name, ErrInvalidPlan)
	}
	for i, s := range d.Steps {
		if !slices.Contains(stepKinds, s.Kind) {
			return nil, fmt.Errorf("plan: drill %q: step %d: unknown kind %q: %w", d.Name, i+1, s.Kind, ir.ErrInvalid)
		}
	}
	start := d.Start
	if start.IsZero() {
		start = time.Now().UTC().Truncate(time.Second)
	}
	clock := &drillClock{now: start}
	store := d.Store
	if store == nil {
		store = ir.NewMemoryStore()
	}
	var base ir.Config
	if d.Configure != nil {
		d.Configure(&base)
	}
	base.Store, base.Clock, base.Outbox = store, clock, false
	if d.Policy != nil {
		base.Policy = d.Policy
	}
	cfg, err := p.Configure(base)
	if err != nil {
		return nil, err
	}
	r, err := ir.NewResponder(cfg)
	if err != nil {
		return nil, fmt.Errorf("plan: drill %q: %w", d.Name, err)
	}
	defer func() { _ = r.Shutdown(context.WithoutCancel(ctx)) }()
	actor := d.Actor
	if actor.IsZero() {
		actor = drillActor
		if m, ok := p.OnDuty(ir.RoleCommander); ok {
			actor = m.Actor()
		}
	}
	run := &drillRun{d: d, r: r, clock: clock, actor: actor,
		rep: &DrillReport{Drill: d.Name, Plan: p.Name, Start: start}}
	for i, s := range d.Steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("plan: drill %q: %w", d.Name, err)
		}
		if err := run.step(ctx, i+1, s); err != nil {
			return nil, fmt.Errorf("plan: drill %q: step %d (%s): %w", d.Name, i+1, s, err)
		}
	}
	rep := run.rep
	rep.End = clock.Now()
	deadlines := d.Deadlines
	if deadlines == nil {
		deadlines = ClockDeadlines
	}
	if rep.Incident != nil {
		rep.Deadlines = deadlines(rep.Incident.Clone(), rep.End)
		slices.SortStableFunc(rep.Deadlines, func(a, b Deadline) int {
			am, bm := a.Missed(rep.End), b.Missed(rep.End)
			switch {
			case am && !bm:
				return -1
			case bm && !am:
				return 1
			}
			return a.Due.Compare(b.Due)
		})
	}
	return rep, nil
}

// drillRun is one run of a drill.
type drillRun struct {
	d     Drill
	r     *ir.Responder
	clock *drillClock
	actor ir.Actor
	rep   *DrillReport
	// seq is the last event of the incident's timeline seen.
	seq int64
}

// step takes step n, s, and records how it went. It returns an error only
// when the drill cannot go on.
func (run *drillRun) step(ctx context.Context, n int, s DrillStep) error {
	res := StepResult{N: n, Step: s, At: run.clock.Now(), Outcome: StepDone}
	who := s.Actor
	if who.IsZero() {
		who = run.actor
	}
	inc := run.rep.Incident
	var err error
	switch {
	case s.Kind == StepAdvance:
		if s.Advance < 0 {
			err = &ir.InvalidError{Field: "advance", Value: s.Advance.String(), Reason: "must not be negative"}
			break
		}
		run.clock.advance(s.Advance)
		if c, ok := any(run.r).(DeadlineChecker); ok && inc != nil {
			// The deadlines that are near or missed now are recorded,
			// as a clock runner would record them.
			inc, err = c.CheckClocks(ctx, who, inc.ID)
		}
	case s.Kind == StepOpen && inc != nil:
		res.Outcome, res.Reasons = StepFailed, []string{"the drill's incident is already open"}
	case s.Kind == StepOpen:
		nw := s.Incident
		nw.Exercise = true
		inc, err = run.r.Open(ctx, who, nw)
	case inc == nil:
		res.Outcome, res.Reasons = StepSkipped, []string{"no incident is open: the drill opens one first"}
	default:
		inc, err = run.act(ctx, who, inc, s)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res.Err = err
		res.Outcome, res.Reasons = classify(err)
		if res.Outcome == "" {
			return err
		}
	}
	if inc != nil {
		run.rep.Incident = inc
		if err := run.collect(ctx, n, inc); err != nil {
			return err
		}
	}
	run.rep.Steps = append(run.rep.Steps, res)
	return nil
}

// act takes a step on the open incident.
func (run *drillRun) act(ctx context.Context, who ir.Actor, inc *ir.Incident, s DrillStep) (*ir.Incident, error) {
	switch s.Kind {
	case StepTransition:
		return run.r.Transition(ctx, who, inc.ID, s.Action, s.Text)
	case StepCompleteTask:
		t, ok := findTask(inc, s.Task)
		if !ok {
			return inc, &ir.InvalidError{Field: "task", Value: s.Task, Reason: "the incident has no such task"}
		}
		if t.Done {
			return inc, nil
		}
		return run.r.CompleteTask(ctx, who, inc.ID, t.ID, s.Text)
	case StepCompleteRequired:
		phase := inc.Phase
		for _, t := range slices.Clone(inc.Tasks) {
			if t.Phase != phase || !t.Required || t.Done {
				continue
			}
			next, err := run.r.CompleteTask(ctx, who, inc.ID, t.ID, s.Text)
			if err != nil {
				return inc, err
			}
			inc = next
		}
		return inc, nil
	case StepAssign:
		return run.r.Assign(ctx, who, inc.ID, s.Role, s.Assignee)
	case StepPostStatus:
		return run.r.PostStatus(ctx, who, inc.ID, s.Audience, s.Text)
	case StepNote:
		return run.r.AddNote(ctx, who, inc.ID, s.Text)
	}
	return inc, fmt.Errorf("plan: unknown drill step %q: %w", s.Kind, ir.ErrInvalid)
}

// findTask returns the incident's task that name names: by key, by its
// playbook step's key, or by title; the first not done if several do.
func findTask(inc *ir.Incident, name string) (ir.Task, bool) {
	var found []ir.Task
	for _, t := range inc.Tasks {
		if t.Key == name || (t.Key != "" && strings.HasSuffix(t.Key, "/"+name)) || t.Title == name {
			found = append(found, t)
		}
	}
	for _, t := range found {
		if !t.Done {
			return t, true
		}
	}
	if len(found) > 0 {
		return found[0], true
	}
	return ir.Task{}, false
}

// classify returns the outcome of a step that met err, and why, or no
// outcome if err stops the drill.
func classify(err error) (StepOutcome, []string) {
	var ge *phases.GuardError
	switch {
	case errors.As(err, &ge):
		reasons := make([]string, len(ge.Refusals))
		for i, f := range ge.Refusals {
			reasons[i] = fmt.Sprintf("%s: %v", f.Guard, f.Reason)
		}
		return StepBlocked, reasons
	case errors.Is(err, ir.ErrRefused), errors.Is(err, ir.ErrUnauthorized):
		return StepBlocked, []string{err.Error()}
	case errors.Is(err, ir.ErrInvalid), errors.Is(err, ir.ErrNotFound):
		return StepFailed, []string{err.Error()}
	}
	return "", nil
}

// collect records the events the incident's timeline gained since the
// last step: the tasks the playbook added, and the notifications the
// events would send, routed but not delivered.
func (run *drillRun) collect(ctx context.Context, n int, inc *ir.Incident) error {
	// The events of one change share its version; the outbox numbers
	// them from 1 within it, and so do the drill's messages.
	var version int64
	var nth int
	for e, err := range run.r.AllEvents(ctx, inc.ID) {
		if err != nil {
			return err
		}
		if e.Seq <= run.seq {
			continue
		}
		run.seq = e.Seq
		if e.Version != version {
			version, nth = e.Version, 0
		}
		nth++
		if d, ok := e.Data.(*ir.TaskAdded); ok && d.Task.Key != "" {
			// The plan assigns a task to whoever holds its role, or is on
			// duty for it: a task with a role and no assignee had nobody.
			run.rep.Tasks = append(run.rep.Tasks, DrillTask{Step: n, Task: d.Task,
				Unowned: d.Task.Role != "" && d.Task.Assignee.IsZero()})
		}
		ev, err := ir.NotifyEvent(run.r.Model(), e)
		if err != nil {
			return err
		}
		m := notify.Message{Key: fmt.Sprintf("%s/%d/%d", inc.ID, e.Version, nth), Incident: ir.NotifyIncident(inc), Event: ev}
		if d, ok := e.Data.(*ir.StatusUpdate); ok {
			m.Audience = d.Audience
		}
		note := DrillNotification{Step: n, Message: m}
		if run.d.Router != nil {
			decision := run.d.Router.Route(m)
			note.Deliver, note.Held = decision.Deliver, decision.Held
		}
		run.rep.Notifications = append(run.rep.Notifications, note)
	}
	return nil
}

// words writes a name in words.
func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

// actorName is an actor's name, or its ID.
func actorName(a ir.Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

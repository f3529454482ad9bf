package ir

import (
	"context"
	"fmt"
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// PhaseEntry is an incident entering a phase, as [Config.Prepare] sees it.
type PhaseEntry struct {
	// Incident is the incident in the phase it enters, before anything
	// the preparation adds. It is a copy whose Observables and Tasks share
	// their entries with the Responder's own, so that preparing costs the
	// same however many the incident holds: read it, and call
	// [Incident.Clone] before changing it.
	Incident *Incident
	// From is the phase the incident leaves, and Action the action that
	// takes it out; both are empty when the incident is being opened.
	From   phases.Phase
	Action phases.Action
}

// Opening reports whether the incident is being opened, rather than moved
// by a transition.
func (e PhaseEntry) Opening() bool { return e.Action == "" }

// Preparation is what [Config.Prepare] adds to an incident entering a
// phase, in the change that enters it.
//
// Tasks are added as [Responder.AddTask] adds them, in the phase entered
// when their Phase is empty; a task whose Key the incident already holds
// (or that an earlier task of the same preparation has) is skipped, so a
// phase entered again, such as containment after a reinfection, does not
// repeat its tasks. Assignments fill roles nobody holds: an assignment to a
// role someone already holds is skipped, so that a hand-over made by
// people is never undone. A role filled this way does not mark the
// incident acknowledged: nobody has taken it on yet.
type Preparation struct {
	Tasks  []NewTask
	Assign []Assignment
}

// Assignment gives Actor the Role.
type Assignment struct {
	Role  Role
	Actor Actor
}

// prepareEntry asks Config.Prepare what to add to inc, which has just
// entered its phase (from from by action a; both empty on opening), adds
// it, and returns data with the events recording the additions appended.
func (r *Responder) prepareEntry(ctx context.Context, inc *Incident, from phases.Phase, a phases.Action, actor Actor, now time.Time, data []EventData) ([]EventData, error) {
	if r.prepare == nil {
		return data, nil
	}
	actor, err := actor.normalize("actor")
	if err != nil {
		return nil, err
	}
	p, err := r.prepare(ctx, PhaseEntry{Incident: inc.shared(), From: from, Action: a})
	if err != nil {
		return nil, fmt.Errorf("ir: prepare %s for %s: %w", inc.ID, inc.Phase, err)
	}
	keys := make(map[string]bool)
	for _, t := range inc.Tasks {
		if t.Key != "" {
			keys[t.Key] = true
		}
	}
	for _, nt := range p.Tasks {
		title, nt, err := r.checkTask(nt)
		if err != nil {
			return nil, fmt.Errorf("ir: prepare %s for %s: %w", inc.ID, inc.Phase, err)
		}
		if nt.Key != "" {
			if keys[nt.Key] {
				continue
			}
			keys[nt.Key] = true
		}
		if len(inc.Tasks) >= MaxListSize {
			return nil, invalid("tasks", "", "too many tasks")
		}
		task := newTask(inc, title, nt, actor, now)
		inc.Tasks = append(inc.Tasks, task)
		data = append(data, &TaskAdded{Task: task})
	}
	for _, as := range p.Assign {
		role, err := ParseRole(string(as.Role))
		if err != nil {
			return nil, fmt.Errorf("ir: prepare %s for %s: %w", inc.ID, inc.Phase, err)
		}
		who, err := as.Actor.normalize("assignee")
		if err != nil {
			return nil, fmt.Errorf("ir: prepare %s for %s: %w", inc.ID, inc.Phase, err)
		}
		if inc.holds(role) {
			continue
		}
		if len(inc.Participants) >= MaxListSize {
			return nil, invalid("participants", "", "too many participants")
		}
		inc.Participants = append(inc.Participants, Participant{Actor: who, Role: role, AssignedAt: now, AssignedBy: actor})
		data = append(data, &RoleAssigned{Role: role, Assignee: who})
	}
	return data, nil
}

// holds reports whether someone holds role in the incident.
func (inc *Incident) holds(role Role) bool {
	for _, p := range inc.Participants {
		if p.Role == role {
			return true
		}
	}
	return false
}

// hasTaskKey reports whether the incident holds a task with key.
func (inc *Incident) hasTaskKey(key string) bool {
	for i := range inc.Tasks {
		if inc.Tasks[i].Key == key {
			return true
		}
	}
	return false
}

// newTask makes the task nt describes, with the trimmed title, as the next
// task of inc.
func newTask(inc *Incident, title string, nt NewTask, actor Actor, now time.Time) Task {
	task := Task{
		ID: len(inc.Tasks) + 1, Title: title, Phase: nt.Phase, Required: nt.Required,
		Assignee: nt.Assignee, AddedAt: now, AddedBy: actor, Role: nt.Role, Key: nt.Key,
	}
	if task.Phase == "" {
		task.Phase = inc.Phase
	}
	return task
}

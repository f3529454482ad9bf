package ir

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/incidentkit/incidentkit/phases"
)

// NewTask is what [Responder.AddTask] needs to add a task.
type NewTask struct {
	// Title is required, at most [MaxShortText] bytes.
	Title string
	// Phase is the phase the task belongs to; empty means the incident's
	// current phase.
	Phase phases.Phase
	// Required tasks must be done before the built-in models let the
	// incident leave the task's phase.
	Required bool
	// Assignee is who is to do it, if anyone.
	Assignee Actor
	// Role is the role that owns the task, if any.
	Role Role
	// Key, if set, identifies the task among the incident's (at most
	// [MaxShortText] bytes): adding a task whose key the incident already
	// holds changes nothing.
	Key string
}

// AddTask adds a task to the incident. The new task is the last of the
// returned incident's Tasks; its ID numbers it within the incident. An
// incident holds at most [MaxListSize] tasks. A task with a [NewTask.Key]
// the incident already holds is not added again: the incident is returned
// unchanged.
func (r *Responder) AddTask(ctx context.Context, actor Actor, id ID, t NewTask) (*Incident, error) {
	var title string
	return r.mutate(ctx, actor, id, change{op: OpAddTask,
		check: func() (err error) { title, t, err = r.checkTask(t); return err },
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			if t.Key != "" && inc.hasTaskKey(t.Key) {
				return nil, nil
			}
			if len(inc.Tasks) >= MaxListSize {
				return nil, invalid("tasks", "", "too many tasks")
			}
			task := newTask(inc, title, t, actor, now)
			inc.Tasks = append(inc.Tasks, task)
			return []EventData{&TaskAdded{Task: task}}, nil
		}})
}

// CompleteTask marks a task done, with its outcome in words (at most
// [MaxBodyText] bytes). Completing a task that is already done changes
// nothing.
func (r *Responder) CompleteTask(ctx context.Context, actor Actor, id ID, taskID int, outcome string) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpCompleteTask,
		check: func() error {
			if err := checkText("task outcome", outcome, MaxBodyText); err != nil {
				return err
			}
			return nil
		},
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			for i := range inc.Tasks {
				if inc.Tasks[i].ID != taskID {
					continue
				}
				if inc.Tasks[i].Done {
					return nil, nil
				}
				// The entries may be shared with copies handed out
				// before: the list is replaced, not altered.
				inc.Tasks = slices.Clone(inc.Tasks)
				t := &inc.Tasks[i]
				t.Done, t.DoneAt, t.DoneBy, t.Outcome = true, now, actor, outcome
				return []EventData{&TaskCompleted{TaskID: t.ID, Title: t.Title, Outcome: outcome}}, nil
			}
			return nil, invalid("task", strconv.Itoa(taskID), "the incident has no such task")
		}})
}

// checkTask validates a new task and returns its trimmed title and the task
// with its assignee normalised.
func (r *Responder) checkTask(t NewTask) (string, NewTask, error) {
	title, err := shortText("task title", t.Title, true)
	if err != nil {
		return "", t, err
	}
	if t.Phase != "" {
		if _, ok := r.model.Phase(t.Phase); !ok {
			return "", t, invalid("task phase", string(t.Phase), "not a phase of the model "+r.model.Name())
		}
	}
	if !t.Assignee.IsZero() {
		if t.Assignee, err = t.Assignee.normalize("task assignee"); err != nil {
			return "", t, err
		}
	}
	if t.Role != "" {
		if t.Role, err = ParseRole(string(t.Role)); err != nil {
			return "", t, err
		}
	}
	if err := checkText("task key", t.Key, MaxShortText); err != nil {
		return "", t, err
	}
	return title, t, nil
}

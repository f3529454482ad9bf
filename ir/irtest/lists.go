package irtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// ListChange returns the change that follows inc, adding the observables
// and tasks given and completing the tasks whose IDs are in done, with
// [ir.Change.Lists] naming exactly those entries: the change a Responder
// writes.
func ListChange(inc *ir.Incident, obs []ir.Observable, tasks []ir.Task, done ...int) ir.Change {
	var data []ir.EventData
	for _, o := range obs {
		data = append(data, &ir.ObservableAdded{Observable: o})
	}
	for _, t := range tasks {
		data = append(data, &ir.TaskAdded{Task: t})
	}
	for _, id := range done {
		data = append(data, &ir.TaskCompleted{TaskID: id, Outcome: "done"})
	}
	ch := NextChange(inc, data...)
	next := ch.Incident
	lists := &ir.ListChanges{}
	for i := range next.Tasks {
		for _, id := range done {
			if next.Tasks[i].ID == id {
				next.Tasks[i].Done, next.Tasks[i].DoneAt, next.Tasks[i].DoneBy, next.Tasks[i].Outcome = true, next.UpdatedAt, Analyst, "done"
				lists.Tasks = append(lists.Tasks, i)
			}
		}
	}
	for _, o := range obs {
		lists.Observables = append(lists.Observables, len(next.Observables))
		next.Observables = append(next.Observables, o)
	}
	for _, t := range tasks {
		lists.Tasks = append(lists.Tasks, len(next.Tasks))
		next.Tasks = append(next.Tasks, t)
	}
	ch.Lists = lists
	return ch
}

// listObservable is the n-th observable the list tests add.
func listObservable(n int) ir.Observable {
	return ir.Observable{Type: ir.ObservableDomain, Value: fmt.Sprintf("host-%d.example.net", n),
		AddedAt: minutes(n), AddedBy: Analyst}
}

// listTask is the task with the given ID the list tests add.
func listTask(id int) ir.Task {
	return ir.Task{ID: id, Title: fmt.Sprintf("Task %d", id), Phase: phases.Identification, Required: id%2 == 0,
		AddedAt: minutes(id), AddedBy: Analyst}
}

// testListChanges applies many changes that add observables and tasks and
// complete tasks, each naming what it touched, mixed with changes that
// name nothing (full rewrites): the store must hold what the changes'
// incidents hold, whichever way each was written.
func (s storeSuite) testListChanges(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	open := OpenChange(Incident("INC-000001").With(func(inc *ir.Incident) {
		inc.Observables = []ir.Observable{listObservable(0)}
		inc.Tasks = []ir.Task{listTask(1)}
	}).Build())
	mustApply(t, st, open)
	cur := open.Incident
	nObs, nTasks := 1, 1
	for i := range 60 {
		var ch ir.Change
		switch {
		case i%10 == 9:
			// A full rewrite in between, as a store's user may write.
			ch = NextChange(cur)
		case i%3 == 2:
			ch = ListChange(cur, nil, nil, i/3, i/3+1)
		default:
			obs := []ir.Observable{listObservable(nObs), listObservable(nObs + 1)}
			nObs += 2
			nTasks++
			ch = ListChange(cur, obs, []ir.Task{listTask(nTasks)}, nTasks-1)
		}
		mustApply(t, st, ch)
		cur = ch.Incident
		got, err := st.Get(ctx, cur.ID)
		require.NoError(t, err)
		requireIncident(t, cur, got)
	}
	page, err := st.List(ctx, ir.Query{})
	require.NoError(t, err)
	require.Len(t, page.Incidents, 1)
	requireIncident(t, cur, page.Incidents[0])
}

// testListChangesRefused checks that list changes that do not fit the
// stored lists are refused with nothing written.
func (s storeSuite) testListChangesRefused(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	open := OpenChange(Incident("INC-000001").With(func(inc *ir.Incident) {
		inc.Observables = []ir.Observable{listObservable(0), listObservable(1)}
		inc.Tasks = []ir.Task{listTask(1), listTask(2)}
	}).Build())
	mustApply(t, st, open)
	for _, tc := range []struct {
		name   string
		change func(ch ir.Change) ir.Change
	}{
		{"out of range", func(ch ir.Change) ir.Change { ch.Lists.Observables = []int{5}; return ch }},
		{"negative", func(ch ir.Change) ir.Change { ch.Lists.Tasks = []int{-1}; return ch }},
		{"out of order", func(ch ir.Change) ir.Change { ch.Lists.Tasks = []int{3, 2}; return ch }},
		{"added entry not named", func(ch ir.Change) ir.Change { ch.Lists.Observables = nil; return ch }},
		{"observable altered", func(ch ir.Change) ir.Change {
			ch.Incident.Observables[0].Description = "altered"
			ch.Lists.Observables = append([]int{0}, ch.Lists.Observables...)
			return ch
		}},
		{"list shrank", func(ch ir.Change) ir.Change {
			ch.Incident.Tasks = ch.Incident.Tasks[:1]
			ch.Lists.Tasks = nil
			return ch
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := tc.change(ListChange(open.Incident, []ir.Observable{listObservable(2)}, []ir.Task{listTask(3)}))
			require.ErrorIs(t, st.Apply(ctx, ch), ir.ErrInvalid)
			requireStored(t, st, open.Incident, timeline(open))
		})
	}
	// A stale list change is refused as any stale change is.
	next := ListChange(open.Incident, []ir.Observable{listObservable(2)}, nil, 1)
	mustApply(t, st, next)
	stale := ListChange(open.Incident, []ir.Observable{listObservable(3)}, []ir.Task{listTask(3)})
	require.ErrorIs(t, st.Apply(ctx, stale), ir.ErrConflict)
	requireStored(t, st, next.Incident, timeline(open, next))
}

// testConcurrentListChanges has writers add observables and tasks to one
// incident at once, each reading, changing and writing again on conflict:
// every entry is kept once, in the order the writes won.
func (s storeSuite) testConcurrentListChanges(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	open := OpenChange(Incident("INC-000001").Build())
	mustApply(t, st, open)
	const writers, each = 6, 5
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if errs[w] = addListEntries(ctx, st, open.Incident.ID, w*each+i); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		require.NoError(t, err, "writer %d", w)
	}
	got, err := st.Get(ctx, open.Incident.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1+writers*each), got.Version)
	require.Len(t, got.Observables, writers*each)
	require.Len(t, got.Tasks, writers*each)
	seen := make(map[string]bool)
	for i, o := range got.Observables {
		require.False(t, seen[o.Value], "observable %s kept twice", o.Value)
		seen[o.Value] = true
		require.Equal(t, i+1, got.Tasks[i].ID, "tasks numbered in the order written")
	}
}

// addListEntries adds the n-th observable and a task to the incident, as a
// Responder would: read, change, write, and again on conflict.
func addListEntries(ctx context.Context, st ir.Store, id ir.ID, n int) error {
	for range 1000 {
		cur, err := st.Get(ctx, id)
		if err != nil {
			return err
		}
		task := listTask(len(cur.Tasks) + 1)
		task.Title = fmt.Sprintf("Task of writer entry %d", n)
		err = st.Apply(ctx, ListChange(cur, []ir.Observable{listObservable(n)}, []ir.Task{task}))
		if !errors.Is(err, ir.ErrConflict) {
			return err
		}
	}
	return errors.New("still in conflict after 1000 attempts")
}

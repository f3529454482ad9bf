package ir

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// MemoryStore is a [Store] that keeps everything in memory. Like the
// durable stores, it also keeps custody logs (it is an
// evidence.LedgerStore) and an outbox (it is a notify.Outbox), so a change and the custody
// records and messages it carries are written together. It is safe for
// concurrent use, and meant for tests and short-lived programs: its contents
// are lost when the process exits.
type MemoryStore struct {
	mu        sync.RWMutex
	incidents map[ID]*Incident
	timelines map[ID][]Event
	ids       []ID // sorted ascending
	// open counts the open incidents by severity and phase; groups that
	// reach zero are removed.
	open map[openKey]int64
	// ledger keeps the custody logs; writes to it hold mu, so that the
	// appends of one change are not interleaved with others.
	ledger     *evidence.MemoryLedgerStore
	outbox     memoryOutbox
	deliveries memoryDeliveries
	clock      Clock
}

// MemoryOption configures a [MemoryStore].
type MemoryOption func(*MemoryStore)

// MemoryClock sets the clock a [MemoryStore]'s outbox reads claim leases
// and due times from; the default is [SystemClock].
func MemoryClock(c Clock) MemoryOption {
	return func(s *MemoryStore) {
		if c != nil {
			s.clock = c
		}
	}
}

// NewMemoryStore returns an empty [MemoryStore].
func NewMemoryStore(opts ...MemoryOption) *MemoryStore {
	s := &MemoryStore{
		incidents: make(map[ID]*Incident),
		timelines: make(map[ID][]Event),
		open:      make(map[openKey]int64),
		ledger:    evidence.NewMemoryLedgerStore(),
		outbox: memoryOutbox{
			byID:   make(map[int64]*notify.OutboxEntry),
			claims: make(map[int64]memoryClaim),
			due:    make(map[int64]time.Time),
		},
		clock: SystemClock,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

var (
	_ Store                = (*MemoryStore)(nil)
	_ OutboxStore          = (*MemoryStore)(nil)
	_ evidence.LedgerStore = (*MemoryStore)(nil)
	_ evidence.HeadReader  = (*MemoryStore)(nil)
)

// Apply implements [Store].
func (s *MemoryStore) Apply(ctx context.Context, ch Change) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	inc := ch.Incident
	s.mu.Lock()
	defer s.mu.Unlock()
	// Checked under the lock: a change whose caller gave up while it
	// waited must not be written.
	if err := ctx.Err(); err != nil {
		return &opError{op: "memory store: apply", err: err}
	}
	var stored int64
	cur, ok := s.incidents[inc.ID]
	if ok {
		stored = cur.Version
	}
	if stored != inc.Version-1 {
		return &opError{op: fmt.Sprintf("memory store: incident %s is at version %d, change expects %d", inc.ID, stored, inc.Version-1), err: ErrConflict}
	}
	if ch.Lists != nil && cur != nil {
		if err := ch.Lists.CheckGrowth(inc, len(cur.Observables), len(cur.Tasks)); err != nil {
			return err
		}
	}
	if err := s.checkCustody(ctx, ch.Custody); err != nil {
		return err
	}
	// Nothing below can fail: the custody appends were checked under
	// the same lock, and are not given up half-way.
	for _, a := range ch.Custody {
		if err := s.ledger.Append(context.WithoutCancel(ctx), a); err != nil {
			return &opError{op: "memory store: apply", err: err}
		}
	}
	tl := s.timelines[inc.ID]
	if len(ch.Outbox) > 0 {
		s.outbox.add(ch.NumberOutbox(int64(len(tl))+1), s.clock.Now())
	}
	if stored == 0 {
		i, _ := slices.BinarySearch(s.ids, inc.ID)
		s.ids = slices.Insert(s.ids, i, inc.ID)
	}
	s.count(cur, -1)
	s.count(inc, 1)
	s.incidents[inc.ID] = storedIncident(cur, ch)
	for _, e := range ch.Events {
		e = e.Clone()
		e.Seq = int64(len(tl)) + 1
		tl = append(tl, e)
	}
	s.timelines[inc.ID] = tl
	return nil
}

// storedIncident returns what the store keeps of ch's incident, whose
// previous version is cur (nil for a new incident). With list changes, the
// new version takes over cur's observables and tasks, which only the store
// holds (Get and List hand out copies), and writes the entries named into
// them: a change costs what it touches. Without them, it copies every
// entry.
func storedIncident(cur *Incident, ch Change) *Incident {
	inc := ch.Incident
	if ch.Lists == nil || cur == nil {
		return inc.Clone()
	}
	next := inc.cloneHead()
	next.Observables = writeEntries(cur.Observables, inc.Observables, ch.Lists.Observables)
	next.Tasks = writeEntries(cur.Tasks, inc.Tasks, ch.Lists.Tasks)
	return next
}

// writeEntries writes the entries of from at the indexes idx into dst,
// appending those past its end, and returns it.
func writeEntries[E any](dst, from []E, idx []int) []E {
	for _, i := range idx {
		if i < len(dst) {
			dst[i] = from[i]
		} else {
			dst = append(dst, from[i])
		}
	}
	return dst
}

// Get implements [Store].
func (s *MemoryStore) Get(ctx context.Context, id ID) (*Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: get", err: err}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	inc, ok := s.incidents[id]
	if !ok {
		return nil, &opError{op: fmt.Sprintf("memory store: incident %s", id), err: ErrNotFound}
	}
	return inc.Clone(), nil
}

// List implements [Store].
func (s *MemoryStore) List(ctx context.Context, q Query) (Page, error) {
	q, err := q.Normalize()
	if err != nil {
		return Page{}, err
	}
	if err := ctx.Err(); err != nil {
		return Page{}, &opError{op: "memory store: list", err: err}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	end := len(s.ids)
	if q.After != "" {
		end = sort.Search(len(s.ids), func(i int) bool { return s.ids[i] >= ID(q.After) })
	}
	var page Page
	for i := end - 1; i >= 0; i-- {
		inc := s.incidents[s.ids[i]]
		if !q.Matches(inc) {
			continue
		}
		if len(page.Incidents) == q.Limit {
			page.Next = string(page.Incidents[len(page.Incidents)-1].ID)
			break
		}
		page.Incidents = append(page.Incidents, inc.Clone())
	}
	return page, nil
}

// Timeline implements [Store].
func (s *MemoryStore) Timeline(ctx context.Context, id ID, q TimelineQuery) (TimelinePage, error) {
	q, err := q.Normalize()
	if err != nil {
		return TimelinePage{}, err
	}
	if err := ctx.Err(); err != nil {
		return TimelinePage{}, &opError{op: "memory store: timeline", err: err}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tl, ok := s.timelines[id]
	if !ok {
		return TimelinePage{}, &opError{op: fmt.Sprintf("memory store: incident %s", id), err: ErrNotFound}
	}
	// Seq n is tl[n-1].
	var page TimelinePage
	if q.NewestFirst {
		from := int64(len(tl))
		if q.From != 0 {
			from = min(q.From, from)
		}
		for seq := from; seq >= 1; seq-- {
			if len(page.Events) == q.Limit {
				page.Next = seq
				break
			}
			page.Events = append(page.Events, tl[seq-1].Clone())
		}
		return page, nil
	}
	for seq := max(q.From, 1); seq <= int64(len(tl)); seq++ {
		if len(page.Events) == q.Limit {
			page.Next = seq
			break
		}
		page.Events = append(page.Events, tl[seq-1].Clone())
	}
	return page, nil
}

// openKey is a group of open incidents [MemoryStore.CountOpen] counts.
type openKey struct {
	sev   Severity
	phase phases.Phase
}

// count adds n to the count of inc's group if inc is open; inc may be nil.
func (s *MemoryStore) count(inc *Incident, n int64) {
	if inc == nil || !inc.IsOpen() {
		return
	}
	k := openKey{inc.Severity, inc.Phase}
	if s.open[k] += n; s.open[k] == 0 {
		delete(s.open, k)
	}
}

// CountOpen implements [Store]. It reads counts kept with every change.
func (s *MemoryStore) CountOpen(ctx context.Context) ([]OpenCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, &opError{op: "memory store: count", err: err}
	}
	s.mu.RLock()
	out := make([]OpenCount, 0, len(s.open))
	for k, n := range s.open {
		out = append(out, OpenCount{Severity: k.sev, Phase: k.phase, Count: n})
	}
	s.mu.RUnlock()
	SortOpenCounts(out)
	return out, nil
}

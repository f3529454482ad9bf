package phases_test

import (
	"slices"

	"github.com/incidentkit/incidentkit/phases"
)

// fakeSubject is a hand-written phases.Subject: an incident reduced to what
// guards ask. It is read-only once built, so one value may be shared by
// concurrent transitions.
type fakeSubject struct {
	roles   []string
	pending map[phases.Phase][]string
	verdict string
	// reviewed and rootCause say whether a post-incident review is
	// recorded and whether it names a root cause.
	reviewed, rootCause bool
}

var (
	_ phases.Subject      = (*fakeSubject)(nil)
	_ phases.ReviewHolder = (*fakeSubject)(nil)
)

// readySubject satisfies every built-in guard: a commander is assigned, no
// task is pending, the verdict is one that both Close and Dismiss accept,
// and a review with a root cause is recorded.
func readySubject() *fakeSubject {
	return &fakeSubject{roles: []string{phases.RoleCommander}, verdict: phases.VerdictFalsePositive,
		reviewed: true, rootCause: true}
}

func (s *fakeSubject) HoldsRole(role string) bool { return slices.Contains(s.roles, role) }

func (s *fakeSubject) PendingTasks(p phases.Phase) []string { return s.pending[p] }

func (s *fakeSubject) VerdictIn(verdicts ...string) bool {
	if s.verdict == "" {
		return false
	}
	return len(verdicts) == 0 || slices.Contains(verdicts, s.verdict)
}

func (s *fakeSubject) HasReview() (recorded, rootCause bool) { return s.reviewed, s.rootCause }

// permissiveSubject allows whatever a built-in guard asks, whatever the role
// or phase; it lets tests fire every edge of a model they did not write.
type permissiveSubject struct{}

func (permissiveSubject) HoldsRole(string) bool              { return true }
func (permissiveSubject) PendingTasks(phases.Phase) []string { return nil }
func (permissiveSubject) VerdictIn(...string) bool           { return true }
func (permissiveSubject) HasReview() (bool, bool)            { return true, true }

// panickySubject panics on every question, as a buggy incident type might.
type panickySubject struct{}

func (panickySubject) HoldsRole(string) bool              { panic("HoldsRole exploded") }
func (panickySubject) PendingTasks(phases.Phase) []string { panic("PendingTasks exploded") }
func (panickySubject) VerdictIn(...string) bool           { panic("VerdictIn exploded") }
func (panickySubject) HasReview() (bool, bool)            { panic("HasReview exploded") }

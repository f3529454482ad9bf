// Package irtest helps test code that uses package ir, and checks stores.
//
// [Clock] is a fake clock and [IDs] a predictable ID generator, for
// deterministic tests.
//
// [Incident] starts an [IncidentBuilder], which makes valid incidents
// without a Responder; [OpenChange] and [NextChange] turn them into the
// [ir.Change] values a store applies, with events that carry the right
// incident ID, version and type ([Event] makes one such event);
// [ListChange] makes a change that adds observables and tasks and
// completes tasks, naming the entries it touches, as a Responder does.
//
// [TestStore] is the conformance suite every implementation of [ir.Store]
// must pass, as testing/slogtest is for slog handlers. Each store package
// runs it from its tests with a function that opens a fresh, empty store:
//
//	func TestStore(t *testing.T) {
//		irtest.TestStore(t, func(t *testing.T) ir.Store { return ir.NewMemoryStore() })
//	}
//
// A store that is also an outbox runs notifytest.TestOutbox through
// [OutboxStore], and [TestOutboxChanges], which checks that its messages
// are written with their change and only then.
package irtest

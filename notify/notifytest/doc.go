// Package notifytest checks implementations of package notify's
// interfaces and helps test code that uses them.
//
// [TestOutbox] is the conformance suite every implementation of
// notify.Outbox must pass, as testing/slogtest is for slog handlers,
// [TestDeliveries] the one of notify.Deliveries, [TestDispatcher] runs a
// notify.Dispatcher against a store, and
// [TestHTTPNotifier] the one every notify.Notifier over HTTP must pass
// against a loopback peer; [Message] is a message with every field set. [Clock]
// is a fake clock that moves only when told to, and [Recorder] a
// notify.Notifier that keeps what it is given and fails when told to.
package notifytest

// Package notify owns the contract of notification delivery: the outbox
// an incident store keeps messages in, in the same transaction as the
// change that leaves them ([Outbox], [OutboxMessage], [OutboxEntry]); the
// [Message] those messages carry, which says what happened without
// reading the store; and the [Notifier] that delivers a message to one
// channel, with its errors classified by wrapping ([ErrPermanent],
// [ErrRetry], [ErrRateLimited], [ErrUnauthorized], [ErrGone]; [HTTPError]
// classifies HTTP replies) so that whoever delivers knows whether to retry,
// when, or give up. [LogNotifier] writes messages to a *slog.Logger.
//
// A [Router] decides which channels a message goes to: routes match on the
// event type, the least severity, the phase, the category, labels and the
// audience, first match wins unless a route continues, and each channel's
// TLP clearance holds back what it may not see whatever the routes say.
// Messages about an exercise (a drill, not a real incident) go only
// through routes that accept exercises; what the others would have sent
// is held back too, and the default templates mark them [ExerciseMarker].
// Routing loads from JSON ([LoadRouting]) as well as Go, and [NewRouter]
// reports every problem at once.
//
// [Templates] render messages as a channel shows them, with text/template
// or html/template: a default per channel and per event type, overrides by
// name, and a fallback (logged) when a template fails, so that no message
// is dropped; [TruncateRunes] and [TruncateBytes] fit the result to a
// channel's limits. The default words of every kind of message (a
// headline such as "Phase: eradication" or "Status update for
// executives", then the event's sentence) are written once, in
// [DefaultTextTemplates], [DefaultHTMLTemplates] and
// [DefaultLineTemplates], and the channels build on them.
//
// A [Dispatcher] drains the outbox of any store that also keeps
// [Deliveries] (the incident package's memory, SQLite and PostgreSQL
// stores do): in one transaction a pass claims the deliveries that are
// due and takes messages from the outbox, routing each to one delivery
// per channel. A message all of whose deliveries are due stays in the
// outbox, claimed with them; any other is fanned out there and then,
// with what TLP held back recorded. The pass makes the deliveries, and
// records in one more transaction how each went, with its status,
// attempts, next attempt time, last error and receipt, and the messages
// claimed with theirs leave the outbox as their deliveries are recorded.
// Failed deliveries are retried with exponential backoff and full jitter,
// never before the peer's Retry-After; permanent errors are not retried;
// past the attempt or age limit a delivery is dead, reported through
// OnDead (the incident's timeline gets a notification_failed event) and
// replayed once its channel is fixed. Each channel has a rate limit and a
// circuit breaker; what they hold back waits without using up attempts.
// An incident's messages reach each channel in the order of its events.
// Delivery is at least once, with a stable [Message.Key]: a dispatcher
// that crashes or stops leaves its claims to lapse or gives them back,
// and the next one delivers them. [Deliveries.IncidentDeliveries] is the
// record of who was told what, and when.
//
// [Dispatcher.Run] keeps out of the way of the response it reports on:
// after a pass that handled less than a full batch it lingers before the
// next rather than write again at once, and on a store whose one writer
// the incident changes share (a [Quieter], such as the SQLite store) it
// begins a pass only once the store has been quiet for a moment, or after
// PollInterval at the latest. A hung channel or an open breaker therefore
// does not make it spin, and its transactions fall between the changes of
// the response rather than hold them up.
//
// Channels over HTTP send with the client [NewHTTPClient] makes: it refuses
// loopback, private, link-local, carrier-grade NAT, unspecified and cloud
// metadata addresses on the address actually dialled (so redirects and DNS
// rebinding cannot get round it) unless allowed, and always verifies TLS.
//
// Channels keep their credentials as a [Secret] or a [SecretURL], which
// print redacted in every fmt verb, in JSON and through log/slog; a
// SecretURL also takes itself out of the errors an HTTP client returns.
//
// The package imports nothing else of this module, so that stores, the
// incident package and anything delivering notifications can all depend on
// it. Package notifytest checks that an [Outbox] and [Deliveries] keep
// their contracts, and runs a Dispatcher against a store.
package notify

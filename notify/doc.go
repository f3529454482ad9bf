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
// Routing loads from JSON ([LoadRouting]) as well as Go, and [NewRouter]
// reports every problem at once.
//
// [Templates] render messages as a channel shows them, with text/template
// or html/template: a default per channel and per event type, overrides by
// name, and a fallback (logged) when a template fails, so that no message
// is dropped; [TruncateRunes] and [TruncateBytes] fit the result to a
// channel's limits.
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
// it. Package notifytest checks that an [Outbox] keeps the contract.
package notify

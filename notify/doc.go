// Package notify owns the contract of notification delivery: the outbox
// an incident store keeps messages in, in the same transaction as the
// change that leaves them ([Outbox], [OutboxMessage], [OutboxEntry]), and
// the payload those messages carry ([Notice]).
//
// The package imports nothing else of this module, so that stores, the
// incident package and anything delivering notifications can all depend on
// it. Package notifytest checks that an [Outbox] keeps the contract.
package notify

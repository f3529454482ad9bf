// Package ir runs security incidents: typed incident records, moved through
// a phase model, with every change recorded.
//
// A [Responder] is the one type most programs use. Build it from a [Config]
// with a [Store] (a [MemoryStore] for tests; a durable store for services)
// and a phase model from package phases (SANS PICERL by default):
//
//	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Model: phases.SANS})
//
// [Responder.Open] opens an [Incident]; then [Responder.Transition] moves it
// between phases, and [Responder.Assign], [Responder.AddTask],
// [Responder.AddObservable], [Responder.Decide], [Responder.SetVerdict] and
// the rest record what the responders do, and [Responder.PostStatus] what
// they told an audience (executives, legal, customers, regulators).
// [Responder.RecordReview] records the post-incident review (summary, root
// cause, contributing factors, what went well and what did not, lessons
// learned), and [Responder.AddFollowUp] and [Responder.CompleteFollowUp]
// track the follow-up actions it leads to, also after the incident closes.
// [Describe] puts any event in words. [Responder.Close] and
// [Responder.Reopen] close and reopen it.
//
// Every change names its [Actor], is checked by the [Policy], and appends a
// typed [Event] (who, when, what, why) to the incident's timeline, read a
// page at a time with [Responder.Timeline], newest or oldest first, or
// streamed whole with [Responder.AllEvents]; [Responder.Snapshot] reads an
// incident with its latest events as of one version. Lifecycle timestamps ([Lifecycle]) are set by
// opening and by transitions, never by hand, and [ComputeMetrics] turns them
// into response metrics: time to detect, acknowledge, contain and resolve,
// and time in each phase, with median and 90th percentile per severity.
// An incident opened as an exercise ([NewIncident].Exercise), such as a
// drill of the response plan, runs the same workflow, is marked as an
// exercise in its timeline, notifications and review, and is left out of
// the metrics unless [MetricsOptions] count it.
//
// Deadline clocks ([ClockDef], set in [Config.Clocks] and
// [Config.ResponseDeadlines]) count down to response deadlines by severity
// and to regulatory ones, with built-in templates for GDPR article 33
// ([GDPRArticle33]), NIS2 article 23 ([NIS2Article23]), DORA's major ICT
// incident reports ([DORAMajorIncident]) and SEC Form 8-K item 1.05
// ([SECForm8KItem105]). They start and stop on milestones, events and
// markers a responder records with [Responder.Mark] ("personal data
// breach", "supervisory authority notified"), keep their state on the
// incident ([Incident.Clocks]), and [Responder.RunClocks] records, once
// however many instances run it, that a deadline is near or missed, as an
// event the notifiers route like any other.
//
// Changes are atomic and versioned. A Responder queues the changes it makes
// to one incident, so they never conflict with each other; a write made from
// a stale read because another process (or another Responder) changed the
// incident first is refused with [ErrConflict] by the store, and the
// Responder retries it against the fresh incident (checking it again), so no
// update is ever lost.
//
// Actors are supplied by the caller and not authenticated: the Responder
// takes the [Actor] it is given, and authenticating whoever is behind a
// request is the embedding program's job (see [Actor]).
// [Responder.CollectEvidence] hands the evidence locker that same actor,
// so the locker's access policy checks and records who the Responder's
// [Policy] allowed.
//
// Input is bounded by exported limits: [MaxShortText] for titles and names,
// [MaxLongText] for descriptions and reasons, [MaxBodyText] for summaries
// and notes, [MaxLabels], [MaxDecisionOptions], [MaxReviewItems] and
// [MaxListSize] for lists.
//
// The Responder speaks one error vocabulary, whichever package found the
// problem; in every case nothing is changed:
//
//   - [ErrInvalid]: bad input. An [*InvalidError] says which field and
//     why; input that package evidence checks (an unknown evidence kind,
//     content over its size limit) also matches evidence.ErrInvalid, and a
//     phase action the model does not have phases.ErrUnknownAction.
//   - [ErrUnauthorized]: the [Policy] refused the actor (a [*DeniedError]),
//     or the evidence locker's access policy did (evidence.ErrDenied).
//   - [ErrRefused]: the input was well formed and the actor allowed, but the
//     incident's state does not allow the change: the action does not
//     leave from the current phase (phases.ErrInvalidTransition), or the
//     model's guards refuse it (phases.ErrGuardFailed, a
//     [*phases.GuardError] saying which guards and why). It is neither bad
//     input nor a refused actor: the same call succeeds once the incident
//     is ready (a commander assigned, a required task done, a verdict set).
//   - [ErrNotFound]: no such incident, or no such evidence item
//     (evidence.ErrNotFound).
//   - [ErrConflict]: another writer changed the incident or its custody
//     log, and the retries ran out. For evidence whose content is stored
//     already, retries run until [Config.CustodyTimeout], and the error
//     is then an evidence.UnrecordedError for [Responder.CompleteEvidence].
//
// The other package's errors and types still match as well, so a caller
// that already branches on phases.ErrGuardFailed keeps working, and the
// message is that package's own, unchanged.
//
// A store may keep more than incidents, so that what belongs to a change is
// written in the same transaction ([Change]). Stores that implement
// notify.Outbox take the messages [Config.Outbox] leaves for every event (a
// notify.Message each), which dispatchers claim, deliver at least once, and
// acknowledge. Stores that also keep the custody logs of package evidence
// take custody records: with [Config.AtomicCustody], whose ledger must be
// on the very same store (a setup where it is not is refused by
// [NewResponder], never silently written in two steps),
// [Responder.CollectEvidence] writes the collected record, the incident's
// reference to the item and its event together. [MemoryStore]
// does all three in memory; the sqlite and postgres packages keep them in
// a database, and package irtest holds the suites that check a store does
// it right.
//
// The Responder is instrumented with OpenTelemetry: a span for every
// method, named for it (ir.add_note, ir.all_events; collecting evidence
// has its steps as child spans), and the metrics incidentkit.incidents.opened,
// incidentkit.transitions, incidentkit.incidents.open (by severity and
// phase) and incidentkit.phase.duration. Incident IDs appear on spans only,
// never as metric attributes.
package ir

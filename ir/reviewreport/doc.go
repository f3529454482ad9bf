// Package reviewreport writes the post-incident review document of an
// incident: what happened and how the response went, from the incident's
// own records, for the people who review it and for those who read it
// later.
//
// A [Document] holds everything the document shows: the incident, its
// timeline, its phase model, the custody status of its evidence and the
// delivery records of its notifications. [Gather] reads them all for one
// incident through a Responder, an evidence locker and a delivery store.
// [Markdown] writes the document in GitHub-flavoured Markdown, and [HTML]
// as one self-contained page (no script, no external asset, readable
// printed) that also draws the incident's course: its phases over time,
// with the loops back and the follow-ups' due dates marked, and the
// model's diagram with the path the incident took highlighted. Both are
// pure functions of the Document, so that the same Document always gives
// the same bytes.
//
// The document shows the incident's summary and impact, its severity
// history, its lifecycle milestones and response times (time to detect,
// acknowledge, contain and resolve), the path it took through the model's
// phases with the time spent in each (loops back, such as a return to
// containment on reinfection, marked as such), the post-incident review
// and its follow-up actions, the decisions with their options and
// rationale, the tasks and their state, the observables and affected
// assets, the evidence with its custody status, who was notified of what
// and when, and the whole timeline.
//
// A document is safe to publish whatever the incident holds: every text
// the responders wrote is escaped and defanged so that no
// GitHub-flavoured Markdown renderer makes a link, an image or HTML of
// it, and characters that would not show as themselves show as escapes,
// as the custody reports of package evidence/custodyreport do; the HTML
// page escapes it with html/template, and shows such characters as
// escapes too.
package reviewreport

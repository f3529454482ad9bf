// Package custodyreport writes the chain of custody report of a case: a
// Markdown document a court or an auditor reads, describing the case's
// exhibits, each one's custody timeline and the outcome of verifying the
// log, with the cryptographic details and the steps an independent party
// follows to check it all offline.
//
// [Render] is a pure function of a case's log ([evidence.CaseLog]) and
// the outcome of verifying it ([evidence.Report]): it touches no store, so
// it reports as well on a log read from a bundle. [Write] reports on a case
// of an [evidence.Locker], re-hashing every item's content, and
// [WriteLedger] on a case of an [evidence.Ledger] alone; both read the log
// and verify it from one snapshot ([evidence.Locker.ExportVerified]).
//
// A report renders a tampered log too: every problem is listed, numbered,
// and every record a problem names is marked wherever the report shows it.
//
// A report is safe to publish whatever the log holds: text from the log is
// escaped and defanged so that no GitHub-flavoured Markdown renderer makes
// a link, an image or HTML of it, and characters that would not show as
// themselves, such as terminal escapes and bidirectional overrides, show as
// escapes (see [Render]).
package custodyreport

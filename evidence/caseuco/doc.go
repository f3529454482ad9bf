// Package caseuco exports a case's chain of custody as JSON-LD in the
// vocabulary of the CASE 1.x and UCO 1.x ontologies
// (https://caseontology.org), the form forensic tools use to exchange
// investigations.
//
// [Write] takes a case's log as [evidence.Ledger.Export] or a bundle gives
// it, an [evidence.CaseLog], and writes one graph: the investigation, each
// item as a file observable with its digests, and each custody record as an
// investigative action with its performer, place, tool and outcome. The
// same log always exports the same bytes, and each action names its
// record's index and leaf hash, to tie the graph back to the signed log.
//
// The export uses only evidence's public API; it does not verify the log.
// Verify it first with [evidence.VerifyLog] or [evidence.Locker.Verify].
package caseuco

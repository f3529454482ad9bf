// Package bundle moves a case's chain of custody between parties that do
// not trust each other: a custody bundle is one case, exported as a
// deterministic tar stream, that an independent party checks offline with
// nothing but the exporting ledger's public key.
//
// [Export] writes a case of an [evidence.Ledger], with its items' content
// if asked, at one signed size of its log. [Read] reads a bundle without
// trusting it, within [Limits], and [Bundle.Verify] checks it against what
// the verifier trusts ([Trust]): everything [evidence.VerifyLog] checks,
// the signatures and consistency proofs of its checkpoints, and each
// item's content. [Import] does both and, only if the bundle verifies
// completely, appends its log to an [evidence.LedgerStore], so a case can
// move from one locker to another and still be verified there. A bundle of
// a case the store already holds must be signed by the key of the case's
// stored checkpoints and extend them, or it is refused with a
// [*CaseConflictError]; a refused bundle leaves nothing in the stores.
//
// The package uses only evidence's public API: the records, checkpoints
// and proofs it writes and checks are the core's.
package bundle

// Package evidence keeps evidence and proves nothing was altered: a chain of
// custody a forensic examiner, an auditor or a court can check.
//
// Content goes into a [BlobStore] under its SHA-256 digest ([DirBlobs] on
// disk, confined to its directory and trusting nothing already in it;
// [MemoryBlobs] for tests); [Ingest] hashes it (SHA-256 always, SHA-1
// and MD5 on request, for tools that still expect them) in the same single
// streaming pass that stores it, at constant memory. Reading a blob
// re-hashes it and fails with [ErrTampered] if it changed. A writer that is
// a [BlobPreparer] stages content unseen until the caller commits or
// aborts it, so that content kept only on a later decision (a bundle's,
// once it has verified) leaves nothing when it is refused.
//
// Every custody action — collected, transferred, checked out and in,
// accessed, analysed, copied, verified, sealed, unsealed, released,
// disposed, and every refused access — is a [Record]: who, on whose
// authority, from whom to whom, where, when (with its time zone), why, with
// which tool, and the digest observed. A [Ledger] appends records to one
// RFC 6962 Merkle log per case (golang.org/x/mod/sumdb/tlog); each record
// also links to the previous record of the same item. The ledger signs
// [Checkpoint]s with Ed25519 in the C2SP signed-note format, and proves any
// record's inclusion ([CheckInclusion]) and any two checkpoints'
// consistency ([CheckConsistency]) with short proofs, so any rewrite of
// history is detected.
//
// The signing key is a [SigningKey], an opaque value: it prints as
// "[redacted]" with every format verb, also inside other structs and
// through log/slog, and refuses to be marshalled, so it is kept on purpose
// or not at all; [SaveSigningKey] writes it to a file of mode 0600 that is
// never overwritten, [LoadSigningKey] reads it back and refuses a file
// others may read or write, and [SigningKey.Reveal] and [ParseSigningKey]
// move it to and from a secret store. A ledger given a [Witness] ([DirWitness] keeps one in a directory
// of its own) hands it a checkpoint after every append, so that a log cut
// short in the store, together with its checkpoints, fails verification as
// a rollback; [Witness] says what it protects against and what it does
// not.
//
// A [Locker] puts the two together: [Locker.Collect] takes evidence in,
// [Locker.Record] takes custody actions after an [AccessPolicy] allows them
// (recording refusals too), [Locker.Open] hands out content that re-hashes
// itself as it is read, and [Locker.Verify] checks a whole case.
//
// # Access and identity
//
// The [AccessPolicy] governs every locker method that names an actor:
// [Locker.Collect] and [Locker.Stage] (about [Collection.Actor], and
// about the collector too when it is someone else),
// [Locker.CompleteCollection] and [Locker.CheckStaged] (about the staged
// record's actor), [Locker.Record] and [Locker.Open]. A staged collection
// is completed only as the locker staged it: [Locker.Stage] seals it with
// the ledger's signing key (see [Staged]), so that no one completes a
// record they made up, naming content collected into a case the policy
// keeps from them. The policy is asked before anything is read, so a refused
// actor gets the same error matching [ErrDenied] whether or not the item
// exists, and every refusal is recorded: in the item's custody log as an
// [ActionAccessDenied] record when the case holds the item, and always by
// [LockerConfig.Refused] (by default slog's default logger), which alone
// can hold a refused collection or a probe for a missing item. The reads
// that name no actor, [Locker.Item], [Locker.Items], [Locker.Verify],
// [Locker.ExportVerified] and what builds on them (the custody report,
// CASE/UCO export), are not governed: they give descriptions, digests and
// history, never content, and checking a chain of custody must stay open
// to whoever is entitled to check it; who may call them is the embedding
// program's to decide. [Locker.Ledger] is privileged: a [Ledger] appends
// any valid record without asking a policy, and a bundle is exported from
// the ledger and the [BlobStore] directly, content included if asked.
//
// Identities are supplied by the caller and not authenticated: a [Party]
// is whoever the caller says, and a record proves who the program said
// acted. Authenticating people and programs, and handing the locker only
// identities so established, is the embedding program's job. The
// verification itself, [VerifyLog], is a pure function over a [CaseLog]: it
// touches no disk and no network, and reports the problems it finds as
// [*TamperError] values naming the item, the record, and what was expected
// and found: every one of them, or the first [DefaultMaxProblems] and a
// count of the rest ([VerifyLogWith] lists more), so that a log altered
// throughout cannot exhaust memory.
//
// [Ledger.ExportVerified] and [Locker.ExportVerified] give a case's log
// together with its verification, read from one snapshot of the log.
//
// Three packages build on this one's public API alone: package
// [github.com/incidentkit/incidentkit/evidence/bundle] writes a case as a
// deterministic bundle that an independent party checks offline (the
// program examples/custody-verify does it from the command line) and takes
// one in, verifying before it accepts anything; package
// [github.com/incidentkit/incidentkit/evidence/custodyreport] writes the
// Markdown custody report a court or auditor reads; package
// [github.com/incidentkit/incidentkit/evidence/caseuco] exports items and
// custody actions as CASE/UCO JSON-LD.
//
// Everything a record keeps is text within documented limits ([MaxIDLen],
// [MaxNameLen], [MaxTextLen], [MaxNotesLen], [MaxLabels], [MaxNetwork]),
// valid UTF-8 without NUL bytes, checked when the record is made, so every
// case exports to a bundle that package bundle reads. An item's name is a
// label, never a path: it is kept as given and never touches the file
// system.
//
// Storage plugs in through [LedgerStore], [BlobStore] and [Witness], and
// every ledger store checks what it is asked to append with
// [Append.Validate]; package evidencetest holds the conformance suites
// every implementation must pass.
// The package never imports the incident packages: it works on its own as
// an evidence locker.
package evidence

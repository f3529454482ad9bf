package ir

// Limits on what one input and one incident may hold, so that one oversized
// input cannot bloat every copy of an incident. Text is measured in bytes
// of UTF-8. Input beyond a limit is refused with an [*InvalidError]
// (matching [ErrInvalid]) that names the field and the limit; nothing is
// changed.
const (
	// MaxShortText bounds a title-sized text: an incident's title and
	// labels, task titles, decision summaries and options, asset names,
	// and actors' IDs and names.
	MaxShortText = 200
	// MaxLongText bounds a description: the reason given for any change,
	// observable values and descriptions, and asset descriptions.
	MaxLongText = 4096
	// MaxBodyText bounds a body of text: an incident's summary, notes,
	// decision rationales, verdict resolutions and task outcomes.
	MaxBodyText = 1 << 16
	// MaxLabels is the most labels an incident has.
	MaxLabels = 64
	// MaxDecisionOptions is the most options one decision lists.
	MaxDecisionOptions = 64
	// MaxReviewItems is the most entries each list of a post-incident
	// review holds (contributing factors, what went well, what went
	// poorly, lessons learned), and the most follow-ups one recording of
	// the review adds.
	MaxReviewItems = 64
	// MaxListSize is the most observables, assets, tasks, decisions,
	// participants, evidence items or follow-ups one incident holds, each
	// list counted on its own.
	MaxListSize = 10000
)

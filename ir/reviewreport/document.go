package reviewreport

import (
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Document is everything a review document shows about one incident.
// Only Incident is required: a part left empty is shown as not recorded.
type Document struct {
	// Incident is the incident the document is about.
	Incident *ir.Incident
	// Timeline is the incident's timeline, oldest first.
	Timeline []ir.Event
	// Model is the phase model the incident follows, which names its
	// phases; nil names them by their names in words.
	Model *phases.Model
	// Custody holds the custody status of the incident's evidence items,
	// by item; an item it does not hold is shown as not checked.
	Custody map[evidence.ItemID]CustodyStatus
	// Deliveries are the delivery records of the incident's
	// notifications, in outbox order (notify.Deliveries'
	// IncidentDeliveries).
	Deliveries []notify.Delivery
	// GeneratedAt is when the document is made: it is shown, and it ends
	// the current stay of an open incident and decides which follow-ups
	// are overdue. Zero shows neither.
	GeneratedAt time.Time
}

// CustodyStatus is where one evidence item's chain of custody stands.
type CustodyStatus struct {
	// Records counts the item's custody records.
	Records int
	// Last is the item's latest custody record.
	Last evidence.Record
	// Verified is set when the case's custody log was verified, whatever
	// the outcome; Problems then lists what verification found wrong with
	// the item or with the whole log. ContentChecked is set when the
	// item's content was re-hashed too.
	Verified       bool
	ContentChecked bool
	Problems       []string
}

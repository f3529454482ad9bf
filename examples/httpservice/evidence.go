package main

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/bundle"
	"github.com/incidentkit/incidentkit/ir/reviewreport"
	"github.com/incidentkit/incidentkit/notify"
)

// uploadEvidence streams the request body into the evidence locker, as
// the content of a new item of the incident: never held in memory, hashed
// as it is stored, recorded with its custody in one transaction with the
// incident's reference to it.
func (s *Service) uploadEvidence(w http.ResponseWriter, r *http.Request, p principal) error {
	if s.Locker == nil {
		return errNotConfigured("evidence locker")
	}
	if r.ContentLength > s.MaxEvidence {
		return newProblem(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("evidence is limited to %d bytes", s.MaxEvidence))
	}
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" {
		return badQuery("name", "", "is required: the item's name, such as its file name")
	}
	var kind evidence.Kind
	if v := q.Get("kind"); v != "" {
		k, err := evidence.ParseKind(v)
		if err != nil {
			return badQuery("kind", v, "is not a kind of evidence")
		}
		kind = k
	}
	mediaType := q.Get("media_type")
	if mediaType == "" {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil {
			mediaType = mt
		}
	}
	var labels []string
	labels = append(labels, q["label"]...)
	actor := evidence.Party{ID: p.actor.ID, Name: p.actor.Name}
	item, err := s.Responder.CollectEvidence(r.Context(), p.actor, incidentID(r), evidence.Collection{
		Name: name, Kind: kind, MediaType: mediaType, Labels: labels,
		Content:     http.MaxBytesReader(w, r.Body, s.MaxEvidence),
		MaxSize:     s.MaxEvidence,
		CollectedBy: actor, Actor: actor,
		Location: q.Get("location"), Reason: q.Get("reason"), Tool: q.Get("tool"), Notes: q.Get("notes"),
		SHA1: q.Get("sha1") == "true", MD5: q.Get("md5") == "true",
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/v1/incidents/%s/evidence/%s/custody", incidentID(r), item.ID))
	return writeJSON(w, http.StatusCreated, item)
}

// EvidenceList lists an incident's evidence items.
type EvidenceList struct {
	Items []evidence.Item `json:"items"`
}

func (s *Service) listEvidence(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.Locker == nil {
		return errNotConfigured("evidence locker")
	}
	id := incidentID(r)
	if _, err := s.Responder.Get(r.Context(), id); err != nil {
		return err
	}
	items, err := s.Locker.Items(r.Context(), id.Case())
	if err != nil && !errors.Is(err, evidence.ErrNotFound) {
		return err
	}
	if items == nil {
		items = []evidence.Item{}
	}
	return writeJSON(w, http.StatusOK, EvidenceList{Items: items})
}

// Custody is one item's chain of custody.
type Custody struct {
	Item    evidence.Item     `json:"item"`
	Records []evidence.Record `json:"records"`
}

func (s *Service) custody(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.Locker == nil {
		return errNotConfigured("evidence locker")
	}
	c := incidentID(r).Case()
	itemID := evidence.ItemID(r.PathValue("item"))
	item, err := s.Locker.Item(r.Context(), c, itemID)
	if err != nil {
		return err
	}
	records, err := s.Locker.Ledger().History(r.Context(), c, itemID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Custody{Item: item, Records: records})
}

// Verification is the outcome of checking a case's chain of custody.
type Verification struct {
	Case        evidence.CaseID `json:"case"`
	OK          bool            `json:"ok"`
	Records     int64           `json:"records"`
	Root        string          `json:"root"`
	Items       int             `json:"items"`
	Checkpoints int             `json:"checkpoints"`
	Problems    []string        `json:"problems"`
	Omitted     int             `json:"omitted,omitempty"`
	VerifierKey string          `json:"verifier_key"`
}

// verifyCustody verifies the incident's whole custody log and re-hashes
// every item's content. Tampering is the answer, not an error: 200 with
// ok false and the problems.
func (s *Service) verifyCustody(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.Locker == nil {
		return errNotConfigured("evidence locker")
	}
	id := incidentID(r)
	if _, err := s.Responder.Get(r.Context(), id); err != nil {
		return err
	}
	rep, err := s.Locker.Verify(r.Context(), id.Case())
	if err != nil {
		return err
	}
	out := Verification{Case: rep.Case, OK: rep.OK(), Records: rep.Size, Root: rep.Root.String(), Items: rep.Items,
		Checkpoints: rep.Checkpoints, Problems: []string{}, Omitted: rep.Omitted, VerifierKey: s.Locker.Ledger().VerifierKey()}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, p.Error())
	}
	return writeJSON(w, http.StatusOK, out)
}

// exportBundle sends the incident's custody bundle, with the items'
// content if content=true. The bundle is written to a temporary file
// first, so that a failure midway is a problem response and not a cut
// tar stream, and then sent from it.
func (s *Service) exportBundle(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.Locker == nil || s.Blobs == nil {
		return errNotConfigured("evidence locker")
	}
	id := incidentID(r)
	if _, err := s.Responder.Get(r.Context(), id); err != nil {
		return err
	}
	content := r.URL.Query().Get("content")
	if content != "" && content != "true" && content != "false" {
		return badQuery("content", content, "is not true or false")
	}
	f, err := os.CreateTemp(s.TempDir, "incidentkit-bundle-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := bundle.Export(r.Context(), f, s.Locker.Ledger(), s.Blobs, id.Case(), bundle.Options{IncludeBlobs: content == "true", Checkpoint: true}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": string(id) + ".custody.tar"}))
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

// reviewDocument sends the incident's review document, in Markdown or in
// self-contained HTML (format=markdown or html, or as Accept asks).
func (s *Service) reviewDocument(w http.ResponseWriter, r *http.Request, _ principal) error {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "markdown"
		if accept := r.Header.Get("Accept"); accept != "" && bytes.Contains([]byte(accept), []byte("text/html")) {
			format = "html"
		}
	}
	if format != "markdown" && format != "html" {
		return badQuery("format", format, "is not markdown or html")
	}
	check := r.URL.Query().Get("check_content")
	if check != "" && check != "true" && check != "false" {
		return badQuery("check_content", check, "is not true or false")
	}
	// The custody log is verified for every document; re-reading every
	// item's content, which may be gigabytes, only when asked.
	src := reviewreport.Sources{Responder: s.Responder, Locker: s.Locker, LogOnly: check != "true"}
	if s.Deliveries != nil {
		src.Deliveries = s.Deliveries
	}
	doc, err := reviewreport.Gather(r.Context(), src, incidentID(r))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	ct := "text/markdown; charset=utf-8"
	if format == "html" {
		ct = "text/html; charset=utf-8"
		err = reviewreport.HTML(&buf, doc)
	} else {
		err = reviewreport.Markdown(&buf, doc)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format == "html" {
		// The document is self-contained: it needs nothing from anywhere.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	}
	_, _ = w.Write(buf.Bytes())
	return nil
}

// DeliveryRecord is one delivery of a notification to a channel.
type DeliveryRecord struct {
	ID        int64                 `json:"id"`
	Key       string                `json:"key"`
	Incident  string                `json:"incident"`
	Type      string                `json:"type"`
	Channel   string                `json:"channel"`
	Route     string                `json:"route,omitempty"`
	Audience  notify.Audience       `json:"audience,omitempty"`
	Status    notify.DeliveryStatus `json:"status"`
	Attempts  int                   `json:"attempts"`
	CreatedAt time.Time             `json:"created_at"`
	NextAt    time.Time             `json:"next_at,omitzero"`
	UpdatedAt time.Time             `json:"updated_at,omitzero"`
	LastError string                `json:"last_error,omitempty"`
	Receipt   notify.Receipt        `json:"receipt,omitzero"`
}

// Deliveries lists an incident's deliveries.
type Deliveries struct {
	Deliveries []DeliveryRecord `json:"deliveries"`
}

func (s *Service) incidentDeliveries(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.Deliveries == nil {
		return errNotConfigured("delivery records")
	}
	id := incidentID(r)
	if _, err := s.Responder.Get(r.Context(), id); err != nil {
		return err
	}
	ds, err := s.Deliveries.IncidentDeliveries(r.Context(), string(id))
	if err != nil {
		return err
	}
	out := Deliveries{Deliveries: []DeliveryRecord{}}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, DeliveryRecord{ID: d.ID, Key: d.Key, Incident: d.Incident, Type: d.Type,
			Channel: d.Channel, Route: d.Route, Audience: d.Audience, Status: d.Status, Attempts: d.Attempts,
			CreatedAt: d.CreatedAt, NextAt: d.NextAt, UpdatedAt: d.UpdatedAt, LastError: d.LastError, Receipt: d.Receipt})
	}
	return writeJSON(w, http.StatusOK, out)
}

// replayDelivery makes a dead delivery pending again; only a commander
// may.
func (s *Service) replayDelivery(w http.ResponseWriter, r *http.Request, p principal) error {
	if s.Dispatcher == nil {
		return errNotConfigured("notification dispatcher")
	}
	if p.role != RoleCommander {
		return newProblem(http.StatusForbidden, CodeForbidden, "only an incident commander may replay deliveries")
	}
	id, err := pathNumber(r, "delivery")
	if err != nil {
		return err
	}
	if err := s.Dispatcher.Replay(r.Context(), int64(id)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/incidentkit/incidentkit/ir"
)

// Alert is an alert in the service's generic shape, as POST /v1/alerts
// takes it.
type Alert struct {
	// Key deduplicates: alerts with the same key while its incident is
	// open go on that incident's timeline. Required, at most 128 bytes.
	Key string `json:"key"`
	// Status is firing (the default) or resolved.
	Status string `json:"status,omitempty"`
	// Title names the incident opened for the alert; required when it
	// fires.
	Title    string      `json:"title,omitempty"`
	Summary  string      `json:"summary,omitempty"`
	Severity ir.Severity `json:"severity,omitempty"`
	Category ir.Category `json:"category,omitempty"`
	// Source names the system that raised the alert.
	Source string `json:"source,omitempty"`
	// StartedAt is when the alert began firing; every copy of one alert
	// should carry the same, as Alertmanager's startsAt does. The
	// incident's ID is made from the key and it, so that service
	// instances receiving copies of one alert at once open one incident.
	StartedAt time.Time `json:"started_at,omitzero"`
	// Labels are the alert's labels, shown in the incident's notes.
	Labels map[string]string `json:"labels,omitempty"`
}

// GenericAlerts is the body of POST /v1/alerts: one alert, or several.
type GenericAlerts struct {
	Alerts []Alert `json:"alerts"`
}

// AlertResult says what became of one alert.
type AlertResult struct {
	Key string `json:"key"`
	// Outcome is opened (a new incident), appended (a note on the open
	// incident of the key), resolved (the note that the alert resolved)
	// or ignored (a resolved alert with no open incident).
	Outcome  string `json:"outcome"`
	Incident ir.ID  `json:"incident,omitempty"`
}

// AlertResults says what became of each alert, in order.
type AlertResults struct {
	Results []AlertResult `json:"results"`
}

// MaxAlertKey bounds an alert's deduplication key.
const MaxAlertKey = 128

// MaxAlerts bounds the alerts of one request.
const MaxAlerts = 1000

func (s *Service) genericAlerts(w http.ResponseWriter, r *http.Request, p principal) error {
	var req GenericAlerts
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	return s.intake(w, r, p, req.Alerts)
}

// AlertmanagerWebhook is the body of Alertmanager's webhook, version 4.
type AlertmanagerWebhook struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []AlertmanagerAlert `json:"alerts"`
}

// AlertmanagerAlert is one alert of Alertmanager's webhook.
type AlertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// alertmanagerSeverity maps the usual values of an Alertmanager severity
// label to a severity; anything else is medium.
func alertmanagerSeverity(v string) ir.Severity {
	switch strings.ToLower(v) {
	case "critical", "page", "emergency", "fatal":
		return ir.SeverityCritical
	case "high", "error", "major":
		return ir.SeverityHigh
	case "low", "info", "informational", "none", "minor":
		return ir.SeverityLow
	}
	return ir.SeverityMedium
}

func (s *Service) alertmanager(w http.ResponseWriter, r *http.Request, p principal) error {
	var hook AlertmanagerWebhook
	if err := s.decode(w, r, &hook); err != nil {
		return err
	}
	if hook.Version != "4" {
		return newProblem(http.StatusUnprocessableEntity, CodeInvalid, fmt.Sprintf("webhook version %q: only version 4 is understood", hook.Version))
	}
	alerts := make([]Alert, 0, len(hook.Alerts))
	for _, a := range hook.Alerts {
		title := a.Annotations["summary"]
		if title == "" {
			title = a.Labels["alertname"]
		}
		if title == "" {
			title = "Alert " + a.Fingerprint
		}
		summary := a.Annotations["description"]
		if a.GeneratorURL != "" {
			summary = strings.TrimSpace(summary + "\n\nSource: " + a.GeneratorURL)
		}
		alerts = append(alerts, Alert{
			Key: a.Fingerprint, Status: a.Status, Title: title, Summary: summary,
			Severity: alertmanagerSeverity(a.Labels["severity"]), Source: "alertmanager/" + hook.Receiver,
			StartedAt: a.StartsAt, Labels: a.Labels,
		})
	}
	return s.intake(w, r, p, alerts)
}

// intake checks every alert, then takes them in, in order.
func (s *Service) intake(w http.ResponseWriter, r *http.Request, p principal, alerts []Alert) error {
	if len(alerts) > MaxAlerts {
		return newProblem(http.StatusUnprocessableEntity, CodeInvalid, fmt.Sprintf("at most %d alerts in one request", MaxAlerts))
	}
	var bad []FieldError
	for i := range alerts {
		a := &alerts[i]
		field := fmt.Sprintf("alerts[%d]", i)
		switch a.Status {
		case "":
			a.Status = "firing"
		case "firing", "resolved":
		default:
			bad = append(bad, FieldError{Field: field + ".status", Value: a.Status, Reason: "is not firing or resolved"})
		}
		// Labels are kept trimmed, so the key is too: "x" and "x " are
		// one alert's key.
		a.Key = strings.TrimSpace(a.Key)
		switch {
		case a.Key == "":
			bad = append(bad, FieldError{Field: field + ".key", Reason: "is required"})
		case len(a.Key) > MaxAlertKey || !utf8.ValidString(a.Key):
			bad = append(bad, FieldError{Field: field + ".key", Reason: fmt.Sprintf("must be valid UTF-8 of at most %d bytes", MaxAlertKey)})
		}
		if a.Severity == "" {
			a.Severity = ir.SeverityMedium
		}
		// An alert's texts are whatever its rules say: cut to what an
		// incident holds rather than refused, so that no rule's long
		// annotation keeps its alerts out.
		if strings.TrimSpace(a.Title) == "" {
			a.Title = "Alert " + a.Key
		}
		a.Title = clip(a.Title, ir.MaxShortText)
		a.Summary = clip(a.Summary, ir.MaxBodyText/2)
	}
	if len(bad) > 0 {
		p := newProblem(http.StatusUnprocessableEntity, CodeInvalid, "some alerts are not valid")
		p.Errors = bad
		return p
	}
	out := AlertResults{Results: []AlertResult{}}
	for _, a := range alerts {
		res, err := s.takeAlert(r.Context(), p.actor, a)
		if err != nil {
			return fmt.Errorf("alert %q: %w", a.Key, err)
		}
		out.Results = append(out.Results, res)
	}
	return writeJSON(w, http.StatusOK, out)
}

// alertLabel is the label the incident of an alert key carries.
func alertLabel(key string) string { return "alert:" + key }

// takeAlert turns one alert into a new incident, or into a note on the
// open incident of its key.
//
// Alerts with one key take turns in this process (keyLocks). Across
// service instances sharing a store, the incident's ID is derived from the
// key, the number of incidents the key has had and the alert's start, and
// opened with OpenWithID: of instances racing to open the same alert's
// incident, exactly one succeeds, and the others, refused with
// ir.ErrConflict, look again and find it open.
func (s *Service) takeAlert(ctx context.Context, actor ir.Actor, a Alert) (AlertResult, error) {
	unlock, err := s.alerts.lock(ctx, a.Key)
	if err != nil {
		return AlertResult{}, err
	}
	defer unlock()
	label := alertLabel(a.Key)
	for attempt := 0; ; attempt++ {
		// Count the key's incidents before looking for an open one: an
		// incident another instance opens after the count is either
		// found open by the lookup, or has the ID this count gives, which
		// OpenWithID then refuses as taken.
		n, err := s.countLabel(ctx, label)
		if err != nil {
			return AlertResult{}, err
		}
		open, err := s.Responder.List(ctx, ir.Query{Labels: []string{label}, Status: ir.StatusOpen, Limit: 1})
		if err != nil {
			return AlertResult{}, err
		}
		if len(open.Incidents) > 0 {
			inc := open.Incidents[0]
			outcome, text := "appended", "Alert fired again: "+alertText(a)
			if a.Status == "resolved" {
				outcome, text = "resolved", "Alert resolved: "+alertText(a)
			}
			if _, err := s.Responder.AddNote(ctx, actor, inc.ID, text); err != nil {
				return AlertResult{}, err
			}
			return AlertResult{Key: a.Key, Outcome: outcome, Incident: inc.ID}, nil
		}
		if a.Status == "resolved" {
			return AlertResult{Key: a.Key, Outcome: "ignored"}, nil
		}
		// An alert without its start is known by its key and count
		// alone, so that every instance derives the same ID for it.
		started := a.StartedAt
		if started.IsZero() {
			started = time.Unix(0, 0)
		}
		labels := []string{label}
		if a.Source != "" && len(a.Source) <= ir.MaxShortText-len("source:") {
			labels = append(labels, "source:"+a.Source)
		}
		summary := a.Summary
		if l := labelText(a.Labels); l != "" {
			summary = strings.TrimSpace(summary + "\n\nLabels: " + l)
		}
		inc, err := s.Responder.OpenWithID(ctx, actor, alertIncidentID(a.Key, n, started), ir.NewIncident{
			Title: a.Title, Summary: summary, Severity: a.Severity, Category: a.Category, Labels: labels,
			DetectedAt: clampPast(a.StartedAt),
		})
		if errors.Is(err, ir.ErrConflict) && attempt < 5 {
			// Another instance opened it a moment ago: look again.
			continue
		}
		if err != nil {
			return AlertResult{}, err
		}
		return AlertResult{Key: a.Key, Outcome: "opened", Incident: inc.ID}, nil
	}
}

// clip cuts s to at most n bytes, at a character boundary, marking the
// cut with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	s = s[:n-len(ellipsis)]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + ellipsis
}

// clampPast returns t, or zero if t is in the future: a start time from a
// clock running ahead is not when the incident was detected.
func clampPast(t time.Time) time.Time {
	if t.After(time.Now()) {
		return time.Time{}
	}
	return t
}

// countLabel counts the incidents, open or closed, carrying label.
func (s *Service) countLabel(ctx context.Context, label string) (int, error) {
	n := 0
	q := ir.Query{Labels: []string{label}, Limit: ir.MaxPageSize}
	for {
		page, err := s.Responder.List(ctx, q)
		if err != nil {
			return 0, err
		}
		n += len(page.Incidents)
		if page.Next == "" {
			return n, nil
		}
		q.After = page.Next
	}
}

// alertIncidentID is the ID of the n-th incident of alert key, the alert
// having started at started: a UUID of version 8 whose first 48 bits are
// the start in Unix milliseconds, as a version 7 UUID's are, so that it
// sorts among the Responder's other IDs by time, and whose other bits are
// a hash of the key and n.
func alertIncidentID(key string, n int, started time.Time) ir.ID {
	h := sha256.Sum256(fmt.Appendf(nil, "incidentkit-alert\x00%s\x00%d", key, n))
	var u [16]byte
	ms := uint64(started.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	copy(u[6:], h[:10])
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	x := hex.EncodeToString(u[:])
	return ir.ID(x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:])
}

// alertText is an alert in words, for a note.
func alertText(a Alert) string {
	t := a.Title
	if a.Summary != "" {
		t += ": " + a.Summary
	}
	if a.Source != "" {
		t += " (from " + a.Source + ")"
	}
	return clip(t, ir.MaxBodyText-64)
}

// labelText writes labels sorted by name.
func labelText(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + labels[k])
	}
	return b.String()
}

// keyLocks makes the alerts of one key take turns.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	ch    chan struct{} // holds a token while the key is locked
	users int
}

// lock waits for key's turn, or for ctx to end, and returns the function
// that ends it.
func (k *keyLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		l.users--
		if l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

package main

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// The console's pages, rendered on the server; they work without
// JavaScript.
//
//go:embed console/*.html
var consoleFiles embed.FS

var consoleTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
}).ParseFS(consoleFiles, "console/*.html"))

// sessionCookie names the console's session cookie.
const sessionCookie = "incidentkit_console"

// sessionTTL is how long a console session lasts.
const sessionTTL = 12 * time.Hour

// sessions are the console's signed-in browsers: a random ID in an
// HttpOnly cookie, mapped to the principal whose token signed in. The
// token itself is never stored or sent back.
type sessions struct {
	mu   sync.Mutex
	byID map[string]session
}

type session struct {
	principal
	expires time.Time
}

func (s *sessions) add(p principal) string {
	id := rand.Text() + rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]session{}
	}
	now := time.Now()
	for k, v := range s.byID {
		if now.After(v.expires) {
			delete(s.byID, k)
		}
	}
	s.byID[id] = session{principal: p, expires: now.Add(sessionTTL)}
	return id
}

func (s *sessions) get(id string) (principal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.byID[id]
	if !ok || time.Now().After(v.expires) {
		return principal{}, false
	}
	return v.principal, true
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// consoleHandler serves the console under /console/. Forms are protected
// from cross-site requests by http.CrossOriginProtection.
func (s *Service) consoleHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/sign-in", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "signin.html", map[string]any{"Error": r.URL.Query().Get("error")})
	})
	mux.HandleFunc("POST /console/sign-in", s.consoleSignIn)
	mux.HandleFunc("POST /console/sign-out", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil {
			s.sessions.remove(c.Value)
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/console/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
	})
	page := func(pattern string, h func(w http.ResponseWriter, r *http.Request, p principal) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie(sessionCookie)
			var p principal
			ok := false
			if err == nil {
				p, ok = s.sessions.get(c.Value)
			}
			if !ok {
				http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), s.RequestTimeout)
			defer cancel()
			if err := h(w, r.WithContext(ctx), p); err != nil {
				s.consoleError(w, r, p, err)
			}
		})
	}
	page("GET /console/{$}", s.consoleIndex)
	page("POST /console/incidents", s.consoleOpen)
	page("GET /console/incidents/{id}", s.consoleIncident)
	page("POST /console/incidents/{id}/act", s.consoleAct)
	page("POST /console/incidents/{id}/notes", s.consoleNote)
	page("POST /console/incidents/{id}/status-updates", s.consoleStatus)
	page("GET /console/incidents/{id}/review", func(w http.ResponseWriter, r *http.Request, p principal) error {
		q := r.URL.Query()
		q.Set("format", "html")
		r.URL.RawQuery = q.Encode()
		return s.reviewDocument(w, r, p)
	})
	return http.NewCrossOriginProtection().Handler(mux)
}

// render writes a console page.
func (s *Service) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := consoleTemplates.ExecuteTemplate(w, name, data); err != nil {
		s.logger.ErrorContext(r.Context(), "console page not rendered", "page", name, "err", err)
	}
}

// consoleError shows a failed page as a page, with the problem's words.
func (s *Service) consoleError(w http.ResponseWriter, r *http.Request, p principal, err error) {
	prob := problemOf(err)
	if prob.Status >= 500 {
		s.logger.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
	}
	s.render(w, r, prob.Status, "error.html", map[string]any{"Principal": p, "Problem": prob})
}

func (s *Service) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	token := r.PostFormValue("token")
	req := r.Clone(r.Context())
	req.Header.Set("Authorization", "Bearer "+token)
	p, err := s.Auth.authenticate(req)
	if token == "" || err != nil {
		http.Redirect(w, r, "/console/sign-in?error="+url.QueryEscape("That token is not valid."), http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.sessions.add(p), Path: "/console/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// severityRank orders severities, most severe first.
func severityRank(s ir.Severity) int {
	return -slices.Index(ir.Severities(), s)
}

func (s *Service) consoleIndex(w http.ResponseWriter, r *http.Request, p principal) error {
	var open []*ir.Incident
	q := ir.Query{Status: ir.StatusOpen, Limit: ir.MaxPageSize}
	for {
		page, err := s.Responder.List(r.Context(), q)
		if err != nil {
			return err
		}
		open = append(open, page.Incidents...)
		if page.Next == "" || len(open) >= 5000 {
			break
		}
		q.After = page.Next
	}
	model := s.Responder.Model()
	order := map[phases.Phase]int{}
	for i, ph := range model.Phases() {
		order[ph.Name] = i
	}
	slices.SortStableFunc(open, func(a, b *ir.Incident) int {
		if d := severityRank(a.Severity) - severityRank(b.Severity); d != 0 {
			return d
		}
		return order[a.Phase] - order[b.Phase]
	})
	type row struct {
		*ir.Incident
		PhaseTitle string
	}
	rows := make([]row, 0, len(open))
	for _, inc := range open {
		rows = append(rows, row{Incident: inc, PhaseTitle: model.PhaseTitle(inc.Phase)})
	}
	s.render(w, r, http.StatusOK, "index.html", map[string]any{
		"Principal": p, "Incidents": rows, "Severities": ir.Severities(), "Message": r.URL.Query().Get("msg"),
	})
	return nil
}

func (s *Service) consoleOpen(w http.ResponseWriter, r *http.Request, p principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody)
	inc, err := s.Responder.Open(r.Context(), p.actor, ir.NewIncident{
		Title: r.PostFormValue("title"), Summary: r.PostFormValue("summary"), Severity: ir.Severity(r.PostFormValue("severity")),
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/incidents/"+url.PathEscape(string(inc.ID)), http.StatusSeeOther)
	return nil
}

// consoleCustody is an evidence item with its custody status.
type consoleCustody struct {
	ir.EvidenceRef
	Status string
}

func (s *Service) consoleIncident(w http.ResponseWriter, r *http.Request, p principal) error {
	id := incidentID(r)
	snap, err := s.Responder.Snapshot(r.Context(), id, 100)
	if err != nil {
		return err
	}
	perms, err := s.Responder.Allowed(r.Context(), p.actor, id)
	if err != nil {
		return err
	}
	model := s.Responder.Model()
	type event struct {
		ir.Event
		Text string
	}
	events := make([]event, 0, len(snap.Events))
	for _, e := range snap.Events {
		events = append(events, event{Event: e, Text: ir.Describe(model, e)})
	}
	var items []consoleCustody
	if len(snap.Incident.Evidence) > 0 && s.Locker != nil {
		// The custody log is verified; the content is re-read by the
		// verification endpoint and the review document on request.
		rep, verr := s.Locker.Ledger().Verify(r.Context(), id.Case())
		status := "custody log verified"
		switch {
		case verr != nil:
			status = "not verified: " + verr.Error()
		case !rep.OK():
			status = "TAMPERING DETECTED: " + rep.Err().Error()
		}
		for _, ref := range snap.Incident.Evidence {
			items = append(items, consoleCustody{EvidenceRef: ref, Status: status})
		}
	}
	var deliveries []notify.Delivery
	if s.Deliveries != nil {
		if deliveries, err = s.Deliveries.IncidentDeliveries(r.Context(), string(id)); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "incident.html", map[string]any{
		"Principal": p, "Incident": snap.Incident, "PhaseTitle": model.PhaseTitle(snap.Incident.Phase),
		"Actions": actionsOf(perms.Actions), "CanNote": perms.Check(ir.OpAddNote, "") == nil,
		"CanStatus": perms.Check(ir.OpPostStatus, "") == nil, "Events": events, "Evidence": items,
		"Deliveries": deliveries, "Message": r.URL.Query().Get("msg"), "Error": r.URL.Query().Get("error"),
	})
	return nil
}

// afterChange sends the browser back to the incident's page, saying what
// happened: the change's refusal, in words, if it failed for a reason the
// actor can act on.
func (s *Service) afterChange(w http.ResponseWriter, r *http.Request, done string, err error) error {
	page := "/console/incidents/" + url.PathEscape(string(incidentID(r)))
	if err != nil {
		prob := problemOf(err)
		if prob.Status >= 500 || prob.Status == http.StatusNotFound {
			return err
		}
		msg := prob.Title + ": " + err.Error()
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			msg = prob.Title
		}
		http.Redirect(w, r, page+"?error="+url.QueryEscape(msg), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, page+"?msg="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}

func (s *Service) consoleAct(w http.ResponseWriter, r *http.Request, p principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody)
	action := phases.Action(r.PostFormValue("action"))
	_, err := s.Responder.Transition(r.Context(), p.actor, incidentID(r), action, r.PostFormValue("reason"))
	return s.afterChange(w, r, "Done: "+string(action)+".", err)
}

func (s *Service) consoleNote(w http.ResponseWriter, r *http.Request, p principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody)
	_, err := s.Responder.AddNote(r.Context(), p.actor, incidentID(r), r.PostFormValue("text"))
	return s.afterChange(w, r, "Note added.", err)
}

func (s *Service) consoleStatus(w http.ResponseWriter, r *http.Request, p principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody)
	_, err := s.Responder.PostStatus(r.Context(), p.actor, incidentID(r), notify.Audience(r.PostFormValue("audience")), r.PostFormValue("text"))
	return s.afterChange(w, r, "Status update posted.", err)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Problem is an RFC 9457 problem details object, with a stable Code that
// clients branch on and, for bad input and refusals, what exactly was wrong.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Code is one of the codes below; it never changes for a kind of
	// problem, whatever the wording of Detail.
	Code string `json:"code"`
	// Errors lists each bad field of an input, for code invalid_input.
	Errors []FieldError `json:"errors,omitempty"`
	// Refusals lists each guard that refused a phase action, for code
	// refused.
	Refusals []GuardRefusal `json:"refusals,omitempty"`
}

// FieldError is one bad field of an input.
type FieldError struct {
	Field  string `json:"field"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

// GuardRefusal is one guard's refusal of a phase action.
type GuardRefusal struct {
	Guard  string `json:"guard"`
	Reason string `json:"reason"`
}

// The stable problem codes.
const (
	CodeMalformed        = "malformed_request"
	CodeInvalid          = "invalid_input"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeRefused          = "refused"
	CodeConflict         = "conflict"
	CodeTooLarge         = "payload_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeUnavailable      = "not_configured"
	CodeInternal         = "internal_error"
)

// problemTitles are the titles of the codes: the same for every
// occurrence, as RFC 9457 asks.
var problemTitles = map[string]string{
	CodeMalformed:        "The request is malformed",
	CodeInvalid:          "The input is invalid",
	CodeUnauthenticated:  "A valid bearer token is required",
	CodeForbidden:        "The actor may not do this",
	CodeNotFound:         "Not found",
	CodeMethodNotAllowed: "The method is not allowed on this resource",
	CodeRefused:          "The incident's state does not allow this",
	CodeConflict:         "The incident changed meanwhile; read it again and retry",
	CodeTooLarge:         "The request body is too large",
	CodeUnsupportedMedia: "The request body's media type is not accepted",
	CodeUnavailable:      "The service is not configured for this",
	CodeInternal:         "Internal error",
}

// problemType is the type URI of a problem code.
func problemType(code string) string { return "urn:incidentkit:problem:" + code }

// newProblem makes the problem of code with its status.
func newProblem(status int, code, detail string) *Problem {
	return &Problem{Type: problemType(code), Title: problemTitles[code], Status: status, Code: code, Detail: detail}
}

// problemOf maps an error from the library to the problem it is for the
// client, from the sentinels every error matches.
func problemOf(err error) *Problem {
	var p *Problem
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &tooLarge):
		return newProblem(http.StatusRequestEntityTooLarge, CodeTooLarge, err.Error())
	case errors.Is(err, ir.ErrUnauthorized), errors.Is(err, evidence.ErrDenied):
		return newProblem(http.StatusForbidden, CodeForbidden, err.Error())
	case errors.Is(err, ir.ErrNotFound), errors.Is(err, evidence.ErrNotFound), errors.Is(err, notify.ErrNotFound):
		return newProblem(http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, ir.ErrRefused):
		p := newProblem(http.StatusConflict, CodeRefused, err.Error())
		var guard *phases.GuardError
		if errors.As(err, &guard) {
			for _, r := range guard.Refusals {
				p.Refusals = append(p.Refusals, GuardRefusal{Guard: r.Guard, Reason: r.Reason.Error()})
			}
		}
		return p
	case errors.Is(err, ir.ErrInvalid), errors.Is(err, evidence.ErrInvalid), errors.Is(err, notify.ErrInvalid):
		p := newProblem(http.StatusUnprocessableEntity, CodeInvalid, err.Error())
		var many *ir.InputError
		var one *ir.InvalidError
		switch {
		case errors.As(err, &many):
			for _, e := range many.Problems {
				p.Errors = append(p.Errors, FieldError{Field: e.Field, Value: e.Value, Reason: e.Reason})
			}
		case errors.As(err, &one):
			p.Errors = []FieldError{{Field: one.Field, Value: one.Value, Reason: one.Reason}}
		}
		return p
	case errors.Is(err, ir.ErrConflict), errors.Is(err, evidence.ErrConflict), errors.Is(err, notify.ErrConflict):
		return newProblem(http.StatusConflict, CodeConflict, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return newProblem(http.StatusServiceUnavailable, CodeInternal, "the request took too long")
	}
	return newProblem(http.StatusInternalServerError, CodeInternal, "")
}

// writeProblem writes err as a problem details response. Internal errors
// are logged, never shown: their text may say more than a client should
// know.
func (s *Service) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := *problemOf(err)
	p.Instance = r.URL.Path
	if p.Status >= 500 {
		s.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	b, merr := json.Marshal(p)
	if merr != nil {
		s.logger.ErrorContext(r.Context(), "problem not encoded", "err", merr)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="incidentkit"`)
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}

// Error makes a Problem an error, so handlers return it like any other.
func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Code + ": " + p.Detail
	}
	return p.Code
}

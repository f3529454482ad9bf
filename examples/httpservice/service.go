package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
)

// Config is what a Service serves.
type Config struct {
	// Responder runs the incidents; its policy should be Auth.Policy.
	Responder *ir.Responder
	// Auth authenticates the bearer tokens.
	Auth *Auth
	// Locker and Blobs hold the evidence; nil refuses evidence requests.
	Locker *evidence.Locker
	Blobs  evidence.BlobStore
	// Deliveries is the record of communication; nil refuses delivery
	// requests.
	Deliveries notify.Deliveries
	// Dispatcher replays dead deliveries; nil refuses replays.
	Dispatcher *notify.Dispatcher
	// Logger receives the service's logs; nil means slog.Default(). Tokens
	// are never logged.
	Logger *slog.Logger
	// MaxBody bounds a JSON request body; zero means 1 MiB.
	MaxBody int64
	// MaxEvidence bounds an evidence upload; zero means 16 GiB.
	MaxEvidence int64
	// RequestTimeout bounds the work of a request other than an evidence
	// upload or a bundle export; zero means 30 seconds.
	RequestTimeout time.Duration
	// TracerProvider and MeterProvider receive the HTTP spans and
	// metrics; nil means the global providers.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// TempDir is where bundles are written before they are sent; empty
	// means os.TempDir().
	TempDir string
}

// Service is the JSON API over a Responder.
type Service struct {
	Config
	logger   *slog.Logger
	alerts   keyLocks
	sessions sessions
}

// NewService returns the service of cfg.
func NewService(cfg Config) (*Service, error) {
	if cfg.Responder == nil || cfg.Auth == nil {
		return nil, errors.New("httpservice: a Responder and an Auth are required")
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxEvidence == 0 {
		cfg.MaxEvidence = 16 << 30
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	s := &Service{Config: cfg, logger: cfg.Logger}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	return s, nil
}

// handlerFunc is a handler that returns its error, written as a problem.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal) error

// Handler returns the service's HTTP handler, instrumented with
// OpenTelemetry.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{\"status\":\"ok\"}\n")
	})
	mux.Handle("/console/", s.consoleHandler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeProblem(w, r, newProblem(http.StatusNotFound, CodeNotFound, "no such endpoint: see /openapi.json"))
	})

	allowed := map[string][]string{}
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.authenticated(rt.long, rt.h))
		method, path, _ := strings.Cut(rt.pattern, " ")
		allowed[path] = append(allowed[path], method)
	}
	// Any other method on a path the API serves: 405, as a problem.
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		if slices.Contains(methods, "GET") {
			allow += ", HEAD"
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.writeProblem(w, r, newProblem(http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed here; use "+allow))
		})
	}

	var opts []otelhttp.Option
	if s.TracerProvider != nil {
		opts = append(opts, otelhttp.WithTracerProvider(s.TracerProvider))
	}
	if s.MeterProvider != nil {
		opts = append(opts, otelhttp.WithMeterProvider(s.MeterProvider))
	}
	return otelhttp.NewHandler(mux, "incidentkit-http", append(opts,
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if r.Pattern != "" {
				return r.Pattern // "POST /v1/incidents/{id}/notes": no IDs in span names
			}
			return r.Method
		}))...)
}

// routes are the API's authenticated endpoints: a ServeMux pattern, whether
// it may take long (no request timeout), and its handler.
func (s *Service) routes() []struct {
	pattern string
	long    bool
	h       handlerFunc
} {
	return []struct {
		pattern string
		long    bool
		h       handlerFunc
	}{
		{"GET /v1/incidents", false, s.listIncidents},
		{"POST /v1/incidents", false, s.openIncident},
		{"GET /v1/incidents/{id}", false, s.getIncident},
		{"GET /v1/incidents/{id}/timeline", false, s.timeline},
		{"GET /v1/incidents/{id}/actions", false, s.actions},
		{"GET /v1/incidents/{id}/permissions", false, s.permissions},
		{"POST /v1/incidents/{id}/transitions", false, s.transition},
		{"POST /v1/incidents/{id}/close", false, s.closeIncident},
		{"POST /v1/incidents/{id}/reopen", false, s.reopenIncident},
		{"POST /v1/incidents/{id}/severity", false, s.setSeverity},
		{"POST /v1/incidents/{id}/priority", false, s.setPriority},
		{"POST /v1/incidents/{id}/impact", false, s.setImpact},
		{"POST /v1/incidents/{id}/verdict", false, s.setVerdict},
		{"POST /v1/incidents/{id}/assignments", false, s.assign},
		{"POST /v1/incidents/{id}/unassignments", false, s.unassign},
		{"POST /v1/incidents/{id}/tasks", false, s.addTask},
		{"POST /v1/incidents/{id}/tasks/{task}/complete", false, s.completeTask},
		{"POST /v1/incidents/{id}/observables", false, s.addObservable},
		{"POST /v1/incidents/{id}/assets", false, s.addAsset},
		{"POST /v1/incidents/{id}/notes", false, s.addNote},
		{"POST /v1/incidents/{id}/decisions", false, s.decide},
		{"POST /v1/incidents/{id}/status-updates", false, s.postStatus},
		{"PUT /v1/incidents/{id}/review", false, s.recordReview},
		{"POST /v1/incidents/{id}/follow-ups", false, s.addFollowUp},
		{"POST /v1/incidents/{id}/follow-ups/{followup}/complete", false, s.completeFollowUp},
		{"GET /v1/incidents/{id}/review-document", true, s.reviewDocument},
		{"POST /v1/incidents/{id}/evidence", true, s.uploadEvidence},
		{"GET /v1/incidents/{id}/evidence", false, s.listEvidence},
		{"GET /v1/incidents/{id}/evidence/{item}/custody", false, s.custody},
		{"GET /v1/incidents/{id}/custody/verification", true, s.verifyCustody},
		{"GET /v1/incidents/{id}/bundle", true, s.exportBundle},
		{"GET /v1/incidents/{id}/deliveries", false, s.incidentDeliveries},
		{"POST /v1/deliveries/{delivery}/replay", false, s.replayDelivery},
		{"GET /v1/metrics", true, s.metrics},
		{"POST /v1/alerts", false, s.genericAlerts},
		{"POST /v1/alerts/alertmanager", false, s.alertmanager},
	}
}

// authenticated runs h for the request's principal, with the request's
// timeout unless long.
func (s *Service) authenticated(long bool, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Auth.authenticate(r)
		if err != nil {
			s.writeProblem(w, r, err)
			return
		}
		if !long {
			ctx, cancel := context.WithTimeout(r.Context(), s.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		if err := h(w, r, p); err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

// decode reads the request's JSON body into v: at most MaxBody bytes, one
// JSON value, no unknown fields.
func (s *Service) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return newProblem(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return newProblem(http.StatusBadRequest, CodeMalformed, "the request body is empty")
		}
		if errors.Is(err, ir.ErrInvalid) {
			// A value the library's types refuse as they are decoded,
			// such as an unknown severity: bad input, not bad JSON.
			return err
		}
		return newProblem(http.StatusBadRequest, CodeMalformed, "the body is not the JSON expected: "+err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return newProblem(http.StatusBadRequest, CodeMalformed, "the body holds more than one JSON value")
	}
	return nil
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

package notify

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	texttemplate "text/template"
	"unicode/utf8"
)

// Templates render messages as a channel shows them. A channel has a
// default template for every message and one per kind of message people
// follow, usually built on [DefaultTextTemplates] or
// [DefaultHTMLTemplates]; overrides replace any of them, by name:
// "default" ([TemplateDefault]), an event type such as "phase_changed",
// or [TemplateClosed] and [TemplateReopened] for the phase changes that
// close and reopen an incident.
//
// A message is rendered with the most specific template there is for
// it: for a phase change that closed (or reopened) the incident, the
// override then the channel's own template named "closed" ("reopened");
// then those named after its event type; then those named "default". A
// template that fails to render the message falls back to the next one
// in that order, and, when all fail, to the event's sentence; every
// failure is logged: a message is never dropped because a template is
// wrong.
//
// Templates see the [Message] as their data (.Incident.Title, .Event.Type,
// .Links, …) and these functions besides the standard ones: sentence (the
// event's sentence, [Event.Sentence]), data (the event's data as a map
// of its fields, such as (data .).text for a status update), words (a
// name with underscores as spaces), upper, lower, join (strings with a
// separator) and truncate (a string cut to at most n characters, with
// [TruncationMarker]).
//
// Templates are safe for concurrent use.
type Templates struct {
	kind      string // "text" or "html"
	defaults  map[string]executor
	overrides map[string]executor
	logger    *slog.Logger
}

// executor is a parsed text/template or html/template template.
type executor interface {
	Execute(w io.Writer, data any) error
}

// TemplateConfig configures [NewTextTemplates] and [NewHTMLTemplates].
type TemplateConfig struct {
	// Defaults are the channel's own templates by name; "default" is
	// required.
	Defaults map[string]string
	// Overrides replace defaults by name; they may also add templates for
	// event types the defaults have none for.
	Overrides map[string]string
	// Logger receives the failures of templates; nil means
	// slog.Default().
	Logger *slog.Logger
}

// TruncationMarker ends a text that was cut to fit a channel's limit.
const TruncationMarker = "… [truncated]"

// templateFuncs are the functions templates may call.
var templateFuncs = map[string]any{
	"sentence": func(m Message) string { return m.Event.Sentence() },
	"data":     eventData,
	"words":    func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"upper":    strings.ToUpper,
	"lower":    strings.ToLower,
	"join":     func(sep string, s []string) string { return strings.Join(s, sep) },
	"truncate": func(n int, s string) string { return TruncateRunes(s, n) },
}

// NewTextTemplates parses text/template templates, for plain-text bodies
// and the text of chat messages. It refuses, with an error matching
// [ErrInvalid] that lists every template that does not parse, defaults
// without "default" and templates that do not parse.
func NewTextTemplates(cfg TemplateConfig) (*Templates, error) {
	return newTemplates("text", cfg, func(name, text string) (executor, error) {
		return texttemplate.New(name).Funcs(texttemplate.FuncMap(templateFuncs)).Option("missingkey=error").Parse(text)
	})
}

// NewHTMLTemplates parses html/template templates, for HTML bodies: what
// they insert is escaped for where it goes. Its errors are those of
// [NewTextTemplates].
func NewHTMLTemplates(cfg TemplateConfig) (*Templates, error) {
	return newTemplates("html", cfg, func(name, text string) (executor, error) {
		return htmltemplate.New(name).Funcs(htmltemplate.FuncMap(templateFuncs)).Option("missingkey=error").Parse(text)
	})
}

func newTemplates(kind string, cfg TemplateConfig, parse func(name, text string) (executor, error)) (*Templates, error) {
	t := &Templates{kind: kind, defaults: map[string]executor{}, overrides: map[string]executor{}, logger: cfg.Logger}
	var problems []error
	if _, ok := cfg.Defaults["default"]; !ok {
		problems = append(problems, invalid("templates", "", `the defaults need one named "default"`))
	}
	for _, set := range []struct {
		what string
		in   map[string]string
		out  map[string]executor
	}{{"default template", cfg.Defaults, t.defaults}, {"template override", cfg.Overrides, t.overrides}} {
		for name, text := range set.in {
			if name != TemplateDefault && !isName(name) {
				problems = append(problems, invalid(set.what, name, `must be named "default", "closed", "reopened" or after an event type, such as phase_changed`))
				continue
			}
			e, err := parse(name, text)
			if err != nil {
				problems = append(problems, invalid(set.what, name, "does not parse: "+err.Error()))
				continue
			}
			set.out[name] = e
		}
	}
	if len(problems) > 0 {
		return nil, &InputError{Problems: problems}
	}
	return t, nil
}

// Render renders m with the most specific template there is for it. It
// always returns text: when templates fail, it falls back as [Templates]
// says and logs each failure.
func (t *Templates) Render(ctx context.Context, m Message) string {
	type candidate struct {
		e    executor
		name string
		own  bool
	}
	var tries []candidate
	for _, name := range templateNames(m) {
		if e, ok := t.overrides[name]; ok {
			tries = append(tries, candidate{e, name, false})
		}
		if e, ok := t.defaults[name]; ok {
			tries = append(tries, candidate{e, name, true})
		}
	}
	for _, c := range tries {
		var buf bytes.Buffer
		err := c.e.Execute(&buf, m)
		if err == nil {
			return buf.String()
		}
		which := "override"
		if c.own {
			which = "default"
		}
		t.log().LogAttrs(ctx, slog.LevelError, "notify: template failed; falling back",
			slog.String("template", c.name), slog.String("template.kind", t.kind), slog.String("template.set", which),
			slog.String("message.key", m.Key), slog.String("error", err.Error()))
	}
	s := m.Event.Sentence()
	if t.kind == "html" {
		return htmltemplate.HTMLEscapeString(s)
	}
	return s
}

func (t *Templates) log() *slog.Logger {
	if t.logger != nil {
		return t.logger
	}
	return slog.Default()
}

// TruncateRunes cuts s to at most n characters (runes), ending it with
// [TruncationMarker] when it cut anything, for limits counted in
// characters. An n too small for the marker gives the first n characters.
func TruncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	marker := utf8.RuneCountInString(TruncationMarker)
	keep, suffix := n-marker, TruncationMarker
	if keep <= 0 {
		keep, suffix = n, ""
	}
	i := 0
	for pos := range s {
		if i == keep {
			return s[:pos] + suffix
		}
		i++
	}
	return s
}

// TruncateBytes cuts s to at most n bytes, on a character boundary, ending
// it with [TruncationMarker] when it cut anything, for limits counted in
// bytes. An n too small for the marker gives the first characters that
// fit.
func TruncateBytes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	keep, suffix := n-len(TruncationMarker), TruncationMarker
	if keep <= 0 {
		keep, suffix = n, ""
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + suffix
}

// String returns the kind of templates and their names, for logs.
func (t *Templates) String() string {
	names := func(m map[string]executor) []string { return slices.Sorted(maps.Keys(m)) }
	return fmt.Sprintf("%s templates %v, overrides %v", t.kind, names(t.defaults), names(t.overrides))
}

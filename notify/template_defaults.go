package notify

import (
	"encoding/json"
	"strings"
)

// Template names besides the event types: a phase change that closes or
// reopens an incident is news of its own, so it has a template of its own
// before the one of "phase_changed".
const (
	// TemplateDefault names the template of every message that has none
	// of its own.
	TemplateDefault = "default"
	// TemplateClosed names the template of a phase change that left the
	// incident closed.
	TemplateClosed = "closed"
	// TemplateReopened names the template of a phase change that reopened
	// a closed incident: by the action "reopen" or out of the phase
	// "closed", as the built-in phase models name them.
	TemplateReopened = "reopened"
)

// eventTemplate is the default template of one kind of message: a
// headline saying what the news is, then the body. Neither names the
// incident, which every channel shows beside them (a header, a subject, a
// title).
type eventTemplate struct {
	headline, body string
}

// sentenceBody is the body of most default templates: who did what, in the
// words the incident package gives every event, and why.
const sentenceBody = `{{sentence .}}`

// eventTemplates are the default templates, written once for every
// channel: [DefaultTextTemplates] and [DefaultHTMLTemplates] lay them out
// as plain text and as HTML. A template without a headline is its body
// alone.
var eventTemplates = map[string]eventTemplate{
	TemplateDefault:         {"", sentenceBody},
	"opened":                {`New incident, {{.Incident.Severity}} severity`, sentenceBody},
	"phase_changed":         {`Phase: {{words .Incident.Phase}}`, sentenceBody},
	TemplateClosed:          {`Closed`, sentenceBody},
	TemplateReopened:        {`Reopened, in {{words .Incident.Phase}}`, sentenceBody},
	"severity_changed":      {`Severity: {{.Incident.Severity}}`, sentenceBody},
	"priority_changed":      {`Priority: {{.Incident.Priority}}`, sentenceBody},
	"role_assigned":         {`Role assigned: {{words (data .).role}}`, sentenceBody},
	"role_unassigned":       {`Role unassigned: {{words (data .).role}}`, sentenceBody},
	"note_added":            {`Note`, sentenceBody},
	"decision_recorded":     {`Decision`, sentenceBody},
	"verdict_set":           {`Verdict: {{words (data .).verdict}}`, sentenceBody},
	"evidence_collected":    {`Evidence collected`, sentenceBody},
	"task_completed":        {`Task done`, sentenceBody},
	"status_update":         {`Status update for {{words (data .).audience}}`, "{{(data .).text}}\nPosted by {{.Event.Actor}}"},
	EventNotificationFailed: {`Notification failed on channel {{(data .).channel}}`, sentenceBody},
}

// exerciseMark begins the headline of every default template, and the
// body of those without one, when the message is about an exercise.
const exerciseMark = `{{if .Incident.Exercise}}` + ExerciseMarker + ` {{end}}`

// withMark returns t with the exercise mark before its headline, or
// before its body if it has none.
func (t eventTemplate) withMark() eventTemplate {
	if t.headline == "" {
		t.body = exerciseMark + t.body
		return t
	}
	t.headline = exerciseMark + t.headline
	return t
}

// DefaultTextTemplates returns the default plain-text templates, for chat
// messages and plain-text bodies: one for every kind of message people
// follow (opened, phase_changed, severity_changed, priority_changed,
// role_assigned, role_unassigned, note_added, decision_recorded,
// verdict_set, evidence_collected, task_completed, status_update and
// [EventNotificationFailed], and [TemplateClosed] and [TemplateReopened]),
// each a headline on a line of its own and the event's sentence (a status
// update's own text and its author), and [TemplateDefault], the event's
// sentence, for the others. A message about an exercise has
// [ExerciseMarker] before its headline (before the sentence, for those
// without one). They do not name the incident, which every
// channel shows beside them. Channels build their templates on
// them; a channel's overrides replace them by name. Each call returns a
// new map the caller may change.
func DefaultTextTemplates() map[string]string {
	out := make(map[string]string, len(eventTemplates))
	for name, t := range eventTemplates {
		t = t.withMark()
		out[name] = t.body
		if t.headline != "" {
			out[name] = t.headline + "\n" + t.body
		}
	}
	return out
}

// DefaultHTMLTemplates returns the default html/template templates, for
// HTML bodies: the templates of [DefaultTextTemplates], with the headline
// as a heading and each line of the body as a paragraph. Each call returns
// a new map the caller may change.
func DefaultHTMLTemplates() map[string]string {
	out := make(map[string]string, len(eventTemplates))
	for name, t := range eventTemplates {
		t = t.withMark()
		out[name] = "<p>" + htmlLines(t.body) + "</p>"
		if t.headline != "" {
			out[name] = "<p><strong>" + t.headline + "</strong></p>\n" + out[name]
		}
	}
	return out
}

// DefaultLineTemplates returns the templates of [DefaultTextTemplates] on
// one line, the headline and the body's lines separated by " — " and " ",
// for one-line summaries such as a pager's. Each call returns a new map
// the caller may change.
func DefaultLineTemplates() map[string]string {
	out := make(map[string]string, len(eventTemplates))
	for name, t := range eventTemplates {
		t = t.withMark()
		out[name] = strings.ReplaceAll(t.body, "\n", " ")
		if t.headline != "" {
			out[name] = t.headline + " — " + out[name]
		}
	}
	return out
}

// htmlLines turns the lines of a template into paragraphs.
func htmlLines(s string) string {
	out := make([]byte, 0, len(s))
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, "</p>\n<p>"...)
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

// templateNames returns the names of the templates that may render m,
// most specific first: [TemplateClosed] or [TemplateReopened] for a phase
// change that closed or reopened the incident, the event type, and
// [TemplateDefault].
func templateNames(m Message) []string {
	names := make([]string, 0, 3)
	if m.Event.Type == "phase_changed" {
		var change struct{ Action, From string }
		_ = json.Unmarshal(m.Event.Data, &change)
		switch {
		case !m.Incident.Open:
			names = append(names, TemplateClosed)
		case change.Action == "reopen" || change.From == "closed":
			names = append(names, TemplateReopened)
		}
	}
	if m.Event.Type != "" && m.Event.Type != TemplateDefault {
		names = append(names, m.Event.Type)
	}
	return append(names, TemplateDefault)
}

// eventData decodes a message's event data for templates: a map of its
// fields, empty if it has none.
func eventData(m Message) (map[string]any, error) {
	data := map[string]any{}
	if len(m.Event.Data) == 0 {
		return data, nil
	}
	if err := json.Unmarshal(m.Event.Data, &data); err != nil {
		return nil, err
	}
	return data, nil
}

package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Routing says which channels each message goes to: the channels, each
// with the most restricted TLP label it may receive, and the routes that
// pick channels for messages. Build a [Router] from it with [NewRouter];
// load it from JSON with [LoadRouting].
type Routing struct {
	Channels []ChannelRule `json:"channels"`
	Routes   []Route       `json:"routes"`
}

// ChannelRule is what routing knows of a channel.
type ChannelRule struct {
	// Name names the channel; routes refer to it.
	Name string `json:"name"`
	// MaxTLP is the most restricted TLP label of the messages the channel
	// may receive; empty means [TLPAmber]. A message about an incident
	// marked more restricted is held back from the channel, whatever the
	// routes say.
	MaxTLP TLP `json:"max_tlp,omitempty"`
}

// Route matches messages and names the channels to deliver them to. A
// route matches a message when every matcher it sets matches; a route
// without matchers matches every message. Routes are tried in order and
// the first that matches wins, unless it says Continue, in which case the
// routes after it are tried too (as Alertmanager's routes are).
type Route struct {
	// Name names the route in errors and in the record of what was held
	// back; empty means "route N", N counting from 1.
	Name string `json:"name,omitempty"`
	// Events are the event types matched, such as "phase_changed".
	Events []string `json:"events,omitempty"`
	// MinSeverity is the least severity matched: "low", "medium",
	// "high" or "critical".
	MinSeverity string `json:"min_severity,omitempty"`
	// Phases are the incident phases matched, such as "containment".
	Phases []string `json:"phases,omitempty"`
	// Categories are the incident categories matched, such as "phishing".
	Categories []string `json:"categories,omitempty"`
	// Labels are labels the incident must all carry.
	Labels []string `json:"labels,omitempty"`
	// Audiences are the message audiences matched; a message without an
	// audience matches only routes that set none. A route that sets none
	// matches messages for any audience: put the routes of one audience
	// first, without Continue, to keep its messages to its channels.
	Audiences []Audience `json:"audiences,omitempty"`
	// Channels names the channels to deliver matched messages to.
	Channels []string `json:"channels"`
	// Continue, if set, goes on to the routes after this one when it
	// matches.
	Continue bool `json:"continue,omitempty"`
	// Exercises, if set, lets the route send messages about exercises
	// ([Incident].Exercise) as well as about real incidents. A route
	// that does not set it sends no message about an exercise, whatever
	// else it matches: the channels it names are held back from the
	// message (see [Held].Exercise) and the routes after it are tried,
	// as if it did not match.
	Exercises bool `json:"exercises,omitempty"`
}

// Router picks the channels of each message. It is safe for concurrent
// use.
type Router struct {
	maxTLP map[string]TLP
	routes []Route
}

// NewRouter checks r and returns its [Router]. It refuses, with an error
// matching [ErrInvalid] that lists every problem at once (an
// [*InputError]), channels without a name or named twice, unknown TLP
// labels, routes that name no channel or a channel that does not exist,
// matchers that cannot match (an unknown severity, an empty or repeated
// value, an audience or event type that is not a name), and routes that
// can never be reached because a route before them, that does not
// continue, matches everything they do.
func NewRouter(r Routing) (*Router, error) {
	var problems []error
	add := func(field, value, reason string) { problems = append(problems, invalid(field, value, reason)) }
	rt := &Router{maxTLP: make(map[string]TLP, len(r.Channels))}
	for i, c := range r.Channels {
		field := fmt.Sprintf("channel %d", i+1)
		switch _, dup := rt.maxTLP[c.Name]; {
		case strings.TrimSpace(c.Name) == "":
			add(field, "", "needs a name")
			continue
		case dup:
			add(field, c.Name, "is named twice")
			continue
		}
		clearance := TLPAmber
		if c.MaxTLP != "" {
			t, err := ParseTLP(string(c.MaxTLP))
			if err != nil {
				add("channel "+c.Name+" max_tlp", string(c.MaxTLP), "is not a TLP label; want one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED")
				continue
			}
			clearance = t
		}
		rt.maxTLP[c.Name] = clearance
	}
	for i, route := range r.Routes {
		if route.Name == "" {
			route.Name = fmt.Sprintf("route %d", i+1)
		}
		problems = append(problems, checkRoute(route, r.Channels)...)
		if route.MinSeverity != "" {
			route.MinSeverity = strings.ToLower(strings.TrimSpace(route.MinSeverity))
		}
		for _, before := range rt.routes {
			if !before.Continue && covers(before, route) {
				add(fmt.Sprintf("route %q", route.Name), "", fmt.Sprintf(
					"is never reached: route %q before it matches every message it does and does not continue", before.Name))
				break
			}
		}
		rt.routes = append(rt.routes, route)
	}
	if len(problems) > 0 {
		return nil, &InputError{Problems: problems}
	}
	return rt, nil
}

// checkRoute lists the problems of one route.
func checkRoute(r Route, channels []ChannelRule) []error {
	var problems []error
	add := func(field, value, reason string) {
		problems = append(problems, invalid(fmt.Sprintf("route %q %s", r.Name, field), value, reason))
	}
	if len(r.Channels) == 0 {
		add("channels", "", "names no channel")
	}
	for _, c := range r.Channels {
		if !slices.ContainsFunc(channels, func(rule ChannelRule) bool { return rule.Name == c }) {
			add("channels", c, "is not a channel")
		}
	}
	if r.MinSeverity != "" && severityRank(r.MinSeverity) == 0 {
		add("min_severity", r.MinSeverity, "is not a severity; want low, medium, high or critical")
	}
	names := func(field string, values []string) {
		seen := make(map[string]bool, len(values))
		for _, v := range values {
			switch {
			case strings.TrimSpace(v) == "":
				add(field, "", "holds an empty value")
			case seen[v]:
				add(field, v, "is listed twice")
			}
			seen[v] = true
		}
	}
	names("channels", r.Channels)
	names("events", r.Events)
	names("phases", r.Phases)
	names("categories", r.Categories)
	names("labels", r.Labels)
	audiences := make([]string, len(r.Audiences))
	for i, a := range r.Audiences {
		audiences[i] = string(a)
	}
	names("audiences", audiences)
	for _, v := range append(append([]string(nil), r.Events...), audiences...) {
		if v != "" && !isName(v) {
			add("matcher", v, "is not a name of lower-case letters, digits and underscores")
		}
	}
	return problems
}

// isName reports whether s holds only lower-case letters, digits and
// underscores.
func isName(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return s != ""
}

// covers reports whether every message b matches, a matches too.
func covers(a, b Route) bool {
	within := func(outer, inner []string) bool {
		if len(outer) == 0 {
			return true
		}
		if len(inner) == 0 {
			return false
		}
		for _, v := range inner {
			if !slices.Contains(outer, v) {
				return false
			}
		}
		return true
	}
	audiences := func(r Route) []string {
		out := make([]string, len(r.Audiences))
		for i, a := range r.Audiences {
			out[i] = string(a)
		}
		return out
	}
	for _, l := range a.Labels {
		if !slices.Contains(b.Labels, l) {
			return false
		}
	}
	if b.Exercises && !a.Exercises {
		// a lets the messages about exercises through to b.
		return false
	}
	return within(a.Events, b.Events) && within(a.Phases, b.Phases) && within(a.Categories, b.Categories) &&
		within(audiences(a), audiences(b)) && severityRank(a.MinSeverity) <= severityRank(b.MinSeverity)
}

// matches reports whether r matches m.
func (r Route) matches(m Message) bool {
	in := func(values []string, v string) bool { return len(values) == 0 || slices.Contains(values, v) }
	if !in(r.Events, m.Event.Type) || !in(r.Phases, m.Incident.Phase) || !in(r.Categories, m.Incident.Category) {
		return false
	}
	if len(r.Audiences) > 0 && !slices.Contains(r.Audiences, m.Audience) {
		return false
	}
	if r.MinSeverity != "" && severityRank(m.Incident.Severity) < severityRank(r.MinSeverity) {
		return false
	}
	for _, l := range r.Labels {
		if !slices.Contains(m.Incident.Labels, l) {
			return false
		}
	}
	return true
}

// Target is a channel a message is to be delivered to, and the route that
// chose it.
type Target struct {
	Channel string
	Route   string
}

// Held is a delivery the routes asked for and that may not be made: the
// channel's TLP clearance refused it, or the message is about an exercise
// and the route does not accept exercises.
type Held struct {
	Target
	// TLP is the message's label; MaxTLP the channel's.
	TLP, MaxTLP TLP
	// Exercise is set when the delivery is held back because the
	// message is about an exercise and the route does not accept
	// exercises ([Route].Exercises); unset, the TLP clearance held it.
	Exercise bool
}

// Reason says in words why the delivery is held back.
func (h Held) Reason() string {
	if h.Exercise {
		return fmt.Sprintf("route %q does not take exercises", h.Route)
	}
	return fmt.Sprintf("the message is %s, above the channel's %s", h.TLP, h.MaxTLP)
}

// Decision is where a message goes.
type Decision struct {
	// Deliver are the channels to deliver to, each once, in the order
	// the routes named them.
	Deliver []Target
	// Held are the channels the routes named that may not receive the
	// message: the incident's TLP label is more restricted than the
	// channel's MaxTLP, or the message is about an exercise and the route
	// that named the channel does not accept exercises (and no route that
	// does names it). They are to be recorded, never delivered to.
	Held []Held
}

// Route decides where m goes: the channels of the routes that match it,
// less those its incident's TLP label keeps it from (an unknown or
// missing label counts as TLP:RED). A message about an exercise goes only
// through routes that accept exercises; the others hold their channels
// back from it and let the routes after them be tried.
func (r *Router) Route(m Message) Decision {
	var d Decision
	seen := make(map[string]bool)
	tlp := TLP(m.Incident.TLP)
	if p, err := ParseTLP(m.Incident.TLP); err == nil {
		tlp = p
	}
	// drilled are the channels held back from an exercise, until a route
	// that accepts exercises names them.
	var drilled []Held
	for _, route := range r.routes {
		if !route.matches(m) {
			continue
		}
		if m.Incident.Exercise && !route.Exercises {
			for _, c := range route.Channels {
				if !seen[c] && !slices.ContainsFunc(drilled, func(h Held) bool { return h.Channel == c }) {
					drilled = append(drilled, Held{Target: Target{Channel: c, Route: route.Name}, TLP: tlp,
						MaxTLP: r.maxTLP[c], Exercise: true})
				}
			}
			continue
		}
		for _, c := range route.Channels {
			if seen[c] {
				continue
			}
			seen[c] = true
			t := Target{Channel: c, Route: route.Name}
			if clearance := r.maxTLP[c]; tlp.rank() > clearance.rank() {
				d.Held = append(d.Held, Held{Target: t, TLP: tlp, MaxTLP: clearance})
				continue
			}
			d.Deliver = append(d.Deliver, t)
		}
		if !route.Continue {
			break
		}
	}
	for _, h := range drilled {
		if !seen[h.Channel] {
			d.Held = append(d.Held, h)
		}
	}
	return d
}

// LoadRouting reads a [Routing] from JSON, refusing unknown fields and
// trailing data with an error matching [ErrInvalid]. Check what it read
// with [NewRouter].
func LoadRouting(r io.Reader) (Routing, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var routing Routing
	if err := dec.Decode(&routing); err != nil {
		return Routing{}, &InvalidError{Field: "routing", Reason: "cannot be read as JSON: " + err.Error()}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Routing{}, invalid("routing", "", "holds more than one JSON value")
	}
	return routing, nil
}

// InputError lists every problem found in one input, so that they can be
// fixed at once. It matches [ErrInvalid]; each problem is an
// [*InvalidError].
type InputError struct {
	Problems []error
}

func (e *InputError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = strings.TrimPrefix(p.Error(), "notify: ")
	}
	if len(msgs) == 1 {
		return "notify: " + msgs[0]
	}
	return fmt.Sprintf("notify: %d problems: %s", len(e.Problems), strings.Join(msgs, "; "))
}

// Is reports whether target is [ErrInvalid].
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the problems.
func (e *InputError) Unwrap() []error { return e.Problems }

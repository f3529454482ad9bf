package ir

import (
	"fmt"
	"strings"
)

// Actor is whoever makes a change: a person or a program. Every change
// records its actor.
//
// An actor is whoever the caller says it is: the [Responder] takes it as
// given, checks its form, asks the [Policy] about it and records it, and
// authenticates no one. Authenticating the person or program making a
// request, and passing the Responder the actor so established (never one
// read from the request itself), is the embedding program's job; the
// timeline proves who the program said acted, not who did.
type Actor struct {
	// ID identifies the actor; required, at most [MaxShortText] bytes.
	ID string `json:"id"`
	// Name is the display name, at most [MaxShortText] bytes.
	Name string `json:"name,omitempty"`
	// Kind says whether the actor is a person or a program.
	Kind ActorKind `json:"kind,omitempty"`
}

// IsZero reports whether the actor is unset.
func (a Actor) IsZero() bool { return a == Actor{} }

// String returns the display name, or the ID if there is none.
func (a Actor) String() string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// normalize checks the actor and defaults its kind to [ActorHuman].
func (a Actor) normalize(field string) (Actor, error) {
	if strings.TrimSpace(a.ID) == "" {
		return Actor{}, invalid(field, "", "an actor needs an ID")
	}
	if len(a.ID) > MaxShortText || len(a.Name) > MaxShortText {
		return Actor{}, invalid(field, "", fmt.Sprintf("actor ID and name must be at most %d bytes", MaxShortText))
	}
	if err := checkText(field+" ID", a.ID, MaxShortText); err != nil {
		return Actor{}, err
	}
	if err := checkText(field+" name", a.Name, MaxShortText); err != nil {
		return Actor{}, err
	}
	if a.Kind == "" {
		a.Kind = ActorHuman
	}
	k, err := parseEnum("actor kind", string(a.Kind), actorKinds)
	if err != nil {
		return Actor{}, err
	}
	a.Kind = k
	return a, nil
}

// ActorKind says whether an actor is a person or a program.
type ActorKind string

// Kinds of actor.
const (
	// ActorHuman is a person. Actors without a kind are people.
	ActorHuman ActorKind = "human"
	// ActorService is a program acting on its own, such as a detection
	// pipeline or a bot.
	ActorService ActorKind = "service"
)

var actorKinds = []ActorKind{ActorHuman, ActorService}

// ParseActorKind returns the kind s names, or an [*InvalidError].
func ParseActorKind(s string) (ActorKind, error) { return parseEnum("actor kind", s, actorKinds) }

// String returns the kind's name.
func (k ActorKind) String() string { return string(k) }

// MarshalText encodes the kind, refusing unknown values.
func (k ActorKind) MarshalText() ([]byte, error) { return marshalEnum("actor kind", k, actorKinds) }

// UnmarshalText decodes a kind, refusing unknown values.
func (k *ActorKind) UnmarshalText(b []byte) error {
	return unmarshalEnum("actor kind", k, b, actorKinds)
}

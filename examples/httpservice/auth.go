package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/phases"
)

// Role is what a token's actor may do.
type Role string

// The roles, each allowed what the one before it is and more.
const (
	// RoleViewer reads everything and changes nothing.
	RoleViewer Role = "viewer"
	// RoleResponder works incidents: opens them, takes phase actions,
	// adds tasks, notes, observables and evidence, posts status updates,
	// records the review.
	RoleResponder Role = "responder"
	// RoleCommander also assigns and unassigns the incident commander,
	// closes and reopens incidents, and replays dead deliveries.
	RoleCommander Role = "commander"
)

// TokenEntry is one line of the tokens file: a bearer token, the actor it
// authenticates and the actor's role.
type TokenEntry struct {
	Token string   `json:"token"`
	Actor ir.Actor `json:"actor"`
	Role  Role     `json:"role"`
}

// principal is an authenticated caller.
type principal struct {
	actor ir.Actor
	role  Role
}

// Auth authenticates bearer tokens and decides, as the Responder's
// ir.Policy, what each actor may do. It keeps only the tokens' SHA-256
// digests and compares them in constant time.
type Auth struct {
	entries []authEntry
	roles   map[string]Role
}

type authEntry struct {
	digest [sha256.Size]byte
	principal
}

// NewAuth checks the entries and returns their Auth. Every actor ID has
// one role; tokens must be at least 16 bytes and unique.
func NewAuth(entries []TokenEntry) (*Auth, error) {
	a := &Auth{roles: map[string]Role{}}
	seen := map[[sha256.Size]byte]bool{}
	for i, e := range entries {
		switch e.Role {
		case RoleViewer, RoleResponder, RoleCommander:
		default:
			return nil, fmt.Errorf("token %d: role %q is not viewer, responder or commander", i+1, e.Role)
		}
		if len(e.Token) < 16 {
			return nil, fmt.Errorf("token %d: a token must be at least 16 characters", i+1)
		}
		if e.Actor.ID == "" {
			return nil, fmt.Errorf("token %d: the actor needs an ID", i+1)
		}
		if r, ok := a.roles[e.Actor.ID]; ok && r != e.Role {
			return nil, fmt.Errorf("token %d: actor %q has two roles", i+1, e.Actor.ID)
		}
		d := sha256.Sum256([]byte(e.Token))
		if seen[d] {
			return nil, fmt.Errorf("token %d: the same token appears twice", i+1)
		}
		seen[d] = true
		a.roles[e.Actor.ID] = e.Role
		a.entries = append(a.entries, authEntry{digest: d, principal: principal{actor: e.Actor, role: e.Role}})
	}
	return a, nil
}

// LoadTokens reads a tokens file: a JSON array of TokenEntry. A file others
// may read is refused.
func LoadTokens(path string) ([]TokenEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: others may read the tokens (mode %v): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	var entries []TokenEntry
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return entries, nil
}

// EnsureTokens loads the tokens file at path, or, if there is none, makes
// one with a token for each role and returns it with created set.
func EnsureTokens(path string) (entries []TokenEntry, created bool, err error) {
	entries, err = LoadTokens(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return entries, false, err
	}
	entries = []TokenEntry{
		{Token: newToken(), Actor: ir.Actor{ID: "ic", Name: "Incident Commander"}, Role: RoleCommander},
		{Token: newToken(), Actor: ir.Actor{ID: "responder", Name: "Responder"}, Role: RoleResponder},
		{Token: newToken(), Actor: ir.Actor{ID: "viewer", Name: "Viewer"}, Role: RoleViewer},
		{Token: newToken(), Actor: ir.Actor{ID: "alertmanager", Name: "Alertmanager", Kind: ir.ActorService}, Role: RoleResponder},
	}
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return nil, false, err
	}
	if err := f.Close(); err != nil {
		return nil, false, err
	}
	return entries, true, nil
}

// newToken makes a random bearer token.
func newToken() string { return "ik_" + rand.Text() }

// authenticate returns the principal of the request's bearer token. Every
// known token is compared, in constant time, so the time taken says
// nothing about which token came close.
func (a *Auth) authenticate(r *http.Request) (principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return principal{}, newProblem(http.StatusUnauthorized, CodeUnauthenticated, "send Authorization: Bearer <token>")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return principal{}, newProblem(http.StatusUnauthorized, CodeUnauthenticated, "the Authorization header is not a bearer token")
	}
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range a.entries {
		if subtle.ConstantTimeCompare(d[:], a.entries[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return principal{}, newProblem(http.StatusUnauthorized, CodeUnauthenticated, "the bearer token is not valid")
	}
	return a.entries[found].principal, nil
}

// grant gives the actor with ID id a role without a token: for the
// program's own service actors. Call it before serving. It refuses an
// actor the tokens file already gives another role.
func (a *Auth) grant(id string, role Role) error {
	if r, ok := a.roles[id]; ok && r != role {
		return fmt.Errorf("actor %q has the role %s in the tokens file; it is reserved for the service's own %s", id, r, role)
	}
	a.roles[id] = role
	return nil
}

// Role returns the role of the actor with ID id, and whether it has one.
func (a *Auth) Role(id string) (Role, bool) {
	r, ok := a.roles[id]
	return r, ok
}

// errPolicy is the policy's refusal, in words.
type errPolicy struct{ msg string }

func (e *errPolicy) Error() string { return e.msg }

// Policy returns the ir.Policy of the roles, for incidents following
// model m: a viewer changes nothing; a responder changes anything but the
// incident commander role, and takes any phase action but those that close
// or reopen an incident; a commander does everything. Actors without a
// token are refused.
func (a *Auth) Policy(m *phases.Model) ir.Policy {
	return ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
		role, ok := a.roles[req.Actor.ID]
		switch {
		case !ok:
			return &errPolicy{"actor " + req.Actor.ID + " has no role"}
		case role == RoleCommander:
			return nil
		case role == RoleViewer:
			return &errPolicy{"a viewer may not make changes"}
		}
		switch req.Operation {
		case ir.OpAssign, ir.OpUnassign:
			if req.Role == ir.RoleCommander {
				return &errPolicy{"only an incident commander may assign or unassign the incident commander"}
			}
		case ir.OpTransition:
			if req.Incident == nil {
				return nil
			}
			to, known := m.Target(req.Incident.Phase, req.Action)
			if known && (m.IsTerminal(to) || m.IsTerminal(req.Incident.Phase)) {
				return &errPolicy{"only an incident commander may close or reopen an incident"}
			}
		}
		return nil
	})
}

// Actor is the principal's actor, for the console's pages.
func (p principal) Actor() ir.Actor { return p.actor }

// Role is the principal's role, for the console's pages.
func (p principal) Role() Role { return p.role }

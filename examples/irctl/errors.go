package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// Exit statuses; irctl --help and the package documentation list them.
const (
	exitOK       = 0
	exitFailure  = 1
	exitInvalid  = 2
	exitNotFound = 3
	exitRefused  = 4
	exitConflict = 5
	exitTampered = 6
)

// usageError is a bad command line: an unknown flag, a missing argument.
type usageError struct{ err error }

// Error returns the refusal.
func (e usageError) Error() string { return e.err.Error() }

// Unwrap returns the refusal.
func (e usageError) Unwrap() error { return e.err }

// notFoundError is something the user named that does not exist.
type notFoundError struct {
	what string
	hint string
}

// Error says what was not found and where to look.
func (e notFoundError) Error() string {
	if e.hint == "" {
		return "no " + e.what
	}
	return "no " + e.what + " (" + e.hint + ")"
}

// tamperedError reports a verification that found tampering; the report
// has been printed.
type tamperedError struct {
	id       string
	problems int
}

// Error says that the case does not verify and what to do.
func (e tamperedError) Error() string {
	return fmt.Sprintf("custody of %s does NOT verify: %d problem(s) found (keep the data directory as it is, copy it for the investigation, and compare with a backup or an exported bundle)",
		e.id, e.problems)
}

// dataDirError is a data directory that cannot be opened; its error says
// how to fix it where it can (a mode to change, a key to restore).
type dataDirError struct {
	path string
	err  error
}

// Error says which directory and why.
func (e dataDirError) Error() string {
	return fmt.Sprintf("cannot open the data directory %s: %v (give another with --data or %s)", e.path, e.err, envData)
}

// Unwrap returns why the directory cannot be opened.
func (e dataDirError) Unwrap() error { return e.err }

// opError is an error of a change to incident id, which lets explain say
// what to do next in that incident's terms.
type opError struct {
	id  string
	err error
}

// Error returns the change's error.
func (e opError) Error() string { return e.err.Error() }

// Unwrap returns the change's error.
func (e opError) Unwrap() error { return e.err }

// change wraps err, the error of a change to incident id, for explain.
func change(id string, err error) error {
	if err == nil {
		return nil
	}
	return opError{id: id, err: err}
}

// explain turns err into a one-line message that says what to do next, and
// the exit status that tells its kind apart.
func explain(err error, cmd string) (string, int) {
	id := "ID"
	var op opError
	if errors.As(err, &op) {
		id = op.id
	}
	var tampered tamperedError
	var dataDir dataDirError
	var guard *phases.GuardError
	var transition *phases.TransitionError
	var denied *ir.DeniedError
	var usage usageError
	var nf notFoundError
	switch {
	case errors.As(err, &tampered):
		return err.Error(), exitTampered
	case errors.Is(err, evidence.ErrTampered):
		return err.Error() + " (the evidence does not verify: keep the data directory as it is and investigate)", exitTampered
	case errors.As(err, &dataDir):
		return err.Error(), exitFailure
	case errors.As(err, &usage):
		return err.Error() + " (see " + cmd + " --help)", exitInvalid
	case errors.As(err, &nf):
		return err.Error(), exitNotFound
	case errors.As(err, &guard):
		var reasons, hints []string
		for _, r := range guard.Refusals {
			reasons = append(reasons, r.Reason.Error())
			if h := guardHint(r.Guard, id); h != "" {
				hints = append(hints, h)
			}
		}
		msg := fmt.Sprintf("cannot %s %s: %s", verb(guard.Action), id, strings.Join(reasons, "; "))
		if len(hints) > 0 {
			msg += " (" + strings.Join(hints, "; ") + ")"
		}
		return msg, exitRefused
	case errors.Is(err, phases.ErrUnknownAction):
		return fmt.Sprintf("%v (see the actions open to %s: irctl actions %s)", err, id, id), exitInvalid
	case errors.As(err, &transition):
		return fmt.Sprintf("cannot %s %s: %s, and it is in %s (see what it can do: irctl actions %s)",
			verb(transition.Action), id, transition.Reason, transition.From, id), exitRefused
	case errors.As(err, &denied):
		return fmt.Sprintf("not allowed: %v (ask someone the policy allows, or act as them with --actor)", err), exitRefused
	case errors.Is(err, evidence.ErrDenied), errors.Is(err, ir.ErrUnauthorized):
		return fmt.Sprintf("not allowed: %v", err), exitRefused
	case errors.Is(err, ir.ErrInvalid), errors.Is(err, evidence.ErrInvalid), errors.Is(err, notify.ErrInvalid):
		return err.Error() + " (fix it and run the command again; see " + cmd + " --help)", exitInvalid
	case errors.Is(err, notify.ErrNotFound):
		return err.Error() + " (see the dead deliveries: irctl deliveries --dead)", exitNotFound
	case errors.Is(err, ir.ErrNotFound), errors.Is(err, evidence.ErrNotFound):
		return err.Error() + " (check the ID: irctl list, irctl show " + id + ")", exitNotFound
	case errors.Is(err, ir.ErrRefused):
		return err.Error() + " (see what it can do: irctl actions " + id + ")", exitRefused
	case errors.Is(err, ir.ErrConflict), errors.Is(err, evidence.ErrConflict), errors.Is(err, notify.ErrConflict):
		return err.Error() + " (someone changed it meanwhile: look again and retry)", exitConflict
	}
	return err.Error(), exitFailure
}

// verb words a phase action for "cannot …".
func verb(a phases.Action) string {
	return strings.ReplaceAll(string(a), "_", " ")
}

// guardHint says how to satisfy the built-in guard named name.
func guardHint(name, id string) string {
	switch {
	case strings.HasPrefix(name, string(phases.GuardRoleAssigned)+"("):
		role := strings.TrimSuffix(strings.TrimPrefix(name, string(phases.GuardRoleAssigned)+"("), ")")
		if role == string(ir.RoleCommander) {
			role = "commander"
		}
		return fmt.Sprintf("assign one: irctl assign %s %s alice", id, role)
	case strings.HasPrefix(name, string(phases.GuardTasksDone)):
		return fmt.Sprintf("finish them: irctl task done %s TASK", id)
	case strings.HasPrefix(name, string(phases.GuardVerdictSet)):
		return fmt.Sprintf("set one: irctl verdict %s true_positive --resolution …", id)
	case strings.HasPrefix(name, string(phases.GuardReviewRecorded)):
		return fmt.Sprintf("record it: irctl review %s --summary … --root-cause …", id)
	case strings.HasPrefix(name, string(phases.GuardEvidencePreserved)):
		return fmt.Sprintf("collect it: irctl evidence add %s FILE", id)
	}
	return ""
}

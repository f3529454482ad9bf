// Irctl is the responders' command-line tool: it runs security incidents
// kept in an incidentkit data directory, the one the quickstart makes
// (./incidentkit-data), from opening them to the post-incident review,
// the review document and the custody bundle of their evidence.
//
// Usage:
//
//	irctl [--data DIR] [--actor ID[:NAME]] [--json] COMMAND [ARGS]
//
// The data directory comes from --data, or INCIDENTKIT_DATA, or is
// ./incidentkit-data; it is opened with sqlite.OpenDir, and made on first
// use. The actor every change is recorded under comes from --actor, or
// INCIDENTKIT_ACTOR, or is the user running the program: an ID, optionally
// followed by a colon and a display name ("alice:Alice Moreau").
//
// The commands a responder types first:
//
//	irctl open "Credential phishing against finance" --severity high --category phishing
//	irctl list --open
//	irctl actions INC-…            # what can be done next, and why the rest cannot
//	irctl assign INC-… commander "alice:Alice Moreau"
//	irctl act INC-… contain --reason "one account compromised"
//	irctl evidence add INC-… mail-gw.log --kind log --reason "the phishing e-mail's delivery"
//	irctl show INC-…
//
// Every command prints aligned tables for people, or JSON with --json for
// scripts. Shell completion comes from "irctl completion bash|zsh|fish|
// powershell" and completes incident IDs, phase actions, roles and the
// other values commands take.
//
// Errors are printed on one line on stderr, saying what to do next, and
// the exit status tells them apart:
//
//	0  success
//	1  any other failure (the data directory cannot be opened, a file cannot be written)
//	2  invalid input: a bad flag, argument or value
//	3  not found: no such incident, evidence item or delivery
//	4  refused: a guard of the phase model or the access policy does not allow it
//	5  conflict: someone else changed it at the same time; try again
//	6  tampering detected: the chain of custody or the evidence content does not verify
//
// Incidents follow the built-in model they were opened with (SANS PICERL
// unless "irctl open --model" names another; "irctl models" lists them),
// with the model's own guards. Every change also leaves its notification
// in the store's outbox, in the same transaction, for a notification
// dispatcher running on the same directory to deliver; "irctl
// deliveries" reads the record of what it delivered.
//
// irctl uses only incidentkit's public API.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs irctl with args and returns its exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil && !a.ran {
		// Cobra refused the command line before any command ran: an
		// unknown command, a wrong number of arguments, a bad flag.
		err = usageError{err}
	}
	err = errors.Join(err, a.close(context.WithoutCancel(ctx)))
	if err == nil {
		return exitOK
	}
	path := "irctl"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	msg, code := explain(err, path)
	fmt.Fprintln(stderr, "irctl: "+oneLine(msg))
	return code
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "; ")
}

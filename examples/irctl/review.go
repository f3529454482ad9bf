package main

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/incidentkit/incidentkit/ir"
)

// reviewCommand: irctl review ID --summary … --root-cause ….
func (a *app) reviewCommand() *cobra.Command {
	var n ir.NewReview
	var followUps []string
	var cmd *cobra.Command
	cmd = a.simpleChange("review ID", "Record the post-incident review: summary, root cause, lessons, follow-ups",
		`  irctl review INC-20261206-0912-3fa2c \
    --summary "A fake payroll update harvested one finance password." \
    --root-cause "No phishing-resistant MFA on the finance mailboxes" \
    --factor "the gateway's link rewriting was off for finance" \
    --went-well "reported within the hour" --went-poorly "the EDR alert went to an empty queue" \
    --lesson "route EDR alerts to the on-call" \
    --follow-up "Roll out FIDO2 keys to finance"`,
		[]string{"ID"}, nil,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, _ []string) (*ir.Incident, string, error) {
			rv := n
			if cur := inc.Review; cur != nil {
				keep := func(flag string, dst *string, v string) {
					if !cmd.Flags().Changed(flag) {
						*dst = v
					}
				}
				keepList := func(flag string, dst *[]string, v []string) {
					if !cmd.Flags().Changed(flag) {
						*dst = v
					}
				}
				keep("summary", &rv.Summary, cur.Summary)
				keep("root-cause", &rv.RootCause, cur.RootCause)
				keepList("factor", &rv.ContributingFactors, cur.ContributingFactors)
				keepList("went-well", &rv.WentWell, cur.WentWell)
				keepList("went-poorly", &rv.WentPoorly, cur.WentPoorly)
				keepList("lesson", &rv.LessonsLearned, cur.LessonsLearned)
			}
			for _, f := range followUps {
				rv.FollowUps = append(rv.FollowUps, ir.NewFollowUp{Title: f})
			}
			inc, err := r.RecordReview(ctx, actor, inc.ID, rv)
			if err != nil {
				return nil, "", err
			}
			return inc, "review revision " + strconv.Itoa(inc.Review.Revision) + " recorded", nil
		})
	cmd.Long = `review records the post-incident review on the incident and its timeline.
The built-in models close an incident from their review phase only once a
review names a root cause.

A review recorded again is a new revision: the flags given replace what they
name, and the rest is kept from the current revision. Follow-ups with an owner,
a due date or a ticket are added with irctl followup add, also after closing.`
	f := cmd.Flags()
	f.StringVar(&n.Summary, "summary", "", "what happened, for a reader who was not there (required the first time)")
	f.StringVar(&n.RootCause, "root-cause", "", "the underlying cause (needed to close)")
	f.StringArrayVar(&n.ContributingFactors, "factor", nil, "a contributing factor; repeat for more")
	f.StringArrayVar(&n.WentWell, "went-well", nil, "what helped the response; repeat for more")
	f.StringArrayVar(&n.WentPoorly, "went-poorly", nil, "what hindered it; repeat for more")
	f.StringArrayVar(&n.LessonsLearned, "lesson", nil, "a lesson learned; repeat for more")
	f.StringArrayVar(&followUps, "follow-up", nil, "a follow-up action's title; repeat for more")
	return cmd
}

// followUpCommand: irctl followup add|done.
func (a *app) followUpCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "followup", Short: "Add a follow-up action of the review, or mark one done (also after closing)"}
	var nf ir.NewFollowUp
	var owner, due string
	add := a.simpleChange("add ID TITLE", "Add a follow-up action, with its owner, due date and ticket",
		`  irctl followup add INC-20261206-0912-3fa2c "Roll out FIDO2 keys to finance" --owner "it-sec:IT Security" --due 2027-01-31 --ref SEC-1412`,
		[]string{"ID", "TITLE"}, nil,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			nf.Title = args[0]
			if owner != "" {
				who, err := parseActor(owner)
				if err != nil {
					return nil, "", err
				}
				nf.Owner = who
			}
			if due != "" {
				t, err := time.Parse(time.DateOnly, due)
				if err != nil {
					return nil, "", &ir.InvalidError{Field: "due", Value: due, Reason: "must be a date, YYYY-MM-DD"}
				}
				nf.Due = t
			}
			inc, err := r.AddFollowUp(ctx, actor, inc.ID, nf)
			if err != nil {
				return nil, "", err
			}
			return inc, "follow-up " + strconv.Itoa(inc.FollowUps[len(inc.FollowUps)-1].ID) + " added", nil
		})
	add.Flags().StringVar(&owner, "owner", "", "who sees it done: ID or ID:Name")
	add.Flags().StringVar(&due, "due", "", "when it is due, YYYY-MM-DD")
	add.Flags().StringVar(&nf.Reference, "ref", "", "where the work is tracked: a ticket ID or URL")
	var outcome string
	done := a.simpleChange("done ID FOLLOWUP", "Mark a follow-up done",
		`  irctl followup done INC-20261206-0912-3fa2c 1 --outcome "keys issued to all 38 staff"`,
		[]string{"ID", "FOLLOWUP"}, completeFollowUps,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, args []string) (*ir.Incident, string, error) {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return nil, "", &ir.InvalidError{Field: "follow-up", Value: args[0], Reason: "must be a follow-up number (see irctl show)"}
			}
			if _, ok := inc.FollowUp(n); !ok {
				return nil, "", notFoundError{what: "follow-up " + args[0] + " in " + string(inc.ID), hint: "see its follow-ups: irctl show " + string(inc.ID)}
			}
			inc, err = r.CompleteFollowUp(ctx, actor, inc.ID, n, outcome)
			return inc, "follow-up " + args[0] + " done", err
		})
	done.Flags().StringVar(&outcome, "outcome", "", "what came of it")
	cmd.AddCommand(add, done)
	return cmd
}

// closeCommand: irctl close ID.
func (a *app) closeCommand() *cobra.Command {
	var reason, verdict, resolution string
	cmd := a.simpleChange("close ID", "Close an incident (the model's closing action from its phase)",
		`  irctl close INC-20261206-0912-3fa2c --reason "review held, follow-ups tracked"
  irctl close INC-20261206-0912-3fa2c --verdict false_positive --resolution "a sanctioned phishing test"`,
		[]string{"ID"}, nil,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, _ []string) (*ir.Incident, string, error) {
			if verdict != "" {
				var err error
				if inc, err = r.SetVerdict(ctx, actor, inc.ID, ir.Verdict(verdict), resolution); err != nil {
					return nil, "", err
				}
			} else if resolution != "" {
				return nil, "", usageError{errors.New("--resolution goes with --verdict")}
			}
			inc, err := r.Close(ctx, actor, inc.ID, reason)
			return inc, "closed", err
		})
	cmd.Flags().StringVarP(&reason, "reason", "r", "", "why, for the timeline")
	cmd.Flags().StringVar(&verdict, "verdict", "", "set this verdict first (true_positive, false_positive, benign)")
	cmd.Flags().StringVar(&resolution, "resolution", "", "with --verdict: how it was resolved")
	_ = cmd.RegisterFlagCompletionFunc("verdict", completeFixed(verdictNames...))
	return cmd
}

// reopenCommand: irctl reopen ID.
func (a *app) reopenCommand() *cobra.Command {
	var reason string
	cmd := a.simpleChange("reopen ID", "Reopen a closed incident",
		`  irctl reopen INC-20261206-0912-3fa2c --reason "the same sender is back"`,
		[]string{"ID"}, nil,
		func(ctx context.Context, r *ir.Responder, actor ir.Actor, inc *ir.Incident, _ []string) (*ir.Incident, string, error) {
			inc, err := r.Reopen(ctx, actor, inc.ID, reason)
			return inc, "reopened", err
		})
	cmd.Flags().StringVarP(&reason, "reason", "r", "", "why, for the timeline")
	return cmd
}

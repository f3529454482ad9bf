package main

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/phases"
)

// maxCompletions bounds the incident IDs offered for completion.
const maxCompletions = 500

// completeIncidents completes the first argument with incident IDs, open
// incidents first, each with its title; then completes the following
// arguments with next, if set.
func (a *app) completeIncidents(next func(ctx context.Context, inc *ir.Incident, args []string, prefix string) []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if _, err := os.Stat(a.data); err != nil {
			// Completion never creates a data directory.
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		if len(args) > 0 {
			if next == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			inc, _, err := a.incident(ctx, args[0])
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return next(ctx, inc, args[1:], prefix), cobra.ShellCompDirectiveNoFileComp
		}
		d, err := a.open(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, status := range []ir.Status{ir.StatusOpen, ir.StatusClosed} {
			for q := (ir.Query{Status: status, Limit: ir.MaxPageSize}); len(out) < maxCompletions; {
				page, err := d.Store.List(ctx, q)
				if err != nil {
					return out, cobra.ShellCompDirectiveNoFileComp
				}
				for _, inc := range page.Incidents {
					if strings.HasPrefix(string(inc.ID), prefix) {
						out = append(out, string(inc.ID)+"\t"+oneLine(inc.Title))
					}
				}
				if page.Next == "" {
					break
				}
				q.After = page.Next
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeActions completes an incident's phase actions from its phase.
func completeActions(_ context.Context, inc *ir.Incident, args []string, _ string) []string {
	if len(args) > 0 {
		return nil
	}
	m, ok := phases.Lookup(inc.Model)
	if !ok {
		return nil
	}
	var out []string
	for _, act := range m.Available(inc.Phase) {
		def, _ := m.Action(act)
		out = append(out, string(act)+"\t"+def.Title)
	}
	return out
}

// completeTasks completes an incident's pending tasks.
func completeTasks(_ context.Context, inc *ir.Incident, args []string, _ string) []string {
	if len(args) > 0 {
		return nil
	}
	var out []string
	for _, t := range inc.Tasks {
		if !t.Done {
			out = append(out, itoa(t.ID)+"\t"+oneLine(t.Title))
		}
	}
	return out
}

// completeFollowUps completes an incident's open follow-ups.
func completeFollowUps(_ context.Context, inc *ir.Incident, args []string, _ string) []string {
	if len(args) > 0 {
		return nil
	}
	var out []string
	for _, f := range inc.FollowUps {
		if !f.Done {
			out = append(out, itoa(f.ID)+"\t"+oneLine(f.Title))
		}
	}
	return out
}

// completeEvidence completes an incident's evidence items, by exhibit.
func completeEvidence(_ context.Context, inc *ir.Incident, args []string, _ string) []string {
	if len(args) > 0 {
		return nil
	}
	var out []string
	for _, e := range inc.Evidence {
		out = append(out, e.Exhibit+"\t"+oneLine(e.Name))
	}
	return out
}

// completeRoles completes a role, then nothing.
func completeRoles(_ context.Context, _ *ir.Incident, args []string, _ string) []string {
	if len(args) > 0 {
		return nil
	}
	return roleNames()
}

// completeFixed completes a flag with fixed values.
func completeFixed(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// Values the flags complete with.
var (
	severityNames = []string{"low", "medium", "high", "critical"}
	categoryNames = []string{string(ir.CategoryPhishing), string(ir.CategoryMalware), string(ir.CategoryRansomware),
		string(ir.CategoryAccountCompromise), string(ir.CategoryUnauthorizedAccess), string(ir.CategoryDataBreach),
		string(ir.CategoryDenialOfService), string(ir.CategoryWebAttack), string(ir.CategoryExploitation),
		string(ir.CategoryInsiderThreat), string(ir.CategoryLostDevice), string(ir.CategoryPolicyViolation), string(ir.CategoryOther)}
	verdictNames    = []string{string(ir.VerdictTruePositive), phases.VerdictFalsePositive, phases.VerdictBenign}
	observableNames = []string{string(ir.ObservableIP), string(ir.ObservableDomain), string(ir.ObservableURL),
		string(ir.ObservableEmail), string(ir.ObservableMD5), string(ir.ObservableSHA1), string(ir.ObservableSHA256),
		string(ir.ObservableHost), string(ir.ObservableAccount), string(ir.ObservableFileName), string(ir.ObservableProcess),
		string(ir.ObservableRegistry), string(ir.ObservableUserAgent), string(ir.ObservableOther)}
	audienceNames = []string{string(notify.AudienceResponders), string(notify.AudienceExecutives), string(notify.AudienceLegal),
		string(notify.AudienceCustomers), string(notify.AudienceRegulators), string(notify.AudienceLawEnforcement)}
	kindNames = []string{string(evidence.KindDiskImage), string(evidence.KindMemoryDump), string(evidence.KindLog),
		string(evidence.KindPacketCapture), string(evidence.KindFile), string(evidence.KindScreenshot),
		string(evidence.KindDocument), string(evidence.KindOther)}
)

// roleAliases are the short names irctl accepts for roles.
var roleAliases = map[string]ir.Role{
	"commander": ir.RoleCommander,
	"ic":        ir.RoleCommander,
	"deputy":    ir.RoleDeputy,
	"comms":     ir.RoleCommunications,
	"tech-lead": ir.RoleTechnicalLead,
}

// roleNames lists the roles by the names irctl completes.
func roleNames() []string {
	out := []string{"commander", "deputy", "scribe", "comms", "tech-lead", "analyst", "legal", "observer"}
	slices.Sort(out)
	return out
}

// parseRole reads a role by its name or one of irctl's short names.
func parseRole(s string) (ir.Role, error) {
	if r, ok := roleAliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return r, nil
	}
	return ir.ParseRole(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
}

// modelNames lists the built-in models' names.
func modelNames() []string {
	var out []string
	for _, m := range phases.Builtin() {
		out = append(out, m.Name()+"\t"+m.Title())
	}
	return out
}

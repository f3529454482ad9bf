package ir_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/irtest"
	"github.com/incidentkit/incidentkit/phases"
)

// A Responder on the in-memory store runs an incident on the SANS PICERL
// model: open it, assign an incident commander, and move it into
// containment.
func Example() {
	ctx := context.Background()
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Model: phases.SANS})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{
		Title:    "Credential phishing against finance",
		Severity: ir.SeverityHigh,
		Category: ir.CategoryPhishing,
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Transition(ctx, alice, inc.ID, phases.Identify, "three reports of the same e-mail"); err != nil {
		log.Fatal(err)
	}

	// Containment needs an incident commander: the guard refuses and says why.
	_, err = r.Transition(ctx, alice, inc.ID, phases.Contain, "one account compromised")
	if errors.Is(err, phases.ErrGuardFailed) {
		fmt.Println("refused:", err)
	}

	if _, err := r.Assign(ctx, alice, inc.ID, ir.RoleCommander, alice); err != nil {
		log.Fatal(err)
	}
	inc, err = r.Transition(ctx, alice, inc.ID, phases.Contain, "one account compromised")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("phase:", inc.Phase)
	// Output:
	// refused: phases: sans-picerl: cannot contain from identification to containment: role_assigned(incident_commander): no incident commander is assigned
	// phase: containment
}

func ExampleNewResponder() {
	// Only Store is required. A fake clock and predictable IDs make the
	// output below the same on every run; leave them out to get the system
	// clock and time-sortable UUIDs.
	r, err := ir.NewResponder(ir.Config{
		Store: ir.NewMemoryStore(),
		Model: phases.NIST,
		Clock: irtest.NewClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)),
		IDs:   &irtest.IDs{Prefix: "IR-"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	fmt.Println(r.Model().Title())

	_, err = ir.NewResponder(ir.Config{})
	fmt.Println(err)
	// Output:
	// NIST SP 800-61r2
	// ir: invalid config: Config.Store is required (use ir.NewMemoryStore() for tests)
}

func ExampleResponder_Open() {
	ctx := context.Background()
	clock := irtest.NewClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Clock: clock, IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	gateway := ir.Actor{ID: "mail-gateway", Kind: ir.ActorService}
	inc, err := r.Open(ctx, gateway, ir.NewIncident{
		Title:      "Credential phishing against finance",
		Severity:   ir.SeverityHigh,
		Category:   ir.CategoryPhishing,
		OccurredAt: clock.Now().Add(-68 * time.Minute),
		DetectedAt: clock.Now().Add(-19 * time.Minute),
		Observables: []ir.Observable{
			{Type: ir.ObservableDomain, Value: "Payroll-Update.example.", Malicious: true},
			{Type: ir.ObservableIP, Value: "2001:DB8:0:0::47"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inc.ID, inc.Phase, inc.Priority, inc.TLP)
	fmt.Println("detected", inc.Times.Detected.Format("15:04"), "opened", inc.Times.Opened.Format("15:04"))
	for _, o := range inc.Observables {
		fmt.Println(o.Type, o.Value)
	}
	// Output:
	// INC-000001 preparation P2 TLP:AMBER
	// detected 08:41 opened 09:00
	// domain payroll-update.example
	// ip 2001:db8::47
}

func ExampleResponder_Transition() {
	ctx := context.Background()
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	dana := ir.Actor{ID: "dana", Name: "Dana Okafor"}
	inc, err := r.Open(ctx, dana, ir.NewIncident{Title: "Malware on a finance laptop", Severity: ir.SeverityMedium})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Transition(ctx, dana, inc.ID, phases.Identify, "EDR alert confirmed"); err != nil {
		log.Fatal(err)
	}
	if _, err := r.AddTask(ctx, dana, inc.ID, ir.NewTask{Title: "Find every affected host", Required: true}); err != nil {
		log.Fatal(err)
	}

	// Every guard that refuses says why. The refusal matches
	// ir.ErrRefused as well as phases.ErrGuardFailed.
	_, err = r.Transition(ctx, dana, inc.ID, phases.Contain, "")
	var refused *phases.GuardError
	if errors.Is(err, ir.ErrRefused) && errors.As(err, &refused) {
		for _, why := range refused.Refusals {
			fmt.Printf("%s: %v\n", why.Guard, why.Reason)
		}
	}

	// An action that does not leave from the current phase is refused too.
	_, err = r.Transition(ctx, dana, inc.ID, phases.Recover, "")
	fmt.Println(errors.Is(err, ir.ErrRefused), errors.Is(err, phases.ErrInvalidTransition))
	// Output:
	// role_assigned(incident_commander): no incident commander is assigned
	// tasks_done: required tasks of identification not done: Find every affected host
	// true true
}

// Open checks every field of a new incident and reports each problem, so
// that a form can mark them all at once.
func ExampleInputError() {
	ctx := context.Background()
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore()})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	_, err = r.Open(ctx, ir.Actor{ID: "dana"}, ir.NewIncident{Title: "", Severity: "urgent", TLP: "purple"})
	fmt.Println(errors.Is(err, ir.ErrInvalid))
	var in *ir.InputError
	if errors.As(err, &in) {
		for _, p := range in.Problems {
			fmt.Printf("%s: %s\n", p.Field, p.Reason)
		}
	}
	// Output:
	// true
	// title: must not be empty
	// severity: unknown severity; want one of low, medium, high, critical
	// tlp: unknown tlp; want one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED
}

func ExampleResponder_Actions() {
	ctx := context.Background()
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	dana := ir.Actor{ID: "dana", Name: "Dana Okafor"}
	inc, err := r.Open(ctx, dana, ir.NewIncident{Title: "Suspicious sign-in", Severity: ir.SeverityLow})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Transition(ctx, dana, inc.ID, phases.Identify, ""); err != nil {
		log.Fatal(err)
	}
	if _, err := r.SetVerdict(ctx, dana, inc.ID, ir.VerdictBenign, "the user was travelling"); err != nil {
		log.Fatal(err)
	}

	// What can Dana do next, and why not the rest?
	opts, err := r.Actions(ctx, dana, inc.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, opt := range opts {
		var refused *phases.GuardError
		switch {
		case opt.Err == nil:
			fmt.Printf("%s: %s\n", opt.Title, "allowed")
		case errors.As(opt.Err, &refused):
			fmt.Printf("%s: %v\n", opt.Title, refused.Refusals[0].Reason)
		default:
			fmt.Printf("%s: %v\n", opt.Title, opt.Err)
		}
	}
	// Output:
	// Start containment: no incident commander is assigned
	// Dismiss as false positive: allowed
}

func ExampleResponder_Timeline() {
	ctx := context.Background()
	clock := irtest.NewClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Clock: clock, IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing against finance", Severity: ir.SeverityHigh})
	if err != nil {
		log.Fatal(err)
	}
	clock.Advance(4 * time.Minute)
	if _, err := r.Assign(ctx, alice, inc.ID, ir.RoleCommander, alice); err != nil {
		log.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := r.Transition(ctx, alice, inc.ID, phases.Identify, "three reports of the same e-mail"); err != nil {
		log.Fatal(err)
	}

	// The latest events first, as a console shows them.
	page, err := r.Timeline(ctx, inc.ID, ir.TimelineQuery{NewestFirst: true, Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range page.Events {
		fmt.Printf("%s %s %s", e.At.Format("15:04"), e.Actor, e.Type)
		switch d := e.Data.(type) {
		case *ir.RoleAssigned:
			fmt.Printf(": %s is %s", d.Assignee, d.Role)
		case *ir.PhaseChanged:
			fmt.Printf(": %s -> %s (%s)", d.From, d.To, e.Reason)
		}
		fmt.Println()
	}
	// Output:
	// 09:06 Alice Moreau phase_changed: preparation -> identification (three reports of the same e-mail)
	// 09:04 Alice Moreau role_assigned: Alice Moreau is incident_commander
	// 09:00 Alice Moreau opened
}

func ExampleComputeMetrics() {
	// Two incidents, detected at 09:00, contained 2h and 6h later.
	detected := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	incidents := []*ir.Incident{
		{Severity: ir.SeverityHigh, Times: ir.Lifecycle{Detected: detected, Contained: detected.Add(2 * time.Hour)}},
		{Severity: ir.SeverityLow, Times: ir.Lifecycle{Detected: detected, Contained: detected.Add(6 * time.Hour)}},
	}
	rep := ir.ComputeMetrics(incidents)
	fmt.Println("time to contain, median:", rep.All.TimeToContain.Median)
	fmt.Println("time to contain, high severity:", rep.BySeverity[ir.SeverityHigh].TimeToContain.Median)
	// Output:
	// time to contain, median: 4h0m0s
	// time to contain, high severity: 2h0m0s
}

func ExamplePolicyFunc() {
	ctx := context.Background()
	// Programs may open incidents and record what they see, but only people
	// move an incident between phases.
	peopleMovePhases := ir.PolicyFunc(func(_ context.Context, req ir.Request) error {
		if req.Operation == ir.OpTransition && req.Actor.Kind == ir.ActorService {
			return errors.New("only people move incidents between phases")
		}
		return nil
	})
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Policy: peopleMovePhases, IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	gateway := ir.Actor{ID: "mail-gateway", Kind: ir.ActorService}
	inc, err := r.Open(ctx, gateway, ir.NewIncident{Title: "Phishing reported", Severity: ir.SeverityMedium})
	if err != nil {
		log.Fatal(err)
	}
	_, err = r.Transition(ctx, gateway, inc.ID, phases.Identify, "")
	fmt.Println(errors.Is(err, ir.ErrUnauthorized), err)

	dana := ir.Actor{ID: "dana", Name: "Dana Okafor"}
	inc, err = r.Transition(ctx, dana, inc.ID, phases.Identify, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inc.Phase)
	// Output:
	// true ir: transition identify denied to mail-gateway: only people move incidents between phases
	// identification
}

func ExampleResponder_Snapshot() {
	ctx := context.Background()
	clock := irtest.NewClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Clock: clock, IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing against finance", Severity: ir.SeverityHigh})
	if err != nil {
		log.Fatal(err)
	}
	for _, note := range []string{"three reports so far", "the sender domain is two days old", "mail gateway rule added"} {
		clock.Advance(time.Minute)
		if _, err := r.AddNote(ctx, alice, inc.ID, note); err != nil {
			log.Fatal(err)
		}
	}

	// The incident and its two latest events, as of one version.
	snap, err := r.Snapshot(ctx, inc.ID, 2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s at version %d\n", snap.Incident.Title, snap.Incident.Version)
	for _, e := range snap.Events {
		fmt.Printf("#%d %s %s\n", e.Seq, e.At.Format("15:04"), e.Data.(*ir.NoteAdded).Text)
	}
	// Older events, a page at a time.
	older, err := r.Timeline(ctx, inc.ID, ir.TimelineQuery{From: snap.Next, NewestFirst: true, Limit: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range older.Events {
		fmt.Printf("#%d %s %s\n", e.Seq, e.At.Format("15:04"), e.Type)
	}
	// Output:
	// Credential phishing against finance at version 4
	// #4 09:03 mail gateway rule added
	// #3 09:02 the sender domain is two days old
	// #2 09:01 note_added
	// #1 09:00 opened
}

func ExampleResponder_AllEvents() {
	ctx := context.Background()
	clock := irtest.NewClock(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
	r, err := ir.NewResponder(ir.Config{Store: ir.NewMemoryStore(), Clock: clock, IDs: &irtest.IDs{}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Shutdown(ctx)

	alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
	inc, err := r.Open(ctx, alice, ir.NewIncident{Title: "Credential phishing against finance", Severity: ir.SeverityHigh})
	if err != nil {
		log.Fatal(err)
	}
	clock.Advance(4 * time.Minute)
	if _, err := r.Assign(ctx, alice, inc.ID, ir.RoleCommander, alice); err != nil {
		log.Fatal(err)
	}

	// The whole timeline, oldest first, read a page at a time.
	for e, err := range r.AllEvents(ctx, inc.ID) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("#%d %s %s\n", e.Seq, e.At.Format("15:04"), e.Type)
	}
	// Output:
	// #1 09:00 opened
	// #2 09:04 role_assigned
}

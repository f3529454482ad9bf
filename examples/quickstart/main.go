// Quickstart runs one security incident from detection to lessons learned
// with incidentkit.
//
// The incident is a credential-phishing intrusion against a finance team,
// run on the SANS PICERL process (phases.SANS): a fake payroll e-mail leads
// a finance officer to give away her password and open a booby-trapped
// spreadsheet. The responders identify the incident, contain it, eradicate
// it and start recovering, until a second infected laptop sends them back
// to containment. After a second pass they review the incident and close
// it.
//
// Along the way the program assigns an incident commander and a scribe,
// records observables, affected assets, decisions and the required tasks of
// each phase, and shows a guard refusing a transition. Evidence (memory
// images, the mail gateway's log) goes into an evidence locker with a
// tamper-evident chain of custody, and the model will not let eradication
// start before evidence is preserved. At the end it prints the timeline, the
// lifecycle milestones, the time spent in each phase, the exhibits with
// their custody and its verification, and the diagram of the process.
//
// Every change also leaves a notification in the store's outbox, in the
// same transaction, and a notify.Dispatcher delivers them: every event to a
// log channel (notifications.log in the data directory), and phase changes
// to a public status page too, except that TLP holds them back from it.
// examples/notifications delivers to a webhook, e-mail and Slack instead.
//
// Everything is kept in the embedded SQLite store, in a directory the
// program names (incidentkit-data by default, or -data dir): the incidents
// and their timelines, the chain of custody in the same database, the
// evidence files, the key that signs custody checkpoints, and a witness
// holding each case's latest checkpoint outside the database, all opened by
// one call, sqlite.OpenDir. Run it again
// and it finds the incidents of earlier runs there, verifies their custody,
// and runs the story once more as a new incident.
//
// What it keeps is its owner's alone: files are created mode 0600 and
// directories 0700, even inside a directory others may read. It refuses a
// key file others may read or write, and a data directory others may write
// to, with a message saying how to fix it (chmod 600, chmod go-w).
//
// Run it from the repository root:
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -data /tmp/ir-demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/phases"
)

func main() {
	dir := flag.String("data", "incidentkit-data", "directory that keeps the incidents, the evidence and the custody key")
	flag.Parse()
	if err := run(context.Background(), *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// itemIDs numbers evidence items ITEM-1, ITEM-2…
func itemIDs() func() evidence.ItemID {
	var n atomic.Int64
	return func() evidence.ItemID { return evidence.ItemID(fmt.Sprintf("ITEM-%d", n.Add(1))) }
}

// The people and programs taking part.
var (
	mailGateway = ir.Actor{ID: "mail-gateway", Name: "Mail gateway", Kind: ir.ActorService}
	dana        = ir.Actor{ID: "dana", Name: "Dana Okafor"}   // security analyst on call
	alice       = ir.Actor{ID: "alice", Name: "Alice Moreau"} // incident commander
	ben         = ir.Actor{ID: "ben", Name: "Ben Carter"}     // scribe
	raj         = ir.Actor{ID: "raj", Name: "Raj Patel"}      // endpoint engineer
)

// The days of the incident, in UTC.
var (
	monday   = time.Date(2026, time.March, 2, 0, 0, 0, 0, time.UTC)
	tuesday  = monday.AddDate(0, 0, 1)
	thursday = monday.AddDate(0, 0, 3)
	friday   = monday.AddDate(0, 0, 4)
)

// at returns the time hour:minute on day.
func at(day time.Time, hour, minute int) time.Time {
	return day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// storyClock is the clock the incident runs on. The story sets it as
// events happen, so that the output shows a real incident over a working
// week and is the same on every run. A real program leaves Config.Clock out
// and gets the system clock.
type storyClock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the time the story has reached.
func (c *storyClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the story to t.
func (c *storyClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// response is the incident being worked, and what works it.
type response struct {
	r      *ir.Responder
	locker *evidence.Locker
	clock  *storyClock
	id     ir.ID
	out    io.Writer
	// watch is the recovery task that outlasts the reinfection.
	watch int
}

func run(ctx context.Context, dir string, out io.Writer) (err error) {
	// The story's clock, and IDs numbered from INC-2026-0042, make the
	// output the same on every run but for the incident's number. A real
	// program leaves Clock and IDs out: it gets the system clock and
	// time-sortable IDs.
	clock := &storyClock{now: monday}
	var id ir.ID
	// SANS, with preserved evidence required before eradication.
	model, err := phases.WithEvidencePreserved(phases.SANS)
	if err != nil {
		return err
	}
	// Everything durable is in dir: the SQLite store keeping incidents,
	// timelines and chains of custody, the evidence files, and the key
	// that signs custody checkpoints, made on the first run. Collecting
	// evidence records its custody in the same transaction as the
	// incident change. ir.NewMemoryStore() keeps everything in memory
	// instead, and the postgres package shares one database between
	// many instances.
	d, err := sqlite.OpenDir(ctx, dir, sqlite.DirConfig{
		KeyName: "custody.quickstart.example",
		Responder: ir.Config{
			Model: model,
			Clock: clock,
			IDs:   ir.IDGeneratorFunc(func() ir.ID { return id }),
			// Every change also leaves a notification in the store's
			// outbox, in the same transaction, for the dispatcher.
			Outbox: true,
		},
		// Fixed item IDs keep the output the same on every run; a real
		// program leaves NewID out and gets time-sortable UUIDs.
		Locker: evidence.LockerConfig{NewID: itemIDs()},
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.Close(ctx)) }()
	notes, err := startNotifications(d, clock)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, notes.Close()) }()
	earlier, err := printEarlier(ctx, d.Store, d.Locker, dir, out)
	if err != nil {
		return err
	}
	id = ir.ID(fmt.Sprintf("INC-2026-%04d", 42+earlier))

	s := &response{r: d.Responder, locker: d.Locker, clock: clock, out: out}
	for _, step := range []func(context.Context) error{
		s.open,
		s.identify,
		s.contain,
		s.eradicate,
		s.recover,
		s.reinfection,
		s.review,
		s.close,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	if err := s.print(ctx); err != nil {
		return err
	}
	if err := notes.drain(ctx, s.id, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "Everything above is kept in %s; run the program again to find it there.\n", dir)
	return nil
}

// printEarlier lists the incidents earlier runs left in the store, with
// the verification of each one's chain of custody, and returns how many
// there are.
func printEarlier(ctx context.Context, store ir.Store, locker *evidence.Locker, dir string, out io.Writer) (int, error) {
	var all []*ir.Incident
	for q := (ir.Query{}); ; {
		page, err := store.List(ctx, q)
		if err != nil {
			return 0, err
		}
		all = append(all, page.Incidents...)
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if len(all) == 0 {
		fmt.Fprintf(out, "%s is a new store.\n\n", dir)
		return 0, nil
	}
	fmt.Fprintf(out, "%s holds %d incident(s) from earlier runs:\n", dir, len(all))
	for _, inc := range all {
		rep, err := locker.Verify(ctx, inc.ID.Case())
		if err != nil {
			return 0, err
		}
		verdict := "custody verified"
		if rep.Err() != nil {
			verdict = "CUSTODY FAILED VERIFICATION: " + rep.Err().Error()
		}
		fmt.Fprintf(out, "  %s  %s, %s, version %d, %d exhibit(s), %s\n",
			inc.ID, inc.Title, inc.Phase, inc.Version, len(inc.Evidence), verdict)
	}
	fmt.Fprintln(out)
	return len(all), nil
}

// open: the mail gateway opens the incident when staff report the e-mail.
func (s *response) open(ctx context.Context) error {
	s.clock.Set(at(monday, 9, 0))
	inc, err := s.r.Open(ctx, mailGateway, ir.NewIncident{
		Title:    "Credential phishing against the finance team",
		Summary:  "A fake payroll update asked finance staff to sign in and open an attached spreadsheet.",
		Severity: ir.SeverityHigh,
		Category: ir.CategoryPhishing,
		Labels:   []string{"finance", "phishing"},
		// The first message arrived at 07:52; the first report came at 08:41.
		OccurredAt: at(monday, 7, 52),
		DetectedAt: at(monday, 8, 41),
		Observables: []ir.Observable{
			{Type: ir.ObservableDomain, Value: "payroll-update.example", Malicious: true,
				Description: "sender domain of the phishing e-mail"},
			{Type: ir.ObservableURL, Value: "https://payroll-update.example/o365/login.php", Malicious: true,
				Description: "credential-harvesting page linked from the e-mail"},
		},
	})
	if err != nil {
		return err
	}
	s.id = inc.ID
	fmt.Fprintf(s.out, "%s  %s opened %s.\n", stamp(s.clock.Now()), mailGateway, inc.ID)
	return nil
}

// identify: the analyst on call confirms the incident and scopes it.
func (s *response) identify(ctx context.Context) error {
	s.clock.Set(at(monday, 9, 7))
	if _, err := s.r.Assign(ctx, dana, s.id, ir.RoleAnalyst, dana); err != nil {
		return err
	}
	s.clock.Set(at(monday, 9, 8))
	if _, err := s.r.Transition(ctx, dana, s.id, phases.Identify, "three finance staff reported the same e-mail"); err != nil {
		return err
	}
	tasks, err := s.addTasks(ctx, dana,
		"List every recipient of the e-mail",
		"Review the recipients' sign-ins since 07:50")
	if err != nil {
		return err
	}

	s.clock.Set(at(monday, 9, 31))
	if err := s.complete(ctx, dana, tasks[0], "14 recipients, all in finance; 2 clicked the link"); err != nil {
		return err
	}
	s.clock.Set(at(monday, 9, 38))
	if _, err := s.r.AddObservable(ctx, dana, s.id, ir.Observable{
		Type: ir.ObservableIP, Value: "203.0.113.47", Malicious: true,
		Description: "signed in as j.lindqvist with the stolen password",
	}); err != nil {
		return err
	}
	for _, a := range []ir.Asset{
		{Kind: ir.AssetAccount, Name: "j.lindqvist", Description: "finance officer; entered her password on the fake page"},
		{Kind: ir.AssetHost, Name: "FIN-LT-023", Description: "j.lindqvist's laptop; the spreadsheet was opened on it"},
	} {
		if _, err := s.r.AddAsset(ctx, dana, s.id, a); err != nil {
			return err
		}
	}
	s.clock.Set(at(monday, 9, 41))
	return s.complete(ctx, dana, tasks[1], "one sign-in from 203.0.113.47 at 08:03, which added an inbox rule forwarding mail outside")
}

// contain: the model wants an incident commander before containment starts.
// Dana tries anyway, the guard refuses and says why, and Alice takes
// command.
func (s *response) contain(ctx context.Context) error {
	s.clock.Set(at(monday, 9, 45))
	_, err := s.r.Transition(ctx, dana, s.id, phases.Contain, "the compromised account is known")
	var refused *phases.GuardError
	if !errors.As(err, &refused) {
		return fmt.Errorf("containment before a commander was assigned: want a guard refusal, got %v", err)
	}
	fmt.Fprintf(s.out, "%s  %s tried to start containment; the model refused:\n", stamp(s.clock.Now()), dana)
	for _, why := range refused.Refusals {
		fmt.Fprintf(s.out, "                  - %v\n", why.Reason)
	}

	s.clock.Set(at(monday, 9, 52))
	if _, err := s.r.Assign(ctx, alice, s.id, ir.RoleCommander, alice); err != nil {
		return err
	}
	if _, err := s.r.Assign(ctx, alice, s.id, ir.RoleScribe, ben); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s  %s took command; %s keeps the record.\n", stamp(s.clock.Now()), alice, ben)

	s.clock.Set(at(monday, 9, 55))
	if _, err := s.r.Decide(ctx, alice, s.id, ir.Decision{
		Summary: "Contain now: reset the password, revoke sessions, isolate the laptop",
		Options: []string{
			"Watch the attacker for a day to learn more",
			"Contain now: reset the password, revoke sessions, isolate the laptop",
		},
		Rationale: "The account can approve payments; the risk of fraud outweighs what watching would teach us.",
	}); err != nil {
		return err
	}
	s.clock.Set(at(monday, 9, 56))
	if _, err := s.r.Transition(ctx, alice, s.id, phases.Contain, "commander assigned; one compromised account"); err != nil {
		return err
	}
	tasks, err := s.addTasks(ctx, alice,
		"Reset j.lindqvist's password and revoke her sessions",
		"Remove the forwarding inbox rule",
		"Block the sender domain and 203.0.113.47 at the mail gateway and proxy",
		"Isolate FIN-LT-023 from the network")
	if err != nil {
		return err
	}
	s.clock.Set(at(monday, 10, 4))
	if err := s.complete(ctx, dana, tasks[0], "done; no further sign-ins from the attacker"); err != nil {
		return err
	}
	if err := s.complete(ctx, dana, tasks[1], "rule removed; 37 messages had been forwarded"); err != nil {
		return err
	}
	s.clock.Set(at(monday, 10, 20))
	if err := s.complete(ctx, raj, tasks[2], "blocked"); err != nil {
		return err
	}
	s.clock.Set(at(monday, 10, 42))
	if _, err := s.r.AddObservable(ctx, raj, s.id, ir.Observable{
		Type: ir.ObservableSHA256, Value: "9f2c6b8e4a1d7053c3e8b5f0a2d4c6e8f1a3b5c7d9e0f2a4b6c8d0e2f4a6b8c1", Malicious: true,
		Description: "loader dropped by the spreadsheet's macro",
	}); err != nil {
		return err
	}
	s.clock.Set(at(monday, 11, 10))
	if err := s.collect(ctx, dana, "mail-gw-2026-03-02.log", evidence.KindLog, "mail-gw01",
		"the phishing e-mail's delivery and the forwarding rule's traffic", "log export"); err != nil {
		return err
	}
	s.clock.Set(at(monday, 11, 25))
	image, err := s.collectItem(ctx, raj, "FIN-LT-023-memory.raw", evidence.KindMemoryDump, "FIN-LT-023",
		"memory before isolation, for the loader", "WinPmem 4.0.rc2")
	if err != nil {
		return err
	}
	s.clock.Set(at(monday, 11, 30))
	if err := s.complete(ctx, raj, tasks[3], "isolated by the endpoint agent; memory image taken first"); err != nil {
		return err
	}
	// The image goes to the forensic examiner, on the commander's
	// authority: a transfer in the chain of custody.
	s.clock.Set(at(monday, 11, 35))
	_, err = s.locker.Record(ctx, evidence.Record{
		Case: s.id.Case(), Item: image.ID, Action: evidence.ActionTransferred,
		Actor: party(raj), From: party(raj), To: examiner, Authority: "Alice Moreau, incident commander",
		Location: "Forensics lab, room 2.14", Reason: "analysis of the loader", Digest: image.Digests.SHA256,
	})
	return err
}

// examiner is the forensic examiner who receives a memory image.
var examiner = evidence.Party{ID: "mia", Name: "Mia Lund", Organization: "Northgate Forensics"}

// party turns an actor into a party to the chain of custody.
func party(a ir.Actor) evidence.Party { return evidence.Party{ID: a.ID, Name: a.Name} }

// collect takes an item of evidence in; see collectItem.
func (s *response) collect(ctx context.Context, by ir.Actor, name string, kind evidence.Kind, host, reason, tool string) error {
	_, err := s.collectItem(ctx, by, name, kind, host, reason, tool)
	return err
}

// collectItem takes an item of evidence in for the incident. The content
// here is a stand-in; a real program passes the file or stream it
// collected.
func (s *response) collectItem(ctx context.Context, by ir.Actor, name string, kind evidence.Kind, host, reason, tool string) (evidence.Item, error) {
	content := strings.NewReader("stand-in content of " + name + " from " + host + "\n")
	return s.r.CollectEvidence(ctx, by, s.id, evidence.Collection{
		Name: name, Kind: kind, Content: content, Source: evidence.Source{Host: host},
		CollectedBy: party(by), Location: "Evidence locker A", Reason: reason, Tool: tool, SHA1: true, MD5: true,
	})
}

// eradicate: remove the cause.
func (s *response) eradicate(ctx context.Context) error {
	s.clock.Set(at(monday, 11, 40))
	if _, err := s.r.Transition(ctx, alice, s.id, phases.Eradicate, "account secured, laptop isolated, indicators blocked"); err != nil {
		return err
	}
	tasks, err := s.addTasks(ctx, alice,
		"Purge the e-mail from every mailbox",
		"Reimage FIN-LT-023",
		"Sweep all endpoints for the loader's hash")
	if err != nil {
		return err
	}
	s.clock.Set(at(monday, 12, 15))
	if err := s.complete(ctx, dana, tasks[0], "purged from 14 mailboxes"); err != nil {
		return err
	}
	s.clock.Set(at(monday, 15, 30))
	if err := s.complete(ctx, raj, tasks[1], "reimaged from the gold image"); err != nil {
		return err
	}
	s.clock.Set(at(monday, 16, 45))
	return s.complete(ctx, raj, tasks[2], "no other endpoint has the file")
}

// recover: bring systems back and watch for the attacker's return.
func (s *response) recover(ctx context.Context) error {
	s.clock.Set(at(monday, 17, 10))
	if _, err := s.r.Transition(ctx, alice, s.id, phases.Recover, "cause removed"); err != nil {
		return err
	}
	tasks, err := s.addTasks(ctx, alice,
		"Return FIN-LT-023 to its user",
		"Watch the finance team's sign-ins and endpoints for 48 hours")
	if err != nil {
		return err
	}
	s.watch = tasks[1]
	s.clock.Set(at(tuesday, 8, 30))
	return s.complete(ctx, raj, tasks[0], "returned; j.lindqvist signed in with a new password and MFA")
}

// reinfection: the watch finds the loader on a second laptop, which sends
// the incident back to containment, then through eradication and recovery
// again.
func (s *response) reinfection(ctx context.Context) error {
	s.clock.Set(at(tuesday, 10, 15))
	if _, err := s.r.AddAsset(ctx, raj, s.id, ir.Asset{
		Kind: ir.AssetHost, Name: "FIN-LT-031",
		Description: "laptop of the second person who clicked; the loader ran from a scheduled task",
	}); err != nil {
		return err
	}
	if _, err := s.r.AddNote(ctx, raj, s.id, "The loader started on FIN-LT-031 from a scheduled task; the hash sweep missed it because the file was renamed."); err != nil {
		return err
	}
	s.clock.Set(at(tuesday, 10, 21))
	if _, err := s.r.Transition(ctx, alice, s.id, phases.ReturnToContainment, "reinfection: the loader is active on FIN-LT-031"); err != nil {
		return err
	}
	tasks, err := s.addTasks(ctx, alice, "Isolate FIN-LT-031 from the network")
	if err != nil {
		return err
	}
	s.clock.Set(at(tuesday, 10, 35))
	if err := s.collect(ctx, raj, "FIN-LT-031-memory.raw", evidence.KindMemoryDump, "FIN-LT-031",
		"memory of the reinfected laptop", "WinPmem 4.0.rc2"); err != nil {
		return err
	}
	s.clock.Set(at(tuesday, 10, 40))
	if err := s.complete(ctx, raj, tasks[0], "isolated; memory image taken first"); err != nil {
		return err
	}
	s.clock.Set(at(tuesday, 10, 55))
	if _, err := s.r.Decide(ctx, alice, s.id, ir.Decision{
		Summary: "Hunt for the scheduled task on every finance laptop before recovering again",
		Options: []string{
			"Reimage FIN-LT-031 and recover at once",
			"Hunt for the scheduled task on every finance laptop first",
		},
		Rationale: "The hash sweep missed a renamed file, so it cannot prove the other laptops are clean.",
	}); err != nil {
		return err
	}

	s.clock.Set(at(tuesday, 11, 0))
	if _, err := s.r.Transition(ctx, alice, s.id, phases.Eradicate, "FIN-LT-031 isolated"); err != nil {
		return err
	}
	tasks, err = s.addTasks(ctx, alice,
		"Reimage FIN-LT-031",
		"Hunt for the loader's scheduled task on every finance laptop")
	if err != nil {
		return err
	}
	s.clock.Set(at(tuesday, 14, 10))
	if err := s.complete(ctx, raj, tasks[0], "reimaged from the gold image"); err != nil {
		return err
	}
	s.clock.Set(at(tuesday, 16, 20))
	if err := s.complete(ctx, raj, tasks[1], "38 laptops checked; no other scheduled task found"); err != nil {
		return err
	}

	s.clock.Set(at(tuesday, 16, 30))
	if _, err := s.r.Transition(ctx, alice, s.id, phases.Recover, "no other laptop affected"); err != nil {
		return err
	}
	// The 48-hour watch from the first recovery is still open, a required
	// task of Recovery: the model will not leave Recovery until it is done.
	tasks, err = s.addTasks(ctx, alice, "Return FIN-LT-031 to its user")
	if err != nil {
		return err
	}
	s.clock.Set(at(tuesday, 17, 5))
	if err := s.complete(ctx, raj, tasks[0], "returned"); err != nil {
		return err
	}
	s.clock.Set(at(thursday, 16, 45))
	return s.complete(ctx, dana, s.watch, "48 hours without a sign-in from the attacker or a new alert")
}

// review: the lessons-learned review, recorded with its root cause and
// follow-up actions (the model closes only once it is), then the verdict.
func (s *response) review(ctx context.Context) error {
	s.clock.Set(at(thursday, 17, 0))
	if _, err := s.r.Transition(ctx, alice, s.id, phases.Review, "48 quiet hours"); err != nil {
		return err
	}
	tasks, err := s.addTasks(ctx, alice,
		"Hold the lessons-learned review",
		"Write and circulate the incident report")
	if err != nil {
		return err
	}
	s.clock.Set(at(friday, 11, 0))
	if err := s.complete(ctx, alice, tasks[0], "held with finance, IT and security"); err != nil {
		return err
	}
	s.clock.Set(at(friday, 11, 20))
	if _, err := s.r.Decide(ctx, alice, s.id, ir.Decision{
		Summary:   "Block macros in files from the internet for every finance laptop",
		Options:   []string{"Train staff again", "Block internet macros by policy", "Both"},
		Rationale: "Training alone did not stop this attack; the policy costs finance nothing, as they use no macros from outside.",
	}); err != nil {
		return err
	}
	s.clock.Set(at(friday, 12, 0))
	if _, err := s.r.RecordReview(ctx, alice, s.id, ir.NewReview{
		Summary:             "A fake payroll e-mail took a finance officer's password and ran a macro on her laptop; the attacker reached a second laptop before containment. No payment was made.",
		RootCause:           "Office ran macros in spreadsheets from the internet on finance laptops.",
		ContributingFactors: []string{"The mail gateway let the look-alike sender through", "Finance laptops shared a local administrator password"},
		WentWell:            []string{"The officer reported the e-mail within the hour", "Memory was imaged before eradication"},
		WentPoorly:          []string{"The second laptop was found only during recovery"},
		LessonsLearned:      []string{"Block what users need not run, rather than train them not to run it"},
		FollowUps: []ir.NewFollowUp{
			{Title: "Block internet macros on every finance laptop", Owner: raj, Due: at(friday.AddDate(0, 0, 7), 17, 0)},
			{Title: "Give each laptop its own local administrator password", Owner: raj, Due: at(friday.AddDate(0, 0, 14), 17, 0)},
		},
	}); err != nil {
		return err
	}
	s.clock.Set(at(friday, 14, 30))
	if err := s.complete(ctx, ben, tasks[1], "sent to the CISO and the head of finance"); err != nil {
		return err
	}
	_, err = s.r.SetVerdict(ctx, alice, s.id, ir.VerdictTruePositive,
		"One account and two laptops compromised; no payment was made. Contained the same morning; a second laptop found during recovery was cleaned the next day.")
	return err
}

// close: a verdict is set and every task is done, so the model allows it.
func (s *response) close(ctx context.Context) error {
	s.clock.Set(at(friday, 15, 0))
	if _, err := s.r.Close(ctx, alice, s.id, "report circulated; follow-up actions tracked by IT"); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s  %s closed %s.\n\n", stamp(s.clock.Now()), alice, s.id)
	return nil
}

// addTasks adds required tasks to the incident's current phase and returns
// their IDs.
func (s *response) addTasks(ctx context.Context, actor ir.Actor, titles ...string) ([]int, error) {
	var ids []int
	for _, title := range titles {
		inc, err := s.r.AddTask(ctx, actor, s.id, ir.NewTask{Title: title, Required: true})
		if err != nil {
			return nil, err
		}
		ids = append(ids, inc.Tasks[len(inc.Tasks)-1].ID)
	}
	return ids, nil
}

// complete marks a task done with its outcome.
func (s *response) complete(ctx context.Context, actor ir.Actor, task int, outcome string) error {
	_, err := s.r.CompleteTask(ctx, actor, s.id, task, outcome)
	return err
}

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/evidence/bundle"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
)

// binary is the irctl program TestMain builds once for every test.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "irctl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "irctl")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building irctl:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs irctl on one data directory as one actor.
type cli struct {
	t     *testing.T
	data  string
	actor string
	// stdin, if set, is the next run's standard input.
	stdin string
}

// newCLI returns a cli on a fresh data directory, acting as Alice.
func newCLI(t *testing.T) *cli {
	return &cli{t: t, data: filepath.Join(t.TempDir(), "incidentkit-data"), actor: "alice:Alice Moreau"}
}

// result is what one run of irctl printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// run runs irctl with args and returns what it printed and its exit
// status.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), envData+"="+c.data, envActor+"="+c.actor)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin, c.stdin = strings.NewReader(c.stdin), ""
	err := cmd.Run()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		require.ErrorAs(c.t, err, &exit, "irctl %v", args)
		code = exit.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// ok runs irctl with args, requires it to succeed, and returns its output.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	require.Equal(c.t, 0, r.code, "irctl %v failed: %s", args, r.stderr)
	assert.Empty(c.t, r.stderr, "irctl %v wrote to stderr", args)
	return r.stdout
}

// fails runs irctl with args, requires it to exit with code, and returns
// its one-line error.
func (c *cli) fails(code int, args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	require.Equal(c.t, code, r.code, "exit status of irctl %v; stderr: %s", args, r.stderr)
	require.True(c.t, strings.HasPrefix(r.stderr, "irctl: "), "irctl %v: the error starts with irctl: %q", args, r.stderr)
	require.Equal(c.t, 1, strings.Count(r.stderr, "\n"), "irctl %v: the error is one line: %q", args, r.stderr)
	return r.stderr
}

// json runs irctl --json with args and decodes what it prints into v.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append([]string{"--json"}, args...)...)
	require.NoError(c.t, json.Unmarshal([]byte(out), v), "irctl --json %v printed %s", args, out)
}

// complete asks irctl to complete args as a shell would, and returns the
// candidates and the directive.
func (c *cli) complete(args ...string) string {
	c.t.Helper()
	r := c.run(append([]string{"__complete"}, args...)...)
	require.Equal(c.t, 0, r.code, r.stderr)
	return r.stdout
}

// open opens an incident and returns its ID.
func (c *cli) open(args ...string) string {
	c.t.Helper()
	var inc struct{ ID string }
	c.json(&inc, append([]string{"open"}, args...)...)
	require.Regexp(c.t, `^INC-\d{8}-\d{4}-[0-9a-f]{5}$`, inc.ID)
	return inc.ID
}

// TestWholeIncident drives one incident from opening to the review, the
// close, the review document and the custody bundle, as a responder would.
func TestWholeIncident(t *testing.T) {
	c := newCLI(t)
	id := c.open("Credential phishing against finance", "--severity", "high", "--category", "phishing",
		"--label", "finance", "--observable", "domain:payroll-update.example",
		"--occurred", "2026-01-05 07:52", "--detected", "2026-01-05T08:41:00Z")
	c.ok("act", id, "identify", "--reason", "three reports of the same e-mail")

	// Containment needs an incident commander: refused, saying what to do.
	msg := c.fails(exitRefused, "act", id, "contain", "--reason", "one account compromised")
	assert.Equal(t, "irctl: cannot contain "+id+": no incident commander is assigned (assign one: irctl assign "+id+" commander alice)\n", msg)
	out := c.ok("actions", id)
	assert.Regexp(t, `contain\s+containment\s+refused\s+no incident commander is assigned`, out)
	assert.Regexp(t, `dismiss\s+closed\s+refused\s+the verdict must be one of false_positive, benign`, out)

	c.ok("assign", id, "commander", "alice:Alice Moreau")
	assert.Contains(t, c.ok("task", "add", id, "Reset the finance accounts", "--required", "--assignee", "raj:Raj Patel"), "task 1 added")
	msg = c.fails(exitRefused, "act", id, "contain", "--reason", "one account compromised")
	assert.Contains(t, msg, "required tasks of identification not done: Reset the finance accounts (finish them: irctl task done "+id+" TASK)")
	c.ok("task", "done", id, "1", "--outcome", "14 accounts reset")
	var actions struct {
		Actions []struct {
			Action  string
			Allowed bool
		}
	}
	c.json(&actions, "actions", id)
	assert.Contains(t, actions.Actions, struct {
		Action  string
		Allowed bool
	}{"contain", true})
	assert.Contains(t, c.ok("act", id, "contain", "--reason", "one account compromised"), "phase containment")

	c.ok("observable", "add", id, "ip", "203.0.113.7", "--malicious", "--description", "the phishing site")
	c.ok("note", id, "the mailbox rule forwarded 212 messages")
	c.ok("update", id, "Contained; no customer data involved so far.", "--audience", "executives")
	assert.Contains(t, c.ok("decide", id, "Reimage FIN-LT-023", "--option", "clean in place", "--option", "reimage",
		"--rationale", "the loader persists"), "decision 1 recorded")
	c.ok("severity", id, "critical", "--reason", "payroll data reached the attacker")

	evidenceFile := filepath.Join(t.TempDir(), "mail-gw.log")
	require.NoError(t, os.WriteFile(evidenceFile, []byte("Dec  6 08:41:02 gw accepted from payroll-update.example\n"), 0o600))
	r := c.run("evidence", "add", id, evidenceFile, "--kind", "log", "--host", "mail-gw", "--reason", "the e-mail's delivery", "--all-digests")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr, "no progress bar when stderr is not a terminal")
	assert.Regexp(t, `^EX-001 \S+ collected into `+id+`: mail-gw.log, 56 bytes, sha256:[0-9a-f]{64}\n$`, r.stdout)
	out = c.ok("custody", id, "EX-001")
	assert.Regexp(t, `0\s+\S+ \S+\s+collected\s+Alice Moreau\s+reason: the e-mail's delivery`, out)
	assert.Contains(t, c.ok("verify", id), "VERIFIED")

	for _, a := range []string{"eradicate", "recover", "review"} {
		c.ok("act", id, a, "--reason", "on to "+a)
	}
	msg = c.fails(exitRefused, "close", id, "--reason", "done")
	assert.Contains(t, msg, "cannot close "+id+": no verdict is set; no post-incident review is recorded")
	assert.Contains(t, msg, "irctl review "+id+" --summary")
	c.ok("review", id, "--summary", "A fake payroll update harvested one password.", "--root-cause", "No phishing-resistant MFA",
		"--factor", "link rewriting off for finance", "--went-well", "reported within the hour", "--lesson", "route EDR alerts to on-call",
		"--follow-up", "Roll out FIDO2 keys")
	assert.Contains(t, c.ok("followup", "add", id, "Turn link rewriting on", "--owner", "it:IT Security", "--due", "2027-01-31", "--ref", "SEC-1412"),
		"follow-up 2 added")
	// A revision keeps what it does not replace.
	c.ok("review", id, "--lesson", "test the phishing playbook quarterly")
	assert.Contains(t, c.ok("close", id, "--verdict", "true_positive", "--resolution", "accounts reset, laptop reimaged", "--reason", "review held"),
		"phase closed")
	c.ok("followup", "done", id, "1", "--outcome", "keys issued")

	out = c.ok("show", id)
	for _, want := range []string{
		"Status:        closed, phase closed (Closed, model sans-picerl)",
		"Severity:      critical, priority P2",
		"incident_commander: Alice Moreau (alice)",
		"moved the incident from Lessons Learned to Closed",
		"collected exhibit EX-001, mail-gw.log",
	} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, `Root cause:\s+No phishing-resistant MFA\n`, out)
	assert.Regexp(t, `Lessons:\s+test the phishing playbook quarterly\n`, out)
	var shown struct {
		Incident struct {
			Review struct {
				Summary  string
				Revision int
			}
			FollowUps []struct{ Done bool } `json:"follow_ups"`
		}
		Timeline []struct{ Type string }
	}
	c.json(&shown, "show", id)
	assert.Equal(t, "A fake payroll update harvested one password.", shown.Incident.Review.Summary)
	assert.Equal(t, 2, shown.Incident.Review.Revision)
	require.Len(t, shown.Incident.FollowUps, 2)
	assert.True(t, shown.Incident.FollowUps[0].Done)
	assert.Equal(t, "opened", shown.Timeline[0].Type)

	// The listing and its filters.
	assert.Contains(t, c.ok("list", "--closed", "--category", "phishing", "--label", "finance", "--severity", "critical"), id)
	assert.Equal(t, "No incidents match.\n", c.ok("list", "--open"))
	assert.Equal(t, "No incidents match.\n", c.ok("list", "--category", "malware"))
	var listed []struct{ ID, Phase string }
	c.json(&listed, "list", "--phase", "closed")
	require.Len(t, listed, 1)
	assert.Equal(t, id, listed[0].ID)

	// The review document, in both formats.
	md := c.ok("report", id)
	assert.True(t, strings.HasPrefix(md, "# Post-incident review: Credential phishing against finance\n"), md[:80])
	assert.Contains(t, md, "No phishing-resistant MFA")
	htmlFile := filepath.Join(t.TempDir(), "review.html")
	assert.Contains(t, c.ok("report", id, "--format", "html", "-o", htmlFile), "Wrote the review document")
	page, err := os.ReadFile(htmlFile)
	require.NoError(t, err)
	assert.Contains(t, string(page), "<svg")
	assert.Contains(t, string(page), "No phishing-resistant MFA")

	// The custody bundle verifies against the key export names.
	bundleFile := filepath.Join(t.TempDir(), "bundle.tar")
	var exported struct {
		File        string
		VerifierKey string `json:"verifier_key"`
	}
	c.json(&exported, "export", id, "-o", bundleFile, "--content")
	assert.Equal(t, bundleFile, exported.File)
	f, err := os.Open(bundleFile)
	require.NoError(t, err)
	defer f.Close()
	b, err := bundle.Read(context.Background(), f, nil, bundle.Limits{})
	require.NoError(t, err)
	rep, err := b.Verify(bundle.Trust{VerifierKey: exported.VerifierKey})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "bundle: %v", rep.Err())
	assert.Equal(t, 1, rep.BlobsChecked)

	// The incident as an OCSF Incident Finding and as a STIX bundle.
	ocsfFile := filepath.Join(t.TempDir(), "finding.json")
	assert.Contains(t, c.ok("export", id, "--format", "ocsf", "-o", ocsfFile), "Wrote the OCSF Incident Finding of "+id)
	raw, err := os.ReadFile(ocsfFile)
	require.NoError(t, err)
	var finding struct {
		ClassUID        int                    `json:"class_uid"`
		StatusID        int                    `json:"status_id"`
		FindingInfoList []struct{ UID string } `json:"finding_info_list"`
	}
	require.NoError(t, json.Unmarshal(raw, &finding))
	assert.Equal(t, 2005, finding.ClassUID)
	assert.Equal(t, 5, finding.StatusID, "closed")
	assert.Equal(t, id, finding.FindingInfoList[0].UID)
	var stixBundle struct {
		Type    string
		Objects []struct{ Type, Name string }
	}
	require.NoError(t, json.Unmarshal([]byte(c.ok("export", id, "--format", "stix", "-o", "-")), &stixBundle))
	assert.Equal(t, "bundle", stixBundle.Type)
	assert.True(t, slices.ContainsFunc(stixBundle.Objects, func(o struct{ Type, Name string }) bool {
		return o.Type == "incident" && o.Name == "Credential phishing against finance"
	}))

	var metrics struct {
		All        struct{ Incidents int }
		BySeverity map[string]struct{ Incidents int } `json:"by_severity"`
	}
	c.json(&metrics, "metrics")
	assert.Equal(t, 1, metrics.All.Incidents)
	assert.Equal(t, 1, metrics.BySeverity["critical"].Incidents)
	assert.Regexp(t, `(?m)^critical\s+1\s+49m / 49m / 49m\s+`, c.ok("metrics"))

	assert.Contains(t, c.ok("reopen", id, "--reason", "the same sender is back"), "phase identification")
}

// TestBadInput checks that bad input, unknown names and refusals each
// exit with their own status and a one-line message.
func TestBadInput(t *testing.T) {
	c := newCLI(t)
	id := c.open("Lost laptop", "--severity", "medium", "--category", "lost_device")

	assert.Contains(t, c.fails(exitInvalid, "bogus"), `unknown command "bogus"`)
	assert.Contains(t, c.fails(exitInvalid, "open"), "irctl open takes TITLE; got 0 argument(s)")
	assert.Contains(t, c.fails(exitInvalid, "open", "x", "--no-such-flag"), "unknown flag: --no-such-flag")
	assert.Contains(t, c.fails(exitInvalid, "open", "x"), `"severity" not set`)
	assert.Contains(t, c.fails(exitInvalid, "open", "x", "--severity", "huge"), `invalid severity "huge"`)
	assert.Contains(t, c.fails(exitInvalid, "open", "x", "--severity", "low", "--model", "itil"), "irctl models")
	assert.Contains(t, c.fails(exitInvalid, "act", id, "fly"), "no such action")
	assert.Contains(t, c.fails(exitInvalid, "task", "done", id, "one"), "must be a task number")
	assert.Contains(t, c.fails(exitInvalid, "observable", "add", id, "ip", "not-an-address"), "ip")
	assert.Contains(t, c.fails(exitInvalid, "followup", "add", id, "x", "--due", "tomorrow"), "YYYY-MM-DD")
	assert.Contains(t, c.fails(exitInvalid, "report", id, "--format", "pdf"), "use md or html")
	assert.Contains(t, c.fails(exitInvalid, "list", "--open", "--closed"), "exclude each other")
	assert.Contains(t, c.fails(exitInvalid, "--actor", ":Nobody", "note", id, "x"), "actor")

	assert.Equal(t, "irctl: no incident INC-NOPE (list them: irctl list)\n", c.fails(exitNotFound, "show", "INC-NOPE"))
	c.fails(exitNotFound, "note", "INC-NOPE", "hello")
	assert.Contains(t, c.fails(exitNotFound, "custody", id, "EX-042"), "no evidence item EX-042 in "+id)
	assert.Contains(t, c.fails(exitNotFound, "task", "done", id, "7"), "task")
	assert.Contains(t, c.fails(exitNotFound, "deliveries", "replay", "99"), "irctl deliveries --dead")
	assert.Contains(t, c.fails(exitNotFound, "export", id), "irctl evidence add "+id)
	assert.Contains(t, c.fails(exitInvalid, "export", id, "--format", "pdf"), "use custody, ocsf or stix")
	assert.Contains(t, c.fails(exitInvalid, "export", id, "--format", "stix", "--content"), "--format custody only")

	// A refusal by the phase: eradication does not leave from preparation.
	msg := c.fails(exitRefused, "act", id, "eradicate", "--reason", "too early")
	assert.Contains(t, msg, "cannot eradicate "+id+": ")
	assert.Contains(t, msg, "it is in preparation (see what it can do: irctl actions "+id+")")
	assert.Contains(t, c.fails(exitRefused, "reopen", id), "cannot reopen")
}

// TestTamperDetected alters an evidence file in the data directory and
// checks that verify reports it with the tampering status.
func TestTamperDetected(t *testing.T) {
	c := newCLI(t)
	id := c.open("Malware on a build server", "--severity", "high", "--category", "malware")
	c.ok("act", id, "identify")
	content := filepath.Join(t.TempDir(), "dropper.bin")
	require.NoError(t, os.WriteFile(content, []byte("MZ the dropper's bytes"), 0o600))
	c.ok("evidence", "add", id, content, "--kind", "file", "--reason", "the dropper")
	// Evidence streamed from standard input needs a name.
	c.stdin = "the dropper's network capture"
	assert.Contains(t, c.fails(exitInvalid, "evidence", "add", id, "-"), "--name")
	c.stdin = "the dropper's network capture"
	assert.Contains(t, c.ok("evidence", "add", id, "-", "--name", "dropper.pcap", "--kind", "packet_capture"), "EX-002")
	assert.Contains(t, c.ok("verify", id), "VERIFIED")
	// The dropper's content is altered in the locker; the capture is not.

	var blobs []string
	require.NoError(t, filepath.WalkDir(filepath.Join(c.data, sqlite.DirEvidence), func(path string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			blobs = append(blobs, path)
		}
		return err
	}))
	require.Len(t, blobs, 2)
	for _, b := range blobs {
		if !strings.HasSuffix(b, sha256hex("MZ the dropper's bytes")) {
			continue
		}
		require.NoError(t, os.Chmod(b, 0o600))
		require.NoError(t, os.WriteFile(b, []byte("MZ a different dropper"), 0o600))
	}

	r := c.run("verify", id)
	assert.Equal(t, exitTampered, r.code, r.stderr)
	assert.Contains(t, r.stdout, "FAILED: 1 problem(s):")
	assert.Contains(t, r.stdout, "tampered blob")
	assert.Equal(t, "irctl: custody of "+id+" does NOT verify: 1 problem(s) found (keep the data directory as it is, copy it for the investigation, and compare with a backup or an exported bundle)\n", r.stderr)
	var rep struct {
		OK       bool
		Problems []string
	}
	r = c.run("--json", "verify", id)
	assert.Equal(t, exitTampered, r.code)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.False(t, rep.OK)
	assert.Len(t, rep.Problems, 1)
}

// sha256hex is the SHA-256 of s in hex.
func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestDeliveries runs a dispatcher whose channel refuses every message on
// the data directory, then reads the record of communication and replays
// the dead deliveries with irctl.
func TestDeliveries(t *testing.T) {
	c := newCLI(t)
	id := c.open("Web shell on the intranet", "--severity", "critical", "--category", "web_attack")
	c.ok("update", id, "Investigating.", "--audience", "executives")

	ctx := context.Background()
	d, err := sqlite.OpenDir(ctx, c.data, sqlite.DirConfig{})
	require.NoError(t, err)
	router, err := notify.NewRouter(notify.Routing{Channels: []notify.ChannelRule{{Name: "soar"}}, Routes: []notify.Route{{Channels: []string{"soar"}}}})
	require.NoError(t, err)
	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: d.Store, Deliveries: d.Store, Router: router, Logger: slog.New(slog.DiscardHandler),
		Channels: map[string]notify.Notifier{"soar": notify.NotifierFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
			return notify.Receipt{}, notify.Permanent(errors.New("the SOAR refused the message"))
		})},
	})
	require.NoError(t, err)
	for {
		n, err := dispatcher.RunOnce(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	require.NoError(t, dispatcher.Close())
	require.NoError(t, d.Close(ctx))

	out := c.ok("deliveries", id)
	assert.Regexp(t, `(?m)^\d+\s+`+id+`\s+\S+ \S+\s+opened\s+soar\s+\S+\s+dead\s+1\s+.*the SOAR refused the message$`, out)
	assert.Regexp(t, `status_update\s+soar\s+executives\s+dead`, out)
	var dead []struct {
		ID     int64
		Status string
	}
	c.json(&dead, "deliveries", "--dead", "--channel", "soar")
	require.Len(t, dead, 2)

	assert.Contains(t, c.ok("deliveries", "replay", fmt.Sprint(dead[0].ID)), "is pending again")
	// Replaying it again: it is no longer dead.
	assert.Contains(t, c.fails(exitConflict, "deliveries", "replay", fmt.Sprint(dead[0].ID)), "not dead")
	assert.Equal(t, "1 dead deliveries to soar are pending again.\n", c.ok("deliveries", "replay", "--channel", "soar"))
	assert.Equal(t, "No deliveries.\n", c.ok("deliveries", "--dead"))
	assert.Contains(t, c.fails(exitInvalid, "deliveries", "replay"), "either a delivery ID or --channel")
}

// TestModelsAndCompletion checks the models, their diagrams, an incident
// on another model, and the completion of incident IDs and actions.
func TestModelsAndCompletion(t *testing.T) {
	c := newCLI(t)
	out := c.ok("models")
	for _, m := range []string{"sans-picerl", "nist-800-61r2", "dacer", "icarp"} {
		assert.Contains(t, out, m)
	}
	assert.True(t, strings.HasPrefix(c.ok("diagram", "--model", "nist-800-61r2"), "stateDiagram-v2\n"))

	id := c.open("DDoS on the shop", "--severity", "high", "--category", "denial_of_service", "--model", "nist-800-61r2")
	assert.Contains(t, c.ok("act", id, "detect", "--reason", "traffic alarm"), "phase detection_and_analysis")
	assert.Contains(t, c.ok("diagram", id), "%% NIST SP 800-61r2")
	// The random end of an ID is enough, as long as it names one incident.
	short := id[strings.LastIndex(id, "-")+1:]
	assert.Contains(t, c.ok("show", short), "ID:            "+id+"\n")
	assert.Contains(t, c.fails(exitRefused, "act", short, "contain"), "cannot contain "+id+": no incident commander is assigned")
	c.fails(exitNotFound, "show", "zzzzz")

	assert.Contains(t, c.complete("show", ""), id+"\tDDoS on the shop\n")
	assert.Contains(t, c.complete("act", id, ""), "contain\t")
	assert.Contains(t, c.complete("assign", id, ""), "commander\n")
	assert.Contains(t, c.ok("completion", "bash"), "__start_irctl")

	// Completion never creates a data directory.
	missing := &cli{t: t, data: filepath.Join(t.TempDir(), "none"), actor: "alice"}
	assert.Equal(t, ":4\n", missing.complete("show", ""))
	_, err := os.Stat(missing.data)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// TestExercise opens an exercise beside a real incident: it is marked in
// every view and left out of the metrics unless asked for.
func TestExercise(t *testing.T) {
	c := newCLI(t)
	real := c.open("Credential phishing against finance", "--severity", "high")
	drill := c.open("Tabletop: ransomware on the file server", "--severity", "critical", "--category", "ransomware", "--exercise")
	var inc struct{ Exercise bool }
	c.json(&inc, "show", real)
	assert.False(t, inc.Exercise)

	out := c.ok("list")
	assert.Regexp(t, drill+`.*\[EXERCISE\] Tabletop: ransomware on the file server`, out)
	assert.NotRegexp(t, real+`.*\[EXERCISE\]`, out)
	out = c.ok("show", drill)
	assert.Contains(t, out, "[EXERCISE] Tabletop")
	assert.Regexp(t, `Exercise:\s+yes`, out)
	assert.Contains(t, out, `opened exercise "Tabletop: ransomware on the file server"`)
	assert.Contains(t, c.ok("act", drill, "identify"), "[EXERCISE] Tabletop")

	var m struct {
		All       struct{ Incidents int }
		Exercises int
	}
	c.json(&m, "metrics")
	assert.Equal(t, 1, m.All.Incidents)
	assert.Equal(t, 1, m.Exercises)
	assert.Contains(t, c.ok("metrics"), "1 exercises left out (count them with --exercises)")
	c.json(&m, "metrics", "--exercises")
	assert.Equal(t, 2, m.All.Incidents)
}

package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
)

// TestAlertStorm sends 1,000 alerts over 10 keys, all at once, to two
// service instances sharing one store (each with its own Responder, as two
// processes would have): exactly one incident opens per key, and every
// other alert is a note on it.
func TestAlertStorm(t *testing.T) {
	store := ir.NewMemoryStore()
	alertStorm(t, []*server{newMemoryServer(t, store), newMemoryServer(t, store)}, 1000, false)
}

// TestAlertStormWithoutStarts is a storm of alerts that give no start and
// write their keys with stray spaces, on two instances sharing one store:
// still one incident a key.
func TestAlertStormWithoutStarts(t *testing.T) {
	store := ir.NewMemoryStore()
	alertStorm(t, []*server{newMemoryServer(t, store), newMemoryServer(t, store)}, 300, true)
}

// TestAlertStormSQLite is the storm on two service instances sharing one
// SQLite data directory, each with its own connections, as two processes
// would have.
func TestAlertStormSQLite(t *testing.T) {
	dir := t.TempDir()
	alertStorm(t, []*server{newSQLiteServerAt(t, dir, nil), newSQLiteServerAt(t, dir, nil)}, 1000, false)
}

func alertStorm(t *testing.T, servers []*server, alerts int, untidy bool) {
	const keys, senders = 10, 32
	started := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	work := make(chan int)
	results := make(chan AlertResult, alerts)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			s := servers[w%len(servers)]
			for i := range work {
				key := fmt.Sprintf("storm-%d", i%keys)
				sent, start := key, started
				if untidy {
					sent, start = strings.Repeat(" ", i%3)+key+strings.Repeat(" ", i%2), time.Time{}
				}
				r := s.do(request{method: "POST", path: "/v1/alerts", token: tokenAlerts, body: GenericAlerts{Alerts: []Alert{{
					Key: sent, Title: "Disk full on " + key, Severity: ir.SeverityHigh, Source: "storm-test", StartedAt: start,
					Labels: map[string]string{"host": key},
				}}}})
				if r.status != http.StatusOK {
					t.Errorf("alert %d: %d %s", i, r.status, r.body)
					continue
				}
				var res AlertResults
				r.json(t, &res)
				for _, x := range res.Results {
					results <- x
				}
			}
		})
	}
	for i := range alerts {
		work <- i
	}
	close(work)
	wg.Wait()
	close(results)

	opened := map[string]ir.ID{}
	byKey := map[string]map[ir.ID]int{}
	for res := range results {
		if res.Outcome == "opened" {
			_, dup := opened[res.Key]
			assert.False(t, dup, "key %s opened twice", res.Key)
			opened[res.Key] = res.Incident
		} else {
			assert.Equal(t, "appended", res.Outcome)
		}
		if byKey[res.Key] == nil {
			byKey[res.Key] = map[ir.ID]int{}
		}
		byKey[res.Key][res.Incident]++
	}
	assert.Len(t, opened, keys)
	for key, incs := range byKey {
		assert.Len(t, incs, 1, "key %s went to several incidents: %v", key, incs)
	}

	var page IncidentList
	servers[0].json("GET", "/v1/incidents?limit=100", tokenViewer, nil, http.StatusOK, &page)
	require.Len(t, page.Incidents, keys)
	for _, inc := range page.Incidents {
		key := strings.TrimPrefix(inc.Labels[0], "alert:")
		assert.Equal(t, opened[key], inc.ID)
		// The opened event and one note per other alert of the key.
		assert.Equal(t, int64(alerts/keys), inc.Version, "incident of %s", key)
	}
}

// alertmanagerPayload is a webhook as Alertmanager sends it.
func alertmanagerPayload(status string, alerts ...AlertmanagerAlert) AlertmanagerWebhook {
	return AlertmanagerWebhook{
		Version: "4", GroupKey: `{}:{alertname="DiskFull"}`, Status: status, Receiver: "incidentkit",
		GroupLabels: map[string]string{"alertname": "DiskFull"}, CommonLabels: map[string]string{"alertname": "DiskFull"},
		CommonAnnotations: map[string]string{}, ExternalURL: "http://alertmanager.example:9093", Alerts: alerts,
	}
}

func TestAlertmanagerWebhook(t *testing.T) {
	s := newSQLiteServer(t, nil)
	starts := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	alert := func(status, fingerprint, host string) AlertmanagerAlert {
		a := AlertmanagerAlert{Status: status, Fingerprint: fingerprint,
			Labels:      map[string]string{"alertname": "DiskFull", "instance": host, "severity": "critical"},
			Annotations: map[string]string{"summary": "Disk full on " + host, "description": "/var is 100% full"},
			StartsAt:    starts, GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=disk"}
		if status == "resolved" {
			a.EndsAt = starts.Add(5 * time.Minute)
		}
		return a
	}
	var res AlertResults
	res = AlertResults{}
	s.json("POST", "/v1/alerts/alertmanager", tokenAlerts, alertmanagerPayload("firing",
		alert("firing", "5ef77f1f8a3ecfc4", "db-1"), alert("firing", "9c2d5a0b1e6f7d3a", "db-2")), http.StatusOK, &res)
	require.Len(t, res.Results, 2)
	assert.Equal(t, "opened", res.Results[0].Outcome)
	assert.Equal(t, "opened", res.Results[1].Outcome)
	first := res.Results[0].Incident

	var inc ir.Incident
	s.json("GET", "/v1/incidents/"+string(first), tokenViewer, nil, http.StatusOK, &inc)
	assert.Equal(t, "Disk full on db-1", inc.Title)
	assert.Equal(t, ir.SeverityCritical, inc.Severity)
	assert.True(t, inc.HasLabel("alert:5ef77f1f8a3ecfc4"))
	assert.Contains(t, inc.Summary, "/var is 100% full")
	assert.Contains(t, inc.Summary, "instance=db-1")

	// The repeat notification while it fires: a timeline entry.
	res = AlertResults{}
	s.json("POST", "/v1/alerts/alertmanager", tokenAlerts, alertmanagerPayload("firing", alert("firing", "5ef77f1f8a3ecfc4", "db-1")), http.StatusOK, &res)
	assert.Equal(t, []AlertResult{{Key: "5ef77f1f8a3ecfc4", Outcome: "appended", Incident: first}}, res.Results)
	// Resolved: a note.
	res = AlertResults{}
	s.json("POST", "/v1/alerts/alertmanager", tokenAlerts, alertmanagerPayload("resolved", alert("resolved", "5ef77f1f8a3ecfc4", "db-1")), http.StatusOK, &res)
	assert.Equal(t, []AlertResult{{Key: "5ef77f1f8a3ecfc4", Outcome: "resolved", Incident: first}}, res.Results)
	// Resolved with no incident open: ignored.
	res = AlertResults{}
	s.json("POST", "/v1/alerts/alertmanager", tokenAlerts, alertmanagerPayload("resolved", alert("resolved", "0000aaaa0000bbbb", "web-1")), http.StatusOK, &res)
	assert.Equal(t, []AlertResult{{Key: "0000aaaa0000bbbb", Outcome: "ignored"}}, res.Results)

	var tl Timeline
	s.json("GET", "/v1/incidents/"+string(first)+"/timeline", tokenViewer, nil, http.StatusOK, &tl)
	var notes []string
	for _, e := range tl.Events {
		if e.Type == ir.EventNoteAdded {
			notes = append(notes, e.Data.(*ir.NoteAdded).Text)
		}
	}
	require.Len(t, notes, 2)
	assert.True(t, strings.HasPrefix(notes[0], "Alert fired again: Disk full on db-1"), notes[0])
	assert.True(t, strings.HasPrefix(notes[1], "Alert resolved: Disk full on db-1"), notes[1])

	// Once the incident is closed, the same alert firing again opens a new one.
	for _, step := range []struct{ path, body string }{
		{"/verdict", `{"verdict": "false_positive", "resolution": "a log rotation job was stuck"}`},
		{"/transitions", `{"action": "identify"}`},
		{"/transitions", `{"action": "dismiss", "reason": "not a security incident"}`},
	} {
		s.json("POST", "/v1/incidents/"+string(first)+step.path, tokenCommander, []byte(step.body), http.StatusOK, nil)
	}
	res = AlertResults{}
	s.json("POST", "/v1/alerts/alertmanager", tokenAlerts, alertmanagerPayload("firing", alert("firing", "5ef77f1f8a3ecfc4", "db-1")), http.StatusOK, &res)
	require.Len(t, res.Results, 1)
	assert.Equal(t, "opened", res.Results[0].Outcome)
	assert.NotEqual(t, first, res.Results[0].Incident)
}

func TestAlertIncidentID(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	id := alertIncidentID("5ef77f1f8a3ecfc4", 0, at)
	assert.Equal(t, id, alertIncidentID("5ef77f1f8a3ecfc4", 0, at), "the same alert, the same ID")
	assert.NotEqual(t, id, alertIncidentID("5ef77f1f8a3ecfc4", 1, at), "the key's next incident")
	assert.NotEqual(t, id, alertIncidentID("5ef77f1f8a3ecfc5", 0, at), "another key")
	s := string(id)
	require.Len(t, s, 36)
	assert.Equal(t, byte('8'), s[14], "version 8")
	assert.Contains(t, "89ab", string(s[19]), "RFC 9562 variant")
	// It sorts by the alert's start, among UUIDv7 IDs.
	before := string(ir.UUIDv7.NewID())
	later := alertIncidentID("k", 0, time.Now().Add(time.Hour))
	assert.True(t, slices.IsSorted([]string{s, before, string(later)}), "%s %s %s", s, before, later)
}

func TestAlertTextsAreCut(t *testing.T) {
	s := newMemoryServer(t, ir.NewMemoryStore())
	long := strings.Repeat("é", 300)
	var res AlertResults
	s.json("POST", "/v1/alerts", tokenAlerts, GenericAlerts{Alerts: []Alert{{Key: "long", Title: long, Summary: strings.Repeat("x", ir.MaxBodyText)}, {Key: "untitled"}}}, http.StatusOK, &res)
	require.Len(t, res.Results, 2)
	var inc ir.Incident
	s.json("GET", "/v1/incidents/"+string(res.Results[0].Incident), tokenViewer, nil, http.StatusOK, &inc)
	assert.LessOrEqual(t, len(inc.Title), ir.MaxShortText)
	assert.True(t, strings.HasSuffix(inc.Title, "…"))
	assert.True(t, utf8.ValidString(inc.Title))
	s.json("GET", "/v1/incidents/"+string(res.Results[1].Incident), tokenViewer, nil, http.StatusOK, &inc)
	assert.Equal(t, "Alert untitled", inc.Title)
}

package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/incidentkit/incidentkit/notify"
)

// channelKinds says what each channel delivers to.
var channelKinds = map[string]string{
	"soar":            "signed CloudEvents webhook to a SOAR endpoint",
	"exec-mail":       "e-mail through SMTP with STARTTLS and AUTH",
	"ir-chat":         "Slack incoming webhook, the responders' channel",
	"customer-status": "Slack incoming webhook shared with customers",
}

// printSetup says what runs where.
func (x *example) printSetup() {
	fmt.Fprintf(x.out, "SQLite store with the outbox on, a dispatcher beside the Responder, and on loopback:\n")
	for _, c := range x.rules.Channels {
		fmt.Fprintf(x.out, "  %-16s %-50s cleared for %s\n", c.Name, channelKinds[c.Name], x.maxTLP(c.Name))
	}
	fmt.Fprintf(x.out, "Routes, the first that matches wins unless it continues:\n")
	for _, r := range x.rules.Routes {
		var match []string
		if len(r.Events) > 0 {
			match = append(match, strings.Join(r.Events, ", "))
		}
		for _, a := range r.Audiences {
			match = append(match, "for "+string(a))
		}
		if r.MinSeverity != "" {
			match = append(match, r.MinSeverity+" severity and above")
		}
		if len(match) == 0 {
			match = append(match, "any message")
		}
		to := strings.Join(r.Channels, ", ")
		if r.Continue {
			to += ", and continue"
		}
		fmt.Fprintf(x.out, "  %-11s %-51s → %s\n", r.Name, strings.Join(match, "; "), to)
	}
	fmt.Fprintln(x.out)
}

// maxTLP returns the most restricted TLP label channel may receive.
func (x *example) maxTLP(channel string) notify.TLP {
	for _, c := range x.rules.Channels {
		if c.Name == channel && c.MaxTLP != "" {
			return c.MaxTLP
		}
	}
	return notify.TLPAmber
}

// printSOAR prints what the SOAR endpoint received.
func (x *example) printSOAR() error {
	events, ids := x.soar.received()
	_, verified := x.soar.refusals()
	if verified != len(events) {
		return fmt.Errorf("the SOAR endpoint verified %d requests and received %d events", verified, len(events))
	}
	fmt.Fprintf(x.out, "  soar: %d CloudEvents, each with its Standard Webhooks signature verified\n", len(events))
	for i, ev := range events {
		if ev.ID != ids[i] {
			return fmt.Errorf("CloudEvent %s came with webhook-id %s", ev.ID, ids[i])
		}
		fmt.Fprintf(x.out, "    %-18s %-44s %s\n", ev.ID, ev.Type, ev.Data.Event.Sentence())
	}
	return nil
}

// printMail prints what the SMTP server received.
func (x *example) printMail() error {
	msgs, err := x.mail.received()
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return fmt.Errorf("the SMTP server received nothing")
	}
	first := msgs[0]
	fmt.Fprintf(x.out, "  exec-mail: %d e-mails to %s, over %s with AUTH as %s, in one thread:\n",
		len(msgs), strings.Join(first.To, ", "), first.TLS, first.User)
	fmt.Fprintf(x.out, "    Subject: %s\n", first.Subject)
	for i, m := range msgs {
		if m.TLS == "" || m.User == "" {
			return fmt.Errorf("e-mail %s arrived without TLS or AUTH", m.MessageID)
		}
		if (i == 0) != (m.InReplyTo == "") || (i > 0 && m.InReplyTo != first.MessageID) {
			return fmt.Errorf("e-mail %s replies to %q, not in the thread of %s", m.MessageID, m.InReplyTo, first.MessageID)
		}
		fmt.Fprintf(x.out, "    %-40s %s\n", m.MessageID, m.Text)
	}
	return nil
}

// printSlack prints the messages the Slack-like receiver got from the
// from-th on, and, the first time, what TLP held back from it.
func (x *example) printSlack(from int) error {
	posts := x.slack.received()
	for _, p := range posts[from:] {
		fmt.Fprintf(x.out, "  slack %s, colour %s: %s\n", p.Channel, p.Colour, strings.ReplaceAll(p.Text, "\n", " — "))
	}
	if from > 0 {
		return nil
	}
	record, err := x.store.IncidentDeliveries(context.Background(), string(incidentID))
	if err != nil {
		return err
	}
	for _, d := range record {
		if d.Status != notify.StatusHeld {
			continue
		}
		m, err := d.Message()
		if err != nil {
			return err
		}
		fmt.Fprintf(x.out, "  held back by TLP from %s, cleared for %s, as the incident is %s: %s\n",
			d.Channel, x.maxTLP(d.Channel), m.Incident.TLP, m.Event.Sentence())
	}
	return nil
}

// printRecord prints the record of communication: every delivery of the
// incident's messages, as the store keeps it.
func (x *example) printRecord(ctx context.Context) error {
	record, err := x.store.IncidentDeliveries(ctx, string(incidentID))
	if err != nil {
		return err
	}
	fmt.Fprintf(x.out, "\nRecord of communication of %s (%d deliveries):\n", incidentID, len(record))
	w := tabwriter.NewWriter(x.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  message\tevent\tchannel\taudience\tstatus\tattempts\twhen (UTC)\treceipt")
	counts := map[notify.DeliveryStatus]int{}
	for _, d := range record {
		counts[d.Status]++
		when, receipt, audience := "-", "-", string(d.Audience)
		if d.Status == notify.StatusDelivered {
			when, receipt = d.UpdatedAt.UTC().Format("15:04:05.000"), d.Receipt.String()
		}
		if audience == "" {
			audience = "-"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.Key, d.Type, d.Channel, audience, d.Status, d.Attempts, when, receipt)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(x.out, "%d delivered, %d held back by TLP, %d dead, %d pending.\n",
		counts[notify.StatusDelivered], counts[notify.StatusHeld], counts[notify.StatusDead], counts[notify.StatusPending])
	if counts[notify.StatusDead] != 0 || counts[notify.StatusPending] != 0 {
		return fmt.Errorf("deliveries left dead or pending: %v", counts)
	}
	return nil
}

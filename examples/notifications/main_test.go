package main

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun runs the example and checks what it shows: each receiver got its
// messages, TLP held one back, the failing channel's delivery died, its
// failure reached the timeline and the fallback channel, the replay
// delivered it, and the record holds nothing dead or pending. It runs
// alone, so that it can check that the example leaves no goroutine
// behind.
func TestRun(t *testing.T) {
	before := runtime.NumGoroutine()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	got := out.String()
	for _, want := range []string{
		"soar: 5 CloudEvents, each with its Standard Webhooks signature verified",
		"INC-2026-0107/1/1  io.incidentkit.incident.opened",
		"exec-mail: 3 e-mails to ciso@example.org, cfo@example.org, over TLS 1.",
		"<INC-2026-0107/4/1@ir.example.org>       Status update for executives — FS-PAY-01 is isolated",
		"slack #ir-finance, colour #E01E5A: [HIGH] INC-2026-0107",
		"held back by TLP from customer-status, cleared for TLP:CLEAR, as the incident is TLP:AMBER+STRICT",
		"The SOAR endpoint refused 3 requests, all with webhook-id INC-2026-0107/6/1: the delivery is dead.",
		"On the timeline: Notification dispatcher could not notify channel soar of a phase change",
		"slack #ir-finance, colour #E01E5A: [HIGH] INC-2026-0107 Ransomware loader on the payroll file server: Notification failed on channel soar — Notification dispatcher could not notify channel soar",
		"ReplayChannel made its 1 dead delivery pending again",
		"soar: INC-2026-0107/6/1 (signature verified)  Alice Moreau moved the incident from Identification to Containment",
		"Record of communication of INC-2026-0107 (16 deliveries):",
		"15 delivered, 1 held back by TLP, 0 dead, 0 pending.",
	} {
		assert.Contains(t, got, want)
	}
	for _, secret := range []string{signingSecret, smtpPassword, "a1b2c3d4e5f6", "f6e5d4c3b2a1"} {
		assert.NotContains(t, got, secret)
	}
	if t.Failed() {
		t.Log(got)
	}
	// Closed connections take a moment to end their goroutines.
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the example, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunFails checks that the example reports a failure rather than
// printing a partial story as a success.
func TestRunFails(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out bytes.Buffer
	require.Error(t, run(ctx, &out))
}

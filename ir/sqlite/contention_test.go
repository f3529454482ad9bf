package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
)

// TestOneIncidentManyWriters adds notes to one incident from many
// goroutines on a SQLite file, through one Responder and through several
// Responders each on a Store of its own (as processes sharing the file
// would): no writer sees a conflict and every note lands, each at a version
// of its own. One Responder queues its writers, so it needs no retries and
// is given none; several rely on the default conflict retries.
func TestOneIncidentManyWriters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		responders, writers int
		notesPerWriter      int
	}{
		{name: "one responder, 8 writers", responders: 1, writers: 8, notesPerWriter: 8},
		{name: "one responder, 16 writers", responders: 1, writers: 16, notesPerWriter: 4},
		{name: "two responders, 8 writers each", responders: 2, writers: 8, notesPerWriter: 4},
		{name: "four responders, 4 writers each", responders: 4, writers: 4, notesPerWriter: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "contended.db")
			responders := make([]*ir.Responder, tt.responders)
			for i := range responders {
				cfg := ir.Config{Store: openStore(t, path, sqlite.Config{})}
				if tt.responders == 1 {
					cfg.ConflictRetries = -1
				}
				r, err := ir.NewResponder(cfg)
				require.NoError(t, err)
				t.Cleanup(func() { assert.NoError(t, r.Shutdown(context.Background())) })
				responders[i] = r
			}
			alice := ir.Actor{ID: "alice", Name: "Alice Moreau"}
			inc, err := responders[0].Open(ctx, alice, ir.NewIncident{Title: "Contended incident", Severity: ir.SeverityHigh})
			require.NoError(t, err)

			var wg sync.WaitGroup
			errs := make(chan error, tt.responders*tt.writers*tt.notesPerWriter)
			for ri, r := range responders {
				for w := range tt.writers {
					wg.Go(func() {
						for n := range tt.notesPerWriter {
							if _, err := r.AddNote(ctx, alice, inc.ID, fmt.Sprintf("responder %d writer %d note %d", ri, w, n)); err != nil {
								errs <- err
							}
						}
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				assert.NotErrorIs(t, err, ir.ErrConflict)
				assert.NoError(t, err)
			}

			notes := tt.responders * tt.writers * tt.notesPerWriter
			got, err := responders[0].Get(ctx, inc.ID)
			require.NoError(t, err)
			assert.Equal(t, int64(1+notes), got.Version)
			seen := make(map[string]bool)
			for e, err := range responders[0].AllEvents(ctx, inc.ID) {
				require.NoError(t, err)
				if n, ok := e.Data.(*ir.NoteAdded); ok {
					seen[n.Text] = true
				}
			}
			assert.Len(t, seen, notes, "every note is in the timeline once")
			for ri := range tt.responders {
				for w := range tt.writers {
					for n := range tt.notesPerWriter {
						text := fmt.Sprintf("responder %d writer %d note %d", ri, w, n)
						assert.Truef(t, seen[text], "%s is in the timeline", text)
					}
				}
			}
		})
	}
}

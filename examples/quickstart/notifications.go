package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
)

// notificationsLog is the file in the data directory that the log channel
// writes to.
const notificationsLog = "notifications.log"

// dispatcherActor records on an incident's timeline the notifications that
// could not be delivered.
var dispatcherActor = ir.Actor{ID: "notify-dispatcher", Name: "Notification dispatcher", Kind: ir.ActorService}

// notifications delivers what the Responder leaves in the store's outbox:
// every event to a log channel, a file in the data directory, and phase
// changes also to a public status page, which TLP keeps them from (the
// status page is cleared for TLP:CLEAR, the incident is TLP:AMBER). A
// service would have chat, e-mail and webhook channels here (see
// examples/notifications), and run the dispatcher with go dispatcher.Run(ctx)
// rather than drain it at the end.
type notifications struct {
	dispatcher *notify.Dispatcher
	store      *sqlite.Store
	file       *os.File
	path       string
}

// startNotifications makes the dispatcher of the store d opened, reading
// due times from clock. The log file is its owner's alone, as everything
// else in the data directory.
func startNotifications(d *sqlite.Dir, clock notify.Clock) (_ *notifications, err error) {
	path := filepath.Join(d.Path, notificationsLog)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, f.Close())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(f, nil))
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "log"}, {Name: "status-page", MaxTLP: notify.TLPClear}},
		Routes: []notify.Route{
			{Name: "status page", Events: []string{"phase_changed"}, Channels: []string{"status-page"}, Continue: true},
			{Name: "everything", Channels: []string{"log"}},
		},
	})
	if err != nil {
		return nil, err
	}
	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: d.Store, Deliveries: d.Store, Router: router, Clock: clock, Logger: log,
		Channels: map[string]notify.Notifier{
			"log":         notify.LogNotifier{Logger: log},
			"status-page": notify.LogNotifier{Logger: log},
		},
		// A notification that cannot be delivered goes on the incident's
		// timeline.
		OnDead: func(ctx context.Context, dl notify.Delivery, _ error) error {
			_, err := d.Responder.RecordNotificationFailed(ctx, dispatcherActor, dl)
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	return &notifications{dispatcher: dispatcher, store: d.Store, file: f, path: path}, nil
}

// drain delivers everything that is due, then prints what became of the
// notifications of incident id.
func (n *notifications) drain(ctx context.Context, id ir.ID, out io.Writer) error {
	for {
		done, err := n.dispatcher.RunOnce(ctx)
		if err != nil {
			return err
		}
		if done == 0 {
			break
		}
	}
	record, err := n.store.IncidentDeliveries(ctx, string(id))
	if err != nil {
		return err
	}
	count := map[notify.DeliveryStatus]int{}
	for _, d := range record {
		count[d.Status]++
	}
	fmt.Fprintf(out, "\nNotifications: %d delivered to the log channel (%s); %d phase changes held back by TLP from the status page.\n",
		count[notify.StatusDelivered], n.path, count[notify.StatusHeld])
	if left := len(record) - count[notify.StatusDelivered] - count[notify.StatusHeld]; left != 0 {
		return fmt.Errorf("%d notifications of %s are not delivered", left, id)
	}
	return nil
}

// Close stops the dispatcher's metrics and closes the log file.
func (n *notifications) Close() error {
	return errors.Join(n.dispatcher.Close(), n.file.Close())
}

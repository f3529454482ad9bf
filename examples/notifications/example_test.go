package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/sqlite"
	"github.com/incidentkit/incidentkit/notify"
	"github.com/incidentkit/incidentkit/notify/slack"
	"github.com/incidentkit/incidentkit/notify/webhook"
)

// A service wires notifications in beside its Responder: the Responder
// leaves a message in the store's outbox with every change, and a
// dispatcher on the same store delivers them to the channels the routes
// choose, until the service stops. Here the channels are a signed webhook
// and Slack, configured from the environment. (The README shows this code;
// it is compiled with the tests, not run, as it needs real endpoints.)
func Example_service() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := sqlite.Open(ctx, "incidents.db", sqlite.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	responder, err := ir.NewResponder(ir.Config{Store: store, Outbox: true})
	if err != nil {
		log.Fatal(err)
	}

	soarURL, err := notify.ParseSecretURL(os.Getenv("SOAR_WEBHOOK_URL"))
	if err != nil {
		log.Fatal(err)
	}
	soar, err := webhook.New(webhook.Config{URL: soarURL, Secrets: []notify.Secret{notify.NewSecret(os.Getenv("SOAR_WEBHOOK_SECRET"))}})
	if err != nil {
		log.Fatal(err)
	}
	slackURL, err := notify.ParseSecretURL(os.Getenv("SLACK_WEBHOOK_URL"))
	if err != nil {
		log.Fatal(err)
	}
	chat, err := slack.New(slack.Config{URL: slackURL})
	if err != nil {
		log.Fatal(err)
	}
	router, err := notify.NewRouter(notify.Routing{
		Channels: []notify.ChannelRule{{Name: "soar", MaxTLP: notify.TLPRed}, {Name: "chat"}},
		Routes: []notify.Route{
			{Events: []string{notify.EventNotificationFailed}, Channels: []string{"chat"}},
			{Channels: []string{"soar", "chat"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{
		Outbox: store, Deliveries: store, Router: router,
		Channels: map[string]notify.Notifier{"soar": soar, "chat": chat},
		// A notification given up on goes on its incident's timeline,
		// and from there to the chat.
		OnDead: func(ctx context.Context, d notify.Delivery, _ error) error {
			_, err := responder.RecordNotificationFailed(ctx, dispatcherActor, d)
			return err
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer dispatcher.Close()
	var running sync.WaitGroup
	defer running.Wait()
	running.Go(func() { _ = dispatcher.Run(ctx) }) // until ctx ends; what is left waits for the next start

	// ... the service runs incidents with responder until it is stopped.
	<-ctx.Done()
}

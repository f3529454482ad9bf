package notify

import (
	"context"
	"log/slog"
)

// LogNotifier is a [Notifier] that writes each message to a *slog.Logger:
// a record at Level whose message is the event's sentence
// ([Event.Sentence]), with the message's key, audience, incident (ID,
// title, severity, priority, category, phase, TLP, whether open) and
// event (type, version, time, actor) as attributes, and its links. It is
// the channel of a service that has no other yet, and of tests and
// examples. It is safe for concurrent use if its Logger is.
type LogNotifier struct {
	// Logger receives the records; nil means slog.Default().
	Logger *slog.Logger
	// Level is the records' level; the zero value is slog.LevelInfo.
	Level slog.Level
}

// Notify writes m to the logger. It fails, without writing, only when ctx
// is done. The receipt is empty: a log keeps no identifiers.
func (n LogNotifier) Notify(ctx context.Context, m Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, Retry(err, 0)
	}
	log := n.Logger
	if log == nil {
		log = slog.Default()
	}
	inc, ev := m.Incident, m.Event
	attrs := []slog.Attr{
		slog.String("key", m.Key),
		slog.Group("incident",
			slog.String("id", inc.ID), slog.String("title", inc.Title),
			slog.String("severity", inc.Severity), slog.String("priority", inc.Priority),
			slog.String("category", inc.Category), slog.String("phase", inc.Phase),
			slog.String("tlp", inc.TLP), slog.Bool("open", inc.Open)),
		slog.Group("event",
			slog.String("type", ev.Type), slog.Int64("version", ev.Version),
			slog.Time("at", ev.At), slog.String("actor", ev.Actor.String())),
	}
	if inc.Exercise {
		attrs = append(attrs, slog.Bool("exercise", true))
	}
	if m.Audience != "" {
		attrs = append(attrs, slog.String("audience", string(m.Audience)))
	}
	for _, l := range m.Links {
		attrs = append(attrs, slog.String("link."+l.Rel, l.URL))
	}
	log.LogAttrs(ctx, n.Level, ev.Sentence(), attrs...)
	return Receipt{}, nil
}

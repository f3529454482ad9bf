package notify_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/incidentkit/incidentkit/notify"
)

func TestNotifierFunc(t *testing.T) {
	t.Parallel()
	var got notify.Message
	var n notify.Notifier = notify.NotifierFunc(func(_ context.Context, m notify.Message) (notify.Receipt, error) {
		got = m
		return notify.Receipt{ID: "1712345678.000100"}, nil
	})
	r, err := n.Notify(context.Background(), notify.Message{Key: "INC-1/1/1"})
	require.NoError(t, err)
	assert.Equal(t, "INC-1/1/1", got.Key)
	assert.Equal(t, "1712345678.000100", r.String())
	_, isChecker := n.(notify.Checker)
	_, isCloser := n.(io.Closer)
	assert.False(t, isChecker || isCloser, "a func has neither optional method")
}

// checked is a notifier with both optional methods.
type checked struct {
	notify.NotifierFunc
	checkErr error
	closed   bool
}

func (c *checked) Check(context.Context) error { return c.checkErr }
func (c *checked) Close() error                { c.closed = true; return nil }

func TestOptionalInterfaces(t *testing.T) {
	t.Parallel()
	c := &checked{checkErr: errors.New("no such channel")}
	var n notify.Notifier = c
	ch, ok := n.(notify.Checker)
	require.True(t, ok)
	assert.EqualError(t, ch.Check(context.Background()), "no such channel")
	cl, ok := n.(io.Closer)
	require.True(t, ok)
	require.NoError(t, cl.Close())
	assert.True(t, c.closed)
}

func TestReceiptString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "", notify.Receipt{}.String())
	assert.Equal(t, "HTTP 202", notify.Receipt{Status: 202}.String())
	assert.Equal(t, "<abc@example.org>", notify.Receipt{ID: "<abc@example.org>", Status: 250}.String())
}

func TestWithLinks(t *testing.T) {
	t.Parallel()
	m := notify.Message{Incident: notify.Incident{ID: "INC 2026/42"}}
	got, err := m.WithLinks("https://ir.example.org/app/")
	require.NoError(t, err)
	assert.Equal(t, []notify.Link{
		{Rel: "incident", Title: "INC 2026/42", URL: "https://ir.example.org/app/incidents/INC%202026%2F42"},
		{Rel: "timeline", Title: "Timeline of INC 2026/42", URL: "https://ir.example.org/app/incidents/INC%202026%2F42/timeline"},
	}, got.Links)
	assert.Empty(t, m.Links, "the message itself is unchanged")

	for _, base := range []string{"", "ir.example.org", "/incidents", "ftp://ir.example.org", "https://user:pw@ir.example.org", "http://%zz"} {
		_, err := m.WithLinks(base)
		assert.ErrorIs(t, err, notify.ErrInvalid, base)
	}
	_, err = notify.Message{}.WithLinks("https://ir.example.org")
	assert.ErrorIs(t, err, notify.ErrInvalid, "no incident ID")
}

package delivery

import (
	"context"
	"errors"
	"sync"
)

// ListenURL is the destination of a webhook made for a `codeqr listen`
// session: it has no HTTP target; its deliveries go to the session's stream
// (GET /api/webhooks/{id}/listen). It is set only by a create request with
// "listen": true, never accepted as a url otherwise (netguard refuses the
// scheme), so no ordinary webhook can turn into one.
const ListenURL = "listen://session"

// IsListenURL reports whether a webhook's url makes it a listen session.
func IsListenURL(u string) bool { return u == ListenURL }

// ErrNoListener means no `codeqr listen` stream of the webhook is connected to
// this node. The deliverer treats it like any failed attempt: retried later.
var ErrNoListener = errors.New("no codeqr listen session is connected to this node")

// errListenerGone means the stream went away before it wrote the delivery.
var errListenerGone = errors.New("the codeqr listen session disconnected before the delivery was written")

// ListenMessage is one signed delivery as a listen stream carries it: exactly
// the headers and body a webhook POST would have had. Body is the raw JSON
// text, as a string so that the stream forwards it byte for byte.
type ListenMessage struct {
	EventID string            `json:"eventId"`
	Type    string            `json:"type"`
	Test    bool              `json:"test"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// ListenDelivery is a message handed to a stream; the stream calls Done with
// the outcome of writing it (nil once written and flushed).
type ListenDelivery struct {
	Message ListenMessage
	done    chan error
}

// Done reports the outcome of writing the delivery to the stream. Call it once.
func (d *ListenDelivery) Done(err error) {
	select {
	case d.done <- err:
	default:
	}
}

// ListenHub connects the deliverer to the listen streams open on this node,
// keyed by webhook id. It is in-process only: with several nodes on one
// PostgreSQL database, a delivery claimed by a node that does not hold the
// stream fails with ErrNoListener and is retried (docs/listen.md).
type ListenHub struct {
	mu   sync.Mutex
	subs map[string][]*ListenSubscription
}

// NewListenHub returns an empty hub.
func NewListenHub() *ListenHub {
	return &ListenHub{subs: map[string][]*ListenSubscription{}}
}

// ListenSubscription is one connected stream.
type ListenSubscription struct {
	hub       *ListenHub
	webhookID string
	c         chan *ListenDelivery
	closed    chan struct{}
	once      sync.Once
}

// Subscribe registers a stream for webhookID; Close it when the stream ends.
func (h *ListenHub) Subscribe(webhookID string) *ListenSubscription {
	s := &ListenSubscription{hub: h, webhookID: webhookID, c: make(chan *ListenDelivery), closed: make(chan struct{})}
	h.mu.Lock()
	h.subs[webhookID] = append(h.subs[webhookID], s)
	h.mu.Unlock()
	return s
}

// Deliveries is the channel of messages to write.
func (s *ListenSubscription) Deliveries() <-chan *ListenDelivery { return s.c }

// Close unregisters the stream; deliveries waiting for it fail at once.
func (s *ListenSubscription) Close() {
	s.once.Do(func() {
		h := s.hub
		h.mu.Lock()
		list := h.subs[s.webhookID]
		for i, x := range list {
			if x == s {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(h.subs, s.webhookID)
		} else {
			h.subs[s.webhookID] = list
		}
		h.mu.Unlock()
		close(s.closed)
	})
}

// Connected returns how many streams of webhookID are open on this node.
func (h *ListenHub) Connected(webhookID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[webhookID])
}

// Deliver hands m to the newest stream of webhookID and waits until that
// stream has written it, or ctx ends. A nil error means the message reached
// the client's connection: that is what counts as the delivery's success.
func (h *ListenHub) Deliver(ctx context.Context, webhookID string, m ListenMessage) error {
	h.mu.Lock()
	list := h.subs[webhookID]
	var s *ListenSubscription
	if len(list) > 0 {
		s = list[len(list)-1]
	}
	h.mu.Unlock()
	if s == nil {
		return ErrNoListener
	}
	d := &ListenDelivery{Message: m, done: make(chan error, 1)}
	select {
	case s.c <- d:
	case <-s.closed:
		return errListenerGone
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-d.done:
		return err
	case <-s.closed:
		// The stream may have written it just before closing.
		select {
		case err := <-d.done:
			return err
		default:
			return errListenerGone
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

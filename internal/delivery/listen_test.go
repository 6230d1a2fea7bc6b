package delivery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// A listen webhook without a connected stream fails its attempt (and is
// retried); once a stream is connected the next attempt hands it the signed
// request, and writing it is the success.
func TestListenDeliveryThroughHub(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		project := newProject(t, st)
		cfg := testConfig()
		cfg.RetrySchedule = []time.Duration{300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}
		d := startDeliverer(t, st, cfg, options{})
		wh := newHook(t, st, project, ListenURL)
		eventID := emit(t, st, d, project, 1)[0]
		waitFor(t, 10*time.Second, "a failed attempt", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM delivery_attempts WHERE webhook_id = $1 AND status = 'failed' AND error LIKE $2",
				wh.id, "%no codeqr listen session%") > 0
		})
		if s := deliveryStatus(t, st, eventID, wh.id); s != "pending" {
			t.Fatalf("after a failure the delivery is %s, want pending", s)
		}

		sub := d.ListenHub().Subscribe(wh.id)
		defer sub.Close()
		var got *ListenDelivery
		select {
		case got = <-sub.Deliveries():
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery on the stream")
		}
		got.Done(nil)
		m := got.Message
		if m.EventID != eventID || m.Type != string(events.LinkCreated) || m.Body != string(payload(t, st, eventID)) {
			t.Fatalf("message %+v", m)
		}
		h := http.Header{}
		for k, v := range m.Headers {
			h.Set(k, v) // as a receiver parses them off the wire
		}
		verify(t, recorded{header: h, body: []byte(m.Body)}, wh.secret)
		waitFor(t, 10*time.Second, "success", func() bool { return deliveryStatus(t, st, eventID, wh.id) == "success" })
	})
}

func TestListenHubStreamGone(t *testing.T) {
	t.Parallel()
	h := NewListenHub()
	if err := h.Deliver(context.Background(), "wh_x", ListenMessage{}); !errors.Is(err, ErrNoListener) {
		t.Fatalf("no stream: %v", err)
	}
	sub := h.Subscribe("wh_x")
	res := make(chan error, 1)
	go func() { res <- h.Deliver(context.Background(), "wh_x", ListenMessage{EventID: "evt_1"}) }()
	<-sub.Deliveries() // taken, never written
	sub.Close()
	if err := <-res; err == nil || !strings.Contains(err.Error(), "disconnected") {
		t.Fatalf("stream closed before writing: %v", err)
	}
	if h.Connected("wh_x") != 0 {
		t.Fatal("closed stream still registered")
	}
}

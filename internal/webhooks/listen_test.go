package webhooks

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/errs"
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
		ctx := context.Background()
		project := newProject(t, st)
		cfg := testConfig()
		cfg.RetrySchedule = []time.Duration{300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}
		d := startDeliverer(t, st, cfg, options{})
		svc := NewService(st, events.NewWriter(d.Notify, nil), nil, cfg)
		wh, err := svc.Create(ctx, project, CreateRequest{Name: "listen", Listen: true, Triggers: []events.Type{events.LinkCreated}})
		if err != nil {
			t.Fatal(err)
		}
		if wh.URL != ListenURL {
			t.Fatalf("url %q", wh.URL)
		}
		// Editing the name keeps it a listen webhook; the fixed url passes.
		if _, err := svc.Update(ctx, project, wh.ID, UpdateRequest{Name: Some("renamed")}); err != nil {
			t.Fatalf("rename: %v", err)
		}
		eventID := emit(t, st, d, project, 1)[0]
		waitFor(t, 10*time.Second, "a failed attempt", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM delivery_attempts WHERE webhook_id = $1 AND status = 'failed' AND error LIKE $2",
				wh.ID, "%no codeqr listen session%") > 0
		})
		if s := deliveryStatus(t, st, eventID, wh.ID); s != "pending" {
			t.Fatalf("after a failure the delivery is %s, want pending", s)
		}

		sub := d.ListenHub().Subscribe(wh.ID)
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
		verify(t, recorded{header: h, body: []byte(m.Body)}, wh.Secret)
		waitFor(t, 10*time.Second, "success", func() bool { return deliveryStatus(t, st, eventID, wh.ID) == "success" })
	})
}

func TestListenCreateRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		project := newProject(t, st)
		svc := NewService(st, events.NewWriter(nil, nil), nil, testConfig())
		for name, req := range map[string]CreateRequest{
			"listen url without the flag": {Name: "x", URL: ListenURL, Triggers: []events.Type{events.LinkCreated}},
			"flag with a url":             {Name: "x", URL: "https://example.com", Listen: true, Triggers: []events.Type{events.LinkCreated}},
			"flag without triggers":       {Name: "x", Listen: true},
		} {
			if _, err := svc.Create(ctx, project, req); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("%s: %v", name, err)
			}
		}
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

// Package testserver runs a complete in-process codeqr API with a running
// webhook deliverer on a given store, for tests that need real deliveries
// (codeqr listen, the receiver examples). It is test support only.
package testserver

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// Server is a running API with its deliverer.
type Server struct {
	URL       string
	Key       string // all scopes, project p1
	OtherKey  string // all scopes, project p2
	ProjectID string // of p1
	Store     *store.Store
	Deliverer *webhooks.Deliverer
	Webhooks  *webhooks.Service
	HTTP      *httptest.Server
}

// Config is what the server runs with: plain http and loopback receivers
// allowed, short retries and timeouts.
func Config() config.Config {
	return config.Config{
		BaseURL:              "https://go.test",
		WebhooksAllowHTTP:    true,
		WebhooksAllowPrivate: true,
		RetrySchedule:        []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second},
		DeliveryTimeout:      5 * time.Second,
	}.WithDefaults()
}

// Start wires projects, tags, links, webhooks and a started deliverer behind an
// httptest server with short read and write timeouts (long streams must
// survive them). Everything stops at cleanup.
func Start(t testing.TB, st *store.Store) *Server {
	t.Helper()
	ctx := context.Background()
	cfg := Config()
	ps := projects.NewService(st, nil)
	p, key, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, other, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := webhooks.NewDeliverer(st, cfg, nil, nil)
	ev := events.NewWriter(d.Notify, nil)
	tg := tags.NewService(st, nil)
	wh := webhooks.NewService(st, ev, tg, cfg).WithNotify(d.Notify)
	s := api.New(api.Deps{
		Config: cfg, Store: st, Projects: ps, Tags: tg,
		Links:    links.NewService(st, ev, tg, cfg),
		Webhooks: wh,
		Listen:   d.ListenHub(),
	})
	hs := httptest.NewUnstartedServer(s.Handler())
	hs.Config.ReadTimeout = time.Second
	hs.Config.WriteTimeout = time.Second
	hs.Start()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		d.Stop()
	})
	return &Server{URL: hs.URL, Key: key, OtherKey: other, ProjectID: p.ID, Store: st, Deliverer: d, Webhooks: wh, HTTP: hs}
}

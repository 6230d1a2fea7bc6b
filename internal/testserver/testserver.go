// Package testserver runs a complete in-process codeqr application
// (internal/app, started) on a given store, for tests that need real
// deliveries (codeqr listen, the receiver examples). It is test support only.
package testserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// Server is a running application.
type Server struct {
	App       *app.App
	URL       string
	Key       string // all scopes, project p1
	OtherKey  string // all scopes, project p2
	ProjectID string // of p1
	Store     *store.Store
	Deliverer *delivery.Deliverer
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

// Run constructs the application (app.New) on st with cfg, serves its handler
// on a loopback httptest server and starts its workers: the wiring every test
// environment shares with `codeqr serve`. Everything stops at cleanup, the
// HTTP server first. o.Config and o.Store are overridden by cfg and st.
func Run(t testing.TB, st *store.Store, cfg config.Config, o app.Options) (*app.App, *httptest.Server) {
	t.Helper()
	o.Config, o.Store = cfg, st
	a, err := app.New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	start(t, a, hs)
	return a, hs
}

// start starts a's workers and schedules the ordered stop.
func start(t testing.TB, a *app.App, hs *httptest.Server) {
	t.Helper()
	if err := a.Start(context.Background()); err != nil {
		hs.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Stop(stopCtx); err != nil {
			t.Error(err)
		}
	})
}

// Start runs the application, started, behind an httptest server with short
// read and write timeouts (long streams must survive them). Everything stops
// at cleanup.
func Start(t testing.TB, st *store.Store) *Server {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(app.Options{Config: Config(), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ps := a.Projects
	p, key, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, other, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(a.Handler())
	hs.Config.ReadTimeout = time.Second
	hs.Config.WriteTimeout = time.Second
	hs.Start()
	start(t, a, hs)
	return &Server{App: a, URL: hs.URL, Key: key, OtherKey: other, ProjectID: p.ID, Store: st, Deliverer: a.Deliverer,
		Webhooks: a.Webhooks, HTTP: hs}
}

// CreateWebhook makes a link.created webhook of project p1 to url (use any
// placeholder, then SetURL, when the receiver needs the secret to start) and
// returns its id and secret.
func (s *Server) CreateWebhook(t testing.TB, url string) (id, secret string) {
	t.Helper()
	wh, err := s.Webhooks.Create(context.Background(), s.ProjectID, webhooks.CreateRequest{
		Name: "receiver", URL: url, Triggers: []events.Type{events.LinkCreated}})
	if err != nil {
		t.Fatal(err)
	}
	return wh.ID, wh.Secret
}

// SetURL points a webhook at url.
func (s *Server) SetURL(t testing.TB, id, url string) {
	t.Helper()
	if _, err := s.Webhooks.Update(context.Background(), s.ProjectID, id, webhooks.UpdateRequest{URL: webhooks.Some(url)}); err != nil {
		t.Fatal(err)
	}
}

// CreateLink creates a link through the API (so a link.created event is
// written) and returns the event's id once the webhook's delivery of it has
// finished, successfully or not, with the attempt's response status (0 for
// none) and the exact request headers the deliverer sent.
func (s *Server) CreateLink(t testing.TB, webhookID string) (eventID string, status int, sent http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/links", strings.NewReader(`{"url":"https://example.com/receivers"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create link: HTTP %d", resp.StatusCode)
	}
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var (
			respStatus sql.NullInt64
			headers    sql.NullString
		)
		err := s.Store.Read().QueryRowContext(ctx, `SELECT a.event_id, a.response_status, a.request_headers FROM delivery_attempts a
			JOIN events e ON e.id = a.event_id WHERE a.webhook_id = $1 AND e.type = 'link.created' ORDER BY a.id DESC LIMIT 1`, webhookID).
			Scan(&eventID, &respStatus, &headers)
		if err == nil {
			var m map[string]string
			if err := json.Unmarshal([]byte(headers.String), &m); err != nil {
				t.Fatalf("request headers %q: %v", headers.String, err)
			}
			sent = http.Header{}
			for k, v := range m {
				sent.Set(k, v)
			}
			return eventID, int(respStatus.Int64), sent
		}
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery attempt within 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Payload returns the body every delivery of eventID carries.
func (s *Server) Payload(t testing.TB, eventID string) []byte {
	t.Helper()
	var p string
	if err := s.Store.Read().QueryRowContext(context.Background(), "SELECT payload FROM events WHERE id = $1", eventID).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return []byte(p)
}

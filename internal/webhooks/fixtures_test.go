package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// Fixtures of the tests that run the delivery engine under the recover API:
// rows written directly, a recording receiver, waits with deadlines.

func newProject(t testing.TB, st *store.Store) string {
	t.Helper()
	id := ids.New("proj")
	now := store.Millis(time.Now())
	mustWrite(t, st, "INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
		id, strings.ToLower(id), "test", now)
	return id
}

type hook struct{ id, secret string }

// newHook inserts a webhook subscribed to link.created.
func newHook(t testing.TB, st *store.Store, project, url string) hook {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := hook{id: ids.New("wh"), secret: "whsec_" + base64.StdEncoding.EncodeToString(b)}
	now := store.Millis(time.Now())
	mustWrite(t, st, `INSERT INTO webhooks (id, project_id, name, url, secret, include_bots, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6)`, h.id, project, "hook", url, h.secret, now)
	mustWrite(t, st, "INSERT INTO webhook_triggers (webhook_id, event_type) VALUES ($1, $2)", h.id, string(events.LinkCreated))
	return h
}

func mustWrite(t testing.TB, st *store.Store, q string, args ...any) {
	t.Helper()
	if err := st.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(context.Background(), q, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// emit writes n link.created events of project, waking d after each commit.
func emit(t testing.TB, st *store.Store, d *delivery.Deliverer, project string, n int) []string {
	t.Helper()
	w := events.NewWriter(d.Notify, nil)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		var id string
		err := st.InTx(context.Background(), func(tx *store.Tx) error {
			var err error
			id, err = w.Emit(context.Background(), tx, events.Event{ProjectID: project, Type: events.LinkCreated,
				Data: map[string]any{"id": fmt.Sprintf("link_%d", i)}})
			return err
		})
		if err != nil {
			t.Fatalf("emit: %v", err)
		}
		out = append(out, id)
	}
	return out
}

func testConfig() config.Config {
	return config.Config{
		WebhooksAllowHTTP:    true,
		WebhooksAllowPrivate: true,
		RetrySchedule:        []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond},
		DeliveryTimeout:      2 * time.Second,
	}.WithDefaults()
}

// startDeliverer starts a Deliverer stopped at cleanup.
func startDeliverer(t testing.TB, st *store.Store, cfg config.Config) *delivery.Deliverer {
	t.Helper()
	d := delivery.NewDeliverer(st, cfg, delivery.Options{})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("stop deliverer: %v", err)
		}
	})
	return d
}

// receiver is an httptest server answering each request with respond.
type receiver struct {
	*httptest.Server
	mu sync.Mutex
	n  int
}

func newReceiver(t testing.TB, respond func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.n++
		n := rc.n
		rc.mu.Unlock()
		respond(w, r, n)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func count(t testing.TB, st *store.Store, q string, args ...any) int {
	t.Helper()
	return storetest.Count(t, st.Read(), q, args...)
}

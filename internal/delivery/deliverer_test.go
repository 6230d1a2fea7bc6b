package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// --- fixtures -----------------------------------------------------------------

func newSecret(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func newProject(t testing.TB, st *store.Store) string {
	t.Helper()
	id := ids.New("proj")
	now := store.Millis(time.Now())
	mustWrite(t, st, "INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
		id, strings.ToLower(id), "test", now)
	return id
}

// hook is a webhook row for tests.
type hook struct {
	id, secret, previous string
}

// newHook inserts a webhook subscribed to link.created (or the given types).
func newHook(t testing.TB, st *store.Store, project, url string, mods ...func(*hook)) hook {
	t.Helper()
	h := hook{id: ids.New("wh"), secret: newSecret(t)}
	for _, m := range mods {
		m(&h)
	}
	now := store.Millis(time.Now())
	var prev, prevUntil any
	if h.previous != "" {
		prev, prevUntil = h.previous, store.Millis(time.Now().Add(24*time.Hour))
	}
	mustWrite(t, st, `INSERT INTO webhooks (id, project_id, name, url, secret, previous_secret, previous_secret_until, include_bots, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $8)`, h.id, project, "hook", url, h.secret, prev, prevUntil, now)
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

// emit writes n link.created events of project, each in its own transaction,
// waking d (may be nil) after each commit; it returns the event ids.
func emit(t testing.TB, st *store.Store, d *Deliverer, project string, n int) []string {
	t.Helper()
	var notify func()
	if d != nil {
		notify = d.Notify
	}
	w := events.NewWriter(notify, nil)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		var id string
		err := st.InTx(context.Background(), func(tx *store.Tx) error {
			var err error
			id, err = w.Emit(context.Background(), tx, events.Event{ProjectID: project, Type: events.LinkCreated,
				Data: map[string]any{"id": fmt.Sprintf("link_%d", i), "url": "https://example.com/é?x=<&>"}})
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
func startDeliverer(t testing.TB, st *store.Store, cfg config.Config, opts options) *Deliverer {
	t.Helper()
	d := newDeliverer(st, cfg, Options{}, opts)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, d) })
	return d
}

// receiver is an httptest server recording every request it gets.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	header http.Header
	body   []byte
	at     time.Time
}

// newReceiver answers each request with respond (nil: 204).
func newReceiver(t testing.TB, respond func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, recorded{header: r.Header.Clone(), body: body, at: time.Now()})
		n := len(rc.reqs)
		rc.mu.Unlock()
		if respond == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		respond(w, r, n)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
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

func deliveryStatus(t testing.TB, st *store.Store, eventID, webhookID string) string {
	t.Helper()
	var s string
	if err := st.Read().QueryRowContext(context.Background(),
		"SELECT status FROM deliveries WHERE event_id = $1 AND webhook_id = $2", eventID, webhookID).Scan(&s); err != nil {
		t.Fatalf("delivery status: %v", err)
	}
	return s
}

func payload(t testing.TB, st *store.Store, eventID string) []byte {
	t.Helper()
	var p string
	if err := st.Read().QueryRowContext(context.Background(), "SELECT payload FROM events WHERE id = $1", eventID).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return []byte(p)
}

// verify checks both signature schemes with code that is not ours.
func verify(t testing.TB, rec recorded, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(rec.body, rec.header); err != nil {
			t.Errorf("standard webhooks verify with %.12s…: %v", s, err)
		}
	}
	mac := hmac.New(sha256.New, []byte(secrets[0]))
	mac.Write(rec.body)
	if got, want := rec.header.Get("CodeQR-Signature"), hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("CodeQR-Signature = %q, want %q", got, want)
	}
}

// --- tests --------------------------------------------------------------------

func TestDeliverSigned(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, nil)
		project := newProject(t, st)
		plain := newHook(t, st, project, rc.URL+"/plain")
		oldSecret := newSecret(t)
		rotated := newHook(t, st, project, rc.URL+"/rotated", func(h *hook) { h.previous = oldSecret })
		d := startDeliverer(t, st, testConfig(), options{})
		ev := emit(t, st, d, project, 1)[0]
		waitFor(t, 10*time.Second, "two deliveries", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'success'") == 2
		})
		want := payload(t, st, ev)
		reqs := rc.requests()
		if len(reqs) != 2 {
			t.Fatalf("got %d requests, want 2", len(reqs))
		}
		for _, rec := range reqs {
			if string(rec.body) != string(want) {
				t.Errorf("body = %s, want the stored payload %s", rec.body, want)
			}
			if rec.header.Get("Content-Type") != "application/json" || rec.header.Get("User-Agent") != "codeqr-webhooks/1" {
				t.Errorf("headers: %v", rec.header)
			}
			if rec.header.Get("webhook-id") != ev || rec.header.Get("CodeQR-Test") != "" {
				t.Errorf("webhook-id = %q (want %s), CodeQR-Test = %q", rec.header.Get("webhook-id"), ev, rec.header.Get("CodeQR-Test"))
			}
			entries := strings.Fields(rec.header.Get("webhook-signature"))
			if strings.Contains(rec.header.Get("webhook-signature"), "whsec_") {
				t.Error("secret leaked into a header")
			}
			// Tell the two apart by which secret verifies CodeQR-Signature.
			mac := hmac.New(sha256.New, []byte(plain.secret))
			mac.Write(rec.body)
			if rec.header.Get("CodeQR-Signature") == hex.EncodeToString(mac.Sum(nil)) {
				if len(entries) != 1 {
					t.Errorf("plain webhook: %d signature entries, want 1", len(entries))
				}
				verify(t, rec, plain.secret)
				continue
			}
			if len(entries) != 2 {
				t.Errorf("rotated webhook: %d signature entries, want 2: %q", len(entries), entries)
			}
			verify(t, rec, rotated.secret, oldSecret)
		}
		// The attempt log holds the signature headers, never the secret.
		var reqHeaders, status string
		if err := st.Read().QueryRowContext(context.Background(),
			"SELECT request_headers, status FROM delivery_attempts WHERE webhook_id = $1", rotated.id).Scan(&reqHeaders, &status); err != nil {
			t.Fatal(err)
		}
		if status != "success" || !strings.Contains(reqHeaders, "webhook-signature") || strings.Contains(reqHeaders, rotated.secret[6:]) {
			t.Errorf("attempt: status %s, request headers %s", status, reqHeaders)
		}
	})
}

func TestTestEventHeader(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(500) })
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		d := startDeliverer(t, st, testConfig(), options{})
		w := events.NewWriter(d.Notify, nil)
		if err := st.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := w.Emit(context.Background(), tx, events.Event{ProjectID: project, Type: events.LinkCreated, TestWebhookID: h.id, Data: map[string]any{"id": "x"}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "test delivery to fail", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'failed'") == 1
		})
		rec := rc.requests()[0]
		if rec.header.Get("CodeQR-Test") != "true" {
			t.Errorf("CodeQR-Test = %q", rec.header.Get("CodeQR-Test"))
		}
		verify(t, rec, h.secret)
		// Test deliveries never touch failure state.
		if n := count(t, st, "SELECT COUNT(*) FROM webhooks WHERE failing_since IS NULL AND disabled_at IS NULL"); n != 1 {
			t.Error("a failing test delivery changed the webhook's failure state")
		}
	})
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
			if n <= 2 {
				w.WriteHeader(500)
				io.WriteString(w, "boom\x00\xff")
				return
			}
			w.WriteHeader(200)
		})
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		d := startDeliverer(t, st, testConfig(), options{})
		ev := emit(t, st, d, project, 1)[0]
		waitFor(t, 10*time.Second, "success", func() bool { return deliveryStatus(t, st, ev, h.id) == "success" })
		reqs := rc.requests()
		if len(reqs) != 3 {
			t.Fatalf("%d requests, want 3", len(reqs))
		}
		for _, r := range reqs[1:] {
			if string(r.body) != string(reqs[0].body) || r.header.Get("webhook-id") != ev {
				t.Errorf("a retry differs: webhook-id %q body %s", r.header.Get("webhook-id"), r.body)
			}
			verify(t, r, h.secret)
		}
		rows, err := st.Read().QueryContext(context.Background(),
			"SELECT attempt, status, response_status, error, next_retry_at, response_body FROM delivery_attempts WHERE event_id = $1 ORDER BY attempt", ev)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var (
				attempt, status int
				st              string
				errText, body   sql.NullString
				next            sql.NullInt64
			)
			if err := rows.Scan(&attempt, &st, &status, &errText, &next, &body); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d %s %d %s next=%v body=%q", attempt, st, status, errText.String, next.Valid, body.String))
		}
		want := []string{
			"1 failed 500 HTTP 500 next=true body=\"boom\uFFFD\"",
			"2 failed 500 HTTP 500 next=true body=\"boom\uFFFD\"",
			`3 success 200  next=false body=""`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("attempts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := count(t, st, "SELECT COUNT(*) FROM webhooks WHERE failing_since IS NULL AND disabled_at IS NULL"); n != 1 {
			t.Error("a success did not clear failing_since")
		}
		if n := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE attempts = 3 AND lease_until = 0 AND last_status = 200"); n != 1 {
			t.Error("delivery row not completed")
		}
	})
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(502) })
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		cfg := testConfig()
		cfg.RetrySchedule = []time.Duration{20 * time.Millisecond, 20 * time.Millisecond}
		d := startDeliverer(t, st, cfg, options{})
		ev := emit(t, st, d, project, 1)[0]
		waitFor(t, 10*time.Second, "failed", func() bool { return deliveryStatus(t, st, ev, h.id) == "failed" })
		if n := rc.count(); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
		if n := count(t, st, "SELECT COUNT(*) FROM delivery_attempts WHERE status = 'failed'"); n != 3 {
			t.Errorf("%d failed attempts logged, want 3", n)
		}
		if n := count(t, st, "SELECT COUNT(*) FROM webhooks WHERE failing_since IS NOT NULL AND disabled_at IS NULL"); n != 1 {
			t.Error("failing_since not set, or disabled too early")
		}
	})
}

func TestDisableAfterFailingTooLong(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(500) })
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		cfg := testConfig()
		cfg.WebhooksDisableAfter = time.Hour
		cfg.RetrySchedule = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}
		clock := &fakeClock{t: time.Now().Add(time.Minute)} // ahead of the event's next_attempt_at
		d := startDeliverer(t, st, cfg, options{now: clock.Now})
		ev := emit(t, st, d, project, 1)[0]
		waitFor(t, 10*time.Second, "first attempt", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE attempts = 1") == 1
		})
		if n := count(t, st, "SELECT COUNT(*) FROM webhooks WHERE failing_since IS NOT NULL AND disabled_at IS NULL"); n != 1 {
			t.Fatal("first failure did not set failing_since")
		}
		clock.Add(2 * time.Hour) // the retry comes due, two hours after the first failure
		waitFor(t, 10*time.Second, "webhook disabled", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM webhooks WHERE disabled_at IS NOT NULL") == 1
		})
		waitFor(t, 10*time.Second, "delivery failed", func() bool { return deliveryStatus(t, st, ev, h.id) == "failed" })
		if n := rc.count(); n != 2 {
			t.Errorf("%d requests before disabling", n)
		}
		later := emit(t, st, d, project, 1)[0]
		if s := deliveryStatus(t, st, later, h.id); s != "skipped" {
			t.Errorf("event after disabling: %s, want skipped", s)
		}
	})
}

func TestGoneDisables(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusGone) })
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		first := emit(t, st, nil, project, 3)
		cfg := testConfig()
		cfg.WebhookConcurrency = 1
		d := startDeliverer(t, st, cfg, options{})
		waitFor(t, 10*time.Second, "webhook disabled and nothing pending", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM webhooks WHERE disabled_at IS NOT NULL") == 1 &&
				count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'") == 0
		})
		if s := deliveryStatus(t, st, first[0], h.id); s != "failed" {
			t.Errorf("first delivery %s, want failed", s)
		}
		if n := count(t, st, "SELECT COUNT(*) FROM delivery_attempts WHERE response_status = 410 AND next_retry_at IS NULL"); n < 1 {
			t.Error("410 attempt not logged without retry")
		}
		sent := rc.count()
		later := emit(t, st, d, project, 2)
		for _, ev := range later {
			if s := deliveryStatus(t, st, ev, h.id); s != "skipped" {
				t.Errorf("later event %s", s)
			}
		}
		if rc.count() != sent {
			t.Error("a disabled webhook received a later event")
		}
	})
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		target := newReceiver(t, nil)
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, target.URL, http.StatusFound)
		})
		project := newProject(t, st)
		h := newHook(t, st, project, rc.URL)
		cfg := testConfig()
		cfg.RetrySchedule = []time.Duration{time.Hour}
		d := startDeliverer(t, st, cfg, options{})
		emit(t, st, d, project, 1)
		waitFor(t, 10*time.Second, "attempt logged", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM delivery_attempts WHERE webhook_id = $1", h.id) == 1
		})
		if n := count(t, st, "SELECT COUNT(*) FROM delivery_attempts WHERE status = 'failed' AND response_status = 302 AND error = 'redirect not followed'"); n != 1 {
			t.Error("302 not logged as a failure 'redirect not followed'")
		}
		if target.count() != 0 {
			t.Error("redirect was followed")
		}
	})
}

func TestTimeoutAndRetryAfter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		release := make(chan struct{})
		slow := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) })
		busy := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "1800")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		project := newProject(t, st)
		hs := newHook(t, st, project, slow.URL)
		hb := newHook(t, st, project, busy.URL)
		cfg := testConfig()
		cfg.DeliveryTimeout = 300 * time.Millisecond
		cfg.RetrySchedule = []time.Duration{time.Minute, time.Hour}
		// No jitter: r = 0.5 gives exactly the scheduled delay.
		d := startDeliverer(t, st, cfg, options{rand: func() float64 { return 0.5 }})
		emit(t, st, d, project, 1)
		waitFor(t, 10*time.Second, "both attempts logged", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM delivery_attempts") == 2
		})
		var errText string
		var dur, created, next int64
		if err := st.Read().QueryRowContext(context.Background(),
			"SELECT error, duration_ms, next_retry_at FROM delivery_attempts WHERE webhook_id = $1", hs.id).Scan(&errText, &dur, &next); err != nil {
			t.Fatal(err)
		}
		if errText != "timeout after 300ms" || dur < 300 {
			t.Errorf("timeout attempt: error %q, %d ms", errText, dur)
		}
		// Retry-After 30 min beats the scheduled 1 min and is within the schedule's 1 h.
		if err := st.Read().QueryRowContext(context.Background(),
			"SELECT created_at, next_retry_at FROM delivery_attempts WHERE webhook_id = $1", hb.id).Scan(&created, &next); err != nil {
			t.Fatal(err)
		}
		if got := time.Duration(next-created) * time.Millisecond; got < 30*time.Minute || got > 30*time.Minute+5*time.Second {
			t.Errorf("retry in %s, want 30m (Retry-After)", got)
		}
		if n := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at = $1 AND last_status = 503", next); n != 1 {
			t.Error("delivery's next_attempt_at does not match the logged retry")
		}
	})
}

func TestSlowWebhookDoesNotHoldBackOthers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		release := make(chan struct{})
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		hanging := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(unblock)
		healthy := newReceiver(t, nil)
		project := newProject(t, st)
		newHook(t, st, project, hanging.URL)
		newHook(t, st, project, healthy.URL)
		cfg := testConfig()
		cfg.DeliveryTimeout = 20 * time.Second
		cfg.DeliveryWorkers = 20
		cfg.WebhookConcurrency = 5
		d := startDeliverer(t, st, cfg, options{})
		start := time.Now()
		emit(t, st, d, project, 200)
		waitFor(t, 15*time.Second, "the healthy receiver to get 200 events", func() bool { return healthy.count() == 200 })
		t.Logf("healthy receiver got 200 events in %s while the other hangs", time.Since(start))
		if n := hanging.count(); n != 5 {
			t.Errorf("hanging receiver has %d requests in flight, want its concurrency limit 5", n)
		}
		unblock()
		waitFor(t, 15*time.Second, "every delivery done", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'success'") == 400
		})
	})
}

func TestRestartDeliversEverything(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			time.Sleep(5 * time.Millisecond)
			w.WriteHeader(204)
		})
		project := newProject(t, st)
		newHook(t, st, project, rc.URL)

		// Never started: Stop is harmless, twice, and Start afterwards refuses.
		idle := NewDeliverer(st, testConfig(), Options{})
		stop(t, idle)
		stop(t, idle)
		if err := idle.Start(context.Background()); err == nil {
			t.Error("Start after Stop succeeded")
		}

		evs := emit(t, st, nil, project, 100)
		cfg := testConfig()
		cfg.WebhookConcurrency = 2
		first := newDeliverer(st, cfg, Options{}, options{})
		if err := first.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "some deliveries", func() bool { return rc.count() >= 10 })
		stop(t, first)
		stop(t, first)
		if n := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE lease_until <> 0"); n != 0 {
			t.Errorf("%d leases still held after Stop", n)
		}
		done := count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'success'")
		if done == len(evs) {
			t.Fatal("everything was delivered before Stop; the test proves nothing")
		}
		if st.Dialect().Name() == "sqlite" {
			// A crash leaves leases behind; on SQLite the next Start clears them.
			mustWrite(t, st, "UPDATE deliveries SET lease_until = $1 WHERE status = 'pending'", store.Millis(time.Now().Add(time.Hour)))
		}
		startDeliverer(t, st, testConfig(), options{})
		waitFor(t, 20*time.Second, "everything delivered", func() bool {
			return count(t, st, "SELECT COUNT(*) FROM deliveries WHERE status = 'success'") == len(evs)
		})
		seen := map[string]bool{}
		for _, r := range rc.requests() {
			seen[r.header.Get("webhook-id")] = true
		}
		if len(seen) != len(evs) {
			t.Errorf("receiver saw %d distinct events, want %d", len(seen), len(evs))
		}
	})
}

func TestTwoNodesPostgres(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	open := func() *store.Store {
		st, err := store.Open(context.Background(), url, "", store.Options{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st
	}
	a, b := open(), open()
	rc := newReceiver(t, nil)
	project := newProject(t, a)
	newHook(t, a, project, rc.URL+"/1")
	newHook(t, a, project, rc.URL+"/2")
	cfg := testConfig()
	da := startDeliverer(t, a, cfg, options{})
	db := startDeliverer(t, b, cfg, options{})
	const n = 300
	for i := 0; i < n/50; i++ {
		emit(t, a, da, project, 25)
		emit(t, b, db, project, 25)
	}
	waitFor(t, 30*time.Second, "every delivery", func() bool {
		return count(t, a, "SELECT COUNT(*) FROM deliveries WHERE status = 'success'") == 2*n
	})
	seen := map[string]int{}
	for _, r := range rc.requests() {
		seen[r.header.Get("webhook-id")+" "+string(r.header.Get("CodeQR-Signature"))]++
	}
	if len(seen) != 2*n {
		t.Errorf("%d distinct deliveries, want %d", len(seen), 2*n)
	}
	for k, c := range seen {
		if c > 1 {
			t.Errorf("%s delivered %d times", k, c)
		}
	}
	if got := count(t, a, "SELECT COUNT(*) FROM delivery_attempts"); got != 2*n {
		t.Errorf("%d attempts logged, want %d", got, 2*n)
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// stopper is every worker of the package.
type stopper interface{ Stop(context.Context) error }

// stop stops w within a generous deadline and fails the test if it errs.
func stop(t testing.TB, w stopper) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

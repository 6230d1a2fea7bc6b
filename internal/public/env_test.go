package public_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/testkit"
	"github.com/codeqr/codeqr/internal/testserver"
	"github.com/codeqr/codeqr/internal/webhooks"
)

const domain = "go.test"

// env is the whole application (app.New, started) behind a loopback server,
// trusting loopback as a proxy so that tests choose the client IP.
type env struct {
	*app.App
	st     *store.Store
	srv    *httptest.Server
	client *http.Client
	p1, p2 string // project ids
	key1   string
	key2   string
}

type envOpts struct {
	dedupe  time.Duration // zero: off
	flush   time.Duration // zero: 10ms
	baseURL string        // zero: http://go.test
}

func newEnv(t testing.TB, st *store.Store, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	if o.flush == 0 {
		o.flush = 10 * time.Millisecond
	}
	if o.baseURL == "" {
		o.baseURL = "http://" + domain
	}
	cfg := config.Config{BaseURL: o.baseURL, WebhooksAllowHTTP: true, WebhooksAllowPrivate: true,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		FlushInterval:  o.flush, DedupeWindow: max(o.dedupe, 0)}.WithDefaults()
	a, srv := testserver.Run(t, st, cfg, app.Options{})
	ps := a.Projects
	p1, k1, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, k2, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{App: a, st: st, srv: srv, client: testkit.NoRedirects(), p1: p1.ID, p2: p2.ID, key1: k1, key2: k2}
}

type linkOpts struct {
	key, url, expiredURL, password, ios, android string
	geo                                          map[string]string
	expiresAt                                    *time.Time
	archived, track                              bool
	project                                      string
	domain                                       string
}

// insertLink writes a link row and claims its key directly, to set what the
// API would refuse or make slow (past expiry, a cheap bcrypt cost).
func (e *env) insertLink(t testing.TB, o linkOpts) string {
	t.Helper()
	id := ids.New("link")
	if o.project == "" {
		o.project = e.p1
	}
	if o.domain == "" {
		o.domain = domain
	}
	if o.url == "" {
		o.url = "https://example.com/landing"
	}
	var hash, geo, exp, expURL, ios, android any
	if o.password != "" {
		h, err := bcrypt.GenerateFromPassword([]byte(o.password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		hash = string(h)
	}
	if o.geo != nil {
		b, _ := json.Marshal(o.geo)
		geo = string(b)
	}
	if o.expiresAt != nil {
		exp = store.Millis(*o.expiresAt)
	}
	if o.expiredURL != "" {
		expURL = o.expiredURL
	}
	if o.ios != "" {
		ios = o.ios
	}
	if o.android != "" {
		android = o.android
	}
	now := store.Millis(time.Now())
	err := e.st.InTx(context.Background(), func(tx *store.Tx) error {
		if _, err := tx.ExecContext(context.Background(), "INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ($1, $2, $3, 'link', $4)",
			o.domain, o.key, o.project, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(context.Background(), `INSERT INTO links (id, project_id, domain, key, url, archived, expires_at, expired_url,
password_hash, ios, android, geo, track_conversion, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
			id, o.project, o.domain, o.key, o.url, o.archived, exp, expURL, hash, ios, android, geo, o.track, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Cache.Invalidate(id, o.domain, o.key)
	return id
}

type reqOpts struct {
	method, ua, xff, body, host string
	header                      map[string]string
}

func (e *env) do(t *testing.T, path string, o reqOpts) (*http.Response, string) {
	t.Helper()
	if o.method == "" {
		o.method = http.MethodGet
	}
	var body io.Reader
	if o.body != "" {
		body = strings.NewReader(o.body)
	}
	req, err := http.NewRequest(o.method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = domain
	if o.host != "" {
		req.Host = o.host
	}
	if o.ua == "" {
		o.ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
	}
	req.Header.Set("User-Agent", o.ua)
	if o.xff != "" {
		req.Header.Set("X-Forwarded-For", o.xff)
	}
	if o.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range o.header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) api(t *testing.T, method, path, key, body string) (int, string) {
	t.Helper()
	status, b := testkit.API(t, e.client, method, e.srv.URL+path, key, body)
	return status, string(b)
}

// drain waits until the pipeline has written everything buffered.
func (e *env) drain(t *testing.T) {
	t.Helper()
	if err := e.Interactions.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.Read().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *env) webhook(t *testing.T, project string, triggers []events.Type, linkIDs, qrIDs []string, bots bool) string {
	t.Helper()
	w, err := e.Webhooks.Create(context.Background(), project, webhooks.CreateRequest{Name: "h", URL: "http://127.0.0.1:9/hook",
		Triggers: triggers, LinkIDs: linkIDs, QRCodeIDs: qrIDs, IncludeBots: bots})
	if err != nil {
		t.Fatal(err)
	}
	return w.ID
}

func wantStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
}

func wantLocation(t *testing.T, resp *http.Response, want string) {
	t.Helper()
	wantStatus(t, resp, http.StatusFound)
	if got := resp.Header.Get("Location"); got != want {
		t.Fatalf("Location %q, want %q", got, want)
	}
}

func ip(i int) string { return fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256) }

package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/dashboard"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/testserver"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a dashboard and API on one real database: projects p1 and p2, user
// one@test.example in p1 and two@test.example in p2.
type env struct {
	t        testing.TB
	URL      string
	st       *store.Store
	clock    *clock
	Accounts *accounts.Service
	Links    *links.Service
	Webhooks *webhooks.Service
	Analyt   *analytics.Service
	Pages    *pages.Service
	Partners *partners.Service
	Projects *projects.Service
	P1, P2   projects.Project
	Key1     string
}

const password = "correct horse battery"

func newEnv(t testing.TB, st *store.Store) *env { return newEnvWith(t, st, "") }

// newEnvHTTPS is newEnv with an https base URL (the server itself still
// answers plain http on loopback, as behind a TLS proxy).
func newEnvHTTPS(t testing.TB, st *store.Store) *env { return newEnvBase(t, st, "https://go.test", "") }

// newEnvWith is newEnv with the dashboard on its own host name. It runs the
// whole application (internal/app, through testserver.Run), as serve does.
func newEnvWith(t testing.TB, st *store.Store, dashboardHost string) *env {
	return newEnvBase(t, st, "http://go.test", dashboardHost)
}

func newEnvBase(t testing.TB, st *store.Store, baseURL, dashboardHost string) *env {
	t.Helper()
	ctx := context.Background()
	cfg := testserver.Config()
	cfg.BaseURL, cfg.DashboardHost = baseURL, dashboardHost
	clk := &clock{t: time.Now()}
	var as *accounts.Service
	a, hs := testserver.Run(t, st, cfg, app.Options{Dashboard: func(a *app.App) http.Handler {
		as = accounts.NewService(a.Store, a.Projects, clk.now).WithHashCost(accounts.HashCost{Time: 1, MemoryKiB: 1024})
		dash, err := dashboard.New(dashboard.Deps{Config: a.Config, Accounts: as, Projects: a.Projects, Tags: a.Tags,
			Links: a.Links, QRCodes: a.QRCodes, Pages: a.Pages, Domains: a.Domains, Webhooks: a.Webhooks,
			Analytics: a.Analytics, Conversions: a.Conversions, Partners: a.Partners, Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		return dash.Handler()
	}})
	p1, key1, _, err := a.Projects.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, _, _, err := a.Projects.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateUser(ctx, "one@test.example", password, p1.ID, accounts.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateUser(ctx, "two@test.example", password, p2.ID, accounts.RoleOwner); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, URL: hs.URL, st: st, clock: clk, Accounts: as, Links: a.Links, Webhooks: a.Webhooks, Analyt: a.Analytics,
		Pages: a.Pages, Partners: a.Partners, Projects: a.Projects, P1: p1, P2: p2, Key1: key1}
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{Status: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location"), Header: resp.Header}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.URL+path, nil)
	return b.do(req)
}

// post sends a form with the last seen CSRF token (unless the form has one).
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// login logs in as email and returns the browser.
func (e *env) login(email string) *browser {
	e.t.Helper()
	b := e.browser()
	if p := b.get("/app/login"); p.Status != http.StatusOK {
		e.t.Fatalf("login form: %d", p.Status)
	}
	p := b.post("/app/login", url.Values{"email": {email}, "password": {password}})
	if p.Status != http.StatusSeeOther || p.Location != "/app/links" {
		e.t.Fatalf("login: %d %q\n%s", p.Status, p.Location, p.Body)
	}
	b.get("/app/links") // picks up the session's CSRF token
	return b
}

func must(t *testing.T, p page, status int, contains ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d\n%s", p.Status, status, p.Body)
	}
	for _, c := range contains {
		if !strings.Contains(p.Body, c) {
			t.Fatalf("page lacks %q\n%s", c, p.Body)
		}
	}
}

func (e *env) pagesList(t *testing.T) ([]pages.Page, error) {
	t.Helper()
	return e.Pages.List(context.Background(), e.P1.ID, pages.ListOptions{})
}

package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/analytics"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/qrcodes/qrtest"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/webhooks"
)

func TestSecurityHeadersAndRootRedirect(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.browser()
		p := b.get("/")
		if p.Status != http.StatusFound || p.Location != "/app/" {
			t.Fatalf("GET /: %d %q", p.Status, p.Location)
		}
		p = b.get("/app/links")
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/app/login?next=") {
			t.Fatalf("logged out /app/links: %d %q", p.Status, p.Location)
		}
		p = b.get("/app/login")
		must(t, p, http.StatusOK, `<label for="f-email">Email`, `<label for="f-password">Password`, `>Log in</button>`)
		csp := p.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.Body, "<script>") {
			t.Error("inline script allowed or present")
		}
		for _, ck := range p.Header.Values("Set-Cookie") {
			if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") {
				t.Errorf("cookie %q lacks HttpOnly or SameSite=Lax", ck)
			}
		}
		if p := b.get("/app/static/app.css"); p.Status != http.StatusOK || !strings.Contains(p.Body, "prefers-color-scheme") {
			t.Fatalf("app.css: %d", p.Status)
		}
	})
}

func TestSetupAddressWorksOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		e := newEnv(t, st)
		// The env made users; a fresh server has none, so check on a new
		// token with the users removed.
		if err := st.InTx(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, "DELETE FROM users"); return err }); err != nil {
			t.Fatal(err)
		}
		tok, err := e.Accounts.NewSetupToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		must(t, b.get("/app/setup?token="+url.QueryEscape(tok)), http.StatusOK, "Create the owner account")
		p := b.post("/app/setup", url.Values{"token": {tok}, "email": {"owner@test.example"}, "password": {"short"}, "password2": {"short"}})
		must(t, p, http.StatusUnprocessableEntity, `id="e-password"`, "password must be 8 to 256 characters")
		p = b.post("/app/setup", url.Values{"token": {tok}, "email": {"owner@test.example"}, "password": {password}, "password2": {password}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("setup: %d\n%s", p.Status, p.Body)
		}
		// Logged in as the owner of every project.
		must(t, b.get("/app/settings"), http.StatusOK, "owner@test.example")
		other := e.browser()
		must(t, other.get("/app/setup?token="+url.QueryEscape(tok)), http.StatusNotFound, "used already")
		ms, err := e.Accounts.Memberships(ctx, mustUser(t, e, "owner@test.example"))
		if err != nil || len(ms) != 2 {
			t.Fatalf("owner memberships: %v %v", ms, err)
		}
	})
}

func mustUser(t *testing.T, e *env, email string) string {
	t.Helper()
	u, err := e.Accounts.Authenticate(context.Background(), email, password)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestLinksScreen(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		must(t, b.get("/app/links"), http.StatusOK, "No links yet", ">Create link<",
			">Links</a>", ">QR codes</a>", ">Pages</a>", ">Analytics</a>", ">Customers</a>", ">Partners</a>", ">Webhooks</a>", ">Settings</a>")
		must(t, b.get("/app/links/new"), http.StatusOK, `<label for="f-url">Destination URL`, `<label for="f-key">Short key`)

		// The API's validation messages, next to their fields.
		p := b.post("/app/links", url.Values{"url": {"ftp://example.com"}, "key": {"x"}})
		must(t, p, http.StatusUnprocessableEntity, `id="e-url"`, "url must be an http or https URL")
		p = b.post("/app/links", url.Values{"url": {"https://example.com/a"}, "key": {"app"}})
		must(t, p, http.StatusUnprocessableEntity, `id="e-key"`, `key &#34;app&#34; is reserved`)

		p = b.post("/app/links", url.Values{"url": {"https://example.com/landing"}, "key": {"spring"}, "tagNames": {"promo, q2"},
			"utm_source": {"news"}, "geo": {"DE https://example.com/de"}, "trackConversion": {"on"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", p.Status, p.Body)
		}
		l, err := e.Links.Info(context.Background(), e.P1.ID, links.InfoQuery{Domain: "go.test", Key: "spring"})
		if err != nil {
			t.Fatal(err)
		}
		if !l.TrackConversion || str(l.UTMSource) != "news" || l.Geo["DE"] != "https://example.com/de" || len(l.Tags) != 2 {
			t.Fatalf("stored link: %+v", l)
		}
		if _, err := e.Links.Create(context.Background(), e.P1.ID, links.CreateRequest{URL: "https://other.example/x", Key: ptr("autumn")}); err != nil {
			t.Fatal(err)
		}
		must(t, b.get("/app/links"), http.StatusOK, "http://go.test/spring", "http://go.test/autumn", "Copy short link", `alt="QR code of http://go.test/spring"`)
		p = b.get("/app/links?search=landing")
		must(t, p, http.StatusOK, "http://go.test/spring")
		if strings.Contains(p.Body, "go.test/autumn") {
			t.Fatal("search did not filter")
		}
		p = b.get("/app/links.csv?search=landing")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "http://go.test/spring") || strings.Contains(p.Body, "autumn") ||
			!strings.HasPrefix(p.Body, "id,shortLink,url") {
			t.Fatalf("csv: %d\n%s", p.Status, p.Body)
		}

		// Edit: an empty field clears, the rest stays.
		must(t, b.get("/app/links/"+l.ID), http.StatusOK, `value="spring"`, `value="news"`)
		p = b.post("/app/links/"+l.ID, url.Values{"url": {"https://example.com/new"}, "key": {"spring"}, "domain": {"go.test"},
			"tagNames": {"promo"}, "utm_source": {""}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d\n%s", p.Status, p.Body)
		}
		l, _ = e.Links.Get(context.Background(), e.P1.ID, l.ID)
		if l.URL != "https://example.com/new" || l.UTMSource != nil || len(l.Tags) != 1 || l.TrackConversion {
			t.Fatalf("edited: %+v", l)
		}

		// Archive, then delete after a confirmation page.
		if p := b.post("/app/links/"+l.ID+"/archive", url.Values{"archived": {"true"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("archive: %d", p.Status)
		}
		if p := b.get("/app/links"); strings.Contains(p.Body, "go.test/spring") {
			t.Fatal("archived link still in the active list")
		}
		must(t, b.get("/app/links?archived=yes"), http.StatusOK, "go.test/spring")
		must(t, b.get("/app/links/"+l.ID+"/delete"), http.StatusOK, "cannot be undone", ">Delete</button>")
		if p := b.post("/app/links/"+l.ID+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.Status)
		}
		if _, err := e.Links.Get(context.Background(), e.P1.ID, l.ID); err == nil {
			t.Fatal("link not deleted")
		}
		// Bulk delete asks first.
		all, _ := e.Links.List(context.Background(), e.P1.ID, links.ListOptions{})
		must(t, b.post("/app/links/bulk", url.Values{"action": {"delete"}, "id": {all[0].ID}}), http.StatusOK, "Delete 1 selected")
		if p := b.post("/app/links/bulk", url.Values{"action": {"delete"}, "confirm": {"yes"}, "id": {all[0].ID}}); p.Status != http.StatusSeeOther {
			t.Fatalf("bulk delete: %d", p.Status)
		}
		if left, _ := e.Links.List(context.Background(), e.P1.ID, links.ListOptions{}); len(left) != 0 {
			t.Fatalf("left after bulk delete: %d", len(left))
		}
	})
}

func ptr[T any](v T) *T { return &v }

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		for _, tok := range []string{"", "wrong"} {
			p := b.post("/app/links", url.Values{"csrf": {tok}, "url": {"https://example.com/x"}})
			must(t, p, http.StatusForbidden, "CSRF")
		}
		if ls, _ := e.Links.List(context.Background(), e.P1.ID, links.ListOptions{}); len(ls) != 0 {
			t.Fatal("a form without the CSRF token changed data")
		}
		// The log-in form too (login CSRF).
		anon := e.browser()
		anon.get("/app/login")
		must(t, anon.post("/app/login", url.Values{"csrf": {"nope"}, "email": {"one@test.example"}, "password": {password}}), http.StatusForbidden)
	})
}

func TestSessionExpiryAndLogout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		must(t, b.get("/app/links"), http.StatusOK)
		e.clock.add(accounts.SessionTTL + 1)
		if p := b.get("/app/links"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/app/login") {
			t.Fatalf("expired session: %d %q", p.Status, p.Location)
		}
		must(t, b.post("/app/links", url.Values{"url": {"https://example.com/x"}}), http.StatusForbidden, "session has ended")

		b = e.login("one@test.example")
		if p := b.post("/app/logout", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", p.Status)
		}
		if p := b.get("/app/links"); p.Status != http.StatusSeeOther {
			t.Fatalf("after logout: %d", p.Status)
		}
	})
}

func TestLoginRateLimitedAndWrongPassword(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.browser()
		b.get("/app/login")
		p := b.post("/app/login", url.Values{"email": {"one@test.example"}, "password": {"not it"}})
		must(t, p, http.StatusUnauthorized, "Wrong e-mail or password")
		limited := false
		for range 20 {
			if p := b.post("/app/login", url.Values{"email": {"one@test.example"}, "password": {"not it"}}); p.Status == http.StatusTooManyRequests {
				limited = true
				break
			}
		}
		if !limited {
			t.Fatal("20 wrong passwords in a row were not rate-limited")
		}
		// Even the right password waits now.
		must(t, b.post("/app/login", url.Values{"email": {"one@test.example"}, "password": {password}}), http.StatusTooManyRequests)
	})
}

func TestSessionNeverAuthorisesAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		if p := b.get("/api/links"); p.Status != http.StatusUnauthorized {
			t.Fatalf("GET /api/links with a dashboard session: %d", p.Status)
		}
		p := b.post("/api/links", url.Values{"url": {"https://example.com"}})
		if p.Status != http.StatusUnauthorized {
			t.Fatalf("POST /api/links with a dashboard session: %d", p.Status)
		}
	})
}

func TestIsolationBetweenProjectsAndUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		e := newEnv(t, st)
		l, err := e.Links.Create(ctx, e.P1.ID, links.CreateRequest{URL: "https://secret.example/one", Key: ptr("mine")})
		if err != nil {
			t.Fatal(err)
		}
		wh, err := e.Webhooks.Create(ctx, e.P1.ID, webhooks.CreateRequest{Name: "private hook", URL: "http://127.0.0.1:1/x",
			Triggers: []events.Type{events.LinkCreated}})
		if err != nil {
			t.Fatal(err)
		}
		two := e.login("two@test.example")
		p := two.get("/app/links")
		if strings.Contains(p.Body, "secret.example") || strings.Contains(p.Body, e.P1.Name) {
			t.Fatal("user two sees project one")
		}
		for _, path := range []string{"/app/links/" + l.ID, "/app/links/" + l.ID + "/delete", "/app/webhooks/" + wh.ID,
			"/app/webhooks/" + wh.ID + "/edit", "/app/webhooks/" + wh.ID + "/deliveries/1", "/app/analytics?linkId=" + l.ID} {
			must(t, two.get(path), http.StatusNotFound)
		}
		for _, path := range []string{"/app/links/" + l.ID, "/app/links/" + l.ID + "/delete", "/app/links/" + l.ID + "/archive",
			"/app/webhooks/" + wh.ID + "/secret", "/app/webhooks/" + wh.ID + "/delete", "/app/webhooks/" + wh.ID + "/disable"} {
			must(t, two.post(path, url.Values{"url": {"https://x.example"}}), http.StatusNotFound)
		}
		must(t, two.post("/app/projects/switch", url.Values{"project": {e.P1.ID}}), http.StatusNotFound)
		if p := two.get("/app/webhooks"); strings.Contains(p.Body, "private hook") {
			t.Fatal("user two sees project one's webhook")
		}
		if _, err := e.Links.Get(ctx, e.P1.ID, l.ID); err != nil {
			t.Fatal("user two's requests changed project one:", err)
		}
		// A second project of user one: the switcher changes what is shown.
		one := e.login("one@test.example")
		p = one.post("/app/projects", url.Values{"slug": {"side"}, "name": {"Side project"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("create project: %d\n%s", p.Status, p.Body)
		}
		p = one.get("/app/links")
		must(t, p, http.StatusOK, "Side project", "No links yet")
		must(t, one.post("/app/projects", url.Values{"slug": {"p1"}, "name": {"dup"}}), http.StatusConflict, `id="e-slug"`, "taken")
		if p := one.post("/app/projects/switch", url.Values{"project": {e.P1.ID}}); p.Status != http.StatusSeeOther {
			t.Fatalf("switch: %d", p.Status)
		}
		must(t, one.get("/app/links"), http.StatusOK, "go.test/mine")
	})
}

func TestWebhooksScreen(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		e := newEnv(t, st)
		l, err := e.Links.Create(ctx, e.P1.ID, links.CreateRequest{URL: "https://example.com/hooked", Key: ptr("hooked")})
		if err != nil {
			t.Fatal(err)
		}
		b := e.login("one@test.example")
		must(t, b.get("/app/webhooks"), http.StatusOK, "No webhooks yet", ">Create webhook<")
		p := b.get("/app/webhooks/new")
		must(t, p, http.StatusOK, `<label for="f-name">Name`, `<label for="f-url">URL`, `<label for="t-link.clicked">link.clicked</label>`,
			"go.test/hooked", "Search links, QR codes and pages")
		// The service's rule about the picker, shown beside the picker.
		p = b.post("/app/webhooks", url.Values{"name": {"clicks"}, "url": {"http://127.0.0.1:9/hook"}, "triggers": {"link.clicked"}})
		must(t, p, http.StatusUnprocessableEntity, `id="e-resources"`, "needs at least one link")
		p = b.post("/app/webhooks", url.Values{"name": {""}, "url": {"http://127.0.0.1:9/hook"}, "triggers": {"link.created"}})
		must(t, p, http.StatusUnprocessableEntity, `id="e-name"`)
		p = b.post("/app/webhooks", url.Values{"name": {"clicks"}, "url": {"http://127.0.0.1:9/hook"}, "triggers": {"link.clicked"}, "linkIds": {l.ID}})
		must(t, p, http.StatusOK, "whsec_", "Copy secret")
		ws, _ := e.Webhooks.List(ctx, e.P1.ID, 1, 10)
		if len(ws) != 1 || len(ws[0].LinkIDs) != 1 || ws[0].LinkIDs[0] != l.ID {
			t.Fatalf("webhooks: %+v", ws)
		}
		id := ws[0].ID
		must(t, b.get("/app/webhooks"), http.StatusOK, "clicks", "No deliveries yet")
		p = b.get("/app/webhooks/" + id)
		must(t, p, http.StatusOK, "Delivery log", "go.test/hooked", "Send test", "Reveal secret")
		if strings.Contains(p.Body, "whsec_") {
			t.Fatal("the secret is on the page before it was revealed")
		}
		if p := b.post("/app/webhooks/"+id+"/test", url.Values{"event": {"link.clicked"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("test: %d %s", p.Status, p.Body)
		}
		must(t, b.post("/app/webhooks/"+id+"/test", url.Values{"event": {"nope"}}), http.StatusUnprocessableEntity, "unknown event type")
		if p := b.post("/app/webhooks/"+id+"/disable", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("disable: %d", p.Status)
		}
		must(t, b.get("/app/webhooks"), http.StatusOK, "Disabled")
		if p := b.post("/app/webhooks/"+id+"/enable", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("enable: %d", p.Status)
		}
		old, _ := e.Webhooks.Secret(ctx, e.P1.ID, id)
		p = b.post("/app/webhooks/"+id+"/rotate-secret", url.Values{})
		must(t, p, http.StatusOK, "whsec_")
		if strings.Contains(p.Body, old.Secret) {
			t.Fatal("rotation shows the old secret")
		}
		p = b.post("/app/webhooks/"+id, url.Values{"name": {"renamed"}, "url": {"http://127.0.0.1:9/hook2"}, "triggers": {"link.created", "link.deleted"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d\n%s", p.Status, p.Body)
		}
		w, _ := e.Webhooks.Get(ctx, e.P1.ID, id)
		if w.Name != "renamed" || len(w.Triggers) != 2 || len(w.LinkIDs) != 0 {
			t.Fatalf("edited: %+v", w)
		}
		job := b.post("/app/webhooks/"+id+"/recover", url.Values{"since": {"2020-01-01T00:00"}})
		if job.Status != http.StatusSeeOther || !strings.Contains(job.Location, "/recover/") {
			t.Fatalf("recover: %d %q %s", job.Status, job.Location, job.Body)
		}
		must(t, b.get(job.Location), http.StatusOK, "deliveries queued again")
		must(t, b.get("/app/webhooks/"+id+"/delete"), http.StatusOK, "cannot be undone")
		if p := b.post("/app/webhooks/"+id+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.Status)
		}
	})
}

func TestAnalyticsMatchesService(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		e := newEnv(t, st)
		l, err := e.Links.Create(ctx, e.P1.ID, links.CreateRequest{URL: "https://example.com/a", Key: ptr("counted")})
		if err != nil {
			t.Fatal(err)
		}
		insertClicks(t, st, e.P1.ID, l.ID, 3)
		b := e.login("one@test.example")
		p := b.get("/app/analytics?interval=7d&timezone=UTC")
		want, err := e.Analyt.Query(ctx, e.P1.ID, mustParams(t, url.Values{"interval": {"7d"}, "timezone": {"UTC"}}))
		if err != nil {
			t.Fatal(err)
		}
		if want.(analytics.Counts).Clicks != 3 {
			t.Fatalf("service counts %+v", want)
		}
		must(t, p, http.StatusOK, `data-total="clicks">3<`, "<svg", "Countries", "DE")
		must(t, b.get("/app/analytics?linkId="+l.ID+"&timezone=UTC"), http.StatusOK, `data-total="clicks">3<`)
		must(t, b.get("/app/analytics?event=nope"), http.StatusUnprocessableEntity, "event must be one of")
		// A custom range: the clicks are inside the last hour, not a year ago.
		from := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
		must(t, b.get("/app/analytics?timezone=UTC&from="+from), http.StatusOK, `data-total="clicks">3<`)
		must(t, b.get("/app/analytics?timezone=UTC&from=2024-01-01T00:00&to=2024-02-01T00:00"), http.StatusOK, `data-total="clicks">0<`)
	})
}

func mustParams(t *testing.T, v url.Values) analytics.Params {
	t.Helper()
	v.Set("groupBy", "count")
	p, err := analytics.ParseParams(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// insertClicks writes n counted human clicks of a link from Germany, in the
// columns the interaction pipeline fills.
func insertClicks(t *testing.T, st *store.Store, projectID, linkID string, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UnixMilli()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			if _, err := tx.ExecContext(ctx, `INSERT INTO interactions (click_id, project_id, kind, link_id, qrcode_id, page_id,
url, ip, continent, country, region, city, latitude, longitude, device, device_vendor, device_model, browser,
browser_version, engine, engine_version, os, os_version, cpu_architecture, ua, bot, qr, referer, referer_url, counted, created_at)
VALUES ($1, $2, 'click', $3, NULL, NULL, 'https://example.com/a', '203.0.113.7', 'EU', 'DE', 'Unknown', 'Berlin', NULL, NULL,
'Desktop', 'Unknown', 'Unknown', 'Firefox', '140', 'Gecko', '140', 'Linux', '', 'Unknown', 'ua', FALSE, FALSE, '(direct)', '(direct)', TRUE, $4)`,
				fmt.Sprintf("c%s%d", linkID, i), projectID, linkID, now-int64(i)*1000); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSettingsScreen(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		must(t, b.get("/app/settings"), http.StatusOK, `value="p1"`, "one@test.example")
		must(t, b.post("/app/settings/project", url.Values{"name": {"Main"}, "slug": {"Bad Slug"}, "ownerEmail": {""}}),
			http.StatusUnprocessableEntity, `id="e-slug"`, "slug must be")
		must(t, b.post("/app/settings/project", url.Values{"name": {"Main"}, "slug": {"p2"}, "ownerEmail": {""}}), http.StatusConflict, "taken")
		if p := b.post("/app/settings/project", url.Values{"name": {"Main"}, "slug": {"main"}, "ownerEmail": {"ops@test.example"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("save project: %d\n%s", p.Status, p.Body)
		}
		must(t, b.get("/app/settings"), http.StatusOK, `value="Main"`, `value="ops@test.example"`)
		if p := b.post("/app/settings/domains", url.Values{"slug": {"go.example.org"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("add domain: %d\n%s", p.Status, p.Body)
		}
		must(t, b.post("/app/settings/domains", url.Values{"slug": {"not a domain"}}), http.StatusUnprocessableEntity, `id="e-slug"`)
		must(t, b.get("/app/links/new"), http.StatusOK, "go.example.org")
		p := b.post("/app/settings/keys", url.Values{"name": {"ci"}, "scopes": {"links.read"}})
		must(t, p, http.StatusOK, "shown once", "codeqr_")
		key := p.Body[strings.Index(p.Body, `id="newkey" readonly value="`)+len(`id="newkey" readonly value="`):]
		key = key[:strings.Index(key, `"`)]
		if p := b.get("/app/settings"); strings.Contains(p.Body, key) {
			t.Fatal("the API key is shown again after its creation")
		}
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/links", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("new key: %d", resp.StatusCode)
		}
		// Members: an existing account joins.
		must(t, b.post("/app/settings/members", url.Values{"email": {"nobody@test.example"}, "role": {"member"}}), http.StatusUnprocessableEntity, "no account")
		if p := b.post("/app/settings/members", url.Values{"email": {"two@test.example"}, "role": {"member"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("add member: %d\n%s", p.Status, p.Body)
		}
		must(t, b.get("/app/settings"), http.StatusOK, "two@test.example")
		// Removing: the last owner stays; a member goes, and loses the project.
		one := mustUser(t, e, "one@test.example")
		two := mustUser(t, e, "two@test.example")
		must(t, b.post("/app/settings/members/"+one+"/remove", url.Values{}), http.StatusUnprocessableEntity, "last owner")
		tb := e.login("two@test.example")
		must(t, tb.post("/app/projects/switch", url.Values{"project": {e.P1.ID}}), http.StatusSeeOther)
		must(t, tb.post("/app/settings/members/"+one+"/remove", url.Values{}), http.StatusForbidden, "only an owner")
		if p := b.post("/app/settings/members/"+two+"/remove", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("remove member: %d\n%s", p.Status, p.Body)
		}
		if p := b.get("/app/settings"); strings.Contains(p.Body, "two@test.example") {
			t.Fatal("removed member still listed")
		}
		if p := tb.get("/app/links"); p.Status != http.StatusOK || strings.Contains(p.Body, e.P1.ID) {
			t.Fatal("a removed member still sees the project")
		}
	})
}

func TestListScreensAndPasswordChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		must(t, b.get("/app/qrcodes"), http.StatusOK, "No QR codes yet")
		must(t, b.get("/app/pages"), http.StatusOK, "No pages yet")
		must(t, b.get("/app/customers"), http.StatusOK, "No customers yet")
		must(t, b.get("/app/partners"), http.StatusOK, "No partners yet")
		must(t, b.post("/app/partners", url.Values{"name": {"Ann"}, "email": {"bad"}, "url": {"https://example.com"}, "status": {"pending"}}),
			http.StatusUnprocessableEntity)
		if p := b.post("/app/partners", url.Values{"name": {"Ann"}, "email": {"ann@test.example"}, "url": {"https://example.com/ref"}, "status": {"pending"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("enroll: %d\n%s", p.Status, p.Body)
		}
		must(t, b.get("/app/partners"), http.StatusOK, "ann@test.example", "pending", "Approve")
		ps, err := e.Partners.List(context.Background(), e.P1.ID, partners.ListOptions{})
		if err != nil || len(ps) != 1 {
			t.Fatalf("partners: %v %v", ps, err)
		}
		if p := b.post("/app/partners/"+ps[0].ID+"/approve", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("approve: %d", p.Status)
		}
		must(t, b.post("/app/partners/"+ps[0].ID+"/links", url.Values{"url": {"ftp://x"}}), http.StatusUnprocessableEntity, "url must be")
		if p := b.post("/app/partners/"+ps[0].ID+"/links", url.Values{"url": {"https://example.com/ref2"}, "key": {"ann2"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("add referral link: %d\n%s", p.Status, p.Body)
		}
		must(t, b.get("/app/partners"), http.StatusOK, "approved", "http://go.test/ann2")
		two := e.login("two@test.example")
		must(t, two.post("/app/partners/"+ps[0].ID+"/approve", url.Values{}), http.StatusNotFound)
		must(t, two.post("/app/partners/"+ps[0].ID+"/links", url.Values{"url": {"https://example.com/x"}}), http.StatusNotFound)
		must(t, b.get("/app/customers/cus_nope"), http.StatusNotFound)

		other := e.login("one@test.example")
		must(t, b.post("/app/account/password", url.Values{"current": {"wrong"}, "new": {"new password 1"}, "new2": {"new password 1"}}),
			http.StatusUnprocessableEntity, `id="e-current"`)
		p := b.post("/app/account/password", url.Values{"current": {password}, "new": {"new password 1"}, "new2": {"new password 1"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("change password: %d\n%s", p.Status, p.Body)
		}
		must(t, b.get(p.Location), http.StatusOK, "Password changed")
		if p := other.get("/app/links"); p.Status != http.StatusSeeOther {
			t.Fatalf("another session survived the password change: %d", p.Status)
		}
		if _, err := e.Accounts.Authenticate(context.Background(), "one@test.example", "new password 1"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestQRDesigner(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		must(t, b.get("/app/qrcodes"), http.StatusOK, "No QR codes yet", "Design a QR code")
		p := b.get("/app/qrcodes/new")
		must(t, p, http.StatusOK, `<label for="f-type">Content type`, `<label for="f-wifi.ssid">Network name (SSID)`, "Preview of the QR code")
		// The preview draws unsaved values; a bad one is the service's 422.
		pv := b.get("/app/qrcodes/preview.svg?type=text&static=on&text.text=hello")
		if pv.Status != http.StatusOK || !strings.HasPrefix(pv.Header.Get("Content-Type"), "image/svg+xml") {
			t.Fatalf("preview: %d %s", pv.Status, pv.Header.Get("Content-Type"))
		}
		if p := b.get("/app/qrcodes/preview.svg?type=email&static=on&email.to=nope"); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad preview: %d", p.Status)
		}
		must(t, b.get("/app/qrcodes/new?type=email&static=on&email.to=nope"), http.StatusOK, `id="e-email.to"`)
		p = b.post("/app/qrcodes", url.Values{"type": {"email"}, "static": {"on"}, "email.to": {"nope"}, "size": {"300"}, "margin": {"4"}, "level": {"M"}})
		must(t, p, http.StatusUnprocessableEntity, `id="e-email.to"`, "content.to")
		p = b.post("/app/qrcodes", url.Values{"type": {"wifi"}, "static": {"on"}, "wifi.ssid": {"Office"}, "wifi.password": {"s3cret-pass"},
			"wifi.encryption": {"WPA"}, "fgColor": {"#112233"}, "bgColor": {"#ffffff"}, "size": {"400"}, "margin": {"4"}, "level": {"M"}, "title": {"Guest Wi-Fi"}})
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/app/qrcodes/") {
			t.Fatalf("create: %d %q\n%s", p.Status, p.Location, p.Body)
		}
		id := strings.TrimPrefix(strings.SplitN(p.Location, "?", 2)[0], "/app/qrcodes/")
		must(t, b.get("/app/qrcodes/"+id), http.StatusOK, "Guest Wi-Fi", "WIFI:", "Download PNG", "Download SVG")
		png := b.get("/app/qrcodes/" + id + "/image?format=png")
		if png.Status != http.StatusOK {
			t.Fatalf("download: %d", png.Status)
		}
		got := qrtest.DecodePNG(t, []byte(png.Body), 400)
		if !strings.HasPrefix(got, "WIFI:") || !strings.Contains(got, "S:Office;") || !strings.Contains(got, "P:s3cret-pass;") {
			t.Fatalf("the downloaded code decodes to %q", got)
		}
		// Another project's code is a 404.
		two := e.login("two@test.example")
		must(t, two.get("/app/qrcodes/"+id), http.StatusNotFound)
		must(t, two.get("/app/qrcodes/"+id+"/image?format=png"), http.StatusNotFound)
		must(t, two.post("/app/qrcodes/"+id+"/delete", url.Values{}), http.StatusNotFound)
		must(t, b.get("/app/qrcodes/"+id+"/delete"), http.StatusOK, "cannot be undone")
		if p := b.post("/app/qrcodes/"+id+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.Status)
		}
	})
}

func TestPageEditor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		b := e.login("one@test.example")
		must(t, b.get("/app/pages/new"), http.StatusOK, "Block 1: heading", "Add block", "Lead form")
		state := url.Values{"title": {"Spring launch"}, "slug": {"spring-launch"}, "blocks": {"1"}, "fields": {"0"},
			"block.0.type": {"heading"}, "block.0.text": {"Hello spring"},
			"theme.background": {"#ffffff"}, "theme.text": {"#111111"}, "theme.accent": {"#2255cc"}}
		with := func(extra url.Values) url.Values {
			v := url.Values{}
			for k, x := range state {
				v[k] = x
			}
			for k, x := range extra {
				v[k] = x
			}
			return v
		}
		// Operations re-render the editor and save nothing.
		p := b.post("/app/pages", with(url.Values{"op": {"add-block"}, "newBlock": {"button"}}))
		must(t, p, http.StatusOK, "Block 2: button", ">Hello spring<")
		p = b.post("/app/pages", with(url.Values{"op": {"up-1"}, "blocks": {"2"}, "block.1.type": {"text"}, "block.1.text": {"Second"}}))
		must(t, p, http.StatusOK)
		if i, j := strings.Index(p.Body, ">Second<"), strings.Index(p.Body, ">Hello spring<"); i < 0 || j < 0 || i > j {
			t.Fatalf("moved blocks missing:\n%s", p.Body)
		}
		if ps, _ := e.pagesList(t); len(ps) != 0 {
			t.Fatal("an editor operation saved the page")
		}
		must(t, b.post("/app/pages", with(url.Values{"op": {"add-field"}, "newField": {"email"}})), http.StatusOK, "Form field 1", `<option selected>email</option>`)
		// The service's validation, on the block it names.
		p = b.post("/app/pages", with(url.Values{"blocks": {"2"}, "block.1.type": {"image"}, "block.1.url": {"ftp://x"}}))
		must(t, p, http.StatusUnprocessableEntity, "blocks[1]")
		// Save with a lead form.
		p = b.post("/app/pages", with(url.Values{"form": {"on"}, "fields": {"1"}, "field.0.name": {"email"}, "field.0.label": {"Your e-mail"},
			"field.0.type": {"email"}, "field.0.required": {"on"}, "form.submitLabel": {"Join"}}))
		if p.Status != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", p.Status, p.Body)
		}
		ps, _ := e.pagesList(t)
		if len(ps) != 1 || ps[0].Form == nil || len(ps[0].Form.Fields) != 1 || ps[0].Published {
			t.Fatalf("saved pages: %+v", ps)
		}
		id := ps[0].ID
		pv := b.get("/app/pages/" + id + "/preview")
		must(t, pv, http.StatusOK, "Hello spring", `name="email"`, "Join")
		if csp := pv.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "nonce-") {
			t.Fatalf("preview CSP %q", csp)
		}
		if p := b.post("/app/pages/"+id+"/publish", url.Values{"published": {"true"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("publish: %d", p.Status)
		}
		must(t, b.get("/app/pages/"+id), http.StatusOK, "Open the public page", "Unpublish", "/p/spring-launch")
		must(t, b.get("/app/pages"), http.StatusOK, "Spring launch", "published")
		two := e.login("two@test.example")
		must(t, two.get("/app/pages/"+id), http.StatusNotFound)
		must(t, two.get("/app/pages/"+id+"/preview"), http.StatusNotFound)
		must(t, two.post("/app/pages/"+id+"/publish", url.Values{"published": {"false"}}), http.StatusNotFound)
		if p := b.post("/app/pages/"+id+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.Status)
		}
	})
}

func TestDashboardHost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnvWith(t, st, "app.test")
		get := func(host, path string) *http.Response {
			req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
			req.Host = host
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		if r := get("app.test", "/app/login"); r.StatusCode != http.StatusOK {
			t.Fatalf("dashboard host /app/login: %d", r.StatusCode)
		}
		if r := get("app.test", "/"); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/app/" {
			t.Fatalf("dashboard host /: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if r := get("go.test", "/app/login"); r.StatusCode != http.StatusNotFound {
			t.Fatalf("short domain /app/login with --dashboard-host: %d", r.StatusCode)
		}
		if r := get("go.test", "/"); r.StatusCode == http.StatusFound {
			t.Fatal("short domain / redirects to a dashboard it does not serve")
		}
	})
}

func TestCookiesSecureOnHTTPS(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnvHTTPS(t, st)
		b := e.browser()
		p := b.get("/app/login")
		cks := p.Header.Values("Set-Cookie")
		if len(cks) == 0 {
			t.Fatal("no cookie set by the log-in form")
		}
		for _, ck := range cks {
			if !strings.Contains(ck, "; Secure") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") {
				t.Fatalf("cookie %q: want Secure, HttpOnly, SameSite=Lax behind an https base URL", ck)
			}
		}
	})
}

func TestCustomersScreen(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		l, err := e.Links.Create(ctx, e.P1.ID, links.CreateRequest{URL: "https://shop.example/", Key: ptr("shop"), TrackConversion: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		// A real click on the short link gives the cq_id the lead refers to.
		click, _ := http.NewRequest(http.MethodGet, e.URL+"/shop", nil)
		click.Host = "go.test"
		click.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(click)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("cq_id") == "" {
			t.Fatalf("click: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		body := fmt.Sprintf(`{"clickId":%q,"eventName":"Sign up","customerExternalId":"cust-42","customerName":"Dana","customerEmail":"dana@test.example"}`,
			loc.Query().Get("cq_id"))
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/track/lead", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.Key1)
		req.Header.Set("Content-Type", "application/json")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("track lead: %d", resp.StatusCode)
		}
		b := e.login("one@test.example")
		p := b.get("/app/customers")
		must(t, p, http.StatusOK, "Dana", "dana@test.example")
		i := strings.Index(p.Body, `href="/app/customers/`)
		id := p.Body[i+len(`href="/app/customers/`):]
		id = id[:strings.Index(id, `"`)]
		must(t, b.get("/app/customers/"+id), http.StatusOK, "cust-42", `href="/app/links/`+l.ID+`"`, "Chrome")
		must(t, b.get("/app/customers?email=nobody@test.example"), http.StatusOK, "No customers yet")
		two := e.login("two@test.example")
		must(t, two.get("/app/customers/"+id), http.StatusNotFound)
		if p := two.get("/app/customers"); strings.Contains(p.Body, "Dana") {
			t.Fatal("user two sees project one's customer")
		}
	})
}

func TestWebhookDeliveryLogAndHealth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		e := newEnv(t, st)
		var mu sync.Mutex
		got, fail := 0, false
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			got++
			if fail {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true}`))
		}))
		t.Cleanup(rcv.Close)
		count := func() int { mu.Lock(); defer mu.Unlock(); return got }
		wh, err := e.Webhooks.Create(ctx, e.P1.ID, webhooks.CreateRequest{Name: "log", URL: rcv.URL + "/hook", Triggers: []events.Type{events.LinkCreated}})
		if err != nil {
			t.Fatal(err)
		}
		b := e.login("one@test.example")
		if p := b.post("/app/webhooks/"+wh.ID+"/test", url.Values{"event": {"link.created"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("test: %d", p.Status)
		}
		var p page
		waitFor(t, func() bool {
			p = b.get("/app/webhooks/" + wh.ID)
			return strings.Contains(p.Body, `ok">success<`) && strings.Contains(p.Body, "Healthy")
		})
		must(t, p, http.StatusOK, "Healthy", "link.created", `<span class="badge">test</span>`)
		must(t, b.get("/app/webhooks/"+wh.ID+"?status=failed"), http.StatusOK, "No deliveries match these filters")
		must(t, b.get("/app/webhooks/"+wh.ID+"?event=link.deleted"), http.StatusOK, "No deliveries match these filters")
		i := strings.Index(p.Body, "/deliveries/")
		attempt := p.Body[i+len("/deliveries/"):]
		attempt = attempt[:strings.IndexAny(attempt, `"?`)]
		a := b.get("/app/webhooks/" + wh.ID + "/deliveries/" + attempt)
		must(t, a, http.StatusOK, "Delivery attempt 1 of link.created", "webhook-signature", "&#34;event&#34;: &#34;link.created&#34;", "{\n  &#34;ok&#34;: true\n}")
		before := count()
		if p := b.post("/app/webhooks/"+wh.ID+"/deliveries/"+attempt+"/retry", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("redeliver: %d", p.Status)
		}
		waitFor(t, func() bool { return count() > before })
		// A failing receiver: the list says since when, with the last error.
		mu.Lock()
		fail = true
		mu.Unlock()
		if p := b.post("/app/webhooks/"+wh.ID+"/test", url.Values{"event": {"link.created"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("test: %d", p.Status)
		}
		waitFor(t, func() bool { p = b.get("/app/webhooks"); return strings.Contains(p.Body, "Failing since") })
		must(t, p, http.StatusOK, "HTTP 500")
		two := e.login("two@test.example")
		must(t, two.get("/app/webhooks/"+wh.ID+"/deliveries/"+attempt), http.StatusNotFound)
		must(t, two.post("/app/webhooks/"+wh.ID+"/deliveries/"+attempt+"/retry", url.Values{}), http.StatusNotFound)
	})
}

// waitFor polls cond for up to 20 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package public_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testkit"
	"github.com/codeqr/codeqr/internal/testserver"
)

const iPhoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

// viewEnv is the whole application, with the server's default dedupe window,
// seen through its hosted pages.
type viewEnv struct {
	*env
	url       string
	svc       *pages.Service
	projectID string
	key       string
	otherKey  string
}

func newViewEnv(t *testing.T, st *store.Store) *viewEnv {
	t.Helper()
	e := newEnv(t, st, envOpts{dedupe: time.Hour, baseURL: "https://go.example.com"})
	return &viewEnv{env: e, url: e.srv.URL, svc: e.Pages, projectID: e.p1, key: e.key1, otherKey: e.key2}
}

func (e *viewEnv) create(t *testing.T, req pages.CreateRequest) pages.Page {
	t.Helper()
	p, err := e.svc.Create(context.Background(), e.projectID, req)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// get requests a public path; headers are name, value pairs.
func (e *viewEnv) get(t *testing.T, method, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func sp(s string) *string { return &s }

func TestHostedPageRendersEveryBlockAndForm(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newViewEnv(t, st)
		p := e.create(t, pages.CreateRequest{
			Slug: sp("launch"), Title: "Launch <script>alert('t')</script>", Description: sp(`"quoted" & <b>`),
			Blocks: []pages.Block{
				{Type: pages.BlockHeading, Text: sp("Big <script>alert(1)</script> news")},
				{Type: pages.BlockText, Text: sp("line one\nline <i>two</i>\r\nline three")},
				{Type: pages.BlockImage, URL: sp("https://img.example.com/a.png?x=1&y=2"), Alt: sp(`a "cat"`)},
				{Type: pages.BlockButton, Label: sp("Buy <now>"), URL: sp("https://shop.example.com/?a=1&b=2")},
			},
			Form: &pages.Form{Fields: []pages.FormField{
				{Name: "name", Label: "Your <name>", Type: "text", Required: true},
				{Name: "email", Label: "E-mail", Type: "email", Required: true},
				{Name: "phone", Label: "Phone", Type: "tel"},
				{Name: "msg", Label: "Message", Type: "textarea"},
				{Name: "agree", Label: "I agree", Type: "checkbox", Required: true},
			}, SubmitLabel: "Send it"},
			Theme:     &pages.Theme{Background: "#FAF0E6", Text: "#102030", Accent: "#ff6600"},
			Published: true,
		})
		resp, body := e.get(t, http.MethodGet, "/p/"+p.Slug)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "style-src 'nonce-"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q allows scripts or unsafe sources", csp)
		}
		nonce := regexp.MustCompile(`'nonce-([A-Za-z0-9_-]+)'`).FindStringSubmatch(csp)
		if nonce == nil || !strings.Contains(body, `<style nonce="`+nonce[1]+`">`) {
			t.Errorf("style element does not carry the CSP nonce %v", nonce)
		}
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("headers %v", resp.Header)
		}
		if strings.Contains(strings.ToLower(body), "<script") {
			t.Errorf("body contains a script element:\n%s", body)
		}
		for _, want := range []string{
			`<title>Launch &lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;</title>`,
			`<meta name="description" content="&#34;quoted&#34; &amp; &lt;b&gt;">`,
			`<h1>Big &lt;script&gt;alert(1)&lt;/script&gt; news</h1>`,
			"<p>line one<br>\nline &lt;i&gt;two&lt;/i&gt;<br>\nline three</p>",
			`<img src="https://img.example.com/a.png?x=1&amp;y=2" alt="a &#34;cat&#34;"`,
			`<a class="btn" href="https://shop.example.com/?a=1&amp;b=2" rel="noopener noreferrer nofollow">Buy &lt;now&gt;</a>`,
			`<form method="post" action="/p/launch"`,
			`<label for="f-name">Your &lt;name&gt; <span class="req" aria-hidden="true">*</span></label>`,
			`<input type="text" id="f-name" name="name" maxlength="500" required>`,
			`<input type="email" id="f-email" name="email" maxlength="500" autocomplete="email" required>`,
			`<input type="tel" id="f-phone" name="phone" maxlength="500" autocomplete="tel">`,
			`<textarea id="f-msg" name="msg" maxlength="5000"></textarea>`,
			`<input type="checkbox" id="f-agree" name="agree" value="yes" required>`,
			`name="website" tabindex="-1" autocomplete="off"`,
			`<div class="hp" aria-hidden="true">`,
			`.hp{position:absolute;left:-10000px`,
			`<button type="submit">Send it</button>`,
			`--bg:#faf0e6;--fg:#102030;--accent:#ff6600;--on-accent:#111111`,
			`name="viewport"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %q\n%s", want, body)
			}
		}
		// The blocks come out in their order.
		order := []string{"<h1>", "<p>line one", "<img ", `<a class="btn"`, "<form "}
		last := -1
		for _, s := range order {
			i := strings.Index(body, s)
			if i <= last {
				t.Errorf("%q out of order", s)
			}
			last = i
		}

		// HEAD: the same headers, no body.
		resp, body = e.get(t, http.MethodHead, "/p/"+p.Slug)
		if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("HEAD: status %d, body %q, headers %v", resp.StatusCode, body, resp.Header)
		}

		// A page without a form has no form and no honeypot; defaults apply.
		plain := e.create(t, pages.CreateRequest{Slug: sp("plain"), Title: "Plain", Published: true,
			Blocks: []pages.Block{{Type: pages.BlockHeading, Text: sp("Hi")}}})
		_, body = e.get(t, http.MethodGet, "/p/"+plain.Slug)
		if strings.Contains(body, "<form") || strings.Contains(body, "website") || strings.Contains(body, "<meta name=\"description\"") {
			t.Errorf("plain page:\n%s", body)
		}
		def := pages.DefaultTheme()
		if !strings.Contains(body, "--bg:"+def.Background+";--fg:"+def.Text+";--accent:"+def.Accent+";--on-accent:#ffffff") {
			t.Errorf("default theme missing:\n%s", body)
		}
	})
}

func TestHostedPageNotFound(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newViewEnv(t, st)
		draft := e.create(t, pages.CreateRequest{Slug: sp("draft"), Title: "Secret draft title",
			Blocks: []pages.Block{{Type: pages.BlockHeading, Text: sp("Draft heading")}}})

		_, want := e.get(t, http.MethodGet, "/nothing") // an unknown short key

		for _, path := range []string{"/p/" + draft.Slug, "/p/nope", "/p/Bad_Slug", "/p/" + strings.Repeat("a", 300), "/p/%00x"} {
			resp, body := e.get(t, http.MethodGet, path)
			if resp.StatusCode != http.StatusNotFound || body != want {
				t.Errorf("%s: status %d, body %q; want 404 and the short-link 404 page", path, resp.StatusCode, body)
			}
			if strings.Contains(body, "Secret draft") || strings.Contains(body, "Draft heading") {
				t.Errorf("%s leaks the draft", path)
			}
			resp, body = e.get(t, http.MethodHead, path)
			if resp.StatusCode != http.StatusNotFound || body != "" {
				t.Errorf("HEAD %s: status %d, body %q", path, resp.StatusCode, body)
			}
		}
		// Publishing it makes it visible at once; unpublishing hides it again.
		if _, err := e.svc.Update(context.Background(), e.projectID, draft.ID, pages.UpdateRequest{Published: pages.Optional[bool]{Set: true, Value: true}}); err != nil {
			t.Fatal(err)
		}
		if resp, body := e.get(t, http.MethodGet, "/p/draft"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Draft heading") {
			t.Errorf("published: status %d", resp.StatusCode)
		}
		if _, err := e.svc.Update(context.Background(), e.projectID, draft.ID, pages.UpdateRequest{Published: pages.Optional[bool]{Set: true, Value: false}}); err != nil {
			t.Fatal(err)
		}
		if resp, _ := e.get(t, http.MethodGet, "/p/draft"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unpublished again: status %d", resp.StatusCode)
		}
		// Nothing was recorded for any of the 404s; the one view was.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Interactions.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM interactions"); n != 1 {
			t.Errorf("%d interactions stored, want the 1 published view", n)
		}
	})
}

func TestHostedPageViewsCounted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newViewEnv(t, st)
		p := e.create(t, pages.CreateRequest{Slug: sp("counted"), Title: "Counted", Published: true,
			Blocks: []pages.Block{{Type: pages.BlockText, Text: sp("hello")}}})
		other := e.create(t, pages.CreateRequest{Slug: sp("other"), Title: "Other", Published: true})

		view := func(slug, ip, ua, method string) {
			t.Helper()
			resp, _ := e.get(t, method, "/p/"+slug, "X-Forwarded-For", ip, "User-Agent", ua, "Referer", "https://www.news.example/story")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s /p/%s: %d", method, slug, resp.StatusCode)
			}
		}
		view("counted", "8.8.8.8", iPhoneUA, http.MethodGet)                                           // counted
		view("counted", "8.8.8.8", iPhoneUA, http.MethodGet)                                           // repeat in the window: not counted
		view("counted", "1.1.1.1", iPhoneUA, http.MethodGet)                                           // another visitor: counted
		view("counted", "9.9.9.9", iPhoneUA, http.MethodHead)                                          // HEAD: bot
		view("counted", "9.9.9.10", "Googlebot/2.1 (+http://www.google.com/bot.html)", http.MethodGet) // crawler
		view("other", "8.8.8.8", iPhoneUA, http.MethodGet)                                             // same visitor, other page: counted there

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Interactions.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if e.Interactions.Pending() != 0 {
			t.Fatal("pipeline not drained")
		}
		got, err := e.svc.Get(ctx, e.projectID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Views != 2 {
			t.Errorf("views %d, want 2 (repeat, HEAD and crawler not counted)", got.Views)
		}
		if got, _ := e.svc.Get(ctx, e.projectID, other.ID); got.Views != 1 {
			t.Errorf("other page views %d, want 1", got.Views)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM interactions WHERE kind = 'view' AND page_id = $1", p.ID); n != 5 {
			t.Errorf("%d view rows for the page, want all 5 stored", n)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM interactions WHERE page_id = $1 AND bot = $2", p.ID, true); n != 2 {
			t.Errorf("%d bot rows, want 2 (HEAD and Googlebot)", n)
		}
		var url, country, device, os, referer string
		var qr bool
		err = st.Read().QueryRowContext(ctx, "SELECT url, country, device, os, referer, qr FROM interactions WHERE page_id = $1 AND ip = '8.8.8.8' AND counted = $2", p.ID, true).
			Scan(&url, &country, &device, &os, &referer, &qr)
		if err != nil {
			t.Fatal(err)
		}
		if url != "https://go.example.com/p/counted" || country != "US" || device != "Mobile" || os != "iOS" || referer != "news.example" || qr {
			t.Errorf("stored view: url %q country %q device %q os %q referer %q qr %v", url, country, device, os, referer, qr)
		}
		// The API shows the count to the owner only.
		resp, body := e.get(t, http.MethodGet, "/api/pages/"+p.ID, "Authorization", "Bearer "+e.key)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"views":2`) {
			t.Errorf("owner GET: %d %s", resp.StatusCode, body)
		}
		if resp, _ := e.get(t, http.MethodGet, "/api/pages/"+p.ID, "Authorization", "Bearer "+e.otherKey); resp.StatusCode != http.StatusNotFound {
			t.Errorf("other project's key: status %d, want 404", resp.StatusCode)
		}
	})
}

// Another node's page cache learns of a change through cache_invalidations
// (a trigger on pages), polled by its cache.Bus.
func TestHostedPageCacheAcrossNodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newViewEnv(t, st) // node 1: the service that writes
		p := e.create(t, pages.CreateRequest{Slug: sp("shared"), Title: "T", Published: true,
			Blocks: []pages.Block{{Type: pages.BlockHeading, Text: sp("First heading")}}})
		// Node 2: a second application on the same database, with no direct
		// hook from node 1's services.
		cfg := config.Config{BaseURL: "https://go.example.com"}.WithDefaults()
		_, srv2 := testserver.Run(t, st, cfg, app.Options{CachePollInterval: 20 * time.Millisecond})
		get2 := func() string {
			resp, err := http.Get(srv2.URL + "/p/shared")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		if body := get2(); !strings.Contains(body, "First heading") {
			t.Fatalf("node 2 first view: %q", body)
		}
		if _, err := e.svc.Update(context.Background(), e.projectID, p.ID, pages.UpdateRequest{
			Blocks: pages.Optional[[]pages.Block]{Set: true, Value: []pages.Block{{Type: pages.BlockHeading, Text: sp("Second heading")}}}}); err != nil {
			t.Fatal(err)
		}
		testkit.Wait(t, 5*time.Second, "node 2 to serve the new page", func() bool { return strings.Contains(get2(), "Second heading") })
	})
}

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

const iPhoneSafariUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

// visit is one public request (a click, scan or page view) as a browser
// behind a trusted proxy would make it; redirects are not followed.
func visit(t *testing.T, url, xff, ua string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", xff)
	req.Header.Set("User-Agent", ua)
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// checkVisitor checks the interaction of a request made by visit from 8.8.x.x
// with the iPhone Safari User-Agent.
func checkVisitor(t *testing.T, what string, in obj, ip string, qr bool, url string) {
	t.Helper()
	want := map[string]string{"ip": ip, "country": "US", "continent": "NA", "device": "Mobile", "os": "iOS", "url": url,
		"ua": iPhoneSafariUA, "referer": "(direct)", "refererUrl": "(direct)"}
	for f, v := range want {
		if got := in.str(f); got != v {
			t.Errorf("%s: interaction.%s %q, want %q", what, f, got, v)
		}
	}
	if b := in.str("browser"); !strings.Contains(b, "Safari") {
		t.Errorf("%s: interaction.browser %q, want Safari-family", what, b)
	}
	if got, ok := in.get("qr").v.(bool); !ok || got != qr {
		t.Errorf("%s: interaction.qr %v, want %v", what, in.get("qr").v, qr)
	}
	if got, ok := in.get("bot").v.(bool); !ok || got {
		t.Errorf("%s: interaction.bot %v, want false", what, in.get("bot").v)
	}
	if id := in.str("clickId"); len(id) != 16 {
		t.Errorf("%s: clickId %q", what, id)
	}
	for _, f := range []string{"timestamp", "region", "city", "latitude", "longitude", "deviceVendor", "deviceModel",
		"browserVersion", "engine", "engineVersion", "osVersion", "cpuArchitecture"} {
		if !in.has(f) {
			t.Errorf("%s: interaction lacks %q: %s", what, f, in)
		}
	}
}

// A click, a click marked as a QR scan, a dynamic QR scan and a hosted page
// view through the real binary behind a trusted proxy: each becomes one
// signed delivery, enriched from X-Forwarded-For and the User-Agent, to the
// webhook that selected the resource, and to no other.
func TestInteractionsDelivered(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		rcvA, rcvB := newReceiver(t), newReceiver(t)
		srv := startServer(t, databaseURL, dataDir, "--trusted-proxies", "127.0.0.1/32")
		c := srv.client(srv.createKey("e2e"))

		link := c.must(http.MethodPost, "/api/links", map[string]any{"url": "https://example.com/dest"}, http.StatusOK)
		other := c.must(http.MethodPost, "/api/links", map[string]any{"url": "https://example.com/other"}, http.StatusOK)
		qr := c.must(http.MethodPost, "/api/qrcodes", map[string]any{"type": "url", "url": "https://example.com/qr"}, http.StatusCreated)
		if st, _ := qr.get("static").v.(bool); st {
			t.Fatalf("QR code is static: %s", qr)
		}
		page := c.must(http.MethodPost, "/api/pages", map[string]any{
			"title": "E2E page", "published": true,
			"blocks": []any{map[string]any{"type": "heading", "text": "Welcome to the e2e page"}},
			"theme":  map[string]any{"background": "#123456"},
		}, http.StatusCreated)

		whA := c.must(http.MethodPost, "/api/webhooks", map[string]any{
			"name": "A", "url": rcvA.URL(), "triggers": []string{"link.clicked", "qrcode.scanned", "page.visited"},
			"linkIds": []string{link.str("id")}, "qrcodeIds": []string{qr.str("id")}, "pageIds": []string{page.str("id")},
		}, http.StatusCreated)
		whB := c.must(http.MethodPost, "/api/webhooks", map[string]any{
			"name": "B", "url": rcvB.URL(), "triggers": []string{"link.clicked"}, "linkIds": []string{other.str("id")},
		}, http.StatusCreated)
		secretA := whA.str("secret")

		// The link, then the link as a QR scan (another visitor, so not a repeat).
		resp, _ := visit(t, link.str("shortLink"), "8.8.8.8", iPhoneSafariUA)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/dest" {
			t.Fatalf("click: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ = visit(t, link.str("shortLink")+"?qr=1", "8.8.4.4", iPhoneSafariUA)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("click ?qr=1: %d", resp.StatusCode)
		}
		resp, _ = visit(t, qr.str("shortLink"), "8.8.8.8", iPhoneSafariUA)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/qr" {
			t.Fatalf("scan: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := visit(t, page.str("url"), "8.8.8.8", iPhoneSafariUA)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Welcome to the e2e page") || !strings.Contains(body, "#123456") {
			t.Fatalf("page view: %d\n%s", resp.StatusCode, body)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("page CSP %q", resp.Header.Get("Content-Security-Policy"))
		}

		within(t, 20*time.Second, func() bool { return rcvA.count() >= 4 }, func() string {
			return fmt.Sprintf("webhook A got %d of 4 deliveries", rcvA.count())
		})

		var clicks []obj
		var scan, view obj
		for _, d := range rcvA.all() {
			env, data := checkDelivery(t, d, secretA)
			switch env.Event {
			case "link.clicked":
				clicks = append(clicks, data)
			case "qrcode.scanned":
				scan = data
			case "page.visited":
				view = data
			default:
				t.Errorf("webhook A got %s", env.Event)
			}
		}
		if len(clicks) != 2 {
			t.Fatalf("%d link.clicked deliveries, want 2", len(clicks))
		}
		for _, cl := range clicks {
			if cl.str("link", "id") != link.str("id") {
				t.Errorf("link.clicked data.link.id %q, want %q", cl.str("link", "id"), link.str("id"))
			}
			requireFields(t, "link.clicked data.link", cl.get("link"), linkFields...)
		}
		for _, cl := range clicks {
			in := cl.get("interaction")
			if in.str("ip") == "8.8.8.8" {
				checkVisitor(t, "link.clicked", in, "8.8.8.8", false, "https://example.com/dest")
			} else {
				checkVisitor(t, "link.clicked ?qr=1", in, "8.8.4.4", true, "https://example.com/dest")
			}
		}
		if scan.v == nil || view.v == nil {
			t.Fatalf("missing scan (%v) or view (%v)", scan, view)
		}
		if scan.str("qrcode", "id") != qr.str("id") {
			t.Errorf("qrcode.scanned data.qrcode.id %q, want %q", scan.str("qrcode", "id"), qr.str("id"))
		}
		requireFields(t, "qrcode.scanned data.qrcode", scan.get("qrcode"), qrFields...)
		checkVisitor(t, "qrcode.scanned", scan.get("interaction"), "8.8.8.8", true, "https://example.com/qr")

		if view.str("page", "id") != page.str("id") {
			t.Errorf("page.visited data.page.id %q, want %q", view.str("page", "id"), page.str("id"))
		}
		requireFields(t, "page.visited data.page", view.get("page"), pageFields...)
		if v, _ := view.get("page", "views").v.(float64); v != 1 {
			t.Errorf("page.visited data.page.views %v, want 1", view.get("page", "views").v)
		}
		checkVisitor(t, "page.visited", view.get("interaction"), "8.8.8.8", false, page.str("url"))

		// Webhook B selected another link: no event was ever addressed to it.
		st := openStore(t, databaseURL, dataDir)
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", whB.str("id")); n != 0 {
			t.Errorf("webhook B has %d deliveries, want 0", n)
		}
		if n := rcvB.count(); n != 0 {
			t.Errorf("webhook B received %d requests", n)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", whA.str("id")); n != 4 {
			t.Errorf("webhook A has %d deliveries, want exactly 4", n)
		}
		if got := c.must(http.MethodGet, "/api/pages/"+page.str("id"), nil, http.StatusOK).get("views").v; got != float64(1) {
			t.Errorf("page views %v, want 1", got)
		}
	})
}

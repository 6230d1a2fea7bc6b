package public_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestRedirectRecordsClick(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		id := e.insertLink(t, linkOpts{key: "hello", url: "https://example.com/a?x=1"})
		resp, _ := e.do(t, "/hello", reqOpts{xff: "8.8.8.8"})
		wantLocation(t, resp, "https://example.com/a?x=1")
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		// The base domain answers with or without a port.
		resp, _ = e.do(t, "/hello?qr=1", reqOpts{xff: "8.8.4.4", host: domain + ":8080"})
		wantLocation(t, resp, "https://example.com/a?x=1")
		e.drain(t)
		if n := e.count(t, "SELECT clicks FROM links WHERE id = $1", id); n != 2 {
			t.Fatalf("clicks = %d, want 2", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM links WHERE id = $1 AND last_clicked IS NOT NULL", id); n != 1 {
			t.Fatal("last_clicked not set")
		}
		if n := e.count(t, "SELECT COUNT(*) FROM interactions WHERE link_id = $1 AND kind = 'click' AND counted AND NOT bot", id); n != 2 {
			t.Fatalf("interactions = %d", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM interactions WHERE link_id = $1 AND qr AND ip = '8.8.4.4'", id); n != 1 {
			t.Fatal("?qr=1 not recorded as qr")
		}
		if n := e.count(t, "SELECT COUNT(*) FROM interactions WHERE link_id = $1 AND NOT qr AND ip = '8.8.8.8' AND country = 'US' AND url = 'https://example.com/a?x=1' AND referer = '(direct)'", id); n != 1 {
			t.Fatal("plain click row wrong")
		}
	})
}

func TestHeadIsBotNotCounted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		id := e.insertLink(t, linkOpts{key: "head"})
		botHook := e.webhook(t, e.p1, []events.Type{events.LinkClicked}, []string{id}, nil, true)
		plainHook := e.webhook(t, e.p1, []events.Type{events.LinkClicked}, []string{id}, nil, false)
		resp, body := e.do(t, "/head", reqOpts{method: http.MethodHead})
		wantLocation(t, resp, "https://example.com/landing")
		if body != "" {
			t.Fatalf("HEAD body %q", body)
		}
		resp, _ = e.do(t, "/head", reqOpts{ua: "Googlebot/2.1 (+http://www.google.com/bot.html)", xff: "1.2.3.4"})
		wantStatus(t, resp, http.StatusFound)
		e.drain(t)
		if n := e.count(t, "SELECT clicks FROM links WHERE id = $1", id); n != 0 {
			t.Fatalf("clicks = %d, want 0", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM interactions WHERE link_id = $1 AND bot AND NOT counted", id); n != 2 {
			t.Fatalf("bot rows = %d, want 2", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", botHook); n != 2 {
			t.Fatalf("includeBots webhook got %d deliveries, want 2", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", plainHook); n != 0 {
			t.Fatalf("plain webhook got %d bot deliveries", n)
		}
	})
}

func TestPasswordForm(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		id := e.insertLink(t, linkOpts{key: "secret", password: "hunter2", url: "https://example.com/private"})
		resp, body := e.do(t, "/secret", reqOpts{})
		wantStatus(t, resp, http.StatusOK)
		if !strings.Contains(body, `<form method="post">`) || !strings.Contains(body, `name="password"`) ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("no password form: %s", body)
		}
		resp, body = e.do(t, "/secret", reqOpts{method: http.MethodPost, body: "password=wrong"})
		wantStatus(t, resp, http.StatusUnauthorized)
		if !strings.Contains(body, "Wrong password") {
			t.Fatal("no wrong-password message")
		}
		e.drain(t)
		if n := e.count(t, "SELECT COUNT(*) FROM interactions WHERE link_id = $1", id); n != 0 {
			t.Fatalf("%d interactions before the right password", n)
		}
		resp, _ = e.do(t, "/secret", reqOpts{method: http.MethodPost, body: "password=hunter2"})
		wantLocation(t, resp, "https://example.com/private")
		e.drain(t)
		if n := e.count(t, "SELECT clicks FROM links WHERE id = $1", id); n != 1 {
			t.Fatalf("clicks = %d, want 1", n)
		}
	})
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		past := time.Now().Add(-time.Minute)
		future := time.Now().Add(time.Hour)
		e.insertLink(t, linkOpts{key: "gone", expiresAt: &past})
		e.insertLink(t, linkOpts{key: "moved", expiresAt: &past, expiredURL: "https://example.com/expired"})
		e.insertLink(t, linkOpts{key: "fresh", expiresAt: &future})
		resp, body := e.do(t, "/gone", reqOpts{})
		wantStatus(t, resp, http.StatusGone)
		if !strings.Contains(body, "expired") {
			t.Fatalf("410 page: %s", body)
		}
		resp, _ = e.do(t, "/moved", reqOpts{})
		wantLocation(t, resp, "https://example.com/expired")
		resp, _ = e.do(t, "/fresh", reqOpts{})
		wantLocation(t, resp, "https://example.com/landing")
	})
}

func TestTargetingAndConversion(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		e.insertLink(t, linkOpts{key: "app", ios: "https://apps.apple.com/x", android: "https://play.google.com/x",
			geo: map[string]string{"GB": "https://example.co.uk/"}})
		e.insertLink(t, linkOpts{key: "track", url: "https://shop.example.com/p?ref=a#top", track: true})
		e.insertLink(t, linkOpts{key: "track2", url: "https://shop.example.com/p", track: true})
		iphone := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
		android := "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
		resp, _ := e.do(t, "/app", reqOpts{ua: iphone, xff: "81.2.69.142"})
		wantLocation(t, resp, "https://apps.apple.com/x")
		resp, _ = e.do(t, "/app", reqOpts{ua: android})
		wantLocation(t, resp, "https://play.google.com/x")
		resp, _ = e.do(t, "/app", reqOpts{xff: "81.2.69.142"})
		wantLocation(t, resp, "https://example.co.uk/")
		resp, _ = e.do(t, "/app", reqOpts{xff: "8.8.8.8"})
		wantLocation(t, resp, "https://example.com/landing")

		resp, _ = e.do(t, "/track", reqOpts{})
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, "https://shop.example.com/p?ref=a&cq_id=") || !strings.HasSuffix(loc, "#top") {
			t.Fatalf("Location %q", loc)
		}
		clickID := strings.TrimSuffix(strings.TrimPrefix(loc, "https://shop.example.com/p?ref=a&cq_id="), "#top")
		if len(clickID) != 16 {
			t.Fatalf("cq_id %q", clickID)
		}
		resp, _ = e.do(t, "/track2", reqOpts{})
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "https://shop.example.com/p?cq_id=") {
			t.Fatalf("Location %q", loc)
		}
		e.drain(t)
		if n := e.count(t, "SELECT COUNT(*) FROM interactions WHERE click_id = $1 AND url = $2", clickID, loc); n != 0 {
			_ = n // url of the first click is checked below
		}
		if n := e.count(t, "SELECT COUNT(*) FROM interactions WHERE click_id = $1", clickID); n != 1 {
			t.Fatal("cq_id is not the stored clickId")
		}
	})
}

func TestNotFoundLeaksNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		e.insertLink(t, linkOpts{key: "old", archived: true})
		e.insertLink(t, linkOpts{key: "theirs", project: e.p2, domain: "other.test", url: "https://secret.example.com/"})
		var bodies []string
		for _, c := range []struct{ path, host string }{{"/old", ""}, {"/nope", ""}, {"/theirs", ""}, {"/theirs", "unknown.test"}} {
			resp, body := e.do(t, c.path, reqOpts{host: c.host})
			wantStatus(t, resp, http.StatusNotFound)
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("404 Content-Type %q", resp.Header.Get("Content-Type"))
			}
			bodies = append(bodies, body)
		}
		for _, b := range bodies {
			if b != bodies[0] || strings.Contains(b, "secret") || strings.Contains(b, "theirs") {
				t.Fatalf("404 pages differ or leak: %q vs %q", b, bodies[0])
			}
		}
		// The other project's key works on its own domain.
		resp, _ := e.do(t, "/theirs", reqOpts{host: "other.test"})
		wantLocation(t, resp, "https://secret.example.com/")
	})
}

func TestConcurrentClicksExactAndScopedDelivery(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{dedupe: time.Hour})
		id := e.insertLink(t, linkOpts{key: "busy"})
		other := e.insertLink(t, linkOpts{key: "quiet"})
		selected := e.webhook(t, e.p1, []events.Type{events.LinkClicked}, []string{id}, nil, false)
		unselected := e.webhook(t, e.p1, []events.Type{events.LinkClicked}, []string{other}, nil, false)
		const n = 200
		var wg sync.WaitGroup
		errc := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _ := e.do(t, "/busy", reqOpts{xff: ip(i)})
				if resp.StatusCode != http.StatusFound {
					errc <- resp.Status
				}
			}()
		}
		wg.Wait()
		close(errc)
		for s := range errc {
			t.Fatalf("request failed: %s", s)
		}
		e.drain(t)
		if c := e.count(t, "SELECT clicks FROM links WHERE id = $1", id); c != n {
			t.Fatalf("clicks = %d, want %d", c, n)
		}
		if c := e.count(t, "SELECT COUNT(*) FROM events WHERE type = 'link.clicked' AND resource_id = $1", id); c != n {
			t.Fatalf("events = %d, want %d", c, n)
		}
		if c := e.count(t, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", selected); c != n {
			t.Fatalf("deliveries to the selecting webhook = %d, want %d", c, n)
		}
		if c := e.count(t, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", unselected); c != 0 {
			t.Fatalf("deliveries to the other webhook = %d, want 0", c)
		}
		// Every event carries the counter as of itself: 1..n, each once.
		rows, err := st.Read().QueryContext(context.Background(), "SELECT payload FROM events WHERE type = 'link.clicked' AND resource_id = $1", id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		seen := map[int64]bool{}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				t.Fatal(err)
			}
			var env struct {
				Data struct {
					Interaction map[string]any `json:"interaction"`
					Link        struct {
						ID     string `json:"id"`
						Clicks int64  `json:"clicks"`
					} `json:"link"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(p), &env); err != nil {
				t.Fatal(err)
			}
			if env.Data.Link.ID != id || env.Data.Interaction["clickId"] == nil || env.Data.Interaction["qr"] != false {
				t.Fatalf("payload %s", p)
			}
			seen[env.Data.Link.Clicks] = true
		}
		if len(seen) != n || !seen[1] || !seen[n] {
			t.Fatalf("event counters not 1..%d: %d distinct", n, len(seen))
		}
	})
}

func TestDedupeWindow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{dedupe: time.Hour})
		id := e.insertLink(t, linkOpts{key: "dup"})
		hook := e.webhook(t, e.p1, []events.Type{events.LinkClicked}, []string{id}, nil, true)
		for range 3 {
			resp, _ := e.do(t, "/dup", reqOpts{xff: "9.9.9.9"})
			wantStatus(t, resp, http.StatusFound)
		}
		resp, _ := e.do(t, "/dup", reqOpts{xff: "9.9.9.9", ua: "Other/1.0 browser"})
		wantStatus(t, resp, http.StatusFound)
		e.drain(t)
		if c := e.count(t, "SELECT clicks FROM links WHERE id = $1", id); c != 2 {
			t.Fatalf("clicks = %d, want 2 (one per visitor)", c)
		}
		if c := e.count(t, "SELECT COUNT(*) FROM interactions WHERE link_id = $1", id); c != 4 {
			t.Fatalf("stored %d, want all 4", c)
		}
		if c := e.count(t, "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", hook); c != 2 {
			t.Fatalf("deliveries %d, want 2", c)
		}
	})
}

func TestQRCodeScanAndInvalidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		status, body := e.api(t, "POST", "/api/qrcodes", e.key1, `{"type":"url","url":"https://example.com/one","key":"menu"}`)
		if status != http.StatusCreated {
			t.Fatalf("create: %d %s", status, body)
		}
		var q struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal([]byte(body), &q)
		hook := e.webhook(t, e.p1, []events.Type{events.QRCodeScanned}, nil, []string{q.ID}, false)
		resp, _ := e.do(t, "/menu", reqOpts{})
		wantLocation(t, resp, "https://example.com/one")

		// The change is used by the very next request.
		if status, body := e.api(t, "PATCH", "/api/qrcodes/"+q.ID, e.key1, `{"url":"https://example.com/two"}`); status != http.StatusOK {
			t.Fatalf("patch: %d %s", status, body)
		}
		resp, _ = e.do(t, "/menu", reqOpts{xff: "8.8.8.8"})
		wantLocation(t, resp, "https://example.com/two")
		e.drain(t)
		if c := e.count(t, "SELECT scans FROM qrcodes WHERE id = $1", q.ID); c != 2 {
			t.Fatalf("scans = %d, want 2", c)
		}
		if c := e.count(t, "SELECT COUNT(*) FROM interactions WHERE qrcode_id = $1 AND kind = 'scan' AND qr", q.ID); c != 2 {
			t.Fatalf("scan rows = %d", c)
		}
		var payload string
		if err := st.Read().QueryRowContext(context.Background(),
			"SELECT e.payload FROM events e JOIN deliveries d ON d.event_id = e.id WHERE d.webhook_id = $1 ORDER BY e.created_at DESC, e.id LIMIT 1", hook).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var env struct {
			Event string `json:"event"`
			Data  struct {
				Interaction struct {
					QR  bool   `json:"qr"`
					URL string `json:"url"`
				} `json:"interaction"`
				QRCode struct {
					ID    string `json:"id"`
					Scans int    `json:"scans"`
				} `json:"qrcode"`
			} `json:"data"`
		}
		_ = json.Unmarshal([]byte(payload), &env)
		if env.Event != "qrcode.scanned" || env.Data.QRCode.ID != q.ID || !env.Data.Interaction.QR || env.Data.QRCode.Scans < 1 {
			t.Fatalf("payload %s", payload)
		}

		if status, body := e.api(t, "DELETE", "/api/qrcodes/"+q.ID, e.key1, ""); status != http.StatusOK {
			t.Fatalf("delete: %d %s", status, body)
		}
		resp, _ = e.do(t, "/menu", reqOpts{})
		wantStatus(t, resp, http.StatusNotFound)

		// A negative entry is dropped when the key is claimed.
		resp, _ = e.do(t, "/menu2", reqOpts{})
		wantStatus(t, resp, http.StatusNotFound)
		if status, body := e.api(t, "POST", "/api/qrcodes", e.key1, `{"type":"url","url":"https://example.com/three","key":"menu2"}`); status != http.StatusCreated {
			t.Fatalf("create: %d %s", status, body)
		}
		resp, _ = e.do(t, "/menu2", reqOpts{})
		wantLocation(t, resp, "https://example.com/three")
	})
}

func TestQRCodeDisplayPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		cases := []struct{ key, body, want string }{
			{"wifi1", `{"type":"wifi","key":"wifi1","content":{"ssid":"Cafe","password":"p@ssword1","encryption":"WPA"}}`, "Cafe"},
			{"text1", `{"type":"text","key":"text1","content":{"text":"Hello <world>"}}`, "Hello &lt;world&gt;"},
			{"tel1", `{"type":"phone","key":"tel1","content":{"number":"+15551234567"}}`, `href="tel:&#43;15551234567"`},
			{"vc1", `{"type":"vcard","key":"vc1","content":{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com"}}`, "?download=vcf"},
		}
		for _, c := range cases {
			if status, body := e.api(t, "POST", "/api/qrcodes", e.key1, c.body); status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", c.key, status, body)
			}
			resp, body := e.do(t, "/"+c.key, reqOpts{})
			wantStatus(t, resp, http.StatusOK)
			if !strings.Contains(body, c.want) || !strings.Contains(body, "viewport") {
				t.Fatalf("%s page lacks %q: %s", c.key, c.want, body)
			}
		}
		resp, body := e.do(t, "/vc1?download=vcf", reqOpts{})
		wantStatus(t, resp, http.StatusOK)
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/vcard") || !strings.Contains(body, "BEGIN:VCARD") || !strings.Contains(body, "Lovelace") {
			t.Fatalf("vcf: %s %s", resp.Header.Get("Content-Type"), body)
		}
		e.drain(t)
		if c := e.count(t, "SELECT SUM(scans) FROM qrcodes"); c != 4 {
			t.Fatalf("scans = %d, want 4 (the download is not a scan)", c)
		}
	})
}

func TestLinkCacheInvalidationThroughAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{})
		resp, _ := e.do(t, "/promo", reqOpts{})
		wantStatus(t, resp, http.StatusNotFound) // cached as unknown…
		status, body := e.api(t, "POST", "/api/links", e.key1, `{"url":"https://example.com/v1","key":"promo","domain":"`+domain+`"}`)
		if status != http.StatusCreated {
			t.Fatalf("create: %d %s", status, body)
		}
		var l struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal([]byte(body), &l)
		resp, _ = e.do(t, "/promo", reqOpts{}) // …and found right after the create
		wantLocation(t, resp, "https://example.com/v1")
		if status, body := e.api(t, "PATCH", "/api/links/"+l.ID, e.key1, `{"url":"https://example.com/v2"}`); status != http.StatusOK {
			t.Fatalf("patch: %d %s", status, body)
		}
		resp, _ = e.do(t, "/promo", reqOpts{})
		wantLocation(t, resp, "https://example.com/v2")
		if status, body := e.api(t, "PATCH", "/api/links/"+l.ID, e.key1, `{"key":"promo2"}`); status != http.StatusOK {
			t.Fatalf("patch key: %d %s", status, body)
		}
		resp, _ = e.do(t, "/promo", reqOpts{})
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = e.do(t, "/promo2", reqOpts{})
		wantLocation(t, resp, "https://example.com/v2")
		if status, body := e.api(t, "DELETE", "/api/links/"+l.ID, e.key1, ""); status != http.StatusOK {
			t.Fatalf("delete: %d %s", status, body)
		}
		resp, _ = e.do(t, "/promo2", reqOpts{})
		wantStatus(t, resp, http.StatusNotFound)
	})
}

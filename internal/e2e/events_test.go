package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

var (
	eventIDRE   = regexp.MustCompile(`^evt_[0-9A-Za-z]{25}$`)
	createdAtRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

// projectEvents are the nine project-level resource events.
var projectEvents = []string{
	"link.created", "link.updated", "link.deleted",
	"qrcode.created", "qrcode.updated", "qrcode.deleted",
	"page.created", "page.updated", "page.deleted",
}

// openStore opens the server's database from the test, to look at what it wrote.
func openStore(t *testing.T, databaseURL, dataDir string) *store.Store {
	t.Helper()
	path := ""
	if databaseURL == "" {
		path = filepath.Join(dataDir, "codeqr.db")
	}
	st, err := store.Open(context.Background(), databaseURL, path, store.Options{MaxConns: 2})
	if err != nil {
		t.Fatalf("open the server's database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// subscribe creates a webhook and returns its id and secret.
func subscribe(t *testing.T, c *client, url string, triggers ...string) (id, secret string) {
	t.Helper()
	wh := c.must(http.MethodPost, "/api/webhooks", map[string]any{
		"name": "e2e", "url": url, "triggers": triggers,
		"linkIds": []string{}, "qrcodeIds": []string{}, "pageIds": []string{}, "includeBots": false,
	}, http.StatusCreated)
	id, secret = wh.str("id"), wh.str("secret")
	if !strings.HasPrefix(id, "wh_") || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("webhook create answered %s", wh)
	}
	return id, secret
}

// envelope is a decoded delivery body.
type envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt string          `json:"createdAt"`
	Data      json.RawMessage `json:"data"`
}

// checkDelivery verifies one delivery's headers, both signatures and envelope
// shape, and returns the envelope and its data.
func checkDelivery(t *testing.T, d delivery, secret string) (envelope, obj) {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(d.Body, &env); err != nil {
		t.Fatalf("body is not an envelope: %v: %s", err, d.Body)
	}
	if !eventIDRE.MatchString(env.ID) {
		t.Errorf("%s: id %q does not match %s", env.Event, env.ID, eventIDRE)
	}
	if !createdAtRE.MatchString(env.CreatedAt) {
		t.Errorf("%s: createdAt %q is not RFC 3339 UTC with milliseconds", env.Event, env.CreatedAt)
	}
	if at, err := time.Parse(time.RFC3339Nano, env.CreatedAt); err != nil || time.Since(at) > 5*time.Minute || time.Until(at) > time.Minute {
		t.Errorf("%s: createdAt %q is not a recent time (%v)", env.Event, env.CreatedAt, err)
	}
	if ct := d.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", env.Event, ct)
	}
	if got := d.Header.Get("webhook-id"); got != env.ID {
		t.Errorf("%s: webhook-id %q, want the event id %q", env.Event, got, env.ID)
	}
	// Standard Webhooks, with the public library.
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standardwebhooks.NewWebhook(%q): %v", secret, err)
	}
	if err := wh.Verify(d.Body, d.Header); err != nil {
		t.Errorf("%s: webhook-signature %q does not verify: %v", env.Event, d.Header.Get("webhook-signature"), err)
	}
	// CodeQR-Signature: hex HMAC-SHA256 of the body keyed with the whole secret.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(d.Body)
	if got, want := d.Header.Get("CodeQR-Signature"), hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("%s: CodeQR-Signature %q, want %q", env.Event, got, want)
	}
	var data any
	if err := json.Unmarshal(env.Data, &data); err != nil {
		t.Fatalf("%s: data: %v", env.Event, err)
	}
	return env, obj{data}
}

// The whole path through the real binary: CLI key, webhook subscription, the
// nine project resource events from link, QR code and page changes, each
// delivered once to a real receiver, correctly shaped and signed both ways.
func TestResourceEventsDelivered(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		rcv := newReceiver(t)
		srv := startServer(t, databaseURL, dataDir)
		c := srv.client(srv.createKey("e2e"))
		_, secret := subscribe(t, c, rcv.URL(), projectEvents...)

		link := c.must(http.MethodPost, "/api/links", map[string]any{"url": "https://example.com/first"}, http.StatusOK)
		linkID := link.str("id")
		c.must(http.MethodPatch, "/api/links/"+linkID, map[string]any{"url": "https://example.com/second"}, http.StatusOK)
		c.must(http.MethodDelete, "/api/links/"+linkID, nil, http.StatusOK)

		qr := c.must(http.MethodPost, "/api/qrcodes", map[string]any{"type": "url", "url": "https://example.com/qr"}, http.StatusCreated)
		qrID := qr.str("id")
		c.must(http.MethodPatch, "/api/qrcodes/"+qrID, map[string]any{"url": "https://example.com/qr2"}, http.StatusOK)
		c.must(http.MethodDelete, "/api/qrcodes/"+qrID, nil, http.StatusOK)

		page := c.must(http.MethodPost, "/api/pages", map[string]any{
			"title": "Hello", "blocks": []any{map[string]any{"type": "heading", "text": "Hi"}}, "published": true,
		}, http.StatusCreated)
		pageID := page.str("id")
		c.must(http.MethodPatch, "/api/pages/"+pageID, map[string]any{"title": "Hello again"}, http.StatusOK)
		c.must(http.MethodDelete, "/api/pages/"+pageID, nil, http.StatusOK)

		within(t, 20*time.Second, func() bool { return rcv.count() >= len(projectEvents) }, func() string {
			return fmt.Sprintf("receiver got %d of 9 deliveries", rcv.count())
		})

		byType := map[string]obj{}
		seen := map[string]bool{}
		for _, d := range rcv.all() {
			env, data := checkDelivery(t, d, secret)
			if _, dup := byType[env.Event]; dup {
				t.Errorf("%s delivered twice", env.Event)
			}
			if seen[env.ID] {
				t.Errorf("event id %s used twice", env.ID)
			}
			seen[env.ID] = true
			byType[env.Event] = data
		}
		for _, typ := range projectEvents {
			if _, ok := byType[typ]; !ok {
				t.Errorf("no %s delivery", typ)
			}
		}

		for _, typ := range []string{"link.created", "link.updated", "link.deleted"} {
			checkLink(t, typ, byType[typ], link)
		}
		if got := byType["link.created"].str("url"); got != "https://example.com/first" {
			t.Errorf("link.created url %q", got)
		}
		for _, typ := range []string{"link.updated", "link.deleted"} {
			if got := byType[typ].str("url"); got != "https://example.com/second" {
				t.Errorf("%s url %q, want the updated destination", typ, got)
			}
		}

		for _, typ := range []string{"qrcode.created", "qrcode.updated", "qrcode.deleted"} {
			checkQRCode(t, typ, byType[typ], qr)
		}
		if got := byType["qrcode.created"].str("qrcode", "url"); got != "https://example.com/qr" {
			t.Errorf("qrcode.created url %q", got)
		}
		for _, typ := range []string{"qrcode.updated", "qrcode.deleted"} {
			if got := byType[typ].str("qrcode", "url"); got != "https://example.com/qr2" {
				t.Errorf("%s url %q, want the updated destination", typ, got)
			}
		}

		for _, typ := range []string{"page.created", "page.updated", "page.deleted"} {
			checkPage(t, typ, byType[typ], page)
		}
		if got := byType["page.created"].str("page", "title"); got != "Hello" {
			t.Errorf("page.created title %q", got)
		}
		for _, typ := range []string{"page.updated", "page.deleted"} {
			if got := byType[typ].str("page", "title"); got != "Hello again" {
				t.Errorf("%s title %q, want the updated title", typ, got)
			}
		}

		// The store holds exactly these nine events, one per change.
		st := openStore(t, databaseURL, dataDir)
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM events"); n != len(projectEvents) {
			t.Errorf("events table holds %d events, want %d", n, len(projectEvents))
		}
		if n := len(rcv.all()); n != len(projectEvents) {
			t.Errorf("receiver got %d requests, want %d", n, len(projectEvents))
		}
	})
}

// requireFields fails for every field of want that data lacks.
func requireFields(t *testing.T, what string, data obj, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if !data.has(f) {
			t.Errorf("%s: field %q missing in %s", what, f, data)
		}
	}
}

var linkFields = []string{"id", "domain", "key", "url", "shortLink", "qrCode", "externalId", "archived",
	"expiresAt", "expiredUrl", "passwordProtected", "proxy", "title", "description", "image", "video",
	"rewrite", "doIndex", "ios", "android", "geo", "publicStats", "trackConversion", "tags", "comments",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "partnerId", "projectId",
	"clicks", "leads", "sales", "saleAmount", "lastClicked", "createdAt", "updatedAt"}

func checkLink(t *testing.T, typ string, data, created obj) {
	t.Helper()
	requireFields(t, typ, data, linkFields...)
	if data.str("id") != created.str("id") || !strings.HasPrefix(data.str("id"), "link_") {
		t.Errorf("%s: id %q, want %q", typ, data.str("id"), created.str("id"))
	}
	if data.str("shortLink") != created.str("shortLink") || !strings.HasSuffix(data.str("shortLink"), "/"+data.str("key")) {
		t.Errorf("%s: shortLink %q (API said %q, key %q)", typ, data.str("shortLink"), created.str("shortLink"), data.str("key"))
	}
	if pp, ok := data.get("passwordProtected").v.(bool); !ok || pp {
		t.Errorf("%s: passwordProtected %v, want false", typ, data.get("passwordProtected").v)
	}
	if _, ok := data.get("tags").v.([]any); !ok {
		t.Errorf("%s: tags %v is not an array", typ, data.get("tags").v)
	}
	if (data.has("password") && data.get("password").v != nil) || data.has("passwordHash") {
		t.Errorf("%s: the password leaks: %s", typ, data)
	}
	if data.str("projectId") == "" || data.str("projectId") != created.str("projectId") {
		t.Errorf("%s: projectId %q, API said %q", typ, data.str("projectId"), created.str("projectId"))
	}
	for _, f := range []string{"createdAt", "updatedAt"} {
		if _, err := time.Parse(time.RFC3339Nano, data.str(f)); err != nil || !strings.HasSuffix(data.str(f), "Z") {
			t.Errorf("%s: %s %q is not an RFC 3339 UTC time", typ, f, data.str(f))
		}
	}
}

var qrFields = []string{"id", "type", "static", "url", "content", "domain", "key", "shortLink", "image",
	"fgColor", "bgColor", "size", "level", "margin", "logo", "title", "description", "externalId",
	"archived", "tags", "comments", "scans", "lastScanned", "leads", "sales", "saleAmount", "projectId",
	"createdAt", "updatedAt"}

func checkQRCode(t *testing.T, typ string, data, created obj) {
	t.Helper()
	qr := data.get("qrcode")
	requireFields(t, typ+" data.qrcode", qr, qrFields...)
	if qr.str("id") != created.str("id") || !strings.HasPrefix(qr.str("id"), "qr_") {
		t.Errorf("%s: qrcode.id %q, want %q", typ, qr.str("id"), created.str("id"))
	}
	if qr.str("type") != "url" {
		t.Errorf("%s: type %q", typ, qr.str("type"))
	}
	if st, ok := qr.get("static").v.(bool); !ok || st {
		t.Errorf("%s: static %v, want false", typ, qr.get("static").v)
	}
	if qr.str("shortLink") == "" || qr.str("shortLink") != created.str("shortLink") {
		t.Errorf("%s: shortLink %q, API said %q", typ, qr.str("shortLink"), created.str("shortLink"))
	}
	if _, ok := qr.get("tags").v.([]any); !ok {
		t.Errorf("%s: tags %v is not an array", typ, qr.get("tags").v)
	}
}

var pageFields = []string{"id", "slug", "url", "title", "description", "blocks", "form", "theme",
	"published", "views", "leads", "projectId", "createdAt", "updatedAt"}

func checkPage(t *testing.T, typ string, data, created obj) {
	t.Helper()
	p := data.get("page")
	requireFields(t, typ+" data.page", p, pageFields...)
	if p.str("id") != created.str("id") || !strings.HasPrefix(p.str("id"), "page_") {
		t.Errorf("%s: page.id %q, want %q", typ, p.str("id"), created.str("id"))
	}
	if p.str("slug") == "" || p.str("slug") != created.str("slug") || !strings.HasSuffix(p.str("url"), "/p/"+p.str("slug")) {
		t.Errorf("%s: slug %q url %q (API said slug %q)", typ, p.str("slug"), p.str("url"), created.str("slug"))
	}
	blocks := p.get("blocks").list()
	if len(blocks) != 1 || blocks[0].str("type") != "heading" || blocks[0].str("text") != "Hi" {
		t.Errorf("%s: blocks %s", typ, p.get("blocks"))
	}
	if pub, ok := p.get("published").v.(bool); !ok || !pub {
		t.Errorf("%s: published %v", typ, p.get("published").v)
	}
}

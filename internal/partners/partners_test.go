package partners_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/partners"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testkit"
	"github.com/codeqr/codeqr/internal/testserver"
)

const domain = "go.test"

type env struct {
	st         *store.Store
	srv        *httptest.Server
	client     *http.Client
	pipe       *interactions.Pipeline
	p1         string
	key1, key2 string
}

// newEnv runs the whole application (app.New, started) for two projects.
// Its interactions pipeline flushes only every hour: a test flushes.
func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	ctx := context.Background()
	cfg := config.Config{BaseURL: "http://" + domain, FlushInterval: time.Hour,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}.WithDefaults()
	a, srv := testserver.Run(t, st, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	p1, k1, _, err := a.Projects.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, k2, _, err := a.Projects.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, srv: srv, client: testkit.NoRedirects(), pipe: a.Interactions, p1: p1.ID, key1: k1, key2: k2}
}

func (e *env) call(t *testing.T, method, path, key, body string) (int, string) {
	t.Helper()
	status, b := testkit.API(t, e.client, method, e.srv.URL+path, key, body)
	return status, string(b)
}

func (e *env) must(t *testing.T, method, path, key, body string, want int, out any) {
	t.Helper()
	code, resp := e.call(t, method, path, key, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, resp, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(resp), out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, resp)
		}
	}
}

// enrolled returns the data of every partner.enrolled event of project p1.
func (e *env) enrolled(t *testing.T) []map[string]any {
	t.Helper()
	rows, err := e.st.Read().QueryContext(context.Background(),
		"SELECT payload FROM events WHERE project_id = $1 AND type = $2 ORDER BY created_at", e.p1, string(events.PartnerEnrolled))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(payload), &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env.Data)
	}
	return out
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.Read().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func wantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := keysOf(m); !slices.Equal(got, want) {
		t.Fatalf("%s fields %v, want %v", what, got, want)
	}
}

var partnerFields = []string{"id", "name", "email", "image", "country", "status", "programId", "createdAt"}
var summaryFields = []string{"id", "domain", "key", "shortLink", "url", "clicks", "leads", "sales", "saleAmount"}

func TestPendingThenApproveEnrollsOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		var d partners.Detail
		e.must(t, "POST", "/api/partners", e.key1,
			`{"name":"José Müller","email":"Jose@Example.com","country":"de","url":"https://shop.example.com/?ref=1"}`, 201, &d)
		if !strings.HasPrefix(d.ID, "pn_") || d.Status != "pending" || d.Email != "jose@example.com" || *d.Country != "DE" || d.Image != nil {
			t.Fatalf("created %+v", d)
		}
		if d.ProgramID != partners.ProgramID(e.p1) || !strings.HasPrefix(d.ProgramID, "prog_") {
			t.Fatalf("programId %q", d.ProgramID)
		}
		if len(d.Links) != 1 || d.Links[0].Key != "jose-muller" || d.Links[0].ShortLink != "http://go.test/jose-muller" ||
			d.Links[0].URL != "https://shop.example.com/?ref=1" {
			t.Fatalf("links %+v", d.Links)
		}
		if n := len(e.enrolled(t)); n != 0 {
			t.Fatalf("%d partner.enrolled events for a pending partner", n)
		}
		// The referral link is an ordinary link with partnerId, announced by link.created.
		var l links.Link
		e.must(t, "GET", "/api/links/"+d.Links[0].ID, e.key1, "", 200, &l)
		if l.PartnerID == nil || *l.PartnerID != d.ID {
			t.Fatalf("link partnerId %v", l.PartnerID)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM events WHERE type = 'link.created' AND project_id = $1", e.p1); n != 1 {
			t.Fatalf("%d link.created events", n)
		}

		var a partners.Detail
		e.must(t, "POST", "/api/partners/"+d.ID+"/approve", e.key1, "", 200, &a)
		if a.Status != "approved" || len(a.Links) != 1 {
			t.Fatalf("approved %+v", a)
		}
		e.must(t, "POST", "/api/partners/"+d.ID+"/approve", e.key1, "", 200, &a)
		if a.Status != "approved" {
			t.Fatalf("second approve %+v", a)
		}
		got := e.enrolled(t)
		if len(got) != 1 {
			t.Fatalf("%d partner.enrolled events, want 1", len(got))
		}
		data := got[0]
		wantKeys(t, "data", data, "partner", "links")
		p := data["partner"].(map[string]any)
		wantKeys(t, "partner", p, partnerFields...)
		if p["id"] != d.ID || p["name"] != "José Müller" || p["email"] != "jose@example.com" || p["status"] != "approved" ||
			p["programId"] != d.ProgramID || p["country"] != "DE" || p["image"] != nil {
			t.Fatalf("partner %v", p)
		}
		if _, err := time.Parse(time.RFC3339Nano, p["createdAt"].(string)); err != nil {
			t.Fatal(err)
		}
		ls := data["links"].([]any)
		if len(ls) != 1 {
			t.Fatalf("links %v", ls)
		}
		l0 := ls[0].(map[string]any)
		wantKeys(t, "link summary", l0, summaryFields...)
		if l0["id"] != d.Links[0].ID || l0["key"] != "jose-muller" || l0["domain"] != domain ||
			l0["shortLink"] != "http://go.test/jose-muller" || l0["clicks"] != 0.0 || l0["saleAmount"] != 0.0 {
			t.Fatalf("link summary %v", l0)
		}

		// A later referral link: link.created, no second enrollment.
		var s partners.LinkSummary
		e.must(t, "POST", "/api/partners/"+d.ID+"/links", e.key1, `{"url":"https://shop.example.com/b"}`, 201, &s)
		if s.Key != "jose-muller-2" {
			t.Fatalf("second link key %q", s.Key)
		}
		e.must(t, "POST", "/api/partners/"+d.ID+"/links", e.key1, `{"url":"https://shop.example.com/c","key":"jm-special"}`, 201, &s)
		e.must(t, "GET", "/api/partners/"+d.ID, e.key1, "", 200, &a)
		if len(a.Links) != 3 || a.Links[2].Key != "jm-special" {
			t.Fatalf("links after add %+v", a.Links)
		}
		if n := len(e.enrolled(t)); n != 1 {
			t.Fatalf("%d partner.enrolled events after adding links", n)
		}
	})
}

func TestCreatedApprovedEnrollsOnceAndKeysAreUnique(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		var a, b partners.Detail
		e.must(t, "POST", "/api/partners", e.key1,
			`{"name":"Jane Doe","email":"jane@example.com","status":"approved","image":"https://img.example.com/j.png","url":"https://shop.example.com"}`, 201, &a)
		e.must(t, "POST", "/api/partners", e.key1,
			`{"name":"Jane  Doe!","email":"jane2@example.com","status":"approved","url":"https://shop.example.com"}`, 201, &b)
		if a.Links[0].Key != "jane-doe" || b.Links[0].Key != "jane-doe-2" {
			t.Fatalf("keys %q %q", a.Links[0].Key, b.Links[0].Key)
		}
		e.must(t, "POST", "/api/partners/"+a.ID+"/approve", e.key1, "", 200, nil)
		got := e.enrolled(t)
		if len(got) != 2 {
			t.Fatalf("%d partner.enrolled events, want 2", len(got))
		}
		p := got[0]["partner"].(map[string]any)
		if p["id"] != a.ID || p["image"] != "https://img.example.com/j.png" || p["country"] != nil {
			t.Fatalf("first event partner %v", p)
		}
		if l := got[1]["links"].([]any)[0].(map[string]any); l["key"] != "jane-doe-2" {
			t.Fatalf("second event link %v", l)
		}
		// A reserved or unusable name still gets a key.
		var c partners.Detail
		e.must(t, "POST", "/api/partners", e.key1, `{"name":"API","email":"api@example.com","url":"https://shop.example.com"}`, 201, &c)
		if c.Links[0].Key != "api-2" {
			t.Fatalf("key for reserved name %q", c.Links[0].Key)
		}
		e.must(t, "POST", "/api/partners", e.key1, `{"name":"李雷","email":"li@example.com","url":"https://shop.example.com"}`, 201, &c)
		if c.Links[0].Key != "partner" {
			t.Fatalf("key for non-latin name %q", c.Links[0].Key)
		}
	})
}

func TestConcurrentApprovalsEnrollOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		var d partners.Detail
		e.must(t, "POST", "/api/partners", e.key1, `{"name":"Ann","email":"ann@example.com","url":"https://shop.example.com"}`, 201, &d)
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Go(func() { codes[i], _ = e.call(t, "POST", "/api/partners/"+d.ID+"/approve", e.key1, "") })
		}
		wg.Wait()
		for _, c := range codes {
			if c != 200 {
				t.Fatalf("approve codes %v", codes)
			}
		}
		if n := len(e.enrolled(t)); n != 1 {
			t.Fatalf("%d partner.enrolled events after concurrent approvals", n)
		}
	})
}

func TestReferralClickCountsTowardTotals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		var d partners.Detail
		e.must(t, "POST", "/api/partners", e.key1, `{"name":"Bob","email":"bob@example.com","url":"https://shop.example.com/x"}`, 201, &d)
		var s partners.LinkSummary
		e.must(t, "POST", "/api/partners/"+d.ID+"/links", e.key1, `{"url":"https://shop.example.com/y"}`, 201, &s)
		for i, key := range []string{"bob", "bob", "bob-2"} {
			req, _ := http.NewRequest("GET", e.srv.URL+"/"+key, nil)
			req.Host = domain
			req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
			req.Header.Set("X-Forwarded-For", "10.0.0."+string(rune('1'+i)))
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("GET /%s: %d", key, resp.StatusCode)
			}
		}
		if err := e.pipe.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Conversions on the second link (written as the conversions package
		// will: counters on the link row) are summed too.
		if err := st.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.ExecContext(context.Background(), "UPDATE links SET leads = 2, sales = 1, sale_amount = 4999 WHERE id = $1", s.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var g partners.Detail
		e.must(t, "GET", "/api/partners/"+d.ID, e.key1, "", 200, &g)
		if g.Clicks != 3 || g.Leads != 2 || g.Sales != 1 || g.SaleAmount != 4999 {
			t.Fatalf("totals %+v", g)
		}
		if g.Links[0].Clicks != 2 || g.Links[1].Clicks != 1 {
			t.Fatalf("link clicks %+v", g.Links)
		}
		var list []partners.Detail
		e.must(t, "GET", "/api/partners?status=pending", e.key1, "", 200, &list)
		if len(list) != 1 || list[0].Clicks != 3 || len(list[0].Links) != 2 {
			t.Fatalf("list %+v", list)
		}
		e.must(t, "GET", "/api/partners?status=approved", e.key1, "", 200, &list)
		if len(list) != 0 {
			t.Fatalf("approved list %+v", list)
		}
	})
}

func TestValidationAndForeignProject(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		var d partners.Detail
		e.must(t, "POST", "/api/partners", e.key1, `{"name":"Cy","email":"cy@example.com","url":"https://shop.example.com","linkKey":"cy-ref"}`, 201, &d)
		for _, c := range []struct {
			body string
			code int
			msg  string
		}{
			{`{"email":"x@example.com","url":"https://a.example"}`, 422, "name"},
			{`{"name":"X","url":"https://a.example"}`, 422, "email"},
			{`{"name":"X","email":"not-an-email","url":"https://a.example"}`, 422, "email"},
			{`{"name":"X","email":"X <x@example.com>","url":"https://a.example"}`, 422, "email"},
			{`{"name":"X","email":"x@example.com"}`, 422, "url"},
			{`{"name":"X","email":"x@example.com","url":"ftp://a.example"}`, 422, "url"},
			{`{"name":"X","email":"x@example.com","url":"https://a.example","status":"declined"}`, 422, "status"},
			{`{"name":"X","email":"x@example.com","url":"https://a.example","country":"USA"}`, 422, "country"},
			{`{"name":"X","email":"x@example.com","url":"https://a.example","image":"nope"}`, 422, "image"},
			{`{"name":"X","email":"x@example.com","url":"https://a.example","linkKey":"bad key"}`, 422, "linkKey"},
			{`{"name":"X","email":"x@example.com","url":"https://a.example","linkKey":"cy-ref"}`, 409, "cy-ref"},
			{`{"name":"X","email":"CY@example.com","url":"https://a.example"}`, 409, "cy@example.com"},
			{`{"name":"X","email":"x@example.com","url":"https://a.example","colour":"red"}`, 400, "colour"},
			{`{"name":"` + strings.Repeat("n", 191) + `","email":"x@example.com","url":"https://a.example"}`, 422, "name"},
		} {
			code, body := e.call(t, "POST", "/api/partners", e.key1, c.body)
			if code != c.code || !strings.Contains(body, c.msg) {
				t.Errorf("%s: %d %s, want %d mentioning %q", c.body, code, body, c.code, c.msg)
			}
		}
		// Nothing of the refused requests was written (the 409 on linkKey rolled back its partner row).
		if n := e.count(t, "SELECT COUNT(*) FROM partners"); n != 1 {
			t.Fatalf("%d partners, want 1", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM links"); n != 1 {
			t.Fatalf("%d links, want 1", n)
		}
		if code, body := e.call(t, "POST", "/api/partners/"+d.ID+"/links", e.key1, `{"url":""}`); code != 422 {
			t.Fatalf("empty link url: %d %s", code, body)
		}
		// Another project's key sees none of it.
		for _, c := range [][2]string{
			{"GET", "/api/partners/" + d.ID},
			{"POST", "/api/partners/" + d.ID + "/approve"},
			{"POST", "/api/partners/" + d.ID + "/links"},
			{"GET", "/api/partners/pn_nope"},
		} {
			body := ""
			if strings.HasSuffix(c[1], "/links") {
				body = `{"url":"https://evil.example"}`
			}
			key := e.key2
			if strings.HasSuffix(c[1], "pn_nope") {
				key = e.key1
			}
			if code, resp := e.call(t, c[0], c[1], key, body); code != 404 {
				t.Fatalf("%s %s: %d %s, want 404", c[0], c[1], code, resp)
			}
		}
		var list []partners.Detail
		e.must(t, "GET", "/api/partners", e.key2, "", 200, &list)
		if len(list) != 0 {
			t.Fatalf("foreign list %+v", list)
		}
		if n := len(e.enrolled(t)); n != 0 {
			t.Fatalf("%d partner.enrolled events", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM links"); n != 1 {
			t.Fatalf("%d links after foreign add, want 1", n)
		}
	})
}

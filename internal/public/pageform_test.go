package public_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/public"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// newFormEnv is the application whose interactions pipeline never flushes
// by itself, so that a test sees what a submission recorded.
func newFormEnv(t *testing.T, st *store.Store) *env {
	return newEnv(t, st, envOpts{flush: time.Hour})
}

// page creates a page through the API and returns it.
func (e *env) page(t *testing.T, body string) pages.Page {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/pages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.key1)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		t.Fatalf("create page: %d %s", resp.StatusCode, b)
	}
	var p pages.Page
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

const formPage = `{"slug":"join","title":"Join us","published":true,"form":{"fields":[
{"name":"name","label":"Name","type":"text","required":true},
{"name":"email","label":"Email","type":"email","required":true},
{"name":"phone","label":"Phone","type":"tel"},
{"name":"consent","label":"Consent","type":"checkbox"}],"successMessage":"Thanks, we'll be in touch."}}`

// submit posts a form as a browser on origin would.
func (e *env) submit(t *testing.T, slug string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/p/"+slug, strings.NewReader(form.Encode()))
	req.Host = domain
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
	req.Header.Set("X-Forwarded-For", "8.8.8.8")
	req.Header.Set("Origin", "http://"+domain)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) leadEvents(t *testing.T) []map[string]any {
	t.Helper()
	rows, err := e.st.Read().QueryContext(context.Background(), "SELECT payload FROM events WHERE type = $1 ORDER BY created_at", string(events.LeadCreated))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(s), &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env.Data)
	}
	return out
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestSubmissionCreatesCustomerLeadAndEvent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newFormEnv(t, st)
		p := e.page(t, formPage)
		resp, body := e.submit(t, "join", url.Values{"name": {"  Jane   Doe "}, "email": {"Jane@Example.com"}, "consent": {"on"},
			"website": {""}, "extra": {"ignored"}}, nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "Thanks, we&#39;ll be in touch.") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("submit: %d %s", resp.StatusCode, body)
		}
		if err := e.Interactions.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var clickID, leadClick, leadPage, custID string
		if err := st.Read().QueryRowContext(context.Background(), "SELECT click_id FROM interactions WHERE kind = 'view' AND page_id = $1", p.ID).Scan(&clickID); err != nil {
			t.Fatal(err)
		}
		if err := st.Read().QueryRowContext(context.Background(), "SELECT click_id, page_id, customer_id FROM leads").Scan(&leadClick, &leadPage, &custID); err != nil {
			t.Fatal(err)
		}
		if leadClick != clickID || leadPage != p.ID {
			t.Fatalf("lead click %s page %s, view %s page %s", leadClick, leadPage, clickID, p.ID)
		}
		got := e.leadEvents(t)
		if len(got) != 1 {
			t.Fatalf("%d lead.created events", len(got))
		}
		d := got[0]
		if k := keys(d); !slices.Equal(k, []string{"customer", "eventName", "interaction", "link", "metadata", "page", "qrcode"}) {
			t.Fatalf("data fields %v", k)
		}
		if d["link"] != nil || d["qrcode"] != nil || d["eventName"] != "Form: join" {
			t.Fatalf("data %v", d)
		}
		c := d["customer"].(map[string]any)
		if k := keys(c); !slices.Equal(k, []string{"avatar", "country", "createdAt", "email", "externalId", "id", "name"}) {
			t.Fatalf("customer fields %v", k)
		}
		if c["id"] != custID || c["externalId"] != "jane@example.com" || c["email"] != "jane@example.com" || c["name"] != "Jane Doe" || c["avatar"] != nil {
			t.Fatalf("customer %v", c)
		}
		in := d["interaction"].(map[string]any)
		if in["clickId"] != clickID || in["url"] != "http://go.test/p/join" || in["ip"] != "8.8.8.8" || in["qr"] != false {
			t.Fatalf("interaction %v", in)
		}
		pg := d["page"].(map[string]any)
		if pg["id"] != p.ID || pg["leads"] != 1.0 || pg["slug"] != "join" {
			t.Fatalf("page %v", pg)
		}
		meta := d["metadata"].(map[string]any)
		if f := meta["fields"].(map[string]any); f["name"] != "Jane Doe" || f["consent"] != "true" || f["extra"] != nil {
			t.Fatalf("metadata %v", meta)
		}

		// The same person again: the customer is reused, no second lead or event.
		resp, _ = e.submit(t, "join", url.Values{"name": {"Jane"}, "email": {"jane@example.com"}}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("resubmit: %d", resp.StatusCode)
		}
		if err := e.Interactions.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM customers"); n != 1 {
			t.Fatalf("%d customers", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM leads"); n != 1 {
			t.Fatalf("%d leads", n)
		}
		if n := len(e.leadEvents(t)); n != 1 {
			t.Fatalf("%d lead.created events after a repeat", n)
		}
		if n := e.count(t, "SELECT leads FROM pages WHERE id = $1", p.ID); n != 1 {
			t.Fatalf("page leads %d", n)
		}
		if n := e.count(t, "SELECT views FROM pages WHERE id = $1", p.ID); n != 2 {
			t.Fatalf("page views %d", n)
		}
		// A form without an email field: a generated external id, its own lead.
		e.page(t, `{"slug":"note","title":"Note","published":true,"form":{"fields":[{"name":"message","type":"textarea","required":true}],
"redirectUrl":"https://example.com/thanks"}}`)
		resp, _ = e.submit(t, "note", url.Values{"message": {"line one\nline two"}}, map[string]string{"Origin": "", "Referer": "http://go.test/p/note"})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://example.com/thanks" {
			t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if n := e.count(t, "SELECT COUNT(*) FROM customers WHERE external_id LIKE 'form_%' AND email IS NULL"); n != 1 {
			t.Fatalf("%d anonymous customers", n)
		}
		if n := len(e.leadEvents(t)); n != 2 {
			t.Fatalf("%d lead.created events", n)
		}
	})
}

func TestRefusedSubmissionsRecordNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newFormEnv(t, st)
		e.page(t, formPage)
		e.page(t, `{"slug":"draft","title":"Draft","form":{"fields":[{"name":"email","type":"email"}]}}`)
		e.page(t, `{"slug":"noform","title":"No form","published":true}`)
		good := url.Values{"name": {"Jane"}, "email": {"jane@example.com"}}

		// Honeypot: looks like success, records nothing.
		hp := url.Values{"name": {"Bot"}, "email": {"bot@example.com"}, "website": {"http://spam.example"}}
		resp, body := e.submit(t, "join", hp, nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "be in touch") {
			t.Fatalf("honeypot: %d %s", resp.StatusCode, body)
		}
		if e.Interactions.Pending() != 0 {
			t.Fatal("honeypot submission recorded a view")
		}

		// Missing required field and a bad e-mail: 422, HTML or JSON.
		resp, body = e.submit(t, "join", url.Values{"name": {"Jane"}}, nil)
		if resp.StatusCode != 422 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Email is required.") {
			t.Fatalf("missing email (html): %d %s", resp.StatusCode, body)
		}
		resp, body = e.submit(t, "join", url.Values{"email": {"nope"}, "phone": {"call me"}}, map[string]string{"Accept": "application/json"})
		var jerr struct {
			Error struct {
				Code   string            `json:"code"`
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		if resp.StatusCode != 422 || json.Unmarshal([]byte(body), &jerr) != nil || jerr.Error.Code != "unprocessable_entity" ||
			jerr.Error.Fields["name"] != "Name is required." || jerr.Error.Fields["email"] != "Email must be an e-mail address." ||
			jerr.Error.Fields["phone"] != "Phone must be a phone number." {
			t.Fatalf("invalid (json): %d %s", resp.StatusCode, body)
		}
		resp, _ = e.submit(t, "join", url.Values{"name": {strings.Repeat("n", 501)}, "email": {"a@b.co"}}, nil)
		if resp.StatusCode != 422 {
			t.Fatalf("long name: %d", resp.StatusCode)
		}

		// CSRF: a foreign or missing origin is refused.
		for _, h := range []map[string]string{
			{"Origin": "http://evil.example"},
			{"Origin": "", "Referer": "https://evil.example/p/join"},
			{"Origin": ""},
			{"Origin": "null"},
		} {
			if resp, body := e.submit(t, "join", good, h); resp.StatusCode != 403 {
				t.Fatalf("origin %v: %d %s", h, resp.StatusCode, body)
			}
		}
		// Unknown, unpublished or form-less pages; oversized and non-form bodies.
		for _, slug := range []string{"nope", "draft", "noform", "Bad..Slug"} {
			if resp, _ := e.submit(t, slug, good, nil); resp.StatusCode != 404 {
				t.Fatalf("/p/%s: %d", slug, resp.StatusCode)
			}
		}
		big := url.Values{"name": {"Jane"}, "email": {"jane@example.com"}, "pad": {strings.Repeat("x", public.MaxFormBody)}}
		if resp, _ := e.submit(t, "join", big, nil); resp.StatusCode != 413 {
			t.Fatalf("oversized: %d", resp.StatusCode)
		}
		if resp, _ := e.submit(t, "join", good, map[string]string{"Content-Type": "application/json"}); resp.StatusCode != 415 {
			t.Fatalf("json body: %d", resp.StatusCode)
		}

		if e.Interactions.Pending() != 0 {
			t.Fatalf("%d views recorded by refused submissions", e.Interactions.Pending())
		}
		for _, table := range []string{"customers", "leads"} {
			if n := e.count(t, "SELECT COUNT(*) FROM "+table); n != 0 {
				t.Fatalf("%d rows in %s", n, table)
			}
		}
		if n := len(e.leadEvents(t)); n != 0 {
			t.Fatalf("%d lead.created events", n)
		}
	})
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/pages"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testkit"
	"github.com/codeqr/codeqr/internal/testserver"
)

// pgEnv is a running API with two projects: key is p1's, otherKey p2's.
type pgEnv struct {
	t         *testing.T
	st        *store.Store
	url       string
	key       string
	otherKey  string
	projectID string
}

func newPgEnv(t *testing.T, st *store.Store) *pgEnv {
	t.Helper()
	ctx := context.Background()
	cfg := config.Config{BaseURL: "https://go.example.com"}.WithDefaults()
	a, srv := testserver.Run(t, st, cfg, app.Options{})
	ps := a.Projects
	p1, key, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, other, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &pgEnv{t: t, st: st, url: srv.URL, key: key, otherKey: other, projectID: p1.ID}
}

// do sends a request with key and returns the status and the decoded body.
func (e *pgEnv) do(key, method, path, body string) (int, json.RawMessage) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, b)
	}
	return res.StatusCode, json.RawMessage(b)
}

// must sends a request with p1's key and fails unless the status is want.
func (e *pgEnv) must(want int, method, path, body string) json.RawMessage {
	e.t.Helper()
	got, b := e.do(e.key, method, path, body)
	if got != want {
		e.t.Fatalf("%s %s %s: status %d, want %d; body %s", method, path, body, got, want, b)
	}
	return b
}

// wantError checks the documented error body.
func (e *pgEnv) wantError(b json.RawMessage, code string) string {
	e.t.Helper()
	body := testkit.DecodeError(e.t, b)
	if body.Error.Code != code || body.Error.Message == "" || !strings.HasSuffix(body.Error.DocURL, "#"+code) {
		e.t.Fatalf("error body %s: want code %s with a message and doc_url", b, code)
	}
	return body.Error.Message
}

type pgEvent struct {
	Type    string
	Payload struct {
		ID        string `json:"id"`
		Event     string `json:"event"`
		CreatedAt string `json:"createdAt"`
		Data      struct {
			Page map[string]any `json:"page"`
		} `json:"data"`
	}
}

// events returns the project's events of one type, oldest first.
func (e *pgEnv) events(typ string) []pgEvent {
	e.t.Helper()
	rows, err := e.st.Read().QueryContext(context.Background(),
		"SELECT type, payload FROM events WHERE project_id = $1 AND type = $2 ORDER BY created_at, id", e.projectID, typ)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []pgEvent
	for rows.Next() {
		var (
			ev      pgEvent
			payload string
		)
		if err := rows.Scan(&ev.Type, &payload); err != nil {
			e.t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(payload), &ev.Payload); err != nil {
			e.t.Fatalf("payload %s: %v", payload, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func asMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

const fullPage = `{
  "slug": "launch",
  "title": "Launch day",
  "description": "All about it",
  "published": true,
  "blocks": [
    {"type": "heading", "text": "Welcome"},
    {"type": "text", "text": "line one\nline two"},
    {"type": "image", "url": "https://img.example.com/a.png", "alt": "A picture"},
    {"type": "image", "url": "https://img.example.com/b.png"},
    {"type": "button", "label": "Buy", "url": "https://shop.example.com/"}
  ],
  "form": {"fields": [
      {"name": "email", "label": "E-mail", "type": "email", "required": true},
      {"name": "note"}
    ], "redirectUrl": "https://example.com/thanks"},
  "theme": {"background": "#FFEEDD", "accent": "#123abc"}
}`

func TestPagesCRUDAndEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newPgEnv(t, st)

		created := e.must(http.StatusCreated, "POST", "/api/pages", fullPage)
		m := asMap(t, created)
		wantKeys := []string{"blocks", "createdAt", "description", "form", "id", "leads", "projectId", "published", "slug", "theme", "title", "updatedAt", "url", "views"}
		if got := keysOf(m); !slices.Equal(got, wantKeys) {
			t.Fatalf("page keys %v, want %v", got, wantKeys)
		}
		var p pages.Page
		if err := json.Unmarshal(created, &p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ID, "page_") || p.Slug != "launch" || p.URL != "https://go.example.com/p/launch" ||
			p.ProjectID != e.projectID || !p.Published || p.Views != 0 || p.Leads != 0 || p.Title != "Launch day" {
			t.Fatalf("created page %+v", p)
		}
		if p.CreatedAt.IsZero() || !p.CreatedAt.Equal(p.UpdatedAt) || p.CreatedAt.Location().String() != "UTC" {
			t.Fatalf("times %v %v", p.CreatedAt, p.UpdatedAt)
		}
		// Blocks carry exactly the fields of their type, in order.
		wantBlocks := `[{"type":"heading","text":"Welcome"},{"type":"text","text":"line one\nline two"},` +
			`{"type":"image","url":"https://img.example.com/a.png","alt":"A picture"},{"type":"image","url":"https://img.example.com/b.png","alt":""},` +
			`{"type":"button","label":"Buy","url":"https://shop.example.com/"}]`
		var raw struct {
			Blocks json.RawMessage `json:"blocks"`
			Form   json.RawMessage `json:"form"`
			Theme  json.RawMessage `json:"theme"`
		}
		if err := json.Unmarshal(created, &raw); err != nil {
			t.Fatal(err)
		}
		if compact(t, raw.Blocks) != wantBlocks {
			t.Fatalf("blocks %s\nwant %s", compact(t, raw.Blocks), wantBlocks)
		}
		wantForm := `{"fields":[{"name":"email","label":"E-mail","type":"email","required":true},{"name":"note","label":"note","type":"text","required":false}],` +
			`"submitLabel":"Submit","successMessage":"Thank you!","redirectUrl":"https://example.com/thanks"}`
		if compact(t, raw.Form) != wantForm {
			t.Fatalf("form %s\nwant %s", compact(t, raw.Form), wantForm)
		}
		if got := compact(t, raw.Theme); got != `{"background":"#ffeedd","text":"#111827","accent":"#123abc"}` {
			t.Fatalf("theme %s", got)
		}

		evs := e.events("page.created")
		if len(evs) != 1 || evs[0].Payload.Event != "page.created" || !strings.HasPrefix(evs[0].Payload.ID, "evt_") {
			t.Fatalf("page.created events %+v", evs)
		}
		if got := evs[0].Payload.Data.Page; got["id"] != p.ID || got["slug"] != "launch" || got["url"] != p.URL || !slices.Equal(keysOf(got), wantKeys) {
			t.Fatalf("page.created data %v", got)
		}

		// Get returns the same object.
		if got := e.must(http.StatusOK, "GET", "/api/pages/"+p.ID, ""); compact(t, got) != compact(t, created) {
			t.Fatalf("get %s\nwant %s", got, created)
		}

		// A second page, a draft with a derived slug and no form.
		draft := e.must(http.StatusCreated, "POST", "/api/pages", `{"title": "Hello, World! Ça va?"}`)
		var d pages.Page
		if err := json.Unmarshal(draft, &d); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^hello-world-a-va-[a-z0-9]{6}$`).MatchString(d.Slug) || d.Published || d.Form != nil || d.Description != nil ||
			len(d.Blocks) != 0 || d.Theme != pages.DefaultTheme() {
			t.Fatalf("draft %s", draft)
		}
		dm := asMap(t, draft)
		if dm["form"] != nil || dm["description"] != nil || dm["blocks"] == nil {
			t.Fatalf("draft nulls %s", draft)
		}

		// List: newest first, published filter, paging.
		ids := func(b []byte) []string {
			var ps []pages.Page
			if err := json.Unmarshal(b, &ps); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range ps {
				out = append(out, p.ID)
			}
			return out
		}
		if got := ids(e.must(200, "GET", "/api/pages", "")); !slices.Equal(got, []string{d.ID, p.ID}) {
			t.Fatalf("list %v", got)
		}
		if got := ids(e.must(200, "GET", "/api/pages?published=true", "")); !slices.Equal(got, []string{p.ID}) {
			t.Fatalf("published %v", got)
		}
		if got := ids(e.must(200, "GET", "/api/pages?published=false", "")); !slices.Equal(got, []string{d.ID}) {
			t.Fatalf("drafts %v", got)
		}
		if got := ids(e.must(200, "GET", "/api/pages?page=2&pageSize=1", "")); !slices.Equal(got, []string{p.ID}) {
			t.Fatalf("page 2 %v", got)
		}
		if got := e.must(200, "GET", "/api/pages?page=3&pageSize=1", ""); compact(t, got) != "[]" {
			t.Fatalf("page 3 %s", got)
		}
		e.wantError(e.must(400, "GET", "/api/pages?published=maybe", ""), "bad_request")
		if got := e.must(200, "GET", "/api/pages", ""); compact(t, got) == "[]" {
			t.Fatal("list empty")
		}
		if _, b := e.do(e.otherKey, "GET", "/api/pages", ""); compact(t, b) != "[]" {
			t.Fatalf("other project sees %s", b)
		}

		// Update: a change writes page.updated with the new state.
		upd := e.must(200, "PATCH", "/api/pages/"+p.ID, `{"title": "Launch week", "published": false}`)
		var u pages.Page
		if err := json.Unmarshal(upd, &u); err != nil {
			t.Fatal(err)
		}
		if u.Title != "Launch week" || u.Published || u.Slug != "launch" || !u.CreatedAt.Equal(p.CreatedAt) || u.UpdatedAt.Before(p.UpdatedAt) ||
			u.Description == nil || *u.Description != "All about it" || u.Form == nil || len(u.Blocks) != 5 {
			t.Fatalf("updated %s", upd)
		}
		evs = e.events("page.updated")
		if len(evs) != 1 || evs[0].Payload.Data.Page["title"] != "Launch week" || evs[0].Payload.Data.Page["published"] != false {
			t.Fatalf("page.updated events %+v", evs)
		}

		// No-op updates write nothing: the same values, or an empty body.
		for _, body := range []string{`{"title": "Launch week", "published": false, "slug": "launch"}`, `{}`,
			`{"theme": {"background": "#ffeedd", "accent": "#123ABC"}}`, `{"description": "All about it"}`} {
			got := e.must(200, "PATCH", "/api/pages/"+p.ID, body)
			if compact(t, got) != compact(t, upd) {
				t.Fatalf("no-op %s changed the page: %s", body, got)
			}
		}
		if n := len(e.events("page.updated")); n != 1 {
			t.Fatalf("no-op updates wrote events: %d page.updated", n)
		}

		// null clears description and form, resets the theme, empties blocks.
		cleared := asMap(t, e.must(200, "PATCH", "/api/pages/"+p.ID, `{"description": null, "form": null, "theme": null, "blocks": null}`))
		if cleared["description"] != nil || cleared["form"] != nil || len(cleared["blocks"].([]any)) != 0 ||
			cleared["theme"].(map[string]any)["background"] != "#ffffff" || cleared["title"] != "Launch week" {
			t.Fatalf("cleared %v", cleared)
		}
		// Replacing blocks and slug.
		moved := asMap(t, e.must(200, "PATCH", "/api/pages/"+p.ID, `{"slug": "launch-2", "blocks": [{"type": "heading", "text": "New"}]}`))
		if moved["slug"] != "launch-2" || moved["url"] != "https://go.example.com/p/launch-2" || len(moved["blocks"].([]any)) != 1 {
			t.Fatalf("moved %v", moved)
		}
		if n := len(e.events("page.updated")); n != 3 {
			t.Fatalf("page.updated events: %d, want 3", n)
		}

		// GetBySlug finds it by its new slug only.
		svc := pages.NewService(st, events.NewWriter(nil, nil), nil, config.Config{BaseURL: "https://go.example.com"}, nil)
		if got, err := svc.GetBySlug(context.Background(), "launch-2"); err != nil || got.ID != p.ID {
			t.Fatalf("GetBySlug: %v %v", got.ID, err)
		}
		if _, err := svc.GetBySlug(context.Background(), "launch"); err == nil {
			t.Fatal("GetBySlug of the old slug found a page")
		}

		// Delete: {"id"}, page.deleted with the page as it was, then 404.
		del := asMap(t, e.must(200, "DELETE", "/api/pages/"+p.ID, ""))
		if del["id"] != p.ID || len(del) != 1 {
			t.Fatalf("delete body %v", del)
		}
		evs = e.events("page.deleted")
		if len(evs) != 1 || evs[0].Payload.Data.Page["id"] != p.ID || evs[0].Payload.Data.Page["slug"] != "launch-2" {
			t.Fatalf("page.deleted events %+v", evs)
		}
		e.wantError(e.must(404, "GET", "/api/pages/"+p.ID, ""), "not_found")
		e.wantError(e.must(404, "DELETE", "/api/pages/"+p.ID, ""), "not_found")
		e.wantError(e.must(404, "PATCH", "/api/pages/"+p.ID, `{"title": "x"}`), "not_found")
		if n := len(e.events("page.deleted")); n != 1 {
			t.Fatalf("page.deleted events: %d", n)
		}
		// The slug is free again.
		e.must(201, "POST", "/api/pages", `{"slug": "launch-2", "title": "Again"}`)
	})
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("compact %s: %v", b, err)
	}
	return buf.String()
}

func TestPagesValidation(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	blocks := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `{"type":"heading","text":"h"}`
		}
		return `[` + strings.Join(parts, ",") + `]`
	}
	fields := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `{"name":"f` + strings.Repeat("x", i) + `"}`
		}
		return `[` + strings.Join(parts, ",") + `]`
	}
	// Each body is POSTed as it is; status is the expected answer.
	cases := []struct {
		name, body string
		status     int
	}{
		{"title missing", `{}`, 422},
		{"title blank", `{"title": "   "}`, 422},
		{"title too long", `{"title": "` + long(191) + `"}`, 422},
		{"title multiline", `{"title": "a\nb"}`, 422},
		{"title control", `{"title": "a\u0000b"}`, 422},
		{"description too long", `{"title": "t", "description": "` + long(1001) + `"}`, 422},
		{"slug upper", `{"title": "t", "slug": "Launch"}`, 422},
		{"slug leading dash", `{"title": "t", "slug": "-a"}`, 422},
		{"slug too long", `{"title": "t", "slug": "` + long(65) + `"}`, 422},
		{"slug slash", `{"title": "t", "slug": "a/b"}`, 422},
		{"too many blocks", `{"title": "t", "blocks": ` + blocks(101) + `}`, 422},
		{"unknown block type", `{"title": "t", "blocks": [{"type": "video", "url": "https://e.com"}]}`, 422},
		{"block without type", `{"title": "t", "blocks": [{"text": "x"}]}`, 422},
		{"unknown block field", `{"title": "t", "blocks": [{"type": "heading", "text": "x", "size": 3}]}`, 400},
		{"field of another type", `{"title": "t", "blocks": [{"type": "heading", "text": "x", "url": "https://e.com"}]}`, 422},
		{"heading missing text", `{"title": "t", "blocks": [{"type": "heading"}]}`, 422},
		{"heading too long", `{"title": "t", "blocks": [{"type": "heading", "text": "` + long(201) + `"}]}`, 422},
		{"text too long", `{"title": "t", "blocks": [{"type": "text", "text": "` + long(10001) + `"}]}`, 422},
		{"image without url", `{"title": "t", "blocks": [{"type": "image", "alt": "x"}]}`, 422},
		{"image bad url", `{"title": "t", "blocks": [{"type": "image", "url": "javascript:alert(1)"}]}`, 422},
		{"image relative url", `{"title": "t", "blocks": [{"type": "image", "url": "/a.png"}]}`, 422},
		{"button without label", `{"title": "t", "blocks": [{"type": "button", "url": "https://e.com"}]}`, 422},
		{"button label too long", `{"title": "t", "blocks": [{"type": "button", "label": "` + long(101) + `", "url": "https://e.com"}]}`, 422},
		{"button bad url", `{"title": "t", "blocks": [{"type": "button", "label": "Go", "url": "ftp://e.com"}]}`, 422},
		{"block type not a string", `{"title": "t", "blocks": [{"type": 1}]}`, 400},
		{"form without fields", `{"title": "t", "form": {"fields": []}}`, 422},
		{"form too many fields", `{"title": "t", "form": {"fields": ` + fields(21) + `}}`, 422},
		{"form bad field name", `{"title": "t", "form": {"fields": [{"name": "1st"}]}}`, 422},
		{"form field name with dash", `{"title": "t", "form": {"fields": [{"name": "first-name"}]}}`, 422},
		{"form field named like the honeypot", `{"title": "t", "form": {"fields": [{"name": "Website"}]}}`, 422},
		{"form field name too long", `{"title": "t", "form": {"fields": [{"name": "a` + long(50) + `"}]}}`, 422},
		{"form duplicate field", `{"title": "t", "form": {"fields": [{"name": "email"}, {"name": "email"}]}}`, 422},
		{"form bad field type", `{"title": "t", "form": {"fields": [{"name": "x", "type": "number"}]}}`, 422},
		{"form label too long", `{"title": "t", "form": {"fields": [{"name": "x", "label": "` + long(101) + `"}]}}`, 422},
		{"form submit label too long", `{"title": "t", "form": {"fields": [{"name": "x"}], "submitLabel": "` + long(101) + `"}}`, 422},
		{"form bad redirect", `{"title": "t", "form": {"fields": [{"name": "x"}], "redirectUrl": "not a url"}}`, 422},
		{"form unknown field", `{"title": "t", "form": {"fields": [{"name": "x"}], "color": "red"}}`, 400},
		{"form field unknown field", `{"title": "t", "form": {"fields": [{"name": "x", "placeholder": "y"}]}}`, 400},
		{"theme bad colour", `{"title": "t", "theme": {"background": "red"}}`, 422},
		{"theme short hex", `{"title": "t", "theme": {"accent": "#fff"}}`, 422},
		{"theme unknown field", `{"title": "t", "theme": {"link": "#ffffff"}}`, 400},
		{"unknown top-level field", `{"title": "t", "body": "x"}`, 400},
		{"not json", `{"title": `, 400},
	}
	okCases := []string{
		`{"title": "` + long(190) + `", "description": "` + long(1000) + `"}`,
		`{"title": "t", "slug": "` + long(64) + `"}`,
		`{"title": "t", "blocks": ` + blocks(100) + `}`,
		`{"title": "t", "blocks": [{"type": "text", "text": "` + long(10000) + `"}, {"type": "heading", "text": "` + long(200) + `"}]}`,
		`{"title": "t", "form": {"fields": ` + fields(20) + `, "submitLabel": "` + long(100) + `"}}`,
		`{"title": "t", "form": {"fields": [{"name": "a` + long(49) + `", "type": "checkbox"}, {"name": "B_2", "type": "tel"}, {"name": "c", "type": "textarea"}]}}`,
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newPgEnv(t, st)
		for _, c := range cases {
			status, b := e.do(e.key, "POST", "/api/pages", c.body)
			if status != c.status {
				t.Errorf("%s: status %d, want %d; body %s", c.name, status, c.status, b)
				continue
			}
			code := map[int]string{400: "bad_request", 422: "unprocessable_entity"}[c.status]
			e.wantError(b, code)
		}
		for i, body := range okCases {
			if status, b := e.do(e.key, "POST", "/api/pages", body); status != 201 {
				t.Errorf("ok case %d: status %d; body %s", i, status, b)
			}
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM pages"); n != len(okCases) {
			t.Fatalf("%d pages stored, want %d", n, len(okCases))
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM events"); n != len(okCases) {
			t.Fatalf("%d events stored, want %d", n, len(okCases))
		}

		// The same rules hold on PATCH, and nothing is written on failure.
		var p pages.Page
		if err := json.Unmarshal(e.must(201, "POST", "/api/pages", `{"title": "t", "slug": "patch-me"}`), &p); err != nil {
			t.Fatal(err)
		}
		patches := []struct {
			body   string
			status int
		}{
			{`{"title": null}`, 422},
			{`{"slug": null}`, 422},
			{`{"published": null}`, 422},
			{`{"title": ""}`, 422},
			{`{"slug": "Bad Slug"}`, 422},
			{`{"blocks": [{"type": "quote", "text": "x"}]}`, 422},
			{`{"blocks": [{"type": "text", "text": "x", "extra": 1}]}`, 400},
			{`{"form": {"fields": [{"name": "a"}, {"name": "a"}]}}`, 422},
			{`{"form": {"fields": [{"name": "a", "bogus": true}]}}`, 400},
			{`{"theme": {"text": "#12345g"}}`, 422},
			{`{"theme": {"bogus": "#123456"}}`, 400},
			{`{"id": "page_x"}`, 400},
			{`{"title": 5}`, 400},
		}
		before := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM events")
		for _, c := range patches {
			status, b := e.do(e.key, "PATCH", "/api/pages/"+p.ID, c.body)
			if status != c.status {
				t.Errorf("PATCH %s: status %d, want %d; body %s", c.body, status, c.status, b)
			}
		}
		if after := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM events"); after != before {
			t.Fatalf("failed PATCHes wrote %d events", after-before)
		}
		got := asMap(t, e.must(200, "GET", "/api/pages/"+p.ID, ""))
		if got["title"] != "t" || got["slug"] != "patch-me" {
			t.Fatalf("page changed by failed PATCHes: %v", got)
		}
	})
}

func TestPagesSlugConflictAndOtherProjects(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newPgEnv(t, st)
		var a pages.Page
		if err := json.Unmarshal(e.must(201, "POST", "/api/pages", `{"title": "A", "slug": "taken"}`), &a); err != nil {
			t.Fatal(err)
		}
		e.wantError(e.must(409, "POST", "/api/pages", `{"title": "B", "slug": "taken"}`), "conflict")
		// Slugs are unique across the server, not per project.
		status, b := e.do(e.otherKey, "POST", "/api/pages", `{"title": "C", "slug": "taken"}`)
		if status != 409 {
			t.Fatalf("other project took the slug: %d %s", status, b)
		}
		e.wantError(b, "conflict")
		// PATCH onto a taken slug.
		var other pages.Page
		if err := json.Unmarshal(e.must(201, "POST", "/api/pages", `{"title": "D", "slug": "free"}`), &other); err != nil {
			t.Fatal(err)
		}
		e.wantError(e.must(409, "PATCH", "/api/pages/"+other.ID, `{"slug": "taken"}`), "conflict")
		if n := len(e.events("page.updated")); n != 0 {
			t.Fatalf("conflicting PATCH wrote %d events", n)
		}
		// Derived slugs of one title do not clash.
		s1 := asMap(t, e.must(201, "POST", "/api/pages", `{"title": "Same"}`))["slug"]
		s2 := asMap(t, e.must(201, "POST", "/api/pages", `{"title": "Same"}`))["slug"]
		if s1 == s2 {
			t.Fatalf("derived slugs clash: %v", s1)
		}

		// Another project's key gets 404 for every id of p1, and changes nothing.
		for _, req := range []struct{ method, body string }{{"GET", ""}, {"PATCH", `{"title": "hijack"}`}, {"DELETE", ""}} {
			status, b := e.do(e.otherKey, req.method, "/api/pages/"+a.ID, req.body)
			if status != 404 {
				t.Fatalf("%s by another project: %d %s", req.method, status, b)
			}
			e.wantError(b, "not_found")
		}
		if got := asMap(t, e.must(200, "GET", "/api/pages/"+a.ID, ""))["title"]; got != "A" {
			t.Fatalf("title after foreign PATCH: %v", got)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM events WHERE project_id <> $1", e.projectID); n != 0 {
			t.Fatalf("%d events in the other project", n)
		}
	})
}

func TestPagesScopes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newPgEnv(t, st)
		_, readOnly, _, err := projects.NewService(st, nil).EnsureWithKey(context.Background(), "p1", "ro", []string{projects.ScopePagesRead})
		if err != nil {
			t.Fatal(err)
		}
		status, b := e.do(readOnly, "POST", "/api/pages", `{"title": "x"}`)
		if status != 403 {
			t.Fatalf("create with pages.read: %d %s", status, b)
		}
		if status, b := e.do(readOnly, "GET", "/api/pages", ""); status != 200 {
			t.Fatalf("list with pages.read: %d %s", status, b)
		}
	})
}

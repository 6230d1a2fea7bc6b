package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/errs"
	"github.com/codeqr/codeqr/internal/links"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testkit"
	"github.com/codeqr/codeqr/internal/testserver"
)

type linkEnv struct {
	srv   *httptest.Server
	st    *store.Store
	key   string // all scopes, project p1
	ro    string // links.read only, project p1
	other string // all scopes, project p2
}

func newLinkEnv(t *testing.T, st *store.Store) *linkEnv {
	t.Helper()
	ctx := context.Background()
	a, srv := testserver.Run(t, st, config.Config{BaseURL: "https://go.test"}.WithDefaults(), app.Options{})
	ps := a.Projects
	_, key, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, ro, _, err := ps.EnsureWithKey(ctx, "p1", "ro", []string{projects.ScopeLinksRead})
	if err != nil {
		t.Fatal(err)
	}
	_, other, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &linkEnv{srv: srv, st: st, key: key, ro: ro, other: other}
}

func (e *linkEnv) do(t *testing.T, method, path, key, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// wantLinkError checks the status and the documented error body.
func wantLinkError(t *testing.T, status int, body []byte, wantStatus int, wantCode, mention string) {
	t.Helper()
	e := testkit.WantError(t, status, body, wantStatus, wantCode)
	if !strings.Contains(e.Error.Message, mention) {
		t.Fatalf("error message %q does not mention %q", e.Error.Message, mention)
	}
}

func decodeLink(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return m
}

func TestLinkRoutes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newLinkEnv(t, st)
		code, b := e.do(t, "POST", "/api/links", e.key, `{"url":"https://shop.example/x","key":"spring","externalId":"ext-1","tagNames":["a"],"geo":{"DE":"https://de.example/"},"password":"pw"}`)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, b)
		}
		l := decodeLink(t, b)
		id := l["id"].(string)
		if l["shortLink"] != "https://go.test/spring" || l["passwordProtected"] != true || strings.Contains(string(b), `"password"`) ||
			l["geo"].(map[string]any)["DE"] != "https://de.example/" {
			t.Fatalf("created %s", b)
		}

		for _, path := range []string{"/api/links/" + id, "/api/links/info?linkId=" + id, "/api/links/info?externalId=ext-1", "/api/links/info?domain=go.test&key=spring"} {
			if code, b := e.do(t, "GET", path, e.ro, ""); code != http.StatusOK || decodeLink(t, b)["id"] != id {
				t.Fatalf("GET %s: %d %s", path, code, b)
			}
			code, b := e.do(t, "GET", path, e.other, "")
			wantLinkError(t, code, b, http.StatusNotFound, "not_found", "")
		}
		code, b = e.do(t, "GET", "/api/links/info", e.key, "")
		wantLinkError(t, code, b, http.StatusBadRequest, "bad_request", "linkId")

		code, b = e.do(t, "GET", "/api/links?search=shop&page=1&pageSize=10", e.ro, "")
		var list []map[string]any
		if code != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list) != 1 {
			t.Fatalf("list: %d %s", code, b)
		}
		if code, b := e.do(t, "GET", "/api/links", e.other, ""); code != http.StatusOK || string(b) != "[]\n" {
			t.Fatalf("other project's list: %d %s", code, b)
		}
		code, b = e.do(t, "GET", "/api/links?archived=maybe", e.key, "")
		wantLinkError(t, code, b, http.StatusBadRequest, "bad_request", "archived")

		code, b = e.do(t, "PATCH", "/api/links/"+id, e.key, `{"title":"T","geo":null,"password":null}`)
		if l := decodeLink(t, b); code != http.StatusOK || l["title"] != "T" || l["geo"] != nil || l["passwordProtected"] != false {
			t.Fatalf("patch: %d %s", code, b)
		}
		code, b = e.do(t, "PATCH", "/api/links/"+id, e.other, `{"title":"T"}`)
		wantLinkError(t, code, b, http.StatusNotFound, "not_found", "")
		code, b = e.do(t, "PATCH", "/api/links/"+id, e.key, `{"url":null}`)
		wantLinkError(t, code, b, http.StatusUnprocessableEntity, "unprocessable_entity", "url")

		// Upsert: 200 on a match, 201 on a create.
		if code, b := e.do(t, "PUT", "/api/links/upsert", e.key, `{"url":"https://shop.example/y","externalId":"ext-1"}`); code != http.StatusOK || decodeLink(t, b)["id"] != id {
			t.Fatalf("upsert update: %d %s", code, b)
		}
		if code, b := e.do(t, "PUT", "/api/links/upsert", e.key, `{"url":"https://shop.example/z","externalId":"ext-2"}`); code != http.StatusCreated {
			t.Fatalf("upsert create: %d %s", code, b)
		}

		// Bulk.
		code, b = e.do(t, "POST", "/api/links/bulk", e.key, `[{"url":"https://b.example/1"},{"url":"javascript:alert(1)"}]`)
		wantLinkError(t, code, b, http.StatusUnprocessableEntity, "unprocessable_entity", "links[1].url")
		code, b = e.do(t, "POST", "/api/links/bulk", e.key, `[{"url":"https://b.example/1"},{"url":"https://b.example/2"}]`)
		var made []map[string]any
		if code != http.StatusCreated || json.Unmarshal(b, &made) != nil || len(made) != 2 {
			t.Fatalf("bulk create: %d %s", code, b)
		}
		a, c := made[0]["id"].(string), made[1]["id"].(string)
		code, b = e.do(t, "PATCH", "/api/links/bulk", e.key, `{"linkIds":["`+a+`","`+c+`"],"data":{"archived":true}}`)
		if code != http.StatusOK || strings.Count(string(b), `"archived":true`) != 2 {
			t.Fatalf("bulk update: %d %s", code, b)
		}
		code, b = e.do(t, "PATCH", "/api/links/bulk", e.other, `{"linkIds":["`+a+`"],"data":{"archived":false}}`)
		wantLinkError(t, code, b, http.StatusNotFound, "not_found", "")
		if code, b := e.do(t, "DELETE", "/api/links/bulk?linkIds="+a, e.other, ""); code != http.StatusOK || string(b) != `{"deletedCount":0}`+"\n" {
			t.Fatalf("foreign bulk delete: %d %s", code, b)
		}
		if code, b := e.do(t, "DELETE", "/api/links/bulk?linkIds="+a, e.key, ""); code != http.StatusOK || string(b) != `{"deletedCount":1}`+"\n" {
			t.Fatalf("bulk delete by query: %d %s", code, b)
		}
		if code, b := e.do(t, "DELETE", "/api/links/bulk", e.key, `{"linkIds":["`+c+`"]}`); code != http.StatusOK || string(b) != `{"deletedCount":1}`+"\n" {
			t.Fatalf("bulk delete by body: %d %s", code, b)
		}

		code, b = e.do(t, "DELETE", "/api/links/"+id, e.other, "")
		wantLinkError(t, code, b, http.StatusNotFound, "not_found", "")
		if code, b := e.do(t, "DELETE", "/api/links/"+id, e.key, ""); code != http.StatusOK || string(b) != `{"id":"`+id+`"}`+"\n" {
			t.Fatalf("delete: %d %s", code, b)
		}
		code, b = e.do(t, "GET", "/api/links/"+id, e.key, "")
		wantLinkError(t, code, b, http.StatusNotFound, "not_found", "")

		var types []string
		rows, err := st.Read().QueryContext(context.Background(), "SELECT type FROM events")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			types = append(types, s)
		}
		counts := map[string]int{}
		for _, s := range types {
			counts[s]++
		}
		// created: single, upsert, 2 bulk; updated: patch, upsert, 2 bulk; deleted: 2 bulk, single.
		if counts["link.created"] != 4 || counts["link.updated"] != 4 || counts["link.deleted"] != 3 {
			t.Fatalf("events %v", counts)
		}
	})
}

func TestLinkRequestErrors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newLinkEnv(t, st)
		long := strings.Repeat("x", 191)
		cases := []struct {
			name, method, path, key, body string
			status                        int
			code, mention                 string
		}{
			{"no key", "POST", "/api/links", "", `{"url":"https://a.example/"}`, 401, "unauthorized", ""},
			{"bad key", "GET", "/api/links", "codeqr_nope", "", 401, "unauthorized", ""},
			{"missing scope", "POST", "/api/links", e.ro, `{"url":"https://a.example/"}`, 403, "forbidden", "links.write"},
			{"missing scope bulk", "DELETE", "/api/links/bulk?linkIds=x", e.ro, "", 403, "forbidden", "links.write"},
			{"malformed JSON", "POST", "/api/links", e.key, `{"url":`, 400, "bad_request", "JSON"},
			{"wrong type", "POST", "/api/links", e.key, `{"url":42}`, 400, "bad_request", "url"},
			{"wrong type bool", "POST", "/api/links", e.key, `{"url":"https://a.example/","archived":"yes"}`, 400, "bad_request", ""},
			{"wrong type patch", "PATCH", "/api/links/link_x", e.key, `{"title":5}`, 400, "bad_request", ""},
			{"unknown field", "POST", "/api/links", e.key, `{"url":"https://a.example/","clicks":5}`, 400, "bad_request", "clicks"},
			{"unknown field patch", "PATCH", "/api/links/link_x", e.key, `{"passwd":"x"}`, 400, "bad_request", "passwd"},
			{"two values", "POST", "/api/links", e.key, `{"url":"https://a.example/"}{}`, 400, "bad_request", ""},
			{"empty body", "POST", "/api/links", e.key, ``, 400, "bad_request", ""},
			{"array for object", "POST", "/api/links", e.key, `[]`, 400, "bad_request", ""},
			{"javascript url", "POST", "/api/links", e.key, `{"url":"javascript:alert(1)"}`, 422, "unprocessable_entity", "url"},
			{"javascript ios", "POST", "/api/links", e.key, `{"url":"https://a.example/","ios":"javascript:alert(1)"}`, 422, "unprocessable_entity", "ios"},
			{"geo key", "POST", "/api/links", e.key, `{"url":"https://a.example/","geo":{"USA":"https://a.example/"}}`, 422, "unprocessable_entity", "geo"},
			{"geo url", "POST", "/api/links", e.key, `{"url":"https://a.example/","geo":{"US":"ftp://a.example/"}}`, 422, "unprocessable_entity", "geo.US"},
			{"long title", "POST", "/api/links", e.key, `{"url":"https://a.example/","title":"` + long + `"}`, 422, "unprocessable_entity", "title"},
			{"long utm", "POST", "/api/links", e.key, `{"url":"https://a.example/","utm_source":"` + long + `"}`, 422, "unprocessable_entity", "utm_source"},
			{"long comments", "POST", "/api/links", e.key, `{"url":"https://a.example/","comments":"` + strings.Repeat("c", 1001) + `"}`, 422, "unprocessable_entity", "comments"},
			{"long externalId", "POST", "/api/links", e.key, `{"url":"https://a.example/","externalId":"` + strings.Repeat("e", 256) + `"}`, 422, "unprocessable_entity", "externalId"},
			{"NUL title", "POST", "/api/links", e.key, `{"url":"https://a.example/","title":"a\u0000b"}`, 422, "unprocessable_entity", "title"},
			{"bad expiresAt", "POST", "/api/links", e.key, `{"url":"https://a.example/","expiresAt":"tomorrow"}`, 422, "unprocessable_entity", "expiresAt"},
			{"bad key", "POST", "/api/links", e.key, `{"url":"https://a.example/","key":"a/b"}`, 422, "unprocessable_entity", "key"},
			{"unknown domain", "POST", "/api/links", e.key, `{"url":"https://a.example/","domain":"evil.example"}`, 422, "unprocessable_entity", "domain"},
			{"unknown tag", "POST", "/api/links", e.key, `{"url":"https://a.example/","tagIds":["tag_x"]}`, 422, "unprocessable_entity", "tag_x"},
			{"bulk too many", "POST", "/api/links/bulk", e.key, "[" + strings.TrimSuffix(strings.Repeat(`{"url":"https://a.example/"},`, 101), ",") + "]", 422, "unprocessable_entity", "100"},
			{"bulk empty", "POST", "/api/links/bulk", e.key, `[]`, 422, "unprocessable_entity", ""},
			{"bulk patch key", "PATCH", "/api/links/bulk", e.key, `{"linkIds":["link_x"],"data":{"key":"k"}}`, 422, "unprocessable_entity", "key"},
			{"bulk patch unknown field", "PATCH", "/api/links/bulk", e.key, `{"linkIds":["link_x"],"data":{"nope":1}}`, 400, "bad_request", "nope"},
			{"bulk delete no ids", "DELETE", "/api/links/bulk", e.key, "", 400, "bad_request", ""},
			{"unknown id", "GET", "/api/links/link_nope", e.key, "", 404, "not_found", ""},
			{"unknown id delete", "DELETE", "/api/links/link_nope", e.key, "", 404, "not_found", ""},
			{"body too large", "POST", "/api/links", e.key, `{"url":"https://a.example/","title":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, "payload_too_large", ""},
		}
		for _, c := range cases {
			code, b := e.do(t, c.method, c.path, c.key, c.body)
			if code != c.status {
				t.Errorf("%s: status %d, want %d: %.300s", c.name, code, c.status, b)
				continue
			}
			wantLinkError(t, code, b, c.status, c.code, c.mention)
		}
		// A request the server refuses changes nothing.
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM links"); n != 0 {
			t.Fatalf("refused requests wrote %d links", n)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM events"); n != 0 {
			t.Fatalf("refused requests wrote %d events", n)
		}
	})
}

// linkFuzzSeeds are the seed corpus of FuzzLinkCreateRequest.
var linkFuzzSeeds = []string{
	`{"url":"https://a.example/"}`,
	`{"url":"https://a.example/","key":"spring","domain":"go.test","tagNames":["a"],"tagIds":["tag_1"]}`,
	`{"url":"https://a.example/","geo":{"US":"https://us.example/","de":"x"}}`,
	`{"url":"javascript:alert(1)"}`,
	`{"url":"https://a.example/","expiresAt":"2030-01-01T00:00:00Z","password":"pw","title":null}`,
	`{"url":"https://a.example/","expiresAt":"99999-01-01T00:00:00Z"}`,
	`{"url":"http://[::1]:80/","ios":"","android":"https://x"}`,
	`{"url":"https://a.example/","key":"..","utm_source":"\u0000"}`,
	`{"url":"https://a.example/","clicks":1}`,
	`{"url":1}`,
	`[{"url":"https://a.example/"}]`,
	`{"url":"https://a.example/"} {}`,
	`{"title":null,"geo":null,"key":null}`,
	`{"tagIds":null,"archived":null}`,
	`{`,
	``,
	`null`,
	`"x"`,
}

// FuzzLinkCreateRequest feeds arbitrary bodies through the API's decoder and the
// link validation (as create and as update): nothing may panic, and every
// failure must be a client error (4xx), never a 500.
func FuzzLinkCreateRequest(f *testing.F) {
	for _, s := range linkFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var c links.CreateRequest
		if err := api.DecodeJSONBytes(body, &c); err != nil {
			wantClientError(t, body, err)
		} else if err := c.Validate(); err != nil {
			wantClientError(t, body, err)
		}
		var u links.UpdateRequest
		if err := api.DecodeJSONBytes(body, &u); err != nil {
			wantClientError(t, body, err)
		} else if err := u.Validate(); err != nil {
			wantClientError(t, body, err)
		}
	})
}

func wantClientError(t *testing.T, body []byte, err error) {
	t.Helper()
	var ae *api.Error
	if errors.As(err, &ae) {
		if ae.Status < 400 || ae.Status > 499 {
			t.Fatalf("body %q: status %d: %v", body, ae.Status, err)
		}
		return
	}
	switch errs.KindOf(err) {
	case errs.KindInvalid, errs.KindBadInput, errs.KindTooLarge:
	default:
		t.Fatalf("body %q: not a client error: %v", body, err)
	}
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/testkit"
	"github.com/codeqr/codeqr/internal/testserver"
)

type coreEnv struct {
	srv     *httptest.Server
	st      *store.Store
	key     string // all scopes, project p1
	roKey   string // links.read only, project p1
	otherKy string // all scopes, project p2
}

func newCoreEnv(t *testing.T, st *store.Store) *coreEnv {
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
	return &coreEnv{srv: srv, st: st, key: key, roKey: ro, otherKy: other}
}

func (e *coreEnv) do(t *testing.T, method, path, key string, body io.Reader, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
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
	return resp.StatusCode, b
}

func wantError(t *testing.T, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	testkit.WantError(t, status, body, wantStatus, wantCode)
}

func TestAuthAndErrors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newCoreEnv(t, st)
		st2, b := e.do(t, "GET", "/api/tags", "", nil)
		wantError(t, st2, b, 401, "unauthorized")
		st2, b = e.do(t, "GET", "/api/tags", "", nil, "Authorization", "Basic abc")
		wantError(t, st2, b, 401, "unauthorized")
		st2, b = e.do(t, "GET", "/api/tags", "codeqr_wrong", nil)
		wantError(t, st2, b, 401, "unauthorized")
		st2, b = e.do(t, "POST", "/api/tags", e.roKey, strings.NewReader(`{"name":"x"}`))
		wantError(t, st2, b, 403, "forbidden")
		st2, b = e.do(t, "GET", "/api/nothing-here", e.key, nil)
		wantError(t, st2, b, 404, "not_found")
		st2, b = e.do(t, "POST", "/api/tags", e.key, strings.NewReader(`{"name":`))
		wantError(t, st2, b, 400, "bad_request")
		st2, b = e.do(t, "POST", "/api/tags", e.key, strings.NewReader(`{"name":5}`))
		wantError(t, st2, b, 400, "bad_request")
		st2, b = e.do(t, "POST", "/api/tags", e.key, strings.NewReader(`{"name":"a","colour":"red"}`))
		wantError(t, st2, b, 400, "bad_request")
		st2, b = e.do(t, "POST", "/api/tags", e.key, strings.NewReader(`{"name":"a"} {"name":"b"}`))
		wantError(t, st2, b, 400, "bad_request")
		big := `{"name":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}`
		st2, b = e.do(t, "POST", "/api/tags", e.key, strings.NewReader(big))
		wantError(t, st2, b, 413, "payload_too_large")
		st2, b = e.do(t, "POST", "/api/tags", e.key, strings.NewReader(`{"name":"a","color":"ultraviolet"}`))
		wantError(t, st2, b, 422, "unprocessable_entity")
		// Nothing above wrote a tag.
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM tags"); n != 0 {
			t.Fatalf("rejected requests wrote %d tags", n)
		}
	})
}

func TestTagsAreProjectScoped(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newCoreEnv(t, st)
		code, b := e.do(t, "POST", "/api/tags", e.key, strings.NewReader(`{"name":"spring","color":"green"}`))
		if code != 201 {
			t.Fatalf("create tag: %d %s", code, b)
		}
		var tag tags.Tag
		_ = json.Unmarshal(b, &tag)
		code, b = e.do(t, "POST", "/api/tags", e.key, strings.NewReader(`{"name":"spring"}`))
		wantError(t, code, b, 409, "conflict")
		code, b = e.do(t, "PATCH", "/api/tags/"+tag.ID, e.otherKy, strings.NewReader(`{"name":"x"}`))
		wantError(t, code, b, 404, "not_found")
		code, b = e.do(t, "DELETE", "/api/tags/"+tag.ID, e.otherKy, nil)
		wantError(t, code, b, 404, "not_found")
		code, b = e.do(t, "GET", "/api/tags", e.otherKy, nil)
		if code != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Fatalf("other project sees tags: %d %s", code, b)
		}
		code, b = e.do(t, "PATCH", "/api/tags/"+tag.ID, e.key, strings.NewReader(`{"color":"red"}`))
		if code != 200 || !bytes.Contains(b, []byte(`"red"`)) {
			t.Fatalf("update: %d %s", code, b)
		}
		code, _ = e.do(t, "DELETE", "/api/tags/"+tag.ID, e.key, nil)
		if code != 200 {
			t.Fatalf("delete: %d", code)
		}
	})
}

func TestProjectCurrentAndHealth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newCoreEnv(t, st)
		code, b := e.do(t, "GET", "/healthz", "", nil)
		if code != 200 {
			t.Fatalf("healthz %d %s", code, b)
		}
		code, b = e.do(t, "GET", "/readyz", "", nil)
		if code != 200 {
			t.Fatalf("readyz %d %s", code, b)
		}
		code, b = e.do(t, "PATCH", "/api/projects/current", e.key, strings.NewReader(`{"name":"Acme","ownerEmail":"ops@acme.test"}`))
		if code != 200 || !bytes.Contains(b, []byte(`"ownerEmail":"ops@acme.test"`)) {
			t.Fatalf("patch project: %d %s", code, b)
		}
		code, b = e.do(t, "PATCH", "/api/projects/current", e.key, strings.NewReader(`{"slug":"p2"}`))
		wantError(t, code, b, 409, "conflict")
		code, b = e.do(t, "PATCH", "/api/projects/current", e.key, strings.NewReader(`{"ownerEmail":"nope"}`))
		wantError(t, code, b, 422, "unprocessable_entity")
		code, b = e.do(t, "GET", "/api/projects/current", e.otherKy, nil)
		if code != 200 || !bytes.Contains(b, []byte(`"slug":"p2"`)) {
			t.Fatalf("other project: %d %s", code, b)
		}
	})
}

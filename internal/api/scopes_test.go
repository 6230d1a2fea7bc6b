package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testserver"
)

// documentedPublic are the routes that take no key, as docs/api-keys.md lists
// them. A new route without a scope fails TestEveryRouteHasAScope until it is
// given one or documented here and there as public.
var documentedPublic = []string{
	"GET /healthz", "GET /readyz", "GET /metrics",
	"GET /api/qr", "GET /api/openapi.json", "GET /api/docs", "/api/",
	"POST /p/{slug}", "GET /p/{slug}", "GET /{key}", "POST /{key}", "/app/", "GET /{$}",
}

func TestEveryRouteHasAScope(t *testing.T) {
	t.Parallel()
	// Every optional handler set, so that conditional routes are in the table.
	h := http.NotFoundHandler()
	routes := api.New(api.Deps{PageForms: h, PageViews: h, Public: h, Dashboard: h}).Routes()
	if len(routes) < 60 {
		t.Fatalf("only %d routes in the table", len(routes))
	}
	doc, err := os.ReadFile("../../docs/api-keys.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range routes {
		if seen[r.Pattern] {
			t.Errorf("%s routed twice", r.Pattern)
		}
		seen[r.Pattern] = true
		if r.Public {
			if !slices.Contains(documentedPublic, r.Pattern) {
				t.Errorf("%s is public but not documented as public", r.Pattern)
			}
			if !strings.Contains(string(doc), "`"+r.Pattern+"`") {
				t.Errorf("docs/api-keys.md does not list the public route %s", r.Pattern)
			}
			continue
		}
		if r.Scope == "" {
			t.Errorf("%s has no scope", r.Pattern)
		} else if !slices.Contains(projects.AllScopes(), r.Scope) {
			t.Errorf("%s needs scope %q, which no key can hold", r.Pattern, r.Scope)
		}
	}
	for _, sc := range projects.AllScopes() {
		if !strings.Contains(string(doc), "`"+sc+"`") {
			t.Errorf("docs/api-keys.md does not explain scope %s", sc)
		}
	}
}

func TestProjectNeedsProjectsWrite(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newCoreEnv(t, st)
		code, b := e.do(t, "PATCH", "/api/projects/current", e.roKey, strings.NewReader(`{"ownerEmail":"evil@attacker.test"}`))
		wantError(t, code, b, 403, "forbidden")
		code, b = e.do(t, "GET", "/api/projects/current", e.roKey, nil)
		wantError(t, code, b, 403, "forbidden")
		code, b = e.do(t, "PATCH", "/api/projects/current", e.key, strings.NewReader(`{"ownerEmail":"ops@acme.test"}`))
		if code != 200 {
			t.Fatalf("patch: %d %s", code, b)
		}
		var patched, got projects.Project
		_ = json.Unmarshal(b, &patched)
		code, b = e.do(t, "PATCH", "/api/projects/current", e.key, strings.NewReader(`{"ownerEmail":null}`))
		if code != 200 || !strings.Contains(string(b), `"ownerEmail":null`) {
			t.Fatalf("null ownerEmail: %d %s", code, b)
		}
		var cleared projects.Project
		_ = json.Unmarshal(b, &cleared)
		code, b = e.do(t, "GET", "/api/projects/current", e.key, nil)
		_ = json.Unmarshal(b, &got)
		if code != 200 || got.OwnerEmail != nil {
			t.Fatalf("ownerEmail not cleared: %d %s", code, b)
		}
		// PATCH and GET answer the same instant with the same precision.
		if !got.UpdatedAt.Equal(cleared.UpdatedAt) || got.UpdatedAt.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("PATCH updatedAt %v, GET %v", cleared.UpdatedAt, got.UpdatedAt)
		}
		code, b = e.do(t, "PATCH", "/api/projects/current", e.key, strings.NewReader(`{"name":null}`))
		wantError(t, code, b, 422, "unprocessable_entity")
	})
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newCoreEnv(t, st)
		for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
			code, b := e.do(t, "GET", "/api/tags", "", nil, "Authorization", scheme+" "+e.key)
			if code != 200 {
				t.Fatalf("%s: %d %s", scheme, code, b)
			}
		}
		for _, bad := range []string{"Bearer", "Bearer ", "Bearer" + e.key, "Basic " + e.key, "Bearerx " + e.key} {
			code, b := e.do(t, "GET", "/api/tags", "", nil, "Authorization", bad)
			wantError(t, code, b, 401, "unauthorized")
		}
	})
}

func TestKeysAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newCoreEnv(t, st)
		// A second node on the same database: its own API and services.
		node2 := newCoreEnvWithKeys(t, st, e)

		code, b := e.do(t, "GET", "/api/keys", e.roKey, nil)
		wantError(t, code, b, 403, "forbidden")
		code, b = e.do(t, "POST", "/api/keys", e.key, strings.NewReader(`{"name":"ci","scopes":["links.read"],"expiresAt":"2000-01-01T00:00:00Z"}`))
		wantError(t, code, b, 422, "unprocessable_entity")
		code, b = e.do(t, "POST", "/api/keys", e.key, strings.NewReader(`{"name":"ci","scopes":["links.nope"]}`))
		wantError(t, code, b, 422, "unprocessable_entity")
		code, b = e.do(t, "POST", "/api/keys", e.key, strings.NewReader(`{"name":"ci","scopes":["links.read","tags.read"],"secret":"x"}`))
		wantError(t, code, b, 400, "bad_request")
		before := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM api_keys")

		exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Millisecond)
		code, b = e.do(t, "POST", "/api/keys", e.key, strings.NewReader(`{"name":"ci","scopes":["links.read"],"expiresAt":"`+exp.Format(time.RFC3339Nano)+`"}`))
		if code != 201 {
			t.Fatalf("create: %d %s", code, b)
		}
		var created projects.CreatedKey
		_ = json.Unmarshal(b, &created)
		if !strings.HasPrefix(created.Key, "codeqr_") || created.ExpiresAt == nil || !created.ExpiresAt.Equal(exp) {
			t.Fatalf("created %s", b)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM api_keys"); n != before+1 {
			t.Fatalf("%d keys, want %d", n, before+1)
		}
		code, b = e.do(t, "GET", "/api/tags", created.Key, nil)
		if code != 200 {
			t.Fatalf("new key refused: %d %s", code, b)
		}
		code, b = e.do(t, "POST", "/api/tags", created.Key, strings.NewReader(`{"name":"x"}`))
		wantError(t, code, b, 403, "forbidden")
		// The list never carries a secret; other projects' keys are not listed.
		code, b = e.do(t, "GET", "/api/keys", e.key, nil)
		if code != 200 || strings.Contains(string(b), created.Key) || strings.Contains(string(b), `"key"`) {
			t.Fatalf("list: %d %s", code, b)
		}
		var list []projects.KeyInfo
		_ = json.Unmarshal(b, &list)
		if len(list) != 3 || list[0].ID != created.ID {
			t.Fatalf("list: %s", b)
		}
		code, b = e.do(t, "DELETE", "/api/keys/"+created.ID, e.otherKy, nil)
		wantError(t, code, b, 404, "not_found")

		// Revoked on node 1: node 2 refuses it on the very next request.
		code, b = node2.do(t, "GET", "/api/tags", created.Key, nil)
		if code != 200 {
			t.Fatalf("node 2 before revoke: %d %s", code, b)
		}
		code, b = e.do(t, "DELETE", "/api/keys/"+created.ID, e.key, nil)
		if code != 200 || !strings.Contains(string(b), `"revokedAt":"`) {
			t.Fatalf("revoke: %d %s", code, b)
		}
		code, b = node2.do(t, "GET", "/api/tags", created.Key, nil)
		wantError(t, code, b, 401, "unauthorized")
		if !strings.Contains(string(b), "revoked") {
			t.Fatalf("refusal does not say why: %s", b)
		}
		code, b = e.do(t, "GET", "/api/tags", created.Key, nil)
		wantError(t, code, b, 401, "unauthorized")
	})
}

// newCoreEnvWithKeys is a second node: an application of its own (its own
// services and caches) on the same store, used with e's keys.
func newCoreEnvWithKeys(t *testing.T, st *store.Store, e *coreEnv) *coreEnv {
	t.Helper()
	_, srv := testserver.Run(t, st, config.Config{BaseURL: "https://go.test"}.WithDefaults(), app.Options{})
	return &coreEnv{srv: srv, st: st, key: e.key, roKey: e.roKey, otherKy: e.otherKy}
}

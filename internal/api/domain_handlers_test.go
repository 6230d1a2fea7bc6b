package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/domains"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

func TestDomains(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newPgEnv(t, st)

		created := e.must(http.StatusCreated, "POST", "/api/domains", `{"slug": " Links.Example.COM. "}`)
		m := asMap(t, created)
		if got := keysOf(m); !slices.Equal(got, []string{"appleAppSiteAssociation", "archived", "assetLinks", "createdAt", "expiredUrl",
			"id", "logo", "notFoundUrl", "placeholder", "primary", "registeredDomain", "slug", "updatedAt", "verified"}) {
			t.Fatalf("domain keys %v", got)
		}
		var d domains.Domain
		if err := json.Unmarshal(created, &d); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(d.ID, "dom_") || d.Slug != "links.example.com" || d.CreatedAt.IsZero() {
			t.Fatalf("domain %s", created)
		}
		second := e.must(http.StatusCreated, "POST", "/api/domains", `{"slug": "a-b.c1.example.org"}`)
		var d2 domains.Domain
		if err := json.Unmarshal(second, &d2); err != nil {
			t.Fatal(err)
		}

		// Unique across the server.
		e.wantError(e.must(409, "POST", "/api/domains", `{"slug": "links.example.com"}`), "conflict")
		status, b := e.do(e.otherKey, "POST", "/api/domains", `{"slug": "LINKS.example.com"}`)
		if status != 409 {
			t.Fatalf("other project added a taken domain: %d %s", status, b)
		}

		// Validation.
		for _, body := range []string{
			`{}`, `{"slug": ""}`, `{"slug": "localhost"}`, `{"slug": "a..b.com"}`, `{"slug": "-a.com"}`, `{"slug": "a-.com"}`,
			`{"slug": "a_b.com"}`, `{"slug": "exa mple.com"}`, `{"slug": "https://a.com"}`, `{"slug": "a.com/x"}`, `{"slug": "a.com:0"}`, `{"slug": "a.com:99999"}`, `{"slug": "a.com:"}`,
			`{"slug": "é.com"}`, `{"slug": "` + strings.Repeat("a", 64) + `.com"}`,
			`{"slug": "` + strings.Repeat(strings.Repeat("a", 62)+".", 4) + `com"}`,
			// The server's own base domain, with or without a port.
			`{"slug": "go.example.com"}`, `{"slug": "GO.example.com"}`, `{"slug": "go.example.com:8080"}`,
			`{"slug": "x.com", "assetLinks": "{}"}`, `{"slug": "x.com", "expiredUrl": "javascript:alert(1)"}`,
		} {
			e.wantError(e.must(422, "POST", "/api/domains", body), "unprocessable_entity")
		}
		e.wantError(e.must(400, "POST", "/api/domains", `{"slug": "x.com", "verified": true}`), "bad_request")
		// A domain reached on a port of its own.
		withPort := asMap(t, e.must(201, "POST", "/api/domains", `{"slug": "dev.example.net:8443", "archived": true, "notFoundUrl": "https://example.net/404"}`))
		if withPort["slug"] != "dev.example.net:8443" || withPort["archived"] != true || withPort["notFoundUrl"] != "https://example.net/404" ||
			withPort["verified"] != true || withPort["registeredDomain"] != nil {
			t.Fatalf("domain with port %v", withPort)
		}
		// Longest valid: 253 characters.
		max := strings.Repeat(strings.Repeat("a", 62)+".", 3) + strings.Repeat("b", 60) + ".com"
		if len(max) != 253 {
			t.Fatalf("test name has %d characters", len(max))
		}
		e.must(201, "POST", "/api/domains", `{"slug": "`+max+`"}`)

		// List: the project's own, oldest first, paged.
		var list []domains.Domain
		if err := json.Unmarshal(e.must(200, "GET", "/api/domains", ""), &list); err != nil {
			t.Fatal(err)
		}
		// Archived domains are listed with archived=true only (Dub's default).
		var archived []domains.Domain
		if err := json.Unmarshal(e.must(200, "GET", "/api/domains?archived=true", ""), &archived); err != nil {
			t.Fatal(err)
		}
		if len(archived) != 1 || archived[0].Slug != "dev.example.net:8443" {
			t.Fatalf("archived list %+v", archived)
		}
		// Update by slug: fields set, absent ones kept, null clears.
		up := asMap(t, e.must(200, "PATCH", "/api/domains/dev.example.net:8443", `{"archived": false, "expiredUrl": "https://example.net/gone"}`))
		if up["archived"] != false || up["expiredUrl"] != "https://example.net/gone" || up["notFoundUrl"] != "https://example.net/404" {
			t.Fatalf("update %v", up)
		}
		up = asMap(t, e.must(200, "PATCH", "/api/domains/"+up["id"].(string), `{"notFoundUrl": null}`))
		if up["notFoundUrl"] != nil || up["expiredUrl"] != "https://example.net/gone" {
			t.Fatalf("update by id %v", up)
		}
		e.wantError(e.must(422, "PATCH", "/api/domains/dev.example.net:8443", `{"slug": "go.example.com"}`), "unprocessable_entity")
		e.wantError(e.must(404, "PATCH", "/api/domains/nope.example.com", `{"archived": true}`), "not_found")
		if status, b := e.do(e.otherKey, "PATCH", "/api/domains/dev.example.net:8443", `{"archived": true}`); status != 404 {
			t.Fatalf("foreign update: %d %s", status, b)
		}
		del0 := asMap(t, e.must(200, "DELETE", "/api/domains/dev.example.net:8443", ""))
		if del0["slug"] != "dev.example.net:8443" {
			t.Fatalf("delete by slug %v", del0)
		}
		if len(list) != 3 || list[0].ID != d.ID || list[1].ID != d2.ID || list[0].Slug != d.Slug || !list[0].CreatedAt.Equal(d.CreatedAt) {
			t.Fatalf("list %+v", list)
		}
		if err := json.Unmarshal(e.must(200, "GET", "/api/domains?page=2&pageSize=1", ""), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != d2.ID {
			t.Fatalf("page 2 %+v", list)
		}
		if _, b := e.do(e.otherKey, "GET", "/api/domains", ""); compact(t, b) != "[]" {
			t.Fatalf("other project lists %s", b)
		}

		// Another project cannot delete it.
		if status, b := e.do(e.otherKey, "DELETE", "/api/domains/"+d.ID, ""); status != 404 {
			t.Fatalf("foreign delete: %d %s", status, b)
		}

		// A domain with a link or QR code on it cannot be deleted.
		write := func(query string, args ...any) {
			t.Helper()
			if err := st.InTx(context.Background(), func(tx *store.Tx) error {
				_, err := tx.ExecContext(context.Background(), query, args...)
				return err
			}); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		write("INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ($1, $2, $3, $4, $5)",
			"links.example.com", "abc", e.projectID, "link", "link_x")
		write("INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ($1, $2, $3, $4, $5)",
			"links.example.com", "def", e.projectID, "qrcode", "qr_x")
		msg := e.wantError(e.must(409, "DELETE", "/api/domains/"+d.ID, ""), "conflict")
		if !strings.Contains(msg, "2") {
			t.Fatalf("conflict message %q", msg)
		}
		write("DELETE FROM short_keys WHERE domain = $1 AND key = $2", "links.example.com", "abc")
		e.wantError(e.must(409, "DELETE", "/api/domains/"+d.ID, ""), "conflict")
		write("DELETE FROM short_keys WHERE domain = $1", "links.example.com")

		del := asMap(t, e.must(200, "DELETE", "/api/domains/"+d.ID, ""))
		if del["id"] != d.ID || del["slug"] != d.Slug || len(del) != 2 {
			t.Fatalf("delete body %v", del)
		}
		e.wantError(e.must(404, "DELETE", "/api/domains/"+d.ID, ""), "not_found")
		// Free again, for any project.
		if status, b := e.do(e.otherKey, "POST", "/api/domains", `{"slug": "links.example.com"}`); status != 201 {
			t.Fatalf("re-add by another project: %d %s", status, b)
		}
		if n := storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM domains"); n != 3 {
			t.Fatalf("%d domains", n)
		}
	})
}

func TestDomainsBaseDomainWithPort(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		svc := domains.NewService(st, nil)
		ctx := context.Background()
		_, err := svc.Create(ctx, "proj_x", "Short.example.com:8443", domains.CreateRequest{Slug: "short.example.com"})
		if err == nil || !strings.Contains(err.Error(), "server's own domain") {
			t.Fatalf("base domain with port: %v", err)
		}
	})
}

package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/accounts"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// apiStatus is the status of GET /api/links with key.
func apiStatus(t *testing.T, e *env, key string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/api/links", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var newKeyRE = regexp.MustCompile(`id="newkey" readonly value="([^"]+)"`)

// keyRow is the list row of the key with this id.
func keyRowOf(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `data-key="`+id+`"`)
	if i < 0 {
		t.Fatalf("key %s not listed\n%s", id, body)
	}
	row := body[i:]
	return row[:strings.Index(row, "</tr>")]
}

func TestAPIKeysScreen(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		b := e.login("one@test.example")

		// Create: shown once, with the chosen scopes and expiry.
		must(t, b.post("/app/settings/keys", url.Values{"name": {"old"}, "scopes": {"links.read"}, "expiresAt": {"2001-01-01T00:00"}}),
			http.StatusUnprocessableEntity, `id="e-expiresAt"`, "expiresAt must be in the future")
		must(t, b.post("/app/settings/keys", url.Values{"name": {""}, "scopes": {"links.read"}}), http.StatusUnprocessableEntity, `id="e-k-name"`)
		p := b.post("/app/settings/keys", url.Values{"name": {"ci"}, "scopes": {"links.read"}, "expiresAt": {"2099-05-01T10:30"}})
		must(t, p, http.StatusOK, "shown once")
		m := newKeyRE.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no new key shown\n%s", p.Body)
		}
		secret := m[1]
		keys, err := e.Projects.ListKeys(ctx, e.P1.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ci projects.KeyInfo
		for _, k := range keys {
			if k.Name == "ci" {
				ci = k
			}
		}
		if ci.ID == "" || strings.Join(ci.Scopes, " ") != "links.read" || ci.ExpiresAt == nil ||
			!ci.ExpiresAt.Equal(time.Date(2099, 5, 1, 10, 30, 0, 0, time.UTC)) {
			t.Fatalf("created key: %+v", ci)
		}

		// The list: never used, its expiry, active; the secret is never shown again.
		p = b.get("/app/settings")
		if strings.Contains(p.Body, secret) {
			t.Fatal("the API key is shown again after its creation")
		}
		row := keyRowOf(t, p.Body, ci.ID)
		for _, want := range []string{"ci", ci.Start, "links.read", "2099-05-01 10:30 UTC", "never", "Active", "Revoke"} {
			if !strings.Contains(row, want) {
				t.Fatalf("key row lacks %q: %s", want, row)
			}
		}
		// A use shows as its last use.
		if s := apiStatus(t, e, secret); s != http.StatusOK {
			t.Fatalf("new key: %d", s)
		}
		waitFor(t, func() bool {
			return !strings.Contains(keyRowOf(t, b.get("/app/settings").Body, ci.ID), "<td>never</td>")
		})

		// Another project's key: 404, and it keeps working.
		p2keys, err := e.Projects.ListKeys(ctx, e.P2.ID)
		if err != nil || len(p2keys) == 0 {
			t.Fatal(err, p2keys)
		}
		must(t, b.post("/app/settings/keys/"+p2keys[0].ID+"/revoke", url.Values{}), http.StatusNotFound)
		if k, _ := e.Projects.ListKeys(ctx, e.P2.ID); k[0].RevokedAt != nil {
			t.Fatal("user one revoked project two's key")
		}
		// Without the CSRF token nothing is revoked.
		must(t, b.post("/app/settings/keys/"+ci.ID+"/revoke", url.Values{"csrf": {"wrong"}}), http.StatusForbidden)
		if s := apiStatus(t, e, secret); s != http.StatusOK {
			t.Fatalf("key after a refused revocation: %d", s)
		}

		// Revoke: the page asks first; /api refuses the key at once.
		if !strings.Contains(p.Body, `action="/app/settings/keys/`+ci.ID+`/revoke" class="inline" data-confirm="Revoke the API key ci?`) {
			t.Fatal("revoking does not ask first")
		}
		p = b.post("/app/settings/keys/"+ci.ID+"/revoke", url.Values{})
		if p.Status != http.StatusSeeOther || p.Location != "/app/settings?done=key-revoked" {
			t.Fatalf("revoke: %d %q\n%s", p.Status, p.Location, p.Body)
		}
		if s := apiStatus(t, e, secret); s != http.StatusUnauthorized {
			t.Fatalf("revoked key answered %d, want 401", s)
		}
		p = b.get("/app/settings?done=key-revoked")
		must(t, p, http.StatusOK, "API key revoked")
		row = keyRowOf(t, p.Body, ci.ID)
		if !strings.Contains(row, "Revoked ") || strings.Contains(row, "/revoke") {
			t.Fatalf("revoked key row: %s", row)
		}
		if s := apiStatus(t, e, e.Key1); s != http.StatusOK {
			t.Fatalf("the other key of the project stopped working: %d", s)
		}
	})
}

func TestMemberRoles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st)
		ctx := context.Background()
		one, two := mustUser(t, e, "one@test.example"), mustUser(t, e, "two@test.example")
		b := e.login("one@test.example")
		must(t, b.post("/app/settings/members", url.Values{"email": {"two@test.example"}, "role": {"member"}}), http.StatusSeeOther)
		p := b.get("/app/settings")
		must(t, p, http.StatusOK, `action="/app/settings/members/`+two+`/role"`, "Make owner")

		// The only owner cannot become a member.
		must(t, b.post("/app/settings/members/"+one+"/role", url.Values{"role": {"member"}}), http.StatusUnprocessableEntity, "last owner")
		must(t, b.post("/app/settings/members/"+two+"/role", url.Values{"role": {"admin"}}), http.StatusUnprocessableEntity, "role must be owner or member")
		// A member cannot change roles.
		tb := e.login("two@test.example")
		must(t, tb.post("/app/projects/switch", url.Values{"project": {e.P1.ID}}), http.StatusSeeOther)
		must(t, tb.post("/app/settings/members/"+two+"/role", url.Values{"role": {"owner"}}), http.StatusForbidden, "only an owner")
		// Foreign user ids: 404.
		must(t, b.post("/app/settings/members/usr_nobody/role", url.Values{"role": {"owner"}}), http.StatusNotFound)

		if p := b.post("/app/settings/members/"+two+"/role", url.Values{"role": {"owner"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("make owner: %d\n%s", p.Status, p.Body)
		}
		// Now two is an owner and demotes one; one can no longer manage members.
		if p := tb.post("/app/settings/members/"+one+"/role", url.Values{"role": {"member"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("make member: %d\n%s", p.Status, p.Body)
		}
		must(t, b.post("/app/settings/members/"+two+"/role", url.Values{"role": {"member"}}), http.StatusForbidden)
		must(t, tb.post("/app/settings/members/"+two+"/role", url.Values{"role": {"member"}}), http.StatusUnprocessableEntity, "last owner")
		roles := map[string]string{}
		ms, err := e.Accounts.Members(ctx, e.P1.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			roles[m.Email] = m.Role
		}
		if roles["one@test.example"] != accounts.RoleMember || roles["two@test.example"] != accounts.RoleOwner {
			t.Fatalf("roles: %v", roles)
		}
		// Project two is untouched: two is still its owner.
		if ms, _ := e.Accounts.Members(ctx, e.P2.ID); len(ms) != 1 || ms[0].Role != accounts.RoleOwner {
			t.Fatalf("project two: %+v", ms)
		}

		// Two owners demoting each other at once: one of them stays owner.
		if err := e.Accounts.SetRole(ctx, e.P1.ID, one, accounts.RoleOwner); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, id := range []string{one, two} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = e.Accounts.SetRole(ctx, e.P1.ID, id, accounts.RoleMember)
			}()
		}
		wg.Wait()
		ms, err = e.Accounts.Members(ctx, e.P1.ID)
		if err != nil {
			t.Fatal(err)
		}
		owners := 0
		for _, m := range ms {
			if m.Role == accounts.RoleOwner {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("after concurrent demotions %d owners: %+v", owners, ms)
		}
	})
}

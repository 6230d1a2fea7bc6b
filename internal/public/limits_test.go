package public_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/public"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// Password attempts are limited per client address and link: the fourth of
// three allowed gets 429 with Retry-After, even with the right password;
// another address and another link are not affected.
func TestPasswordAttemptsAreRateLimited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{pwLimit: 3})
		e.insertLink(t, linkOpts{key: "vault", password: "hunter2", url: "https://example.com/private"})
		e.insertLink(t, linkOpts{key: "vault2", password: "hunter2", url: "https://example.com/other"})
		const a, b = "198.51.100.7", "203.0.113.9"
		for i := range 3 {
			resp, _ := e.do(t, "/vault", reqOpts{method: http.MethodPost, body: "password=guess" + strconv.Itoa(i), xff: a})
			wantStatus(t, resp, http.StatusUnauthorized)
		}
		resp, body := e.do(t, "/vault", reqOpts{method: http.MethodPost, body: "password=hunter2", xff: a})
		wantStatus(t, resp, http.StatusTooManyRequests)
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 20 {
			t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		if !strings.Contains(body, "Too many attempts") {
			t.Fatalf("429 page: %s", body)
		}
		resp, _ = e.do(t, "/vault", reqOpts{method: http.MethodPost, body: "password=hunter2", xff: b})
		wantLocation(t, resp, "https://example.com/private")
		resp, _ = e.do(t, "/vault2", reqOpts{method: http.MethodPost, body: "password=hunter2", xff: a})
		wantLocation(t, resp, "https://example.com/other")
		// Showing the form (GET) is not an attempt.
		resp, _ = e.do(t, "/vault", reqOpts{xff: a})
		wantStatus(t, resp, http.StatusOK)
	})
}

func TestPasswordBodyIsBounded(t *testing.T) {
	t.Parallel()
	st := storetest.New(t, "sqlite")
	e := newEnv(t, st, envOpts{})
	e.insertLink(t, linkOpts{key: "vault", password: "hunter2"})
	resp, _ := e.do(t, "/vault", reqOpts{method: http.MethodPost, body: "password=" + strings.Repeat("a", 10*public.MaxPasswordBody)})
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
}

// Form posts are limited per client address: past the limit a post gets 429
// with Retry-After and records nothing; another address still gets through.
func TestFormPostsAreRateLimited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, envOpts{flush: time.Hour, formLimit: 2})
		e.page(t, formPage)
		for i := range 2 {
			form := url.Values{"name": {"Jane"}, "email": {"jane" + strconv.Itoa(i) + "@example.com"}}
			if resp, body := e.submit(t, "join", form, nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("post %d: %d %s", i+1, resp.StatusCode, body)
			}
		}
		form := url.Values{"name": {"Jane"}, "email": {"late@example.com"}}
		resp, body := e.submit(t, "join", form, map[string]string{"Accept": "application/json"})
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"rate_limit_exceeded"`) {
			t.Fatalf("third post: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM leads"); n != 2 {
			t.Fatalf("%d leads, want 2", n)
		}
		if resp, body := e.submit(t, "join", form, map[string]string{"X-Forwarded-For": "9.9.9.9"}); resp.StatusCode != http.StatusOK {
			t.Fatalf("another address: %d %s", resp.StatusCode, body)
		}
	})
}

package redirects_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/redirects"
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
	resp, _ := e.do(t, "/vault", reqOpts{method: http.MethodPost, body: "password=" + strings.Repeat("a", 10*redirects.MaxPasswordBody)})
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
}

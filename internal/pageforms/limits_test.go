package pageforms_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
)

// Form posts are limited per client address: past the limit a post gets 429
// with Retry-After and records nothing; another address still gets through.
func TestFormPostsAreRateLimited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnvWith(t, st, config.Config{BaseURL: "http://" + domain, FormRateLimit: 2,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
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

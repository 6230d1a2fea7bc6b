package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

var keyRE = regexp.MustCompile(`^codeqr_[0-9A-Za-z]+$`)

// The process lifecycle an operator sees: first start prints a key, health and
// readiness answer, keys made by the CLI beside a running server work, bad keys
// are refused, SIGTERM exits 0, and a restart on the same data keeps everything.
func TestServeLifecycle(t *testing.T) {
	t.Parallel()
	storetest.EachURL(t, func(t *testing.T, databaseURL, dataDir string) {
		t.Parallel()
		srv := startServer(t, databaseURL, dataDir)
		if !keyRE.MatchString(srv.firstKey) {
			t.Fatalf("first start printed no key; stdout:\n%s", srv.stdout.String())
		}
		anon := srv.client("")
		anon.must(http.MethodGet, "/healthz", nil, http.StatusOK)
		if got := anon.must(http.MethodGet, "/readyz", nil, http.StatusOK).str("status"); got != "ready" {
			t.Fatalf("readyz status %q", got)
		}
		if code := anon.must(http.MethodGet, "/api/projects/current", nil, http.StatusUnauthorized).str("error", "code"); code != "unauthorized" {
			t.Fatalf("no key: code %q", code)
		}
		srv.client("codeqr_nope").must(http.MethodGet, "/api/projects/current", nil, http.StatusUnauthorized)

		if slug := srv.client(srv.firstKey).must(http.MethodGet, "/api/projects/current", nil, http.StatusOK).str("slug"); slug != "default" {
			t.Fatalf("first key's project slug %q", slug)
		}
		key := srv.createKey("e2e") // while serve runs
		if slug := srv.client(key).must(http.MethodGet, "/api/projects/current", nil, http.StatusOK).str("slug"); slug != "e2e" {
			t.Fatalf("CLI key's project slug %q", slug)
		}

		if err := srv.stop(); err != nil {
			t.Fatalf("SIGTERM: exit %v, want 0", err)
		}
		srv.restart()
		if strings.Contains(srv.stdout.String(), "Created project") {
			t.Fatalf("restart created the default project again:\n%s", srv.stdout.String())
		}
		srv.client(key).must(http.MethodGet, "/api/projects/current", nil, http.StatusOK)
		srv.client(srv.firstKey).must(http.MethodGet, "/api/projects/current", nil, http.StatusOK)
	})
}

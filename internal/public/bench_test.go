package public_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// BenchmarkRedirect measures the redirect handler in process (no network): a
// cached link, full enrichment, the interaction handed to the running pipeline,
// and the 302 written.
func BenchmarkRedirect(b *testing.B) {
	e := newEnv(b, storetest.New(b, "sqlite"), envOpts{dedupe: -1})
	e.insertLink(b, linkOpts{key: "bench", url: "https://example.com/landing"})
	h := e.srv.Config.Handler
	req := httptest.NewRequest(http.MethodGet, "/bench", nil)
	req.Host = domain
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
	req.Header.Set("X-Forwarded-For", "8.8.8.8")
	req.RemoteAddr = "127.0.0.1:5555"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusFound {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

package api_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestAccessLog(t *testing.T) {
	t.Parallel()
	st := storetest.New(t, "sqlite")
	e := newCoreEnv(t, st)
	var logs syncBuffer
	cfg := config.Config{BaseURL: "https://go.test", AccessLog: true}.WithDefaults()
	s := api.New(api.Deps{Config: cfg, Store: st, Projects: projects.NewService(st, nil), Tags: tags.NewService(st, nil),
		QRCodes: qrcodes.NewService(st, nil, nil, cfg, nil, nil), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Public: http.NotFoundHandler()})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e.srv = srv
	secret := "codeqr_" + strings.Repeat("S", 32)
	e.do(t, "GET", "/api/qr?url=hello&logo=https://user:hunter2@logo.example/l.png", "", nil)
	e.do(t, "GET", "/api/tags?search=private", e.key, nil)
	e.do(t, "GET", "/"+secret, "", nil)
	e.do(t, "GET", "/api/nothing/whsec_abc", e.key, nil)
	out := logs.String()
	for _, want := range []string{
		"method=GET path=/api/qr status=200",
		"path=/api/tags status=200",
		"path=/REDACTED status=404",
		"path=/api/nothing/REDACTED status=404",
		"duration=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %q:\n%s", want, out)
		}
	}
	for _, never := range []string{"hunter2", "search=private", secret, "whsec_abc", e.key, "logo="} {
		if strings.Contains(out, never) {
			t.Errorf("access log shows %q:\n%s", never, out)
		}
	}
}

func FuzzRedactPath(f *testing.F) {
	for _, s := range []string{"/", "/api/links/x", "/codeqr_abc", "/a/WHSEC_x/b", strings.Repeat("/a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		out := api.RedactPath(p)
		low := strings.ToLower(out)
		if strings.Contains(low, "codeqr_") || strings.Contains(low, "whsec_") {
			t.Fatalf("RedactPath(%q) = %q keeps a secret", p, out)
		}
		if len(out) > 256+len("…") {
			t.Fatalf("RedactPath(%q) is %d bytes", p, len(out))
		}
	})
}

package api_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
)

func limitedEnv(t *testing.T, st *store.Store, cfg config.Config) *coreEnv {
	t.Helper()
	e := newCoreEnv(t, st)
	ps := projects.NewService(st, nil)
	s := api.New(api.Deps{Config: cfg.WithDefaults(), Store: st, Projects: ps, Tags: tags.NewService(st, nil),
		QRCodes: qrcodes.NewService(st, nil, nil, cfg.WithDefaults(), nil, nil)})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e.srv = srv
	return e
}

func doResp(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestAPIRateLimitPerKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := limitedEnv(t, st, config.Config{BaseURL: "https://go.test", APIRateLimit: 5})
		get := func(key string) (*http.Response, []byte) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/api/tags", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			return doResp(t, req)
		}
		for i := range 5 {
			resp, b := get(e.key)
			if resp.StatusCode != 200 {
				t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
			}
			if got := resp.Header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(4-i) || resp.Header.Get("X-RateLimit-Limit") != "5" {
				t.Fatalf("request %d: remaining %q limit %q", i+1, got, resp.Header.Get("X-RateLimit-Limit"))
			}
			reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
			if err != nil || reset < time.Now().Unix() || reset > time.Now().Add(61*time.Second).Unix() {
				t.Fatalf("X-RateLimit-Reset %q", resp.Header.Get("X-RateLimit-Reset"))
			}
		}
		resp, b := get(e.key)
		wantError(t, resp.StatusCode, b, 429, "rate_limit_exceeded")
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 12 {
			t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		// Another key of the same project has its own allowance.
		if resp, b := get(e.roKey); resp.StatusCode != 200 {
			t.Fatalf("other key: %d %s", resp.StatusCode, b)
		}
	})
}

func TestPublicQRRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	st := storetest.New(t, "sqlite")
	e := limitedEnv(t, st, config.Config{BaseURL: "https://go.test", QRRateLimit: 3})
	for i := range 3 {
		code, b := e.do(t, "GET", "/api/qr?url=hello", "", nil)
		if code != 200 {
			t.Fatalf("render %d: %d %s", i+1, code, b)
		}
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/qr?url=hello", nil)
	resp, b := doResp(t, req)
	wantError(t, resp.StatusCode, b, 429, "rate_limit_exceeded")
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

// proxy forwards TCP connections to target until cut is called, after which
// it refuses new ones and drops the open ones: a database that went away.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// When the database is unreachable the API answers 503 with Retry-After in
// the documented format, not 500. (PostgreSQL: a network database is the one
// that can become unreachable while the server runs.)
func TestDatabaseUnreachableIs503(t *testing.T) {
	t.Parallel()
	dbURL := storetest.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	ctx := context.Background()
	st, err := store.Open(ctx, u.String(), "", store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := newCoreEnv(t, st)
	if code, b := e.do(t, "GET", "/api/tags", e.key, nil); code != 200 {
		t.Fatalf("before the cut: %d %s", code, b)
	}
	p.cut()
	for _, path := range []string{"/api/tags", "/readyz"} {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.key)
		resp, b := doResp(t, req)
		wantError(t, resp.StatusCode, b, 503, "service_unavailable")
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Fatalf("%s: Retry-After %q", path, resp.Header.Get("Retry-After"))
		}
	}
	// A write too.
	code, b := e.do(t, "POST", "/api/tags", e.key, strings.NewReader(`{"name":"x"}`))
	wantError(t, code, b, 503, "service_unavailable")
}

func TestIsUnavailableIsNotEveryError(t *testing.T) {
	t.Parallel()
	for _, err := range []error{errors.New("boom"), context.Canceled, store.ErrNotFound} {
		if store.IsUnavailable(err) {
			t.Errorf("%v classed as unavailable", err)
		}
	}
}

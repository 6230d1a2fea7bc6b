package public_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/codeqr/codeqr/internal/store/storetest"
)

// FuzzPublicRequest feeds odd paths, hosts, queries and headers to the real
// handler: the answer is never a 5xx and never a panic; bad keys are 404.
func FuzzPublicRequest(f *testing.F) {
	e := newEnv(f, storetest.New(f, "sqlite"), envOpts{})
	e.insertLink(f, linkOpts{key: "ok", password: "pw"})
	e.insertLink(f, linkOpts{key: "go", track: true, geo: map[string]string{"US": "https://us.example.com/"}})
	h := e.srv.Config.Handler
	f.Add("GET", "/go", domain, "qr=1", "8.8.8.8", "Mozilla/5.0")
	f.Add("HEAD", "/ok", domain+":99999", "", "1.1.1.1, nonsense", "")
	f.Add("POST", "/ok", "[::1]:80", "password=pw", "::ffff:1.2.3.4", "curl/8")
	f.Add("GET", "/"+strings.Repeat("a", 5000), "", "", "", "")
	f.Add("GET", "/%00%ff", "\x00", "\xff=\xfe", "\xff", "\x00")
	f.Add("GET", "/go/../api", "GO.TEST", "qr=1&qr=2", strings.Repeat("9,", 1000), strings.Repeat("x", 10000))
	f.Fuzz(func(t *testing.T, method, path, host, query, xff, ua string) {
		if method != "GET" && method != "HEAD" && method != "POST" {
			method = "GET"
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Host: host, RemoteAddr: "127.0.0.1:1234",
			Header: http.Header{"User-Agent": {ua}, "X-Forwarded-For": {xff}, "Referer": {ua}}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		if method == "POST" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Body = httpBody(query)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %q host %q: %d %s", method, path, host, w.Code, w.Body.String())
		}
		key := strings.TrimPrefix(path, "/")
		if !strings.Contains(key, "/") && (len(key) > 190 || strings.ContainsAny(key, "\x00%?# ") || !utf8.ValidString(key)) && w.Code != http.StatusNotFound {
			t.Fatalf("bad key %q answered %d", key, w.Code)
		}
	})
}

func httpBody(s string) *readCloser { return &readCloser{strings.NewReader(s)} }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

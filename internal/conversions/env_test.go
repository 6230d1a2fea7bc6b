package conversions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/interactions"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/testkit"
	"github.com/codeqr/codeqr/internal/testserver"
	"github.com/codeqr/codeqr/internal/tracking"
)

const domain = "go.test"

const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"

// env is the whole application (app.New, started) on one database. The
// interactions pipeline flushes only every hour, so every interaction is still
// buffered when a conversion refers to it, unless a test flushes.
type env struct {
	st           *store.Store
	srv          *httptest.Server
	client       *http.Client
	pipe         *interactions.Pipeline
	p1, p2       string
	key1, key2   string
	keyNoConvert string
}

func newEnv(t testing.TB, st *store.Store) *env {
	t.Helper()
	ctx := context.Background()
	cfg := config.Config{BaseURL: "http://" + domain, FlushInterval: time.Hour,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}.WithDefaults()
	a, srv := testserver.Run(t, st, cfg, app.Options{})
	ps := a.Projects
	p1, k1, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, k2, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, k3, _, err := ps.EnsureWithKey(ctx, "p3", "readonly", []string{projects.ScopeLinksRead})
	if err != nil {
		t.Fatal(err)
	}
	client := testkit.NoRedirects()
	client.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	return &env{st: st, srv: srv, client: client, pipe: a.Interactions, p1: p1.ID, p2: p2.ID, key1: k1, key2: k2, keyNoConvert: k3}
}

// open requests a short link like a browser on an iPhone behind 8.8.8.8.
func (e *env) open(t testing.TB, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Host = domain
	req.Header.Set("User-Agent", iphone)
	req.Header.Set("X-Forwarded-For", "8.8.8.8")
	req.Header.Set("Referer", "https://www.twitter.com/someone/status/1")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return resp
}

func (e *env) api(t testing.TB, method, path, key, body string) (int, string) {
	t.Helper()
	status, b := testkit.API(t, e.client, method, e.srv.URL+path, key, body)
	return status, string(b)
}

// mustAPI calls the API and decodes a wanted answer into out.
func (e *env) mustAPI(t testing.TB, method, path, key, body string, want int, out any) string {
	t.Helper()
	status, resp := e.api(t, method, path, key, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, resp, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(resp), out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, resp, err)
		}
	}
	return resp
}

func (e *env) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.Read().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// payloads returns the stored bodies of the project's events of one type, oldest first.
func (e *env) payloads(t testing.TB, project string, typ events.Type) []string {
	t.Helper()
	rows, err := e.st.Read().QueryContext(context.Background(),
		"SELECT payload FROM events WHERE project_id = $1 AND type = $2 ORDER BY created_at, id", project, string(typ))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// recorded reads the interaction row of clickID as the tracking object.
func (e *env) recorded(t testing.TB, clickID string) tracking.Interaction {
	t.Helper()
	var (
		in       tracking.Interaction
		lat, lon *float64
		created  int64
	)
	err := e.st.Read().QueryRowContext(context.Background(), `SELECT click_id, url, ip, continent, country, region, city,
latitude, longitude, device, device_vendor, device_model, browser, browser_version, engine, engine_version, os, os_version,
cpu_architecture, ua, bot, qr, referer, referer_url, created_at FROM interactions WHERE click_id = $1`, clickID).Scan(
		&in.ClickID, &in.URL, &in.IP, &in.Continent, &in.Country, &in.Region, &in.City, &lat, &lon, &in.Device,
		&in.DeviceVendor, &in.DeviceModel, &in.Browser, &in.BrowserVersion, &in.Engine, &in.EngineVersion, &in.OS,
		&in.OSVersion, &in.CPUArchitecture, &in.UA, &in.Bot, &in.QR, &in.Referer, &in.RefererURL, &created)
	if err != nil {
		t.Fatalf("interaction %s: %v", clickID, err)
	}
	in.Latitude, in.Longitude = lat, lon
	in.Timestamp = store.FromMillis(created)
	return in
}

// jsonEq compares two JSON documents by value.
func jsonEq(t testing.TB, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	var gv, wv any
	_ = json.Unmarshal(g, &gv)
	_ = json.Unmarshal(w, &wv)
	gb, _ := json.Marshal(gv)
	wb, _ := json.Marshal(wv)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

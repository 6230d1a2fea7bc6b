package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/delivery"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/webhooks"
)

func getWithHeaders(t *testing.T, url, key string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestWebhookRateLimitField(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, defaultConfig())
		w := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}, "rateLimit": 2.5})
		id := w["id"].(string)
		if w["rateLimit"] != 2.5 {
			t.Fatalf("rateLimit %v", w["rateLimit"])
		}
		if got := e.must(200, "GET", "/api/webhooks/"+id, e.key, nil); got["rateLimit"] != 2.5 {
			t.Fatalf("get rateLimit %v", got["rateLimit"])
		}
		if got := e.must(200, "PATCH", "/api/webhooks/"+id, e.key, map[string]any{"rateLimit": 7}); got["rateLimit"] != 7.0 {
			t.Fatalf("patched rateLimit %v", got["rateLimit"])
		}
		if got := e.must(200, "PATCH", "/api/webhooks/"+id, e.key, `{"rateLimit": null}`); got["rateLimit"] != nil {
			t.Fatalf("cleared rateLimit %v", got["rateLimit"])
		}
		for _, bad := range []string{`{"rateLimit": 0}`, `{"rateLimit": -1}`, `{"rateLimit": 1e9}`} {
			if st, out := e.do("PATCH", "/api/webhooks/"+id, e.key, bad); st != 422 {
				t.Errorf("%s: %d %s", bad, st, out)
			}
		}
	})
}

func TestDeliveryLogCursorRangeAndDetail(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, defaultConfig())
		id := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}})["id"].(string)
		ev := e.must(202, "POST", "/api/webhooks/"+id+"/test", e.key, nil)["eventId"].(string)
		var did int64
		var payload string
		if err := st.Read().QueryRowContext(context.Background(), "SELECT d.id, e.payload FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.event_id = $1", ev).Scan(&did, &payload); err != nil {
			t.Fatal(err)
		}
		ins := `INSERT INTO delivery_attempts (delivery_id, event_id, webhook_id, attempt, status, response_status, duration_ms, error,
  request_headers, response_headers, response_body, created_at) VALUES ($1, $2, $3, $4, $5, $6, 5, NULL, $7, $8, $9, $10)`
		base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
		for i := 1; i <= 5; i++ {
			e.exec(ins, did, ev, id, i, "failed", 500, `{"Webhook-Id":"`+ev+`"}`, `{"X-Reply":"r`+strconv.Itoa(i)+`"}`, "oops "+strconv.Itoa(i),
				store.Millis(base.Add(time.Duration(i)*time.Minute)))
		}
		// Cursor paging, newest first, 2 + 2 + 1.
		var seen []string
		next := e.srv.URL + "/api/webhooks/" + id + "/deliveries?limit=2"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("paging does not end")
			}
			code, h, body := getWithHeaders(t, next, e.key)
			if code != 200 {
				t.Fatalf("GET %s: %d %s", next, code, body)
			}
			var list []map[string]any
			if err := json.Unmarshal(body, &list); err != nil {
				t.Fatal(err)
			}
			for _, a := range list {
				seen = append(seen, a["id"].(string))
			}
			next = ""
			if c := h.Get("X-Next-Cursor"); c != "" {
				if c != list[len(list)-1]["id"] {
					t.Errorf("cursor %s is not the last id %v", c, list[len(list)-1]["id"])
				}
				link := h.Get("Link")
				if !strings.HasPrefix(link, "</api/webhooks/"+id+"/deliveries?") || !strings.HasSuffix(link, `>; rel="next"`) || !strings.Contains(link, "cursor="+c) {
					t.Errorf("Link %q", link)
				}
				next = e.srv.URL + strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			}
		}
		if len(seen) != 5 {
			t.Fatalf("paged %v, want 5 attempts", seen)
		}
		for i := 1; i < len(seen); i++ {
			a, _ := strconv.Atoi(seen[i-1])
			b, _ := strconv.Atoi(seen[i])
			if a <= b {
				t.Fatalf("not newest first: %v", seen)
			}
		}
		// Time range: attempts 2 and 3 (since inclusive, until exclusive).
		q := "?since=" + base.Add(2*time.Minute).Format(time.RFC3339) + "&until=" + base.Add(4*time.Minute).Format(time.RFC3339)
		if got := e.list("/api/webhooks/"+id+"/deliveries"+q, e.key); len(got) != 2 || got[0]["attempt"] != 3.0 || got[1]["attempt"] != 2.0 {
			t.Errorf("range %s: %v", q, got)
		}
		// Page/pageSize still work.
		if got := e.list("/api/webhooks/"+id+"/deliveries?page=3&pageSize=2", e.key); len(got) != 1 {
			t.Errorf("page 3: %d", len(got))
		}
		for _, bad := range []string{"?cursor=abc", "?since=yesterday", "?limit=101", "?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"} {
			if code, _ := e.do("GET", "/api/webhooks/"+id+"/deliveries"+bad, e.key, nil); code != 400 {
				t.Errorf("deliveries%s: %d, want 400", bad, code)
			}
		}

		// One attempt in full.
		d := e.must(200, "GET", "/api/webhooks/"+id+"/deliveries/"+seen[0], e.key, nil)
		req, resp := d["request"].(map[string]any), d["response"].(map[string]any)
		if d["webhookId"] != id || d["attempt"] != 5.0 || d["eventId"] != ev || req["body"] != payload ||
			req["headers"].(map[string]any)["Webhook-Id"] != ev || resp["status"] != 500.0 ||
			resp["headers"].(map[string]any)["X-Reply"] != "r5" || resp["body"] != "oops 5" {
			t.Errorf("attempt detail %v", d)
		}
		for _, probe := range []struct{ path, key string }{
			{"/api/webhooks/" + id + "/deliveries/" + seen[0], e.key2},
			{"/api/webhooks/" + id + "/deliveries/999999", e.key},
			{"/api/webhooks/" + id + "/deliveries/x", e.key},
		} {
			if code, _ := e.do("GET", probe.path, probe.key, nil); code != 404 {
				t.Errorf("GET %s: %d, want 404", probe.path, code)
			}
		}
	})
}

func TestRecoverRoutes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, defaultConfig())
		id := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}})["id"].(string)
		ev := e.must(202, "POST", "/api/webhooks/"+id+"/test", e.key, nil)["eventId"].(string)
		_ = ev
		e.exec("UPDATE deliveries SET status = 'failed'")
		since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		job := e.must(202, "POST", "/api/webhooks/"+id+"/recover", e.key, map[string]any{"since": since})
		jid, _ := job["id"].(string)
		if !strings.HasPrefix(jid, "rec_") || job["status"] != "running" || job["total"] != 0.0 || job["done"] != 0.0 || job["webhookId"] != id || job["until"] == nil {
			t.Fatalf("job %v (test events are never recovered)", job)
		}
		got := e.must(200, "GET", "/api/webhooks/"+id+"/recover/"+jid, e.key, nil)
		if got["id"] != jid || got["since"] != since {
			t.Errorf("job read back %v", got)
		}
		if code, _ := e.do("GET", "/api/webhooks/"+id+"/recover/"+jid, e.key2, nil); code != 404 {
			t.Errorf("other project's key: %d", code)
		}
		if code, _ := e.do("POST", "/api/webhooks/"+id+"/recover", e.key2, map[string]any{"since": since}); code != 404 {
			t.Errorf("other project's recover: %d", code)
		}
		if code, out := e.do("POST", "/api/webhooks/"+id+"/recover", e.key, `{}`); code != 422 {
			t.Errorf("no since: %d %s", code, out)
		}
		e.must(200, "POST", "/api/webhooks/"+id+"/disable", e.key, nil)
		if code, out := e.do("POST", "/api/webhooks/"+id+"/recover", e.key, map[string]any{"since": since}); code != 409 {
			t.Errorf("disabled webhook: %d %s", code, out)
		}
	})
}

// TestQueueMetrics scrapes /metrics through the real handler.
func TestQueueMetrics(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ps := projects.NewService(st, nil)
		p, key, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := defaultConfig()
		cfg.BaseURL = "https://go.example.com"
		svc := webhooks.NewService(st, nil, cfg, webhooks.Options{})
		reg := prometheus.NewRegistry()
		if err := delivery.RegisterQueueMetrics(reg, st, nil); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api.New(api.Deps{Config: cfg, Store: st, Projects: ps, Tags: tags.NewService(st, nil), Webhooks: svc,
			Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}).Handler())
		t.Cleanup(srv.Close)
		_ = key
		w1, err := svc.Create(ctx, p.ID, webhooks.CreateRequest{Name: "a", URL: hookURL, Triggers: []events.Type{"link.created"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Create(ctx, p.ID, webhooks.CreateRequest{Name: "b", URL: hookURL, Triggers: []events.Type{"link.created"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Disable(ctx, p.ID, w1.ID); err != nil {
			t.Fatal(err)
		}
		// Two pending deliveries, the older created 90 s ago, and a finished one.
		old := time.Now().Add(-90 * time.Second)
		exec := func(q string, args ...any) {
			if err := st.InTx(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
				t.Fatal(err)
			}
		}
		for i, status := range []string{"pending", "pending", "success"} {
			evID := "evt_m" + strconv.Itoa(i)
			at := store.Millis(old.Add(time.Duration(i) * time.Second))
			exec("INSERT INTO events (id, project_id, type, test, payload, created_at) VALUES ($1, $2, 'link.created', FALSE, '{}', $3)", evID, p.ID, at)
			exec(`INSERT INTO deliveries (event_id, webhook_id, project_id, status, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5, $5)`,
				evID, w1.ID, p.ID, status, at)
		}
		code, _, body := getWithHeaders(t, srv.URL+"/metrics", "")
		if code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		values := map[string]float64{}
		for _, line := range strings.Split(string(body), "\n") {
			if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") {
				v, _ := strconv.ParseFloat(f[1], 64)
				values[f[0]] = v
			}
		}
		if values["codeqr_webhook_queue_depth"] != 2 || values["codeqr_webhooks_disabled"] != 1 {
			t.Errorf("depth %v disabled %v\n%s", values["codeqr_webhook_queue_depth"], values["codeqr_webhooks_disabled"], body)
		}
		if age := values["codeqr_webhook_oldest_pending_age_seconds"]; age < 89 || age > 150 {
			t.Errorf("oldest pending age %v, want ~90", age)
		}
	})
}

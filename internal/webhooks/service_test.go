package webhooks_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codeqr/codeqr/internal/api"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/ids"
	"github.com/codeqr/codeqr/internal/projects"
	"github.com/codeqr/codeqr/internal/samples"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/tags"
	"github.com/codeqr/codeqr/internal/webhooks"
)

// hookURL is a public address literal, so validation needs no DNS.
const hookURL = "https://93.184.215.14/hook"

type env struct {
	t       *testing.T
	st      *store.Store
	srv     *httptest.Server
	key     string // project p1, all scopes
	key2    string // project p2, all scopes
	proj    string
	proj2   string
	notify  *atomic.Int64
	clock   time.Time
	now     atomic.Pointer[func() time.Time] // the service's clock
	service *webhooks.Service
}

// setClock replaces the service's clock.
func (e *env) setClock(now func() time.Time) { e.now.Store(&now) }

func newEnv(t *testing.T, st *store.Store, cfg config.Config) *env {
	t.Helper()
	ctx := context.Background()
	ps := projects.NewService(st, nil)
	p1, key, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, key2, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, key: key, key2: key2, proj: p1.ID, proj2: p2.ID, notify: new(atomic.Int64),
		clock: time.Date(2026, 11, 26, 18, 4, 11, 233_000_000, time.UTC)}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://go.example.com"
	}
	tg := tags.NewService(st, nil)
	ev := events.NewWriter(func() { e.notify.Add(1) }, nil)
	e.setClock(time.Now)
	e.service = webhooks.NewService(st, ev, cfg, webhooks.Options{
		Notify:  func() { e.notify.Add(1) },
		Samples: samples.All(),
		Clock:   func() time.Time { return (*e.now.Load())() },
	})
	e.srv = httptest.NewServer(api.New(api.Deps{Config: cfg, Store: st, Projects: ps, Tags: tg, Webhooks: e.service}).Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request; body may be nil, a string (sent raw) or a value (JSON).
func (e *env) do(method, path, key string, body any) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// must sends a request and decodes the answer into a map, failing unless the
// status is want.
func (e *env) must(want int, method, path, key string, body any) map[string]any {
	e.t.Helper()
	st, out := e.do(method, path, key, body)
	if st != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, st, want, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		e.t.Fatalf("%s %s: %v: %s", method, path, err, out)
	}
	return m
}

func (e *env) list(path, key string) []map[string]any {
	e.t.Helper()
	st, out := e.do("GET", path, key, nil)
	if st != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, st, out)
	}
	var l []map[string]any
	if err := json.Unmarshal(out, &l); err != nil {
		e.t.Fatalf("GET %s: %v: %s", path, err, out)
	}
	return l
}

func (e *env) addLink(project string) string {
	id := ids.New("link")
	e.exec("INSERT INTO links (id, project_id, domain, key, url, created_at, updated_at) VALUES ($1, $2, 'go.example.com', $3, 'https://example.com/', 1, 1)",
		id, project, ids.ShortKey())
	return id
}

func (e *env) addQRCode(project string) string {
	id := ids.New("qr")
	e.exec("INSERT INTO qrcodes (id, project_id, type, fg_color, bg_color, size, level, margin, created_at, updated_at) VALUES ($1, $2, 'url', '#000000', '#ffffff', 600, 'M', 4, 1, 1)",
		id, project)
	return id
}

func (e *env) addPage(project string) string {
	id := ids.New("page")
	e.exec("INSERT INTO pages (id, project_id, slug, title, blocks, theme, created_at, updated_at) VALUES ($1, $2, $3, 'T', '[]', '{}', 1, 1)",
		id, project, strings.ToLower(ids.Random(10)))
	return id
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if err := e.st.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(context.Background(), q, args...)
		return err
	}); err != nil {
		e.t.Fatalf("exec %s: %v", q, err)
	}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	return storetest.Count(e.t, e.st.Read(), q, args...)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

func defaultConfig() config.Config { return config.Config{} }

var secretRE = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)

func checkSecret(t *testing.T, s any) string {
	t.Helper()
	str, _ := s.(string)
	if !secretRE.MatchString(str) {
		t.Fatalf("secret %q does not match %s", str, secretRE)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(str, "whsec_"))
	if err != nil || len(raw) != 32 {
		t.Fatalf("secret %q: decodes to %d bytes (%v), want 32", str, len(raw), err)
	}
	return str
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st, defaultConfig())
		link := e.addLink(e.proj)

		created := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{
			"name": "Orders", "url": hookURL, "triggers": []string{"link.created", "link.clicked"},
			"linkIds": []string{link},
		})
		id, _ := created["id"].(string)
		if !strings.HasPrefix(id, "wh_") {
			t.Fatalf("id %q", id)
		}
		secret := checkSecret(t, created["secret"])
		wantKeys := []string{"createdAt", "disabledAt", "id", "includeBots", "linkIds", "name", "pageIds", "qrcodeIds", "rateLimit", "secret", "triggers", "updatedAt", "url"}
		if got := sortedKeys(created); !equal(got, wantKeys) {
			t.Fatalf("create keys %v, want %v", got, wantKeys)
		}
		if created["disabledAt"] != nil || created["includeBots"] != false {
			t.Fatalf("create: %v", created)
		}
		if got := strs(created["qrcodeIds"]); created["qrcodeIds"] == nil || len(got) != 0 {
			t.Fatalf("qrcodeIds = %v, want []", created["qrcodeIds"])
		}
		if got := strs(created["linkIds"]); !equal(got, []string{link}) {
			t.Fatalf("linkIds = %v", got)
		}
		var stored string
		if err := st.Read().QueryRowContext(context.Background(), "SELECT secret FROM webhooks WHERE id = $1", id).Scan(&stored); err != nil || stored != secret {
			t.Fatalf("stored secret %q (%v), answered %q", stored, err, secret)
		}

		got := e.must(200, "GET", "/api/webhooks/"+id, e.key, nil)
		if _, ok := got["secret"]; ok {
			t.Fatal("GET answered the secret")
		}
		if got["name"] != "Orders" || got["url"] != hookURL || !equal(strs(got["triggers"]), []string{"link.created", "link.clicked"}) {
			t.Fatalf("get: %v", got)
		}
		sec := e.must(200, "GET", "/api/webhooks/"+id+"/secret", e.key, nil)
		if sec["secret"] != secret {
			t.Fatalf("secret endpoint answered %v", sec["secret"])
		}

		// A second and third webhook: the list is newest first and pages.
		second := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "B", "url": hookURL, "triggers": []string{"page.created"}})
		third := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "C", "url": hookURL, "triggers": []string{"sale.created"}, "includeBots": true})
		all := e.list("/api/webhooks", e.key)
		if len(all) != 3 || all[0]["id"] != third["id"] || all[1]["id"] != second["id"] || all[2]["id"] != id {
			t.Fatalf("list order: %v", all)
		}
		for _, w := range all {
			if _, ok := w["secret"]; ok {
				t.Fatal("list answered a secret")
			}
		}
		p2 := e.list("/api/webhooks?page=2&pageSize=2", e.key)
		if len(p2) != 1 || p2[0]["id"] != id {
			t.Fatalf("page 2: %v", p2)
		}
		if l := e.list("/api/webhooks", e.key2); len(l) != 0 {
			t.Fatalf("other project sees %d webhooks", len(l))
		}

		// PATCH: absent fields stay, lists replace, null clears a selection.
		upd := e.must(200, "PATCH", "/api/webhooks/"+id, e.key, map[string]any{"name": "Orders v2"})
		if upd["name"] != "Orders v2" || upd["url"] != hookURL || !equal(strs(upd["linkIds"]), []string{link}) || len(strs(upd["triggers"])) != 2 {
			t.Fatalf("patch name: %v", upd)
		}
		if _, ok := upd["secret"]; ok {
			t.Fatal("PATCH answered the secret")
		}
		upd = e.must(200, "PATCH", "/api/webhooks/"+id, e.key, `{"triggers": ["lead.created"], "linkIds": null, "includeBots": true}`)
		if !equal(strs(upd["triggers"]), []string{"lead.created"}) || len(strs(upd["linkIds"])) != 0 || upd["includeBots"] != true {
			t.Fatalf("patch sets: %v", upd)
		}
		if n := e.count("SELECT COUNT(*) FROM webhook_resources WHERE webhook_id = $1", id); n != 0 {
			t.Fatalf("%d resource rows left", n)
		}
		// A no-op update changes nothing, not even updatedAt.
		same := e.must(200, "PATCH", "/api/webhooks/"+id, e.key, map[string]any{"name": "Orders v2", "triggers": []string{"lead.created"}})
		if same["updatedAt"] != upd["updatedAt"] {
			t.Fatalf("no-op update moved updatedAt %v → %v", upd["updatedAt"], same["updatedAt"])
		}
		// The resulting state is validated: link.clicked without links.
		if st, out := e.do("PATCH", "/api/webhooks/"+id, e.key, map[string]any{"triggers": []string{"link.clicked"}}); st != 422 {
			t.Fatalf("patch to link.clicked without links: %d %s", st, out)
		}
		for _, body := range []string{`{"name": null}`, `{"url": null}`, `{"triggers": null}`, `{"triggers": []}`} {
			if st, out := e.do("PATCH", "/api/webhooks/"+id, e.key, body); st != 422 {
				t.Fatalf("patch %s: %d %s", body, st, out)
			}
		}
		if st, out := e.do("PATCH", "/api/webhooks/"+id, e.key, `{"nmae": "x"}`); st != 400 {
			t.Fatalf("patch unknown field: %d %s", st, out)
		}

		// Delete cascades to deliveries and the attempt log.
		e.must(202, "POST", "/api/webhooks/"+id+"/test", e.key, map[string]any{"event": "link.created"})
		e.exec("INSERT INTO delivery_attempts (delivery_id, event_id, webhook_id, attempt, status, duration_ms, created_at) SELECT id, event_id, webhook_id, 1, 'failed', 5, 1 FROM deliveries WHERE webhook_id = $1", id)
		if n := e.count("SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", id); n != 1 {
			t.Fatalf("%d deliveries before delete", n)
		}
		del := e.must(200, "DELETE", "/api/webhooks/"+id, e.key, nil)
		if del["id"] != id {
			t.Fatalf("delete answered %v", del)
		}
		if st, _ := e.do("GET", "/api/webhooks/"+id, e.key, nil); st != 404 {
			t.Fatalf("GET after delete: %d", st)
		}
		if st, _ := e.do("DELETE", "/api/webhooks/"+id, e.key, nil); st != 404 {
			t.Fatalf("second delete: %d", st)
		}
		for _, q := range []string{"deliveries", "delivery_attempts", "webhook_triggers"} {
			if n := e.count("SELECT COUNT(*) FROM "+q+" WHERE webhook_id = $1", id); n != 0 {
				t.Fatalf("%d %s rows left after delete", n, q)
			}
		}
	})
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st, defaultConfig())
		link, qr, page := e.addLink(e.proj), e.addQRCode(e.proj), e.addPage(e.proj)
		foreignLink := e.addLink(e.proj2)
		base := func(mod func(m map[string]any)) map[string]any {
			m := map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}}
			mod(m)
			return m
		}
		cases := []struct {
			name string
			body any
			want int
		}{
			{"ok all scoped", base(func(m map[string]any) {
				m["triggers"] = []string{"link.clicked", "qrcode.scanned", "page.visited"}
				m["linkIds"], m["qrcodeIds"], m["pageIds"] = []string{link}, []string{qr}, []string{page}
			}), 201},
			{"link.clicked without links", base(func(m map[string]any) { m["triggers"] = []string{"link.clicked"} }), 422},
			{"qrcode.scanned without qr codes", base(func(m map[string]any) { m["triggers"] = []string{"qrcode.scanned"} }), 422},
			{"page.visited without pages", base(func(m map[string]any) { m["triggers"] = []string{"page.visited"}; m["pageIds"] = []string{} }), 422},
			{"links without link.clicked", base(func(m map[string]any) { m["linkIds"] = []string{link} }), 422},
			{"pages without page.visited", base(func(m map[string]any) { m["pageIds"] = []string{page} }), 422},
			{"foreign link", base(func(m map[string]any) { m["triggers"] = []string{"link.clicked"}; m["linkIds"] = []string{foreignLink} }), 422},
			{"unknown link", base(func(m map[string]any) { m["triggers"] = []string{"link.clicked"}; m["linkIds"] = []string{"link_nope"} }), 422},
			{"qr id given as link", base(func(m map[string]any) { m["triggers"] = []string{"link.clicked"}; m["linkIds"] = []string{qr} }), 422},
			{"duplicate link id", base(func(m map[string]any) { m["triggers"] = []string{"link.clicked"}; m["linkIds"] = []string{link, link} }), 422},
			{"unknown trigger", base(func(m map[string]any) { m["triggers"] = []string{"link.exploded"} }), 422},
			{"duplicate trigger", base(func(m map[string]any) { m["triggers"] = []string{"link.created", "link.created"} }), 422},
			{"no triggers", base(func(m map[string]any) { m["triggers"] = []string{} }), 422},
			{"missing triggers", base(func(m map[string]any) { delete(m, "triggers") }), 422},
			{"empty name", base(func(m map[string]any) { m["name"] = "  " }), 422},
			{"long name", base(func(m map[string]any) { m["name"] = strings.Repeat("é", 191) }), 422},
			{"name of 190", base(func(m map[string]any) { m["name"] = strings.Repeat("é", 190) }), 201},
			{"missing url", base(func(m map[string]any) { delete(m, "url") }), 422},
			{"javascript url", base(func(m map[string]any) { m["url"] = "javascript:alert(1)" }), 422},
			{"ftp url", base(func(m map[string]any) { m["url"] = "ftp://93.184.215.14/x" }), 422},
			{"relative url", base(func(m map[string]any) { m["url"] = "/hook" }), 422},
			{"http url", base(func(m map[string]any) { m["url"] = "http://93.184.215.14/hook" }), 422},
			{"loopback", base(func(m map[string]any) { m["url"] = "https://127.0.0.1/" }), 422},
			{"private", base(func(m map[string]any) { m["url"] = "https://10.1.2.3/x" }), 422},
			{"metadata", base(func(m map[string]any) { m["url"] = "https://169.254.169.254/latest" }), 422},
			{"localhost", base(func(m map[string]any) { m["url"] = "https://localhost:8443/x" }), 422},
			{"credentials", base(func(m map[string]any) { m["url"] = "https://u:p@93.184.215.14/x" }), 422},
			{"zoned loopback", base(func(m map[string]any) { m["url"] = "https://[::1%25lo]:8443/x" }), 422},
			{"zoned link-local", base(func(m map[string]any) { m["url"] = "https://[fe80::1%25eth0]/" }), 422},
			{"zoned metadata", base(func(m map[string]any) { m["url"] = "https://[fd00:ec2::254%25eth0]/" }), 422},
			{"zoned multicast", base(func(m map[string]any) { m["url"] = "https://[ff02::1%25eth0]/" }), 422},
			{"zoned nat64", base(func(m map[string]any) { m["url"] = "https://[64:ff9b::a9fe:a9fe%25eth0]/" }), 422},
			{"port 0", base(func(m map[string]any) { m["url"] = "https://93.184.215.14:0/" }), 422},
			{"port 99999", base(func(m map[string]any) { m["url"] = "https://93.184.215.14:99999/" }), 422},
			{"ipv4 in ipv6", base(func(m map[string]any) { m["url"] = "https://[::127.0.0.1]/" }), 422},
			{"fullwidth dots", base(func(m map[string]any) { m["url"] = "https://127。0。0。1/" }), 422},
			{"test-net", base(func(m map[string]any) { m["url"] = "https://203.0.113.10/" }), 422},
			{"malformed json", `{"name": "n",`, 400},
			{"not an object", `[1,2]`, 400},
			{"two values", `{} {}`, 400},
			{"empty body", ``, 400},
			{"unknown field", `{"name":"n","url":"` + hookURL + `","triggers":["link.created"],"secret":"whsec_x"}`, 400},
			{"wrong type", `{"name":"n","url":"` + hookURL + `","triggers":"link.created"}`, 400},
		}
		for _, c := range cases {
			st, out := e.do("POST", "/api/webhooks", e.key, c.body)
			if st != c.want {
				t.Errorf("%s: status %d, want %d: %s", c.name, st, c.want, out)
				continue
			}
			if c.want >= 400 {
				var body struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal(out, &body); err != nil || body.Error.Message == "" {
					t.Errorf("%s: error body %s", c.name, out)
				}
			}
		}
		if n := e.count("SELECT COUNT(*) FROM webhooks"); n != 2 {
			t.Fatalf("%d webhooks stored, want only the 2 valid ones", n)
		}
		// Updates validate the resulting state; a selected link deleted later
		// does not block unrelated edits, a newly named foreign one is refused.
		gone, other := e.addLink(e.proj), e.addLink(e.proj)
		w := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "sel", "url": hookURL,
			"triggers": []string{"link.clicked"}, "linkIds": []string{gone}})
		wid := w["id"].(string)
		e.exec("DELETE FROM links WHERE id = $1", gone)
		e.must(200, "PATCH", "/api/webhooks/"+wid, e.key, map[string]any{"name": "renamed"})
		for _, body := range []map[string]any{
			{"linkIds": []string{gone, foreignLink}},
			{"linkIds": []string{}},
			{"linkIds": []string{other}, "triggers": []string{"link.created"}},
			{"url": "http://93.184.215.14/"},
			{"triggers": []string{"link.clicked", "link.clicked"}},
		} {
			if st, out := e.do("PATCH", "/api/webhooks/"+wid, e.key, body); st != 422 {
				t.Errorf("PATCH %v: %d %s", body, st, out)
			}
		}
		upd := e.must(200, "PATCH", "/api/webhooks/"+wid, e.key, map[string]any{"linkIds": []string{other}})
		if !equal(strs(upd["linkIds"]), []string{other}) {
			t.Fatalf("linkIds after replace: %v", upd["linkIds"])
		}
		e.exec("DELETE FROM webhooks WHERE id = $1", wid)

		// The message says what is wrong.
		_, out := e.do("POST", "/api/webhooks", e.key, base(func(m map[string]any) { m["triggers"] = []string{"link.clicked"} }))
		if !strings.Contains(string(out), "linkIds") {
			t.Errorf("scoped-trigger message does not name linkIds: %s", out)
		}
		_, out = e.do("POST", "/api/webhooks", e.key, base(func(m map[string]any) { m["url"] = "http://93.184.215.14/" }))
		if !strings.Contains(string(out), "https") {
			t.Errorf("http message does not mention https: %s", out)
		}
	})
}

func TestWebhookOperatorAllowances(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st, config.Config{WebhooksAllowHTTP: true, WebhooksAllowPrivate: true})
		for _, u := range []string{"http://127.0.0.1:9999/hook", "https://10.0.0.5/x", "http://localhost/x"} {
			e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": u, "triggers": []string{"link.created"}})
		}
		// Still never another scheme.
		if st, out := e.do("POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": "ftp://127.0.0.1/", "triggers": []string{"link.created"}}); st != 422 {
			t.Fatalf("ftp allowed: %d %s", st, out)
		}
	})
}

func TestWebhookLimitPerProject(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st, defaultConfig())
		for i := 0; i < webhooks.MaxWebhooksPerProject; i++ {
			e.exec("INSERT INTO webhooks (id, project_id, name, url, secret, created_at, updated_at) VALUES ($1, $2, 'n', $3, 's', 1, 1)", ids.New("wh"), e.proj, hookURL)
		}
		if st, out := e.do("POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}}); st != 422 || !strings.Contains(string(out), "100") {
			t.Fatalf("101st webhook: %d %s", st, out)
		}
		e.must(201, "POST", "/api/webhooks", e.key2, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}})
	})
}

func TestWebhookIsolationAndScopes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st, defaultConfig())
		w := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}})
		id := w["id"].(string)
		for _, r := range []struct{ method, path string }{
			{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/test"}, {"POST", "/rotate-secret"},
			{"GET", "/secret"}, {"POST", "/enable"}, {"POST", "/disable"}, {"GET", "/deliveries"},
			{"POST", "/deliveries/1/retry"},
		} {
			var body any
			if r.method == "PATCH" {
				body = map[string]any{"name": "stolen"}
			}
			st, out := e.do(r.method, "/api/webhooks/"+id+r.path, e.key2, body)
			if st != 404 {
				t.Errorf("%s %s with another project's key: %d %s", r.method, r.path, st, out)
			}
		}
		if got := e.must(200, "GET", "/api/webhooks/"+id, e.key, nil); got["name"] != "n" {
			t.Fatalf("foreign PATCH changed the webhook: %v", got)
		}

		ctx := context.Background()
		ps := projects.NewService(st, nil)
		_, readKey, _, err := ps.EnsureWithKey(ctx, "p1", "reader", []string{projects.ScopeWebhooksRead})
		if err != nil {
			t.Fatal(err)
		}
		if st, out := e.do("POST", "/api/webhooks", readKey, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}}); st != 403 {
			t.Fatalf("create with webhooks.read only: %d %s", st, out)
		}
		for _, p := range []string{"/secret", "/rotate-secret", "/test", "/deliveries/1/retry"} {
			method := "POST"
			if p == "/secret" {
				method = "GET"
			}
			if st, _ := e.do(method, "/api/webhooks/"+id+p, readKey, nil); st != 403 {
				t.Errorf("%s with webhooks.read only: %d", p, st)
			}
		}
		if l := e.list("/api/webhooks", readKey); len(l) != 1 {
			t.Fatalf("reader lists %d", len(l))
		}
		if st, _ := e.do("GET", "/api/webhooks", "codeqr_nope", nil); st != 401 {
			t.Fatalf("bad key: %d", st)
		}
	})
}

func TestWebhookRotateEnableDisable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st, defaultConfig())
		now := time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
		e.setClock(func() time.Time { return now })
		w := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}})
		id, old := w["id"].(string), w["secret"].(string)

		now = now.Add(time.Hour)
		rot := e.must(200, "POST", "/api/webhooks/"+id+"/rotate-secret", e.key, nil)
		fresh := checkSecret(t, rot["secret"])
		if fresh == old {
			t.Fatal("rotation kept the secret")
		}
		var (
			cur, prev string
			until     int64
		)
		if err := st.Read().QueryRowContext(context.Background(), "SELECT secret, previous_secret, previous_secret_until FROM webhooks WHERE id = $1", id).Scan(&cur, &prev, &until); err != nil {
			t.Fatal(err)
		}
		if cur != fresh || prev != old || until != store.Millis(now.Add(24*time.Hour)) {
			t.Fatalf("after rotate: secret %q prev %q until %d; want %q %q %d", cur, prev, until, fresh, old, store.Millis(now.Add(24*time.Hour)))
		}
		if got := e.must(200, "GET", "/api/webhooks/"+id+"/secret", e.key, nil); got["secret"] != fresh {
			t.Fatalf("secret endpoint: %v", got["secret"])
		}
		if rot["updatedAt"] != "2026-11-26T19:00:00Z" {
			t.Fatalf("rotate updatedAt %v", rot["updatedAt"])
		}

		now = now.Add(time.Hour)
		dis := e.must(200, "POST", "/api/webhooks/"+id+"/disable", e.key, nil)
		if dis["disabledAt"] != "2026-11-26T20:00:00Z" {
			t.Fatalf("disable: %v", dis)
		}
		if _, ok := dis["secret"]; ok {
			t.Fatal("disable answered the secret")
		}
		now = now.Add(time.Hour)
		// Disabling twice keeps the first time.
		if again := e.must(200, "POST", "/api/webhooks/"+id+"/disable", e.key, nil); again["disabledAt"] != "2026-11-26T20:00:00Z" {
			t.Fatalf("second disable: %v", again["disabledAt"])
		}
		e.exec("UPDATE webhooks SET failing_since = 5 WHERE id = $1", id)
		en := e.must(200, "POST", "/api/webhooks/"+id+"/enable", e.key, nil)
		if en["disabledAt"] != nil {
			t.Fatalf("enable: %v", en)
		}
		if n := e.count("SELECT COUNT(*) FROM webhooks WHERE id = $1 AND failing_since IS NULL AND disabled_at IS NULL", id); n != 1 {
			t.Fatal("enable kept failing_since or disabled_at")
		}
		// An enabled webhook that is failing is also reset by enable.
		e.exec("UPDATE webhooks SET failing_since = 5 WHERE id = $1", id)
		e.must(200, "POST", "/api/webhooks/"+id+"/enable", e.key, nil)
		if n := e.count("SELECT COUNT(*) FROM webhooks WHERE id = $1 AND failing_since IS NULL", id); n != 1 {
			t.Fatal("enable kept failing_since")
		}
		if st, _ := e.do("POST", "/api/webhooks/wh_missing/rotate-secret", e.key, nil); st != 404 {
			t.Fatalf("rotate unknown: %d", st)
		}
	})
}

func TestWebhookTestEvent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st, defaultConfig())
		link := e.addLink(e.proj)
		w := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"sale.created"}})
		// Another webhook subscribed to everything project-level must get nothing.
		other := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "o", "url": hookURL,
			"triggers": []string{"link.created", "link.clicked", "page.created"}, "linkIds": []string{link}})
		id := w["id"].(string)
		before := e.notify.Load()

		res := e.must(202, "POST", "/api/webhooks/"+id+"/test", e.key, map[string]any{"event": "link.clicked"})
		evID, _ := res["eventId"].(string)
		if !regexp.MustCompile(`^evt_[0-9A-Za-z]{25}$`).MatchString(evID) {
			t.Fatalf("eventId %q", evID)
		}
		var (
			typ, payload string
			test         bool
		)
		if err := st.Read().QueryRowContext(context.Background(), "SELECT type, test, payload FROM events WHERE id = $1", evID).Scan(&typ, &test, &payload); err != nil {
			t.Fatal(err)
		}
		if typ != "link.clicked" || !test {
			t.Fatalf("event type %q test %v", typ, test)
		}
		if n := e.count("SELECT COUNT(*) FROM events"); n != 1 {
			t.Fatalf("%d events written, want 1", n)
		}
		if n := e.count("SELECT COUNT(*) FROM deliveries WHERE event_id = $1", evID); n != 1 {
			t.Fatalf("%d deliveries, want 1", n)
		}
		if n := e.count("SELECT COUNT(*) FROM deliveries WHERE event_id = $1 AND webhook_id = $2 AND status = 'pending'", evID, id); n != 1 {
			t.Fatal("the delivery is not for the tested webhook")
		}
		if n := e.count("SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1", other["id"]); n != 0 {
			t.Fatal("the other webhook got the test event")
		}
		if e.notify.Load() == before {
			t.Fatal("the deliverer was not woken")
		}
		var env events.Envelope
		if err := json.Unmarshal([]byte(payload), &env); err != nil || env.ID != evID || env.Event != events.LinkClicked {
			t.Fatalf("payload %s (%v)", payload, err)
		}
		var data map[string]any
		if err := json.Unmarshal(env.Data, &data); err != nil || data["interaction"] == nil || data["link"] == nil {
			t.Fatalf("data %s", env.Data)
		}

		// Default type, empty body.
		res = e.must(202, "POST", "/api/webhooks/"+id+"/test", e.key, nil)
		if n := e.count("SELECT COUNT(*) FROM events WHERE id = $1 AND type = 'link.created' AND test = TRUE", res["eventId"]); n != 1 {
			t.Fatal("default test event is not link.created")
		}
		// A disabled webhook still gets its test.
		e.must(200, "POST", "/api/webhooks/"+id+"/disable", e.key, nil)
		res = e.must(202, "POST", "/api/webhooks/"+id+"/test", e.key, map[string]any{"event": "partner.enrolled"})
		if n := e.count("SELECT COUNT(*) FROM deliveries WHERE event_id = $1 AND webhook_id = $2", res["eventId"], id); n != 1 {
			t.Fatal("no delivery for a disabled webhook's test")
		}
		if st, out := e.do("POST", "/api/webhooks/"+id+"/test", e.key, map[string]any{"event": "link.exploded"}); st != 422 {
			t.Fatalf("unknown test type: %d %s", st, out)
		}
		if st, out := e.do("POST", "/api/webhooks/"+id+"/test", e.key, `{"evnt": "link.created"}`); st != 400 {
			t.Fatalf("unknown field: %d %s", st, out)
		}
	})
}

func TestWebhookDeliveryLogAndRetry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newEnv(t, st, defaultConfig())
		w := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n", "url": hookURL, "triggers": []string{"link.created"}})
		id := w["id"].(string)
		ev1 := e.must(202, "POST", "/api/webhooks/"+id+"/test", e.key, map[string]any{"event": "link.created"})["eventId"].(string)
		ev2 := e.must(202, "POST", "/api/webhooks/"+id+"/test", e.key, map[string]any{"event": "page.deleted"})["eventId"].(string)
		var d1, d2 int64
		ctx := context.Background()
		if err := st.Read().QueryRowContext(ctx, "SELECT id FROM deliveries WHERE event_id = $1", ev1).Scan(&d1); err != nil {
			t.Fatal(err)
		}
		if err := st.Read().QueryRowContext(ctx, "SELECT id FROM deliveries WHERE event_id = $1", ev2).Scan(&d2); err != nil {
			t.Fatal(err)
		}
		// What the engine would log: ev1 failed then succeeded; ev2 failed for good.
		e.exec("UPDATE deliveries SET status = 'failed', attempts = 8, lease_until = 99 WHERE id = $1", d2)
		ins := "INSERT INTO delivery_attempts (delivery_id, event_id, webhook_id, attempt, status, response_status, duration_ms, error, next_retry_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
		e.exec(ins, d1, ev1, id, 1, "pending", 500, 12, "HTTP 500", int64(2000), int64(1000))
		e.exec(ins, d1, ev1, id, 2, "success", 200, 8, nil, nil, int64(3000))
		e.exec(ins, d2, ev2, id, 1, "failed", nil, 15000, "timeout", nil, int64(4000))

		all := e.list("/api/webhooks/"+id+"/deliveries", e.key)
		if len(all) != 3 {
			t.Fatalf("%d attempts", len(all))
		}
		wantKeys := []string{"attempt", "createdAt", "durationMs", "error", "event", "eventId", "id", "nextRetryAt", "responseStatus", "status", "test"}
		if got := sortedKeys(all[0]); !equal(got, wantKeys) {
			t.Fatalf("attempt keys %v, want %v", got, wantKeys)
		}
		first := all[0]
		if first["eventId"] != ev2 || first["event"] != "page.deleted" || first["status"] != "failed" || first["responseStatus"] != nil ||
			first["error"] != "timeout" || first["durationMs"] != 15000.0 || first["test"] != true || first["nextRetryAt"] != nil {
			t.Fatalf("newest attempt: %v", first)
		}
		if _, ok := first["id"].(string); !ok {
			t.Fatalf("attempt id is not a string: %v", first["id"])
		}
		last := all[2]
		if last["status"] != "pending" || last["responseStatus"] != 500.0 || last["nextRetryAt"] != "1970-01-01T00:00:02Z" || last["attempt"] != 1.0 {
			t.Fatalf("oldest attempt: %v", last)
		}
		for q, want := range map[string]int{
			"?status=success": 1, "?status=failed": 1, "?status=pending": 1,
			"?event=link.created": 2, "?eventId=" + ev2: 1, "?event=link.created&status=success": 1,
			"?pageSize=2": 2, "?page=2&pageSize=2": 1, "?event=sale.created": 0,
		} {
			if got := e.list("/api/webhooks/"+id+"/deliveries"+q, e.key); len(got) != want {
				t.Errorf("deliveries%s: %d, want %d", q, len(got), want)
			}
		}
		for _, q := range []string{"?status=weird", "?event=nope", "?pageSize=1000"} {
			if st, _ := e.do("GET", "/api/webhooks/"+id+"/deliveries"+q, e.key, nil); st != 400 {
				t.Errorf("deliveries%s: %d, want 400", q, st)
			}
		}

		before := e.notify.Load()
		res := e.must(202, "POST", "/api/webhooks/"+id+"/deliveries/"+first["id"].(string)+"/retry", e.key, nil)
		if res["deliveryId"] != strconv.FormatInt(d2, 10) {
			t.Fatalf("retry answered %v, want %d", res, d2)
		}
		var (
			status       string
			next, leased int64
		)
		if err := st.Read().QueryRowContext(ctx, "SELECT status, next_attempt_at, lease_until FROM deliveries WHERE id = $1", d2).Scan(&status, &next, &leased); err != nil {
			t.Fatal(err)
		}
		if status != "pending" || leased != 0 || next < time.Now().Add(-time.Minute).UnixMilli() || next > time.Now().Add(time.Second).UnixMilli() {
			t.Fatalf("after retry: status %s next %d lease %d", status, next, leased)
		}
		if e.notify.Load() == before {
			t.Fatal("retry did not wake the deliverer")
		}
		for _, a := range []string{"0", "x", "999999", "-1"} {
			if st, _ := e.do("POST", "/api/webhooks/"+id+"/deliveries/"+a+"/retry", e.key, nil); st != 404 {
				t.Errorf("retry attempt %s: %d", a, st)
			}
		}
		// An attempt of another webhook of the same project is not this one's.
		w2 := e.must(201, "POST", "/api/webhooks", e.key, map[string]any{"name": "n2", "url": hookURL, "triggers": []string{"link.created"}})
		if st, _ := e.do("POST", "/api/webhooks/"+w2["id"].(string)+"/deliveries/"+first["id"].(string)+"/retry", e.key, nil); st != 404 {
			t.Errorf("retry through another webhook: %d", st)
		}
		if st, _ := e.do("GET", "/api/webhooks/wh_nope/deliveries", e.key, nil); st != 404 {
			t.Errorf("deliveries of unknown webhook: %d", st)
		}
	})
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/codeqr/codeqr/internal/app"
	"github.com/codeqr/codeqr/internal/config"
	"github.com/codeqr/codeqr/internal/events"
	"github.com/codeqr/codeqr/internal/qrcodes"
	"github.com/codeqr/codeqr/internal/qrcodes/qrtest"
	"github.com/codeqr/codeqr/internal/store"
	"github.com/codeqr/codeqr/internal/store/storetest"
	"github.com/codeqr/codeqr/internal/testserver"
)

const testBaseURL = "http://qr.test"

type qrEnv struct {
	t      *testing.T
	st     *store.Store
	srv    *httptest.Server
	key    string // project p1
	key2   string // project p2
	p1, p2 string
}

func newQREnv(t *testing.T, st *store.Store) *qrEnv {
	t.Helper()
	ctx := context.Background()
	cfg := config.Config{BaseURL: testBaseURL, WebhooksAllowHTTP: true, WebhooksAllowPrivate: true}.WithDefaults()
	a, srv := testserver.Run(t, st, cfg, app.Options{})
	ps := a.Projects
	p1, key, _, err := ps.EnsureWithKey(ctx, "p1", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, key2, _, err := ps.EnsureWithKey(ctx, "p2", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &qrEnv{t: t, st: st, srv: srv, key: key, key2: key2, p1: p1.ID, p2: p2.ID}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, dst any) {
	t.Helper()
	if err := json.Unmarshal(r.body, dst); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", r.status, err, r.body)
	}
}

func (e *qrEnv) do(method, path, key string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

// want checks the status and decodes the body into dst (if not nil).
func (e *qrEnv) want(r resp, status int, dst any) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if dst != nil {
		r.json(e.t, dst)
	}
}

// wantError checks an error status and the documented error body.
func (e *qrEnv) wantError(r resp, status int, msgPart string) {
	e.t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			DocURL  string `json:"doc_url"`
		} `json:"error"`
	}
	e.want(r, status, &body)
	if body.Error.Code == "" || body.Error.DocURL == "" || !strings.Contains(body.Error.Message, msgPart) {
		e.t.Fatalf("error body %s lacks code/doc_url or %q", r.body, msgPart)
	}
}

// eventsOf returns the payloads of the project's events of one type about one code.
func (e *qrEnv) eventsOf(projectID string, typ events.Type, qrID string) []map[string]any {
	e.t.Helper()
	rows, err := e.st.Read().QueryContext(context.Background(), "SELECT payload FROM events WHERE project_id = $1 AND type = $2", projectID, string(typ))
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			e.t.Fatal(err)
		}
		var env struct {
			ID    string `json:"id"`
			Event string `json:"event"`
			Data  struct {
				QRCode map[string]any `json:"qrcode"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(p), &env); err != nil {
			e.t.Fatal(err)
		}
		if env.Event != string(typ) || !strings.HasPrefix(env.ID, "evt_") {
			e.t.Fatalf("bad envelope %s", p)
		}
		if env.Data.QRCode["id"] == qrID {
			out = append(out, env.Data.QRCode)
		}
	}
	return out
}

func (e *qrEnv) countEvents(projectID string) int {
	return storetest.Count(e.t, e.st.Read(), "SELECT COUNT(*) FROM events WHERE project_id = $1", projectID)
}

var wireFields = []string{"id", "type", "static", "url", "content", "domain", "key", "shortLink", "image", "fgColor",
	"bgColor", "size", "level", "margin", "logo", "title", "description", "externalId", "archived", "tags", "comments",
	"scans", "lastScanned", "leads", "sales", "saleAmount", "projectId", "createdAt", "updatedAt"}

func TestQRCodeCRUDAndEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newQREnv(t, st)
		var raw map[string]any
		r := e.do("POST", "/api/qrcodes", e.key, map[string]any{
			"url": "https://example.com/landing", "title": "Flyer", "externalId": "ext-1", "tagNames": []string{"print"},
		})
		e.want(r, 201, &raw)
		for _, f := range wireFields {
			if _, ok := raw[f]; !ok {
				t.Errorf("field %q missing", f)
			}
		}
		if len(raw) != len(wireFields) {
			t.Errorf("object has %d fields, want %d: %s", len(raw), len(wireFields), r.body)
		}
		var q qrcodes.QRCode
		r.json(t, &q)
		if !strings.HasPrefix(q.ID, "qr_") || q.Type != "url" || q.Static || q.Domain == nil || *q.Domain != "qr.test" ||
			q.Key == nil || len(*q.Key) != 7 || q.ShortLink == nil || *q.ShortLink != testBaseURL+"/"+*q.Key ||
			raw["content"] != nil || raw["lastScanned"] != nil || raw["logo"] != nil || q.Size != 600 || q.Level != "M" ||
			q.Margin != 4 || q.FgColor != "#000000" || q.BgColor != "#ffffff" || q.ProjectID != e.p1 || len(q.Tags) != 1 {
			t.Fatalf("unexpected code: %s", r.body)
		}
		if storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys WHERE domain = $1 AND key = $2 AND kind = 'qrcode' AND resource_id = $3", "qr.test", *q.Key, q.ID) != 1 {
			t.Fatal("short key not claimed")
		}
		created := e.eventsOf(e.p1, events.QRCodeCreated, q.ID)
		if len(created) != 1 || created[0]["shortLink"] != *q.ShortLink || created[0]["title"] != "Flyer" {
			t.Fatalf("qrcode.created events: %v", created)
		}

		// Get, list, info.
		var got qrcodes.QRCode
		e.want(e.do("GET", "/api/qrcodes/"+q.ID, e.key, nil), 200, &got)
		if got.ID != q.ID || !got.CreatedAt.Equal(q.CreatedAt) {
			t.Fatalf("get: %+v", got)
		}
		var list []qrcodes.QRCode
		e.want(e.do("GET", "/api/qrcodes?search=flyer", e.key, nil), 200, &list)
		if len(list) != 1 || list[0].ID != q.ID {
			t.Fatalf("list: %+v", list)
		}
		e.want(e.do("GET", "/api/qrcodes?type=text", e.key, nil), 200, &list)
		if len(list) != 0 {
			t.Fatalf("type filter: %+v", list)
		}
		e.want(e.do("GET", "/api/qrcodes?tagId="+q.Tags[0].ID, e.key, nil), 200, &list)
		if len(list) != 1 {
			t.Fatalf("tag filter: %+v", list)
		}
		for _, query := range []string{"qrcodeId=" + q.ID, "externalId=ext-1", "domain=qr.test&key=" + *q.Key, "key=" + *q.Key} {
			e.want(e.do("GET", "/api/qrcodes/info?"+query, e.key, nil), 200, &got)
			if got.ID != q.ID {
				t.Fatalf("info %s: %+v", query, got)
			}
		}

		// Update, then the same update again: one event only.
		var upd qrcodes.QRCode
		e.want(e.do("PATCH", "/api/qrcodes/"+q.ID, e.key, map[string]any{"title": "Poster", "fgColor": "#112233", "key": "poster"}), 200, &upd)
		if *upd.Title != "Poster" || upd.FgColor != "#112233" || *upd.Key != "poster" || *upd.ShortLink != testBaseURL+"/poster" || !upd.UpdatedAt.After(q.UpdatedAt) && !upd.UpdatedAt.Equal(q.UpdatedAt) {
			t.Fatalf("update: %+v", upd)
		}
		if storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys WHERE resource_id = $1", q.ID) != 1 ||
			storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys WHERE key = 'poster'") != 1 {
			t.Fatal("key not moved")
		}
		before := e.countEvents(e.p1)
		var same qrcodes.QRCode
		e.want(e.do("PATCH", "/api/qrcodes/"+q.ID, e.key, map[string]any{"title": "Poster", "fgColor": "#112233", "key": "poster"}), 200, &same)
		if e.countEvents(e.p1) != before || !same.UpdatedAt.Equal(upd.UpdatedAt) {
			t.Fatal("no-op update emitted an event or touched updatedAt")
		}
		updated := e.eventsOf(e.p1, events.QRCodeUpdated, q.ID)
		if len(updated) != 1 || updated[0]["title"] != "Poster" || updated[0]["key"] != "poster" {
			t.Fatalf("qrcode.updated events: %v", updated)
		}
		// null resets: title to null, fgColor to the default; absent fields stay.
		var reset map[string]any
		e.want(e.do("PATCH", "/api/qrcodes/"+q.ID, e.key, `{"title": null, "fgColor": null}`), 200, &reset)
		if reset["title"] != nil || reset["fgColor"] != "#000000" || reset["externalId"] != "ext-1" || reset["key"] != "poster" {
			t.Fatalf("null reset: %v", reset)
		}

		// Another project sees nothing.
		for _, r := range []resp{
			e.do("GET", "/api/qrcodes/"+q.ID, e.key2, nil),
			e.do("PATCH", "/api/qrcodes/"+q.ID, e.key2, map[string]any{"title": "x"}),
			e.do("DELETE", "/api/qrcodes/"+q.ID, e.key2, nil),
			e.do("GET", "/api/qrcodes/"+q.ID+"/image", e.key2, nil),
			e.do("GET", "/api/qrcodes/info?externalId=ext-1", e.key2, nil),
		} {
			e.wantError(r, 404, "")
		}
		e.want(e.do("GET", "/api/qrcodes", e.key2, nil), 200, &list)
		if len(list) != 0 {
			t.Fatal("foreign list shows codes")
		}
		var bd map[string]int
		e.want(e.do("DELETE", "/api/qrcodes/bulk?qrcodeIds="+q.ID, e.key2, nil), 200, &bd)
		if bd["deletedCount"] != 0 {
			t.Fatal("foreign bulk delete deleted")
		}

		// Delete.
		var del map[string]string
		e.want(e.do("DELETE", "/api/qrcodes/"+q.ID, e.key, nil), 200, &del)
		if del["id"] != q.ID {
			t.Fatalf("delete: %v", del)
		}
		if d := e.eventsOf(e.p1, events.QRCodeDeleted, q.ID); len(d) != 1 || d[0]["key"] != "poster" {
			t.Fatalf("qrcode.deleted events: %v", d)
		}
		if storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys WHERE resource_id = $1", q.ID) != 0 {
			t.Fatal("short key not released")
		}
		e.wantError(e.do("GET", "/api/qrcodes/"+q.ID, e.key, nil), 404, "")
	})
}

func TestQRCodeKeySpaceAndStatic(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newQREnv(t, st)
		if err := st.InTx(context.Background(), func(tx *store.Tx) error {
			storetest.MustExec(t, tx, "INSERT INTO short_keys (domain, key, project_id, kind, resource_id) VALUES ($1, $2, $3, 'link', 'link_x')", "qr.test", "taken", e.p1)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		e.wantError(e.do("POST", "/api/qrcodes", e.key, map[string]any{"url": "https://example.com", "key": "taken"}), 409, "taken")
		if storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM qrcodes") != 0 || e.countEvents(e.p1) != 0 {
			t.Fatal("a conflicting create wrote something")
		}
		var q qrcodes.QRCode
		e.want(e.do("POST", "/api/qrcodes", e.key, map[string]any{"url": "https://example.com", "key": "mine"}), 201, &q)
		e.wantError(e.do("PATCH", "/api/qrcodes/"+q.ID, e.key, map[string]any{"key": "taken"}), 409, "taken")
		var lower qrcodes.QRCode
		e.want(e.do("POST", "/api/qrcodes", e.key, map[string]any{"url": "https://example.com", "level": "h", "fgColor": "#AABBCC", "bgColor": "#000000"}), 201, &lower)
		if lower.Level != "H" || lower.FgColor != "#aabbcc" {
			t.Fatalf("normalisation: %+v", lower)
		}
		// Unknown domain.
		e.wantError(e.do("POST", "/api/qrcodes", e.key, map[string]any{"url": "https://example.com", "domain": "evil.test"}), 422, "domain")

		// Dynamic to static releases the key; static codes refuse keys.
		var s qrcodes.QRCode
		e.want(e.do("PATCH", "/api/qrcodes/"+q.ID, e.key, map[string]any{"static": true}), 200, &s)
		if s.Domain != nil || s.Key != nil || s.ShortLink != nil || qrcodes.Payload(s) != "https://example.com" {
			t.Fatalf("static: %+v", s)
		}
		if storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys WHERE resource_id = $1", q.ID) != 0 {
			t.Fatal("key kept by a static code")
		}
		e.wantError(e.do("PATCH", "/api/qrcodes/"+q.ID, e.key, map[string]any{"key": "again"}), 422, "static")
		var d qrcodes.QRCode
		e.want(e.do("PATCH", "/api/qrcodes/"+q.ID, e.key, map[string]any{"static": false, "key": "again"}), 200, &d)
		if d.ShortLink == nil || *d.ShortLink != testBaseURL+"/again" {
			t.Fatalf("dynamic again: %+v", d)
		}
		// Switching type drops the url unless it is named.
		var txt qrcodes.QRCode
		e.want(e.do("PATCH", "/api/qrcodes/"+q.ID, e.key, map[string]any{"type": "text", "content": map[string]string{"text": "hi"}}), 200, &txt)
		if txt.URL != nil || string(txt.Content) != `{"text":"hi"}` {
			t.Fatalf("type switch: %+v", txt)
		}
	})
}

// sampleBodies is one create body per type.
var sampleBodies = map[string]map[string]any{
	"url":      {"url": "https://example.com/x?y=1"},
	"text":     {"content": map[string]any{"text": "Hello; world"}},
	"email":    {"content": map[string]any{"to": "a@example.com", "subject": "Hi there", "body": "x&y"}},
	"phone":    {"content": map[string]any{"number": "+1 555 0100"}},
	"sms":      {"content": map[string]any{"number": "+15550100", "message": "hello: you"}},
	"wifi":     {"content": map[string]any{"ssid": "Cafe;1", "password": "secret,pass", "encryption": "WPA"}},
	"vcard":    {"content": map[string]any{"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}},
	"whatsapp": {"content": map[string]any{"number": "+491512345678", "message": "Hallo Welt"}},
	"geo":      {"content": map[string]any{"latitude": -33.8568, "longitude": 151.2153}},
}

func TestQRCodeImagesDecode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newQREnv(t, st)
		for typ, body := range sampleBodies {
			for _, static := range []bool{false, true} {
				b := map[string]any{"type": typ, "static": static, "size": 300}
				for k, v := range body {
					b[k] = v
				}
				var q qrcodes.QRCode
				e.want(e.do("POST", "/api/qrcodes", e.key, b), 201, &q)
				payload := qrcodes.Payload(q)
				if static == (q.ShortLink != nil) {
					t.Fatalf("%s static=%v: shortLink %v", typ, static, q.ShortLink)
				}
				if !static && payload != *q.ShortLink {
					t.Fatalf("%s: dynamic payload %q is not the short link", typ, payload)
				}
				if static && (strings.HasPrefix(payload, testBaseURL) || payload == "") {
					t.Fatalf("%s: static payload %q", typ, payload)
				}
				png := e.do("GET", "/api/qrcodes/"+q.ID+"/image", e.key, nil)
				e.want(png, 200, nil)
				if png.header.Get("Content-Type") != "image/png" {
					t.Fatalf("content type %q", png.header.Get("Content-Type"))
				}
				if got := qrtest.DecodePNG(t, png.body, 300); got != payload {
					t.Fatalf("%s static=%v: PNG decodes to %q, want %q", typ, static, got, payload)
				}
				svg := e.do("GET", "/api/qrcodes/"+q.ID+"/image?format=svg", e.key, nil)
				e.want(svg, 200, nil)
				if svg.header.Get("Content-Type") != "image/svg+xml" {
					t.Fatalf("content type %q", svg.header.Get("Content-Type"))
				}
				if got := qrtest.DecodeSVG(t, svg.body, 300); got != payload {
					t.Fatalf("%s static=%v: SVG decodes to %q, want %q", typ, static, got, payload)
				}
				// The image field works without a key.
				pub := e.do("GET", strings.TrimPrefix(q.Image, testBaseURL), "", nil)
				e.want(pub, 200, nil)
				if got := qrtest.DecodePNG(t, pub.body, 300); got != payload {
					t.Fatalf("%s: image URL decodes to %q", typ, got)
				}
			}
		}
		e.wantError(e.do("GET", "/api/qrcodes/qr_nope/image", e.key, nil), 404, "")
		var q qrcodes.QRCode
		e.want(e.do("POST", "/api/qrcodes", e.key, map[string]any{"url": "https://example.com"}), 201, &q)
		e.wantError(e.do("GET", "/api/qrcodes/"+q.ID+"/image?format=gif", e.key, nil), 400, "format")
	})
}

func TestQRCodeLogoImage(t *testing.T) {
	t.Parallel()
	logo := qrtest.LogoPNG(t, 64, 64)
	logoSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(logo)
	}))
	t.Cleanup(logoSrv.Close)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newQREnv(t, st)
		var q qrcodes.QRCode
		e.want(e.do("POST", "/api/qrcodes", e.key, map[string]any{"url": "https://example.com/logo", "logo": logoSrv.URL + "/l.png", "level": "L"}), 201, &q)
		if q.Level != "Q" || q.Logo == nil {
			t.Fatalf("logo code: level %s", q.Level)
		}
		for _, f := range []string{"png", "svg"} {
			r := e.do("GET", "/api/qrcodes/"+q.ID+"/image?format="+f, e.key, nil)
			e.want(r, 200, nil)
			var got string
			if f == "png" {
				got = qrtest.DecodePNG(t, r.body, 600)
			} else {
				if !bytes.Contains(r.body, []byte("data:image/png;base64,")) {
					t.Fatal("SVG has no logo")
				}
				got = qrtest.DecodeSVG(t, r.body, 600)
			}
			if got != qrcodes.Payload(q) {
				t.Fatalf("%s with logo decodes to %q", f, got)
			}
		}
		if !strings.Contains(q.Image, "logo="+url.QueryEscape(*q.Logo)) {
			t.Fatalf("image URL lacks the logo: %s", q.Image)
		}
		pub := e.do("GET", strings.TrimPrefix(q.Image, testBaseURL), "", nil)
		e.want(pub, 200, nil)
		if got := qrtest.DecodePNG(t, pub.body, 600); got != qrcodes.Payload(q) {
			t.Fatalf("public image with logo decodes to %q", got)
		}
	})
}

func TestQRCodeValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newQREnv(t, st)
		e.wantError(e.do("POST", "/api/qrcodes", e.key, `{"url": `), 400, "JSON")
		e.wantError(e.do("POST", "/api/qrcodes", e.key, `{"url": "https://x.test", "colour": "red"}`), 400, "colour")
		e.wantError(e.do("POST", "/api/qrcodes", e.key, `{"url": "https://x.test", "size": "big"}`), 400, "size")
		for body, part := range map[string]string{
			`{"type": "fax", "content": {}}`:          "type",
			`{"type": null, "url": "https://x.test"}`: "type",
			`{"url": "ftp://x.test"}`:                 "url",
			`{}`:                                      "url",
			`{"type": "text", "content": {"text": "a", "extra": 1}}`:                                                   "extra",
			`{"type": "text", "url": "https://x.test", "content": {"text":"a"}}`:                                       "url",
			`{"type": "geo", "content": {"latitude": 100, "longitude": 0}}`:                                            "latitude",
			`{"type": "wifi", "content": {"ssid": "x", "encryption": "WPA9"}}`:                                         "encryption",
			`{"url": "https://x.test", "static": true, "key": "k1"}`:                                                   "static",
			`{"url": "https://x.test", "fgColor": "#fff", "bgColor": "#000000"}`:                                       "fgColor",
			`{"url": "https://x.test", "fgColor": "#ffffff"}`:                                                          "differ",
			`{"url": "https://x.test", "size": 10}`:                                                                    "size",
			`{"url": "https://x.test", "level": "X"}`:                                                                  "level",
			`{"url": "https://x.test", "margin": 99}`:                                                                  "margin",
			`{"url": "https://x.test", "logo": "javascript:alert(1)"}`:                                                 "logo",
			`{"url": "https://x.test", "key": "api"}`:                                                                  "reserved",
			`{"url": "https://x.test", "tagIds": ["tag_nope"]}`:                                                        "tag",
			`{"type": "text", "static": true, "level": "H", "content": {"text": "` + strings.Repeat("x", 1500) + `"}}`: "too long",
		} {
			e.wantError(e.do("POST", "/api/qrcodes", e.key, body), 422, part)
		}
		// Bulk create is all or nothing and names the bad item.
		e.wantError(e.do("POST", "/api/qrcodes/bulk", e.key, []map[string]any{
			{"url": "https://a.test"}, {"url": "nope"}, {"url": "https://c.test"},
		}), 422, "item 1")
		many := make([]map[string]any, 101)
		for i := range many {
			many[i] = map[string]any{"url": "https://a.test"}
		}
		e.wantError(e.do("POST", "/api/qrcodes/bulk", e.key, many), 422, "100")
		if storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM qrcodes") != 0 || e.countEvents(e.p1) != 0 ||
			storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys") != 0 {
			t.Fatal("a refused request wrote something")
		}
		e.wantError(e.do("GET", "/api/qrcodes?type=fax", e.key, nil), 400, "type")
		e.wantError(e.do("GET", "/api/qrcodes?archived=maybe", e.key, nil), 400, "archived")
		e.wantError(e.do("GET", "/api/qrcodes/info", e.key, nil), 400, "qrcodeId")
		e.wantError(e.do("DELETE", "/api/qrcodes/bulk", e.key, nil), 400, "qrcodeIds")
	})
}

func TestQRCodeBulkAndUpsert(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newQREnv(t, st)
		var made []qrcodes.QRCode
		e.want(e.do("POST", "/api/qrcodes/bulk", e.key, []map[string]any{
			{"url": "https://a.test"}, {"type": "text", "static": true, "content": map[string]string{"text": "b"}}, {"url": "https://c.test", "key": "ccc"},
		}), 201, &made)
		if len(made) != 3 || *made[2].Key != "ccc" {
			t.Fatalf("bulk create: %+v", made)
		}
		idList := []string{made[0].ID, made[1].ID, made[2].ID}
		for _, id := range idList {
			if len(e.eventsOf(e.p1, events.QRCodeCreated, id)) != 1 {
				t.Fatalf("no created event for %s", id)
			}
		}
		// Newest first.
		var list []qrcodes.QRCode
		e.want(e.do("GET", "/api/qrcodes?pageSize=2", e.key, nil), 200, &list)
		if len(list) != 2 || list[0].ID != made[2].ID || list[1].ID != made[1].ID {
			t.Fatalf("page 1: %+v", list)
		}
		e.want(e.do("GET", "/api/qrcodes?pageSize=2&page=2", e.key, nil), 200, &list)
		if len(list) != 1 || list[0].ID != made[0].ID {
			t.Fatalf("page 2: %+v", list)
		}

		// Bulk update: atomic, an unknown id refuses everything.
		e.wantError(e.do("PATCH", "/api/qrcodes/bulk", e.key, map[string]any{"qrcodeIds": []string{made[0].ID, "qr_nope"}, "data": map[string]any{"archived": true}}), 404, "item 1")
		e.wantError(e.do("PATCH", "/api/qrcodes/bulk", e.key, map[string]any{"qrcodeIds": idList, "data": map[string]any{"key": "k"}}), 422, "key")
		if storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM qrcodes WHERE archived = TRUE") != 0 {
			t.Fatal("refused bulk update wrote")
		}
		var upd []qrcodes.QRCode
		e.want(e.do("PATCH", "/api/qrcodes/bulk", e.key, map[string]any{"qrcodeIds": idList, "data": map[string]any{"archived": true, "bgColor": "#fafafa"}}), 200, &upd)
		if len(upd) != 3 || !upd[1].Archived || upd[2].BgColor != "#fafafa" {
			t.Fatalf("bulk update: %+v", upd)
		}
		for _, id := range idList {
			if len(e.eventsOf(e.p1, events.QRCodeUpdated, id)) != 1 {
				t.Fatalf("no updated event for %s", id)
			}
		}
		e.want(e.do("GET", "/api/qrcodes?archived=false", e.key, nil), 200, &list)
		if len(list) != 0 {
			t.Fatal("archived filter")
		}

		// Upsert: create (201), update (200), no-op (200, no event), match by key.
		var u qrcodes.QRCode
		e.want(e.do("PUT", "/api/qrcodes/upsert", e.key, map[string]any{"externalId": "crm-7", "url": "https://u.test"}), 201, &u)
		var u2 qrcodes.QRCode
		e.want(e.do("PUT", "/api/qrcodes/upsert", e.key, map[string]any{"externalId": "crm-7", "url": "https://u2.test"}), 200, &u2)
		if u2.ID != u.ID || *u2.URL != "https://u2.test" || *u2.Key != *u.Key {
			t.Fatalf("upsert update: %+v", u2)
		}
		before := e.countEvents(e.p1)
		e.want(e.do("PUT", "/api/qrcodes/upsert", e.key, map[string]any{"externalId": "crm-7", "url": "https://u2.test"}), 200, nil)
		if e.countEvents(e.p1) != before {
			t.Fatal("no-op upsert emitted")
		}
		var byKey qrcodes.QRCode
		e.want(e.do("PUT", "/api/qrcodes/upsert", e.key, map[string]any{"key": "ccc", "url": "https://c2.test"}), 200, &byKey)
		if byKey.ID != made[2].ID {
			t.Fatalf("upsert by key matched %s", byKey.ID)
		}
		if len(e.eventsOf(e.p1, events.QRCodeCreated, u.ID)) != 1 || len(e.eventsOf(e.p1, events.QRCodeUpdated, u.ID)) != 1 {
			t.Fatal("upsert events")
		}
		// Duplicate externalId on create.
		e.wantError(e.do("POST", "/api/qrcodes", e.key, map[string]any{"externalId": "crm-7", "url": "https://u.test"}), 409, "externalId")

		// Bulk delete.
		var res map[string]int
		e.want(e.do("DELETE", "/api/qrcodes/bulk?qrcodeIds="+strings.Join(append(idList, "qr_nope"), ","), e.key, nil), 200, &res)
		if res["deletedCount"] != 3 {
			t.Fatalf("bulk delete: %v", res)
		}
		for _, id := range idList {
			if len(e.eventsOf(e.p1, events.QRCodeDeleted, id)) != 1 {
				t.Fatalf("no deleted event for %s", id)
			}
		}
		if storetest.Count(t, st.Read(), "SELECT COUNT(*) FROM short_keys WHERE key = 'ccc'") != 0 {
			t.Fatal("bulk delete kept a key")
		}
	})
}

func TestPublicQR(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newQREnv(t, st)
		text := "any text at all: ünïcode, spaces & symbols"
		v := url.Values{"url": {text}, "size": {"257"}, "fgColor": {"#0d47a1"}, "bgColor": {"#FFFFFF"}, "level": {"h"}, "margin": {"1"}}
		r := e.do("GET", "/api/qr?"+v.Encode(), "", nil)
		e.want(r, 200, nil)
		if r.header.Get("Content-Type") != "image/png" || r.header.Get("Cache-Control") != "public, max-age=86400" {
			t.Fatalf("headers: %v", r.header)
		}
		if got := qrtest.DecodePNG(t, r.body, 257); got != text {
			t.Fatalf("PNG decodes to %q", got)
		}
		v.Set("format", "svg")
		r = e.do("GET", "/api/qr?"+v.Encode(), "", nil)
		e.want(r, 200, nil)
		if r.header.Get("Content-Type") != "image/svg+xml" || r.header.Get("Cache-Control") != "public, max-age=86400" {
			t.Fatalf("headers: %v", r.header)
		}
		if got := qrtest.DecodeSVG(t, r.body, 257); got != text {
			t.Fatalf("SVG decodes to %q", got)
		}
		// Defaults.
		r = e.do("GET", "/api/qr?url=hello", "", nil)
		e.want(r, 200, nil)
		if got := qrtest.DecodePNG(t, r.body, 600); got != "hello" {
			t.Fatalf("default decodes to %q", got)
		}
		for q, status := range map[string]int{
			"":                                 400,
			"size=100":                         400,
			"url=x&size=abc":                   400,
			"url=x&margin=1.5":                 400,
			"url=x&format=gif":                 400,
			"url=x&size=10":                    422,
			"url=x&size=5000":                  422,
			"url=x&fgColor=red":                422,
			"url=x&fgColor=%23ffffff":          422,
			"url=x&level=Z":                    422,
			"url=x&margin=17":                  422,
			"url=x&logo=file%3A%2F%2F%2Fetc":   422,
			"url=" + strings.Repeat("a", 2001): 422,
			"url=" + strings.Repeat("a", 1500) + "&level=H": 422,
		} {
			e.wantError(e.do("GET", "/api/qr?"+q, "", nil), status, "")
		}
	})
}
